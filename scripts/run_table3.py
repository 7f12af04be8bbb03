"""Paper A's Table 3 (shallow LDL baselines on LBP and CNN features) as sweeps.

Each *experiment* is one dataset under one protocol (``--experiments``, names in
:data:`fer_utils.runs.table3.LDL_EXPERIMENTS`): JAFFE with folds over images and by
subject, FER+ with its vote distributions on a stated stratified subset (``--max-images``,
default 2000 images of its training part), and the synthetic faces. For each, the LDL cell
``notebooks/experiments/ldl_run`` runs through the sweep engine
(:mod:`fer_utils.runs.sweep`, ``--threads`` torch threads per cell, ``--workers`` cells
side by side) into ``runs/table3/<experiment>_<budget>/``, one cell per kind of features
(LBP first, then CNN) and seed, each fitting and testing every LDL method on every fold.

The CNN of a cell is the ablation sweep's baseline (same configuration, folds and run
names). For the experiments whose data and folds are also the ablations' (both JAFFE
experiments and the synthetic faces) its checkpoints default to the ablation
experiment's folder (``runs/ablations/<experiment>_<budget>/checkpoints``, see
``--ablation-runs-dir``), so a baseline already trained there is read back, not trained
again; otherwise they go to ``<runs-dir>/<experiment>_<budget>/checkpoints``.

A killed run resumes: finished cells are kept. Cells whose rows are already committed
under ``results/ldl/`` are not run again, even in a fresh checkout without ``runs/``.
Then (and alone with ``--gather-only``) the finished cells are written to committed
tables (:mod:`fer_utils.runs.table3`): ``results/ldl/<experiment>_<budget>.csv`` (one
row per cell, seed, fold and method, with the recorded command, commit, device and
duration) and the summary ``results/table3.csv`` recomputed from every experiment's rows.

Examples::

    FER_DATA_DIR=/data python scripts/run_table3.py --experiments jaffe_kfold_sample \\
        jaffe_kfold --features lbp cnn --seeds 0 1 2 --workers 2
    python scripts/run_table3.py --gather-only
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path
from typing import NoReturn

from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.ablations import BUDGETS, experiment_folder, record_command
from fer_utils.runs.grid import GridError, build_cells
from fer_utils.runs.sweep import sweep
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


class _Parser(argparse.ArgumentParser):
    """An argument parser whose refusals are one line naming the argument."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def main(argv: list[str] | None = None) -> int:
    """Run the Table 3 sweeps the arguments ask for and rewrite the tables; the exit code."""
    parser = _Parser(prog="run_table3.py", description=__doc__.split("\n")[0])
    parser.add_argument("--experiments", nargs="+", choices=list(LDL_EXPERIMENTS), default=[])
    parser.add_argument("--features", nargs="+", choices=FEATURES, default=list(FEATURES))
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", choices=BUDGETS, default="cpu",
                        help="CNN training: 'cpu', the ablations' converged CPU budget "
                             "(default); 'paper': the preset")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--runs-dir", type=Path, default=REPO_ROOT / "runs" / "table3")
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "results")
    parser.add_argument("--ablation-runs-dir", type=Path,
                        default=REPO_ROOT / "runs" / "ablations",
                        help="where the ablation sweeps keep their baseline checkpoints "
                             f"(read back for {', '.join(ABLATION_BASELINES)})")
    parser.add_argument("--own-checkpoints", action="store_true",
                        help="train every CNN into <runs-dir>, never reading the ablations'")
    parser.add_argument("--max-images", type=int, default=None,
                        help="the FER+ subset size (ferplus_votes; default "
                             f"{LDL_EXPERIMENTS['ferplus_votes']['max_images']})")
    parser.add_argument("--gather-only", action="store_true",
                        help="only rewrite the results tables from the finished cells")
    parser.add_argument("--dry-run", action="store_true", help="list the cells and stop")
    args = parser.parse_args(argv)
    command = shlex.join(["python", "scripts/run_table3.py",
                          *(sys.argv[1:] if argv is None else argv)])
    if args.gather_only:
        write_table3(args.runs_dir, args.results)
        return 0
    if not args.experiments:
        parser.error("argument --experiments: give at least one (or --gather-only)")
    if any(s < 0 for s in args.seeds) or len(set(args.seeds)) != len(args.seeds):
        parser.error(f"argument --seeds: must be distinct integers >= 0, got {args.seeds}")
    if len(set(args.features)) != len(args.features):
        parser.error(f"argument --features: repeats a value, got {args.features}")
    if args.workers < 1:
        parser.error(f"argument --workers: must be >= 1, got {args.workers}")
    if args.threads < 1:
        parser.error(f"argument --threads: must be >= 1, got {args.threads}")
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
        done = committed_ldl_cells(args.results, out.name)
        if args.dry_run:
            try:
                cells = build_cells(NOTEBOOK, grids, fixed)
            except GridError as err:
                print(f"error: {err}", file=sys.stderr)
                return 2
            print(f"{name}: {len(cells)} cells, {sum(c.digest in done for c in cells)} "
                  f"committed -> {out}")
            if "cnn" in args.features:
                shared = "the ablation baseline's, " if not args.own_checkpoints \
                    and reuses_ablation_baseline(name) else ""
                state = "exists" if checkpoints.is_dir() else "not there yet"
                print(f"  CNN checkpoints: {checkpoints} ({shared}{state})")
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
        write_table3(args.runs_dir, args.results)
    return 0  # the tables were rewritten after each experiment


if __name__ == "__main__":
    sys.exit(main())
