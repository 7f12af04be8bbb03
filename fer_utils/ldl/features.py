"""Image features for the shallow LDL baselines of paper A's Table 3.

Used for paper A's Table 3 (issue 11). The LDL methods of that table (AA-kNN, SA-BFGS,
EDL, GLLE, LDL-LDML) work on fixed-length feature vectors, not on pixels. Two sources:

- :func:`lbp_features`: uniform local binary pattern (LBP) histograms over a grid of face
  cells, the classic hand-crafted face descriptor (Ahonen, Hadid and Pietikainen, ECCV
  2004), computed with scikit-image;
- :func:`cnn_features`: the penultimate feature vector of a trained
  :class:`~fer_utils.models.FeatureClassifier`.

Either is then z-scored with the training fold's statistics (:func:`standardise`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from fer_utils.augment import to_model_input
from fer_utils.models import FeatureClassifier


def _as_gray_uint8(images: np.ndarray | torch.Tensor) -> np.ndarray:
    """``images`` as a uint8 numpy array ``N x H x W``; ``ValueError`` naming ``images``."""
    if isinstance(images, torch.Tensor):
        images = images.detach().cpu().numpy()
    if not isinstance(images, np.ndarray):
        raise ValueError(
            f"images must be a uint8 numpy array or torch tensor, got {type(images).__name__}"
        )
    if images.dtype != np.uint8:
        raise ValueError(f"images must have dtype uint8 (grayscale 0-255), got {images.dtype}")
    if images.ndim == 4:
        if images.shape[1] != 1:
            raise ValueError(
                "images must be grayscale: N x H x W or N x 1 x H x W, got "
                f"{images.shape[1]} channels (shape {images.shape})"
            )
        images = images[:, 0]
    if images.ndim != 3:
        raise ValueError(
            f"images must be N x H x W or N x 1 x H x W, got shape {images.shape}"
        )
    return images


def _check_grid(grid: tuple[int, int], height: int, width: int) -> tuple[int, int]:
    """``grid`` as ``(rows, cols)``, each at least 1 and at most the image side."""
    if not (isinstance(grid, tuple | list) and len(grid) == 2):
        raise ValueError(f"grid must be a (rows, cols) pair, got {grid!r}")
    rows, cols = grid
    for name, value, side in (("rows", rows, height), ("cols", cols, width)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
            raise ValueError(f"grid {name} must be a positive integer, got {value!r}")
        if value > side:
            raise ValueError(
                f"grid {name} ({value}) must not exceed the image's {side} pixels on that side"
            )
    return int(rows), int(cols)


#: LBP code sets of :func:`lbp_features` and their number of codes for ``P`` points.
LBP_METHODS: dict[str, Callable[[int], int]] = {
    "nri_uniform": lambda p: p * (p - 1) + 3,  # uniform patterns with their orientation
    "uniform": lambda p: p + 2,  # rotation-invariant uniform patterns
}


def lbp_features(
    images: np.ndarray | torch.Tensor,
    grid: tuple[int, int] = (4, 4),
    points: int = 8,
    radius: float = 2,
    method: str = "nri_uniform",
) -> np.ndarray:
    """Uniform LBP histograms over a ``grid`` of face cells, concatenated: ``N x F``.

    Used for paper A's Table 3 (issue 11) as the hand-crafted features of the shallow LDL
    baselines. Each pixel gets a uniform LBP code from ``points`` neighbours on a circle
    of ``radius`` pixels (``skimage.feature.local_binary_pattern``). The default,
    ``method="nri_uniform"`` with 8 points at radius 2, is the LBP^u2_(8,2) operator of
    the classic LBP face and expression work (Ahonen et al. 2006; Shan et al. 2009):
    ``points * (points - 1) + 3`` codes (59 for 8 points), one per uniform pattern *and
    orientation*. ``method="uniform"`` is the rotation-invariant variant, ``points + 2``
    codes: it cannot tell a rising mouth corner from a falling one, and on our faces it
    left every LDL method near chance (replication notes D29). The image is cut into
    ``rows x cols`` cells of (nearly) equal size (``numpy.array_split``, row-major
    order), and each cell's code histogram is normalised to sum to 1, so
    ``F = rows * cols * codes``.

    The image is padded by repeating its edge before the codes are computed (and the
    padding cut off afterwards): scikit-image reads outside pixels as 0, which would give
    the border pixels of a uniform image other codes than the interior. A constant image
    therefore has one code everywhere.

    ``images``: uint8 grayscale, ``N x H x W`` or ``N x 1 x H x W``, numpy or torch.
    """
    arr = _as_gray_uint8(images)
    n, height, width = arr.shape
    rows, cols = _check_grid(grid, height, width)
    if isinstance(points, bool) or not isinstance(points, int | np.integer) or points < 1:
        raise ValueError(f"points must be a positive integer, got {points!r}")
    if isinstance(radius, bool) or not isinstance(radius, int | float) or not radius > 0:
        raise ValueError(f"radius must be a positive number, got {radius!r}")
    if method not in LBP_METHODS:
        raise ValueError(f"method must be one of {', '.join(LBP_METHODS)}, got {method!r}")
    from skimage.feature import local_binary_pattern

    bins = LBP_METHODS[method](int(points))
    pad = int(np.ceil(radius)) + 1
    out = np.empty((n, rows * cols * bins), dtype=np.float64)
    for i, image in enumerate(arr):
        padded = np.pad(image, pad, mode="edge")
        codes = local_binary_pattern(padded, int(points), float(radius), method=method)
        codes = codes[pad:-pad, pad:-pad].astype(np.int64)
        cells = [
            cell
            for band in np.array_split(codes, rows, axis=0)
            for cell in np.array_split(band, cols, axis=1)
        ]
        out[i] = np.concatenate(
            [np.bincount(cell.ravel(), minlength=bins) / cell.size for cell in cells]
        )
    return out


def standardise(train: np.ndarray, test: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Z-score both feature matrices with the TRAINING features' mean and std: ``(z, z)``.

    Used for paper A's Table 3 (issue 11). ``z = (x - mean_train) / std_train`` per
    feature column; a column that is constant on the training set (std 0) is only
    centred (its std is taken as 1). The test features never influence the statistics,
    so no information from the test fold leaks into training.
    """
    train = np.asarray(train, dtype=np.float64)
    test = np.asarray(test, dtype=np.float64)
    if train.ndim != 2 or train.shape[0] < 1:
        raise ValueError(f"train must be a non-empty N x F matrix, got shape {train.shape}")
    if test.ndim != 2 or test.shape[1] != train.shape[1]:
        raise ValueError(
            f"test must be an M x {train.shape[1]} matrix (the training features' width), "
            f"got shape {test.shape}"
        )
    if not (np.isfinite(train).all() and np.isfinite(test).all()):
        raise ValueError("train and test must be finite (no NaN or inf)")
    mean = train.mean(axis=0)
    std = train.std(axis=0)
    std = np.where(std > 0, std, 1.0)
    return (train - mean) / std, (test - mean) / std


