"""Reading image sources fast and only once: an on-disk cache of decoded arrays.

Notebook 01 (data exploration) uses it through :func:`fer_utils.data.load_dataset`. Decoding
a large dataset (FER+ has 35,710 PNG files) takes tens of seconds; every loader therefore
decodes its images through :func:`cached_arrays`, which stores the decoded arrays (images,
and the pixel digests used to find duplicates) as ONE compressed ``.npz`` file in a cache
folder and reuses it on the next load.

* Cache folder: ``cache_dir`` if given, else ``$FER_CACHE_DIR``, else
  ``~/.cache/fer_utils`` (:func:`default_cache_dir`). Files are named
  ``<loader>-<24 hex digits of the key>.npz``.
* Cache key: a SHA-256 hash of the loader name, its version, the options that change the
  decoded arrays, every image file's path, size, modification time and status-change
  time (``ctime``, which no archive tool can restore: a re-extracted file always gets a
  new one), and the CONTENT (SHA-256) of the loader's label files (``label.csv``,
  ``ratings_60.txt``, ...; they are small). Editing, adding, removing or re-extracting a
  source file therefore gives a new key, and the old file is simply not used again.
* What the key cannot see: an image file rewritten in place with the same size while
  its modification time is restored, on a file system without ``ctime``. Image
  contents are not hashed on every load (35,710 files); instead each cache file
  records a content digest of all its sources, which :func:`verify_cache` recomputes.
* Writes are atomic (a temporary file in the same folder, then a rename), so a killed
  run never leaves a half-written cache file under the final name. A cache file that
  cannot be read, or whose stored key differs, is rebuilt, never trusted.

Checking and clearing the cache (only files named like cache files are touched)::

    python -m fer_utils.data.cache --list             # every cache file, size, loader
    python -m fer_utils.data.cache --verify           # re-hash every source file
    python -m fer_utils.data.cache --verify --prune   # ... and delete stale entries
    python -m fer_utils.data.cache --clear [--loader ferplus-folders]
    python -m fer_utils.data.cache --dir /some/folder --clear

or from Python: :func:`list_cache`, :func:`verify_cache`, :func:`clear_cache`. Loading
with ``cache=False`` bypasses the cache entirely.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from fer_utils.data.io import logger

#: Bumped whenever the layout of a cache file or its key changes; part of every key.
CACHE_FORMAT = 2

#: Names of the cache files this module writes (and the only ones it ever deletes).
_CACHE_NAME = re.compile(r"^[A-Za-z0-9_.+-]+-[0-9a-f]{24}\.npz$")
_TEMP_NAME = re.compile(r"^[A-Za-z0-9_.+-]+-[0-9a-f]{24}\.npz\..+\.tmp$")
_KEY, _SOURCES = "__key__", "__sources__"

# --------------------------------------------------------------------------- keys


def default_cache_dir() -> Path:
    """The cache folder: ``$FER_CACHE_DIR`` when set, else ``~/.cache/fer_utils``.
    """
    env = os.environ.get("FER_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "fer_utils"


def _folder(cache_dir: str | os.PathLike[str] | None) -> Path:
    """``cache_dir`` as a path, or :func:`default_cache_dir`."""
    return Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir()


def file_signature(paths: Sequence[str | os.PathLike[str]]) -> str:
    """A SHA-256 hex digest of each file's absolute path, size, mtime and ctime.

    Any edited, added, removed, moved or re-extracted file
    changes it (``ctime`` is set by the system on every write or re-creation and cannot
    be restored by archive tools, unlike ``mtime``).
    """
    h = hashlib.sha256()
    for p in paths:
        st = os.stat(p)
        h.update(
            f"{os.path.abspath(p)}\t{st.st_size}\t{st.st_mtime_ns}\t{st.st_ctime_ns}\n".encode()
        )
    return h.hexdigest()


def content_digest(paths: Sequence[str | os.PathLike[str]]) -> str:
    """A SHA-256 hex digest of the bytes of every file in ``paths`` (in order).

    Used for the (small) label files in every cache key, and
    by :func:`verify_cache` for all source files.
    """
    h = hashlib.sha256()
    for p in paths:
        h.update(f"{os.path.abspath(p)}\n".encode())
        with open(p, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
        h.update(b"\n")
    return h.hexdigest()


def _head(loader: str, version: int, options: Mapping[str, Any]) -> str:
    """The JSON text of the non-file part of a key."""
    return json.dumps(
        {"format": CACHE_FORMAT, "loader": loader, "version": version, "options": options},
        sort_keys=True,
        default=str,
    )


def _key(
    head: str,
    files: Sequence[str | os.PathLike[str]],
    label_files: Sequence[str | os.PathLike[str]],
) -> str:
    """The key from its head, the image files' signature and the label files' content."""
    labels = content_digest(label_files) if label_files else ""
    return hashlib.sha256((head + file_signature(files) + labels).encode()).hexdigest()


def cache_key(
    loader: str,
    version: int,
    options: Mapping[str, Any],
    files: Sequence[str | os.PathLike[str]],
    label_files: Sequence[str | os.PathLike[str]] = (),
) -> str:
    """The cache key of one decoding job: hash of loader, version, options and files.

    ``files`` enter by path, size and times
    (:func:`file_signature`), ``label_files`` by their content (:func:`content_digest`).
    """
    return _key(_head(loader, version, options), files, label_files)


# --------------------------------------------------------------------------- files


def _read_cache(path: Path, key: str) -> dict[str, np.ndarray] | None:
    """The arrays in cache file ``path``, or ``None`` when absent, stale or corrupt."""
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as data:
            if _KEY not in data.files or str(data[_KEY]) != key:
                logger.warning("cache file %s does not match its key; rebuilding it", path)
                return None
            # reading every member checks its CRC, so a damaged file is caught here
            arrays = {name: data[name] for name in data.files if name != _KEY}
            arrays.pop(_SOURCES, None)
            return arrays
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        logger.warning("cache file %s is unreadable (%s); rebuilding it", path, err)
        return None


def _write_cache(
    path: Path, key: str, arrays: Mapping[str, np.ndarray], sources: Mapping[str, Any]
) -> bool:
    """Write ``arrays`` to ``path`` atomically; return False (and warn) when impossible."""
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=path.parent, prefix=path.name + ".", suffix=".tmp", delete=False
        ) as tmp:
            tmp_name = tmp.name
            extra = {_KEY: np.array(key), _SOURCES: np.array(json.dumps(sources))}
            np.savez_compressed(tmp, **extra, **arrays)
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
    *,
    label_files: Sequence[str | os.PathLike[str]] = (),
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Return the arrays ``build()`` makes, from the cache when a valid copy is there.

    ``files`` are the source files the arrays are decoded
    from and ``options`` the settings that change them; both go into the cache key, and
    so does the content of ``label_files`` (the loader's small label tables). The
    second return value describes what happened: ``{"cache": path or None,
    "cache_hit": bool}``, which loaders copy into ``FERDataset.info``. A written cache
    file also records its sources and a digest of their content, for
    :func:`verify_cache`.
    """
    if not cache:
        return build(), {"cache": None, "cache_hit": False}
    head = _head(loader, version, options)
    key = _key(head, files, label_files)
    path = _folder(cache_dir) / f"{loader}-{key[:24]}.npz"
    arrays = _read_cache(path, key)
    if arrays is not None:
        logger.info("%s: loaded decoded images from cache %s", loader, path)
        return arrays, {"cache": str(path), "cache_hit": True}
    arrays = build()
    all_files = [*files, *label_files]
    sources = {
        "head": head,
        "files": [os.path.abspath(p) for p in files],
        "label_files": [os.path.abspath(p) for p in label_files],
        "content_sha256": content_digest(all_files) if all_files else "",
    }
    written = _write_cache(path, key, arrays, sources)
    return arrays, {"cache": str(path) if written else None, "cache_hit": False}


