"""Evaluation metrics, one small function per metric, checked against scikit-learn.

Introduced in notebook 04 (training) and gathered in notebook 06 (metrics). Inputs may be
numpy arrays, torch tensors or lists; outputs are plain floats and numpy arrays.

The module is organised by the kind of label a metric scores:

* **single-label** (paper A's Table 2 and Fig. 4): :func:`accuracy`,
  :func:`confusion_matrix`, :func:`per_class_accuracy`, :func:`mean_class_accuracy`, and
  :func:`single_label_report` bundling them;
* **label distributions** (paper A's KL curves): :func:`kl_divergence_mean`;
* **multi-label** (paper B's nine metrics) follow in their own section.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from sklearn import metrics as skm

ArrayLike = np.ndarray | torch.Tensor | list[Any] | tuple[Any, ...]


def as_numpy(values: ArrayLike) -> np.ndarray:
    """``values`` as a numpy array (torch tensors are detached and moved to the CPU).

    Introduced in notebook 04.
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


# ---------------------------------------------------------------------------------------
# Single-label classification
# ---------------------------------------------------------------------------------------


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of samples whose predicted class equals the true class.

    Introduced in notebook 04 (scikit-learn's ``accuracy_score``).
    """
    t, p = _pair(y_true, y_pred)
    if t.size == 0:
        raise ValueError("accuracy of an empty set is undefined")
    return float(skm.accuracy_score(t, p))


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """``num_classes x num_classes`` counts; row = true class, column = predicted class.

    Introduced in notebook 04 (scikit-learn's ``confusion_matrix`` with every class listed,
    so absent classes still get their row and column).
    """
    t, p = _pair(y_true, y_pred)
    return skm.confusion_matrix(t, p, labels=np.arange(num_classes))


def per_class_accuracy(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> np.ndarray:
    """Accuracy within each true class (the recall of that class), ``nan`` where absent.

    Introduced in notebook 04: the diagonal of the row-normalised confusion matrix. A
    class with no sample in ``y_true`` has no defined accuracy and gets ``nan``.
    """
    cm = confusion_matrix(y_true, y_pred, num_classes).astype(float)
    support = cm.sum(axis=1)
    out = np.full(num_classes, np.nan)
    present = support > 0
    out[present] = np.diag(cm)[present] / support[present]
    return out


def mean_class_accuracy(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> float:
    """Mean of :func:`per_class_accuracy` over the classes present in ``y_true``.

    Introduced in notebook 04 (paper A's "mean per-class accuracy"). Classes absent from
    the evaluated set are *excluded* from the mean rather than counted as 0 or 1; this is
    scikit-learn's ``balanced_accuracy_score``.
    """
    per_class = per_class_accuracy(y_true, y_pred, num_classes)
    if np.all(np.isnan(per_class)):
        raise ValueError("mean per-class accuracy of an empty set is undefined")
    return float(np.nanmean(per_class))


# ---------------------------------------------------------------------------------------
# Label distributions
# ---------------------------------------------------------------------------------------


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

    Introduced in notebook 04: the KL curves of paper A's Fig. 6.
    """
    per_sample = kl_divergence(true_dist, pred_prob, eps)
    if per_sample.size == 0:
        raise ValueError("KL divergence of an empty set is undefined")
    return float(per_sample.mean())


def cross_entropy_mean(y_true: ArrayLike, pred_prob: ArrayLike, eps: float = 1e-12) -> float:
    """Mean of ``-log q[true class]`` over samples, with ``q`` clamped to ``eps``.

    Introduced in notebook 04 (the validation loss the trainer records).
    """
    t = _labels(y_true, "y_true")
    q = as_numpy(pred_prob).astype(np.float64)
    if q.ndim != 2 or q.shape[0] != t.size or t.size == 0:
        raise ValueError(f"pred_prob must be N x K with N = {t.size} > 0, got {q.shape}")
    return float(-np.log(np.maximum(q[np.arange(t.size), t], eps)).mean())


# ---------------------------------------------------------------------------------------
# Reports
# ---------------------------------------------------------------------------------------


def single_label_report(
    y_true: ArrayLike, pred_prob: ArrayLike, true_dist: ArrayLike | None = None
) -> dict[str, Any]:
    """Every single-label metric of predicted probabilities ``N x K`` against labels ``N``.

    Introduced in notebook 04. Returns ``accuracy``, ``mean_class_accuracy``,
    ``per_class_accuracy`` (array, ``nan`` for absent classes), ``confusion_matrix``
    (rows = true), ``ce`` (mean cross-entropy) and, when ``true_dist`` is given, ``kl``
    (mean KL(true || predicted)). The predicted class is the arg-max probability.
    """
    q = as_numpy(pred_prob)
    if q.ndim != 2:
        raise ValueError(f"pred_prob must be N x K, got shape {q.shape}")
    k = q.shape[1]
    pred = q.argmax(axis=1)
    report: dict[str, Any] = {
        "accuracy": accuracy(y_true, pred),
        "mean_class_accuracy": mean_class_accuracy(y_true, pred, k),
        "per_class_accuracy": per_class_accuracy(y_true, pred, k),
        "confusion_matrix": confusion_matrix(y_true, pred, k),
        "ce": cross_entropy_mean(y_true, q),
    }
    if true_dist is not None:
        report["kl"] = kl_divergence_mean(true_dist, q)
    return report
