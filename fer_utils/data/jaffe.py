"""The JAFFE loader: 213 posed images of 10 Japanese women with mean emotion ratings.

Notebook 01 (data exploration) reaches it through :func:`fer_utils.data.load_dataset`.
Layout (as published)::

    jaffe/
      jaffedbase/KA.AN1.39.tiff ...   256x256 8-bit gray TIFFs (23 are palette TIFFs)
      ratings_60.txt                  index HAP SAD SUR ANG DIS FEA PIC   (60 raters)
      ratings_30_no_fear.txt          index HAP SAD SUR ANG DIS PIC       (30 raters)

A file name ``KA.AN1.39.tiff`` is subject ``KA``, posed expression ``AN``, repetition
``1``, running number ``39``; its rating row has ``PIC`` = ``KA-AN1``. The rating files
have no header line and one space-separated row per rated picture.

Every expected expression code must have at least one image (``classes=`` asks for
fewer). Pixel-identical images under two names (a copying mistake) are an error unless
``duplicates=`` says otherwise; the real set has none (measured 2026-12-02: 213 files,
0 duplicate groups, decoded pixels and file bytes alike).
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from fer_utils.data.dataset import FERDataset, select_classes
from fer_utils.data.io import (
    DUPLICATE_POLICIES,
    DatasetFormatError,
    check_choice,
    check_image_size,
    decode_images_hashed,
    find_dataset_dir,
    report_dropped,
    resolve_duplicates,
)

#: Version 2: the cache also holds the pixel digests (duplicate check).
LOADER_VERSION = 2

#: JAFFE's classes in this dataset's fixed order.
JAFFE_CLASSES: tuple[str, ...] = (
    "neutral",
    "happiness",
    "sadness",
    "surprise",
    "anger",
    "disgust",
    "fear",
)

#: Posed expression code in the file name -> canonical class name.
EXPRESSION_CODES: dict[str, str] = {
    "NE": "neutral",
    "HA": "happiness",
    "SA": "sadness",
    "SU": "surprise",
    "AN": "anger",
    "DI": "disgust",
    "FE": "fear",
}

#: The ten subjects (posers).
SUBJECT_CODES: tuple[str, ...] = ("KA", "KL", "KM", "KR", "MK", "NA", "NM", "TM", "UY", "YM")

#: Rating columns of ``ratings_60.txt`` and the class each one rates.
RATING_COLUMNS: tuple[str, ...] = ("HAP", "SAD", "SUR", "ANG", "DIS", "FEA")
RATING_CLASSES: dict[str, str] = {
    "HAP": "happiness",
    "SAD": "sadness",
    "SUR": "surprise",
    "ANG": "anger",
    "DIS": "disgust",
    "FEA": "fear",
}

#: Rating files by the ``ratings`` option: file name and its rating columns.
RATING_FILES: dict[str, tuple[str, tuple[str, ...]]] = {
    "60": ("ratings_60.txt", RATING_COLUMNS),
    "30_no_fear": ("ratings_30_no_fear.txt", RATING_COLUMNS[:5]),
}

#: Known misspelt subject codes in the rating files (``YN-HA2`` is image ``YM-HA2``).
SUBJECT_TYPOS: dict[str, str] = {"YN": "YM"}

_IMAGE_RE = re.compile(r"^([A-Z]{2})\.([A-Z]{2})(\d+)\.(\d+)\.tiff?$", re.IGNORECASE)
_PIC_RE = re.compile(r"^([A-Z]{2})-([A-Z]{2})(\d+)$")
_LAYOUT = (
    "jaffe/jaffedbase/<SS>.<EE><r>.<n>.tiff images plus jaffe/ratings_60.txt and "
    "jaffe/ratings_30_no_fear.txt (rows 'index HAP SAD SUR ANG DIS [FEA] PIC')"
)


def parse_image_name(name: str) -> tuple[str, str, int, int]:
    """Split a JAFFE file name into (subject, expression code, repetition, number).

    ``"KA.AN1.39.tiff"`` gives ``("KA", "AN", 1, 39)``.
    Raises :class:`DatasetFormatError` for a name that does not follow the pattern.
    """
    match = _IMAGE_RE.match(name)
    if match is None or match.group(2).upper() not in EXPRESSION_CODES:
        raise DatasetFormatError(
            f"JAFFE image name {name!r} does not match 'KA.AN1.39.tiff' "
            f"(subject.expression+repetition.number.tiff, expression in "
            f"{', '.join(EXPRESSION_CODES)})"
        )
    subject, code, rep, number = match.groups()
    return subject.upper(), code.upper(), int(rep), int(number)


def _check_header(path: Path, lineno: int, line: str, columns: tuple[str, ...]) -> None:
    """Check an optional ``# HAP SAD ... PIC`` header line against the expected columns."""
    names = line.lstrip("#").split()
    if names and names != [*columns, "PIC"]:
        raise DatasetFormatError(
            f"{path}, line {lineno}: header {line!r} does not match the expected columns "
            f"'{' '.join(columns)} PIC'"
        )