# --------------------------------------------------------------------------- maintenance


def _cache_files(cache_dir: str | os.PathLike[str] | None) -> list[Path]:
    """The cache files (by name) in the cache folder, sorted; none when it is absent."""
    folder = _folder(cache_dir)
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and _CACHE_NAME.match(p.name))


def list_cache(cache_dir: str | os.PathLike[str] | None = None) -> list[dict[str, Any]]:
    """One ``{"path", "loader", "bytes"}`` entry per cache file in the cache folder.

    ``cache_dir`` defaults to :func:`default_cache_dir`.
    """
    return [
        {"path": str(p), "loader": p.name.rsplit("-", 1)[0], "bytes": p.stat().st_size}
        for p in _cache_files(cache_dir)
    ]


def _entry_status(path: Path) -> str:
    """``"ok"`` or ``"stale: <why>"`` / ``"corrupt: <why>"`` for one cache file."""
    try:
        with np.load(path, allow_pickle=False) as data:
            for name in data.files:  # reading every member checks its CRC
                _ = data[name]
            if _KEY not in data.files or _SOURCES not in data.files:
                return "stale: written by an older version (no source record)"
            key, sources = str(data[_KEY]), json.loads(str(data[_SOURCES]))
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile, zlib.error) as err:
        return f"corrupt: {err}"
    files, labels = sources["files"], sources["label_files"]
    missing = [p for p in [*files, *labels] if not os.path.isfile(p)]
    if missing:
        return f"stale: source file {missing[0]} is gone ({len(missing)} missing)"
    if _key(sources["head"], files, labels) != key:
        return "stale: a source file changed (size, times or label content)"
    if [*files, *labels] and content_digest([*files, *labels]) != sources["content_sha256"]:
        return "stale: a source file's content changed (same size and times)"
    return "ok"


