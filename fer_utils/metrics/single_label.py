"""Single-label metrics: accuracy, confusion matrix, per-class accuracy, cross-entropy.

Part of :mod:`fer_utils.metrics`: paper A's Table 2 and Fig. 4 (notebook 04).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn import metrics as skm

from fer_utils.metrics.arrays import ArrayLike, _labels, _pair, as_numpy
from fer_utils.metrics.distributions import kl_divergence_mean


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
    return per_class_from_confusion(confusion_matrix(y_true, y_pred, num_classes))


def per_class_from_confusion(counts: ArrayLike) -> np.ndarray:
    """Per-class accuracy from a ``C x C`` count matrix (rows = true class), ``nan`` if empty.

    ``diag(counts) / row sums``; the per-class bars of paper A's
    Fig. 4 add the matrices of several runs first and then call this.
    """
    cm = as_numpy(counts).astype(float)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"counts must be a square C x C matrix, got shape {cm.shape}")
    support = cm.sum(axis=1)
    out = np.full(cm.shape[0], np.nan)
    present = support > 0
    out[present] = np.diag(cm)[present] / support[present]
    return out


def mean_class_accuracy(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> float:
    """Mean of :func:`per_class_accuracy` over the classes present in ``y_true``.

    Paper A's "mean per-class accuracy". Classes absent from the evaluated set are
    *excluded* from the mean rather than counted as 0 or 1; this is scikit-learn's
    ``balanced_accuracy_score``.
    """
    per_class = per_class_accuracy(y_true, y_pred, num_classes)
    if np.all(np.isnan(per_class)):
        raise ValueError("mean per-class accuracy of an empty set is undefined")
    return float(np.nanmean(per_class))


def cross_entropy_mean(y_true: ArrayLike, pred_prob: ArrayLike, eps: float = 1e-12) -> float:
    """Mean of ``-log q[true class]`` over samples, with ``q`` clamped to ``eps``.

    The validation loss the trainer records.
    """
    t = _labels(y_true, "y_true")
    q = as_numpy(pred_prob).astype(np.float64)
    if q.ndim != 2 or q.shape[0] != t.size or t.size == 0:
        raise ValueError(f"pred_prob must be N x K with N = {t.size} > 0, got {q.shape}")
    return float(-np.log(np.maximum(q[np.arange(t.size), t], eps)).mean())


def single_label_report(
    y_true: ArrayLike, pred_prob: ArrayLike, true_dist: ArrayLike | None = None
) -> dict[str, Any]:
    """Every single-label metric of predicted probabilities ``N x K`` against labels ``N``.

    Returns ``accuracy``, ``mean_class_accuracy``,
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