def _parse_rating_row(
    path: Path, lineno: int, line: str, columns: tuple[str, ...]
) -> tuple[str, list[float]]:
    """One rating row ``index r1 .. rk PIC`` -> (PIC, ratings); raises on any fault."""
    fields = line.split()
    expected = f"'index {' '.join(columns)} PIC'"
    if len(fields) != len(columns) + 2:
        raise DatasetFormatError(
            f"{path}, line {lineno}: expected {len(columns) + 2} fields {expected}, "
            f"got {len(fields)}: {line!r}"
        )
    if not fields[0].isdigit():
        raise DatasetFormatError(
            f"{path}, line {lineno}: row index {fields[0]!r} is not a number ({expected})"
        )
    values = []
    for name, text in zip(columns, fields[1:-1], strict=True):
        try:
            value = float(text)
        except ValueError:
            raise DatasetFormatError(
                f"{path}, line {lineno}: rating {name}={text!r} is not a number"
            ) from None
        if not 1.0 <= value <= 5.0:
            raise DatasetFormatError(
                f"{path}, line {lineno}: rating {name}={text} is outside the scale 1..5"
            )
        values.append(value)
    pic = fields[-1]
    if _PIC_RE.match(pic) is None:
        raise DatasetFormatError(
            f"{path}, line {lineno}: picture {pic!r} does not look like 'KA-AN1'"
        )
    return pic, values


