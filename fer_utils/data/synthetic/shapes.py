"""Drawing primitives: smooth (anti-aliased) coverage, 0..1, of shapes on the pixel grid.

Ellipses and thick parabolic curves, evaluated with numpy broadcasting for many images at
once, and :func:`_paint` to lay a tone over an image where a coverage says.
"""

from __future__ import annotations

import numpy as np

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
