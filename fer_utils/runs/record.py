"""One machine-readable result file per notebook run: ``result.json`` in its output folder.

Every notebook creates a :class:`RunRecord` in its parameter-check cell, adds the
resolved configuration and its metrics (as numbers, one row per seed, and per method
where the notebook compares methods) as it goes, and writes the file as its very last
step, atomically. A parameter sweep (:mod:`fer_utils.runs.sweep`) counts a cell as
finished exactly when this file exists, and gathers the files into one tidy table; any
other program can read them with :func:`read_result`.

The file holds::

    {"format": 1,
     "notebook": "04_training",
     "parameters": {...},        # every parameter, after quick mode and defaults resolved
     "config": {...},            # what else changes the numbers: preset, deviations, ...
     "metrics": [{"seed": 0, "method": "baseline", "test_accuracy": 0.71, ...}, ...],
     "provenance": {...},        # fer_utils.provenance.run_info(): commit, device, versions
     "started_utc": "...", "finished_utc": "...", "duration_s": 12.3}

Metric values are numbers (``NaN`` is stored as ``null``); a few string-valued keys
(:data:`LABEL_KEYS`) say which run a row belongs to.
"""

from __future__ import annotations

import json
import math
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

from fer_utils.files import atomic_write_text
from fer_utils.provenance import run_info

#: The file name every notebook writes into its ``output_dir``.
RESULT_FILE = "result.json"
#: Version of the file's layout; :func:`read_result` refuses other versions.
RESULT_FORMAT = 1
#: Keys of a metrics row that name the run rather than measure it (strings allowed).
LABEL_KEYS = ("method", "model", "protocol", "split", "part", "module", "wheel", "name")


def _plain(value: Any, where: str) -> Any:
    """``value`` as plain JSON data (numpy and torch scalars and arrays, pandas series,
    tuples and paths converted)."""
    if callable(getattr(value, "tolist", None)):  # numpy, torch, pandas
        value = value.tolist()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, list | tuple):
        return [_plain(v, where) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v, f"{where}.{k}") for k, v in value.items()}
    raise TypeError(f"{where}: cannot store a {type(value).__name__} in a result file")


class RunRecord:
    """The result of one notebook run, collected as the notebook goes and written last.

    Introduced in notebook 01: created right after the parameter checks with the values
    the run uses, shown as a table by :meth:`parameters_table`, and written by
    :meth:`write` at the end of the notebook.
    """

    def __init__(self, notebook: str, parameters: dict[str, Any]) -> None:
        self.notebook = notebook
        self.parameters = _plain(dict(parameters), "parameters")
        self.config: dict[str, Any] = {}
        self.metrics: list[dict[str, Any]] = []
        self._start = time.perf_counter()
        self._started_utc = datetime.now(UTC).isoformat(timespec="seconds")

    def parameters_table(self) -> pd.DataFrame:
        """The parameters of this run as a one-column table (what the notebook shows)."""
        return pd.DataFrame(
            {"value": {k: repr(v) for k, v in self.parameters.items()}}
        ).rename_axis("parameter")

    def add_config(self, **config: Any) -> None:
        """Record what changes the numbers beyond the parameters (preset, its deviations)."""
        self.config.update(_plain(config, "config"))

    def add_metrics(self, seed: int | None = None, **values: Any) -> None:
        """Record one row of metrics: numbers, plus labels such as ``method="baseline"``.

        ``seed`` is the seed of the run the numbers come from. Raises ``TypeError`` for a
        value that is neither a number nor, for a key in :data:`LABEL_KEYS`, a string.
        """
        row: dict[str, Any] = {} if seed is None else {"seed": int(seed)}
        for key, value in values.items():
            value = _plain(value, f"metrics.{key}")
            number = value is None or (
                isinstance(value, int | float) and not isinstance(value, bool)
            )
            if not number and not (key in LABEL_KEYS and isinstance(value, str)):
                raise TypeError(
                    f"metric {key!r} must be a number (labels: {', '.join(LABEL_KEYS)}), "
                    f"got {value!r}"
                )
            row[key] = value
        self.metrics.append(row)

    def to_dict(self) -> dict[str, Any]:
        """The whole record as the JSON-ready dict that :meth:`write` stores."""
        return {
            "format": RESULT_FORMAT,
            "notebook": self.notebook,
            "parameters": self.parameters,
            "config": self.config,
            "metrics": self.metrics,
            "provenance": run_info(),
            "started_utc": self._started_utc,
            "finished_utc": datetime.now(UTC).isoformat(timespec="seconds"),
            "duration_s": round(time.perf_counter() - self._start, 2),
        }

    def write(self, output_dir: str | Path | None) -> Path | None:
        """Write ``output_dir/result.json`` atomically; nothing when ``output_dir`` is None.

        Call it as the notebook's last step: a sweep takes the file as the sign that the
        run finished. Returns the path written.
        """
        if output_dir is None:
            return None
        path = Path(output_dir) / RESULT_FILE
        atomic_write_text(json.dumps(self.to_dict(), indent=1, allow_nan=False) + "\n", path)
        return path


def config_deviations(config: Any, reference: Any) -> list[tuple[str, Any]]:
    """The settings of a training config that differ from ``reference`` (its preset).

    Introduced in notebook 04. Both are :class:`fer_utils.training.config.TrainConfig`;
    only what changes the numbers counts (their ``identity()``, so not checkpoint folders
    or progress bars). Returns ``(name, value)`` pairs in the config's field order, the
    form :func:`fer_utils.runs.results.settings_text` writes as ``"epochs=12; ..."``.
    """
    ours, theirs = config.identity(), reference.identity()
    return [(name, value) for name, value in ours.items()
            if name not in theirs or theirs[name] != value]


def read_result(path: str | Path) -> dict[str, Any]:
    """Read a ``result.json`` written by :meth:`RunRecord.write`, checking its layout.

    Raises ``ValueError`` naming the file when it is not valid JSON, has another format
    version, or lacks a field.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ValueError(f"{path}: not a readable result file ({err})") from err
    if not isinstance(data, dict) or data.get("format") != RESULT_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ValueError(f"{path}: expected result format {RESULT_FORMAT}, found {found!r}")
    missing = [k for k in ("notebook", "parameters", "config", "metrics", "provenance")
               if k not in data]
    if missing:
        raise ValueError(f"{path}: result file lacks {', '.join(missing)}")
    return data
