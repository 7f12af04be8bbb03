"""Write synthetic faces to disk in each real dataset's layout, quirks included.

Introduced in notebook 01. No real dataset can be downloaded at run time, so the loaders
are tested on files these writers produce from :func:`fer_utils.data.synthetic.generate_faces`
(generate with classes the format can hold, e.g. ``JAFFE_CLASSES`` for JAFFE). Each
writer creates ``root/<dataset>/`` exactly as the publisher ships it (see SPEC section 4
and the loader modules) and returns a :class:`WrittenDataset`, which can be passed to
the matching loader directly::

    faces = generate_faces(120, classes=JAFFE_CLASSES, n_subjects=10)
    written = write_jaffe(tmp_dir, faces)
    ds = load_jaffe(written)            # or load_dataset("jaffe", root=tmp_dir / "jaffe")
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageFilter

from fer_utils.data.ckplus import CK48_FOLDERS, CKPLUS_CLASSES
from fer_utils.data.ferplus import SPLIT_FOLDERS, VOTE_NAMES
from fer_utils.data.jaffe import EXPRESSION_CODES, RATING_CLASSES, RATING_COLUMNS, SUBJECT_CODES
from fer_utils.data.rafml import RAFML_CLASSES

if TYPE_CHECKING:
    from fer_utils.data.synthetic import SyntheticFaces


@dataclass
class WrittenDataset:
    """What a writer wrote: the dataset folder, which face each file shows, the quirks.

    Introduced in notebook 01. ``files`` maps a path relative to ``root`` (for the FER+
    csv layout: the image name) to the index of the face in the written
    ``SyntheticFaces``; ``quirks`` records every fault injected, so tests can check the
    loader reports exactly those. ``os.fspath(written)`` is ``root``.
    """

    root: Path
    files: dict[str, int] = field(default_factory=dict)
    quirks: dict[str, Any] = field(default_factory=dict)

    def __fspath__(self) -> str:
        return str(self.root)


def _class_names(faces: SyntheticFaces, allowed: Sequence[str], fmt: str) -> list[str]:
    """The class name of every face; raises when a class cannot be written in ``fmt``."""
    extra = [c for c in faces.classes if c not in allowed]
    if extra:
        raise ValueError(
            f"{fmt} cannot hold classes {extra}; generate the faces with classes from "
            f"{tuple(allowed)}"
        )
    return [faces.classes[int(k)] for k in faces.labels]


def _class_column(faces: SyntheticFaces, name: str) -> np.ndarray:
    """Column ``name`` of the faces' distributions (zeros when the class is absent)."""
    if name in faces.classes:
        return faces.distributions[:, faces.classes.index(name)].astype(np.float64)
    return np.zeros(len(faces.labels), dtype=np.float64)


# --------------------------------------------------------------------------- JAFFE


def _gray_palette_image(img: np.ndarray) -> Image.Image:
    """A palette ('P') image showing ``img`` through a reversed gray palette.

    Index ``i`` shows gray ``255 - i``, so reading the indices instead of converting
    through the palette gives a visibly wrong (inverted) image.
    """
    im = Image.frombytes("P", (img.shape[1], img.shape[0]), (255 - img).tobytes())
    im.putpalette([255 - i for i in range(256) for _ in range(3)])
    return im


def _rating_line(index: int, values: np.ndarray, pic: str) -> str:
    """One rating row in the real files' format: ``index r1 .. rk PIC``."""
    return " ".join([str(index), *(f"{v:.2f}" for v in values), pic])


def _jaffe_ratings(faces: SyntheticFaces) -> tuple[np.ndarray, np.ndarray]:
    """Mean ratings 1..5 from the distributions: 60-rater (6 cols) and no-fear (5 cols)."""
    p = np.stack([_class_column(faces, RATING_CLASSES[c]) for c in RATING_COLUMNS], axis=1)
    q = p[:, :5]
    q_sum = q.sum(axis=1, keepdims=True)
    q = np.divide(q, q_sum, out=np.zeros_like(q), where=q_sum > 0)
    return np.round(1 + 4 * p, 2), np.round(1 + 4 * q, 2)


