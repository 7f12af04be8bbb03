"""Parameter sweeps: a notebook over a grid, in parallel, resumable, gathered into a table.

:func:`sweep` runs one papermill execution of a notebook per grid cell
(:mod:`fer_utils.runs.grid`), each in its own folder (:mod:`fer_utils.runs.cell`), through
the ``concurrent.futures`` executor interface:

* ``scheduler="local"`` (the default): a process pool on this machine; nothing to
  install, so it works on a laptop, Colab and Binder;
* ``scheduler="dask"``: a Dask ``LocalCluster`` (``pip install -e ".[dask]"``);
* ``scheduler="tcp://host:8786"``: an existing Dask scheduler;
* ``scheduler="slurm"``: a SLURM cluster through dask-jobqueue, one job per worker
  (:func:`slurm_cluster`);
* or any ``concurrent.futures.Executor`` passed as ``executor``.

Each cell runs with an explicit number of torch threads (``threads``; Dask workers would
otherwise force one) and, on a GPU machine, one GPU of its own. A cell is finished when
its ``result.json`` exists: running the same sweep again skips finished cells and runs
the rest, a failing cell is recorded with its error while the others go on, and a
killed driver loses no finished cell. After every cell, :func:`gather` rewrites
``sweep.csv`` beside the cells atomically: one row per cell and seed (and method), the
parameters as columns, the metrics as numbers, papermill's duration and error.

The command line is ``python -m fer_utils.sweep`` (:mod:`fer_utils.sweep`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import multiprocessing
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Collection, Iterator
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

import pandas as pd

from fer_utils.files import atomic_write_text
from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.cell import (
    CELL_FILE,
    ERROR_FILE,
    EXECUTED_FILE,
    KERNEL_NAME,
    read_error,
    run_cell,
    watch_parent,
)
from fer_utils.runs.grid import Cell, GridError, build_cells
from fer_utils.runs.record import RESULT_FILE, read_result

SWEEP_FILE = "sweep.json"
STOP_FILE = "STOP"
TABLE_FILE = "sweep.csv"
CELLS_DIR = "cells"


def default_out(
    notebook: str | Path, grid: dict[str, Any] | list[dict[str, Any]], fixed: dict[str, Any] | None
) -> Path:
    """``runs/sweeps/<notebook>-<hash of grid and fixed values>``: the same command gives
    the same folder, so running it again resumes."""
    key = json.dumps({"grid": grid, "fixed": fixed or {}}, sort_keys=True, default=repr)
    digest = hashlib.sha1(key.encode("utf-8")).hexdigest()[:8]
    return REPO_ROOT / "runs" / "sweeps" / f"{Path(notebook).stem}-{digest}"


def _encode(value: Any) -> Any:
    """A parameter value as a table cell: lists and dicts as JSON text."""
    return json.dumps(value) if isinstance(value, list | dict) else value


def _papermill_metadata(folder: Path) -> dict[str, Any]:
    """papermill's own record of an executed notebook: duration and whether it raised."""
    path = folder / EXECUTED_FILE
    if not path.exists():
        return {}
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("papermill", {})
    except (json.JSONDecodeError, KeyError):
        return {}
    return {"papermill_duration_s": meta.get("duration"),
            "papermill_exception": bool(meta.get("exception"))}


def _natural(path: Path) -> list[Any]:
    """Sort key putting ``x=2`` before ``x=10``."""
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", path.name)]


