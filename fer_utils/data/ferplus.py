"""The FER+ loader: FER2013 faces with ten crowd-sourced votes each, four label modes.

Introduced in notebook 01. Two layouts are accepted (``source=``):

* ``"folders"`` (as made by the FER+ release's ``generate_training_data.py``)::

      ferplus/FER2013Train/fer0000000.png ... + label.csv
      ferplus/FER2013Valid/...            + label.csv
      ferplus/FER2013Test/...             + label.csv

  ``label.csv`` has no header; a row is ``fer0000000.png,"(0, 0, 48, 48)",4,0,0,1,3,2,0,0,0,0``:
  image name, face box, then ten vote counts in :data:`VOTE_NAMES` order.
* ``"csv"``: ``ferplus/fer2013.csv`` (``emotion,pixels,Usage``) plus
  ``ferplus/fer2013new.csv`` (``Usage,Image name,neutral,...,unknown,NF``), joined row by
  row; the pixels are decoded from the csv.

``"auto"`` (default) uses the folders when all three exist, else the two csv files.

The label modes follow the FER+ reference reader (``src/ferplus.py`` of the FER+
release), re-implemented here from its description and vectorised over images.
"""

from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from PIL import Image

from fer_utils.data.dataset import CANONICAL_CLASSES, FERDataset
from fer_utils.data.io import (
    DIGEST_SIZE,
    DatasetFormatError,
    check_choice,
    check_image_size,
    decode_images_hashed,
    find_dataset_dir,
    logger,
    pixel_digest,
    report_dropped,
)

#: Version 2: the cache also holds the pixel digests (duplicate report).
LOADER_VERSION = 2

#: FER+ classes: the eight canonical emotions, in vote order.
FERPLUS_CLASSES: tuple[str, ...] = CANONICAL_CLASSES
#: The ten vote columns of ``label.csv`` / ``fer2013new.csv``.
VOTE_NAMES: tuple[str, ...] = (*CANONICAL_CLASSES, "unknown", "NF")
#: Training label modes of the FER+ reference reader.
LABEL_MODES: tuple[str, ...] = ("majority", "probability", "crossentropy", "multi_target")
SOURCES: tuple[str, ...] = ("auto", "folders", "csv")
DISTRIBUTION_KINDS: tuple[str, ...] = ("votes", "target")
#: The ``duplicates`` option: keep every image, or drop validation/test images that
#: have a pixel-identical twin in the training split.
DUPLICATE_OPTIONS: tuple[str, ...] = ("keep", "drop")
#: Native side of every FER2013 / FER+ image (48x48 gray).
IMAGE_SIDE = 48
#: Annotators per image: each vote count is 0..10 and a row sums to at most 10.
N_ANNOTATORS = 10
#: Split name -> folder of the folder layout.
SPLIT_FOLDERS: dict[str, str] = {
    "train": "FER2013Train",
    "val": "FER2013Valid",
    "test": "FER2013Test",
}
#: ``Usage`` value of the csv layout -> split name.
USAGES: dict[str, str] = {"Training": "train", "PublicTest": "val", "PrivateTest": "test"}

_N_EMOTIONS = len(CANONICAL_CLASSES)  # columns 8 and 9 are unknown and NF
_BOX_RE = re.compile(r"^\(\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\)$")
_LAYOUT = (
    "ferplus/FER2013Train|FER2013Valid|FER2013Test/ with fer*.png and a header-less "
    "label.csv (name, face box, 10 votes), or ferplus/fer2013.csv (emotion,pixels,Usage) "
    "plus ferplus/fer2013new.csv (Usage,Image name,neutral,...,unknown,NF)"
)


# --------------------------------------------------------------------------- label modes


def remove_single_votes(votes: np.ndarray) -> np.ndarray:
    """Zero every vote count of 1 (a single annotator's outlier), as FER+ does first.

    Introduced in notebook 01. ``votes`` is ``N x 10``; a copy is returned.
    """
    clean = np.array(votes, dtype=np.int64, copy=True)
    clean[clean <= 1] = 0
    return clean


def _value_levels(votes: np.ndarray) -> np.ndarray:
    """Per entry, how many distinct larger values its row holds (0 = the row's maximum).

    Entries with equal counts share a level, so level k collects the k-th round of
    "take every emotion tied at the current maximum".
    """
    order = np.argsort(-votes, axis=1, kind="stable")
    ordered = np.take_along_axis(votes, order, axis=1)
    steps = np.diff(ordered, axis=1) != 0
    ordered_levels = np.concatenate(
        [np.zeros((len(votes), 1), dtype=np.int64), np.cumsum(steps, axis=1)], axis=1
    )
    levels = np.empty_like(ordered_levels)
    np.put_along_axis(levels, order, ordered_levels, axis=1)
    return levels


