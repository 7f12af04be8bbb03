"""Evaluation metrics, one small function per metric, checked against reference code.

Introduced in notebook 04 (training) and gathered in notebook 06 (metrics), where every
metric is worked out by hand on a tiny example. Inputs may be numpy arrays, torch
tensors or lists; outputs are plain floats and numpy arrays. Each argument is checked
and a wrong shape or value raises ``ValueError`` naming the argument.

The module is organised by the kind of label a metric scores:

* **single-label** (paper A's Table 2 and Fig. 4): :func:`accuracy`,
  :func:`confusion_matrix`, :func:`per_class_accuracy`, :func:`mean_class_accuracy`, and
  :func:`single_label_report` bundling them;
* **label distributions** (paper A's KL curves; the six default measures of PyLDL):
  :func:`kl_divergence_mean`, :func:`chebyshev`, :func:`clark`, :func:`canberra`,
  :func:`kl_divergence_ldl`, :func:`cosine`, :func:`intersection`, the registry
  :data:`LDL_METRICS` and :func:`ldl_report`;
* **multi-label** (paper B's nine metrics): :func:`hamming_loss`, :func:`coverage`,
  :func:`one_error`, :func:`ranking_loss`, :func:`average_precision`, :func:`micro_f1`,
  :func:`macro_f1`, :func:`micro_auc`, :func:`macro_auc`, the registry
  :data:`MULTILABEL_METRICS` and :func:`multilabel_report`.

Zeros in label distributions
    Clark, Canberra and KL divide by, or take the log of, distribution entries that may
    be 0. As PyLDL does, both distributions are clipped to ``[LDL_EPS, 1]`` first, with
    ``LDL_EPS`` the float64 machine epsilon (about 2.2e-16). A label where both
    distributions are 0 then adds 0 to Clark and Canberra, and a label where only one
    is 0 adds (nearly) 1 to Canberra, its largest possible term. KL reuses
    :func:`kl_divergence` with ``eps = LDL_EPS``: terms with a true value of 0 are
    exactly 0 there, where PyLDL's clipping leaves about 1e-14; the two agree to that
    precision. Chebyshev, cosine and intersection need no epsilon.

Edge cases of the multi-label metrics (one rule each, applied the same way everywhere)
    *A sample with no relevant label* has nothing that could be ranked first or
    covered, so one-error, coverage, ranking loss and average precision are undefined
    for it. These four metrics leave such samples out and average over the samples
    with at least one relevant label; when no sample has one they return ``nan``.
    (Scikit-learn would instead score such a sample as perfect in ranking loss and
    average precision and give it a coverage of -1 after the "minus one"; the
    widely used MATLAB evaluation code of Zhang and Zhou also leaves such samples out.)
    Hamming loss, F1 and AUC use every sample, since a sample without labels still
    has label slots that are right or wrong.

    *A sample whose labels are all relevant* is kept: its one-error is 0, its
    coverage L - 1 and its average precision 1, as the definitions give, and its
    ranking loss is 0 (there is no relevant-irrelevant pair to misorder; scikit-learn's
    convention).

    *Tied scores* count against the model, as scikit-learn's ranking metrics do: a tie
    between a relevant and an irrelevant label is a misordered pair (ranking loss), the
    lowest-scored relevant label covers everything tied with it (coverage), and
    one-error is 1 when any label sharing the top score is irrelevant.

    *A label with no positive or no negative example* has no ROC curve: macro-AUC
    leaves it out and averages the other labels (``nan`` if none remain), and micro-AUC
    is ``nan`` when the pooled label slots are all 0 or all 1. Likewise a label with
    no positive example and no predicted positive has an F1 of 0/0: macro-F1 leaves it
    out of the average (scikit-learn's ``zero_division=np.nan``) instead of counting
    it as 0 (which punishes a model for a label absent from the evaluated set) or as 1
    (which rewards it); micro-F1 is ``nan`` only when every slot is a true negative.
    A batch of one sample follows the same rules; macro-AUC is then always ``nan``.
"""

from __future__ import annotations

from collections.abc import Callable
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

    Introduced in notebook 06: :func:`kl_divergence_mean` with ``eps = LDL_EPS`` after
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


# ---------------------------------------------------------------------------------------
# Multi-label classification (paper B)
# ---------------------------------------------------------------------------------------


def _relevance(y_true: ArrayLike, name: str = "y_true") -> np.ndarray:
    """A checked ``N x L`` 0/1 integer matrix."""
    arr = as_numpy(y_true)
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(
            f"{name} must be an N x L 0/1 matrix with N, L >= 1 (one row per sample), "
            f"got shape {arr.shape}"
        )
    if arr.dtype != bool and not np.all((arr == 0) | (arr == 1)):
        raise ValueError(f"{name} must hold only 0 and 1 (or booleans)")
    return arr.astype(np.int64)


