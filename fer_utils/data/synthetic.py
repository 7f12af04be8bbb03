"""Built-in synthetic facial-expression data whose true label distribution is known.

Introduced in notebook 01 (data exploration). No real dataset can be downloaded at run
time, so every notebook and test defaults to these procedurally drawn faces.

How a face is made:

1. **Expression.** Each emotion has a *prototype*: a small vector of expression features
   (brow raise, eye openness, mouth curvature, ...; see :data:`EXPRESSION_FEATURES` and
   :data:`EXPRESSION_PROTOTYPES`). Neutral is the rest face, all zeros. An image's face
   is rendered from the blend ``sum_k w_k * prototype_k``, where ``w`` is that image's
   *true* label distribution.
2. **Distribution.** A dominant emotion is drawn from the class shares (uniform, FER+ or
   JAFFE shares of paper A's Table 1, or your own weights); up to two secondary emotions
   are drawn with probability proportional to ``exp(-d)``, ``d`` their distance from the
   dominant one on Plutchik's emotion wheel (neutral is 3 from everything). The higher
   ``difficulty``, the more weight the secondary emotions take.
3. **Identity.** Each of ``n_subjects`` subjects has its own face shape (face size, eye
   spacing, mouth width, brow thickness, skin and hair tone, ...).
4. **Pose, light and noise.** Every image gets its own shift, scale, in-plane rotation,
   lighting gradient, brightness, contrast, backdrop and pixel noise, all growing with
   ``difficulty`` (none at 0).

Shapes (ellipses and thick curves) are evaluated as smooth coverage fields on the pixel
grid with numpy broadcasting, many images at once; nothing loops over images. The five
landmarks are exact: they are the model's own eye centres, nose tip and mouth corners
pushed through the same pose transform as the pixels. "Left" and "right" mean the image's
left and right (smaller and larger x).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

import numpy as np
import torch

from fer_utils.data.dataset import CANONICAL_CLASSES, LANDMARK_NAMES, FERDataset, check_classes
from fer_utils.data.splits import train_val_test_split
from fer_utils.published import TABLE1_SHARES
from fer_utils.wheel import distance_matrix

__all__ = [
    "CANONICAL_CLASSES",
    "DIFFICULTY_SCALES",
    "EXPRESSION_FEATURES",
    "EXPRESSION_PROTOTYPES",
    "FERPLUS_SHARES",
    "IDENTITY_FEATURES",
    "JAFFE_SHARES",
    "LANDMARK_NAMES",
    "POSE_FIELDS",
    "SCENE_FIELDS",
    "SyntheticFaces",
    "average_identity",
    "class_shares",
    "difficulty_amounts",
    "generate_faces",
    "load_synthetic",
    "neutral_pose",
    "plain_scene",
    "prototype_matrix",
    "render_faces",
    "sample_identities",
]

#: Class shares (percent) of the FER+ and JAFFE columns of paper A's Table 1 (JAFFE has
#: no contempt), kept in :mod:`fer_utils.published` with the other published numbers.
FERPLUS_SHARES: dict[str, float] = TABLE1_SHARES["ferplus"]
JAFFE_SHARES: dict[str, float] = TABLE1_SHARES["jaffe"]

_NAMED_SHARES: dict[str, dict[str, float] | None] = {
    "uniform": None,
    "ferplus": FERPLUS_SHARES,
    "jaffe": JAFFE_SHARES,
}

# ---------------------------------------------------------------------------------------
# Expression prototypes
# ---------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------
# Identity, pose and scene parameters
# ---------------------------------------------------------------------------------------

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

_FACE_CENTRE_Y = 0.03  # the face ellipse sits a little below the image centre
_BACKDROP, _BACKDROP_SPREAD = 110.0, 15.0  # grey level behind the head, and its spread


def average_identity() -> np.ndarray:
    """The average face: one identity row (see :data:`IDENTITY_FEATURES`).

    Introduced in notebook 01, where every emotion's prototype is shown on this face.
    """
    return np.array([mean for mean, _ in _IDENTITY_RANGES.values()], dtype=np.float32)


def sample_identities(
    n_subjects: int, variety: float = 1.0, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Draw ``n_subjects`` face shapes, an ``n_subjects x F`` array (:data:`IDENTITY_FEATURES`).

    Introduced in notebook 01. ``variety`` scales how far subjects stray from the average
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


# ---------------------------------------------------------------------------------------
# Face geometry: expression + identity -> positions of every facial part
# ---------------------------------------------------------------------------------------

# Face geometry: one array per part position or size (length N for the box functions,
# N x 1 x 1 for the drawing functions, so that it broadcasts over the pixel grid).
_Geometry = dict[str, np.ndarray]
# A canonical rectangle per image: (x0, x1, y0, y1), each of length N.
_Box = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _face_geometry(expression: np.ndarray, identity: np.ndarray) -> _Geometry:
    """Positions and sizes of every facial part, in canonical units, one entry per image.

    ``expression`` is ``N x len(EXPRESSION_FEATURES)``, ``identity`` is
    ``N x len(IDENTITY_FEATURES)``. This is where each expression feature moves the face.
    """
    e = {name: expression[:, i] for i, name in enumerate(EXPRESSION_FEATURES)}
    g = {name: identity[:, i] for i, name in enumerate(IDENTITY_FEATURES)}
    out = dict(g)

    brow_y = g["eye_y"] - g["brow_gap"] - 0.045 * e["brow_raise"]
    out["brow_inner_y"] = brow_y - 0.04 * e["brow_inner_raise"] - g["rest_brow_tilt"]
    out["brow_outer_y"] = brow_y + 0.012 * e["brow_inner_raise"] + g["rest_brow_tilt"]
    out["brow_inner_x"] = g["eye_spacing"] - 0.45 * g["brow_length"] - 0.025 * e["brow_squeeze"]
    out["brow_outer_x"] = g["eye_spacing"] + 0.55 * g["brow_length"]

    out["eye_height"] = g["eye_height"] * np.maximum(1.0 + 0.6 * e["eye_open"], 0.3)
    out["iris_radius"] = 0.95 * g["eye_height"]
    out["cheek_line"] = np.clip(e["cheek_raise"], 0.0, 1.0)
    out["wrinkle"] = np.clip(e["nose_wrinkle"], 0.0, 1.0)

    mouth_half = g["mouth_width"] * (1.0 + 0.3 * e["mouth_width"])
    corner_raise = 0.045 * e["mouth_curve"] + g["rest_mouth_curve"]
    one_side = 0.05 * e["one_side_raise"]
    out["mouth_left_x"] = -mouth_half
    out["mouth_right_x"] = mouth_half + 0.015 * e["one_side_raise"]
    out["mouth_left_y"] = g["mouth_y"] - corner_raise
    out["mouth_right_y"] = g["mouth_y"] - corner_raise - one_side
    # The mouth line is a parabola through both corners whose middle stays at mouth_y.
    out["mouth_bend"] = -(corner_raise + 0.5 * one_side)
    out["mouth_opening"] = 0.09 * np.clip(e["mouth_open"], 0.0, None)
    return out


def _canonical_landmarks(geom: _Geometry) -> np.ndarray:
    """The five landmarks (:data:`LANDMARK_NAMES` order) in canonical units, ``N x 5 x 2``."""
    points = [
        (-geom["eye_spacing"], geom["eye_y"]),
        (geom["eye_spacing"], geom["eye_y"]),
        (np.zeros_like(geom["nose_y"]), geom["nose_y"]),
        (geom["mouth_left_x"], geom["mouth_left_y"]),
        (geom["mouth_right_x"], geom["mouth_right_y"]),
    ]
    return np.stack([np.stack(p, axis=-1) for p in points], axis=1).astype(np.float32)


def _pose_to_pixels(points: np.ndarray, pose: np.ndarray, image_size: int) -> np.ndarray:
    """Map canonical points ``N x P x 2`` through each image's pose to pixel (x, y).

    Pixel centres sit at integer coordinates, so (0, 0) is the centre of the top-left pixel.
    """
    shift = pose[:, None, 0:2]
    scale = pose[:, None, 2:3]
    angle = np.deg2rad(pose[:, 3])[:, None]
    cos, sin = np.cos(angle), np.sin(angle)
    x, y = points[..., 0], points[..., 1]
    rotated = np.stack([cos * x - sin * y, sin * x + cos * y], axis=-1)
    normalised = scale * rotated + shift
    return ((image_size - 1) / 2 + image_size * normalised).astype(np.float32)


# ---------------------------------------------------------------------------------------
# Drawing primitives: smooth coverage (0..1) of shapes on the pixel grid
# ---------------------------------------------------------------------------------------


# A number, or per-image numbers that broadcast over the pixel grid.
_Num = np.ndarray | float


def _ramp(signed_distance: np.ndarray, pixel: np.ndarray) -> np.ndarray:
    """Anti-aliased coverage from a signed distance (positive inside), about one pixel wide."""
    return np.clip(signed_distance / pixel + 0.5, 0.0, 1.0)


def _ellipse_radius(
    u: np.ndarray, v: np.ndarray, cx: _Num, cy: _Num, ax: _Num, ay: _Num
) -> np.ndarray:
    """Normalised radius of an axis-aligned ellipse: 1 on its outline, 0 at its centre."""
    return np.sqrt(np.square((u - cx) / ax) + np.square((v - cy) / ay))


def _ellipse(
    u: np.ndarray, v: np.ndarray, cx: _Num, cy: _Num, ax: _Num, ay: _Num, pixel: np.ndarray
) -> np.ndarray:
    """Coverage of an axis-aligned ellipse with half-axes ``ax`` and ``ay``."""
    short = np.minimum(ax, ay)
    return _ramp((1.0 - _ellipse_radius(u, v, cx, cy, ax, ay)) * short, pixel)


def _curve(
    a: np.ndarray, a0: _Num, a1: _Num, b0: _Num, b1: _Num, bend: _Num
) -> tuple[np.ndarray, np.ndarray]:
    """A parabola ``b(a)`` from ``(a0, b0)`` to ``(a1, b1)`` whose middle is lifted by ``bend``.

    Returns the position ``t`` along it (0 at a0, 1 at a1) and its ``b`` at every ``a``.
    """
    t = (a - a0) / (a1 - a0)
    return t, b0 + (b1 - b0) * t - 4.0 * bend * t * (1.0 - t)


def _along(t: np.ndarray, length: _Num, pixel: np.ndarray) -> np.ndarray:
    """Coverage of the stretch ``0 <= t <= 1`` of a curve of the given length."""
    return _ramp(np.minimum(t, 1.0 - t) * length, pixel)


def _stroke(
    a: np.ndarray,
    b: np.ndarray,
    a0: _Num,
    a1: _Num,
    b0: _Num,
    b1: _Num,
    bend: _Num,
    half_width: _Num,
    pixel: np.ndarray,
) -> np.ndarray:
    """Coverage of a thick curve ``b(a)`` (see :func:`_curve`), with clean square ends."""
    t, centre = _curve(a, a0, a1, b0, b1, bend)
    return _ramp(half_width - np.abs(b - centre), pixel) * _along(t, np.abs(a1 - a0), pixel)


def _paint(image: np.ndarray, coverage: np.ndarray, tone: _Num) -> None:
    """Lay ``tone`` over ``image`` in place, where ``coverage`` (0..1) says how much."""
    image += coverage * (tone - image)


# ---------------------------------------------------------------------------------------
# Rendering
# ---------------------------------------------------------------------------------------


def _canonical_coords(
    rows: np.ndarray, cols: np.ndarray, pose: np.ndarray, image_size: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Canonical face coordinates (u, v) of pixels, and the pixel size in those units.

    ``rows`` (``B x h``) and ``cols`` (``B x w``) are pixel indices per image (or shared,
    ``1 x h`` and ``1 x w``); ``u`` and ``v`` come out ``B x h x w``. This inverts the pose
    transform of :func:`_pose_to_pixels`.
    """
    centre = (image_size - 1) / 2
    shift_x, shift_y, scale, angle = (pose[:, i, None, None] for i in range(4))
    angle = np.deg2rad(angle)
    cos, sin = np.cos(angle), np.sin(angle)
    x = (cols[:, None, :].astype(np.float32) - centre) / image_size - shift_x
    y = (rows[:, :, None].astype(np.float32) - centre) / image_size - shift_y
    u = (cos * x + sin * y) / scale
    v = (cos * y - sin * x) / scale
    return u, v, 1.0 / (image_size * scale)


