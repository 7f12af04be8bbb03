"""Expression features and each emotion's prototype: what an emotion does to the face.

An image's expression is the blend ``weights @ prototype_matrix(classes)`` of the
prototypes below (see the docstring of :mod:`fer_utils.data.synthetic`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fer_utils.data.dataset import CANONICAL_CLASSES, check_classes

#: The expression features, each roughly in [-1, 1]; 0 everywhere is the rest face.
EXPRESSION_FEATURES: tuple[str, ...] = (
    "brow_raise",  # both brows up (+) or down (-)
    "brow_inner_raise",  # inner brow ends up (+, sadness) or down (-, anger's V)
    "brow_squeeze",  # inner brow ends drawn towards the middle
    "eye_open",  # eyes wide (+) or narrowed (-)
    "cheek_raise",  # lines from the nose wings to the mouth corners
    "nose_wrinkle",  # short creases across the nose bridge
    "mouth_curve",  # both mouth corners up (+, smile) or down (-)
    "mouth_open",  # jaw drop: the lips part
    "mouth_width",  # mouth stretched (+) or pressed narrow (-)
    "one_side_raise",  # only the image-right mouth corner goes up and out (contempt)
)

#: Each emotion's prototype: its non-zero expression features. Neutral is the rest face.
EXPRESSION_PROTOTYPES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happiness": {
        "eye_open": -0.4,
        "cheek_raise": 1.0,
        "mouth_curve": 1.0,
        "mouth_width": 0.5,
        "mouth_open": 0.25,
    },
    "surprise": {"brow_raise": 1.0, "eye_open": 1.0, "mouth_open": 1.0, "mouth_width": -0.45},
    "sadness": {
        "brow_inner_raise": 1.0,
        "brow_squeeze": 0.4,
        "eye_open": -0.3,
        "mouth_curve": -0.9,
        "mouth_width": -0.1,
    },
    "anger": {
        "brow_raise": -0.7,
        "brow_inner_raise": -1.0,
        "brow_squeeze": 1.0,
        "eye_open": -0.4,
        "mouth_curve": -0.3,
        "mouth_width": -0.35,
    },
    "disgust": {
        "brow_raise": -0.5,
        "brow_squeeze": 0.5,
        "eye_open": -0.6,
        "cheek_raise": 0.5,
        "nose_wrinkle": 1.0,
        "mouth_curve": -0.6,
        "mouth_open": 0.2,
    },
    "fear": {
        "brow_raise": 0.7,
        "brow_inner_raise": 0.6,
        "brow_squeeze": 0.6,
        "eye_open": 0.9,
        "mouth_curve": -0.25,
        "mouth_open": 0.45,
        "mouth_width": 0.55,
    },
    "contempt": {"one_side_raise": 1.0, "eye_open": -0.15},
}


def _check_classes(classes: Sequence[str]) -> tuple[str, ...]:
    """``classes`` as a tuple of canonical names, or a ``ValueError`` that names ``classes``."""
    try:
        return check_classes(classes)
    except ValueError as err:
        raise ValueError(f"classes: {err}") from err


def prototype_matrix(classes: Sequence[str] = CANONICAL_CLASSES) -> np.ndarray:
    """The ``K x F`` matrix of expression prototypes, one row per class.

    Introduced in notebook 01. Columns follow :data:`EXPRESSION_FEATURES`; a blend of
    emotions with weights ``w`` (length K) has expression features ``w @ matrix``.
    """
    classes = _check_classes(classes)
    out = np.zeros((len(classes), len(EXPRESSION_FEATURES)), dtype=np.float32)
    for row, name in enumerate(classes):
        for feature, value in EXPRESSION_PROTOTYPES[name].items():
            out[row, EXPRESSION_FEATURES.index(feature)] = value
    return out
