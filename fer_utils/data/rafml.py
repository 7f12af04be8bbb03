"""The RAF-ML loader: in-the-wild faces with a six-emotion distribution and 5 landmarks.

Notebook 01 (data exploration) reaches it through :func:`fer_utils.data.load_dataset`.
RAF-ML (about 4,908 images) is not available to this project, so the layout below is an
ASSUMPTION modelled on its description (a 6-dim emotion distribution per image in the order
surprise, fear, disgust, happiness, sadness, anger; five manual landmarks; original and
aligned images) and on the conventions of its sibling RAF-DB. Every path is an option of
:func:`load_rafml`, so a copy that is laid out differently can still be read::

    rafml/
      distribution.txt                        <image> sur fea dis hap sad ang   (assumed)
      partition.txt                           <image> train|val|test  (assumed, optional)
      Image/original/0001.jpg                 any size, RGB
      Image/aligned/0001_aligned.jpg          100x100, RGB (RAF-DB naming)
      Annotation/manual/0001_manu_ldmk.txt    5 lines "x y", original-image pixels (assumed)
      Annotation/aligned/0001_aligned_ldmk.txt  5 lines "x y", aligned pixels (assumed)

Landmark order: left eye, right eye, nose tip, left mouth corner, right mouth corner
(:data:`fer_utils.data.dataset.LANDMARK_NAMES`). :func:`fer_utils.data.writers.write_rafml`
writes this layout from synthetic faces.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_utils.data.dataset import LANDMARK_NAMES, SPLIT_NAMES, FERDataset
from fer_utils.data.io import (
    DatasetFormatError,
    check_image_size,
    decode_images,
    find_dataset_dir,
    image_size_of,
    logger,
)

LOADER_VERSION = 1

#: RAF-ML classes, in the column order of its distribution file.
RAFML_CLASSES: tuple[str, ...] = ("surprise", "fear", "disgust", "happiness", "sadness", "anger")
IMAGE_KINDS: tuple[str, ...] = ("aligned", "original")
#: Image side used for original images when ``image_size`` is not given (assumed).
ORIGINAL_IMAGE_SIZE = 100

#: Default folders and file-name patterns per image kind (``{stem}`` = name without
#: extension in the distribution file). All of these are assumptions.
DEFAULT_PATHS: dict[str, dict[str, str]] = {
    "aligned": {
        "image_dir": "Image/aligned",
        "image_name": "{stem}_aligned.jpg",
        "landmark_dir": "Annotation/aligned",
        "landmark_name": "{stem}_aligned_ldmk.txt",
    },
    "original": {
        "image_dir": "Image/original",
        "image_name": "{stem}.jpg",
        "landmark_dir": "Annotation/manual",
        "landmark_name": "{stem}_manu_ldmk.txt",
    },
}
_LAYOUT = (
    "rafml/distribution.txt ('<image> surprise fear disgust happiness sadness anger' per "
    "line), rafml/Image/aligned/<stem>_aligned.jpg or rafml/Image/original/<stem>.jpg, "
    "rafml/Annotation/{aligned,manual}/<stem>_*_ldmk.txt (5 lines 'x y'), optional "
    "rafml/partition.txt ('<image> train|val|test')"
)


def read_distributions(path: str | os.PathLike[str]) -> tuple[list[str], np.ndarray]:
    """Read ``distribution.txt``: image names and ``N x 6`` distributions (file order).

    Each row must be an image name and six non-negative
    numbers with a positive sum; rows are returned as written (normalise them
    yourself). Raises :class:`DatasetFormatError` naming the file, line and value.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"RAF-ML distribution file {path} is missing; expected {_LAYOUT}")
    names, rows = [], []
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        fields = raw.split()
        if not fields:
            continue
        if len(fields) != 1 + len(RAFML_CLASSES):
            raise DatasetFormatError(
                f"{path}, line {lineno}: expected 7 fields '<image> {' '.join(RAFML_CLASSES)}', "
                f"got {len(fields)}: {raw!r}"
            )
        try:
            values = [float(v) for v in fields[1:]]
        except ValueError:
            raise DatasetFormatError(
                f"{path}, line {lineno}: non-numeric value in {raw!r}"
            ) from None
        if min(values) < 0 or sum(values) <= 0 or not np.all(np.isfinite(values)):
            raise DatasetFormatError(
                f"{path}, line {lineno}: distribution {values} must be non-negative with a "
                "positive sum"
            )
        names.append(fields[0])
        rows.append(values)
    if not names:
        raise DatasetFormatError(f"{path} holds no rows; expected {_LAYOUT}")
    if len(set(names)) != len(names):
        raise DatasetFormatError(f"{path}: an image name is listed twice")
    return names, np.asarray(rows, dtype=np.float64)