def _draw_head(
    img: np.ndarray, u: np.ndarray, v: np.ndarray, g: _Geometry, pixel: np.ndarray
) -> None:
    """Neck, face (shaded towards its rim) and hair."""
    skin, hair = g["skin_tone"], g["hair_tone"]
    neck = _ramp(0.6 * g["face_width"] - np.abs(u), pixel) * _ramp(v - _FACE_CENTRE_Y, pixel)
    _paint(img, neck, 0.8 * skin)
    radius = _ellipse_radius(u, v, 0.0, _FACE_CENTRE_Y, g["face_width"], g["face_height"])
    face = _ramp((1.0 - radius) * g["face_width"], pixel)
    _paint(img, face, skin * (1.0 - 0.22 * np.square(np.minimum(radius, 1.0))))
    # Hair: the top of a slightly larger head ellipse, above a hairline curving down.
    head = _ellipse(
        u, v, 0.0, _FACE_CENTRE_Y - 0.02, g["face_width"] + 0.03, g["face_height"] + 0.03, pixel
    )
    hairline = g["hairline"] + 0.12 * np.square(u / g["face_width"])
    _paint(img, head * _ramp(hairline - v, pixel), hair)


# Each facial part below comes as a pair: a box function giving, per image, a canonical
# rectangle (x0, x1, y0, y1) that holds everything the part draws, and a draw function.
# Parts are drawn only inside the pixel window around their box, which saves most of
# the work: the rest of the image would get zero coverage anyway.

