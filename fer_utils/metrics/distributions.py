"""Label-distribution measures: entropy, KL divergence and PyLDL's six LDL measures.

Part of :mod:`fer_utils.metrics`: paper A's KL curves (notebook 04) and the LDL measures
(notebook 06). MixFeature's loss (:mod:`fer_utils.mixfeature.loss`) weighs its KL term by
:func:`entropy`, so the one entropy of the package lives here.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import overload

import numpy as np
import torch

from fer_utils.metrics.arrays import ArrayLike, as_numpy


@overload
def entropy(distributions: torch.Tensor) -> torch.Tensor: ...
@overload
def entropy(distributions: np.ndarray | list) -> np.ndarray: ...
def entropy(distributions: torch.Tensor | np.ndarray | list) -> torch.Tensor | np.ndarray:
    """Shannon entropy in nats of each row of a distribution matrix, with ``0 log 0 = 0``.

    Introduced in notebook 01 (how mixed each image's labels are); notebook 03 uses it as
    ``beta_i`` of paper A's Eq. 7. A torch tensor gives a torch tensor (differentiable, on
    its device); anything else gives a float64 numpy array. A one-hot row has entropy 0.
    """
    if isinstance(distributions, torch.Tensor):
        return torch.special.entr(distributions).sum(dim=-1)  # -sum_k p_k log p_k
    p = np.asarray(distributions, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, -p * np.log(p), 0.0)
    return terms.sum(axis=-1)


def kl_divergence(true_dist: ArrayLike, pred_prob: ArrayLike, eps: float = 1e-12) -> np.ndarray:
    """Per-sample ``KL(true || pred) = sum_k t_k log(t_k / q_k)`` in nats.

    Introduced in notebook 04. Terms with ``t_k = 0`` are 0 (the convention 0 log 0 = 0);
    ``q`` is clamped to at least ``eps`` so that a predicted 0 gives a large finite value.
    Rows are used as given (not renormalised).
    """
    t = as_numpy(true_dist).astype(np.float64)
    q = as_numpy(pred_prob).astype(np.float64)
    if t.ndim != 2 or t.shape != q.shape:
        raise ValueError(f"true_dist and pred_prob must both be N x K, got {t.shape} and {q.shape}")
    q = np.maximum(q, eps)
    positive = t > 0
    terms = np.zeros_like(t)
    terms[positive] = t[positive] * (np.log(t[positive]) - np.log(q[positive]))
    return terms.sum(axis=1)


def kl_divergence_mean(true_dist: ArrayLike, pred_prob: ArrayLike, eps: float = 1e-12) -> float:
    """Mean over samples of ``KL(true || pred)`` (see :func:`kl_divergence`).

    The KL curves of paper A's Fig. 6.
    """
    per_sample = kl_divergence(true_dist, pred_prob, eps)
    if per_sample.size == 0:
        raise ValueError("KL divergence of an empty set is undefined")
    return float(per_sample.mean())


#: Epsilon that the LDL distances clip distributions to, as PyLDL does: the float64
#: machine epsilon (about 2.2e-16), small enough never to change a non-zero entry.
LDL_EPS: float = float(np.finfo(np.float64).eps)


def _distributions(
    true_dist: ArrayLike, pred_dist: ArrayLike, tol: float = 1e-3
) -> tuple[np.ndarray, np.ndarray]:
    """Checked ``N x K`` float64 arrays whose rows are probability distributions."""
    arrays = []
    for name, values in (("true_dist", true_dist), ("pred_dist", pred_dist)):
        arr = as_numpy(values).astype(np.float64)
        if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
            raise ValueError(
                f"{name} must be an N x K matrix with N, K >= 1 (one distribution per row; "
                f"use x[None] for a single one), got shape {arr.shape}"
            )
        if not np.all(np.isfinite(arr)) or np.any(arr < 0):
            raise ValueError(f"{name} must hold finite, non-negative values")
        sums = arr.sum(axis=1)
        if not np.allclose(sums, 1.0, rtol=0.0, atol=tol):
            worst = int(np.argmax(np.abs(sums - 1.0)))
            raise ValueError(
                f"every row of {name} must sum to 1 (within {tol}); row {worst} sums to "
                f"{sums[worst]:.6g}"
            )
        arrays.append(arr)
    t, p = arrays
    if t.shape != p.shape:
        raise ValueError(
            f"true_dist and pred_dist must have the same shape, got {t.shape} and {p.shape}"
        )
    return t, p


def _clipped(true_dist: ArrayLike, pred_dist: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Checked distributions clipped to ``[LDL_EPS, 1]`` (PyLDL's guard against zeros)."""
    t, p = _distributions(true_dist, pred_dist)
    return np.clip(t, LDL_EPS, 1.0), np.clip(p, LDL_EPS, 1.0)


