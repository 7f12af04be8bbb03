"""Input checks shared by the metrics: arrays from numpy, torch or lists.

Part of :mod:`fer_utils.metrics` (introduced in notebook 04).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

ArrayLike = np.ndarray | torch.Tensor | list[Any] | tuple[Any, ...]


def as_numpy(values: ArrayLike) -> np.ndarray:
    """``values`` as a numpy array (torch tensors are detached and moved to the CPU).
    """
    if isinstance(values, torch.Tensor):
        return values.detach().cpu().numpy()
    return np.asarray(values)


def _labels(values: ArrayLike, name: str) -> np.ndarray:
    """A 1-D integer label array, or ``ValueError`` naming the argument."""
    arr = as_numpy(values)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {arr.shape}")
    return arr.astype(np.int64, copy=False)


def _pair(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Checked true and predicted label arrays of the same length."""
    t, p = _labels(y_true, "y_true"), _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(f"y_true has {len(t)} labels but y_pred has {len(p)}")
    return t, p