def cnn_features(
    model: FeatureClassifier,
    images: torch.Tensor,
    size: int | None = None,
    batch_size: int = 256,
) -> np.ndarray:
    """Penultimate features ``model.features(x)`` of a trained classifier: ``N x D``.

    Used for paper A's Table 3 (issue 11), as learned features for the shallow LDL
    baselines. ``images`` (uint8 tensor ``N x C x H x W``) go through
    :func:`fer_utils.augment.to_model_input` with ``size`` (the evaluation path: resize
    to ``size x size`` when given, scale to [0, 1]), in batches of ``batch_size``, on the
    model's device, in eval mode and without gradients. Every module's train/eval mode
    is restored afterwards and no weight or batch-norm statistic changes.

    Which fold the model was trained on is the caller's business, but it must never
    have seen the test fold: features of a network trained on the test faces would leak
    their labels into every baseline built on them (train one network per fold).
    """
    if not isinstance(model, FeatureClassifier):
        raise TypeError(
            f"model must be a fer_utils.models.FeatureClassifier, got {type(model).__name__}"
        )
    if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
        shape = tuple(images.shape) if hasattr(images, "shape") else None
        raise ValueError(
            "images must be a uint8 torch tensor N x C x H x W, got "
            f"{type(images).__name__} {getattr(images, 'dtype', '')} with shape {shape}"
        )
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if images.shape[0] == 0:
        return np.zeros((0, model.feature_dim), dtype=np.float64)
    device = next(model.parameters()).device
    modes = [(module, module.training) for module in model.modules()]
    model.eval()
    try:
        with torch.no_grad():
            chunks = [
                model.features(to_model_input(images[i : i + batch_size], size).to(device))
                .float()
                .cpu()
                for i in range(0, images.shape[0], batch_size)
            ]
    finally:
        for module, training in modes:
            module.training = training
    return torch.cat(chunks).numpy().astype(np.float64)