_LID = 0.008  # thickness of the dark lid outline around each eye
_BROW_ARCH = 0.008


def _eye_box(geom: _Geometry, side: float) -> _Box:
    """Canonical box around one eye and its brow (side -1: image left, +1: image right)."""
    eye_x = side * geom["eye_spacing"]
    brow_x = (side * geom["brow_inner_x"], side * geom["brow_outer_x"])
    half_w = geom["eye_width"] + _LID
    x0 = np.minimum.reduce([eye_x - half_w, *brow_x])
    x1 = np.maximum.reduce([eye_x + half_w, *brow_x])
    brow_top = np.minimum(geom["brow_inner_y"], geom["brow_outer_y"])
    y0 = brow_top - _BROW_ARCH - geom["brow_thickness"]
    y1 = np.maximum(geom["brow_inner_y"], geom["brow_outer_y"]) + geom["brow_thickness"]
    y1 = np.maximum(y1, geom["eye_y"] + geom["eye_height"] + _LID)
    return x0, x1, y0, y1


def _draw_eye(
    img: np.ndarray, u: np.ndarray, v: np.ndarray, g: _Geometry, pixel: np.ndarray, side: float
) -> None:
    """One eye (dark lid outline, white, an iris the lids clip) and its brow."""
    skin, eye_x, eye_y = g["skin_tone"], side * g["eye_spacing"], g["eye_y"]
    width, height = g["eye_width"], g["eye_height"]
    _paint(img, _ellipse(u, v, eye_x, eye_y, width + _LID, height + _LID, pixel), 0.35 * skin)
    white = _ellipse(u, v, eye_x, eye_y, width, height, pixel)
    _paint(img, white, 225.0)
    iris = _ellipse(u, v, eye_x, eye_y, g["iris_radius"], g["iris_radius"], pixel)
    _paint(img, white * iris, 35.0)
    brow = _stroke(
        u,
        v,
        side * g["brow_inner_x"],
        side * g["brow_outer_x"],
        g["brow_inner_y"],
        g["brow_outer_y"],
        _BROW_ARCH,
        g["brow_thickness"],
        pixel,
    )
    _paint(img, brow, 0.3 * skin + 0.3 * g["hair_tone"])


