"""Face geometry: where every facial part sits, the five landmarks, and the pose transform.

Everything here is in canonical face units (the image spans [-0.5, 0.5] in x and y before
the pose; x to the right, y downwards) until :func:`_pose_to_pixels` maps it to pixels.
"""

from __future__ import annotations

import numpy as np

from fer_utils.data.synthetic.expression import EXPRESSION_FEATURES
from fer_utils.data.synthetic.variation import IDENTITY_FEATURES

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
