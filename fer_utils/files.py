"""Writing files so that a crash never leaves half of one: temporary file, fsync, rename.

Every file the package writes that a user would miss (checkpoints, results tables, run
manifests) goes through :func:`atomic_write`: the content is written to a temporary file
in the same folder, flushed to disk, and renamed over the target with ``os.replace``,
which is atomic on POSIX and Windows. A kill, a full disk or an exception mid-write
leaves the previous file as it was, and the temporary file is removed.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO


def atomic_write(path: str | Path, write: Callable[[BinaryIO], None]) -> Path:
    """Call ``write(file)`` on a temporary file beside ``path``, then rename it to ``path``.

    Folders are created as needed; returns ``path``. Used by the checkpoints of
    :mod:`fer_utils.training.checkpoint` and the results tables of
    :mod:`fer_utils.runs.results`.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def atomic_write_text(text: str, path: str | Path) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically; see :func:`atomic_write`."""
    return atomic_write(path, lambda fh: fh.write(text.encode("utf-8")))