def _nose_box(geom: _Geometry) -> _Box:
    """Canonical box around the nose, its base, nostrils and wrinkles."""
    ones = np.ones_like(geom["nose_y"])
    return -0.045 * ones, 0.045 * ones, geom["eye_y"] + 0.005, geom["nose_y"] + 0.03


def _draw_nose(
    img: np.ndarray, u: np.ndarray, v: np.ndarray, g: _Geometry, pixel: np.ndarray
) -> None:
    """Nose: a shaded side, the base under the tip, nostrils, and (disgust) wrinkles."""
    skin, tip = g["skin_tone"], g["nose_y"]
    side = _stroke(v, u, g["eye_y"] + 0.03, tip - 0.01, 0.02, 0.035, 0.0, 0.006, pixel)
    _paint(img, 0.5 * side, 0.6 * skin)
    base = _stroke(u, v, -0.035, 0.035, tip + 0.012, tip + 0.012, -0.008, 0.005, pixel)
    _paint(img, base, 0.6 * skin)
    for x in (-0.024, 0.024):
        _paint(img, _ellipse(u, v, x, tip + 0.006, 0.012, 0.008, pixel), 0.4 * skin)
    wrinkle = g["wrinkle"]
    if not np.any(wrinkle > 0):
        return
    for dy in (0.015, 0.032, 0.049):
        crease = _stroke(u, v, -0.032, 0.032, g["eye_y"] + dy, g["eye_y"] + dy, 0.006, 0.004, pixel)
        _paint(img, wrinkle * crease, 0.5 * skin)


_CHEEK_BOW = 0.01


def _mouth_box(geom: _Geometry) -> _Box:
    """Canonical box around the mouth and the cheek lines."""
    x0 = np.minimum(geom["mouth_left_x"] - 0.02, -0.05) - _CHEEK_BOW - 0.005
    x1 = np.maximum(geom["mouth_right_x"] + 0.02, 0.05) + _CHEEK_BOW + 0.005
    # A parabola never leaves its end points' range by more than its bend (see _curve).
    reach = (
        np.maximum(
            np.abs(geom["mouth_bend"] + 0.35 * geom["mouth_opening"]),
            np.abs(geom["mouth_bend"] - 0.65 * geom["mouth_opening"]),
        )
        + 1.3 * geom["lip_thickness"]
    )
    corners_top = np.minimum(geom["mouth_left_y"], geom["mouth_right_y"])
    corners_bottom = np.maximum(geom["mouth_left_y"], geom["mouth_right_y"])
    return x0, x1, np.minimum(geom["nose_y"], corners_top - reach), corners_bottom + reach


