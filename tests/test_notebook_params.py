"""Notebook parameters end to end: a bad value stops the notebook, an explicit one beats quick.

Each notebook checks its parameters in the first code cell after the ``parameters`` cell
(with :mod:`fer_utils.runs.params`) and shows the values it uses. These tests run two
notebooks with papermill, in quick mode, as ``make run`` or a sweep would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import papermill as pm
import pytest

from fer_utils.runs.notebooks import NOTEBOOK_DIR


@pytest.fixture(autouse=True)
def _quiet_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels papermill starts inherit this environment: no progress bars, one thread."""
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _execute(name: str, out: Path, parameters: dict[str, Any]) -> dict:
    """Execute notebook ``name`` with ``parameters`` into ``out``; its executed JSON."""
    pm.execute_notebook(
        str(NOTEBOOK_DIR / name),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        cwd=str(NOTEBOOK_DIR),
        log_output=False,
        progress_bar=False,
    )
    return json.loads(out.read_text(encoding="utf-8"))


def _used_parameters_table(nb: dict) -> str:
    """The text of the used-parameters table the notebook displayed."""
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            text = "".join(output.get("data", {}).get("text/plain", ""))
            if re.search(r"^parameter\s*$", text, flags=re.M):
                return text
    raise AssertionError("the executed notebook shows no used-parameters table")


def test_an_unknown_wheel_layout_stops_notebook_02(tmp_path: Path) -> None:
    with pytest.raises(pm.PapermillExecutionError) as info:
        _execute("02_emotion_wheel.ipynb", tmp_path / "02.ipynb",
                 {"layout": "circle", "quick": True})
    message = str(info.value)
    assert "ParameterError" in message
    assert "layout='circle'" in message and "'plutchik'" in message


def test_an_explicit_value_wins_over_quick_mode_in_notebook_01(tmp_path: Path) -> None:
    nb = _execute("01_data_exploration.ipynb", tmp_path / "01.ipynb",
                  {"n_synthetic": 300, "quick": True})
    table = _used_parameters_table(nb)
    assert re.search(r"^n_synthetic\s+300\s*$", table, flags=re.M), table
    # a parameter left at None still gets its quick-mode default
    assert re.search(r"^synthetic_image_size\s+48\s*$", table, flags=re.M), table
    assert re.search(r"^quick\s+True\s*$", table, flags=re.M), table
