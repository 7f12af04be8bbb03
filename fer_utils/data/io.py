"""Reading dataset files: where a dataset lives, decoding images, format errors.

Introduced in notebook 01. Every loader finds its folder with :func:`find_dataset_dir`,
decodes its images with :func:`decode_images` (a small thread pool: small PNGs decode in
about 0.1 ms each, so the work is cut into chunks), raises :class:`DatasetFormatError`
for files that do not look as expected, and reports what it left out with
:func:`report_dropped`.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image

logger = logging.getLogger("fer_utils.data")

#: Images decoded per thread-pool task (small images decode in ~0.1 ms each, so one task
#: per image would spend more time in the pool than in the decoder).
_CHUNK = 256


class DatasetFormatError(ValueError):
    """A dataset file exists but does not have the expected layout or content.

    Introduced in notebook 01. The message always names the file (and line or value)
    and says what was expected.
    """


# --------------------------------------------------------------------------- sources


def find_dataset_dir(
    root: str | os.PathLike[str], name: str, markers: str | Sequence[str], layout: str
) -> Path:
    """Return the dataset folder for ``root``, which may be the folder or its parent.

    Introduced in notebook 01. ``root`` is accepted when it contains one of ``markers``
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

    Introduced in notebook 01. Loaders never drop anything silently: each count is in
    ``FERDataset.dropped`` and summarised here.
    """
    counts = {k: int(v) for k, v in dropped.items() if v}
    if counts:
        detail = ", ".join(f"{k}={v}" for k, v in counts.items())
        logger.warning(
            "%s: dropped %d item(s) from %s: %s", name, sum(counts.values()), where, detail
        )


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


def decode_image(
    path: str | os.PathLike[str], image_size: int | None = None, mode: str = "L"
) -> np.ndarray:
    """Decode one image file to a uint8 array ``H x W`` (gray) or ``H x W x 3`` (RGB).

    Introduced in notebook 01. With ``image_size`` the image is resized (bilinear,
    antialiased) to a square of that side. Raises :class:`DatasetFormatError` naming the
    file when it cannot be decoded.
    """
    try:
        with Image.open(path) as im:
            im = _to_mode(im, mode)
            if image_size is not None and im.size != (image_size, image_size):
                im = im.resize((image_size, image_size), Image.Resampling.BILINEAR)
            return np.asarray(im, dtype=np.uint8).copy()
    except (OSError, SyntaxError, ValueError) as err:
        raise DatasetFormatError(f"cannot decode image {path}: {err}") from err


def image_size_of(path: str | os.PathLike[str]) -> tuple[int, int]:
    """Width and height of an image file, read from its header only.

    Introduced in notebook 01.
    """
    try:
        with Image.open(path) as im:
            return im.size
    except (OSError, SyntaxError, ValueError) as err:
        raise DatasetFormatError(f"cannot read image header of {path}: {err}") from err


def default_workers() -> int:
    """Number of decoding threads: the machine's CPU count, at most 8.

    Introduced in notebook 01.
    """
    return max(1, min(8, os.cpu_count() or 1))


def decode_images(
    paths: Sequence[str | os.PathLike[str]],
    image_size: int | None = None,
    mode: str = "L",
    workers: int | None = None,
) -> np.ndarray:
    """Decode many image files with a thread pool into one uint8 array.

    Introduced in notebook 01. Returns ``N x H x W`` for ``mode="L"`` and
    ``N x H x W x 3`` for ``mode="RGB"``. Without ``image_size`` every image must have
    the size of the first; the error names the first file that differs.
    """
    if len(paths) == 0:
        raise ValueError("decode_images: no image files given")
    first = decode_image(paths[0], image_size, mode)
    out = np.empty((len(paths), *first.shape), dtype=np.uint8)
    out[0] = first

    def work(start: int) -> None:
        for i in range(start, min(start + _CHUNK, len(paths))):
            arr = decode_image(paths[i], image_size, mode)
            if arr.shape != first.shape:
                raise DatasetFormatError(
                    f"image {paths[i]} has shape {arr.shape}, but {paths[0]} has "
                    f"{first.shape}; pass image_size=... to resize all images to one size"
                )
            out[i] = arr

    n_workers = workers or default_workers()
    with ThreadPoolExecutor(max_workers=n_workers) as pool:
        for future in [pool.submit(work, s) for s in range(1, len(paths), _CHUNK)]:
            future.result()
    return out