def chebyshev(true_dist: ArrayLike, pred_dist: ArrayLike) -> float:
    """Mean over samples of ``max_k |t_k - q_k|``, the largest per-label gap; lower is better.

    Introduced in notebook 06 (the first of PyLDL's six default LDL measures).
    """
    t, p = _distributions(true_dist, pred_dist)
    return float(np.abs(t - p).max(axis=1).mean())


def clark(true_dist: ArrayLike, pred_dist: ArrayLike) -> float:
    """Mean over samples of ``sqrt(sum_k (t_k - q_k)^2 / (t_k + q_k)^2)``; lower is better.

    Introduced in notebook 06. Each label's gap is measured relative to the label's total
    mass, so small labels weigh as much as large ones. Both distributions are clipped to
    ``[LDL_EPS, 1]`` first (see the module notes on zeros).
    """
    t, p = _clipped(true_dist, pred_dist)
    return float(np.sqrt(np.sum((t - p) ** 2 / (t + p) ** 2, axis=1)).mean())


def canberra(true_dist: ArrayLike, pred_dist: ArrayLike) -> float:
    """Mean over samples of ``sum_k |t_k - q_k| / (t_k + q_k)``; lower is better.

    Introduced in notebook 06. Like :func:`clark` without the squares and the root; each
    label adds between 0 and 1. Distributions are clipped to ``[LDL_EPS, 1]`` first.
    """
    t, p = _clipped(true_dist, pred_dist)
    return float(np.sum(np.abs(t - p) / (t + p), axis=1).mean())


def kl_divergence_ldl(true_dist: ArrayLike, pred_dist: ArrayLike) -> float:
    """Mean over samples of ``KL(true || pred)`` with PyLDL's epsilon; lower is better.

    Explained in notebook 06: :func:`kl_divergence_mean` with ``eps = LDL_EPS`` after
    checking that the rows are distributions, so that a predicted 0 is scored the way
    PyLDL scores it. (Notebook 04's training curves keep ``eps = 1e-12``.)
    """
    t, p = _distributions(true_dist, pred_dist)
    return kl_divergence_mean(t, p, eps=LDL_EPS)


def cosine(true_dist: ArrayLike, pred_dist: ArrayLike) -> float:
    """Mean over samples of the cosine of the angle between ``t`` and ``q``; higher is better.

    Introduced in notebook 06: ``sum_k t_k q_k / (||t|| ||q||)``, 1 when the two
    distributions are equal. A row summing to 1 is never the zero vector, so no epsilon
    is needed.
    """
    t, p = _distributions(true_dist, pred_dist)
    dot = np.sum(t * p, axis=1)
    return float((dot / (np.linalg.norm(t, axis=1) * np.linalg.norm(p, axis=1))).mean())


def intersection(true_dist: ArrayLike, pred_dist: ArrayLike) -> float:
    """Mean over samples of ``sum_k min(t_k, q_k)``, the shared mass; higher is better.

    Introduced in notebook 06. For distributions this equals ``1 - sum_k |t_k - q_k| / 2``,
    the form PyLDL computes; 1 means identical distributions, 0 disjoint supports.
    """
    t, p = _distributions(true_dist, pred_dist)
    return float(np.minimum(t, p).sum(axis=1).mean())


#: PyLDL's six default LDL measures, in its order: name -> (function, which direction is
#: better: ``"lower"`` or ``"higher"``). Introduced in notebook 06.
LDL_METRICS: dict[str, tuple[Callable[[ArrayLike, ArrayLike], float], str]] = {
    "chebyshev": (chebyshev, "lower"),
    "clark": (clark, "lower"),
    "canberra": (canberra, "lower"),
    "kl_divergence": (kl_divergence_ldl, "lower"),
    "cosine": (cosine, "higher"),
    "intersection": (intersection, "higher"),
}


def ldl_report(true_dist: ArrayLike, pred_dist: ArrayLike) -> dict[str, float]:
    """Every measure of :data:`LDL_METRICS` for ``N x K`` true and predicted distributions.

    Introduced in notebook 06. Keys are the registry's names, values means over samples.
    """
    t, p = _distributions(true_dist, pred_dist)
    return {name: fn(t, p) for name, (fn, _) in LDL_METRICS.items()}