def _kept_majority(v: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Majority: keep the top count when it is more than half of all remaining votes."""
    top = np.argmax(v, axis=1)
    ok = 2 * v[np.arange(len(v)), top] > total
    kept = np.zeros(v.shape, dtype=bool)
    kept[np.flatnonzero(ok), top[ok]] = True
    return kept, np.where(ok, "", "no_majority")


def _kept_leaders(v: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probability / crossentropy: most-voted emotions, ties together, until >= 75%.

    Rounds take every entry tied at the current maximum, in vote order, while the kept
    votes are below 75% of the total and fewer than three entries are kept. Meeting
    unknown or NF in a round ends the selection: it is kept only when nothing else is
    (the image is then dropped because its target peaks at unknown/NF), and of the two
    only the first met (unknown) is looked at. The image is dropped when the kept votes
    are half of the total or less, or when more than three entries were kept.
    """
    n = len(v)
    levels = _value_levels(v)
    kept = np.zeros(v.shape, dtype=bool)
    kept_sum = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    active = total > 0
    rows = np.arange(n)
    for level in range(v.shape[1]):
        active &= (4 * kept_sum < 3 * total) & (count < 3)
        if not active.any():
            break
        in_round = (levels == level) & active[:, None]
        emotions = in_round[:, :_N_EMOTIONS]
        kept[:, :_N_EMOTIONS] |= emotions
        kept_sum += (v[:, :_N_EMOTIONS] * emotions).sum(axis=1)
        count += emotions.sum(axis=1)
        meets_other = in_round[:, _N_EMOTIONS:].any(axis=1)
        first_other = np.where(in_round[:, _N_EMOTIONS], _N_EMOTIONS, _N_EMOTIONS + 1)
        alone = meets_other & ~kept[:, :_N_EMOTIONS].any(axis=1)
        kept[rows[alone], first_other[alone]] = True
        kept_sum += np.where(alone, v[rows, first_other], 0)
        count += alone
        active &= ~meets_other
    reasons = np.where(count > 3, "too_many_emotions", "")
    reasons = np.where(2 * kept_sum <= total, "low_coverage", reasons)
    return kept, reasons


def _kept_multi_target(v: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Multi-target: keep every entry with at least 30% of the votes; need > half."""
    kept = (10 * v >= 3 * total[:, None]) & (total[:, None] > 0)
    covered = (v * kept).sum(axis=1)
    return kept, np.where(2 * covered <= total, "low_coverage", "")


_MODE_RULES = {
    "majority": _kept_majority,
    "probability": _kept_leaders,
    "crossentropy": _kept_leaders,
    "multi_target": _kept_multi_target,
}


def process_votes(votes: np.ndarray, mode: str = "majority") -> tuple[np.ndarray, np.ndarray]:
    """Turn raw FER+ vote rows into training targets the way the FER+ reference does.

    Introduced in notebook 01. ``votes``: ``N x 10`` counts in :data:`VOTE_NAMES`
    order. Steps: zero the single votes (:func:`remove_single_votes`); keep entries by
    the ``mode`` rule (see the ``_kept_*`` helpers); drop the image when the rule fails
    or when the kept target peaks (first maximum) at unknown or NF; renormalise the kept
    target over the eight emotions.

    Returns ``(targets, reasons)``: ``targets`` ``N x 8`` float32 (rows of dropped
    images are all 0) and ``reasons``, ``""`` for a kept image, else one of
    ``"only_single_votes"``, ``"no_majority"``, ``"low_coverage"``,
    ``"too_many_emotions"``, ``"unknown_or_nf"``.
    """
    if mode not in _MODE_RULES:
        raise ValueError(f"unknown FER+ label mode {mode!r}; expected one of {LABEL_MODES}")
    v = remove_single_votes(votes)
    if v.ndim != 2 or v.shape[1] != len(VOTE_NAMES):
        raise ValueError(f"votes must be N x {len(VOTE_NAMES)}, got shape {v.shape}")
    total = v.sum(axis=1)
    kept, reasons = _MODE_RULES[mode](v, total)
    target = v * kept
    peak = np.argmax(target, axis=1)
    reasons = np.where((reasons == "") & (peak >= _N_EMOTIONS), "unknown_or_nf", reasons)
    reasons = np.where(total == 0, "only_single_votes", reasons).astype(object)
    emotions = np.where((reasons == "")[:, None], target[:, :_N_EMOTIONS], 0).astype(np.float64)
    sums = emotions.sum(axis=1, keepdims=True)
    targets = np.divide(emotions, sums, out=np.zeros_like(emotions), where=sums > 0)
    return targets.astype(np.float32), reasons


def vote_distributions(votes: np.ndarray) -> np.ndarray:
    """The eight emotion votes after single-vote removal, normalised to sum 1.

    Introduced in notebook 01. Rows without any emotion vote left are all 0.
    """
    emotions = remove_single_votes(votes)[:, :_N_EMOTIONS].astype(np.float64)
    sums = emotions.sum(axis=1, keepdims=True)
    out = np.divide(emotions, sums, out=np.zeros_like(emotions), where=sums > 0)
    return out.astype(np.float32)


def multi_target_labels(votes: np.ndarray) -> np.ndarray:
    """0/1 per emotion: at least 30% of the votes left after single-vote removal.

    Introduced in notebook 01. This is the ``multi_target`` rule of FER+ (the total
    includes the unknown and NF votes), used as ``FERDataset.multilabels``.
    """
    v = remove_single_votes(votes)
    total = v.sum(axis=1, keepdims=True)
    return ((10 * v[:, :_N_EMOTIONS] >= 3 * total) & (total > 0)).astype(np.float32)


# --------------------------------------------------------------------------- reading


def _parse_votes(table: pd.DataFrame, path: Path, row_numbers: list[int]) -> np.ndarray:
    """The ten vote columns of ``table`` as int64; raises naming the file, row and value.

    Each vote must be a whole number in 0..10 and a row's votes must sum to at most 10
    (ten annotators; in the real ``fer2013new.csv`` 35,886 rows sum to 10, one to 9).
    """
    numeric = table.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isfinite(numeric) | (numeric < 0) | (numeric != np.round(numeric))
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise DatasetFormatError(
            f"{path}, row {row_numbers[r]}: vote {VOTE_NAMES[c]}={table.iat[r, c]!r} is not a "
            f"non-negative whole number; expected {_LAYOUT}"
        )
    high = numeric > N_ANNOTATORS
    if high.any():
        r, c = np.argwhere(high)[0]
        raise DatasetFormatError(
            f"{path}, row {row_numbers[r]}: vote {VOTE_NAMES[c]}={table.iat[r, c]} is outside "
            f"0..{N_ANNOTATORS} (each image has {N_ANNOTATORS} annotators)"
        )
    totals = numeric.sum(axis=1)
    over = np.flatnonzero(totals > N_ANNOTATORS)
    if over.size:
        r = int(over[0])
        raise DatasetFormatError(
            f"{path}, row {row_numbers[r]}: the votes sum to {int(totals[r])}, more than the "
            f"{N_ANNOTATORS} annotators of an image ({', '.join(table.iloc[r].astype(str))})"
        )
    return numeric.astype(np.int64)


def _read_csv_strings(path: Path, **kwargs: Any) -> pd.DataFrame:
    """Read a csv file with every cell as a string; parser faults name the file."""
    if not path.is_file():
        raise FileNotFoundError(f"FER+ file {path} is missing; expected {_LAYOUT}")
    try:
        return pd.read_csv(path, dtype=str, keep_default_na=False, **kwargs)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as err:
        raise DatasetFormatError(f"cannot parse {path}: {err}; expected {_LAYOUT}") from err


def read_label_csv(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read one header-less FER+ ``label.csv`` into (image names, N x 10 votes).

    Introduced in notebook 01. Blank lines are skipped. Raises
    :class:`DatasetFormatError` naming the file and row for a row without exactly 12
    columns, a second column that is not a face box ``(x, y, w, h)`` (a column missing
    or shifted), a vote that is not a whole number in 0..10, or votes summing to more
    than 10.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"FER+ label file {path} is missing; expected {_LAYOUT}")
    with path.open(newline="") as handle:
        rows = [(n, r) for n, r in enumerate(csv.reader(handle), start=1) if r]
    for lineno, row in rows:
        if len(row) != 2 + len(VOTE_NAMES):
            raise DatasetFormatError(
                f"{path}, row {lineno}: expected {2 + len(VOTE_NAMES)} columns (name, face box, "
                f"10 votes), got {len(row)}: {','.join(row)!r}"
            )
    if not rows:
        raise DatasetFormatError(f"{path} holds no rows; expected {_LAYOUT}")
    table = pd.DataFrame([row[2:] for _, row in rows])
    votes = _parse_votes(table, path, [n for n, _ in rows])
    for lineno, row in rows:
        if _BOX_RE.match(row[1]) is None:
            raise DatasetFormatError(
                f"{path}, row {lineno}: column 2 {row[1]!r} is not a face box like "
                "'(0, 0, 48, 48)'; expected name, face box, 10 votes"
            )
    return np.array([row[0].strip() for _, row in rows], dtype=object), votes


def _read_folders(folder: Path) -> dict[str, Any]:
    """Names, votes, splits and image folders of the folder layout."""
    names, votes, splits, dirs = [], [], [], []
    for split, sub in SPLIT_FOLDERS.items():
        split_names, split_votes = read_label_csv(folder / sub / "label.csv")
        names.append(split_names)
        votes.append(split_votes)
        splits.append(np.full(len(split_names), split, dtype=object))
        dirs.append(np.full(len(split_names), sub, dtype=object))
    return {
        "names": np.concatenate(names),
        "votes": np.concatenate(votes),
        "split": np.concatenate(splits),
        "dir": np.concatenate(dirs),
    }


def _read_csv_pair(folder: Path) -> dict[str, Any]:
    """Names, votes and splits of ``fer2013new.csv``, checked row by row against
    ``fer2013.csv``'s ``Usage`` column."""
    new_path, old_path = folder / "fer2013new.csv", folder / "fer2013.csv"
    new = _read_csv_strings(new_path)
    expected = ["Usage", "Image name", *VOTE_NAMES]
    if list(new.columns) != expected:
        missing = [c for c in expected if c not in new.columns]
        extra = [c for c in new.columns if c not in expected]
        detail = "; ".join(
            part
            for part in (
                f"missing {missing}" if missing else "",
                f"unexpected {extra}" if extra else "",
                "same names in another order" if not missing and not extra else "",
            )
            if part
        )
        raise DatasetFormatError(
            f"{new_path}: header has columns {list(new.columns)} ({detail}); expected the "
            f"header {','.join(expected)}"
        )
    with new_path.open(newline="") as handle:
        for lineno, row in enumerate(csv.reader(handle), start=1):
            if row and len(row) != len(expected):
                raise DatasetFormatError(
                    f"{new_path}, row {lineno}: expected {len(expected)} columns "
                    f"({','.join(expected)}), got {len(row)}"
                )
    header = list(_read_csv_strings(old_path, nrows=0).columns)
    if header != ["emotion", "pixels", "Usage"]:
        raise DatasetFormatError(f"{old_path} has columns {header}, expected emotion,pixels,Usage")
    old = _read_csv_strings(old_path, usecols=["Usage"])
    if len(old) != len(new):
        raise DatasetFormatError(
            f"{new_path} has {len(new)} rows but {old_path} has {len(old)}; they are joined "
            "by row order and must have the same number of rows"
        )
    differ = np.flatnonzero(old["Usage"].to_numpy() != new["Usage"].to_numpy())
    if differ.size:
        r = int(differ[0])
        raise DatasetFormatError(
            f"row {r + 2}: Usage {old['Usage'].iat[r]!r} in {old_path} differs from "
            f"{new['Usage'].iat[r]!r} in {new_path}; the files are not in the same order"
        )
    unknown = sorted(set(new["Usage"]) - set(USAGES))
    if unknown:
        raise DatasetFormatError(
            f"{new_path}: unknown Usage values {unknown}; expected {', '.join(USAGES)}"
        )
    return {
        "names": new["Image name"].str.strip().to_numpy(dtype=object),
        "votes": _parse_votes(new.iloc[:, 2:], new_path, list(range(2, len(new) + 2))),
        "split": new["Usage"].map(USAGES).to_numpy(dtype=object),
        "row": np.arange(len(new)),
    }


def decode_pixel_rows(
    texts: list[str],
    path: str | os.PathLike[str],
    image_size: int | None = None,
    expected_side: int | None = IMAGE_SIDE,
) -> np.ndarray:
    """Decode ``fer2013.csv`` pixel strings (space-separated 0..255) to ``N x H x W`` uint8.

    Introduced in notebook 01. Every row must hold ``expected_side`` squared values
    (48 x 48 = 2,304 for FER2013; ``None``: any square number, the same for every row);
    the error names the row, its size and the expected one. With ``image_size`` each
    image is resized to that side. See :func:`decode_pixel_rows_hashed`.
    """
    return decode_pixel_rows_hashed(texts, path, image_size, expected_side)[0]


def decode_pixel_rows_hashed(
    texts: list[str],
    path: str | os.PathLike[str],
    image_size: int | None = None,
    expected_side: int | None = IMAGE_SIDE,
) -> tuple[np.ndarray, np.ndarray]:
    """:func:`decode_pixel_rows` plus the ``N x 16`` pixel digests of the native images.

    Introduced in notebook 01 (see :func:`fer_utils.data.io.pixel_digest`).
    """
    image_size = check_image_size(image_size)
    out: np.ndarray | None = None
    hashes = np.zeros((len(texts), DIGEST_SIZE), dtype=np.uint8)
    for i, text in enumerate(texts):
        try:
            values = np.array(str(text).split(), dtype=np.int64)
        except ValueError:
            raise DatasetFormatError(f"{path}, row {i + 2}: pixels are not whole numbers") from None
        side = math.isqrt(values.size)
        if values.size == 0 or side * side != values.size or values.min() < 0 or values.max() > 255:
            raise DatasetFormatError(
                f"{path}, row {i + 2}: expected a square number of pixel values in 0..255, "
                f"got {values.size} values"
            )
        want = expected_side if expected_side is not None else side
        if out is None:
            out = np.empty((len(texts), want, want), dtype=np.uint8)
        if side != out.shape[1]:
            first = "" if expected_side is not None else " like row 2"
            raise DatasetFormatError(
                f"{path}, row {i + 2}: the image is {side}x{side} pixels ({values.size} "
                f"values), expected {out.shape[1]}x{out.shape[1]}{first}"
            )
        out[i] = values.reshape(side, side)
        hashes[i] = np.frombuffer(pixel_digest(out[i]), dtype=np.uint8)
    if out is None:
        raise DatasetFormatError(f"{path} holds no pixel rows")
    if image_size is not None and image_size != out.shape[1]:
        size = (image_size, image_size)
        out = np.stack(
            [np.asarray(Image.fromarray(a).resize(size, Image.Resampling.BILINEAR)) for a in out]
        )
    return out, hashes


# --------------------------------------------------------------------------- loading


def _resolve_source(folder: Path, source: str) -> str:
    """Pick the layout: folders when present (``auto``), else the two csv files."""
    has_folders = all((folder / sub / "label.csv").is_file() for sub in SPLIT_FOLDERS.values())
    has_csv = (folder / "fer2013.csv").is_file() and (folder / "fer2013new.csv").is_file()
    if source == "auto":
        if has_folders:
            return "folders"
        if has_csv:
            return "csv"
        raise FileNotFoundError(f"FER+: {folder} holds neither layout; expected {_LAYOUT}")
    return source


def _mark_unusable_rows(names: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Reason per row for empty names (not a face) and repeated names (first kept)."""
    reasons = np.full(len(names), "", dtype=object)
    empty = names == ""
    reasons[empty] = "empty_name"
    repeated = pd.Series(names).duplicated(keep="first").to_numpy() & ~empty
    reasons[repeated] = "duplicate_name"
    return reasons, {"empty_name": int(empty.sum()), "duplicate_name": int(repeated.sum())}


def _folder_images(
    folder: Path,
    table: dict[str, Any],
    usable: np.ndarray,
    image_size: int | None,
    cache: bool,
    cache_dir: str | os.PathLike[str] | None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], list[str], int]:
    """Decode the usable rows' PNGs (and their pixel digests); count PNGs without a row.

    Every PNG must be 48x48: a file of another size is an error naming it.
    """
    rel = [f"{d}/{n}" for d, n in zip(table["dir"][usable], table["names"][usable], strict=True)]
    on_disk: set[str] = set()
    for sub in SPLIT_FOLDERS.values():
        on_disk |= {f"{sub}/{e}" for e in os.listdir(folder / sub) if e.lower().endswith(".png")}
    missing = [r for r in rel if r not in on_disk]
    if missing:
        raise FileNotFoundError(
            f"FER+: {len(missing)} labelled image(s) are missing, e.g. {folder / missing[0]}; "
            f"expected {_LAYOUT}"
        )
    labelled = {f"{d}/{n}" for d, n in zip(table["dir"], table["names"], strict=True)}
    unlabelled = len(on_disk - labelled)
    paths = [folder / r for r in rel]

    def build() -> dict[str, np.ndarray]:
        images, digests = decode_images_hashed(
            paths, image_size, expected_size=(IMAGE_SIDE, IMAGE_SIDE)
        )
        return {"images": images, "digests": digests}

    # imported here, not at the top, so that `python -m fer_utils.data.cache`
    # finds the module not yet imported by the package
    from fer_utils.data.cache import cached_arrays

    arrays, cache_info = cached_arrays(
        "ferplus-folders",
        LOADER_VERSION,
        {"image_size": image_size},
        paths,
        build,
        cache,
        cache_dir,
        label_files=[folder / sub / "label.csv" for sub in SPLIT_FOLDERS.values()],
    )
    return arrays["images"], arrays["digests"], cache_info, rel, unlabelled


def _csv_images(
    folder: Path,
    table: dict[str, Any],
    usable: np.ndarray,
    image_size: int | None,
    cache: bool,
    cache_dir: str | os.PathLike[str] | None,
) -> tuple[np.ndarray, np.ndarray, dict[str, Any], list[str], int]:
    """Decode the pixels of ``fer2013.csv`` (all rows, cached) and take the usable ones."""
    path = folder / "fer2013.csv"

    def build() -> dict[str, np.ndarray]:
        pixels = _read_csv_strings(path, usecols=["pixels"])["pixels"].tolist()
        images, digests = decode_pixel_rows_hashed(pixels, path, image_size)
        return {"images": images, "digests": digests}

    # imported here, not at the top, so that `python -m fer_utils.data.cache`
    # finds the module not yet imported by the package
    from fer_utils.data.cache import cached_arrays

    arrays, cache_info = cached_arrays(
        "ferplus-csv",
        LOADER_VERSION,
        {"image_size": image_size},
        [path],
        build,
        cache,
        cache_dir,
        label_files=[folder / "fer2013new.csv"],
    )
    names = list(table["names"][usable])
    return arrays["images"][usable], arrays["digests"][usable], cache_info, names, 0


def duplicate_report(
    digests: np.ndarray, split: np.ndarray, labels: np.ndarray | None = None
) -> dict[str, Any]:
    """Counts of pixel-identical images within and across the FER+ splits.

    Introduced in notebook 01. ``digests``: ``N x 16`` pixel digests
    (:func:`fer_utils.data.io.pixel_digest`); ``split``: ``N`` split names. Returns::

        {"groups": groups of 2+ identical images (any splits),
         "images": images in those groups,
         "within": {split: {"groups": g, "images": n}}   # groups inside one split
         "across": {"val_in_train": validation images with a twin in training,
                    "test_in_train": test images with a twin in training,
                    "test_in_val": test images with a twin in validation},
         "conflicting_labels": groups whose images have different labels}

    (``conflicting_labels`` only when ``labels`` is given).
    """
    report: dict[str, Any] = {"groups": 0, "images": 0, "within": {}, "across": {}}
    if len(digests) == 0:
        report["within"] = {s: {"groups": 0, "images": 0} for s in SPLIT_FOLDERS}
        report["across"] = {"val_in_train": 0, "test_in_train": 0, "test_in_val": 0}
        if labels is not None:
            report["conflicting_labels"] = 0
        return report
    _, ids, counts = np.unique(digests, axis=0, return_inverse=True, return_counts=True)
    ids = ids.ravel()
    shared = counts[ids] > 1
    report["groups"] = int(np.sum(counts > 1))
    report["images"] = int(shared.sum())
    for s in SPLIT_FOLDERS:
        in_split = np.bincount(ids[split == s], minlength=len(counts))
        report["within"][s] = {
            "groups": int(np.sum(in_split > 1)),
            "images": int(in_split[in_split > 1].sum()),
        }
    ids_of = {s: ids[split == s] for s in SPLIT_FOLDERS}
    for a, b in (("val", "train"), ("test", "train"), ("test", "val")):
        report["across"][f"{a}_in_{b}"] = int(np.isin(ids_of[a], ids_of[b]).sum())
    if labels is not None:
        lab = np.asarray(labels)[shared]
        group_ids = ids[shared]
        low = np.full(len(counts), np.iinfo(np.int64).max)
        high = np.full(len(counts), np.iinfo(np.int64).min)
        np.minimum.at(low, group_ids, lab)
        np.maximum.at(high, group_ids, lab)
        report["conflicting_labels"] = int(np.sum((counts > 1) & (low != high)))
    return report


def split_targets(votes: np.ndarray, split: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Targets and drop reasons of :func:`process_votes`: ``mode`` for the training rows,
    ``"majority"`` for validation and test (as the FER+ reference evaluates).

    Introduced in notebook 01.
    """
    train_targets, train_reasons = process_votes(votes, mode)
    eval_targets, eval_reasons = process_votes(votes, "majority")
    is_train = split == "train"
    targets = np.where(is_train[:, None], train_targets, eval_targets)
    return targets, np.where(is_train, train_reasons, eval_reasons)


def _counts_by_split(split: np.ndarray, values: np.ndarray) -> dict[str, dict[str, int]]:
    """``{split: {value: count}}`` over the non-empty ``values`` (e.g. drop reasons)."""
    return {
        s: {
            str(v): int(np.sum((split == s) & (values == v)))
            for v in sorted(set(values[split == s]) - {""})
        }
        for s in SPLIT_FOLDERS
    }


def _twins_of_train(digests: np.ndarray, split: np.ndarray) -> np.ndarray:
    """True for each validation/test image whose pixels also occur in the training split."""
    if len(digests) == 0:
        return np.zeros(0, dtype=bool)
    _, ids = np.unique(digests, axis=0, return_inverse=True)
    ids = ids.ravel()
    return (split != "train") & np.isin(ids, ids[split == "train"])


def load_ferplus(
    root: str | os.PathLike[str],
    *,
    mode: str = "majority",
    source: str = "auto",
    distributions: str = "votes",
    image_size: int | None = None,
    duplicates: str = "keep",
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> FERDataset:
    """Load FER+: 48x48 gray faces with ten votes each, labelled by a FER+ label mode.

    Introduced in notebook 01.

    Args:
        root: the ``ferplus`` folder (or the data root holding it).
        mode: training label mode, one of :data:`LABEL_MODES` (see
            :func:`process_votes`). Validation and test always use ``"majority"``.
        source: ``"auto"`` (folders when present, else csv), ``"folders"`` or ``"csv"``.
        distributions: what ``FERDataset.distributions`` holds: ``"votes"`` (default:
            the eight emotion votes after single-vote removal, normalised; the LDL
            target) or ``"target"`` (the label mode's processed target, one-hot for
            majority; what the FER+ reference trains on).
        image_size: side of the returned images; ``None`` keeps the native 48. Every
            source image must be 48x48 either way (the error names the file).
        duplicates: ``"keep"`` (default: the official splits as published) or
            ``"drop"``: drop every validation or test image that has a pixel-identical
            twin among the training images kept (counted in
            ``dropped["duplicate_of_train"]``).
        cache, cache_dir: see :func:`fer_utils.data.cache.cached_arrays`.

    Returns a :class:`FERDataset` with the eight canonical classes in vote order,
    ``split`` from the folder or ``Usage`` (train / val / test), ``votes`` the raw ten
    counts (``vote_names`` = :data:`VOTE_NAMES`), ``multilabels`` by the multi_target
    rule (:func:`multi_target_labels`), and ``subjects`` None. ``labels`` are the
    argmax of the mode's target (first in vote order on ties; for ``probability`` the
    training code draws from ``distributions="target"`` instead).

    Dropped and counted (``dropped`` and ``info["dropped_by_split"]``): rows with an
    empty image name (not a face), repeated names (the FIRST row of a name is kept, as
    the FER+ folder layout's ``label.csv`` does; later rows are dropped), PNGs without
    a label row, and images the label mode rejects (``only_single_votes``,
    ``no_majority``, ``low_coverage``, ``too_many_emotions``, ``unknown_or_nf``).

    Duplicates (``info["duplicates"]``, see :func:`duplicate_report`): FER2013 holds
    the same face image several times, across splits too. The report counts
    pixel-identical images among the images loaded (after the drops above, before the
    ``duplicates="drop"`` removal), ``info["duplicates"]["before_label_drops"]`` the same
    over every labelled image decoded, and ``"dropped"`` what ``duplicates="drop"``
    removed. Measured on the real folder release on 2026-12-02 (file bytes and decoded
    pixels give the same groups):

    * before the label-mode drops (every labelled PNG: 28,558 / 3,579 / 3,573):
      1,513 groups holding 3,353 images; within one split 1,032 groups (2,256 images)
      in training, 26 (52) in validation, 16 (33) in test; across splits 279
      validation and 288 test images have a twin in training, 44 test images one in
      validation;
    * after the default majority drops (25,045 / 3,191 / 3,137 images): 1,249 groups
      holding 2,739 images; within one split 846 groups (1,831 images) in training,
      23 (46) in validation, 12 (25) in test; across splits 231 validation and 232
      test images have a twin in training (``duplicates="drop"`` removes these 463),
      35 test images one in validation; 117 groups mix different majority labels.
    """
    for name, value, allowed in (
        ("mode", mode, LABEL_MODES),
        ("source", source, SOURCES),
        ("distributions", distributions, DISTRIBUTION_KINDS),
        ("duplicates", duplicates, DUPLICATE_OPTIONS),
    ):
        check_choice(name, value, allowed)
    image_size = check_image_size(image_size)
    markers = (*SPLIT_FOLDERS.values(), "fer2013new.csv", "fer2013.csv")
    folder = find_dataset_dir(root, "ferplus", markers, _LAYOUT)
    source = _resolve_source(folder, source)
    table = _read_folders(folder) if source == "folders" else _read_csv_pair(folder)

    row_reasons, dropped = _mark_unusable_rows(table["names"])
    targets, label_reasons = split_targets(table["votes"], table["split"], mode)
    reasons = np.where(row_reasons != "", row_reasons, label_reasons)
    usable, keep = row_reasons == "", reasons == ""
    read = _folder_images if source == "folders" else _csv_images
    images, digests, cache_info, files, unlabelled = read(
        folder, table, usable, image_size, cache, cache_dir
    )
    before = duplicate_report(digests, table["split"][usable])
    images, digests = images[keep[usable]], digests[keep[usable]]
    files = [f for f, k in zip(files, keep[usable], strict=True) if k]
    for reason in sorted(set(reasons[usable & ~keep])):
        dropped[reason] = int(np.sum(reasons == reason))
    dropped["image_without_label"] = unlabelled
    dropped_by_split = _counts_by_split(table["split"], reasons)

    votes, targets = table["votes"][keep], targets[keep]
    split = table["split"][keep].astype(str)
    labels = np.argmax(targets, axis=1)
    duplicate_info = {
        "policy": duplicates,
        **duplicate_report(digests, split, labels),
        "before_label_drops": before,
        "dropped": 0,
    }
    if duplicates == "drop":
        twin = _twins_of_train(digests, split)
        dropped["duplicate_of_train"] = duplicate_info["dropped"] = int(twin.sum())
        for s in ("val", "test"):
            if np.any(twin & (split == s)):
                dropped_by_split[s]["duplicate_of_train"] = int(np.sum(twin & (split == s)))
        images, votes, targets, split, labels = (
            a[~twin] for a in (images, votes, targets, split, labels)
        )
        files = [f for f, t in zip(files, twin, strict=True) if not t]
    else:
        across = duplicate_info["across"]
        if across["val_in_train"] or across["test_in_train"]:
            logger.warning(
                "ferplus: %d validation and %d test image(s) have a pixel-identical twin in "
                "training (info['duplicates']; duplicates='drop' removes them)",
                across["val_in_train"],
                across["test_in_train"],
            )
    dropped = {k: v for k, v in dropped.items() if v}
    dist = vote_distributions(votes) if distributions == "votes" else targets
    report_dropped("ferplus", dropped, folder)
    class_counts = {
        s: dict(
            zip(FERPLUS_CLASSES, np.bincount(labels[split == s], minlength=8).tolist(), strict=True)
        )
        for s in SPLIT_FOLDERS
    }
    info: dict[str, Any] = {
        "root": str(folder),
        "source": source,
        "options": {
            "mode": mode,
            "source": source,
            "distributions": distributions,
            "image_size": image_size,
            "duplicates": duplicates,
        },
        "label_mode": {"train": mode, "val": "majority", "test": "majority"},
        "counts": class_counts,
        "split_sizes": {s: int(np.sum(split == s)) for s in SPLIT_FOLDERS},
        "dropped_by_split": dropped_by_split,
        "duplicates": duplicate_info,
        **cache_info,
    }
    return FERDataset(
        name="ferplus",
        images=torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1),
        labels=torch.from_numpy(labels.astype(np.int64)),
        classes=FERPLUS_CLASSES,
        distributions=torch.from_numpy(np.ascontiguousarray(dist, dtype=np.float32)),
        multilabels=torch.from_numpy(multi_target_labels(votes)),
        split=split,
        votes=torch.from_numpy(votes.astype(np.float32)),
        vote_names=VOTE_NAMES,
        filenames=files,
        dropped=dropped,
        info=info,
    )
