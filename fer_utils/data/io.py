"""Reading dataset files: where a dataset lives, decoding images, format errors.

Notebook 01 (data exploration) uses it through :func:`fer_utils.data.load_dataset`. Every
loader finds its folder with :func:`find_dataset_dir`, decodes its images with
:func:`decode_images_hashed` (a small thread pool: small PNGs decode in about 0.1 ms each,
so the work is cut into chunks), raises :class:`DatasetFormatError` for files that do not
look as expected, and reports what it left out with :func:`report_dropped`.

Every decoded image also gets a digest of its pixels (:func:`pixel_digest`, BLAKE2b of
the decoded 8-bit pixels at their native size, before any resizing), so byte-identical
or pixel-identical copies are found cheaply (:func:`duplicate_groups`,
:func:`resolve_duplicates`).
"""

from __future__ import annotations

import hashlib
import logging
import numbers
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

logger = logging.getLogger("fer_utils.data")

#: Images decoded per thread-pool task (small images decode in ~0.1 ms each, so one task
#: per image would spend more time in the pool than in the decoder).
_CHUNK = 256

#: Bytes of one pixel digest (:func:`pixel_digest`).
DIGEST_SIZE = 16

#: What a folder dataset does with pixel-identical images (the ``duplicates`` option).
DUPLICATE_POLICIES: tuple[str, ...] = ("error", "keep", "drop")

#: Duplicate groups written out in full in an error message (the rest are counted).
_SHOWN_GROUPS = 10


class DatasetFormatError(ValueError):
    """A dataset file exists but does not have the expected layout or content.

    The message always names the file (and line or value)
    and says what was expected.
    """


# --------------------------------------------------------------------------- sources


def find_dataset_dir(
    root: str | os.PathLike[str], name: str, markers: str | Sequence[str], layout: str
) -> Path:
    """Return the dataset folder for ``root``, which may be the folder or its parent.

    ``root`` is accepted when it contains one of ``markers``
    (files or folders every copy of the dataset has); ``root/name`` is tried next, so
    the data root holding several datasets works too. Raises ``FileNotFoundError``
    naming the path and the expected ``layout`` otherwise.
    """
    path = Path(root).expanduser()
    wanted = [markers] if isinstance(markers, str) else list(markers)
    if not path.exists():
        raise FileNotFoundError(f"{name}: dataset root {path} does not exist; expected {layout}")
    for candidate in (path, path / name):
        if any((candidate / m).exists() for m in wanted):
            return candidate
    raise FileNotFoundError(
        f"{name}: neither {path} nor {path / name} holds any of {wanted}; expected {layout}"
    )


def report_dropped(name: str, dropped: Mapping[str, int], where: str | os.PathLike[str]) -> None:
    """Log one warning line summarising what a loader dropped (nothing when empty).

    Loaders never drop anything silently: each count is in
    ``FERDataset.dropped`` and summarised here.
    """
    counts = {k: int(v) for k, v in dropped.items() if v}
    if counts:
        detail = ", ".join(f"{k}={v}" for k, v in counts.items())
        logger.warning(
            "%s: dropped %d item(s) from %s: %s", name, sum(counts.values()), where, detail
        )


def check_image_size(image_size: Any, name: str = "image_size") -> int | None:
    """Return ``image_size`` as an int after checking it is ``None`` or a positive int.

    Loaders call this before reading any file, so a wrong
    value is reported as a wrong parameter (``ValueError`` naming ``name``, the value
    and what is expected), never blamed on a good image file.
    """
    if image_size is None:
        return None
    if isinstance(image_size, bool) or not isinstance(image_size, numbers.Integral):
        raise ValueError(
            f"{name}={image_size!r} is not valid: expected a positive whole number (the side "
            "in pixels of the square images to return) or None to keep the native size"
        )
    if int(image_size) < 1:
        raise ValueError(
            f"{name}={image_size!r} is not valid: expected a positive whole number of pixels "
            "(the side of the square images to return) or None to keep the native size"
        )
    return int(image_size)


def check_choice(name: str, value: Any, allowed: Sequence[str]) -> None:
    """Raise ``ValueError`` naming option ``name`` when ``value`` is not one of ``allowed``.

    Introduced in notebook 01.
    """
    if value not in allowed:
        raise ValueError(f"unknown {name}={value!r}; expected one of {', '.join(allowed)}")


# --------------------------------------------------------------------------- decoding


def _to_mode(im: Image.Image, mode: str) -> Image.Image:
    """Convert a PIL image to ``"L"`` (8-bit gray) or ``"RGB"``.

    Palette images go through their palette, so a palette TIFF with a gray palette gives
    the gray values, not the palette indices. 16-bit images are scaled to 8 bits.
    """
    if im.mode == mode:
        return im
    if im.mode.startswith("I"):
        wide = np.asarray(im, dtype=np.float64)
        im = Image.fromarray(np.clip(np.rint(wide / 257.0), 0, 255).astype(np.uint8))
    return im.convert(mode)


