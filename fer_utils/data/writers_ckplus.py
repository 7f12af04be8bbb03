"""Write synthetic faces as CK+: frame sequences with Emotion files, or CK+48 folders.

Each face becomes the peak frame of a short sequence. With quirks: unlabelled
sequences (some with an empty Emotion folder), resized and RGB frames. See
:func:`write_ckplus`.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image, ImageFilter

from fer_utils.data.ckplus import CK48_FOLDERS, CKPLUS_CLASSES
from fer_utils.data.writers_common import WrittenDataset, _class_names

if TYPE_CHECKING:
    from fer_utils.data.synthetic import SyntheticFaces


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

    Each face becomes the peak (last) frame of a sequence of
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
