"""A parameter grid for a notebook: its cells, their folder names, checked before any run.

A grid maps parameter names to lists of values; its cells are the product of the lists
(``{"mix_k": [2, 3], "seed": [0, 1]}`` has four cells). :func:`build_cells` turns a grid
into :class:`Cell` objects and refuses bad input before anything runs: a parameter the
notebook does not declare, an empty value list, or a value the notebook's own
parameter-check cell rejects (each notebook checks its parameters in the first code cell
after its ``parameters`` cell; here that cell is executed once per grid cell, in this
process, without a kernel and without running the rest of the notebook).

Run tooling for :mod:`fer_utils.runs.sweep`; grids also load from YAML or JSON files
(:func:`load_grid`).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import io
import itertools
import json
import re
from dataclasses import dataclass
from pathlib import Path
from types import CodeType
from typing import Any

from IPython.utils.capture import capture_output

from fer_utils.runs.notebooks import parameters_cell

#: Parameters that the sweep itself sets; a grid may not give them.
RESERVED = ("output_dir",)

#: Parameters that say where a cell keeps its files, not what it computes: left out of
#: the cell's hash and name, so the same cell run from another clone or ``--runs-dir``
#: keeps its identity (and its committed rows are still recognised as done).
NOT_HASHED = ("checkpoint_dir",)


class GridError(ValueError):
    """A grid that cannot run: unknown parameter, empty list, or a refused value."""


@dataclass(frozen=True)
class Cell:
    """One point of a grid: the parameters of one notebook execution and its folder name."""

    name: str
    parameters: dict[str, Any]

    @property
    def digest(self) -> str:
        """The hash of all the cell's parameters that ends its name (its identity)."""
        return self.name.rsplit("__", 1)[-1]


def parse_value(text: str) -> Any:
    """A command-line value as a Python literal (``3``, ``0.5``, ``[0, 1]``, ``None``),
    else as the string itself (``plutchik``)."""
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def load_grid(path: str | Path) -> dict[str, list[Any]]:
    """Read a grid from a YAML (``.yaml``/``.yml``) or JSON file: a mapping from parameter
    names to a list of values, or to one value (the same in every cell)."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    if path.suffix in (".yaml", ".yml"):
        import yaml

        data = yaml.safe_load(text)
    else:
        data = json.loads(text)
    if not isinstance(data, dict) or not all(isinstance(k, str) for k in data):
        raise GridError(f"{path}: a grid file must map parameter names to lists of values")
    return {k: v if isinstance(v, list) else [v] for k, v in data.items()}


def _label(value: Any) -> str:
    """A short, file-name-safe text for a parameter value."""
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ""))
    text = re.sub(r"[^A-Za-z0-9.+-]+", "-", str(text)).strip("-")
    return text[:24] or "x"


def cell_name(parameters: dict[str, Any], varying: list[str]) -> str:
    """The folder name of a cell: the varying parameters, readable, and a hash of all.

    The hash covers every parameter (fixed ones too) but those of :data:`NOT_HASHED`, so
    two sweeps into the same folder that differ in a fixed value never share a cell.
    """
    what = {k: v for k, v in parameters.items() if k not in NOT_HASHED}
    digest = hashlib.sha1(
        json.dumps(what, sort_keys=True, default=repr).encode("utf-8")
    ).hexdigest()[:8]
    readable = "_".join(f"{k}={_label(what[k])}" for k in varying if k in what)
    return f"{readable}__{digest}" if readable else digest


def _check_cell_code(notebook: Path) -> tuple[CodeType, CodeType]:
    """A notebook's ``parameters`` cell and the code cell after it, compiled."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    cells = nb.get("cells", [])
    for i, cell in enumerate(cells):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            after = [c for c in cells[i + 1:] if c.get("cell_type") == "code"]
            check = "".join(after[0]["source"]) if after else ""
            return (compile("".join(cell["source"]), f"{notebook.name}:parameters", "exec"),
                    compile(check, f"{notebook.name}:check", "exec"))
    raise GridError(f"{notebook}: no cell tagged 'parameters'")


