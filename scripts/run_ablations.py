"""Paper A's ablations (Table 4, Table 5, Fig. 7 and the other MixFeature knobs) as sweeps.

Each *experiment* is one dataset under one protocol (``--experiments``, names in
:data:`EXPERIMENTS`). For each, the experiment cell ``notebooks/experiments/protocol_run``
runs through the sweep engine (:mod:`fer_utils.runs.sweep`, one torch thread per cell,
``--workers`` cells side by side, per-epoch checkpoints), into
``runs/ablations/<experiment>_<budget>/``:

* ``table4``: the nine methods (baseline, MixFeature and the seven augmentation methods
  of Table 4), every seed;
* ``fig7``: MixFeature with one knob changed at a time from its defaults: K = 2..6,
  lambda = 0.1..0.9 and 1.0, beta per batch, primary emotion per label, and the wheel
  layouts ring, uniform and shuffled.

Cells run seed by seed, Table 4 first, so that a session cut short leaves whole seeds
of the comparison. A killed run resumes: finished cells are kept, a running one resumes
from its last checkpointed epoch. Cells whose rows are already committed under
``results/ablations/`` are not run again, even in a fresh checkout without ``runs/``.
Then (and alone with ``--gather-only``) the finished cells are written to committed
tables (:mod:`fer_utils.runs.ablations`): ``results/ablations/<experiment>_<budget>.csv``
(one row per cell, seed and fold, with the recorded command, commit, device and
duration), ``..._curves.csv`` (training curves per Table 4 cell), and the summaries
``results/table4.csv``, ``results/table5.csv`` and ``results/fig7.csv`` recomputed from
every experiment's rows.

Examples::

    FER_DATA_DIR=/data python scripts/run_ablations.py --experiments jaffe_kfold_sample \\
        --parts table4 fig7 --seeds 0 1 2 --workers 2
    python scripts/run_ablations.py --gather-only
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.ablations import (
    BUDGETS,
    EXPERIMENTS,
    PARTS,
    ablation_grids,
    committed_cells,
    experiment_folder,
    record_command,
    write_tables,
)
from fer_utils.runs.grid import GridError, build_cells
from fer_utils.runs.sweep import sweep

NOTEBOOK = REPO_ROOT / "notebooks" / "experiments" / "protocol_run.ipynb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiments", nargs="+", choices=list(EXPERIMENTS), default=[])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", choices=BUDGETS, default="cpu",
                        help="'cpu': the converged CPU budget (default); 'paper': the preset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs-dir", type=Path, default=REPO_ROOT / "runs" / "ablations")
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "results")
    parser.add_argument("--gather-only", action="store_true",
                        help="only rewrite the results tables from the finished cells")
    parser.add_argument("--dry-run", action="store_true", help="list the cells and stop")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "scripts/run_ablations.py",
                          *(sys.argv[1:] if argv is None else argv)])
    if not args.gather_only:
        if not args.experiments:
            parser.error("give --experiments (or --gather-only)")
        if any(s < 0 for s in args.seeds) or len(set(args.seeds)) != len(args.seeds):
            parser.error(f"--seeds must be distinct integers >= 0, got {args.seeds}")
        for name in args.experiments:
            out = experiment_folder(args.runs_dir, name, args.budget)
            grids, fixed = ablation_grids(name, args.parts, args.seeds, args.budget,
                                          checkpoint_dir=out / "checkpoints")
            if args.dry_run:
                cells = build_cells(NOTEBOOK, grids, fixed)
                done = committed_cells(args.results, out.name)
                print(f"{name}: {len(cells)} cells, {sum(c.digest in done for c in cells)} "
                      f"committed -> {out}")
                for cell in cells:
                    print(("  (committed) " if cell.digest in done else "  ") + cell.name)
                continue
            try:
                cells = build_cells(NOTEBOOK, grids, fixed, check=False)
                record_command(out, command, [c.digest for c in cells])
                sweep(NOTEBOOK, grids, out, fixed=fixed, workers=args.workers,
                      threads=args.threads, progress=False,
                      skip=committed_cells(args.results, out.name))
            except GridError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            write_tables(args.runs_dir, args.results)
        return 0  # the tables were rewritten after each experiment
    write_tables(args.runs_dir, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
