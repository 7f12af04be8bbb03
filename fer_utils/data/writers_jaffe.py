"""Write synthetic faces as JAFFE: TIFF images plus the two mean-rating files.

With quirks, the real set's faults are injected too: palette TIFFs, a subject-code typo
in the rating files and rating rows without an image. See :func:`write_jaffe`.
"""

from __future__ import annotations

import os
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from fer_utils.data.jaffe import EXPRESSION_CODES, RATING_CLASSES, RATING_COLUMNS, SUBJECT_CODES
from fer_utils.data.writers_common import WrittenDataset, _class_column, _class_names

if TYPE_CHECKING:
    from fer_utils.data.synthetic import SyntheticFaces


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

    Subjects map to the ten JAFFE codes (subject id mod 10),
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
