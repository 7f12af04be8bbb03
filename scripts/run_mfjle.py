"""Regenerate rows of ``results/mfjle.csv``: single ResNet-18 vs MF-JLE (paper B, Tables 1-2).

For each model, one run per seed on a fresh seeded 60 / 20 / 20 split
(:func:`fer_utils.protocols.random_split_protocol`), with the MF-JLE preset chosen by
``--preset`` (``auto``: the paper's on a CUDA GPU, the CPU-sized one otherwise). Writes one
row per (dataset, model, preset) with the mean and std of the nine multi-label metrics
over the seeds into ``results/mfjle.csv`` (replacing an older row with the same key), the
per-run rows into ``results/mfjle_runs/<dataset>_<preset>.csv``, and a figure of every
metric next to the paper's into ``results/figures/``. Examples::

    python scripts/run_mfjle.py --dataset synthetic --seeds 0 1 2
    FER_DATA_DIR=/data python scripts/run_mfjle.py --dataset jaffe --seeds 0 1 2 \\
        --checkpoint-dir runs/ckpt

JAFFE's labels are its mean ratings above 3 over the six rated emotions
(``docs/replication.md``, paper B's settings); its landmarks come from MTCNN (cached), and
how many faces fell back to the fallback rule is recorded in the row. With
``--checkpoint-dir`` a killed run resumes where it stopped.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pandas as pd  # noqa: E402

from fer_utils.data import load_dataset  # noqa: E402
from fer_utils.metrics import MULTILABEL_METRICS  # noqa: E402
from fer_utils.mfjle.labels import multilabel_view  # noqa: E402
from fer_utils.mfjle.landmarks import dataset_landmarks  # noqa: E402
from fer_utils.mfjle.presets import mfjle_preset  # noqa: E402
from fer_utils.protocols import ProtocolResult, random_split_protocol  # noqa: E402
from fer_utils.provenance import REPO_ROOT, run_info  # noqa: E402
from fer_utils.published import MFJLE_TABLES  # noqa: E402
from fer_utils.runs.results import update_results_table  # noqa: E402
from fer_utils.viz import results as figures  # noqa: E402
from fer_utils.viz.common import save_figure  # noqa: E402

KEY = ["dataset", "model", "preset"]
OVERRIDABLE = ("epochs", "image_size", "local_size", "lr", "batch_size")


def aggregate(result: ProtocolResult, args: argparse.Namespace, model: str, preset_name: str,
              landmark_report: dict, seconds: float) -> dict:
    """One results row: mean and std (ddof=1) of the nine metrics over the seeds."""
    info = run_info()
    runs = result.table
    row: dict = {
        "dataset": args.dataset,
        "model": model,
        "preset": preset_name,
        "epochs": int(runs["epochs"].max()),
        "n_runs": len(runs),
        "seeds": " ".join(str(s) for s in args.seeds),
        **result.mean_std_row(list(MULTILABEL_METRICS), digits=4),
    }
    deviations = [f"{k}={getattr(args, k)}" for k in OVERRIDABLE if getattr(args, k) is not None]
    row.update(
        split="60/20/20 by " + str(runs["grouped_by"].iloc[0]),
        labels=args.label_rule,
        landmarks=f"{landmark_report['source']} (fallback {landmark_report['n_fallback']} "
        f"of {landmark_report['n_images']})",
        deviations="; ".join(deviations) if deviations else "none",
        config=json.dumps(result.config.flat(), sort_keys=True),
        device=info["device"],
        git_commit=info["git_commit"],
        duration_s=round(seconds, 1),
        time_utc=info["time_utc"],
        command=" ".join(["scripts/run_mfjle.py", *args.argv]),
    )
    return row


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="synthetic", choices=["synthetic", "jaffe", "rafml"])
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--preset", default="auto", choices=["auto", "paper", "cpu"])
    parser.add_argument("--models", nargs="+", default=["resnet18", "mfjle"],
                        choices=["resnet18", "mfjle"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--group-by", default="sample", choices=["sample", "subject"])
    for name in OVERRIDABLE:
        kind = float if name == "lr" else int
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None,
                            help="default: the preset's")
    parser.add_argument("--n-synthetic", type=int, default=1500)
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "mfjle.csv")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)

    options = {"n": args.n_synthetic, "seed": 0} if args.dataset == "synthetic" else {}
    ds = multilabel_view(load_dataset(args.dataset, root=args.data_root, **options))
    args.label_rule = {
        "jaffe": "mean rating > 3, six emotions",
        "synthetic": "true distribution >= 0.25 (plus the dominant class)",
        "rafml": "distribution >= loader threshold",
    }[args.dataset]
    landmarks, report = dataset_landmarks(ds, progress=args.progress)
    ds = replace(ds, landmarks=landmarks)
    print(f"{ds.summary()}\nlandmarks: {report['source']}, {report['n_fallback']} of "
          f"{report['n_images']} faces from the fallback rule", flush=True)

    overrides = {k: getattr(args, k) for k in OVERRIDABLE if getattr(args, k) is not None}
    overrides.update(progress=args.progress, checkpoint_dir=args.checkpoint_dir)
    rows, per_run = [], []
    for model in args.models:
        config, preset_name = mfjle_preset(args.preset, model=model, **overrides)
        start = time.perf_counter()
        result = random_split_protocol(config, ds, seeds=args.seeds, group_by=args.group_by)
        rows.append(aggregate(result, args, model, preset_name, report,
                              time.perf_counter() - start))
        per_run.append(result.table.assign(model=model, preset=preset_name))
        print(pd.DataFrame([rows[-1]]).drop(columns=["config"]).T.to_string(), flush=True)

    new = pd.DataFrame(rows)
    new = update_results_table(args.out, new, KEY)
    tag = f"{args.dataset}_{rows[0]['preset']}"
    detail = args.out.parent / "mfjle_runs" / f"{tag}.csv"
    detail.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(per_run, ignore_index=True).to_csv(detail, index=False)
    fig = figures.multilabel_comparison(
        new[new["dataset"] == args.dataset], MFJLE_TABLES.get(args.dataset)
    )
    path = save_figure(fig, args.out.parent / "figures", f"mfjle_{tag}_metrics")
    print(f"wrote {args.out}, {detail} and {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
