"""Paper B's nine multi-label metrics, with the edge cases of the package docstring.

Part of :mod:`fer_utils.metrics`: introduced in notebook 05, explained in notebook 06.
"""

from __future__ import annotations

import numpy as np
from sklearn import metrics as skm

from fer_utils.metrics.arrays import ArrayLike, as_numpy


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

    Explained in notebook 06. With
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

    Explained in notebook 06 (scikit-learn's ``hamming_loss``).
    ``y_pred`` holds 0/1 predictions (see :func:`predict_labels`).
    """
    y, p = _predictions(y_true, y_pred)
    return float(skm.hamming_loss(y, p))


def one_error(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Fraction of samples whose top-scored label is not relevant; lower is better.

    Explained in notebook 06. Scikit-learn has no one-error,
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

    Explained in notebook 06. The rank (1 = highest score) of the
    lowest-ranked relevant label, minus 1: scikit-learn's ``coverage_error`` minus 1
    (``docs/replication.md``, paper B's settings), so a perfect ranking of one relevant
    label scores 0. Samples with no relevant label are left out; ``nan`` if none has one.
    """
    kept = _with_relevant(*_scores(y_true, scores))
    if kept is None:
        return float("nan")
    return float(skm.coverage_error(*kept) - 1.0)


def ranking_loss(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Mean fraction of (relevant, irrelevant) label pairs scored in the wrong order.

    Explained in notebook 06 (scikit-learn's
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

    Explained in notebook 06 (scikit-learn's ``f1_score`` with
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

    Explained in notebook 06 (scikit-learn's ``roc_auc_score``
    with ``average="micro"``). ``nan`` when the slots are all 0 or all 1.
    """
    y, s = _scores(y_true, scores)
    if y.min() == y.max():
        return float("nan")
    return float(skm.roc_auc_score(y.ravel(), s.ravel()))


def macro_auc(y_true: ArrayLike, scores: ArrayLike) -> float:
    """Mean of :func:`per_label_auc` over the labels where it is defined; higher is better.

    Explained in notebook 06. Labels without a positive or
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