def read_ratings(
    path: str | os.PathLike[str], columns: tuple[str, ...] = RATING_COLUMNS
) -> tuple[dict[str, np.ndarray], list[str]]:
    """Read a JAFFE rating file into ``{PIC: ratings}`` and the list of typo fixes.

    Blank lines and ``#``/``-`` lines (a header copied from
    the dataset README) are skipped; a header, when present, must name ``columns``.
    Subject typos listed in :data:`SUBJECT_TYPOS` are fixed (``YN-HA2`` -> ``YM-HA2``)
    and reported as ``"YN-HA2 -> YM-HA2"``. Raises :class:`DatasetFormatError` naming
    the file and line for a wrong number of fields, a non-numeric rating, a rating
    outside 1..5, a malformed picture name or a picture rated twice.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"JAFFE rating file {path} is missing; expected {_LAYOUT}")
    table: dict[str, np.ndarray] = {}
    fixes: list[str] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("-"):
            continue
        if line.startswith("#"):
            _check_header(path, lineno, line, columns)
            continue
        pic, values = _parse_rating_row(path, lineno, line, columns)
        subject = pic[:2]
        if subject in SUBJECT_TYPOS:
            fixed = SUBJECT_TYPOS[subject] + pic[2:]
            fixes.append(f"{pic} -> {fixed}")
            pic = fixed
        if pic in table:
            raise DatasetFormatError(f"{path}, line {lineno}: picture {pic} is rated twice")
        table[pic] = np.asarray(values, dtype=np.float64)
    if not table:
        raise DatasetFormatError(f"{path} holds no rating rows; expected {_LAYOUT}")
    return table, fixes


def _list_images(image_dir: Path) -> tuple[list[str], int]:
    """Sorted TIFF names in ``image_dir`` and the number of other (non-hidden) files."""
    names, other = [], 0
    for entry in sorted(os.listdir(image_dir)):
        if entry.startswith("."):
            continue
        if entry.lower().endswith((".tiff", ".tif")):
            names.append(entry)
        else:
            other += 1
    if not names:
        raise FileNotFoundError(f"no TIFF images in {image_dir}; expected {_LAYOUT}")
    return names, other


def _ratings_to_targets(
    ratings: np.ndarray, columns: tuple[str, ...], classes: tuple[str, ...], threshold: float
) -> tuple[np.ndarray, np.ndarray]:
    """Distributions (ratings normalised to sum 1, neutral 0) and multilabels (> threshold)."""
    cols = np.array([classes.index(RATING_CLASSES[c]) for c in columns])
    dist = np.zeros((len(ratings), len(classes)), dtype=np.float32)
    dist[:, cols] = ratings / ratings.sum(axis=1, keepdims=True)
    multi = np.zeros_like(dist)
    multi[:, cols] = (ratings > threshold).astype(np.float32)
    return dist, multi


def load_jaffe(
    root: str | os.PathLike[str],
    *,
    ratings: str = "60",
    image_size: int | None = None,
    multilabel_threshold: float = 3.0,
    classes: Sequence[str] | None = None,
    duplicates: str = "error",
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> FERDataset:
    """Load JAFFE: 213 gray face images, posed labels and mean emotion ratings.

    Args:
        root: the ``jaffe`` folder (or the data root holding it).
        ratings: ``"60"`` (``ratings_60.txt``, six adjectives, 60 raters) or
            ``"30_no_fear"`` (``ratings_30_no_fear.txt``, no fear adjective, 30 raters).
        image_size: side of the square images returned; ``None`` keeps the native 256.
        multilabel_threshold: an emotion is "present" when its mean rating is above it.
        classes: load only the images posed with these classes (canonical names;
            returned in the fixed order below; at least one rated emotion). ``None``:
            every class the rating file covers, and then every expected expression code
            must have an image, else a :class:`DatasetFormatError` names the code and
            the expected list. Images of other classes are counted in
            ``dropped["class_not_requested"]``; ``distributions`` and ``multilabels``
            then cover only the requested classes (the other rating columns are left
            out before normalising, as ``"30_no_fear"`` leaves out fear).
        duplicates: pixel-identical images under two names (a copying mistake that can
            put one image on both sides of a split): ``"error"`` (default) raises naming
            the files; ``"keep"`` keeps them; ``"drop"`` keeps the first of each group
            (in file-name order) and counts the rest in ``dropped["duplicate_image"]``.
            ``info["duplicates"]`` lists the groups found.
        cache, cache_dir: see :func:`fer_utils.data.cache.cached_arrays`.

    Returns a :class:`FERDataset` with classes (neutral, happiness, sadness, surprise,
    anger, disgust, fear); labels are the posed expression of the file name; subjects
    are the two-letter codes; ``votes`` are the raw mean ratings with ``vote_names``
    HAP SAD SUR ANG DIS FEA.

    Decisions:

    * ``distributions``: the six ratings normalised to sum 1, placed in the 7-class
      vector with neutral = 0 (the usual LDL convention; the raters had no "neutral"
      adjective, so even a neutral face gets a distribution over the six emotions).
    * ``multilabels``: rating > ``multilabel_threshold`` per emotion, neutral column 0;
      a neutral face therefore often has an all-zero row.
    * Palette TIFFs (23 in the real set) are converted through their palette to 8-bit
      gray; the rating row ``YN-HA2`` is read as ``YM-HA2`` (listed in
      ``info["typo_fixes"]``).
    * Rated pictures without an image (six in the real set) are counted in
      ``dropped["rating_without_image"]`` and listed in ``info``. An image without a
      rating row is an error.
    * With ``ratings="30_no_fear"`` the fear images were never rated: they are left out
      and counted in ``dropped["fear_not_rated"]``, the classes lose ``fear`` (six
      classes), and the FEA column of ``votes`` is NaN (missing), never 0.
    """
    check_choice("ratings", ratings, tuple(RATING_FILES))
    check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
    image_size = check_image_size(image_size)
    rating_name, columns = RATING_FILES[ratings]
    rated = JAFFE_CLASSES if "FEA" in columns else JAFFE_CLASSES[:-1]
    hint = "" if "FEA" in columns else " (ratings='30_no_fear' has no fear ratings)"
    classes_ = select_classes(classes, rated, "JAFFE", hint)
    used_columns = tuple(c for c in columns if RATING_CLASSES[c] in classes_)
    if not used_columns:
        raise ValueError(
            f"JAFFE: classes={classes!r} holds no rated emotion; the ratings cover "
            f"{', '.join(RATING_CLASSES[c] for c in columns)}"
        )
    folder = find_dataset_dir(root, "jaffe", "jaffedbase", _LAYOUT)
    image_dir = folder / "jaffedbase"
    table, fixes = read_ratings(folder / rating_name, columns)
    names, other_files = _list_images(image_dir)

    keep: list[tuple[str, str, str, str]] = []  # (file name, subject, class, PIC)
    dropped: dict[str, int] = {}
    pictures: set[str] = set()
    for name in names:
        subject, code, rep, _ = parse_image_name(name)
        pic = f"{subject}-{code}{rep}"
        pictures.add(pic)
        cls = EXPRESSION_CODES[code]
        if cls not in classes_:
            reason = "fear_not_rated" if cls not in rated else "class_not_requested"
            dropped[reason] = dropped.get(reason, 0) + 1
            continue
        if pic not in table:
            raise DatasetFormatError(
                f"image {image_dir / name} has no rating row {pic!r} in {folder / rating_name}"
            )
        keep.append((name, subject, cls, pic))
    code_of = {c: k for k, c in EXPRESSION_CODES.items()}
    absent = [c for c in classes_ if c not in {k[2] for k in keep}]
    if absent:
        raise DatasetFormatError(
            f"JAFFE: no image in {image_dir} has expression code(s) "
            f"{', '.join(f'{code_of[c]} ({c})' for c in absent)}; expected images of every "
            f"code {', '.join(code_of[c] for c in classes_)} (pass classes=... to load only "
            "some classes)"
        )
    unrated_rows = sorted(set(table) - pictures)
    if unrated_rows:
        dropped["rating_without_image"] = len(unrated_rows)
    if other_files:
        dropped["unrecognised_file"] = other_files

    paths = [image_dir / k[0] for k in keep]

    def build() -> dict[str, np.ndarray]:
        images, digests = decode_images_hashed(paths, image_size)
        return {"images": images, "digests": digests}

    # imported here, not at the top, so that `python -m fer_utils.data.cache`
    # finds the module not yet imported by the package
    from fer_utils.data.cache import cached_arrays

    arrays, cache_info = cached_arrays(
        "jaffe",
        LOADER_VERSION,
        {"image_size": image_size},
        paths,
        build,
        cache,
        cache_dir,
        label_files=[folder / rating_name],
    )
    filenames = [f"jaffedbase/{k[0]}" for k in keep]
    mask, duplicate_report = resolve_duplicates(
        "JAFFE", arrays["digests"], filenames, duplicates, folder
    )
    images = arrays["images"]
    if not mask.all():
        dropped["duplicate_image"] = int((~mask).sum())
        keep = [k for k, m in zip(keep, mask, strict=True) if m]
        filenames = [f for f, m in zip(filenames, mask, strict=True) if m]
        images = images[mask]
    raw = np.stack([table[pic] for *_, pic in keep])
    used = [columns.index(c) for c in used_columns]
    dist, multi = _ratings_to_targets(raw[:, used], used_columns, classes_, multilabel_threshold)
    votes = np.full((len(keep), len(RATING_COLUMNS)), np.nan, dtype=np.float32)
    votes[:, : len(columns)] = raw
    labels = torch.tensor([classes_.index(k[2]) for k in keep], dtype=torch.long)
    report_dropped("jaffe", dropped, folder)
    info: dict[str, Any] = {
        "root": str(folder),
        "options": {
            "ratings": ratings,
            "image_size": image_size,
            "multilabel_threshold": multilabel_threshold,
            "classes": list(classes_),
            "duplicates": duplicates,
        },
        "ratings_file": str(folder / rating_name),
        "typo_fixes": fixes,
        "rating_without_image": unrated_rows,
        "counts": {c: int((labels == i).sum()) for i, c in enumerate(classes_)},
        "duplicates": duplicate_report,
        **cache_info,
    }
    return FERDataset(
        name="jaffe",
        images=torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1),
        labels=labels,
        classes=classes_,
        distributions=torch.from_numpy(dist),
        multilabels=torch.from_numpy(multi),
        subjects=np.array([k[1] for k in keep]),
        votes=torch.from_numpy(votes),
        vote_names=RATING_COLUMNS,
        filenames=filenames,
        dropped=dropped,
        info=info,
    )
