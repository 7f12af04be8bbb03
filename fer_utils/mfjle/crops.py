"""The five local crops of MF-JLE: a square around each facial landmark, for a whole batch.

Introduced in notebook 05 (MF-JLE ensemble). Each of MF-JLE's five local modules sees a
square patch centred on one landmark (left eye, right eye, nose tip, left and right
mouth corner; :data:`fer_utils.data.LANDMARK_NAMES`). Paper B does not give the patch
size (``docs/replication.md`` D9); here it is a parameter:

    side (pixels) = crop_fraction * face width,   crop_fraction = 0.25 by default,

i.e. by default a square a quarter of the face width across, resized to ``out_size``.

**Face width.** ``face_width="image"`` (default) takes the image width: our datasets
are face crops (FER+, CK+48 and the synthetic faces fill their frame), so the image
width is the face width up to a small margin, and it is the same for every image.
``face_width="landmarks"`` estimates it per face as :data:`FACE_WIDTH_PER_EYE_DISTANCE`
times the distance between the eye centres, which suits loosely framed faces such as
JAFFE's (the face there is only about half the image width). A number (pixels, for every
face) or an ``N`` tensor (one width per face) is also accepted.

**Sampling.** All ``N x 5`` crops are cut by ONE call of
:func:`torch.nn.functional.grid_sample`: the five sampling grids of an image are stacked
along the grid's height, so the images are not copied five times and nothing loops over
images in Python. Output pixel ``j`` of a crop samples the image at
``centre - side / 2 + (j + 0.5) * side / out_size`` (bilinear by default), with pixel
centres at integer coordinates, the convention of the landmarks. Parts of a crop outside
the image follow ``padding_mode`` (``"zeros"``, ``"border"`` or ``"reflection"``).
The same code runs on CPU and CUDA (the landmarks are moved to the images' device) and
works with or without autograd.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fer_utils.augment import match_channels
from fer_utils.data.dataset import LANDMARK_NAMES, FERDataset

__all__ = [
    "DEFAULT_CROP_FRACTION",
    "FACE_WIDTH_PER_EYE_DISTANCE",
    "crop_boxes",
    "crop_sides",
    "local_crops",
    "local_inputs",
]

#: ``docs/replication.md`` D9: a square a quarter of the face width across.
DEFAULT_CROP_FRACTION: float = 0.25

#: Face width per distance between the eye centres, for ``face_width="landmarks"``. An
#: adult face is about 14 cm wide at the cheekbones and the pupils are about 6.3 cm
#: apart, a ratio of about 2.2; MTCNN's face boxes on JAFFE give about the same.
FACE_WIDTH_PER_EYE_DISTANCE: float = 2.2

_PADDING_MODES = ("zeros", "border", "reflection")
_MODES = ("bilinear", "nearest", "bicubic")


def _check_landmarks(landmarks: torch.Tensor, n: int | None = None) -> torch.Tensor:
    """``landmarks`` after checking it is ``N x 5 x 2`` (and has ``n`` rows when given)."""
    if not isinstance(landmarks, torch.Tensor):
        raise TypeError(f"landmarks must be a torch.Tensor, got {type(landmarks).__name__}")
    if landmarks.ndim != 3 or tuple(landmarks.shape[1:]) != (len(LANDMARK_NAMES), 2):
        raise ValueError(
            f"landmarks must be N x {len(LANDMARK_NAMES)} x 2 (x, y), got {tuple(landmarks.shape)}"
        )
    if n is not None and landmarks.shape[0] != n:
        raise ValueError(f"landmarks has {landmarks.shape[0]} rows but there are {n} images")
    return landmarks


def _check_fraction(crop_fraction: float) -> float:
    """``crop_fraction`` as a float after checking 0 < fraction <= 1."""
    value = float(crop_fraction)
    if not math.isfinite(value) or not 0.0 < value <= 1.0:
        raise ValueError(f"crop_fraction must be in (0, 1], got {crop_fraction!r}")
    return value


def crop_sides(
    landmarks: torch.Tensor,
    image_width: int,
    crop_fraction: float = DEFAULT_CROP_FRACTION,
    face_width: str | float | torch.Tensor = "image",
) -> torch.Tensor:
    """The side of each face's crops in pixels, ``crop_fraction * face width``, shape ``N``.

    ``face_width`` is ``"image"`` (``image_width`` for every
    face), ``"landmarks"`` (:data:`FACE_WIDTH_PER_EYE_DISTANCE` times each face's eye
    distance), a number of pixels, or an ``N`` tensor; see the module docstring.
    """
    landmarks = _check_landmarks(landmarks)
    fraction = _check_fraction(crop_fraction)
    n = landmarks.shape[0]
    dtype = landmarks.dtype if landmarks.is_floating_point() else torch.float32
    if isinstance(face_width, str):
        if face_width == "image":
            width = torch.full((n,), float(image_width), dtype=dtype, device=landmarks.device)
        elif face_width == "landmarks":
            eyes = landmarks[:, 1].to(dtype) - landmarks[:, 0].to(dtype)
            width = FACE_WIDTH_PER_EYE_DISTANCE * torch.linalg.vector_norm(eyes, dim=1)
        else:
            raise ValueError(
                f"face_width must be 'image', 'landmarks', a number or a tensor, "
                f"got {face_width!r}"
            )
    else:
        width = torch.as_tensor(face_width, dtype=dtype, device=landmarks.device)
        if width.ndim == 0:
            width = width.expand(n)
        if width.shape != (n,):
            raise ValueError(f"face_width must be a number or an N = {n} tensor, "
                             f"got shape {tuple(width.shape)}")
    if not bool(torch.isfinite(width).all()) or bool((width <= 0).any()):
        raise ValueError("every face width must be a positive finite number of pixels")
    return fraction * width


def crop_boxes(
    landmarks: torch.Tensor,
    image_size: int | tuple[int, int],
    crop_fraction: float = DEFAULT_CROP_FRACTION,
    face_width: str | float | torch.Tensor = "image",
) -> torch.Tensor:
    """The square each crop covers, ``N x 5 x 4`` as (x0, y0, x1, y1) in pixels.

    For drawing the crops on the faces. ``image_size`` is the
    side of square images or ``(height, width)``. The box edges are
    ``centre -+ side / 2`` with pixel centres at integer coordinates, so a box drawn on
    ``imshow`` (whose pixel ``i`` spans ``i - 0.5 .. i + 0.5``) frames exactly what
    :func:`local_crops` samples. Boxes may reach outside the image.
    """
    landmarks = _check_landmarks(landmarks)
    width = image_size if isinstance(image_size, int) else image_size[1]
    half = crop_sides(landmarks, width, crop_fraction, face_width)[:, None, None] / 2
    points = landmarks if landmarks.is_floating_point() else landmarks.float()
    return torch.cat([points - half, points + half], dim=2)


def local_crops(
    images: torch.Tensor,
    landmarks: torch.Tensor,
    out_size: int,
    crop_fraction: float = DEFAULT_CROP_FRACTION,
    padding_mode: str = "zeros",
    face_width: str | float | torch.Tensor = "image",
    mode: str = "bilinear",
) -> torch.Tensor:
    """Square crops centred on the five landmarks of every image, ``N x 5 x C x S x S``.

    Introduced in notebook 05.

    Args:
        images: ``N x C x H x W``, uint8 or floating point, any C, on any device.
        landmarks: ``N x 5 x 2`` (x, y) pixel coordinates (:data:`LANDMARK_NAMES`
            order), e.g. from :func:`fer_utils.mfjle.landmarks.dataset_landmarks`.
        out_size: side ``S`` of each output crop in pixels.
        crop_fraction: crop side as a fraction of the face width (default 1/4).
        padding_mode: what is sampled outside the image: ``"zeros"``, ``"border"``
            (repeat the edge) or ``"reflection"``.
        face_width: ``"image"``, ``"landmarks"``, pixels, or an ``N`` tensor (see
            :func:`crop_sides`).
        mode: ``"bilinear"`` (default), ``"nearest"`` or ``"bicubic"`` interpolation.

    Returns:
        Floating-point crops in the value range of the input: uint8 images give float32
        values in 0..255 (not rescaled to 0..1), floating-point images keep their dtype.
        Crop ``k`` of image ``i`` is ``out[i, k]``, centred on ``landmarks[i, k]``.
    """
    if not isinstance(images, torch.Tensor) or images.ndim != 4:
        shape = tuple(images.shape) if isinstance(images, torch.Tensor) else type(images).__name__
        raise ValueError(f"images must be a tensor N x C x H x W, got {shape}")
    n, _, height, width = images.shape
    landmarks = _check_landmarks(landmarks, n)
    if isinstance(out_size, bool) or not isinstance(out_size, int) or out_size < 1:
        raise ValueError(f"out_size must be a positive integer, got {out_size!r}")
    if padding_mode not in _PADDING_MODES:
        raise ValueError(f"padding_mode must be one of {_PADDING_MODES}, got {padding_mode!r}")
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}")

    x = images if images.is_floating_point() else images.to(torch.float32)
    points = landmarks.to(device=x.device, dtype=x.dtype)
    side = crop_sides(points, width, crop_fraction, face_width)  # N
    k = points.shape[1]
    # grid_sample's normalised coordinate u (align_corners=False) sits at pixel
    # ((u + 1) * size - 1) / 2, so pixel p is u = (2 p + 1) / size - 1.
    centre_x = (2 * points[..., 0] + 1) / width - 1  # N x 5
    centre_y = (2 * points[..., 1] + 1) / height - 1
    steps = (2 * torch.arange(out_size, device=x.device, dtype=x.dtype) + 1) / out_size - 1
    half_x = (side / width)[:, None, None, None]  # the crop's half-side, normalised
    half_y = (side / height)[:, None, None, None]
    grid_x = centre_x[:, :, None, None] + half_x * steps[None, None, None, :]  # N 5 1 S
    grid_y = centre_y[:, :, None, None] + half_y * steps[None, None, :, None]  # N 5 S 1
    grid = torch.stack(torch.broadcast_tensors(grid_x, grid_y), dim=-1)  # N 5 S S 2
    grid = grid.reshape(n, k * out_size, out_size, 2)  # the five grids stacked in height
    out = F.grid_sample(x, grid, mode=mode, padding_mode=padding_mode, align_corners=False)
    # N x C x (5 S) x S  ->  N x 5 x C x S x S
    return out.reshape(n, -1, k, out_size, out_size).transpose(1, 2).contiguous()


def local_inputs(
    dataset: FERDataset, size: int, crop_fraction: float, in_channels: int
) -> torch.Tensor:
    """The five landmark crops of every image, uint8 ``N x 5 x C x size x size`` (CPU).

    Crops are cut from the images at their stored resolution
    (sharper than cutting from the resized global input), all at once by
    :func:`local_crops`, then rounded back to uint8 so that they live on
    the device as compactly as the global images. Needs ``dataset.landmarks``
    (see :func:`fer_utils.mfjle.landmarks.dataset_landmarks`).
    """
    if dataset.landmarks is None:
        raise ValueError(
            f"{dataset.name} has no landmarks, which MF-JLE's local crops need; add them with "
            "`dataset.landmarks, report = "
            "fer_utils.mfjle.landmarks.dataset_landmarks(dataset)`"
        )
    images = match_channels(dataset.images, in_channels)
    crops = local_crops(images, dataset.landmarks, size, crop_fraction)
    return crops.round().clamp(0, 255).to(torch.uint8)
