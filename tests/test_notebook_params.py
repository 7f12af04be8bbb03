"""Notebook parameters end to end: checked, never overridden by quick mode, and recorded.

Each notebook checks its parameters in the first code cell after the ``parameters`` cell
(with :mod:`fer_utils.runs.params`), records the values it uses in a
:class:`~fer_utils.runs.record.RunRecord`, and writes ``output_dir/result.json`` last.
Most tests here run only those two cells, in this process; two run notebooks with
papermill, in quick mode, as ``make run`` or a sweep would.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import papermill as pm
import pytest

from fer_utils.runs.notebooks import NOTEBOOK_DIR, list_notebooks, parameters_cell, run_notebooks
from fer_utils.runs.params import ParameterError
from fer_utils.runs.record import LABEL_KEYS, read_result

NOTEBOOKS = list_notebooks()


@pytest.fixture(autouse=True)
def _quiet_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels papermill starts inherit this environment: no progress bars, one thread."""
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _notebook(prefix: str) -> Path:
    (path,) = [nb for nb in NOTEBOOKS if nb.name.startswith(prefix)]
    return path


def check_cell(path: Path, **parameters: Any) -> dict[str, Any]:
    """Run the ``parameters`` cell, ``parameters`` (as papermill injects them) and the
    check cell after it; the namespace they leave."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    (at,) = [i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])]
    check = next(c for c in cells[at + 1:] if c["cell_type"] == "code")
    namespace: dict[str, Any] = {}
    exec("".join(cells[at]["source"]), namespace)
    namespace.update(parameters)
    exec("".join(check["source"]), namespace)
    return namespace


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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name[:2])
def test_every_parameter_is_recorded(path: Path) -> None:
    namespace = check_cell(path, quick=True)
    record = namespace["record"]
    assert record.notebook == path.stem
    assert list(record.parameters) == list(parameters_cell(path))
    assert record.parameters["quick"] is True


def test_an_explicit_value_wins_over_quick_mode_in_notebook_01() -> None:
    used = check_cell(_notebook("01"), n_synthetic=300, quick=True)["record"].parameters
    assert used["n_synthetic"] == 300
    assert used["synthetic_image_size"] == 48  # left at None: its quick-mode default


def test_quick_mode_keeps_an_explicit_full_default_in_notebooks_04_and_05() -> None:
    nb04 = _notebook("04")
    shrunk = check_cell(nb04, quick=True)["record"].parameters
    assert (shrunk["epochs"], shrunk["protocol_epochs"], shrunk["protocol_max_images"]) == (
        2, 1, 120)
    kept = check_cell(nb04, quick=True, epochs=12, protocol_epochs=5,
                      protocol_max_images=600)["record"].parameters
    assert (kept["epochs"], kept["protocol_epochs"], kept["protocol_max_images"]) == (
        12, 5, 600)
    words = check_cell(nb04, quick=True, epochs="preset", protocol_epochs="same",
                       protocol_max_images="all")["record"].parameters
    assert (words["epochs"], words["protocol_epochs"], words["protocol_max_images"]) == (
        "preset", "same", "all")
    kept = check_cell(_notebook("05"), quick=True, epochs=6, image_size=48)["record"].parameters
    assert (kept["epochs"], kept["image_size"]) == (6, 48)


@pytest.mark.parametrize(
    ("prefix", "parameters", "message"),
    [
        ("04", {"epochs": "paper"}, r"epochs must be an integer >= 1 or 'preset', got 'paper'"),
        ("04", {"protocol_max_images": None, "quick": "yes"}, r"quick must be True or False"),
        ("05", {"augment": None}, r"augment=None is not one of 'preset', 'none'"),
    ],
)
def test_a_bad_value_is_named(prefix: str, parameters: dict, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        check_cell(_notebook(prefix), **parameters)


def test_seed_means_one_run_and_data_seed_the_data() -> None:
    """``seed`` is the seed of a single run; 04 and 05 train one run per entry of
    ``seeds``, so the seed of their data is called ``data_seed``."""
    for path in NOTEBOOKS:
        declared = parameters_cell(path)
        if path.name[:2] in ("04", "05"):
            assert {"seeds", "data_seed"} <= set(declared) and "seed" not in declared, path.name
        else:
            assert "seed" in declared, path.name


def test_an_unknown_wheel_layout_stops_notebook_02(tmp_path: Path) -> None:
    with pytest.raises(pm.PapermillExecutionError) as info:
        _execute("02_emotion_wheel.ipynb", tmp_path / "02.ipynb",
                 {"layout": "circle", "quick": True})
    message = str(info.value)
    assert "ParameterError" in message
    assert "layout='circle'" in message and "'plutchik'" in message


def test_every_notebook_writes_its_result_file_in_quick_mode(tmp_path: Path) -> None:
    """``make run --quick`` in small: each notebook writes a result.json of numbers, and the
    manifest points at it. (About three minutes: the only test that runs all six.)"""
    manifest = run_notebooks(tmp_path / "run", {"quick": True})
    assert [e["notebook"] for e in manifest["notebooks"]] == [nb.name for nb in NOTEBOOKS]
    for entry in manifest["notebooks"]:
        assert entry["status"] == "ok", entry.get("error")
        result = read_result(tmp_path / "run" / entry["result"])
        name = entry["notebook"].removesuffix(".ipynb")
        assert result["notebook"] == name
        assert result["parameters"]["quick"] is True
        assert result["parameters"]["output_dir"] == str(tmp_path / "run" / name)
        assert result["metrics"], f"{name}: no metrics rows"
        for row in result["metrics"]:
            numbers = {k: v for k, v in row.items() if k not in LABEL_KEYS}
            assert numbers and all(
                v is None or (isinstance(v, int | float) and not isinstance(v, bool))
                for v in numbers.values()
            ), f"{name}: {row}"
            assert any(v is not None for k, v in numbers.items() if k != "seed"), row
        executed = json.loads((tmp_path / "run" / entry["notebook"]).read_text("utf-8"))
        shown = [o for c in executed["cells"] for o in c.get("outputs", [])
                 if re.search(r"^parameter\s*$", "".join(o.get("data", {}).get("text/plain", "")),
                              flags=re.M)]
        assert shown, f"{name}: shows no parameters table"
        stderr = [o for c in executed["cells"] for o in c.get("outputs", [])
                  if o.get("name") == "stderr"]
        assert not stderr, f"{name}: {stderr}"
