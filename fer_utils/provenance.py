"""Where a result came from: git commit, device, library versions, time.

Every notebook's result files and the results scripts record it. Every results table and
every run folder records this, so that any number in the repository can be traced back to
the code and machine that made it.
"""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

#: The repository root (the folder holding ``fer_utils/``).
REPO_ROOT: Path = Path(__file__).resolve().parent.parent


#: Tracked folders whose changes do not make the code ``+dirty``: the result tables that
#: runs write (a sweep rewrites them while its sibling sweeps are still running).
OUTPUT_FOLDERS: tuple[str, ...] = ("results",)


def git_commit(short: bool = False, root: Path = REPO_ROOT) -> str:
    """The git commit of the repository at ``root``, with ``+dirty`` when tracked files
    outside :data:`OUTPUT_FOLDERS` differ from it.

    Returns ``"unknown"`` outside a git checkout.
    """
    outputs = [f":(exclude){folder}" for folder in OUTPUT_FOLDERS]
    try:
        rev = subprocess.run(
            ["git", "rev-parse", "--short" if short else "--verify", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "--", ".", *outputs],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return rev + ("+dirty" if dirty else "")


def device_name() -> str:
    """A short description of the compute device torch would use (GPU name or CPU).
    """
    import torch

    if torch.cuda.is_available():
        return f"cuda:{torch.cuda.get_device_name(0)}"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    cpu = cpu_model() or platform.processor() or platform.machine()
    return f"cpu:{cpu} x{os.cpu_count()} threads={torch.get_num_threads()}"


def cpu_model() -> str:
    """The processor's model name from ``/proc/cpuinfo`` (e.g. ``"AMD EPYC"``), or ``""``
    where there is none (not Linux). Part of :func:`device_name`: float results on a
    CPU can differ in the last digits between processors, and after 100 epochs that
    can move a fold's accuracy by an image or two."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "model name" and value.strip():
            return " ".join(value.split())
    return ""


def run_info() -> dict[str, Any]:
    """A dictionary describing this run: time, git commit, device and versions.

    Stored next to every result file.
    """
    import numpy
    import torch

    return {
        "time_utc": datetime.now(UTC).isoformat(timespec="seconds"),
        "git_commit": git_commit(),
        "device": device_name(),
        "python": sys.version.split()[0],
        "torch": torch.__version__,
        "numpy": numpy.__version__,
        "platform": platform.platform(),
    }
