"""Reading image sources fast and only once: thread-pool decoding and an on-disk cache.

Introduced in notebook 01. Decoding a large dataset (FER+ has 35,710 PNG files) takes
tens of seconds; every loader therefore decodes its images through
:func:`cached_arrays`, which stores the decoded arrays as ONE compressed ``.npz`` file in
a cache folder and reuses it on the next load.

* Cache folder: ``cache_dir`` if given, else ``$FER_CACHE_DIR``, else
  ``~/.cache/fer_utils``.
* Cache key: a SHA-256 hash of the loader name, its version, the options that change the
  decoded arrays, and every source file's path, size and modification time. Editing,
  adding or removing a source file therefore gives a new key, and the old file is
  simply not used again.
* Writes are atomic (a temporary file in the same folder, then a rename), so a killed
  run never leaves a half-written cache file under the final name. A cache file that
  cannot be read, or whose stored key differs, is rebuilt, never trusted.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fer_utils.data.io import logger

#: Bumped whenever the layout of a cache file changes; part of every cache key.
CACHE_FORMAT = 1

# --------------------------------------------------------------------------- caching


def default_cache_dir() -> Path:
    """The cache folder: ``$FER_CACHE_DIR`` when set, else ``~/.cache/fer_utils``.

    Introduced in notebook 01.
    """
    env = os.environ.get("FER_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "fer_utils"


def file_signature(paths: Sequence[str | os.PathLike[str]]) -> str:
    """A SHA-256 hex digest of each file's absolute path, size and modification time.

    Introduced in notebook 01. Any edited, added, removed or moved file changes it.
    """
    h = hashlib.sha256()
    for p in paths:
        st = os.stat(p)
        h.update(f"{os.path.abspath(p)}\t{st.st_size}\t{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def cache_key(
    loader: str, version: int, options: Mapping[str, Any], files: Sequence[str | os.PathLike[str]]
) -> str:
    """The cache key of one decoding job: hash of loader, version, options and files.

    Introduced in notebook 01.
    """
    head = json.dumps(
        {"format": CACHE_FORMAT, "loader": loader, "version": version, "options": options},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256((head + file_signature(files)).encode()).hexdigest()


def _read_cache(path: Path, key: str) -> dict[str, np.ndarray] | None:
    """The arrays in cache file ``path``, or ``None`` when absent, stale or corrupt."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if "__key__" not in data.files or str(data["__key__"]) != key:
                logger.warning("cache file %s does not match its key; rebuilding it", path)
                return None
            # reading every member checks its CRC, so a damaged file is caught here
            return {name: data[name] for name in data.files if name != "__key__"}
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        logger.warning("cache file %s is unreadable (%s); rebuilding it", path, err)
        return None


def _write_cache(path: Path, key: str, arrays: Mapping[str, np.ndarray]) -> bool:
    """Write ``arrays`` to ``path`` atomically; return False (and warn) when impossible."""
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=path.name + ".", suffix=".tmp", delete=False
        ) as tmp:
            tmp_name = tmp.name
            np.savez_compressed(tmp, __key__=np.array(key), **arrays)
            tmp.flush()
            os.fsync(tmp.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        return True
    except OSError as err:
        logger.warning("could not write cache file %s (%s); continuing without it", path, err)
        return False
    finally:  # a failed or interrupted write leaves no temporary file behind
        if tmp_name is not None and os.path.exists(tmp_name):
            os.unlink(tmp_name)


def cached_arrays(
    loader: str,
    version: int,
    options: Mapping[str, Any],
    files: Sequence[str | os.PathLike[str]],
    build: Callable[[], dict[str, np.ndarray]],
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Return the arrays ``build()`` makes, from the cache when a valid copy is there.

    Introduced in notebook 01. ``files`` are the source files the arrays are decoded
    from and ``options`` the settings that change them; both go into the cache key. The
    second return value describes what happened: ``{"cache": path or None,
    "cache_hit": bool}``, which loaders copy into ``FERDataset.info``.
    """
    if not cache:
        return build(), {"cache": None, "cache_hit": False}
    key = cache_key(loader, version, options, files)
    folder = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()
    path = folder / f"{loader}-{key[:24]}.npz"
    arrays = _read_cache(path, key)
    if arrays is not None:
        logger.info("%s: loaded decoded images from cache %s", loader, path)
        return arrays, {"cache": str(path), "cache_hit": True}
    arrays = build()
    written = _write_cache(path, key, arrays)
    return arrays, {"cache": str(path) if written else None, "cache_hit": False}
