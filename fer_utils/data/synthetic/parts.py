"""The facial parts: head and hair, eyes and brows, nose, mouth and cheek lines.

Each part below the head has a box function (the canonical rectangle it draws in, per
image) and a draw function; :data:`_FACE_PARTS` lists them in drawing order.
"""

from __future__ import annotations

from functools import partial

import numpy as np

from fer_utils.data.synthetic.geometry import _Box, _Geometry
from fer_utils.data.synthetic.shapes import (
    _along,
    _curve,
    _ellipse,
    _ellipse_radius,
    _paint,
    _ramp,
    _stroke,
)

_FACE_CENTRE_Y = 0.03  # the face ellipse sits a little below the image centre


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
