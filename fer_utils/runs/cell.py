"""One sweep cell: a papermill execution of a notebook in its own process and folder.

:func:`run_cell` is what a sweep submits to its executor (a local process pool or Dask
workers). It starts ``python -m fer_utils.runs.cell <task.json>`` as a child process
with the cell's own environment (torch threads, the GPU it may use, no progress bars),
waits for it, and reports how it went. The child runs papermill with the notebook's
folder as working directory: papermill's ``cwd`` changes the directory of the whole
process, which is harmless in a process of its own and wrong in a thread shared with
other cells.

A cell folder holds ``cell.json`` (notebook and parameters), ``notebook.ipynb`` (the
executed copy), ``log.txt`` (the child's output), everything the notebook writes into its
``output_dir``, and finally ``result.json`` (:mod:`fer_utils.runs.record`); a failed cell
holds ``error.json`` instead. If the process that ran :func:`run_cell` loses its parent
(the sweep driver was killed), the child is stopped, and the kernel with it (ipykernel
exits when its parent does), so no orphan keeps writing into the folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from fer_utils.files import atomic_write_text
from fer_utils.runs.record import RESULT_FILE

CELL_FILE = "cell.json"
EXECUTED_FILE = "notebook.ipynb"
ERROR_FILE = "error.json"
LOG_FILE = "log.txt"
KERNEL_NAME = "python3"

_current: dict[str, subprocess.Popen[bytes]] = {}
_lock = threading.Lock()


def cell_environment(threads: int, device: str | None) -> dict[str, str]:
    """The environment of a cell's process: ``threads`` torch/BLAS threads, one device.

    ``device`` is a CUDA index (``"0"``) made the only visible GPU, ``""`` for none, or
    ``None`` to keep what the worker was given (a SLURM job's own GPU, say).
    Dask workers set ``OMP_NUM_THREADS=1`` unless told otherwise; here it is always set.
    """
    env = dict(os.environ)
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[var] = str(threads)
    env["TQDM_DISABLE"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    if device is not None:
        env["CUDA_VISIBLE_DEVICES"] = device
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop a cell's child process: SIGTERM, then SIGKILL after 5 s."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


def watch_parent() -> None:
    """Exit this worker process, stopping its running cell, when its parent dies.

    The initializer of a sweep's local process pool: a pool worker whose driver was
    killed (``kill -9``) would otherwise finish its cell, or wait forever, as an orphan.
    """
    parent = os.getppid()

    def loop() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        with _lock:
            procs = list(_current.values())
        for proc in procs:
            _stop(proc)
        os._exit(1)

    threading.Thread(target=loop, daemon=True, name="fer-sweep-parent-watch").start()


def run_cell(task: dict[str, Any]) -> dict[str, Any]:
    """Run one cell (``task`` from the sweep: notebook, parameters, folder, threads,
    device, stop file) in a child process; return its status, seconds and error.

    The child is stopped early when the task's ``stop_file`` appears (the driver was
    interrupted while the executor's workers run on).
    A cell whose ``result.json`` already exists is not run again (``"skipped"``).
    """
    folder = Path(task["folder"])
    if (folder / RESULT_FILE).exists():
        return {"cell": task["name"], "status": "skipped", "seconds": 0.0, "error": ""}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ERROR_FILE).unlink(missing_ok=True)
    spec = {"notebook": task["notebook"], "parameters": task["parameters"],
            "kernel": task.get("kernel", KERNEL_NAME)}
    atomic_write_text(json.dumps(spec, indent=1) + "\n", folder / CELL_FILE)
    env = cell_environment(int(task["threads"]), task.get("device"))
    start = time.perf_counter()
    with open(folder / LOG_FILE, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "fer_utils.runs.cell", str(folder)],
            env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        )
        with _lock:
            _current[task["name"]] = proc
        stop = Path(task["stop_file"]) if task.get("stop_file") else None
        try:
            while (code := proc.poll()) is None:
                if stop is not None and stop.exists():  # the driver was interrupted
                    _stop(proc)
                time.sleep(0.25)
        finally:
            _stop(proc)
            with _lock:
                _current.pop(task["name"], None)
    seconds = round(time.perf_counter() - start, 2)
    if stop is not None and stop.exists() and not (folder / RESULT_FILE).exists():
        return {"cell": task["name"], "status": "stopped", "seconds": seconds, "error": ""}
    if (folder / RESULT_FILE).exists():
        return {"cell": task["name"], "status": "ok", "seconds": seconds, "error": ""}
    error = read_error(folder) or f"the cell's process exited with code {code} (see {LOG_FILE})"
    if not (folder / ERROR_FILE).exists():
        _write_error(folder, error)
    return {"cell": task["name"], "status": "failed", "seconds": seconds, "error": error}


def read_error(folder: Path) -> str:
    """The error recorded in a failed cell's ``error.json``, or ``""``."""
    path = Path(folder) / ERROR_FILE
    if not path.exists():
        return ""
    try:
        return str(json.loads(path.read_text(encoding="utf-8")).get("error", ""))
    except (json.JSONDecodeError, AttributeError):
        return f"unreadable {ERROR_FILE}"


def _write_error(folder: Path, error: str) -> None:
    atomic_write_text(json.dumps({"error": error}, indent=1) + "\n", folder / ERROR_FILE)


def _execute(folder: Path) -> int:
    """The child process: execute the cell's notebook with papermill; 0 when it finished."""
    import papermill as pm

    spec = json.loads((folder / CELL_FILE).read_text(encoding="utf-8"))
    notebook = Path(spec["notebook"])
    parameters = {**spec["parameters"], "output_dir": str(folder)}
    # SIGTERM (the sweep stopping this cell) ends the process without a traceback.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        pm.execute_notebook(
            str(notebook), str(folder / EXECUTED_FILE), parameters=parameters,
            kernel_name=spec["kernel"], cwd=str(notebook.parent), progress_bar=False,
            log_output=False,
        )
    except Exception as err:
        if isinstance(err, pm.PapermillExecutionError):
            message = f"{err.ename}: {err.evalue}"
        else:
            message = f"{type(err).__name__}: {err}"
        _write_error(folder, message.strip()[-2000:])
        return 1
    if not (folder / RESULT_FILE).exists():
        _write_error(folder, f"{notebook.name} ran but wrote no {RESULT_FILE} "
                             "(its last cell should call record.write(output_dir))")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(_execute(Path(sys.argv[1])))