def _cell_rows(folder: Path) -> list[dict[str, Any]]:
    """The table rows of one cell folder (one per metrics row; one for a failed cell)."""
    spec = json.loads((folder / CELL_FILE).read_text(encoding="utf-8"))
    params = {k: _encode(v) for k, v in spec["parameters"].items()}
    base = {"cell": folder.name, "status": "unfinished", **params}
    extra = _papermill_metadata(folder)
    if (folder / RESULT_FILE).exists():
        result = read_result(folder / RESULT_FILE)
        prov = result["provenance"]
        tail = {**extra, "duration_s": result.get("duration_s"),
                "git_commit": prov.get("git_commit"), "device": prov.get("device"),
                "error": ""}
        rows = []
        for metrics in result["metrics"] or [{}]:
            row = {**base, "status": "ok"}
            for key, value in metrics.items():
                clash = key in params and params[key] != _encode(value)
                row[f"metric_{key}" if clash else key] = value
            rows.append({**row, **tail})
        return rows
    if (folder / ERROR_FILE).exists():
        return [{**base, "status": "failed", **extra, "error": read_error(folder)}]
    return [{**base, **extra, "error": ""}]


def gather(out: str | Path, write: bool = True) -> pd.DataFrame:
    """One tidy table of every cell under ``out/cells``: a row per cell and seed (and
    method), parameters as columns, metrics as numbers, status and error.

    Written atomically to ``out/sweep.csv`` unless ``write`` is False; returned either way.
    """
    out = Path(out)
    folders = sorted((p.parent for p in (out / CELLS_DIR).glob(f"*/{CELL_FILE}")),
                     key=_natural)
    rows = [row for folder in folders for row in _cell_rows(folder)]
    table = pd.DataFrame(rows)
    if write:
        atomic_write_text(table.to_csv(index=False), out / TABLE_FILE)
    return table


def slurm_cluster(
    threads: int = 1,
    memory: str = "16GB",
    walltime: str = "04:00:00",
    gpus: int = 0,
    queue: str | None = None,
    account: str | None = None,
    directives: list[str] | None = None,
) -> Any:
    """A dask-jobqueue ``SLURMCluster`` whose jobs each run one sweep cell at a time.

    Each job reserves ``threads`` CPUs (``--cpus-per-task``), ``memory``, ``walltime`` and
    ``gpus`` GPUs, starts in the repository folder with this Python, and offers one
    ``cell`` resource, so a job never runs two cells at once whatever its CPU count.
    ``cluster.job_script()`` shows the script SLURM receives. The repository and the
    sweep folder must be on a filesystem the compute nodes share.
    """
    from dask_jobqueue import SLURMCluster

    extra = list(directives or [])
    if gpus:
        extra.append(f"--gres=gpu:{gpus}")
    return SLURMCluster(
        cores=threads,
        processes=1,
        memory=memory,
        walltime=walltime,
        queue=queue,
        account=account,
        job_extra_directives=extra,
        python=sys.executable,
        job_script_prologue=[f"cd {REPO_ROOT}"],
        worker_extra_args=["--resources", "cell=1"],
    )


def local_gpus() -> list[str]:
    """This machine's GPUs as ``CUDA_VISIBLE_DEVICES`` entries, one per cell to hand out.

    ``CUDA_VISIBLE_DEVICES`` itself when it is set (a scheduler's choice is kept), else the
    indices ``nvidia-smi -L`` lists; none without either. Asking nvidia-smi rather than
    torch keeps the driver from importing torch, which takes seconds.
    """
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        return [d.strip() for d in visible.split(",") if d.strip()]
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True,
                                 timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i in range(sum(ln.startswith("GPU ") for ln in listing.splitlines()))]