def _draw_mouth(
    img: np.ndarray, u: np.ndarray, v: np.ndarray, g: _Geometry, pixel: np.ndarray
) -> None:
    """Cheek lines (nose wings to mouth corners), then the mouth: a dark opening between
    two lips (closed, the lips meet on one curve)."""
    x0, x1 = g["mouth_left_x"], g["mouth_right_x"]
    y0, y1 = g["mouth_left_y"], g["mouth_right_y"]
    if np.any(g["cheek_line"] > 0):
        for side, corner_x, corner_y in ((-1.0, x0, y0), (1.0, x1, y1)):
            line = _stroke(
                v,
                u,
                g["nose_y"],
                corner_y - 0.005,
                side * 0.05,
                corner_x + side * 0.02,
                -side * _CHEEK_BOW,
                0.005,
                pixel,
            )
            _paint(img, g["cheek_line"] * line, 0.62 * g["skin_tone"])
    bend, opening = g["mouth_bend"], g["mouth_opening"]
    t, upper = _curve(u, x0, x1, y0, y1, bend + 0.35 * opening)
    _, lower = _curve(u, x0, x1, y0, y1, bend - 0.65 * opening)
    along = _along(t, x1 - x0, pixel)
    inside = _ramp(v - upper, pixel) * _ramp(lower - v, pixel) * along
    _paint(img, inside, 30.0)
    lip_tone = 0.55 * g["skin_tone"]
    half = g["lip_thickness"]
    _paint(img, _ramp(half - np.abs(v - upper), pixel) * along, lip_tone)
    _paint(img, _ramp(1.3 * half - np.abs(v - lower), pixel) * along, lip_tone)


_FACE_PARTS = (
    (partial(_eye_box, side=-1.0), partial(_draw_eye, side=-1.0)),
    (partial(_eye_box, side=1.0), partial(_draw_eye, side=1.0)),
    (_nose_box, _draw_nose),
    (_mouth_box, _draw_mouth),
)


def _pixel_window(
    box: _Box, pose: np.ndarray, image_size: int, margin: int = 2
) -> tuple[np.ndarray, np.ndarray]:
    """Pixel rows (``B x h``) and columns (``B x w``) of a window around each image's box.

    The box's corners go through the pose; the window covers their bounding box plus
    ``margin`` pixels (for anti-aliasing), has one size for the whole chunk, and is moved
    to lie inside the image.
    """
    x0, x1, y0, y1 = box
    corners = np.stack(
        [np.stack([x, y], axis=-1) for x, y in ((x0, y0), (x1, y0), (x0, y1), (x1, y1))], axis=1
    )
    pixels = _pose_to_pixels(corners, pose, image_size)
    low = np.floor(pixels.min(axis=1)) - margin
    high = np.ceil(pixels.max(axis=1)) + margin
    size = np.minimum((high - low).max(axis=0).astype(np.int64) + 1, image_size)
    start = np.clip(low.astype(np.int64), 0, image_size - size)
    cols = start[:, 0, None] + np.arange(size[0])
    rows = start[:, 1, None] + np.arange(size[1])
    return rows, cols


def _apply_scene(
    img: np.ndarray, scene: np.ndarray, image_size: int, rng: np.random.Generator
) -> np.ndarray:
    """Lighting gradient, contrast, brightness and pixel noise; returns uint8 images."""
    s = image_size
    coords = (np.arange(s, dtype=np.float32) - (s - 1) / 2) / s
    gx, gy, brightness, contrast, _, noise_std = (scene[:, i, None, None] for i in range(6))
    img *= 1.0 + gx * coords[None, None, :] + gy * coords[None, :, None]
    img -= 128.0
    img *= contrast
    img += 128.0 + brightness
    if np.any(noise_std > 0):
        img += noise_std * rng.standard_normal(img.shape, dtype=np.float32)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def _render_chunk(
    geom: _Geometry,
    pose: np.ndarray,
    scene: np.ndarray,
    image_size: int,
    seed_seq: np.random.SeedSequence,
    windowed: bool = True,
) -> np.ndarray:
    """Render one chunk of images (every array indexed by image in the chunk).

    With ``windowed=False`` every part is evaluated on the whole image instead of its
    window; the result is the same, only slower (the tests check this).
    """
    n = len(pose)
    g = {k: val[:, None, None].astype(np.float32) for k, val in geom.items()}
    everywhere = np.arange(image_size)[None, :]
    u, v, pixel = _canonical_coords(everywhere, everywhere, pose, image_size)
    img = np.broadcast_to(scene[:, 4, None, None], u.shape).astype(np.float32)
    _draw_head(img, u, v, g, pixel)
    for box_of, draw in _FACE_PARTS:
        if not windowed:
            draw(img, u, v, g, pixel)
            continue
        rows, cols = _pixel_window(box_of(geom), pose, image_size)
        index = (np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :])
        patch = img[index]
        part_u, part_v, _ = _canonical_coords(rows, cols, pose, image_size)
        draw(patch, part_u, part_v, g, pixel)
        img[index] = patch
    return _apply_scene(img, scene, image_size, np.random.default_rng(seed_seq))


def _as_rows(
    value: np.ndarray | None, n: int, width: int, default: np.ndarray, name: str
) -> np.ndarray:
    """``value`` as an ``n x width`` float32 array (a single row is repeated)."""
    if value is None:
        return default
    arr = np.asarray(value, dtype=np.float32)
    if arr.ndim == 1:
        arr = np.tile(arr, (n, 1))
    if arr.shape != (n, width):
        raise ValueError(f"{name} must have shape ({n}, {width}) or ({width},), got {arr.shape}")
    return arr