def verify_cache(
    cache_dir: str | os.PathLike[str] | None = None, prune: bool = False
) -> dict[str, str]:
    """Check every cache file against its sources: ``{path: status}``.

    A file is ``"ok"`` when it reads back intact, its key
    still matches its sources and the recorded content digest of ALL its source files
    (images included) still matches what is on disk; otherwise the status starts with
    ``"stale:"`` or ``"corrupt:"`` and says why. This reads every source file, so it is
    the check to run after replacing files in a way that keeps their size and times.
    With ``prune`` the entries that are not ok are deleted.
    """
    report = {}
    for path in _cache_files(cache_dir):
        status = _entry_status(path)
        report[str(path)] = status
        if prune and status != "ok":
            path.unlink(missing_ok=True)
            logger.warning("removed cache file %s (%s)", path, status)
    return report


def clear_cache(
    cache_dir: str | os.PathLike[str] | None = None, loader: str | None = None
) -> list[Path]:
    """Delete the cache files (all, or those of one ``loader``); return what was deleted.

    Only files named like cache files
    (``<loader>-<24 hex>.npz``, and leftover ``.tmp`` files of interrupted writes) are
    deleted; anything else in the folder is left alone. ``loader`` is the name before
    the key, e.g. ``"ferplus-folders"``, ``"jaffe"``, ``"ckplus-ck48"``.
    """
    folder = _folder(cache_dir)
    if not folder.is_dir():
        return []
    removed = []
    for p in sorted(folder.iterdir()):
        if not p.is_file() or not (_CACHE_NAME.match(p.name) or _TEMP_NAME.match(p.name)):
            continue
        if loader is not None and p.name.split(".npz")[0].rsplit("-", 1)[0] != loader:
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m fer_utils.data.cache --list|--verify|--clear``.

    Returns the exit status: 1 when ``--verify`` found a
    stale or corrupt entry (and ``--prune`` was not given), else 0.
    """
    parser = argparse.ArgumentParser(
        prog="python -m fer_utils.data.cache", description="List, verify or clear the cache."
    )
    parser.add_argument("--dir", help="cache folder (default: $FER_CACHE_DIR or ~/.cache)")
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--list", action="store_true", help="list the cache files")
    action.add_argument("--verify", action="store_true", help="re-hash every source file")
    action.add_argument("--clear", action="store_true", help="delete the cache files")
    parser.add_argument("--prune", action="store_true", help="with --verify: delete stale")
    parser.add_argument("--loader", help="with --clear: only this loader's files")
    args = parser.parse_args(argv)
    folder = _folder(args.dir)
    if args.list:
        entries = list_cache(folder)
        for e in entries:
            print(f"{e['bytes']:>12,d}  {e['loader']:<20s} {e['path']}")
        print(f"{len(entries)} cache file(s) in {folder}")
        return 0
    if args.verify:
        report = verify_cache(folder, prune=args.prune)
        for path, status in report.items():
            print(f"{status:<10s} {path}" if status == "ok" else f"{path}: {status}")
        bad = sum(s != "ok" for s in report.values())
        print(
            f"{len(report)} cache file(s) in {folder}, {bad} not ok"
            + (" (deleted)" if args.prune and bad else "")
        )
        return 1 if bad and not args.prune else 0
    removed = clear_cache(folder, args.loader)
    print(f"removed {len(removed)} cache file(s) from {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