def write_jaffe(
    root: str | os.PathLike[str], faces: SyntheticFaces, quirks: bool = True, seed: int = 0
) -> WrittenDataset:
    """Write faces as JAFFE: ``root/jaffe/jaffedbase/KA.AN1.39.tiff`` + two rating files.

    Introduced in notebook 01. Subjects map to the ten JAFFE codes (subject id mod 10),
    the label to the posed code, repetitions count per subject and code, running
    numbers count from 1. Mean ratings are ``1 + 4 p`` for each emotion's share ``p``
    (the no-fear file renormalises the five other shares). The rating files copy the
    real ones: no header, ``index HAP SAD SUR ANG DIS [FEA] PIC``, two decimals, no
    final newline; the no-fear file skips the fear pictures but keeps their indices.

    With ``quirks``: every eighth image is a palette TIFF with a (reversed) gray
    palette; the first rating row of a ``YM`` image is written with the ``YN`` typo
    (both files, as in the real set); three rating rows name pictures that have no
    image. Everything injected is listed in the returned ``quirks``.
    """
    names = _class_names(faces, tuple(EXPRESSION_CODES.values()), "JAFFE")
    code_of = {c: k for k, c in EXPRESSION_CODES.items()}
    folder = Path(root) / "jaffe"
    image_dir = folder / "jaffedbase"
    image_dir.mkdir(parents=True, exist_ok=True)
    r60, r30 = _jaffe_ratings(faces)
    reps: Counter[tuple[str, str]] = Counter()
    rows: list[tuple[str, np.ndarray, np.ndarray | None]] = []
    written = WrittenDataset(folder, quirks={"palette_tiffs": [], "rating_without_image": []})
    for i, img in enumerate(faces.images):
        subject, code = SUBJECT_CODES[int(faces.subjects[i]) % 10], code_of[names[i]]
        reps[(subject, code)] += 1
        file_name = f"{subject}.{code}{reps[(subject, code)]}.{i + 1}.tiff"
        if quirks and i % 8 == 3:
            _gray_palette_image(img).save(image_dir / file_name, format="TIFF")
            written.quirks["palette_tiffs"].append(file_name)
        else:
            Image.fromarray(img).save(image_dir / file_name, format="TIFF")
        written.files[f"jaffedbase/{file_name}"] = i
        rows.append(
            (f"{subject}-{code}{reps[(subject, code)]}", r60[i], None if code == "FE" else r30[i])
        )
    if quirks:
        rows = _add_phantom_ratings(rows, reps, np.random.default_rng(seed), written.quirks)
        rows = _add_subject_typo(rows, written.quirks)
    lines60 = [_rating_line(k + 1, r, pic) for k, (pic, r, _) in enumerate(rows)]
    lines30 = [_rating_line(k + 1, r, pic) for k, (pic, _, r) in enumerate(rows) if r is not None]
    (folder / "ratings_60.txt").write_text("\n".join(lines60))
    (folder / "ratings_30_no_fear.txt").write_text("\n".join(lines30))
    return written