@contextlib.contextmanager
def open_executor(
    scheduler: str, workers: int, threads: int, slurm: dict[str, Any] | None = None
) -> Iterator[tuple[Executor, int]]:
    """The executor for ``scheduler`` and how many cells may run at once on it."""
    if scheduler == "local":
        pool = ProcessPoolExecutor(
            max_workers=workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=watch_parent,
        )
        try:
            yield pool, workers
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return
    try:
        from distributed import Client, LocalCluster
    except ImportError as err:
        raise GridError(
            f"scheduler {scheduler!r} needs Dask: pip install -e '.[dask]' ({err})"
        ) from err
    with contextlib.ExitStack() as stack:
        kwargs: dict[str, Any] = {"pure": False}
        if scheduler == "dask":
            cluster = stack.enter_context(LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=40,
            ))
            client = stack.enter_context(Client(cluster))
        elif scheduler == "slurm":
            cluster = stack.enter_context(slurm_cluster(threads=threads, **(slurm or {})))
            cluster.scale(jobs=workers)
            client = stack.enter_context(Client(cluster))
            kwargs["resources"] = {"cell": 1}
        elif "://" in scheduler:
            client = stack.enter_context(Client(scheduler))
        else:
            raise GridError(
                f"scheduler must be 'local', 'dask', 'slurm' or a Dask address "
                f"such as tcp://host:8786, got {scheduler!r}"
            )
        yield client.get_executor(**kwargs), workers


def _cell_folders(out: Path, cells: list[Cell]) -> dict[str, Path]:
    """Each cell's folder: an existing one with the same parameter hash, else a new one."""
    existing = {p.name.rsplit("__", 1)[-1]: p for p in (out / CELLS_DIR).glob("*") if p.is_dir()}
    return {c.name: existing.get(c.digest, out / CELLS_DIR / c.name) for c in cells}


def _claim_folder(out: Path, notebook: Path) -> None:
    """Write ``sweep.json``, or refuse a folder that holds a sweep of another notebook."""
    path = out / SWEEP_FILE
    if path.exists():
        old = json.loads(path.read_text(encoding="utf-8")).get("notebook")
        if old != notebook.name:
            raise GridError(f"{out} holds a sweep of {old}, not of {notebook.name}; "
                            "choose another --out folder")
        return
    atomic_write_text(json.dumps({"notebook": notebook.name, "path": str(notebook)},
                                 indent=1) + "\n", path)


