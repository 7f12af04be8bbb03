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

import sys

from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.ablations import experiment_folder
from fer_utils.runs.driver import driver_parser, parse_driver_args, sweep_experiment
from fer_utils.runs.mfjle_ablations import (
    BUDGETS,
    MFJLE_EXPERIMENTS,
    PARTS,
    committed_mfjle_cells,
    mfjle_grids,
    write_mfjle_tables,
)

NOTEBOOK = REPO_ROOT / "notebooks" / "experiments" / "mfjle_run.ipynb"


def main(argv: list[str] | None = None) -> int:
    """Run paper B's ablation sweeps the arguments ask for and rewrite the tables."""
    parser = driver_parser("run_mfjle_ablations.py", __doc__.split("\n")[0],
                           MFJLE_EXPERIMENTS, "mfjle_ablations", BUDGETS,
                           "'cpu': the CPU preset for 100 epochs (default, D28); "
                           "'paper': paper B's settings")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    args = parse_driver_args(parser, argv)
    done = committed_mfjle_cells(args.results)
    for name in [] if args.gather_only else args.experiments:
        out = experiment_folder(args.runs_dir, name, args.budget)
        grids, fixed = mfjle_grids(name, args.parts, args.seeds, args.budget,
                                   checkpoint_dir=out / "checkpoints")
        code = sweep_experiment(NOTEBOOK, out, grids, fixed, args, done, name)
        if code:
            return code
        if not args.dry_run:
            write_mfjle_tables(args.runs_dir, args.results)  # after each experiment
    if args.gather_only:
        write_mfjle_tables(args.runs_dir, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
