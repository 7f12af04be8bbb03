"""Results tables: merge a run's rows into a committed CSV, keyed by what identifies them.

Also what both results scripts share: the checks of an output path before any training
(:func:`table_problem`), older detail files brought up to date (:func:`adopt_older_rows`),
and the console line saying whether a run resumed (:func:`resume_line`).

Run tooling, kept apart from the teaching code: ``scripts/run_table2.py`` and
``scripts/run_mfjle.py`` write ``results/*.csv`` through :func:`update_results_table`;
notebooks 04-06 read those tables.

Several processes may add rows to one table at once (two training scripts side by side,
a parameter sweep): the read-merge-write happens under a file lock (``<table>.lock``,
the ``filelock`` package), and the table is replaced atomically
(:func:`fer_utils.files.atomic_write`), so a kill or a full disk mid-write leaves the old
table whole. A lock on a network filesystem is not to be trusted across machines: there,
let one process gather the rows and write the table.
"""

from __future__ import annotations

import io
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from filelock import FileLock

from fer_utils.files import atomic_write, atomic_write_text

if TYPE_CHECKING:
    from fer_utils.training.loop import TrainResult


def _another_table(header: Sequence[str], columns: Sequence[str], required: Sequence[str]) -> bool:
    """Whether a file with ``header`` holds another table than one with ``columns``."""
    missing = any(c not in header for c in required)
    return missing or len(set(header) & set(columns)) < len(columns) / 2


def _check_same_table(path: Path, old: pd.DataFrame, new: pd.DataFrame, key: list[str]) -> None:
    """Refuse to merge ``new`` into a file that holds a table of another schema."""
    header, columns = [str(c) for c in old.columns], [str(c) for c in new.columns]
    if _another_table(header, columns, key[:1]):
        raise ValueError(
            f"{path} holds another table (columns {_few(header)}), not one with columns "
            f"{_few(columns)}; choose another output file"
        )


def update_results_table(path: str | Path, rows: Any, key: list[str]) -> pd.DataFrame:
    """Merge ``rows`` into the results CSV at ``path``, replacing older rows with the same key.

    ``rows`` is a pandas DataFrame; rows of the file whose ``key`` columns match none of
    ``rows`` are kept, and the result is sorted by ``key``, written (folders created) and
    returned. A key column that an older file lacks, or leaves empty, is read as
    ``"none"`` (e.g. ``deviations``, added to the key after the first rows were written
    without any). A file holding a table of other columns is refused with ``ValueError``.
    Safe to call from several processes at once (see the module docstring).
    """
    path = Path(path)
    new = pd.DataFrame(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(str(path) + ".lock"):
        if path.exists():
            old = pd.read_csv(path)
            _check_same_table(path, old, new, key)
            for column in key:
                old[column] = old[column].fillna("none") if column in old else "none"
            keep = ~old.set_index(key).index.isin(new.set_index(key).index)
            new = pd.concat([old[keep], new], ignore_index=True)
        new = new.sort_values(key).reset_index(drop=True)
        buffer = io.StringIO()
        new.to_csv(buffer, index=False)
        atomic_write(path, lambda fh: fh.write(buffer.getvalue().encode("utf-8")))
    return new


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written in ``folder`` (made when missing), or ``None``."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        return f"{existing} is not a folder"
    try:
        if not os.access(existing, os.W_OK | os.X_OK):
            raise PermissionError("no write permission")
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as err:
        return f"the folder {existing} is not writable ({err.strerror or err})"
    return None


def _few(columns: Sequence[str]) -> str:
    return ", ".join(map(str, columns[:8])) + (", ..." if len(columns) > 8 else "")


def table_problem(path: Path, columns: Sequence[str] = (),
                  required: Sequence[str] = ()) -> str | None:
    """Why ``path`` cannot take a table with ``columns``, or ``None``.

    ``path`` must not be a folder and its folder must be writable; an existing file must
    be a CSV table whose header has the ``required`` columns and at least half of
    ``columns`` (the rule :func:`update_results_table` applies when it merges).
    Results scripts call it on ``--out`` before any training.
    """
    if path.is_dir():
        return f"{path} is a folder; give a CSV file"
    problem = folder_problem(path.parent)
    if problem or not columns or not path.exists():
        return problem
    try:
        header = [str(c) for c in pd.read_csv(path, nrows=0).columns]
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            OSError) as err:
        return f"{path} is not a readable CSV table ({type(err).__name__}); choose another file"
    if _another_table(header, list(columns), required):
        return (f"{path} holds another table (columns {_few(header)}), not one with columns "
                f"{_few(columns)}; choose another file")
    return None


def adopt_older_rows(path: Path, values: dict[str, object]) -> None:
    """Give the rows of an older detail file the identifying columns they lack.

    Older versions of the results scripts named a detail file by what identifies its
    rows (dataset, protocol, deviations) but left those columns out of the rows. The
    missing columns are filled from ``values`` (what the file name stands for), under
    the table's lock, so that the old rows take part in the merge and in the summary
    instead of sitting beside them.
    """
    if not path.exists():
        return
    with FileLock(str(path) + ".lock"):
        table = pd.read_csv(path)
        missing = [c for c in values if c not in table.columns]
        if not missing:
            return
        for column in missing:
            table[column] = values[column]
        table = table[[*missing, *[c for c in table.columns if c not in missing]]]
        atomic_write_text(table.to_csv(index=False), path)


def rows_matching(table: pd.DataFrame, values: dict[str, object]) -> pd.DataFrame:
    """The rows of ``table`` whose columns equal ``values``."""
    mask = np.ones(len(table), dtype=bool)
    for column, value in values.items():
        mask &= (table[column].astype(str) == str(value)).to_numpy()
    return table[mask]


def settings_text(settings: list[tuple[str, object]]) -> str:
    """``"lr=0.01; epochs=5"`` for ``[("lr", 0.01), ("epochs", 5)]``; ``"none"`` for none.

    The ``deviations`` and ``setup`` columns of the results tables; :func:`file_suffix`
    turns the text into a file-name part.
    """
    return "; ".join(f"{name}={value}" for name, value in settings) if settings else "none"


def file_suffix(text: str) -> str:
    """``"_lr0.01_epochs5"`` for ``"lr=0.01; epochs=5"``; ``""`` for ``"none"`` (file names)."""
    return "" if text == "none" else "_" + text.replace("; ", "_").replace("=", "")


def resume_line(run: TrainResult, label: str) -> str:
    """``"<label>: resumed from epoch 3 of 10 (run ...)"`` or ``"...: started fresh ..."``."""
    total = run.config.optim.epochs
    if run.resumed_from_epoch:
        state = f"resumed from epoch {run.resumed_from_epoch} of {total}"
        if run.resumed_from_epoch >= total:
            state += " (already finished)"
    elif run.config.runtime.checkpoint_dir is None:
        state = "started fresh (no --checkpoint-dir: cannot be resumed)"
    else:
        state = "started fresh"
    return f"{label}: {state} (run {run.run_name})"