def _add_phantom_ratings(
    rows: list[tuple[str, np.ndarray, np.ndarray | None]],
    reps: Counter[tuple[str, str]],
    rng: np.random.Generator,
    record: dict[str, Any],
) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """Insert three rating rows for pictures that have no image (like KM-DI2 in JAFFE)."""
    out = list(rows)
    subjects = sorted({s for s, _ in reps})
    for k, code in enumerate(("HA", "DI", "SA")):
        subject = subjects[k % len(subjects)]
        pic = f"{subject}-{code}{reps[(subject, code)] + 1}"
        reps[(subject, code)] += 1  # keep later phantoms distinct
        ratings = np.round(rng.uniform(1, 5, size=len(RATING_COLUMNS)), 2)
        out.insert((k + 1) * len(out) // 4, (pic, ratings, ratings[:5]))
        record["rating_without_image"].append(pic)
    return out


def _add_subject_typo(
    rows: list[tuple[str, np.ndarray, np.ndarray | None]], record: dict[str, Any]
) -> list[tuple[str, np.ndarray, np.ndarray | None]]:
    """Write the first non-fear ``YM`` picture as ``YN`` (the real ``YN-HA2`` fault)."""
    phantoms = set(record["rating_without_image"])
    for k, (pic, r60, r30) in enumerate(rows):
        if pic.startswith("YM-") and pic not in phantoms and r30 is not None:
            rows[k] = ("YN-" + pic[3:], r60, r30)
            record["typo"] = {"YN-" + pic[3:]: pic}
            return rows
    record["typo"] = {}
    return rows


# --------------------------------------------------------------------------- CK+


def _sequence(img: np.ndarray, length: int) -> list[np.ndarray]:
    """Frames from a blurred, expression-less start to the face itself (the peak)."""
    start = np.asarray(Image.fromarray(img).filter(ImageFilter.GaussianBlur(3)), dtype=np.float64)
    alphas = np.linspace(0.0, 1.0, length)
    return [np.rint((1 - a) * start + a * img).astype(np.uint8) for a in alphas]


def _save_frame(path: Path, frame: np.ndarray, size: tuple[int, int] | None, rgb: bool) -> None:
    """Save one PNG frame, optionally resized to ``size`` (w, h) and/or as RGB."""
    im = Image.fromarray(frame)
    if size is not None and size != im.size:
        im = im.resize(size, Image.Resampling.BILINEAR)
    (im.convert("RGB") if rgb else im).save(path)


def write_ckplus(
    root: str | os.PathLike[str],
    faces: SyntheticFaces,
    layout: str = "original",
    quirks: bool = True,
) -> WrittenDataset:
    """Write faces as CK+: original sequences + Emotion files, or CK+48 class folders.

    Introduced in notebook 01. Each face becomes the peak (last) frame of a sequence of
    4 to 7 frames for subject ``S{5 (id + 1):03d}`` (S005, S010, ...), sequence numbers
    counting per subject. ``layout="original"`` writes
    ``cohn-kanade-images/S005/001/S005_001_0000000N.png`` frames and, for labelled
    sequences, ``Emotion/S005/001/S005_001_0000000N_emotion.txt`` holding the code as
    ``   3.0000000e+00``. Faces labelled neutral become unlabelled sequences.
    ``layout="ck48"`` writes the last three frames of every non-neutral face, 48x48,
    to ``<class>/S005_001_0000000N.png`` (``happy`` for happiness).

    With ``quirks`` (original layout): every tenth sequence is unlabelled (half of those
    with an empty Emotion folder, like the real set); every fifth sequence has 64x48
    frames instead of the native size; every seventh is saved as RGB.
    """
    if layout not in ("original", "ck48"):
        raise ValueError(f"unknown layout={layout!r}; expected 'original' or 'ck48'")
    names = _class_names(faces, ("neutral", *CKPLUS_CLASSES), "CK+")
    folder = Path(root) / "ckplus"
    folder.mkdir(parents=True, exist_ok=True)
    written = WrittenDataset(
        folder,
        quirks={"unlabelled_sequences": [], "empty_emotion_dirs": 0, "resized": [], "rgb": []},
    )
    seq_count: Counter[str] = Counter()
    folder_of = {c: d for d, c in CK48_FOLDERS.items()}
    for i, img in enumerate(faces.images):
        subject = f"S{5 * (int(faces.subjects[i]) + 1):03d}"
        seq_count[subject] += 1
        seq = f"{seq_count[subject]:03d}"
        frames = _sequence(img, 4 + i % 4)
        labelled = names[i] != "neutral" and not (quirks and i % 10 == 9)
        if layout == "ck48":
            if names[i] == "neutral":
                continue
            class_dir = folder / folder_of[names[i]]
            class_dir.mkdir(exist_ok=True)
            for number in range(len(frames) - 2, len(frames) + 1):
                rel = f"{class_dir.name}/{subject}_{seq}_{number:08d}.png"
                _save_frame(folder / rel, frames[number - 1], (48, 48), rgb=False)
                written.files[rel] = i
            continue
        _write_original_sequence(folder, written, i, subject, seq, frames, quirks)
        if labelled:
            _write_emotion_file(
                folder, subject, seq, len(frames), CKPLUS_CLASSES.index(names[i]) + 1
            )
        else:
            written.quirks["unlabelled_sequences"].append(f"{subject}/{seq}")
            if len(written.quirks["unlabelled_sequences"]) % 2:
                (folder / "Emotion" / subject / seq).mkdir(parents=True, exist_ok=True)
                written.quirks["empty_emotion_dirs"] += 1
    return written


def _write_original_sequence(
    folder: Path,
    written: WrittenDataset,
    i: int,
    subject: str,
    seq: str,
    frames: list[np.ndarray],
    quirks: bool,
) -> None:
    """Write one sequence's frames to ``cohn-kanade-images/<subject>/<seq>/``."""
    seq_dir = folder / "cohn-kanade-images" / subject / seq
    seq_dir.mkdir(parents=True, exist_ok=True)
    size = None
    if quirks and i % 5 == 2:
        size = (64, 48)
        written.quirks["resized"].append(f"{subject}/{seq}")
    rgb = quirks and i % 7 == 3
    if rgb:
        written.quirks["rgb"].append(f"{subject}/{seq}")
    for number, frame in enumerate(frames, start=1):
        rel = f"cohn-kanade-images/{subject}/{seq}/{subject}_{seq}_{number:08d}.png"
        _save_frame(folder / rel, frame, size, rgb)
        written.files[rel] = i


def _write_emotion_file(folder: Path, subject: str, seq: str, peak: int, code: int) -> None:
    """``Emotion/<subject>/<seq>/<subject>_<seq>_<peak>_emotion.txt`` with the float code."""
    label_dir = folder / "Emotion" / subject / seq
    label_dir.mkdir(parents=True, exist_ok=True)
    (label_dir / f"{subject}_{seq}_{peak:08d}_emotion.txt").write_text(f"   {code:.7e}\n")


# --------------------------------------------------------------------------- FER+

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

    Introduced in notebook 01. The first ``split_fractions[0]`` of the faces are
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


# --------------------------------------------------------------------------- RAF-ML


def write_rafml(
    root: str | os.PathLike[str],
    faces: SyntheticFaces,
    aligned_size: int = 100,
    train_fraction: float = 0.8,
    seed: int = 0,
) -> WrittenDataset:
    """Write faces in the ASSUMED RAF-ML layout of :mod:`fer_utils.data.rafml`.

    Introduced in notebook 01. The real RAF-ML is not available, so this layout is the
    loader's documented assumption, not a copy of the real archive: ``distribution.txt``
    (``0001.jpg`` and six shares in the order surprise, fear, disgust, happiness,
    sadness, anger), ``partition.txt`` (first ``train_fraction`` train, rest test),
    ``Image/aligned/0001_aligned.jpg`` (the face resized to ``aligned_size``, RGB JPEG),
    ``Image/original/0001.jpg`` (the face enlarged 1.5-3x and pasted at a random place
    on a larger, coloured photo of random size) and the five landmarks of each in
    ``Annotation/aligned/0001_aligned_ldmk.txt`` / ``Annotation/manual/0001_manu_ldmk.txt``
    (lines ``x y`` in that image's pixels). ``quirks["original_boxes"]`` keeps each
    face's (left, top, scale) in its original photo.
    """
    _class_names(faces, RAFML_CLASSES, "RAF-ML")
    folder = Path(root) / "rafml"
    for sub in ("Image/aligned", "Image/original", "Annotation/aligned", "Annotation/manual"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    n = len(faces.labels)
    width = max(4, len(str(n)))
    dist = np.stack([_class_column(faces, c) for c in RAFML_CLASSES], axis=1)
    written = WrittenDataset(folder, quirks={"original_boxes": []})
    dist_lines, part_lines = [], []
    for i, img in enumerate(faces.images):
        stem = f"{i + 1:0{width}d}"
        h, w = img.shape
        face = Image.fromarray(img)
        face.resize((aligned_size, aligned_size), Image.Resampling.BILINEAR).convert("RGB").save(
            folder / f"Image/aligned/{stem}_aligned.jpg", quality=95
        )
        _write_points(
            folder / f"Annotation/aligned/{stem}_aligned_ldmk.txt",
            faces.landmarks[i] * (aligned_size / w),
        )
        canvas, points, box = _photo_around(face, faces.landmarks[i], rng)
        canvas.save(folder / f"Image/original/{stem}.jpg", quality=95)
        _write_points(folder / f"Annotation/manual/{stem}_manu_ldmk.txt", points)
        written.quirks["original_boxes"].append(box)
        written.files[f"Image/aligned/{stem}_aligned.jpg"] = i
        written.files[f"Image/original/{stem}.jpg"] = i
        dist_lines.append(f"{stem}.jpg " + " ".join(f"{v:.6f}" for v in dist[i]))
        part_lines.append(f"{stem}.jpg {'train' if i < train_fraction * n else 'test'}")
    (folder / "distribution.txt").write_text("\n".join(dist_lines) + "\n")
    (folder / "partition.txt").write_text("\n".join(part_lines) + "\n")
    return written


def _photo_around(
    face: Image.Image, landmarks: np.ndarray, rng: np.random.Generator
) -> tuple[Image.Image, np.ndarray, tuple[int, int, float]]:
    """A larger RGB "photo" with the face enlarged 1.5-3x at a random place.

    Returns the photo, the landmarks in its pixels and the face box (left, top, scale).
    """
    scale = float(rng.uniform(1.5, 3.0))
    big = face.resize((round(face.width * scale), round(face.height * scale)))
    left, top, right, bottom = (int(v) for v in rng.integers(10, 60, size=4))
    colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
    canvas = Image.new("RGB", (left + big.width + right, top + big.height + bottom), colour)
    canvas.paste(big.convert("RGB"), (left, top))
    factor = np.array([big.width / face.width, big.height / face.height])
    return canvas, landmarks * factor + [left, top], (left, top, big.width / face.width)


def _write_points(path: Path, points: np.ndarray) -> None:
    """Five ``x y`` lines (pixels, three decimals)."""
    path.write_text("".join(f"{x:.3f} {y:.3f}\n" for x, y in np.asarray(points)))
