"""Running notebooks as a pipeline: ordering, parameter injection, run folders.

Introduced in the README's main command (``make run``), which executes every notebook
with papermill; the test command uses :func:`prepare_quick_copies` so that nbval runs
each notebook in its quick mode.
"""

from __future__ import annotations

import ast
import json
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from fer_utils.provenance import REPO_ROOT, run_info
from fer_utils.runs.record import RESULT_FILE

NOTEBOOK_DIR: Path = REPO_ROOT / "notebooks"
KERNEL_NAME = "python3"


def list_notebooks(folder: Path = NOTEBOOK_DIR) -> list[Path]:
    """The numbered notebooks (``NN_name.ipynb``) in ``folder``, in their order."""
    return sorted(p for p in folder.glob("[0-9][0-9]_*.ipynb") if p.is_file())


def parameters_cell(path: Path) -> dict[str, Any]:
    """The plain assignments of a notebook's cell tagged ``parameters``, as a dict.

    Raises ``ValueError`` naming the notebook when there is no such cell, or when the cell
    holds anything but ``name = literal`` assignments (papermill needs plain values).
    """
    nb = json.loads(Path(path).read_text(encoding="utf-8"))
    for cell in nb.get("cells", []):
        if "parameters" in cell.get("metadata", {}).get("tags", []):
            source = "".join(cell["source"])
            values: dict[str, Any] = {}
            for node in ast.parse(source).body:
                if not (
                    isinstance(node, ast.Assign)
                    and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                ):
                    raise ValueError(
                        f"{path}: the parameters cell must hold only `name = value` lines, "
                        f"found {ast.unparse(node)!r}"
                    )
                try:
                    values[node.targets[0].id] = ast.literal_eval(node.value)
                except ValueError as err:
                    raise ValueError(
                        f"{path}: parameter {node.targets[0].id!r} must be a literal value, "
                        f"found {ast.unparse(node.value)!r}"
                    ) from err
            return values
    raise ValueError(f"{path}: no cell tagged 'parameters'")


def check_declared(notebooks: Iterable[Path], parameters: dict[str, Any]) -> None:
    """Refuse parameters that none of ``notebooks`` declares (a typo would run silently).

    Raises ``ValueError`` naming the unknown parameters and every name the notebooks do
    declare, before anything runs. ``output_dir`` is always allowed (the runner sets it).
    """
    declared: set[str] = set()
    for nb in notebooks:
        declared |= set(parameters_cell(nb))
    unknown = sorted(set(parameters) - declared - {"output_dir"})
    if unknown:
        raise ValueError(
            f"no selected notebook declares the parameter(s) {', '.join(unknown)}; "
            f"they declare: {', '.join(sorted(declared))}"
        )


def accepted(path: Path, parameters: dict[str, Any]) -> dict[str, Any]:
    """The subset of ``parameters`` that the notebook at ``path`` declares."""
    declared = parameters_cell(path)
    return {k: v for k, v in parameters.items() if k in declared}


def prepare_quick_copies(dest: Path, notebooks: Iterable[Path] | None = None) -> list[Path]:
    """Write copies of the notebooks with ``quick = True`` injected, for nbval.

    The copies carry papermill's injected-parameters cell after the ``parameters`` cell,
    exactly as ``papermill -p quick True`` would run them. Returns the written paths.
    """
    import papermill as pm

    dest.mkdir(parents=True, exist_ok=True)
    for old in dest.glob("*.ipynb"):
        old.unlink()
    written = []
    for nb in notebooks if notebooks is not None else list_notebooks():
        out = dest / nb.name
        pm.execute_notebook(
            str(nb),
            str(out),
            parameters=accepted(nb, {"quick": True}),
            prepare_only=True,
            kernel_name=KERNEL_NAME,
            log_output=False,
            progress_bar=False,
        )
        written.append(out)
    return written


def run_notebooks(
    run_dir: Path,
    parameters: dict[str, Any] | None = None,
    notebooks: Iterable[Path] | None = None,
) -> dict[str, Any]:
    """Execute notebooks in order with papermill, writing executed copies to ``run_dir``.

    Each notebook gets the ``parameters`` it declares, plus ``output_dir`` pointing at its
    own sub-folder of ``run_dir`` for result files. A failing notebook is recorded and the
    next one still runs. Progress bars stay out of the executed copies: the kernels inherit
    ``TQDM_DISABLE=1`` unless the caller's environment sets it. Returns the manifest, which
    is also saved as ``run_dir/manifest.json`` (provenance, per-notebook status and
    duration, and ``result``: the notebook's ``result.json`` relative to ``run_dir``, when
    the notebook wrote one; see :mod:`fer_utils.runs.record`).
    """
    import papermill as pm

    nbs = list(notebooks) if notebooks is not None else list_notebooks()
    check_declared(nbs, dict(parameters or {}))
    os.environ.setdefault("TQDM_DISABLE", "1")  # inherited by the kernels papermill starts
    run_dir.mkdir(parents=True, exist_ok=True)
    params = dict(parameters or {})
    manifest: dict[str, Any] = {"provenance": run_info(), "parameters": params, "notebooks": []}
    for nb in nbs:
        out_dir = run_dir / nb.stem
        nb_params = accepted(nb, {**params, "output_dir": str(out_dir)})
        start = time.perf_counter()
        entry: dict[str, Any] = {"notebook": nb.name, "parameters": nb_params}
        try:
            pm.execute_notebook(
                str(nb),
                str(run_dir / nb.name),
                parameters=nb_params,
                kernel_name=KERNEL_NAME,
                cwd=str(nb.parent),
                progress_bar=False,
            )
            entry["status"] = "ok"
        except Exception as err:  # recorded; the next notebook still runs
            entry["status"] = "failed"
            entry["error"] = f"{type(err).__name__}: {str(err).strip()[-2000:]}"
        entry["seconds"] = round(time.perf_counter() - start, 1)
        if (out_dir / RESULT_FILE).is_file():
            entry["result"] = (out_dir / RESULT_FILE).relative_to(run_dir).as_posix()
        manifest["notebooks"].append(entry)
        (run_dir / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        print(f"{nb.name}: {entry['status']} in {entry['seconds']} s", flush=True)
    return manifest
