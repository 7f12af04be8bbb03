"""Command line of the parameter sweeps: ``python -m fer_utils.sweep NOTEBOOK -p NAME V1 V2 ...``.

Examples (from the repository root, in its ``.venv``)::

    # paper A's Fig. 7 K study on the built-in data: 5 values of K x 3 seeds, 2 at a time
    python -m fer_utils.sweep notebooks/04_training.ipynb -p mix_k 2 3 4 5 6 \\
        -p seed 0 1 2 -p run_protocols False --workers 2 --out runs/sweeps/k_synthetic
    # a bigger grid from a file, on a Dask LocalCluster
    python -m fer_utils.sweep notebooks/04_training.ipynb --grid grid.yaml --scheduler dask
    # on SLURM (pip install -e ".[dask]"): one job per worker, 4 CPUs each
    python -m fer_utils.sweep notebooks/04_training.ipynb -p mix_k 2 3 4 5 6 \\
        --scheduler slurm --workers 5 --threads 4 --slurm-walltime 02:00:00

``-p NAME VALUE ...`` gives a parameter's values (Python literals, else text; one value
means the same in every cell). Running the same command again resumes: cells with a
``result.json`` are skipped. The work is done by :func:`fer_utils.runs.sweep.sweep`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fer_utils.runs.grid import GridError, load_grid, parse_value
from fer_utils.runs.notebooks import NOTEBOOK_DIR, list_notebooks
from fer_utils.runs.sweep import count_cells, sweep


def resolve_notebook(text: str) -> Path:
    """A notebook path, or a number prefix such as ``04`` for ``notebooks/04_*.ipynb``."""
    if len(text) <= 3 and text.isdigit():
        matches = [p for p in list_notebooks(NOTEBOOK_DIR) if p.name.startswith(text.zfill(2))]
        if len(matches) == 1:
            return matches[0]
    return Path(text)


def parser() -> argparse.ArgumentParser:
    """The argument parser of ``python -m fer_utils.sweep``."""
    p = argparse.ArgumentParser(
        prog="python -m fer_utils.sweep",
        description="Run a notebook over a parameter grid with papermill, in parallel and "
                    "resumable, and gather the results into one table (sweep.csv).",
    )
    p.add_argument("notebook", help="the notebook (.ipynb), or its number, e.g. 04")
    p.add_argument("-p", "--param", nargs="+", action="append", default=[],
                   metavar=("NAME", "VALUE"), help="a parameter and its values")
    p.add_argument("--grid", type=Path, help="a YAML or JSON file: parameter -> values")
    p.add_argument("--out", type=Path, default=None,
                   help="sweep folder (default: runs/sweeps/<notebook>-<hash of the grid>)")
    p.add_argument("--workers", type=int, default=1, help="cells run at once (default 1)")
    p.add_argument("--threads", type=int, default=None,
                   help="torch threads per cell (default: cores / workers; 1 on a cluster)")
    p.add_argument("--scheduler", default="local",
                   help="local (process pool, default), dask (LocalCluster), slurm, "
                        "or a Dask scheduler address such as tcp://host:8786")
    p.add_argument("--devices", nargs="+", default=None,
                   help="GPU indices, one per running cell (default: every GPU seen)")
    p.add_argument("--slurm-memory", default="16GB")
    p.add_argument("--slurm-walltime", default="04:00:00")
    p.add_argument("--slurm-gpus", type=int, default=0)
    p.add_argument("--slurm-queue", default=None)
    p.add_argument("--slurm-account", default=None)
    p.add_argument("--dry-run", action="store_true", help="check the grid, list the cells, stop")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    return p


def main(argv: list[str] | None = None) -> int:
    """Run the command line; 0 when every cell finished, 1 when one failed, 2 for bad
    input, 130 when interrupted."""
    args = parser().parse_args(argv)
    notebook = resolve_notebook(args.notebook)
    try:
        grid = load_grid(args.grid) if args.grid else {}
        for name, *values in args.param:
            if name in grid:
                raise GridError(f"parameter {name} is given twice")
            grid[name] = [parse_value(v) for v in values]
        if args.dry_run:
            from fer_utils.runs.grid import build_cells

            for cell in build_cells(notebook, grid):
                print(cell.name, cell.parameters)
            return 0
        slurm = {"memory": args.slurm_memory, "walltime": args.slurm_walltime,
                 "gpus": args.slurm_gpus, "queue": args.slurm_queue,
                 "account": args.slurm_account}
        table = sweep(notebook, grid, args.out, workers=args.workers, threads=args.threads,
                      scheduler=args.scheduler, devices=args.devices, slurm=slurm,
                      progress=not args.no_progress)
    except (GridError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 1 if count_cells(table).get("failed", 0) else 0


if __name__ == "__main__":
    sys.exit(main())
