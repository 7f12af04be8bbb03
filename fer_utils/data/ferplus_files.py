"""Reading FER+'s files: the folder layout's ``label.csv`` and the csv layout's pair.

:func:`read_label_csv` reads one header-less ``label.csv`` (name, face box, ten votes);
the csv layout joins ``fer2013new.csv`` (votes) with ``fer2013.csv`` (``Usage`` and the
pixel strings, decoded by :func:`decode_pixel_rows`) row by row. Every reader checks
the votes (whole numbers 0..10, at most ten per image) and raises
:class:`~fer_utils.data.io.DatasetFormatError` naming the file and row.
:func:`fer_utils.data.ferplus.load_ferplus` builds on these.
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
from PIL import Image

from fer_utils.data.ferplus_votes import VOTE_NAMES
from fer_utils.data.io import DIGEST_SIZE, DatasetFormatError, check_image_size, pixel_digest

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

_BOX_RE = re.compile(r"^\(\s*\d+\s*,\s*\d+\s*,\s*\d+\s*,\s*\d+\s*\)$")
_LAYOUT = (
    "ferplus/FER2013Train|FER2013Valid|FER2013Test/ with fer*.png and a header-less "
    "label.csv (name, face box, 10 votes), or ferplus/fer2013.csv (emotion,pixels,Usage) "
    "plus ferplus/fer2013new.csv (Usage,Image name,neutral,...,unknown,NF)"
)


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

    Blank lines are skipped. Raises :class:`DatasetFormatError` naming the file and row
    for a row without exactly 12 columns, a second column that is not a face box
    ``(x, y, w, h)`` (a column missing or shifted), a vote that is not a whole number in
    0..10, or votes summing to more than 10.
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

    Every row must hold ``expected_side`` squared values
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

    See :func:`fer_utils.data.io.pixel_digest`.
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
