"""What the notebook builders (``tools/build_nbNN.py``) share: the opening cells and the writer.

Every notebook opens with a Colab badge and a Colab-only install cell, has one cell
tagged ``parameters``, names the ``python3`` kernel and is committed without outputs
(``tests/test_notebook_format.py`` checks all of this). A builder lists its cells as
``(kind, source)`` or ``(kind, cell_id, source)`` tuples, kind being ``"md"``,
``"code"`` or ``"params"``, and calls :func:`write`. Cell ids are stable (given, or
``<prefix>-NN``), so rebuilding an unchanged builder leaves the notebook unchanged.
"""

# Notebook text: the Colab cell has long lines, as in the notebooks.
# ruff: noqa: E501

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOKS = Path(__file__).resolve().parent.parent / "notebooks"

COLAB_INSTALL = """\
# Runs only on Google Colab: fetch the repository and install fer_utils into the
# Colab runtime (which already has matched torch and torchvision, so --no-deps keeps them).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        ["git", "clone", "--depth", "1", "https://github.com/fer-replication/fer-replication", "/content/fer-replication"],
        check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "/content/fer-replication"],
        check=True,
    )
    sys.path.insert(0, "/content/fer-replication")"""


def badge(name: str) -> str:
    """The markdown of the 'Open in Colab' badge for ``notebooks/<name>``."""
    return (
        "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
        f"(https://colab.research.google.com/github/fer-replication/fer-replication/blob/main/"
        f"notebooks/{name})"
    )


def make_cells(spec: Sequence[tuple[str, ...]], prefix: str) -> list[nbformat.NotebookNode]:
    """Notebook cells from ``(kind, source)`` or ``(kind, cell_id, source)`` tuples."""
    out = []
    for i, item in enumerate(spec):
        kind, cell_id, source = item if len(item) == 3 else (item[0], f"{prefix}-{i:02d}", item[1])
        if kind == "md":
            out.append(new_markdown_cell(source, id=cell_id))
        else:
            metadata = {"tags": ["parameters"]} if kind == "params" else {}
            out.append(new_code_cell(source, id=cell_id, metadata=metadata))
    return out


def build(spec: Sequence[tuple[str, ...]], prefix: str) -> nbformat.NotebookNode:
    """The complete notebook (no outputs, python3 kernel), validated."""
    nb = new_notebook(cells=make_cells(spec, prefix))
    nb.metadata = {
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    nbformat.validate(nb)
    return nb


def write(spec: Sequence[tuple[str, ...]], name: str, prefix: str) -> Path:
    """Build the notebook and write it to ``notebooks/<name>``; return the path."""
    target = NOTEBOOKS / name
    nbformat.write(build(spec, prefix), target)
    print(f"wrote {target}")
    return target
