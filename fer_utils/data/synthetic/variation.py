"""What varies between faces besides the expression, and how ``difficulty`` scales it.

Identities (each subject's face shape and tones), per-image pose (shift, scale, rotation)
and scene (lighting, contrast, backdrop, pixel noise), the neutral defaults of each, and
:data:`DIFFICULTY_SCALES` with the per-image draws of pose and scene it bounds.
"""

from __future__ import annotations

import numpy as np

# Face coordinates ("canonical" units): the image spans [-0.5, 0.5] in x and y before the
# pose transform, x to the right and y downwards. Half-sizes are used throughout.
# name: (average, spread); a subject draws average + spread * uniform(-1, 1) * variety.
_IDENTITY_RANGES: dict[str, tuple[float, float]] = {
    "face_width": (0.31, 0.03),  # half-width of the face ellipse
    "face_height": (0.40, 0.03),  # half-height of the face ellipse
    "eye_spacing": (0.125, 0.012),  # half the distance between the eye centres
    "eye_y": (-0.05, 0.015),
    "eye_width": (0.055, 0.008),
    "eye_height": (0.03, 0.005),
    "brow_gap": (0.06, 0.01),  # from the eye centre up to the brow
    "brow_length": (0.085, 0.012),
    "brow_thickness": (0.013, 0.004),
    "nose_y": (0.10, 0.015),  # the nose tip
    "mouth_y": (0.22, 0.015),
    "mouth_width": (0.095, 0.015),
    "lip_thickness": (0.009, 0.002),
    "hairline": (-0.24, 0.04),
    "rest_mouth_curve": (0.0, 0.012),  # some people's resting mouth turns up or down
    "rest_brow_tilt": (0.0, 0.012),
    "skin_tone": (175.0, 35.0),
    "hair_tone": (50.0, 40.0),
}

#: Columns of an identity array (see :func:`sample_identities`).
IDENTITY_FEATURES: tuple[str, ...] = tuple(_IDENTITY_RANGES)

#: Columns of a pose array: shift (fractions of the image size), scale, rotation (degrees).
POSE_FIELDS: tuple[str, ...] = ("shift_x", "shift_y", "scale", "rotation_deg")

#: Columns of a scene array: lighting gradient (relative change across the image),
#: brightness offset, contrast factor, backdrop grey level, pixel-noise std (grey levels).
SCENE_FIELDS: tuple[str, ...] = (
    "gradient_x",
    "gradient_y",
    "brightness",
    "contrast",
    "background",
    "noise_std",
)

_BACKDROP, _BACKDROP_SPREAD = 110.0, 15.0  # grey level behind the head, and its spread


def average_identity() -> np.ndarray:
    """The average face: one identity row (see :data:`IDENTITY_FEATURES`).

    Every emotion's prototype is drawn on this face.
    """
    return np.array([mean for mean, _ in _IDENTITY_RANGES.values()], dtype=np.float32)


def sample_identities(
    n_subjects: int, variety: float = 1.0, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Draw ``n_subjects`` face shapes, an ``n_subjects x F`` array (:data:`IDENTITY_FEATURES`).

    ``variety`` scales how far subjects stray from the average
    face (0 gives clones of :func:`average_identity`).
    """
    rng = np.random.default_rng(0) if rng is None else rng
    spread = np.array([s for _, s in _IDENTITY_RANGES.values()], dtype=np.float32)
    offsets = rng.uniform(-1.0, 1.0, size=(n_subjects, len(spread))).astype(np.float32)
    return average_identity() + variety * spread * offsets


def neutral_pose(n: int) -> np.ndarray:
    """``n`` rows of the identity pose: centred, scale 1, upright (see :data:`POSE_FIELDS`)."""
    return np.tile(np.array([0.0, 0.0, 1.0, 0.0], dtype=np.float32), (n, 1))


def plain_scene(n: int) -> np.ndarray:
    """``n`` rows of an even, noise-free scene on a mid-grey backdrop (:data:`SCENE_FIELDS`)."""
    return np.tile(np.array([0.0, 0.0, 0.0, 1.0, _BACKDROP, 0.0], dtype=np.float32), (n, 1))


#: What ``difficulty = 1`` means. Every amount is multiplied by ``difficulty ** 0.7`` (0:
#: none of it; the default 0.5 already gives 62% of it, which puts a small CNN's accuracy
#: near that of the papers), and each image then draws its own value within that amount.
DIFFICULTY_SCALES: dict[str, float] = {
    "shift": 0.06,  # face position, fraction of the image size, per axis
    "scale_change": 0.12,  # relative face size
    "rotation_deg": 15.0,  # in-plane rotation
    "light_gradient": 0.5,  # relative brightness change across the image, per axis
    "brightness": 35.0,  # grey levels
    "contrast_change": 0.35,  # relative
    "backdrop_change": 55.0,  # grey levels, on top of a spread of 15 even at difficulty 0
    "noise_std": 14.0,  # grey levels of Gaussian pixel noise (every image gets this much)
    "secondary_weight": 0.6,  # the dominant emotion keeps at least 1 minus this
    "intensity_drop": 0.35,  # the whole expression is weakened by up to this fraction
    "identity_variety": 0.5,  # subjects differ by 0.5 plus this times the identity ranges
}
_DIFFICULTY_CURVE = 0.7
_BASE_IDENTITY_VARIETY = 0.5


def difficulty_amounts(difficulty: float) -> dict[str, float]:
    """How much of each variation a ``difficulty`` in [0, 1] means.

    :data:`DIFFICULTY_SCALES` times ``difficulty ** 0.7``.
    ``generate_faces`` records these in ``params``.
    """
    factor = float(difficulty) ** _DIFFICULTY_CURVE
    return {name: scale * factor for name, scale in DIFFICULTY_SCALES.items()}


def _sample_poses(n: int, amounts: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Per-image shift, scale and rotation, each uniform within +- its amount."""
    span = rng.uniform(-1.0, 1.0, size=(n, 4))
    return np.stack(
        [
            amounts["shift"] * span[:, 0],
            amounts["shift"] * span[:, 1],
            1.0 + amounts["scale_change"] * span[:, 2],
            amounts["rotation_deg"] * span[:, 3],
        ],
        axis=1,
    ).astype(np.float32)


def _sample_scenes(n: int, amounts: dict[str, float], rng: np.random.Generator) -> np.ndarray:
    """Per-image lighting gradient, brightness, contrast, backdrop and noise level."""
    span = rng.uniform(-1.0, 1.0, size=(n, 5))
    return np.stack(
        [
            amounts["light_gradient"] * span[:, 0],
            amounts["light_gradient"] * span[:, 1],
            amounts["brightness"] * span[:, 2],
            1.0 + amounts["contrast_change"] * span[:, 3],
            _BACKDROP + (_BACKDROP_SPREAD + amounts["backdrop_change"]) * span[:, 4],
            np.full(n, amounts["noise_std"]),
        ],
        axis=1,
    ).astype(np.float32)
