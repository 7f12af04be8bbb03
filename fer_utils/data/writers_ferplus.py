"""Write synthetic faces as FER+: the three split folders, or fer2013.csv + fer2013new.csv.

With quirks: rows with an empty image name, a repeated name, and vote rows the FER+
label modes drop or treat specially (NF / unknown dominated, single-vote outliers, ties,
spread votes). See :func:`write_ferplus`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from fer_utils.data.ferplus import SPLIT_FOLDERS, VOTE_NAMES
from fer_utils.data.writers_common import WrittenDataset, _class_names

if TYPE_CHECKING:
    from fer_utils.data.synthetic import SyntheticFaces

#: FER2013's original ``emotion`` codes (0 Angry .. 6 Neutral); contempt had none.
FER2013_CODES: dict[str, int] = {
    "anger": 0,
    "disgust": 1,
    "fear": 2,
    "happiness": 3,
    "sadness": 4,
    "surprise": 5,
    "neutral": 6,
    "contempt": 6,
}
_USAGES = ("Training", "PublicTest", "PrivateTest")


@dataclass
class _FerRow:
    """One row of the FER+ tables before it is written."""

    usage: str
    votes: np.ndarray
    pixels: np.ndarray
    face: int | None
    kind: str = "face"  # "face", "empty" (not a face, no name) or "duplicate"
    name: str = ""
    emotion: int = 6


def _ferplus_votes(faces: SyntheticFaces) -> np.ndarray:
    """The faces' votes as ``N x 10`` FER+ columns (unknown and NF zero)."""
    votes = np.zeros((len(faces.labels), len(VOTE_NAMES)), dtype=np.int64)
    for k, name in enumerate(faces.classes):
        votes[:, VOTE_NAMES.index(name)] = faces.votes[:, k]
    return votes


#: Vote rows injected by :func:`write_ferplus` with quirks (two training rows each).
_VOTE_QUIRKS: dict[str, list[int]] = {
    "nf_dominated": [2, 0, 0, 0, 0, 0, 0, 0, 0, 8],
    "unknown_dominated": [3, 0, 0, 0, 0, 0, 0, 0, 7, 0],
    "single_vote_outliers": [5, 1, 1, 1, 0, 0, 0, 2, 0, 0],
    "tied_votes": [4, 4, 0, 0, 0, 0, 0, 0, 2, 0],
    "spread_votes": [3, 3, 2, 2, 0, 0, 0, 0, 0, 0],
}


def _inject_vote_quirks(votes: np.ndarray, usage: list[str]) -> dict[str, list[int]]:
    """Overwrite two training rows per pattern of :data:`_VOTE_QUIRKS`; return their rows."""
    train = [i for i, u in enumerate(usage) if u == "Training"]
    injected: dict[str, list[int]] = {}
    for k, (kind, pattern) in enumerate(_VOTE_QUIRKS.items()):
        rows = train[1 + 2 * k : 3 + 2 * k]
        votes[rows] = pattern
        injected[kind] = rows
    return injected


def _ferplus_rows(
    faces: SyntheticFaces, split_fractions: tuple[float, float, float], quirks: bool
) -> tuple[list[_FerRow], dict[str, Any]]:
    """All table rows in file order, names assigned, with the quirks inserted."""
    n = len(faces.labels)
    n_train = int(round(split_fractions[0] * n))
    n_val = int(round(split_fractions[1] * n))
    usage = [_USAGES[0]] * n_train + [_USAGES[1]] * n_val + [_USAGES[2]] * (n - n_train - n_val)
    votes = _ferplus_votes(faces)
    record: dict[str, Any] = {"empty_name": 0, "duplicate_name": 0}
    if quirks:
        record.update(_inject_vote_quirks(votes, usage))
    names = [faces.classes[int(k)] for k in faces.labels]
    rows = [
        _FerRow(usage[i], votes[i], faces.images[i], i, emotion=FER2013_CODES[names[i]])
        for i in range(n)
    ]
    if quirks:
        rng = np.random.default_rng(0)
        noise = rng.integers(0, 256, size=(4, *faces.images.shape[1:]), dtype=np.uint8)
        not_a_face = np.array([0] * 9 + [10])
        for k, pos in enumerate((min(10, n_train), min(20, n_train), n - 1)):
            row = _FerRow(rows[pos + k].usage, not_a_face, noise[k], None, kind="empty")
            rows.insert(pos + k, row)
            record["empty_name"] += 1
        dup = _FerRow(_USAGES[0], np.array([0, 10] + [0] * 8), noise[3], None, kind="duplicate")
        rows.insert(min(30, n_train), dup)
        record["duplicate_name"] += 1
    for number, row in enumerate(rows):
        # an empty name still uses up a running number, as in the real csv
        row.name = {"face": f"fer{number:07d}.png", "empty": "", "duplicate": rows[0].name}[
            row.kind
        ]
    for kind in _VOTE_QUIRKS:
        if kind in record:
            record[kind] = [r.name for r in rows if r.face in record[kind]]
    record["votes"] = {r.name: r.votes.tolist() for r in rows if r.face is not None}
    return rows, record