def check_values(
    notebook: Path, parameters: dict[str, Any],
    code: tuple[CodeType, CodeType] | None = None,
) -> None:
    """Run the notebook's parameter-check cell on ``parameters``, without a kernel.

    Raises :class:`GridError` with the notebook's own message when it refuses a value.
    Output of the cell (its table of values) is discarded. ``code`` is the two cells
    already compiled (:func:`build_cells` reads the notebook once for all its cells).
    """
    params_code, check_code = code or _check_cell_code(notebook)
    namespace: dict[str, Any] = {"__name__": "__sweep_check__"}
    sink = io.StringIO()
    try:
        # capture_output also swallows rich display() output when the sweep runs inside
        # a notebook (e.g. notebook 07's live sweep), not only stdout and stderr
        with (capture_output(), contextlib.redirect_stdout(sink),
              contextlib.redirect_stderr(sink)):
            exec(params_code, namespace)
            namespace.update(parameters)
            exec(check_code, namespace)
    except Exception as err:
        shown = ", ".join(f"{k}={v!r}" for k, v in parameters.items())
        raise GridError(
            f"{notebook.name} refuses the cell ({shown}): {type(err).__name__}: {err}"
        ) from err


def build_cells(
    notebook: str | Path,
    grid: dict[str, list[Any]] | list[dict[str, list[Any]]],
    fixed: dict[str, Any] | None = None,
    check: bool = True,
) -> list[Cell]:
    """The cells of ``grid`` (plus ``fixed`` values shared by all) for ``notebook``.

    Checks everything before any run and raises :class:`GridError` naming the parameter
    and the notebook's accepted parameters. A notebook that runs several seeds per
    execution declares ``seeds`` (a list) and no ``seed``: there ``seed: [0, 1, 2]`` is
    read as ``seeds: [[0], [1], [2]]``, one seed per cell. With ``check`` (the default)
    every cell also passes through the notebook's parameter-check cell.

    ``grid`` may also be a list of grids: the cells are their union, in order, a cell
    with the same parameters as an earlier one counted once (one-at-a-time ablations:
    ``[{"mix_k": [2, 3, 4]}, {"mix_lambda": [0.1, 0.9]}]``; give every grid the same
    parameter names, with the default as a one-value list, for shared cells to match).
    """
    notebook = Path(notebook)
    if not notebook.is_file():
        raise GridError(f"notebook {notebook} does not exist")
    if isinstance(grid, list):
        if not grid or not all(isinstance(g, dict) for g in grid):
            raise GridError("a list of grids must hold at least one dict of value lists")
        union: dict[str, Cell] = {}
        for part in grid:
            for cell in build_cells(notebook, part, fixed, check):
                union.setdefault(cell.digest, cell)
        # names show what varies across the whole union (the hash stays the same)
        keys = list(dict.fromkeys(k for c in union.values() for k in c.parameters))
        varying = [k for k in keys if len({json.dumps(c.parameters.get(k), sort_keys=True,
                                                      default=repr)
                                           for c in union.values()}) > 1]
        # a grid may leave out a parameter another names (the notebook's default holds)
        return [Cell(cell_name(c.parameters, [k for k in varying if k in c.parameters]),
                     c.parameters) for c in union.values()]
    declared = parameters_cell(notebook)
    accepted = ", ".join(sorted(k for k in declared if k not in RESERVED))
    grid = {k: list(v) if isinstance(v, list | tuple) else [v] for k, v in grid.items()}
    for k, v in (fixed or {}).items():
        if k in grid:
            raise GridError(f"parameter {k} is given twice (as a fixed value and in the grid)")
        grid[k] = [v]
    if "seed" in grid and "seed" not in declared and "seeds" in declared:
        if "seeds" in grid:
            raise GridError(f"{notebook.name}: give either seed or seeds, not both")
        grid["seeds"] = [[s] for s in grid.pop("seed")]
    for name, values in grid.items():
        if name in RESERVED:
            raise GridError(f"parameter {name} is set by the sweep (one folder per cell)")
        if name not in declared:
            raise GridError(
                f"{notebook.name} has no parameter {name!r}; it accepts: {accepted}"
            )
        if not values:
            raise GridError(f"parameter {name} has an empty list of values")
        keys = [json.dumps(v, sort_keys=True, default=repr) for v in values]
        if len(set(keys)) != len(keys):
            raise GridError(f"parameter {name} repeats a value: {values!r}")
    names = list(grid)
    varying = [k for k in names if len(grid[k]) > 1]
    code = _check_cell_code(notebook) if check else None
    cells = []
    for combo in itertools.product(*(grid[k] for k in names)):
        params = dict(zip(names, combo, strict=True))
        if code is not None:
            check_values(notebook, params, code)
        cells.append(Cell(cell_name(params, varying), params))
    return cells
