"""Rendering: expression weights, identities, poses and scenes to grey images and landmarks.

:func:`render_faces` renders in chunks (bounded memory, optionally on several threads);
each facial part is drawn only in a pixel window around it, then the scene (lighting,
contrast, noise) is applied.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from fer_utils.data.dataset import CANONICAL_CLASSES
from fer_utils.data.synthetic.expression import _check_classes, prototype_matrix
from fer_utils.data.synthetic.geometry import (
    _Box,
    _canonical_landmarks,
    _face_geometry,
    _Geometry,
    _pose_to_pixels,
)
from fer_utils.data.synthetic.parts import _FACE_PARTS, _draw_head
from fer_utils.data.synthetic.variation import (
    IDENTITY_FEATURES,
    POSE_FIELDS,
    SCENE_FIELDS,
    average_identity,
    neutral_pose,
    plain_scene,
)


def _check_image_size(image_size: int) -> int:
    """``image_size`` as an int, or a ``ValueError`` when it is below 32."""
    if int(image_size) != image_size or image_size < 32:
        raise ValueError(f"image_size must be an integer of at least 32, got {image_size!r}")
    return int(image_size)


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