def write_ferplus(
    root: str | os.PathLike[str],
    faces: SyntheticFaces,
    source: str = "folders",
    quirks: bool = True,
    split_fractions: tuple[float, float, float] = (0.8, 0.1, 0.1),
) -> WrittenDataset:
    """Write faces as FER+: the three folders with ``label.csv``, or the two csv files.

    The first ``split_fractions[0]`` of the faces are
    Training, the next PublicTest (validation), the rest PrivateTest (test). Votes are
    the faces' ten votes in FER+ column order. ``source="folders"`` writes
    ``ferplus/FER2013Train|Valid|Test/fer0000000.png`` with header-less ``label.csv``
    rows ``fer0000000.png,"(0, 0, 48, 48)",v1,...,v10``; ``source="csv"`` writes
    ``ferplus/fer2013.csv`` (``emotion,pixels,Usage``) and ``ferplus/fer2013new.csv``
    (``Usage,Image name,neutral,...,unknown,NF``) in the same row order.

    With ``quirks``: three rows with an empty image name and ten NF votes (a noise
    image, no PNG; the running number is still used up, as in the real csv), one row
    repeating the first training image's name with other votes and pixels, and two
    training rows each of NF-dominated, unknown-dominated, single-vote-outlier, tied and
    spread votes (``quirks`` names them; ``quirks["votes"]`` holds every written face's
    votes).
    The real folder release has no empty names (they exist only in the csv); writing
    them to ``label.csv`` too checks the loader handles both.
    """
    if source not in ("folders", "csv"):
        raise ValueError(f"unknown source={source!r}; expected 'folders' or 'csv'")
    _class_names(faces, VOTE_NAMES[:8], "FER+")
    folder = Path(root) / "ferplus"
    folder.mkdir(parents=True, exist_ok=True)
    rows, record = _ferplus_rows(faces, split_fractions, quirks)
    written = WrittenDataset(folder, quirks=record)
    if source == "folders":
        _write_ferplus_folders(folder, rows, written)
    else:
        _write_ferplus_csv(folder, rows, written)
    return written


def _write_ferplus_folders(folder: Path, rows: list[_FerRow], written: WrittenDataset) -> None:
    """Folder layout: PNGs (first row of a name only) and one ``label.csv`` per split."""
    sub_of = dict(zip(_USAGES, SPLIT_FOLDERS.values(), strict=True))
    lines: dict[str, list[str]] = {sub: [] for sub in SPLIT_FOLDERS.values()}
    for row in rows:
        sub = sub_of[row.usage]
        h, w = row.pixels.shape
        lines[sub].append(f'{row.name},"(0, 0, {w}, {h})",' + ",".join(map(str, row.votes)))
        rel = f"{sub}/{row.name}"
        if row.name and not (folder / rel).exists():
            (folder / sub).mkdir(exist_ok=True)
            Image.fromarray(row.pixels).save(folder / rel)
            if row.face is not None:
                written.files[rel] = row.face
    for sub, sub_lines in lines.items():
        (folder / sub).mkdir(exist_ok=True)
        (folder / sub / "label.csv").write_text("".join(line + "\n" for line in sub_lines))


def _write_ferplus_csv(folder: Path, rows: list[_FerRow], written: WrittenDataset) -> None:
    """Csv layout: ``fer2013.csv`` (pixels) and ``fer2013new.csv`` (votes), same order."""
    old = ["emotion,pixels,Usage"]
    new = ["Usage,Image name," + ",".join(VOTE_NAMES)]
    for row in rows:
        old.append(f"{row.emotion},{' '.join(map(str, row.pixels.ravel()))},{row.usage}")
        new.append(f"{row.usage},{row.name}," + ",".join(map(str, row.votes)))
        if row.face is not None and row.name not in written.files:
            written.files[row.name] = row.face
    (folder / "fer2013.csv").write_text("\n".join(old) + "\n")
    (folder / "fer2013new.csv").write_text("\n".join(new) + "\n")
