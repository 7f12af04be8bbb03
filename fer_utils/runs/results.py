"""Results tables: merge a run's rows into a committed CSV, keyed by what identifies them.

Run tooling, kept apart from the teaching code: ``scripts/run_table2.py`` and
``scripts/run_mfjle.py`` write ``results/*.csv`` through :func:`update_results_table`;
notebooks 04-06 read those tables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd


def update_results_table(path: str | Path, rows: Any, key: list[str]) -> Any:
    """Write ``rows`` into the results CSV at ``path``, replacing older rows with the same key.

    Introduced with the results scripts (``scripts/run_table2.py``, ``scripts/run_mfjle.py``;
    notebooks 04-06 read their tables). ``rows`` is a pandas DataFrame; rows of the file
    whose ``key`` columns match none of ``rows`` are kept, and the result is sorted by
    ``key``, written (folders created) and returned. A key column that an older file
    lacks, or leaves empty, is read as ``"none"`` (e.g. ``deviations``, added to the
    key after the first rows were written without any).
    """
    path = Path(path)
    new = pd.DataFrame(rows)
    if path.exists():
        old = pd.read_csv(path)
        for column in key:
            old[column] = old[column].fillna("none") if column in old else "none"
        keep = ~old.set_index(key).index.isin(new.set_index(key).index)
        new = pd.concat([old[keep], new], ignore_index=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    new = new.sort_values(key).reset_index(drop=True)
    new.to_csv(path, index=False)
    return new
