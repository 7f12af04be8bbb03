"""What the three experiment drivers share: their common options, and one experiment's sweep.

``scripts/run_ablations.py`` (paper A's Tables 4-5 and Fig. 7), ``scripts/run_table3.py``
(paper A's Table 3) and ``scripts/run_mfjle_ablations.py`` (paper B's Figs. 5-7) each
turn an experiment name into a list of grids of their experiment cell and hand it to
:func:`sweep_experiment`, which lists the cells (``--dry-run``) or records the command
for the cells it will run and runs them through :func:`fer_utils.runs.sweep.sweep`,
skipping those whose rows are already committed. Notebook 07 reads what they write.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NoReturn

from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.ablations import record_command
from fer_utils.runs.grid import GridError, build_cells
from fer_utils.runs.sweep import sweep


class DriverParser(argparse.ArgumentParser):
    """An argument parser whose refusals are one line naming the argument (exit 2)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message}\n")


def driver_parser(script: str, description: str, experiments: Iterable[str],
                  runs_dir: str, budgets: Iterable[str], budget_help: str) -> DriverParser:
    """The options every driver has: ``--experiments``, ``--seeds``, ``--budget``,
    ``--workers``, ``--threads``, ``--runs-dir`` (default ``runs/<runs_dir>``),
    ``--results``, ``--gather-only`` and ``--dry-run``; a script adds its own."""
    parser = DriverParser(prog=script, description=description)
    parser.add_argument("--experiments", nargs="+", choices=list(experiments), default=[])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--budget", choices=list(budgets), default="cpu", help=budget_help)
    parser.add_argument("--workers", type=int, default=2, help="cells run side by side")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per cell")
    parser.add_argument("--runs-dir", type=Path, default=REPO_ROOT / "runs" / runs_dir)
    parser.add_argument("--results", type=Path, default=REPO_ROOT / "results")
    parser.add_argument("--gather-only", action="store_true",
                        help="only rewrite the results tables from the finished cells")
    parser.add_argument("--dry-run", action="store_true", help="list the cells and stop")
    return parser


def parse_driver_args(parser: DriverParser, argv: list[str] | None) -> argparse.Namespace:
    """Parse and check the common options (``parser.error`` on a bad one); the namespace
    also holds ``command``, the command line as it is recorded with the results, and
    ``runs_dir`` and ``results`` made absolute (relative ones from the current folder)."""
    args = parser.parse_args(argv)
    args.command = shlex.join(["python", f"scripts/{parser.prog}",
                               *(sys.argv[1:] if argv is None else argv)])
    # relative folders are taken from where the command runs; absolute, because the
    # cells run in the notebook's own folder and a relative checkpoint folder would
    # land beside the notebook
    args.runs_dir, args.results = args.runs_dir.resolve(), args.results.resolve()
    if args.gather_only:
        return args
    if not args.experiments:
        parser.error("argument --experiments: give at least one (or --gather-only)")
    if any(s < 0 for s in args.seeds) or len(set(args.seeds)) != len(args.seeds):
        parser.error(f"argument --seeds: must be distinct integers >= 0, got {args.seeds}")
    for name in ("workers", "threads"):
        if getattr(args, name) < 1:
            parser.error(f"argument --{name}: must be >= 1, got {getattr(args, name)}")
    return args


def sweep_experiment(
    notebook: Path, out: Path, grids: list[dict[str, list[Any]]], fixed: dict[str, Any],
    args: argparse.Namespace, done: set[str], name: str, notes: Iterable[str] = (),
) -> int:
    """Run one experiment's cells into ``out`` (or, with ``args.dry_run``, list them,
    committed ones marked, after ``notes``); cells whose parameter hash is in ``done``
    are not run. Returns the exit code: 0, or 2 when the grid is refused."""
    try:
        cells = build_cells(notebook, grids, fixed, check=args.dry_run)
        if args.dry_run:
            print(f"{name}: {len(cells)} cells, {sum(c.digest in done for c in cells)} "
                  f"committed -> {out}")
            for line in notes:
                print("  " + line)
            for cell in cells:
                print(("  (committed) " if cell.digest in done else "  ") + cell.name)
            return 0
        record_command(out, args.command, [c.digest for c in cells if c.digest not in done])
        sweep(notebook, grids, out, fixed=fixed, workers=args.workers, threads=args.threads,
              progress=False, skip=done)
    except GridError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    return 0
