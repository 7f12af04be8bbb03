"""Docstrings tell the truth: "Introduced in notebook NN" only where notebook NN uses the name.

Every public function, class and method of ``fer_utils`` whose docstring says it is
introduced in a notebook must appear (as a word) in that notebook's code; a module whose
docstring says so must be imported by that notebook. The notebooks' code is read from
their jupytext sources (``notebooks/NN_name.py``), markdown cells excluded.
"""

from __future__ import annotations

import ast
import re

import pytest

from fer_utils.provenance import REPO_ROOT

PACKAGE = REPO_ROOT / "fer_utils"
NOTEBOOKS = REPO_ROOT / "notebooks"
CLAIM = re.compile(r"Introduced\s+in\s+notebooks?\s+((?:\d\d)(?:(?:,\s*|\s+and\s+)\d\d)*)")


def notebook_code(number: str) -> str:
    """The code cells of notebook ``number`` (its jupytext source without markdown)."""
    (path,) = NOTEBOOKS.glob(f"{number}_*.py")
    cells = re.split(r"^# %%", path.read_text(encoding="utf-8"), flags=re.M)
    return "\n".join(c for c in cells if not c.startswith(" [markdown]"))


def claims(docstring: str | None) -> list[str]:
    """The notebook numbers a docstring's "Introduced in notebook(s) ..." names."""
    if not docstring:
        return []
    return [n for m in CLAIM.finditer(docstring) for n in re.findall(r"\d\d", m.group(1))]


def all_claims() -> list[tuple[str, str, str, str]]:
    """``(module, kind, name, notebook)`` for every claim in the package."""
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = ".".join(path.relative_to(REPO_ROOT).with_suffix("").parts)
        module = module.removesuffix(".__init__")
        tree = ast.parse(path.read_text(encoding="utf-8"))
        out += [(module, "module", module, nb) for nb in claims(ast.get_docstring(tree))]
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.ClassDef | ast.AsyncFunctionDef):
                if node.name.startswith("_"):
                    continue
                out += [(module, "name", node.name, nb) for nb in claims(ast.get_docstring(node))]
    return out


CLAIMS = all_claims()


def test_the_checker_finds_claims() -> None:
    assert claims("Introduced in notebook 04 (training).") == ["04"]
    assert claims("Introduced in notebooks 04 and 05.") == ["04", "05"]
    assert claims("Introduced in notebook 05; explained in notebook 06.") == ["05"]
    assert len(CLAIMS) > 50


@pytest.mark.parametrize(("module", "kind", "name", "notebook"), CLAIMS,
                         ids=[f"{c[0]}:{c[2]}@{c[3]}" for c in CLAIMS])
def test_introduced_in_notebook_is_true(module: str, kind: str, name: str, notebook: str) -> None:
    code = notebook_code(notebook)
    if kind == "module":
        used = re.search(rf"\b{re.escape(module)}\b", code) or re.search(
            rf"from\s+{re.escape(module.rsplit('.', 1)[0])}\s+import\s+[^\n]*\b"
            rf"{re.escape(module.rsplit('.', 1)[1])}\b",
            code,
        )
    else:
        used = re.search(rf"\b{re.escape(name)}\b", code)
    assert used, f"{module}: {name} claims 'Introduced in notebook {notebook}', which never uses it"
