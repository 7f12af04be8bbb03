"""Every numbered notebook is a jupytext pair, in sync: NN_name.py beside NN_name.ipynb.

The ``.py`` (py:percent) is the file people edit; ``make notebooks`` regenerates the
``.ipynb`` from it. A pair is in sync when both hold the same cells: same types, same
sources, same tags (the ``parameters`` tag included).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jupytext
import pytest

from fer_utils.runs.notebooks import NOTEBOOK_DIR, list_notebooks

NOTEBOOKS = list_notebooks()
#: The experiment notebooks the sweeps run (not part of the numbered course).
EXPERIMENTS = sorted((NOTEBOOK_DIR / "experiments").glob("*.ipynb"))
SYNC_HINT = "edit the .py and run `make notebooks`"


def _cells(nb: dict) -> list[tuple[str, str, list[str]]]:
    """(cell type, source, tags) of each cell, sources as single strings."""
    out = []
    for cell in nb["cells"]:
        source = cell["source"]
        source = "".join(source) if isinstance(source, list) else source
        out.append((cell["cell_type"], source, list(cell.get("metadata", {}).get("tags", []))))
    return out


def pair_difference(ipynb: Path, py: Path | None = None) -> str | None:
    """Why the pair ``ipynb`` / ``py`` is out of sync, or ``None`` when it is in sync.

    ``py`` defaults to the ``.py`` beside ``ipynb``. The message names the notebook and
    the first differing cell (0-based index, as in the ``.ipynb``).
    """
    py = ipynb.with_suffix(".py") if py is None else py
    name = ipynb.name
    if not py.is_file():
        return f"{name}: its jupytext source {py.name} is missing ({SYNC_HINT})"
    nb_cells = _cells(json.loads(ipynb.read_text(encoding="utf-8")))
    py_cells = _cells(jupytext.read(py))
    for i, (a, b) in enumerate(zip(nb_cells, py_cells, strict=False)):
        if a != b:
            what = "type" if a[0] != b[0] else "source" if a[1] != b[1] else "tags"
            return (
                f"{name}: cell {i} differs from {py.name} in its {what} "
                f"(.ipynb {a[0]} starting {a[1][:60]!r}, .py {b[0]} starting {b[1][:60]!r}); "
                f"{SYNC_HINT}"
            )
    if len(nb_cells) != len(py_cells):
        i = min(len(nb_cells), len(py_cells))
        return (
            f"{name}: cell {i} differs: the .ipynb has {len(nb_cells)} cells, "
            f"{py.name} has {len(py_cells)}; {SYNC_HINT}"
        )
    return None


def _has_parameters_cell(cells: list[tuple[str, str, list[str]]]) -> bool:
    return any(kind == "code" and "parameters" in tags for kind, _, tags in cells)


def test_there_are_notebooks() -> None:
    assert NOTEBOOKS, "no numbered notebooks found in notebooks/"


@pytest.mark.parametrize("path", NOTEBOOKS + EXPERIMENTS, ids=lambda p: p.name)
def test_pair_is_in_sync(path: Path) -> None:
    difference = pair_difference(path)
    assert difference is None, difference


@pytest.mark.parametrize("path", NOTEBOOKS + EXPERIMENTS, ids=lambda p: p.name)
def test_parameters_tag_in_both_files(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    assert _has_parameters_cell(_cells(nb)), f"{path.name}: no code cell tagged 'parameters'"
    py = path.with_suffix(".py")
    assert _has_parameters_cell(_cells(jupytext.read(py))), (
        f"{py.name}: no cell tagged 'parameters' (`# %% tags=[\"parameters\"]`)"
    )


@pytest.mark.parametrize("path", NOTEBOOKS + EXPERIMENTS, ids=lambda p: p.name)
def test_pairing_metadata_and_python3_kernel(path: Path) -> None:
    nb = json.loads(path.read_text(encoding="utf-8"))
    # the pairing lets JupyterLab (jupytext's extension) save both files together
    assert nb["metadata"].get("jupytext", {}).get("formats") == "ipynb,py:percent", path.name
    py_nb = jupytext.read(path.with_suffix(".py"))
    assert py_nb.metadata["kernelspec"]["name"] == "python3", path.name


def test_every_numbered_source_has_its_notebook() -> None:
    orphans = [
        p.name
        for p in sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.py"))
        if not p.with_suffix(".ipynb").is_file()
    ]
    assert not orphans, f"sources without a .ipynb (run `make notebooks`): {orphans}"


def _copy_pair(tmp_path: Path) -> tuple[Path, Path]:
    source = NOTEBOOKS[0]
    ipynb = Path(shutil.copy(source, tmp_path / source.name))
    py = Path(shutil.copy(source.with_suffix(".py"), tmp_path / source.with_suffix(".py").name))
    return ipynb, py


def test_checker_accepts_an_unchanged_copy(tmp_path: Path) -> None:
    ipynb, py = _copy_pair(tmp_path)
    assert pair_difference(ipynb, py) is None


def test_checker_reports_an_edited_source(tmp_path: Path) -> None:
    ipynb, py = _copy_pair(tmp_path)
    nb = jupytext.read(py)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    nb.cells[index].source += "\nextra = 1"
    jupytext.write(nb, py, fmt="py:percent")
    difference = pair_difference(ipynb, py)
    assert difference is not None
    assert ipynb.name in difference and f"cell {index} " in difference and "source" in difference


def test_checker_reports_a_dropped_tag_and_an_added_cell(tmp_path: Path) -> None:
    ipynb, py = _copy_pair(tmp_path)
    nb = jupytext.read(py)
    index = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    del nb.cells[index].metadata["tags"]
    jupytext.write(nb, py, fmt="py:percent")
    assert f"cell {index} differs from {py.name} in its tags" in pair_difference(ipynb, py)

    nb = jupytext.read(ipynb)
    nb.cells.append(jupytext.reads("# %% [markdown]\n# one more\n", fmt="py:percent").cells[0])
    jupytext.write(nb, py, fmt="py:percent")
    assert f"cell {len(nb.cells) - 1} differs" in pair_difference(ipynb, py)


def test_checker_reports_a_missing_source(tmp_path: Path) -> None:
    ipynb, py = _copy_pair(tmp_path)
    py.unlink()
    difference = pair_difference(ipynb)
    assert difference is not None and py.name in difference and "missing" in difference