def _duration(seconds: float) -> str:
    minutes, secs = divmod(int(round(seconds)), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m{secs:02d}s" if hours else f"{minutes}m{secs:02d}s"


def sweep(
    notebook: str | Path,
    grid: dict[str, list[Any]] | list[dict[str, list[Any]]],
    out: str | Path | None = None,
    *,
    fixed: dict[str, Any] | None = None,
    workers: int = 1,
    threads: int | None = None,
    scheduler: str = "local",
    executor: Executor | None = None,
    devices: list[str] | None = None,
    slurm: dict[str, Any] | None = None,
    kernel: str = KERNEL_NAME,
    progress: bool = True,
    skip: Collection[str] = (),
) -> pd.DataFrame:
    """Run ``notebook`` once per cell of ``grid`` (plus ``fixed`` values) into ``out``;
    return the gathered table (also ``out/sweep.csv``).

    ``grid`` is a dict of value lists (their product) or a list of such dicts (the union
    of their cells, :func:`~fer_utils.runs.grid.build_cells`), run in the order given.

    ``workers`` cells run at once, each with ``threads`` torch threads (default: this
    machine's cores shared among the workers; 1 on a cluster). ``devices`` lists GPU
    indices handed out to the running cells, running cell *i* getting
    ``devices[i % len(devices)]`` (default on this machine: every GPU it has; give as many
    workers as devices so that no two cells share one). Bad grid input raises
    :class:`~fer_utils.runs.grid.GridError` before anything runs.

    ``skip`` holds the parameter hashes (:attr:`~fer_utils.runs.grid.Cell.digest`) of
    cells finished elsewhere, e.g. whose results are committed while their folders are
    gone (a fresh checkout): they are counted as finished and not run again.
    """
    notebook = Path(notebook).resolve()
    cells = build_cells(notebook, grid, fixed)
    out = Path(out) if out is not None else default_out(notebook, grid, fixed)
    if workers < 1:
        raise GridError(f"workers must be >= 1, got {workers}")
    if threads is None:
        threads = max(1, (os.cpu_count() or 1) // workers) if scheduler in ("local", "dask") else 1
    if threads < 1:
        raise GridError(f"threads must be >= 1, got {threads}")
    if devices is None and scheduler in ("local", "dask") and executor is None:
        devices = local_gpus() or None
    out.mkdir(parents=True, exist_ok=True)
    _claim_folder(out, notebook)
    stop = out / STOP_FILE
    stop.unlink(missing_ok=True)
    folders = _cell_folders(out, cells)
    todo = [c for c in cells if not (folders[c.name] / RESULT_FILE).exists()]
    elsewhere = sum(c.digest in skip for c in todo)
    todo = [c for c in todo if c.digest not in skip]
    skipped = len(cells) - len(todo)
    recorded = f" ({elsewhere} recorded elsewhere)" if elsewhere else ""
    print(f"sweep of {notebook.name}: {len(cells)} cells, {skipped} already finished{recorded}, "
          f"{len(todo)} to run on {workers} {scheduler if executor is None else 'custom'} "
          f"worker(s) x {threads} thread(s) -> {out}", flush=True)
    counts = {"ok": 0, "failed": 0, "stopped": 0}
    start = time.perf_counter()
    with contextlib.ExitStack() as stack:
        if executor is None:
            executor, slots = stack.enter_context(open_executor(scheduler, workers, threads, slurm))
        else:
            slots = workers
        from tqdm.auto import tqdm

        bar = stack.enter_context(tqdm(total=len(todo), unit="cell", disable=not progress,
                                       desc=notebook.stem, dynamic_ncols=True))
        free = list(range(slots))
        running: dict[Future[dict[str, Any]], int] = {}
        queue = list(todo)
        try:
            while queue or running:
                while queue and free:
                    cell, slot = queue.pop(0), free.pop(0)
                    task = {"name": cell.name, "notebook": str(notebook),
                            "parameters": cell.parameters, "folder": str(folders[cell.name]),
                            "threads": threads, "kernel": kernel, "stop_file": str(stop),
                            "device": devices[slot % len(devices)] if devices else None}
                    running[executor.submit(run_cell, task)] = slot
                bar.set_postfix_str(f"ok {counts['ok']}, failed {counts['failed']}, "
                                    f"running {len(running)}")
                done, _ = wait(list(running), return_when=FIRST_COMPLETED)
                for future in done:
                    free.append(running.pop(future))
                    try:
                        status = future.result()["status"]
                    except Exception as err:  # the worker itself broke; the cell is failed
                        print(f"a worker failed: {type(err).__name__}: {err}", file=sys.stderr)
                        status = "failed"
                    # "skipped": another sweep finished the cell meanwhile; "stopped": the
                    # cell saw the STOP file (Ctrl-C, or `touch STOP` by hand)
                    counts["ok" if status == "skipped" else status] += 1
                    bar.update(1)
                gather(out)
            bar.set_postfix_str(f"ok {counts['ok']}, failed {counts['failed']}, running 0")
        except KeyboardInterrupt:
            stop.touch()  # running cells see it and stop; queued ones were never submitted
            for future in running:
                future.cancel()
            wait(list(running), timeout=30)
            stop.unlink(missing_ok=True)
            gather(out)
            print(f"\ninterrupted: {counts['ok']} cell(s) finished this time and are kept; "
                  "run the same command again to run the rest", file=sys.stderr, flush=True)
            raise
    table = gather(out)
    elapsed = time.perf_counter() - start
    stopped = f", {counts['stopped']} stopped" if counts["stopped"] else ""
    print(f"{notebook.name}: {counts['ok']} ran, {counts['failed']} failed{stopped}, "
          f"{skipped} skipped "
          f"(finished before) in {_duration(elapsed)}; table {out / TABLE_FILE}", flush=True)
    return table


def count_cells(table: pd.DataFrame) -> dict[str, int]:
    """Cells per status in a gathered table (``ok``, ``failed``, ``unfinished``)."""
    if table.empty:
        return {}
    return table.drop_duplicates("cell")["status"].value_counts().to_dict()