def _scores(
    y_true: ArrayLike, scores: ArrayLike, name: str = "scores"
) -> tuple[np.ndarray, np.ndarray]:
    """Checked relevance matrix and a float64 score matrix of the same shape."""
    y = _relevance(y_true)
    s = as_numpy(scores).astype(np.float64)
    if s.shape != y.shape:
        raise ValueError(f"{name} must have the shape of y_true {y.shape}, got {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError(f"{name} must be finite (no nan or inf)")
    return y, s


def _predictions(y_true: ArrayLike, y_pred: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """Checked relevance and predicted 0/1 matrices of the same shape."""
    y, p = _relevance(y_true), _relevance(y_pred, "y_pred")
    if p.shape != y.shape:
        raise ValueError(f"y_pred must have the shape of y_true {y.shape}, got {p.shape}")
    return y, p


def _with_relevant(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The samples with at least one relevant label, or ``None`` when there are none."""
    keep = y.any(axis=1)
    return (y[keep], s[keep]) if keep.any() else None


def predict_labels(
    scores: ArrayLike, threshold: float = 0.5, scores_are_probabilities: bool = True
) -> np.ndarray:
    """The ``N x L`` 0/1 predictions ``probability > threshold``.

    Introduced in notebook 05; explained in notebook 06. With
    ``scores_are_probabilities=False`` the scores are logits and the rule is applied to
    their sigmoid, i.e. ``logit > log(threshold / (1 - threshold))`` (0 for 0.5), which
    avoids rounding in the sigmoid.
    """
    s = as_numpy(scores).astype(np.float64)
    if s.ndim != 2:
        raise ValueError(f"scores must be an N x L matrix, got shape {s.shape}")
    if not np.all(np.isfinite(s)):
        raise ValueError("scores must be finite (no nan or inf)")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    if scores_are_probabilities:
        if np.any((s < 0) | (s > 1)):
            raise ValueError(
                "scores must be probabilities in [0, 1]; pass scores_are_probabilities=False "
                "for logits"
            )
        return (s > threshold).astype(np.int64)
    return (s > np.log(threshold / (1.0 - threshold))).astype(np.int64)


def hamming_loss(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of the ``N x L`` label slots predicted wrongly; lower is better.

    Introduced in notebook 05; explained in notebook 06 (scikit-learn's ``hamming_loss``).
    ``y_pred`` holds 0/1 predictions (see :func:`predict_labels`).
    """
    y, p = _predictions(y_true, y_pred)
    return float(skm.hamming_loss(y, p))


def one_error(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Fraction of samples whose top-scored label is not relevant; lower is better.

    Introduced in notebook 05; explained in notebook 06. Scikit-learn has no one-error,
    so it is computed here: a sample counts as an error when any label sharing its
    highest score is irrelevant (ties count against the model). Samples with no
    relevant label are left out; ``nan`` if none has one (see the module notes).
    """
    kept = _with_relevant(*_scores(y_true, scores))
    if kept is None:
        return float("nan")
    y, s = kept
    top = s == s.max(axis=1, keepdims=True)
    return float(np.mean(np.any(top & (y == 0), axis=1)))


def coverage(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Mean number of steps down the ranked labels to cover every relevant one; lower is better.

    Introduced in notebook 05; explained in notebook 06. The rank (1 = highest score) of
    the lowest-ranked relevant label, minus 1: scikit-learn's ``coverage_error`` minus 1
    (SPEC section 3), so a perfect ranking of one relevant label scores 0. Samples with
    no relevant label are left out; ``nan`` if none has one.
    """
    kept = _with_relevant(*_scores(y_true, scores))
    if kept is None:
        return float("nan")
    return float(skm.coverage_error(*kept) - 1.0)


def ranking_loss(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Mean fraction of (relevant, irrelevant) label pairs scored in the wrong order.

    Introduced in notebook 05; explained in notebook 06 (scikit-learn's
    ``label_ranking_loss``; a tie counts as wrong). Lower is better. Samples with no
    relevant label are left out (``nan`` if none has one); a sample with every label
    relevant has no pair and scores 0.
    """
    kept = _with_relevant(*_scores(y_true, scores))
    if kept is None:
        return float("nan")
    return float(skm.label_ranking_loss(*kept))


def average_precision(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Label-ranking average precision; higher is better.

    Introduced in notebook 05; explained in notebook 06 (scikit-learn's
    ``label_ranking_average_precision_score``). For each relevant label, the fraction of
    the labels ranked at or above it that are relevant; averaged over the relevant
    labels, then over samples. Samples with no relevant label are left out (``nan`` if
    none has one), where scikit-learn would count them as 1.
    """
    kept = _with_relevant(*_scores(y_true, scores))
    if kept is None:
        return float("nan")
    return float(skm.label_ranking_average_precision_score(*kept))


def micro_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """F1 of all label slots pooled: ``2 TP / (2 TP + FP + FN)``; higher is better.

    Introduced in notebook 05; explained in notebook 06 (scikit-learn's ``f1_score`` with
    ``average="micro"``). ``nan`` when there is no true and no predicted positive at all.
    """
    y, p = _predictions(y_true, y_pred)
    return float(skm.f1_score(y, p, average="micro", zero_division=np.nan))


def macro_f1(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Mean over labels of each label's F1; higher is better.

    Introduced in notebook 05; explained in notebook 06 (scikit-learn's ``f1_score`` with
    ``average="macro"``). A label with no true and no predicted positive has no F1 and
    is left out of the mean (``zero_division=np.nan``); ``nan`` if every label is.
    """
    y, p = _predictions(y_true, y_pred)
    per_label = skm.f1_score(y, p, average=None, zero_division=np.nan)
    return float(np.nanmean(per_label)) if np.any(~np.isnan(per_label)) else float("nan")


def per_label_auc(y_true: ArrayLike, scores: ArrayLike) -> np.ndarray:
    """ROC AUC of each label (column), ``nan`` where a label has no positive or no negative.

    Introduced in notebook 06 (scikit-learn's ``roc_auc_score`` per column).
    """
    y, s = _scores(y_true, scores)
    out = np.full(y.shape[1], np.nan)
    for j in range(y.shape[1]):
        if 0 < y[:, j].sum() < y.shape[0]:
            out[j] = skm.roc_auc_score(y[:, j], s[:, j])
    return out


def micro_auc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """ROC AUC of all label slots pooled into one binary problem; higher is better.

    Introduced in notebook 05; explained in notebook 06 (scikit-learn's ``roc_auc_score``
    with ``average="micro"``). ``nan`` when the slots are all 0 or all 1.
    """
    y, s = _scores(y_true, scores)
    if y.min() == y.max():
        return float("nan")
    return float(skm.roc_auc_score(y.ravel(), s.ravel()))


def macro_auc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Mean of :func:`per_label_auc` over the labels where it is defined; higher is better.

    Introduced in notebook 05; explained in notebook 06. Labels without a positive or
    without a negative example are left out; ``nan`` if none remains (always the case
    for a single sample).
    """
    per_label = per_label_auc(y_true, scores)
    return float(np.nanmean(per_label)) if np.any(~np.isnan(per_label)) else float("nan")


#: Paper B's nine metrics in its table order -> which direction is better
#: (``"lower"`` or ``"higher"``). :func:`multilabel_report` returns exactly these keys.
#: Introduced in notebook 05; explained in notebook 06.
MULTILABEL_METRICS: dict[str, str] = {
    "hamming_loss": "lower",
    "coverage": "lower",
    "one_error": "lower",
    "ranking_loss": "lower",
    "average_precision": "higher",
    "micro_f1": "higher",
    "macro_f1": "higher",
    "micro_auc": "higher",
    "macro_auc": "higher",
}


def multilabel_report(
    y_true: ArrayLike,
    scores: ArrayLike,
    threshold: float = 0.5,
    scores_are_probabilities: bool = True,
) -> dict[str, float]:
    """Paper B's nine metrics of ``N x L`` scores against a 0/1 relevance matrix.

    Introduced in notebook 05; explained in notebook 06. ``scores`` are probabilities
    (default) or logits (``scores_are_probabilities=False``); higher means more likely.
    Hamming loss and the F1 scores use the predictions of :func:`predict_labels` at
    ``threshold``; the ranking metrics and AUCs use the scores. Keys and order are those
    of :data:`MULTILABEL_METRICS`; undefined values are ``nan`` (see the module notes).
    """
    y, s = _scores(y_true, scores)
    pred = predict_labels(s, threshold, scores_are_probabilities)
    values = {
        "hamming_loss": hamming_loss(y, pred),
        "coverage": coverage(y, s),
        "one_error": one_error(y, s),
        "ranking_loss": ranking_loss(y, s),
        "average_precision": average_precision(y, s),
        "micro_f1": micro_f1(y, pred),
        "macro_f1": macro_f1(y, pred),
        "micro_auc": micro_auc(y, s),
        "macro_auc": macro_auc(y, s),
    }
    return {name: values[name] for name in MULTILABEL_METRICS}
