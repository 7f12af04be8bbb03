"""The CK+ loader: posed expression sequences, original layout or the common "CK+48".

Notebook 01 (data exploration) reaches it through :func:`fer_utils.data.load_dataset`. Two
layouts are accepted (``layout=``, detected by default):

* ``"original"`` (the published archives unpacked)::

      ckplus/cohn-kanade-images/S005/001/S005_001_00000001.png ... _00000011.png
      ckplus/Emotion/S005/001/S005_001_00000011_emotion.txt     ("   3.0000000e+00")

  A sequence runs from a neutral first frame to the peak (last) frame; only the 327
  labelled sequences have an ``_emotion.txt`` file, named after the peak frame and
  holding one float code (0 neutral, 1 anger, 2 contempt, 3 disgust, 4 fear, 5 happy,
  6 sadness, 7 surprise). Frames are 640x490 or similar, a few are RGB.
* ``"ck48"``: ``ckplus/<class>/S010_004_00000017.png``, one folder per class (anger
  contempt disgust fear happy sadness surprise), 48x48 gray, the last three frames of
  each labelled sequence (981 images).

Subjects (``S005``) come from the file names: group folds by subject (see
:func:`fer_utils.data.splits.subject_kfold`), or frames of one sequence leak.

Every expected class must be present (a missing or empty CK+48 class folder, or a class
no labelled sequence has, is an error); ``classes=`` asks for fewer. Pixel-identical
images (the same PNG twice: a copying mistake) are an error unless ``duplicates=``
says otherwise. The real CK+48 copy has none (measured 2026-12-02: 981 files, 0
duplicate groups).
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

#: CK+ classes in emotion-code order (codes 1..7); neutral goes first when included.
CKPLUS_CLASSES: tuple[str, ...] = (
    "anger",
    "contempt",
    "disgust",
    "fear",
    "happiness",
    "sadness",
    "surprise",
)
#: Emotion code in ``_emotion.txt`` -> canonical class name.
EMOTION_CODES: dict[int, str] = {0: "neutral", **{i + 1: c for i, c in enumerate(CKPLUS_CLASSES)}}
#: CK+48 folder name -> canonical class name.
CK48_FOLDERS: dict[str, str] = {
    "anger": "anger",
    "contempt": "contempt",
    "disgust": "disgust",
    "fear": "fear",
    "happy": "happiness",
    "sadness": "sadness",
    "surprise": "surprise",
}
LAYOUTS: tuple[str, ...] = ("auto", "original", "ck48")
FRAME_CHOICES: tuple[str, ...] = ("peak", "last3")
#: Default image side for the original layout (its frames have mixed sizes).
ORIGINAL_IMAGE_SIZE = 256

_FRAME_RE = re.compile(r"^(S\d+)_(\d+)_(\d+)\.png$", re.IGNORECASE)
_EMOTION_RE = re.compile(r"^(S\d+)_(\d+)_(\d+)_emotion\.txt$", re.IGNORECASE)
_LAYOUT = (
    "either ckplus/cohn-kanade-images/S005/001/S005_001_00000011.png with "
    "ckplus/Emotion/S005/001/S005_001_00000011_emotion.txt (original), or "
    "ckplus/<anger|contempt|disgust|fear|happy|sadness|surprise>/S010_004_00000017.png (CK+48)"
)


def detect_layout(folder: Path, image_dir: str = "cohn-kanade-images") -> str:
    """``"original"`` when ``image_dir`` exists, ``"ck48"`` when class folders do.

    Raises :class:`DatasetFormatError` naming the folder and
    both expected layouts otherwise.
    """
    if (folder / image_dir).is_dir():
        return "original"
    if any((folder / name).is_dir() for name in CK48_FOLDERS):
        return "ck48"
    raise DatasetFormatError(f"CK+: cannot tell the layout of {folder}; expected {_LAYOUT}")


def read_emotion_file(path: str | os.PathLike[str]) -> int:
    """The integer emotion code (0..7) stored as a float in a CK+ ``_emotion.txt`` file.

    Raises :class:`DatasetFormatError` naming the file and
    the value when it is not one whole number in 0..7.
    """
    text = Path(path).read_text().strip()
    try:
        value = float(text)
    except ValueError:
        raise DatasetFormatError(
            f"{path}: expected one emotion code like '3.0000000e+00', got {text!r}"
        ) from None
    if value != round(value) or int(round(value)) not in EMOTION_CODES:
        raise DatasetFormatError(f"{path}: emotion code {text} is not a whole number in 0..7")
    return int(round(value))


def parse_frame_name(name: str) -> tuple[str, str, int]:
    """Split ``S005_001_00000011.png`` into (subject, sequence, frame number).
    """
    match = _FRAME_RE.match(name)
    if match is None:
        raise DatasetFormatError(
            f"CK+ frame name {name!r} does not match 'S005_001_00000011.png' "
            "(subject_sequence_frame.png)"
        )
    subject, sequence, frame = match.groups()
    return subject.upper(), sequence, int(frame)


def _sequence_frames(seq_dir: Path) -> list[tuple[int, str]]:
    """(frame number, file name) of every PNG frame in one sequence folder, in order."""
    frames = []
    for name in os.listdir(seq_dir):
        if name.lower().endswith(".png") and not name.startswith("."):
            frames.append((parse_frame_name(name)[2], name))
    return sorted(frames)


def _list_sequences(image_root: Path) -> dict[tuple[str, str], Path]:
    """Every ``<subject>/<sequence>`` folder under the image root that holds frames."""
    sequences = {}
    for subject in sorted(os.listdir(image_root)):
        subject_dir = image_root / subject
        if subject.startswith(".") or not subject_dir.is_dir():
            continue
        for sequence in sorted(os.listdir(subject_dir)):
            seq_dir = subject_dir / sequence
            if seq_dir.is_dir() and not sequence.startswith("."):
                sequences[(subject, sequence)] = seq_dir
    return sequences


def _list_emotion_files(label_root: Path) -> dict[tuple[str, str], Path]:
    """The one ``_emotion.txt`` file of every labelled sequence, by (subject, sequence)."""
    found: dict[tuple[str, str], Path] = {}
    for dirpath, _, files in os.walk(label_root):
        for name in sorted(files):
            if _EMOTION_RE.match(name) is None:
                continue
            key = (Path(dirpath).parent.name, Path(dirpath).name)
            if key in found:
                raise DatasetFormatError(
                    f"CK+: two emotion files in {dirpath}: {found[key].name} and {name}"
                )
            found[key] = Path(dirpath) / name
    return found


def _select_original(
    folder: Path,
    image_dir: str,
    label_dir: str,
    frames: str,
    include_neutral: bool,
    wanted: tuple[str, ...],
) -> tuple[list[tuple[Path, str, str]], dict[str, int], dict[str, Any]]:
    """(frame path, subject, class) samples of the original layout, plus drops and counts.

    Only classes in ``wanted`` are kept (the others are counted in
    ``dropped["class_not_requested"]``); a wanted class that no labelled sequence has
    is an error naming the label folder and the expected classes.
    """
    image_root, label_root = folder / image_dir, folder / label_dir
    if not image_root.is_dir():
        raise FileNotFoundError(f"CK+: image folder {image_root} is missing; expected {_LAYOUT}")
    if not label_root.is_dir():
        raise FileNotFoundError(f"CK+: label folder {label_root} is missing; expected {_LAYOUT}")
    sequences = _list_sequences(image_root)
    labels = _list_emotion_files(label_root)
    samples: list[tuple[Path, str, str]] = []
    dropped: dict[str, int] = {}
    for key, emotion_path in sorted(labels.items()):
        if key not in sequences:
            raise FileNotFoundError(
                f"CK+: {emotion_path} labels sequence {image_root / key[0] / key[1]}, "
                "which does not exist"
            )
        seq_frames = _sequence_frames(sequences[key])
        peak = int(_EMOTION_RE.match(emotion_path.name).group(3))
        upto = [name for number, name in seq_frames if number <= peak]
        if not upto or parse_frame_name(upto[-1])[2] != peak:
            raise FileNotFoundError(
                f"CK+: {emotion_path} labels frame {peak}, which is not in {sequences[key]}"
            )
        code = read_emotion_file(emotion_path)
        if code == 0 and not include_neutral:
            dropped["neutral_code"] = dropped.get("neutral_code", 0) + 1
            continue
        chosen = upto[-1:] if frames == "peak" else upto[-3:]
        subject = key[0].upper()
        if include_neutral and seq_frames[0][1] in chosen:
            # a sequence too short to have a neutral frame apart from the chosen ones
            dropped["neutral_frame_is_chosen"] = dropped.get("neutral_frame_is_chosen", 0) + 1
        elif include_neutral:
            samples.append((sequences[key] / seq_frames[0][1], subject, "neutral"))
        samples.extend((sequences[key] / name, subject, EMOTION_CODES[code]) for name in chosen)
    unlabelled = len(set(sequences) - set(labels))
    if unlabelled:
        dropped["unlabelled_sequence"] = unlabelled
    found = {c for _, _, c in samples}
    absent = [c for c in wanted if c not in found]
    if absent:
        codes = {c: k for k, c in EMOTION_CODES.items()}
        raise DatasetFormatError(
            f"CK+: no labelled sequence under {label_root} has class(es) "
            f"{', '.join(f'{c} (code {codes[c]})' for c in absent)}; expected every class of "
            f"{', '.join(wanted)} (pass classes=... to load only some classes)"
        )
    other = [s for s in samples if s[2] not in wanted]
    if other:
        dropped["class_not_requested"] = len(other)
        samples = [s for s in samples if s[2] in wanted]
    counts = {"sequences": len(sequences), "labelled_sequences": len(labels)}
    return samples, dropped, counts


def _select_ck48(
    folder: Path, frames: str, wanted: tuple[str, ...]
) -> tuple[list[tuple[Path, str, str]], dict[str, int], dict[str, Any]]:
    """(file path, subject, class) samples of the CK+48 layout (``peak``: last frame only).

    Every folder of a class in ``wanted`` must exist and hold PNG images (else an error
    names the folder and the expected folders); images of the other classes are
    counted in ``dropped["class_not_requested"]``.
    """
    unknown = [
        e
        for e in sorted(os.listdir(folder))
        if (folder / e).is_dir() and e not in CK48_FOLDERS and not e.startswith((".", "_"))
    ]
    if unknown:
        raise DatasetFormatError(
            f"CK+48: unexpected folder(s) {unknown} in {folder}; expected only "
            f"{', '.join(CK48_FOLDERS)}"
        )
    expected = [d for d, c in CK48_FOLDERS.items() if c in wanted]
    expected_text = (
        f"expected one folder per class: {', '.join(expected)} "
        "(pass classes=... to load only some classes)"
    )
    samples: list[tuple[Path, str, str, str, int]] = []
    other_files = not_requested = 0
    for dirname, cls in CK48_FOLDERS.items():
        class_dir = folder / dirname
        if not class_dir.is_dir():
            if cls in wanted:
                raise DatasetFormatError(
                    f"CK+48: class folder {class_dir} is missing; {expected_text}"
                )
            continue
        entries = [e for e in sorted(os.listdir(class_dir)) if not e.startswith(".")]
        pngs = [e for e in entries if e.lower().endswith(".png")]
        if cls not in wanted:
            not_requested += len(pngs)
            continue
        other_files += len(entries) - len(pngs)
        if not pngs:
            raise DatasetFormatError(
                f"CK+48: class folder {class_dir} holds no PNG images; {expected_text}"
            )
        for name in pngs:
            subject, sequence, number = parse_frame_name(name)
            samples.append((class_dir / name, subject, cls, sequence, number))
    if frames == "peak":
        last: dict[tuple[str, str, str], int] = {}
        for _, subject, cls, sequence, number in samples:
            key = (cls, subject, sequence)
            last[key] = max(number, last.get(key, number))
        samples = [s for s in samples if s[4] == last[(s[2], s[1], s[3])]]
    n_sequences = len({(s[2], s[1], s[3]) for s in samples})
    dropped = {"unrecognised_file": other_files, "class_not_requested": not_requested}
    dropped = {k: v for k, v in dropped.items() if v}
    return [s[:3] for s in samples], dropped, {"sequences": n_sequences}


def load_ckplus(
    root: str | os.PathLike[str],
    *,
    layout: str = "auto",
    frames: str | None = None,
    include_neutral: bool = False,
    image_size: int | None = None,
    image_dir: str = "cohn-kanade-images",
    label_dir: str = "Emotion",
    classes: Sequence[str] | None = None,
    duplicates: str = "error",
    cache: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
) -> FERDataset:
    """Load CK+ (original sequences or CK+48) as labelled gray face images.

    Args:
        root: the ``ckplus`` folder (or the data root holding it).
        layout: ``"auto"`` (detect), ``"original"`` or ``"ck48"``.
        frames: ``"peak"`` (the labelled, last frame of each sequence) or ``"last3"``
            (the three frames ending at the peak, like CK+48). ``None`` means ``"peak"``
            for the original layout and every file (already the last three) for CK+48.
        include_neutral: original layout only: add the first frame of each labelled
            sequence as a ``neutral`` sample (classes then start with neutral).
        image_size: side of the square images returned. ``None`` means 256 for the
            original layout (its frames differ in size; whole frames are resized, so
            640x490 frames are slightly squeezed) and the native 48 for CK+48.
        image_dir, label_dir: the original layout's image and label folders.
        classes: load only these classes (canonical names, e.g. ``("anger",
            "happiness")``; returned in the fixed order below). ``None``: every class,
            and then every class folder of CK+48 must exist and hold images, and every
            class must have a labelled sequence in the original layout; a missing one
            is a :class:`DatasetFormatError` naming the folder and the expected classes.
            Images of classes not asked for are counted in
            ``dropped["class_not_requested"]``.
        duplicates: pixel-identical images (the same PNG twice, a copying mistake that
            can put one image on both sides of a split): ``"error"`` (default) raises
            naming the files; ``"keep"`` keeps them; ``"drop"`` keeps the first of each
            group (in load order) and counts the rest in ``dropped["duplicate_image"]``.
            ``info["duplicates"]`` lists the groups found.
        cache, cache_dir: see :func:`fer_utils.data.cache.cached_arrays`.

    Returns a :class:`FERDataset` with classes anger, contempt, disgust, fear,
    happiness, sadness, surprise (emotion-code order), ``subjects`` like ``"S005"``,
    RGB frames converted to gray, and no distributions. Unlabelled sequences of the
    original layout are counted in ``dropped["unlabelled_sequence"]``; a label file
    with code 0 (neutral) is counted in ``dropped["neutral_code"]`` unless
    ``include_neutral``; non-PNG files in CK+48 class folders in
    ``dropped["unrecognised_file"]``; with ``include_neutral``, a sequence whose first
    frame is one of the chosen frames (too short) gets no neutral sample, counted in
    ``dropped["neutral_frame_is_chosen"]``.
    """
    for name, value, allowed in (("layout", layout, LAYOUTS), ("frames", frames, FRAME_CHOICES)):
        if value is not None and value not in allowed:
            raise ValueError(f"unknown {name}={value!r}; expected one of {', '.join(allowed)}")
    check_choice("duplicates", duplicates, DUPLICATE_POLICIES)
    image_size = check_image_size(image_size)
    all_classes = (("neutral",) if include_neutral else ()) + CKPLUS_CLASSES
    hint = "" if include_neutral else " (neutral needs include_neutral=True, original layout)"
    classes_ = select_classes(classes, all_classes, "CK+", hint)
    markers = (image_dir, *CK48_FOLDERS)
    folder = find_dataset_dir(root, "ckplus", markers, _LAYOUT)
    layout = detect_layout(folder, image_dir) if layout == "auto" else layout
    if layout == "ck48" and include_neutral:
        raise ValueError("include_neutral=True needs the original CK+ layout; CK+48 has none")
    label_files: list[Path] = []
    if layout == "original":
        frames = frames or "peak"
        size = ORIGINAL_IMAGE_SIZE if image_size is None else image_size
        samples, dropped, counts = _select_original(
            folder, image_dir, label_dir, frames, include_neutral, classes_
        )
        label_files = sorted(_list_emotion_files(folder / label_dir).values())
    else:
        size = image_size
        samples, dropped, counts = _select_ck48(folder, frames or "last3", classes_)
    if not samples:
        raise DatasetFormatError(
            f"CK+: no labelled frames found under {folder}; expected {_LAYOUT}"
        )
    paths = [p for p, _, _ in samples]

    def build() -> dict[str, np.ndarray]:
        images, digests = decode_images_hashed(paths, size)
        return {"images": images, "digests": digests}

    # imported here, not at the top, so that `python -m fer_utils.data.cache`
    # finds the module not yet imported by the package
    from fer_utils.data.cache import cached_arrays

    arrays, cache_info = cached_arrays(
        f"ckplus-{layout}",
        LOADER_VERSION,
        {"image_size": size},
        paths,
        build,
        cache,
        cache_dir,
        label_files=label_files,
    )
    filenames = [p.relative_to(folder).as_posix() for p in paths]
    keep, duplicate_report = resolve_duplicates(
        "CK+", arrays["digests"], filenames, duplicates, folder
    )
    images = arrays["images"]
    if not keep.all():
        dropped["duplicate_image"] = int((~keep).sum())
        samples = [s for s, k in zip(samples, keep, strict=True) if k]
        filenames = [f for f, k in zip(filenames, keep, strict=True) if k]
        images = images[keep]
    labels = torch.tensor([classes_.index(c) for _, _, c in samples], dtype=torch.long)
    report_dropped("ckplus", dropped, folder)
    info: dict[str, Any] = {
        "root": str(folder),
        "layout": layout,
        "options": {
            "layout": layout,
            "frames": frames,
            "include_neutral": include_neutral,
            "image_size": size,
            "image_dir": image_dir,
            "label_dir": label_dir,
            "classes": list(classes_),
            "duplicates": duplicates,
        },
        "counts": {**counts, **{c: int((labels == i).sum()) for i, c in enumerate(classes_)}},
        "duplicates": duplicate_report,
        **cache_info,
    }
    return FERDataset(
        name="ckplus",
        images=torch.from_numpy(np.ascontiguousarray(images)).unsqueeze(1),
        labels=labels,
        classes=classes_,
        subjects=np.array([s for _, s, _ in samples]),
        filenames=filenames,
        dropped=dropped,
        info=info,
    )
