"""Write synthetic faces in the assumed RAF-ML layout (aligned and original images).

The real RAF-ML is not available; the layout is the one :mod:`fer_utils.data.rafml`
documents. Each face also goes into a larger "original" photo with its five landmarks.
See :func:`write_rafml`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from fer_utils.data.rafml import RAFML_CLASSES
from fer_utils.data.writers_common import WrittenDataset, _class_column, _class_names

if TYPE_CHECKING:
    from fer_utils.data.synthetic import SyntheticFaces


def write_rafml(
    root: str | os.PathLike[str],
    faces: SyntheticFaces,
    aligned_size: int = 100,
    train_fraction: float = 0.8,
    seed: int = 0,
) -> WrittenDataset:
    """Write faces in the ASSUMED RAF-ML layout of :mod:`fer_utils.data.rafml`.

    The real RAF-ML is not available, so this layout is the
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
