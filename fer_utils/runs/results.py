"""Results tables: merge a run's rows into a committed CSV, keyed by what identifies them.

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
from pathlib import Path
from typing import Any

import pandas as pd
from filelock import FileLock

from fer_utils.files import atomic_write


def _check_same_table(path: Path, old: pd.DataFrame, new: pd.DataFrame, key: list[str]) -> None:
    """Refuse to merge ``new`` into a file that holds a table of another schema."""
    shared = set(old.columns) & set(new.columns)
    if not set(key[:1]) <= set(old.columns) or len(shared) < len(new.columns) / 2:
        raise ValueError(
            f"{path} holds another table (columns {', '.join(map(str, old.columns[:8]))}"
            f"{', ...' if len(old.columns) > 8 else ''}), not one with columns "
            f"{', '.join(map(str, new.columns[:8]))}, ...; choose another output file"
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
