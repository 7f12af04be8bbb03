"""The code base is ruff-clean (package, scripts, tests and notebooks)."""

from __future__ import annotations

import importlib.util
import subprocess
import sys

import pytest

from fer_utils.provenance import REPO_ROOT


@pytest.mark.skipif(importlib.util.find_spec("ruff") is None, reason="ruff is not installed")
def test_ruff_is_clean() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", str(REPO_ROOT)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