def pixel_digest(pixels: np.ndarray) -> bytes:
    """A 16-byte BLAKE2b digest of a uint8 image array (its shape included).

    Equal digests mean pixel-identical images; byte-identical
    files always have equal digests (the same file decodes to the same pixels).
    """
    h = hashlib.blake2b(digest_size=DIGEST_SIZE)
    h.update(repr(tuple(pixels.shape)).encode())
    h.update(np.ascontiguousarray(pixels, dtype=np.uint8).tobytes())
    return h.digest()


def _decode_one(
    path: str | os.PathLike[str], image_size: int | None, mode: str
) -> tuple[np.ndarray, bytes, tuple[int, int]]:
    """Decode one file: (pixels, digest of the native pixels, native (width, height))."""
    try:
        with Image.open(path) as im:
            im.load()
            im = _to_mode(im, mode)
            native = np.asarray(im, dtype=np.uint8).copy()
            native_size = im.size
    except (OSError, SyntaxError, ValueError) as err:
        raise DatasetFormatError(f"cannot decode image {path}: {err}") from err
    digest = pixel_digest(native)
    if image_size is not None and native_size != (image_size, image_size):
        resized = Image.fromarray(native).resize(
            (image_size, image_size), Image.Resampling.BILINEAR
        )
        return np.asarray(resized, dtype=np.uint8).copy(), digest, native_size
    return native, digest, native_size


def decode_image(
    path: str | os.PathLike[str], image_size: int | None = None, mode: str = "L"
) -> np.ndarray:
    """Decode one image file to a uint8 array ``H x W`` (gray) or ``H x W x 3`` (RGB).

    With ``image_size`` the image is resized (bilinear,
    antialiased) to a square of that side. Raises :class:`DatasetFormatError` naming the
    file when it cannot be decoded, and ``ValueError`` naming the parameter for an
    ``image_size`` that is not a positive whole number.
    """
    return _decode_one(path, check_image_size(image_size), mode)[0]


