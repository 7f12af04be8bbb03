"""Paper A's Table 3 (shallow LDL baselines on LBP and CNN features) as sweeps.

Each *experiment* is one dataset under one protocol (``--experiments``, names in
:data:`fer_utils.runs.table3.LDL_EXPERIMENTS`): JAFFE with folds over images and by
subject, FER+ with its vote distributions on a stated stratified subset (``--max-images``,
default 2500 images of its training part), and the synthetic faces. For each, the LDL cell
``notebooks/experiments/ldl_run`` runs through the sweep engine
(:mod:`fer_utils.runs.sweep`, ``--threads`` torch threads per cell, ``--workers`` cells
side by side) into ``runs/table3/<experiment>_<budget>/``, one cell per kind of features
(``--features``: LBP first, then the baseline CNN's, then MixFeature's CNN's) and seed,
each fitting and testing every LDL method on every fold; the CNN's own softmax is scored
too (with MixFeature's CNN: paper A's MixFeature entry of Table 3).

The CNN of a cell is the ablation sweep's baseline or default MixFeature cell (same
configuration, folds and run names). For the experiments whose data and folds are also
the ablations' (both JAFFE experiments and the synthetic faces) its checkpoints default
to the ablation experiment's folder (``runs/ablations/<experiment>_<budget>/checkpoints``,
see ``--ablation-runs-dir``), so a network already trained there is read back, not
trained again; otherwise they go to ``<runs-dir>/<experiment>_<budget>/checkpoints``.

A killed run resumes: finished cells are kept. Cells whose rows are already committed
under ``results/ldl/`` are not run again, even in a fresh checkout without ``runs/``.
Then (and alone with ``--gather-only``) the finished cells are written to committed
tables (:mod:`fer_utils.runs.table3`): ``results/ldl/<experiment>_<budget>.csv`` (one
row per cell, seed, fold and method, with the recorded command, commit, device and
duration) and the summary ``results/table3.csv`` recomputed from every experiment's rows.

Examples::

    FER_DATA_DIR=/data python scripts/run_table3.py --experiments jaffe_kfold_sample \\
        jaffe_kfold --features lbp cnn --seeds 0 1 2 --workers 2
    FER_DATA_DIR=/data python scripts/run_table3.py --experiments jaffe_kfold \\
        --features cnn_mixfeature --seeds 0 1 2
    python scripts/run_table3.py --gather-only
"""

from __future__ import annotations

import sys
from pathlib import Path

from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.ablations import BUDGETS, experiment_folder
from fer_utils.runs.driver import driver_parser, parse_driver_args, sweep_experiment
from fer_utils.runs.table3 import (
    ABLATION_BASELINES,
    FEATURES,
    LDL_EXPERIMENTS,
    cnn_checkpoint_dir,
    committed_ldl_cells,
    reuses_ablation_baseline,
    table3_grids,
    write_table3,
)

NOTEBOOK = REPO_ROOT / "notebooks" / "experiments" / "ldl_run.ipynb"


def main(argv: list[str] | None = None) -> int:
    """Run the Table 3 sweeps the arguments ask for and rewrite the tables; the exit code."""
    parser = driver_parser("run_table3.py", __doc__.split("\n")[0], LDL_EXPERIMENTS,
                           "table3", BUDGETS, "CNN training: 'cpu', the ablations' "
                           "converged CPU budget (default); 'paper': the preset")
    parser.add_argument("--features", nargs="+", choices=FEATURES, default=list(FEATURES))
    parser.add_argument("--ablation-runs-dir", type=Path,
                        default=REPO_ROOT / "runs" / "ablations",
                        help="where the ablation sweeps keep their CNN checkpoints "
                             f"(read back for {', '.join(ABLATION_BASELINES)})")
    parser.add_argument("--own-checkpoints", action="store_true",
                        help="train every CNN into <runs-dir>, never reading the ablations'")
    parser.add_argument("--max-images", type=int, default=None,
                        help="the FER+ subset size (ferplus_votes; default "
                             f"{LDL_EXPERIMENTS['ferplus_votes']['max_images']})")
    args = parse_driver_args(parser, argv)
    if args.gather_only:
        write_table3(args.runs_dir, args.results)
        return 0
    if len(set(args.features)) != len(args.features):
        parser.error(f"argument --features: repeats a value, got {args.features}")
    if args.max_images is not None:
        subsets = [e for e in args.experiments if "max_images" in LDL_EXPERIMENTS[e]]
        if not subsets:
            parser.error("argument --max-images: applies to ferplus_votes only, which is not "
                         "among --experiments")
        if args.max_images < 20:
            parser.error(f"argument --max-images: must be >= 20, got {args.max_images}")
    for name in args.experiments:
        out = experiment_folder(args.runs_dir, name, args.budget)
        subset = args.max_images if "max_images" in LDL_EXPERIMENTS[name] else None
        checkpoints = cnn_checkpoint_dir(
            name, args.budget, args.runs_dir,
            None if args.own_checkpoints else args.ablation_runs_dir, max_images=subset)
        grids, fixed = table3_grids(name, args.features, args.seeds, args.budget,
                                    checkpoint_dir=checkpoints, max_images=subset)
        notes = []
        if set(args.features) - {"lbp"}:
            shared = "the ablation sweep's, " if not args.own_checkpoints \
                and reuses_ablation_baseline(name) else ""
            state = "exists" if checkpoints.is_dir() else "not there yet"
            notes.append(f"CNN checkpoints: {checkpoints} ({shared}{state})")
        code = sweep_experiment(NOTEBOOK, out, grids, fixed, args,
                                committed_ldl_cells(args.results, out.name), name, notes)
        if code:
            return code
        if not args.dry_run:
            write_table3(args.runs_dir, args.results)  # after each experiment
    return 0


if __name__ == "__main__":
    sys.exit(main())
