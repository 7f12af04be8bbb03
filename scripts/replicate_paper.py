"""Paper A's Table 2 at the paper's own settings, on a CUDA GPU (``make replicate``).

For every dataset present under the data root (``$FER_DATA_DIR``, else ``data/``), runs
``scripts/run_table2.py`` with the preset's exact settings (no ``--epochs``,
``--image-size`` or ``--lr`` deviations), both methods, the given seeds:

* JAFFE (cnn3, 256x256, 100 epochs, lr 0.001): 10-fold cross-validation, both readings
  of the paper's folds: over images (``kfold_sample``, the likelier one) and by subject
  (``kfold``), replication notes D5 and D12;
* CK+ (ResNet-18, 256x256, 30 epochs): 10-fold cross-validation grouped by subject;
* FER+ (ResNet-18 with the small stem, 48x48, 200 epochs): the official split.

Rows land in ``results/table2.csv`` (and ``results/table2_runs/``) like any other
``run_table2.py`` row, with the device named; checkpoints go to ``--checkpoint-dir``
(default ``runs/checkpoints/replicate``), so rerunning the same command after a kill
resumes every run. Without a CUDA device the script refuses to start (the settings take
days on a CPU) unless ``--allow-cpu`` is given. ``--dry-run`` prints the commands.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from fer_utils.data import data_root
from fer_utils.provenance import REPO_ROOT

#: Dataset -> the run_table2.py protocol arguments of each row paper A's Table 2 needs.
PLAN: dict[str, list[list[str]]] = {
    "jaffe": [["--protocol", "kfold", "--group-by", "sample"], ["--protocol", "kfold"]],
    "ckplus": [["--protocol", "kfold"]],
    "ferplus": [["--protocol", "official"]],
}


def commands(datasets: list[str], seeds: list[int], device: str, checkpoint_dir: Path,
             methods: list[str]) -> list[list[str]]:
    """The run_table2.py argument lists, one per dataset and protocol, in order."""
    out = []
    for name in datasets:
        for protocol in PLAN[name]:
            out.append(["--dataset", name, *protocol, "--methods", *methods,
                        "--seeds", *map(str, seeds), "--device", device,
                        "--checkpoint-dir", str(checkpoint_dir)])
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", choices=list(PLAN), default=None,
                        help="default: every dataset present under the data root")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--methods", nargs="+", default=["baseline", "mixfeature"],
                        choices=["baseline", "mixfeature"])
    parser.add_argument("--device", default="cuda", help="cuda, cuda:N (default cuda)")
    parser.add_argument("--checkpoint-dir", type=Path,
                        default=REPO_ROOT / "runs" / "checkpoints" / "replicate")
    parser.add_argument("--allow-cpu", action="store_true",
                        help="run even without a CUDA device (days, not hours)")
    parser.add_argument("--dry-run", action="store_true", help="print the commands only")
    args = parser.parse_args(argv)

    root = data_root()
    datasets = args.datasets or [name for name in PLAN if (root / name).is_dir()]
    missing = [name for name in datasets if not (root / name).is_dir()]
    if missing or not datasets:
        print(f"error: no {', '.join(missing or PLAN)} under {root} (set FER_DATA_DIR; "
              "data/README.md says where each dataset goes)", file=sys.stderr)
        return 2
    device = args.device
    if not args.dry_run:
        import torch

        if not torch.cuda.is_available():
            if not args.allow_cpu:
                print("error: no CUDA device here; paper A's settings take days on a CPU. "
                      "Use --allow-cpu to run anyway, or --dry-run to see the commands.",
                      file=sys.stderr)
                return 2
            device = "cpu"
    plan = commands(datasets, args.seeds, device, args.checkpoint_dir, args.methods)
    for argv_i in plan:
        print("python scripts/run_table2.py " + shlex.join(argv_i), flush=True)
    if args.dry_run:
        return 0
    sys.path.insert(0, str(REPO_ROOT / "scripts"))
    import run_table2

    failed = [a for a in plan if run_table2.main(a) != 0]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
