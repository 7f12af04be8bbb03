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

``--methods`` keeps Table 4 to some of its methods (e.g. ``baseline mixfeature`` first on
a new protocol); their cells are those of the full table, so a later full run skips them.

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

import sys

from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.ablations import (
    BUDGETS,
    EXPERIMENTS,
    PARTS,
    TABLE4_METHODS,
    ablation_grids,
    committed_cells,
    experiment_folder,
    write_tables,
)
from fer_utils.runs.driver import driver_parser, parse_driver_args, sweep_experiment

NOTEBOOK = REPO_ROOT / "notebooks" / "experiments" / "protocol_run.ipynb"


def main(argv: list[str] | None = None) -> int:
    """Run the ablation sweeps the arguments ask for and rewrite the tables; the exit code."""
    parser = driver_parser("run_ablations.py", __doc__.split("\n")[0], EXPERIMENTS,
                           "ablations", BUDGETS,
                           "'cpu': the converged CPU budget (default); 'paper': the preset")
    parser.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    parser.add_argument("--methods", nargs="+", choices=TABLE4_METHODS, default=None,
                        help="run only these methods of Table 4 (default: all nine)")
    args = parse_driver_args(parser, argv)
    for name in [] if args.gather_only else args.experiments:
        out = experiment_folder(args.runs_dir, name, args.budget)
        grids, fixed = ablation_grids(name, args.parts, args.seeds, args.budget,
                                      checkpoint_dir=out / "checkpoints",
                                      methods=args.methods)
        code = sweep_experiment(NOTEBOOK, out, grids, fixed, args,
                                committed_cells(args.results, out.name), name)
        if code:
            return code
        if not args.dry_run:
            write_tables(args.runs_dir, args.results)  # after each experiment
    if args.gather_only:
        write_tables(args.runs_dir, args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
