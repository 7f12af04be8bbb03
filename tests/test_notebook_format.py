"""Every notebook is committed clean: no outputs, python3 kernel, Colab cells, parameters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fer_utils.runs.notebooks import list_notebooks, parameters_cell

NOTEBOOKS = list_notebooks()


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no numbered notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_without_outputs_and_with_python3_kernel(path: Path) -> None:
    nb = _load(path)
    assert nb["metadata"]["kernelspec"]["name"] == "python3"
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, path


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_colab_badge_then_colab_only_install_cell(path: Path) -> None:
    cells = _load(path)["cells"]
    badge, install = "".join(cells[0]["source"]), "".join(cells[1]["source"])
    assert cells[0]["cell_type"] == "markdown"
    assert "colab.research.google.com" in badge and path.name in badge
    assert cells[1]["cell_type"] == "code"
    assert 'if "google.colab" in sys.modules:' in install


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_parameters_cell_has_plain_values_including_quick_and_seed(path: Path) -> None:
    params = parameters_cell(path)
    for name in ("quick", "output_dir"):
        assert name in params, f"{path.name}: parameter {name!r} missing"
    # a single run's seed, or (notebooks 04-05, one run per entry of `seeds`) the data's
    assert "seed" in params or "data_seed" in params, f"{path.name}: no seed parameter"
    assert params["quick"] is False, "notebooks default to the full (non-quick) setting"