def read_partition(path: str | os.PathLike[str], names: list[str]) -> np.ndarray:
    """The split (``train``/``val``/``test``) of every image in ``names``.

    Raises :class:`DatasetFormatError` for an unknown split
    word or an image the partition file does not list.
    """
    path = Path(path)
    table: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        fields = raw.split()
        if not fields:
            continue
        if len(fields) != 2 or fields[1] not in SPLIT_NAMES:
            raise DatasetFormatError(
                f"{path}, line {lineno}: expected '<image> train|val|test', got {raw!r}"
            )
        table[fields[0]] = fields[1]
    missing = [n for n in names if n not in table]
    if missing:
        raise DatasetFormatError(f"{path} does not list {len(missing)} image(s), e.g. {missing[0]}")
    return np.array([table[n] for n in names])


def read_landmarks(path: str | os.PathLike[str]) -> np.ndarray:
    """Five ``x y`` lines -> a ``5 x 2`` float array, in :data:`LANDMARK_NAMES` order.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"RAF-ML landmark file {path} is missing; expected {_LAYOUT}")
    rows = [line.split() for line in path.read_text().splitlines() if line.strip()]
    try:
        values = np.array(rows, dtype=np.float64)
    except ValueError as err:
        raise DatasetFormatError(f"{path}: landmarks are not 5 lines of 2 numbers ({err})") from err
    if values.shape != (len(LANDMARK_NAMES), 2):
        raise DatasetFormatError(
            f"{path}: expected {len(LANDMARK_NAMES)} lines of 'x y', got shape {values.shape}"
        )
    return values


def _multi_hot(dist: np.ndarray, threshold: float) -> np.ndarray:
    """0/1 per emotion: share >= ``threshold``, and always the top emotion."""
    multi = dist >= threshold
    multi[np.arange(len(dist)), dist.argmax(axis=1)] = True
    return multi.astype(np.float32)


def _stem(name: str) -> str:
    """Image name without its extension (``0001.jpg`` -> ``0001``)."""
    return name.rsplit(".", 1)[0]


def load_rafml(
    root: str | os.PathLike[str],
    *,
    images: str = "aligned",
    image_size: int | None = None,
    gray: bool = False,
    multilabel_threshold: float = 0.25,
    distribution_file: str = "distribution.txt",
    partition_file: str | None = "partition.txt",
    image_dir: str | None = None,
    landmark_dir: str | None = None,
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> FERDataset:
    """Load RAF-ML: face images with six-emotion distributions, multi-labels, landmarks.

    The on-disk layout is an assumption (see the module
    docstring); every path is an option.

    Args:
        root: the ``rafml`` folder (or the data root holding it).
        images: ``"aligned"`` (100x100 aligned faces) or ``"original"`` (whole photos).
        image_size: side of the returned square images; ``None`` keeps the native size
            of aligned images and uses 100 for original ones (their sizes differ).
        gray: return 1-channel gray images instead of RGB.
        multilabel_threshold: an emotion is in the multi-label set when its share of
            the distribution is at least this; the top emotion always is (the rule and
            the 0.25 of the synthetic generator; an assumption, not from RAF-ML).
        distribution_file, partition_file: relative to ``root``; a missing partition
            file gives ``split=None`` (pass ``None`` to ignore it).
        image_dir, landmark_dir: override the folders of :data:`DEFAULT_PATHS`. A
            missing landmark folder gives ``landmarks=None`` (logged); a missing single
            landmark file is an error.
        cache, cache_dir: see :func:`fer_utils.data.cache.cached_arrays`.

    Returns a :class:`FERDataset` with classes (surprise, fear, disgust, happiness,
    sadness, anger); ``distributions`` are the file's rows normalised to sum 1;
    ``votes`` the rows as written; ``labels`` the argmax (first on ties); landmarks in
    pixels of the returned images (scaled when resized); ``subjects`` None.
    """
    if images not in IMAGE_KINDS:
        raise ValueError(f"unknown images={images!r}; expected one of {', '.join(IMAGE_KINDS)}")
    image_size = check_image_size(image_size)
    folder = find_dataset_dir(root, "rafml", distribution_file, _LAYOUT)
    paths_cfg = DEFAULT_PATHS[images]
    names, raw = read_distributions(folder / distribution_file)
    img_root = folder / (image_dir or paths_cfg["image_dir"])
    paths = [img_root / paths_cfg["image_name"].format(stem=_stem(n)) for n in names]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise FileNotFoundError(
            f"RAF-ML: {len(missing)} image(s) listed in {distribution_file} are missing, e.g. "
            f"{missing[0]}; expected {_LAYOUT}"
        )
    size = ORIGINAL_IMAGE_SIZE if image_size is None and images == "original" else image_size
    mode = "L" if gray else "RGB"

    def build() -> dict[str, np.ndarray]:
        sizes = np.array([image_size_of(p) for p in paths], dtype=np.int64)
        return {"images": decode_images(paths, size, mode), "sizes": sizes}

    # imported here, not at the top, so that `python -m fer_utils.data.cache`
    # finds the module not yet imported by the package
    from fer_utils.data.cache import cached_arrays

    arrays, cache_info = cached_arrays(
        f"rafml-{images}",
        LOADER_VERSION,
        {"image_size": size, "mode": mode},
        paths,
        build,
        cache,
        cache_dir,
        label_files=[folder / distribution_file],
    )
    image_array = arrays["images"]
    image_array = image_array[:, None] if gray else image_array.transpose(0, 3, 1, 2)
    landmarks, landmark_note = _load_landmarks(
        folder, landmark_dir or paths_cfg["landmark_dir"], paths_cfg["landmark_name"], names
    )
    if landmarks is not None:
        out_side = image_array.shape[-1]
        landmarks = landmarks * (out_side / arrays["sizes"][:, None, :])
    dist = raw / raw.sum(axis=1, keepdims=True)
    split = None
    if partition_file is not None and (folder / partition_file).is_file():
        split = read_partition(folder / partition_file, names)
    info: dict[str, Any] = {
        "root": str(folder),
        "options": {
            "images": images,
            "image_size": size,
            "gray": gray,
            "multilabel_threshold": multilabel_threshold,
            "distribution_file": distribution_file,
            "partition_file": partition_file,
            "image_dir": str(img_root.relative_to(folder)),
            "landmark_dir": landmark_dir or paths_cfg["landmark_dir"],
        },
        "landmarks": landmark_note,
        "layout_is_assumed": True,
        "counts": dict(
            zip(RAFML_CLASSES, np.bincount(dist.argmax(1), minlength=6).tolist(), strict=True)
        ),
        **cache_info,
    }
    return FERDataset(
        name="rafml",
        images=torch.from_numpy(np.ascontiguousarray(image_array)),
        labels=torch.from_numpy(dist.argmax(axis=1).astype(np.int64)),
        classes=RAFML_CLASSES,
        distributions=torch.from_numpy(dist.astype(np.float32)),
        multilabels=torch.from_numpy(_multi_hot(dist, multilabel_threshold)),
        landmarks=None if landmarks is None else torch.from_numpy(landmarks.astype(np.float32)),
        split=split,
        votes=torch.from_numpy(raw.astype(np.float32)),
        vote_names=RAFML_CLASSES,
        filenames=[p.relative_to(folder).as_posix() for p in paths],
        dropped={},  # nothing is dropped: every listed image must exist
        info=info,
    )


def _load_landmarks(
    folder: Path, landmark_dir: str, pattern: str, names: list[str]
) -> tuple[np.ndarray | None, str]:
    """``N x 5 x 2`` landmarks in source-image pixels, or None when the folder is absent."""
    root = folder / landmark_dir
    if not root.is_dir():
        note = f"landmark folder {root} is missing; landmarks=None"
        logger.warning("rafml: %s", note)
        return None, note
    stacked = np.stack([read_landmarks(root / pattern.format(stem=_stem(n))) for n in names])
    return stacked, f"read from {root}"
