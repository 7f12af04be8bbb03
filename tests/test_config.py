"""pyproject.toml, environment.yml and binder/requirements.txt list the same dependencies."""

from __future__ import annotations

import re
import tomllib

import yaml

from fer_utils.provenance import REPO_ROOT

# conda-forge names that differ from the PyPI names
CONDA_TO_PYPI = {"pytorch": "torch"}
REQ = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*$")


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _parse(lines: list[str]) -> dict[str, str]:
    """Map normalised package name -> version specifier (spaces removed)."""
    out = {}
    for line in lines:
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        m = REQ.match(line)
        assert m, f"cannot parse requirement {line!r}"
        name = CONDA_TO_PYPI.get(m.group(1), m.group(1))
        out[_norm(name)] = m.group(2).replace(" ", "")
    return out


def _pyproject() -> tuple[dict[str, str], dict[str, str]]:
    data = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    project = data["project"]
    return _parse(project["dependencies"]), _parse(project["optional-dependencies"]["dev"])


def test_binder_matches_pyproject_runtime_dependencies() -> None:
    runtime, _ = _pyproject()
    binder = _parse((REPO_ROOT / "binder" / "requirements.txt").read_text().splitlines())
    assert binder == runtime


def test_environment_yml_matches_pyproject_runtime_and_dev_dependencies() -> None:
    runtime, dev = _pyproject()
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    assert env["channels"] == ["conda-forge"]
    conda = [d for d in env["dependencies"] if isinstance(d, str)]
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section[-1] == "-e ."
    parsed = _parse([d for d in conda if not d.startswith(("python", "pip"))])
    from_pip = _parse(pip_section[:-1])
    assert not set(parsed) & set(from_pip), "a package is listed for both conda and pip"
    assert {**parsed, **from_pip} == {**runtime, **dev}


def test_torch_and_torchvision_are_bounded_as_a_pair() -> None:
    runtime, _ = _pyproject()
    # both bounded above, so a newer torchvision can never be paired with another torch line
    assert "<" in runtime["torch"] and "<" in runtime["torchvision"]


def test_binder_installs_cpu_wheels() -> None:
    text = (REPO_ROOT / "binder" / "requirements.txt").read_text()
    assert "download.pytorch.org/whl/cpu" in text


def test_design_card_tools_are_runtime_dependencies() -> None:
    # JupyterLab (make lab), widgets for tqdm.auto bars, seaborn, and jupytext (the
    # notebooks' .py sources, make notebooks) are installed with everything else
    runtime, _ = _pyproject()
    missing = [p for p in ("jupyterlab", "ipywidgets", "seaborn", "jupytext") if p not in runtime]
    assert not missing, f"not in [project].dependencies: {missing}"


def test_every_environment_yml_dependency_says_what_needs_it() -> None:
    lines = (REPO_ROOT / "environment.yml").read_text().splitlines()
    start = lines.index("dependencies:")
    entries = [ln for ln in lines[start + 1 :] if re.match(r"^\s+- ", ln)]
    assert entries, "no dependencies found in environment.yml"
    bare = [ln.strip() for ln in entries if ln.strip() != "- pip:" and " # " not in ln]
    assert not bare, f"environment.yml lines without a comment naming their user: {bare}"


def test_the_dask_extra_is_part_of_the_test_environment() -> None:
    # make test installs .[dev]; the sweep tests need what .[dask] installs
    extras = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    dask, dev = _parse(extras["dask"]), _parse(extras["dev"])
    assert dask and all(dev.get(name) == spec for name, spec in dask.items())