def render_faces(
    expression_weights: np.ndarray,
    identity: np.ndarray | None = None,
    image_size: int = 48,
    classes: Sequence[str] = CANONICAL_CLASSES,
    pose: np.ndarray | None = None,
    scene: np.ndarray | None = None,
    seed: int = 0,
    chunk_pixels: int = 1 << 19,
    workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Render faces showing blends of the emotions' expression prototypes.

    Introduced in notebook 01, which shows each emotion's prototype on the average face.

    Args:
        expression_weights: ``N x K`` non-negative blend weights over ``classes`` (usually
            a distribution; a single row of length K renders one face). The face's
            expression features are ``weights @ prototype_matrix(classes)``, so the
            neutral weight adds nothing and weights below 1 in total give a milder face.
        identity: ``N x F`` face shapes (:data:`IDENTITY_FEATURES`, e.g. from
            :func:`sample_identities`), one row for all, or ``None`` for the average face.
        image_size: side of the square images in pixels (at least 32).
        classes: the emotion of each weight column.
        pose: ``N x 4`` (:data:`POSE_FIELDS`), one row for all, or ``None`` (centred,
            scale 1, upright).
        scene: ``N x 6`` (:data:`SCENE_FIELDS`), one row for all, or ``None`` (even light,
            no noise; see :func:`plain_scene`).
        seed: seeds the pixel noise (only used where ``noise_std > 0``).
        chunk_pixels: about how many pixels to render at once (bounds memory). Each
            chunk draws its own noise, so the noise pattern depends on this setting.
        workers: threads rendering chunks side by side (default: up to 2 CPU cores).

    Returns:
        ``(images, landmarks)``: uint8 ``N x H x W`` grey images and float32 ``N x 5 x 2``
        (x, y) pixel coordinates in :data:`LANDMARK_NAMES` order.
    """
    classes = _check_classes(classes)
    image_size = _check_image_size(image_size)
    weights = np.asarray(expression_weights, dtype=np.float32)
    if weights.ndim == 1:
        weights = weights[None, :]
    if weights.ndim != 2 or weights.shape[1] != len(classes):
        raise ValueError(
            f"expression_weights must be N x {len(classes)} (one column per class), "
            f"got shape {weights.shape}"
        )
    if np.any(weights < 0) or not np.all(np.isfinite(weights)):
        raise ValueError("expression_weights must be finite and non-negative")
    n = weights.shape[0]
    identity = _as_rows(
        identity, n, len(IDENTITY_FEATURES), np.tile(average_identity(), (n, 1)), "identity"
    )
    pose = _as_rows(pose, n, len(POSE_FIELDS), neutral_pose(n), "pose")
    scene = _as_rows(scene, n, len(SCENE_FIELDS), plain_scene(n), "scene")

    geom = _face_geometry(weights @ prototype_matrix(classes), identity)
    landmarks = _pose_to_pixels(_canonical_landmarks(geom), pose, image_size)

    per_chunk = max(1, chunk_pixels // (image_size * image_size))
    starts = list(range(0, n, per_chunk))
    seeds = np.random.SeedSequence(seed).spawn(len(starts))

    def render(i: int) -> np.ndarray:
        part = slice(starts[i], starts[i] + per_chunk)
        chunk_geom = {k: val[part] for k, val in geom.items()}
        return _render_chunk(chunk_geom, pose[part], scene[part], image_size, seeds[i])

    workers = min(2, os.cpu_count() or 1) if workers is None else max(1, workers)
    if workers == 1 or len(starts) == 1:
        chunks = [render(i) for i in range(len(starts))]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            chunks = list(pool.map(render, range(len(starts))))
    return np.concatenate(chunks, axis=0), landmarks


# ---------------------------------------------------------------------------------------
# Label distributions on the emotion wheel
# ---------------------------------------------------------------------------------------

def _sample_distributions(
    dominant: np.ndarray, classes: tuple[str, ...], difficulty: float, rng: np.random.Generator
) -> np.ndarray:
    """True label distributions: the dominant emotion plus up to two wheel-near secondaries.

    The dominant weight is ``1 - s * U(0, 1)`` with ``s`` the ``"secondary_weight"`` of
    :func:`difficulty_amounts`; the rest is split at random
    between two secondary emotions chosen (without replacement) with probability
    proportional to ``exp(-wheel distance)`` from the dominant one.
    """
    n, k = len(dominant), len(classes)
    out = np.zeros((n, k), dtype=np.float64)
    rows = np.arange(n)
    most = difficulty_amounts(difficulty)["secondary_weight"]
    dominant_weight = 1.0 - most * rng.uniform(size=n)
    out[rows, dominant] = dominant_weight
    n_secondary = min(2, k - 1)
    if n_secondary == 0:
        return out
    # Gumbel top-k: adding Gumbel noise to log-probabilities and keeping the largest draws
    # a sample without replacement, for every image at once.
    # secondary emotions follow the same Plutchik wheel that MixFeature uses (notebook 02)
    log_p = -distance_matrix(classes, "plutchik").double().numpy()[dominant]
    log_p[rows, dominant] = -np.inf
    keys = log_p + rng.gumbel(size=(n, k))
    chosen = np.argsort(-keys, axis=1)[:, :n_secondary]
    split = rng.dirichlet(np.ones(n_secondary), size=n)
    out[rows[:, None], chosen] = (1.0 - dominant_weight)[:, None] * split
    return out


# ---------------------------------------------------------------------------------------
# Generation
# ---------------------------------------------------------------------------------------


@dataclass
class SyntheticFaces:
    """Synthetic faces with their true label distributions (see :func:`generate_faces`).

    Attributes:
        images: uint8 ``N x H x W`` grey images.
        labels: int64 ``N``, the argmax of ``distributions`` (index into ``classes``).
        distributions: float32 ``N x K``, the true distribution each face was rendered from.
        votes: int64 ``N x K``, ``n_votes`` simulated annotator votes per image.
        multilabels: uint8 ``N x K``, ``distributions >= multilabel_threshold`` (the
            argmax label is always set).
        landmarks: float32 ``N x 5 x 2`` exact (x, y) pixel coordinates in
            :data:`LANDMARK_NAMES` order.
        subjects: int64 ``N`` subject ids ``0 .. n_subjects - 1``.
        classes: class names, the column order of every ``K``-wide array.
        params: every generation parameter, for provenance.
    """

    images: np.ndarray
    labels: np.ndarray
    distributions: np.ndarray
    votes: np.ndarray
    multilabels: np.ndarray
    landmarks: np.ndarray
    subjects: np.ndarray
    classes: tuple[str, ...]
    params: dict[str, object]

    def __len__(self) -> int:
        return int(self.images.shape[0])


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


def _check_image_size(image_size: int) -> int:
    """``image_size`` as an int, or a ``ValueError`` when it is below 32."""
    if int(image_size) != image_size or image_size < 32:
        raise ValueError(f"image_size must be an integer of at least 32, got {image_size!r}")
    return int(image_size)


def class_shares(
    imbalance: str | Sequence[float], classes: Sequence[str] = CANONICAL_CLASSES
) -> np.ndarray:
    """The probability of each class being an image's dominant emotion.

    Introduced in notebook 01. ``imbalance`` is ``"uniform"``, ``"ferplus"`` or
    ``"jaffe"`` (paper A's Table 1 shares, renormalised over ``classes``), or one
    non-negative weight per class.
    """
    classes = _check_classes(classes)
    if isinstance(imbalance, str):
        if imbalance not in _NAMED_SHARES:
            raise ValueError(
                f"unknown imbalance {imbalance!r}; expected one of "
                f"{', '.join(_NAMED_SHARES)} or one weight per class"
            )
        table = _NAMED_SHARES[imbalance]
        weights = np.array([1.0 if table is None else table.get(c, 0.0) for c in classes])
    else:
        weights = np.asarray(imbalance, dtype=np.float64)
        if weights.shape != (len(classes),):
            raise ValueError(
                f"imbalance must give one weight per class ({len(classes)}), "
                f"got shape {weights.shape}"
            )
    if np.any(weights < 0) or not np.all(np.isfinite(weights)) or weights.sum() <= 0:
        raise ValueError(
            f"imbalance weights must be non-negative with a positive sum over the classes "
            f"{classes}, got {weights.tolist()}"
        )
    return weights / weights.sum()


def _check_generation_args(
    n: int, difficulty: float, n_subjects: int, n_votes: int, multilabel_threshold: float
) -> None:
    """Raise ``ValueError`` naming the first out-of-range generation parameter."""
    if int(n) != n or n < 1:
        raise ValueError(f"n must be an integer of at least 1, got {n!r}")
    if not 0.0 <= difficulty <= 1.0:
        raise ValueError(f"difficulty must be in [0, 1], got {difficulty!r}")
    if int(n_subjects) != n_subjects or n_subjects < 1:
        raise ValueError(f"n_subjects must be an integer of at least 1, got {n_subjects!r}")
    if int(n_votes) != n_votes or n_votes < 1:
        raise ValueError(f"n_votes must be an integer of at least 1, got {n_votes!r}")
    if not 0.0 < multilabel_threshold <= 1.0:
        raise ValueError(f"multilabel_threshold must be in (0, 1], got {multilabel_threshold!r}")


def difficulty_amounts(difficulty: float) -> dict[str, float]:
    """How much of each variation a ``difficulty`` in [0, 1] means.

    Introduced in notebook 01: :data:`DIFFICULTY_SCALES` times ``difficulty ** 0.7``.
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


def generate_faces(
    n: int = 2000,
    image_size: int = 48,
    classes: Sequence[str] = CANONICAL_CLASSES,
    imbalance: str | Sequence[float] = "uniform",
    difficulty: float = 0.5,
    n_subjects: int = 20,
    n_votes: int = 10,
    multilabel_threshold: float = 0.25,
    seed: int = 0,
) -> SyntheticFaces:
    """Generate ``n`` synthetic expression images with known true label distributions.

    Introduced in notebook 01; the default data of every notebook and test.

    Each image gets a dominant emotion (drawn with the ``imbalance`` class shares, see
    :func:`class_shares`) blended with wheel-near secondary emotions, a subject (face
    shape), and a pose, lighting and noise that grow with ``difficulty`` (0: pure
    prototypes, clean and centred; 1: strong blends, pose, lighting and noise). The
    single label is the argmax of the distribution, ``n_votes`` annotator votes are a
    multinomial draw from it, and the multi-hot label marks classes at or above
    ``multilabel_threshold``. The same ``seed`` always gives identical arrays.
    """
    classes = _check_classes(classes)
    image_size = _check_image_size(image_size)
    _check_generation_args(n, difficulty, n_subjects, n_votes, multilabel_threshold)
    shares = class_shares(imbalance, classes)
    amounts = difficulty_amounts(difficulty)
    rng = np.random.default_rng(seed)

    dominant = rng.choice(len(classes), size=n, p=shares)
    distributions = _sample_distributions(dominant, classes, difficulty, rng)
    intensity = 1.0 - amounts["intensity_drop"] * rng.uniform(size=(n, 1))
    subjects = rng.permutation(np.arange(n) % n_subjects).astype(np.int64)
    variety = _BASE_IDENTITY_VARIETY + amounts["identity_variety"]
    identities = sample_identities(n_subjects, variety, rng)[subjects]
    poses = _sample_poses(n, amounts, rng)
    scenes = _sample_scenes(n, amounts, rng)
    noise_seed = int(rng.integers(2**31))
    votes = rng.multinomial(n_votes, distributions).astype(np.int64)

    images, landmarks = render_faces(
        intensity * distributions, identities, image_size, classes, poses, scenes, noise_seed
    )
    dist32 = distributions.astype(np.float32)
    dist32 /= dist32.sum(axis=1, keepdims=True)
    labels = dist32.argmax(axis=1).astype(np.int64)
    multilabels = dist32 >= np.float32(multilabel_threshold)
    multilabels[np.arange(n), labels] = True
    params: dict[str, object] = {
        "generator": "fer_utils.data.synthetic.generate_faces",
        "n": int(n),
        "image_size": image_size,
        "classes": list(classes),
        "imbalance": imbalance if isinstance(imbalance, str) else [float(w) for w in imbalance],
        "class_shares": shares.tolist(),
        "difficulty": float(difficulty),
        "n_subjects": int(n_subjects),
        "n_votes": int(n_votes),
        "multilabel_threshold": float(multilabel_threshold),
        "seed": int(seed),
        "difficulty_amounts": amounts,
    }
    return SyntheticFaces(
        images=images,
        labels=labels,
        distributions=dist32,
        votes=votes,
        multilabels=multilabels.astype(np.uint8),
        landmarks=landmarks,
        subjects=subjects,
        classes=classes,
        params=params,
    )


def load_synthetic(
    n: int = 2000,
    image_size: int = 48,
    classes: Sequence[str] = CANONICAL_CLASSES,
    imbalance: str | Sequence[float] = "uniform",
    difficulty: float = 0.5,
    n_subjects: int = 20,
    n_votes: int = 10,
    multilabel_threshold: float = 0.25,
    seed: int = 0,
    split_fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
) -> FERDataset:
    """:func:`generate_faces` wrapped as an :class:`FERDataset` named ``"synthetic"``.

    Introduced in notebook 01. The split is grouped by subject (no face is in two splits),
    drawn with ``seed``; subjects are named ``"S00"``, ``"S01"``, ...
    """
    faces = generate_faces(
        n,
        image_size,
        classes,
        imbalance,
        difficulty,
        n_subjects,
        n_votes,
        multilabel_threshold,
        seed,
    )
    width = max(2, len(str(n_subjects - 1)))
    subjects = np.array([f"S{s:0{width}d}" for s in faces.subjects])
    split = train_val_test_split(len(faces), split_fractions, seed, groups=subjects)
    info = dict(faces.params)
    info["split_fractions"] = list(split_fractions)
    return FERDataset(
        name="synthetic",
        images=torch.from_numpy(faces.images).unsqueeze(1),
        labels=torch.from_numpy(faces.labels),
        classes=faces.classes,
        distributions=torch.from_numpy(faces.distributions),
        multilabels=torch.from_numpy(faces.multilabels.astype(np.float32)),
        subjects=subjects,
        landmarks=torch.from_numpy(faces.landmarks),
        split=split,
        votes=torch.from_numpy(faces.votes.astype(np.float32)),
        vote_names=faces.classes,
        filenames=[f"synthetic_{i:06d}" for i in range(len(faces))],
        dropped={},
        info=info,
    )
