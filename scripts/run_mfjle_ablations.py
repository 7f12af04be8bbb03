"""Paper B's ablations (Figs. 5-7, fitted ensemble weights, MixFeature inside MF-JLE) as sweeps.

Each *experiment* is one dataset under one kind of 60/20/20 split (``--experiments``,
names in :data:`fer_utils.runs.mfjle_ablations.MFJLE_EXPERIMENTS`). For each, the
experiment cell ``notebooks/experiments/mfjle_run`` runs through the sweep engine
(:mod:`fer_utils.runs.sweep`, one torch thread per cell, ``--workers`` cells side by
side, per-epoch checkpoints) into ``runs/mfjle_ablations/<experiment>_<budget>/``, one
cell per variant and seed (parts ``fig5``, ``fig6``, ``fig7``, ``mix``; seed by seed, the
parts in the order given). A killed run resumes: finished cells are kept, a running one
resumes from its last checkpointed epoch, and cells whose rows are already committed in
``results/mfjle_ablations.csv`` are not run again. Then (and alone with
``--gather-only``) the finished cells are written to ``results/mfjle_ablations.csv``,
``results/mfjle_ablations_curves.csv`` and ``results/mfjle_ablations_summary.csv``.

Examples::

    FER_DATA_DIR=/data python scripts/run_mfjle_ablations.py \\
        --experiments jaffe_split_sample --parts fig5 fig6 fig7 mix --seeds 0 1 2
    python scripts/run_mfjle_ablations.py --gather-only
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.ablations import experiment_folder, record_command
from fer_utils.runs.grid import GridError, build_cells
from fer_utils.runs.mfjle_ablations import (
    BUDGETS,
    MFJLE_EXPERIMENTS,
    PARTS,
    committed_mfjle_cells,
    mfjle_grids,
    write_mfjle_tables,
)
from fer_utils.runs.sweep import sweep

NOTEBOOK = REPO_ROOT / "notebooks" / "experiments" / "mfjle_run.ipynb"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--experiments", nargs="+", choices=list(MFJLE_EXPERIMENTS), default=[])
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", choices=BUDGETS, default="cpu",
                        help="'cpu': the CPU preset (default); 'paper': paper B's settings")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs-dir", type=Path, default=REPO_ROOT / "runs" / "mfjle_ablations")
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "results")
    parser.add_argument("--gather-only", action="store_true",
                        help="only rewrite the results tables from the finished cells")
    parser.add_argument("--dry-run", action="store_true", help="list the cells and stop")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "scripts/run_mfjle_ablations.py",
                          *(sys.argv[1:] if argv is None else argv)])
    if not args.gather_only:
        if not args.experiments:
            parser.error("give --experiments (or --gather-only)")
        if any(s < 0 for s in args.seeds) or len(set(args.seeds)) != len(args.seeds):
            parser.error(f"--seeds must be distinct integers >= 0, got {args.seeds}")
        done = committed_mfjle_cells(args.results)
        for name in args.experiments:
            out = experiment_folder(args.runs_dir, name, args.budget)
            grids, fixed = mfjle_grids(name, args.parts, args.seeds, args.budget,
                                       checkpoint_dir=out / "checkpoints")
            if args.dry_run:
                cells = build_cells(NOTEBOOK, grids, fixed)
                print(f"{name}: {len(cells)} cells, {sum(c.digest in done for c in cells)} "
                      f"committed -> {out}")
                for cell in cells:
                    print(("  (committed) " if cell.digest in done else "  ") + cell.name)
                continue
            try:
                cells = build_cells(NOTEBOOK, grids, fixed, check=False)
                record_command(out, command, [c.digest for c in cells])
                sweep(NOTEBOOK, grids, out, fixed=fixed, workers=args.workers,
                      threads=args.threads, progress=False, skip=done)
            except GridError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            write_mfjle_tables(args.runs_dir, args.results)
        return 0
    write_mfjle_tables(args.runs_dir, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