def image_size_of(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Width and height of an image file, read from its header only.
    """
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, SyntaxError, ValueError) as err:
        raise DatasetFormatError(f"cannot read image header of {path}: {err}") from err


def default_workers() -> int:
    """Number of decoding threads: the machine's CPU count, at most 8.
    """
    return max(1, min(8, os.cpu_count() or 1))


def _size_text(size: tuple[int, int]) -> str:
    """``(w, h)`` as ``"48x48"`` (width x height)."""
    return f"{size[0]}x{size[1]}"


def _odd_size_error(
    paths: Sequence[str | os.PathLike[str]], sizes: list[tuple[int, int]]
) -> DatasetFormatError:
    """The error for images of mixed native sizes, blaming the sizes that are rare.

    The most common size is taken as the right one, so a wrong FIRST file is blamed
    itself instead of the good file that follows it.
    """
    counts = Counter(sizes)
    common, n_common = counts.most_common(1)[0]
    odd = [i for i, s in enumerate(sizes) if s != common]
    example = next(i for i, s in enumerate(sizes) if s == common)
    others = ""
    if len(odd) > 1:
        shown = ", ".join(f"{paths[i]} ({_size_text(sizes[i])})" for i in odd[1:5])
        more = f" and {len(odd) - 5} more" if len(odd) > 5 else ""
        others = f"; other images of other sizes: {shown}{more}"
    w, h = sizes[odd[0]]
    return DatasetFormatError(
        f"image {paths[odd[0]]} has shape ({h}, {w}) ({_size_text((w, h))} pixels), but "
        f"{n_common} of the {len(sizes)} images are {_size_text(common)} (e.g. "
        f"{paths[example]}){others}; pass image_size=... to resize all images to one size"
    )


def decode_images_hashed(
    paths: Sequence[str | os.PathLike[str]],
    image_size: int | None = None,
    mode: str = "L",
    workers: int | None = None,
    expected_size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Decode many image files with a thread pool; also return a digest of each.

    Returns ``(images, digests)``: images ``N x H x W`` for
    ``mode="L"`` and ``N x H x W x 3`` for ``mode="RGB"``, and the :func:`pixel_digest`
    of each image's native pixels as an ``N x 16`` uint8 array.

    ``expected_size`` (width, height), when given, is the native size the format
    prescribes (FER+: 48x48): a file of another size is an error naming that file, its
    size and the expected one, with or without ``image_size``. Without it and without
    ``image_size`` every image must have the same size; when they differ, the error
    names the files whose size is in the minority (not simply the first file that
    differs from the first one).
    """
    image_size = check_image_size(image_size)
    if len(paths) == 0:
        raise ValueError("decode_images: no image files given")
    n = len(paths)
    sizes: list[tuple[int, int]] = [(0, 0)] * n
    digests = np.zeros((n, DIGEST_SIZE), dtype=np.uint8)
    first, digest, sizes[0] = _decode_one(paths[0], image_size, mode)
    digests[0] = np.frombuffer(digest, dtype=np.uint8)
    out = np.empty((n, *first.shape), dtype=np.uint8)
    out[0] = first

    def check_expected(i: int) -> None:
        if expected_size is not None and sizes[i] != tuple(expected_size):
            raise DatasetFormatError(
                f"image {paths[i]} is {_size_text(sizes[i])} pixels, expected "
                f"{_size_text(tuple(expected_size))} (width x height) like every image of "
                "this dataset"
            )

    check_expected(0)
    mismatched: list[int] = []

    def work(start: int) -> list[int]:
        odd = []
        for i in range(start, min(start + _CHUNK, n)):
            arr, dig, sizes[i] = _decode_one(paths[i], image_size, mode)
            check_expected(i)
            digests[i] = np.frombuffer(dig, dtype=np.uint8)
            if arr.shape != first.shape:
                odd.append(i)
            else:
                out[i] = arr
        return odd

    n_workers = workers or default_workers()
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for future in [pool.submit(work, s) for s in range(1, n, _CHUNK)]:
            mismatched.extend(future.result())
    if mismatched:
        raise _odd_size_error(paths, sizes)
    return out, digests


def decode_images(
    paths: Sequence[str | os.PathLike[str]],
    image_size: int | None = None,
    mode: str = "L",
    workers: int | None = None,
) -> np.ndarray:
    """Decode many image files with a thread pool into one uint8 array.

    Returns ``N x H x W`` for ``mode="L"`` and
    ``N x H x W x 3`` for ``mode="RGB"``. Without ``image_size`` every image must have
    one size; the error names the files whose size is in the minority. See
    :func:`decode_images_hashed`, which also returns pixel digests.
    """
    return decode_images_hashed(paths, image_size, mode, workers)[0]


# --------------------------------------------------------------------------- duplicates


def duplicate_groups(digests: np.ndarray) -> list[np.ndarray]:
    """Indices of the images that share a digest, one array per group of 2 or more.

    ``digests`` is ``N x 16`` (:func:`decode_images_hashed`).
    Groups are ordered by their first index, indices ascending within a group.
    """
    if len(digests) == 0:
        return []
    _, inverse, counts = np.unique(digests, axis=0, return_inverse=True, return_counts=True)
    inverse = inverse.ravel()
    order = np.argsort(inverse, kind="stable")
    bounds = np.cumsum(counts)[:-1]
    groups = [g for g in np.split(order, bounds) if len(g) > 1]
    return sorted(groups, key=lambda g: int(g[0]))


def resolve_duplicates(
    name: str,
    digests: np.ndarray,
    filenames: Sequence[str],
    policy: str,
    where: str | os.PathLike[str],
) -> tuple[np.ndarray, dict[str, Any]]:
    """Apply the ``duplicates`` option of a folder dataset (JAFFE, CK+).

    In a folder dataset a pixel-identical image under two
    names is a copying mistake, and the two copies can land on both sides of a split.
    ``policy``: ``"error"`` raises :class:`DatasetFormatError` naming the duplicate
    files; ``"keep"`` keeps them all; ``"drop"`` keeps the first file of each group (in
    load order) and drops the others. Returns a boolean keep mask and the summary a
    loader stores in ``info["duplicates"]``: ``{"policy", "groups": [[file, ...],
    ...], "images": files in a group, "dropped": files dropped}``.
    """
    check_choice("duplicates", policy, DUPLICATE_POLICIES)
    groups = duplicate_groups(digests)
    listed = [[filenames[i] for i in g] for g in groups]
    keep = np.ones(len(digests), dtype=bool)
    if groups and policy == "error":
        shown = "; ".join(" = ".join(g) for g in listed[:_SHOWN_GROUPS])
        extra = len(groups) - _SHOWN_GROUPS
        more = f"; and {extra} more group(s)" if extra > 0 else ""
        raise DatasetFormatError(
            f"{name}: {sum(map(len, groups))} images in {where} are pixel-identical copies "
            f"({len(groups)} group(s)): {shown}{more}. A duplicate is usually a copying "
            "mistake and can land on both sides of a split; remove the extra files, or pass "
            "duplicates='drop' (keep the first of each group) or duplicates='keep'"
        )
    if policy == "drop":
        for g in groups:
            keep[g[1:]] = False
    summary = {
        "policy": policy,
        "groups": listed,
        "images": int(sum(len(g) for g in groups)),
        "dropped": int((~keep).sum()),
    }
    if groups and policy == "keep":
        logger.warning(
            "%s: kept %d pixel-identical images (%d groups) from %s (duplicates='keep')",
            name,
            summary["images"],
            len(groups),
            where,
        )
    return keep, summary
