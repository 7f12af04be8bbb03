"""Label-distribution and multi-label metrics: reference implementations, hand values, edges.

The single-label metrics are tested in ``test_train.py``; this file covers the LDL
measures (against PyLDL) and paper B's nine multi-label metrics (against scikit-learn,
plus a brute-force one-error, since scikit-learn has none).
"""

from __future__ import annotations

import math
import os

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from fer_utils import metrics
from fer_utils.published import MFJLE_TABLES

SHAPES = [(1, 2), (7, 3), (40, 6), (200, 8)]


@pytest.fixture(scope="module")
def pyldl_metrics():
    """PyLDL's metrics module (it needs a Keras backend chosen before import)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    return pytest.importorskip("pyldl.metrics")


def random_distributions(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    """``n`` random distributions over ``k`` labels, some of them with exact zeros."""
    dist = rng.dirichlet(np.full(k, 0.5), size=n)
    holes = rng.random((n, k)) < 0.25
    holes[np.arange(n), dist.argmax(axis=1)] = False  # keep every row non-zero
    dist[holes] = 0.0
    return dist / dist.sum(axis=1, keepdims=True)


def random_multilabel(
    rng: np.random.Generator, n: int, k: int, every_row_relevant: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """A random 0/1 matrix and probability scores loosely correlated with it."""
    y = (rng.random((n, k)) < 0.35).astype(int)
    if every_row_relevant:
        y[np.arange(n), rng.integers(0, k, n)] = 1
    scores = np.clip(0.3 * y + 0.7 * rng.random((n, k)), 0.0, 1.0)
    return y, scores


def brute_force_one_error(y: np.ndarray, scores: np.ndarray) -> float:
    """One-error by a plain loop over samples (ties count against the model)."""
    errors = []
    for labels, row in zip(y, scores, strict=True):
        if labels.sum() == 0:
            continue
        top = [j for j in range(len(row)) if row[j] == row.max()]
        errors.append(any(labels[j] == 0 for j in top))
    return float(np.mean(errors)) if errors else math.nan


# ---------------------------------------------------------------------------------------
# Label distributions
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("seed", [0, 1])
def test_ldl_metrics_match_pyldl(pyldl_metrics, shape: tuple[int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    t = random_distributions(rng, *shape)
    q = random_distributions(rng, *shape)
    report = metrics.ldl_report(t, q)
    assert list(report) == pyldl_metrics.DEFAULT_METRICS
    for name, value in report.items():
        reference = getattr(pyldl_metrics, name)(t, q)
        assert value == pytest.approx(reference, rel=1e-9, abs=1e-12), name
        fn, _ = metrics.LDL_METRICS[name]
        assert fn(torch.as_tensor(t), q) == pytest.approx(value, rel=1e-12), name


def test_ldl_metrics_zero_handling_matches_pyldl(pyldl_metrics) -> None:
    # Row 0 puts all mass on different labels; row 1 has a label that is 0 in both.
    t = np.array([[1.0, 0.0, 0.0], [0.5, 0.5, 0.0]])
    q = np.array([[0.0, 1.0, 0.0], [0.5, 0.5, 0.0]])
    report = metrics.ldl_report(t, q)
    for name, value in report.items():
        assert value == pytest.approx(getattr(pyldl_metrics, name)(t, q), rel=1e-9), name
    # Row 0 alone: two labels each adding (nearly) 1 to Canberra and to Clark's sum;
    # KL is log(1 / LDL_EPS) because the predicted 0 is clipped to LDL_EPS.
    assert metrics.canberra(t[:1], q[:1]) == pytest.approx(2.0)
    assert metrics.clark(t[:1], q[:1]) == pytest.approx(math.sqrt(2.0))
    assert metrics.kl_divergence_ldl(t[:1], q[:1]) == pytest.approx(-math.log(metrics.LDL_EPS))
    assert metrics.cosine(t[:1], q[:1]) == 0.0
    assert metrics.intersection(t[:1], q[:1]) == 0.0
    assert metrics.chebyshev(t[:1], q[:1]) == 1.0
    # Row 1 alone: identical distributions, a zero in both is no nan and adds nothing.
    same = metrics.ldl_report(t[1:], q[1:])
    assert same == pytest.approx(
        {
            "chebyshev": 0,
            "clark": 0,
            "canberra": 0,
            "kl_divergence": 0,
            "cosine": 1,
            "intersection": 1,
        }
    )


def test_ldl_metrics_hand_computed() -> None:
    # t = (1/2, 1/2, 0), q = (1/4, 1/2, 1/4):
    # Chebyshev    max(1/4, 0, 1/4)                               = 1/4
    # Clark        sqrt((1/4 / 3/4)^2 + 0 + (1/4 / 1/4)^2)       = sqrt(1/9 + 1) = sqrt(10/9)
    # Canberra     (1/4)/(3/4) + 0 + (1/4)/(1/4)                  = 1/3 + 1 = 4/3
    # KL           1/2 ln(1/2 / 1/4) + 1/2 ln 1 + 0 (0 ln 0 = 0)  = ln(2) / 2
    # cosine       (1/8 + 1/4) / (sqrt(1/2) sqrt(3/8))            = sqrt(3) / 2
    # intersection min: 1/4 + 1/2 + 0                             = 3/4
    t, q = [[0.5, 0.5, 0.0]], [[0.25, 0.5, 0.25]]
    assert metrics.ldl_report(t, q) == pytest.approx(
        {
            "chebyshev": 0.25,
            "clark": math.sqrt(10 / 9),
            "canberra": 4 / 3,
            "kl_divergence": math.log(2) / 2,
            "cosine": math.sqrt(3) / 2,
            "intersection": 0.75,
        },
        rel=1e-12,
    )
    # Each is a mean over samples: a second, perfectly predicted row halves the distances.
    t2, q2 = [[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]], [[0.25, 0.5, 0.25], [0.2, 0.3, 0.5]]
    assert metrics.canberra(t2, q2) == pytest.approx(2 / 3)
    assert metrics.cosine(t2, q2) == pytest.approx((math.sqrt(3) / 2 + 1) / 2)


def test_ldl_kl_reuses_kl_divergence_with_pyldl_epsilon() -> None:
    t, q = np.array([[0.3, 0.7, 0.0]]), np.array([[0.0, 0.6, 0.4]])
    expected = metrics.kl_divergence(t, q, eps=metrics.LDL_EPS).mean()
    assert metrics.kl_divergence_ldl(t, q) == expected
    # notebook 04's curves keep their own epsilon, which gives a smaller value here
    assert metrics.kl_divergence_mean(t, q) < expected


@pytest.mark.parametrize(
    ("true_dist", "pred_dist", "message"),
    [
        ([0.5, 0.5], [0.5, 0.5], "true_dist must be an N x K matrix"),
        ([[0.5, 0.5]], [[0.5, 0.25, 0.25]], "same shape"),
        ([[0.5, 0.5]], [[1.5, -0.5]], "pred_dist must hold finite, non-negative"),
        ([[0.5, np.nan]], [[0.5, 0.5]], "true_dist must hold finite"),
        ([[0.5, 0.4]], [[0.5, 0.5]], "every row of true_dist must sum to 1"),
        (np.zeros((0, 3)), np.zeros((0, 3)), "N, K >= 1"),
    ],
)
def test_ldl_metrics_validate_inputs(true_dist, pred_dist, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metrics.ldl_report(true_dist, pred_dist)


def test_ldl_registry_order_and_directions(pyldl_metrics) -> None:
    assert list(metrics.LDL_METRICS) == list(pyldl_metrics.DEFAULT_METRICS)
    for name, (fn, direction) in metrics.LDL_METRICS.items():
        assert callable(fn)
        larger = name in pyldl_metrics.THE_LARGER_THE_BETTER
        assert direction == ("higher" if larger else "lower"), name
    assert {n: d for n, (_, d) in metrics.LDL_METRICS.items()} == {
        "chebyshev": "lower",
        "clark": "lower",
        "canberra": "lower",
        "kl_divergence": "lower",
        "cosine": "higher",
        "intersection": "higher",
    }


# ---------------------------------------------------------------------------------------
# Multi-label: agreement with scikit-learn on random inputs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(2, 3), (15, 4), (60, 6), (300, 6)])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_multilabel_metrics_match_sklearn(shape: tuple[int, int], seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, s = random_multilabel(rng, *shape)
    y[0], y[-1] = 1, 0  # some labels relevant in one sample, irrelevant in another
    y[-1, 0] = 1
    pred = (s > 0.5).astype(int)
    report = metrics.multilabel_report(y, s)
    expected = {
        "hamming_loss": skm.hamming_loss(y, pred),
        "coverage": skm.coverage_error(y, s) - 1,
        "one_error": brute_force_one_error(y, s),
        "ranking_loss": skm.label_ranking_loss(y, s),
        "average_precision": skm.label_ranking_average_precision_score(y, s),
        "micro_f1": skm.f1_score(y, pred, average="micro", zero_division=np.nan),
        "micro_auc": skm.roc_auc_score(y, s, average="micro"),
    }
    for name, value in expected.items():
        assert report[name] == pytest.approx(value, rel=1e-12), name
    assert report["hamming_loss"] == pytest.approx(np.mean(y != pred))
    # the macro scores agree with scikit-learn over the labels where it defines them
    f1 = skm.f1_score(y, pred, average=None, zero_division=np.nan)
    assert report["macro_f1"] == pytest.approx(np.nanmean(f1), rel=1e-12)
    both = (y.sum(axis=0) > 0) & (y.sum(axis=0) < len(y))
    assert report["macro_auc"] == pytest.approx(
        skm.roc_auc_score(y[:, both], s[:, both], average="macro"), rel=1e-12
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_multilabel_metrics_match_sklearn_with_tied_scores(seed: int) -> None:
    # Scores rounded to one decimal are full of ties; scikit-learn decides how ties
    # count for coverage, ranking loss and average precision, the loop for one-error.
    rng = np.random.default_rng(seed)
    y, s = random_multilabel(rng, 80, 6)
    s = np.round(s, 1)
    assert metrics.coverage(y, s) == pytest.approx(skm.coverage_error(y, s) - 1)
    assert metrics.ranking_loss(y, s) == pytest.approx(skm.label_ranking_loss(y, s))
    assert metrics.average_precision(y, s) == pytest.approx(
        skm.label_ranking_average_precision_score(y, s)
    )
    assert metrics.one_error(y, s) == pytest.approx(brute_force_one_error(y, s))


@pytest.mark.parametrize("seed", [0, 1])
def test_samples_without_relevant_labels_are_left_out_of_ranking_metrics(seed: int) -> None:
    rng = np.random.default_rng(seed)
    y, s = random_multilabel(rng, 50, 5)
    y[::4] = 0  # every fourth sample has no relevant label
    keep = y.any(axis=1)
    yk, sk = y[keep], s[keep]
    assert metrics.coverage(y, s) == pytest.approx(skm.coverage_error(yk, sk) - 1)
    assert metrics.ranking_loss(y, s) == pytest.approx(skm.label_ranking_loss(yk, sk))
    assert metrics.average_precision(y, s) == pytest.approx(
        skm.label_ranking_average_precision_score(yk, sk)
    )
    assert metrics.one_error(y, s) == pytest.approx(brute_force_one_error(yk, sk))
    # scikit-learn alone would count the empty samples as perfect (LRAP 1)
    assert skm.label_ranking_average_precision_score(y, s) > metrics.average_precision(y, s)
    # Hamming loss, F1 and AUC keep every sample
    pred = (s > 0.5).astype(int)
    assert metrics.hamming_loss(y, pred) == pytest.approx(skm.hamming_loss(y, pred))
    assert metrics.micro_f1(y, pred) == pytest.approx(skm.f1_score(y, pred, average="micro"))
    assert metrics.micro_auc(y, s) == pytest.approx(skm.roc_auc_score(y, s, average="micro"))


# ---------------------------------------------------------------------------------------
# Multi-label: a tiny case worked out by hand
# ---------------------------------------------------------------------------------------

# Three samples, four labels.
#   y_true           scores               predicted (> 0.5)   ranks (1 = top score)
#   1 0 1 0          .9 .6 .4 .1          1 1 0 0             1 2 3 4
#   0 1 0 0          .2 .7 .3 .8          0 1 0 1             4 2 3 1
#   1 1 0 1          .6 .3 .2 .7          1 0 0 1             2 3 4 1
HAND_Y = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 1]])
HAND_S = np.array([[0.9, 0.6, 0.4, 0.1], [0.2, 0.7, 0.3, 0.8], [0.6, 0.3, 0.2, 0.7]])

# Hamming loss: wrong slots 2 + 1 + 1 = 4 of 12                          -> 1/3
# One-error:    top labels L0 (relevant), L3 (not), L3 (relevant)       -> 1/3
# Coverage:     worst relevant rank - 1: 3-1, 2-1, 3-1 = 2, 1, 2        -> 5/3
# Ranking loss: misordered / pairs: 1/4 (L2 below L1), 1/3 (L1 below L3), 0/3
#               mean (1/4 + 1/3 + 0) / 3                                 -> 7/36
# Avg. prec.:   sample 0: (1/1 + 2/3) / 2 = 5/6; sample 1: 1/2; sample 2: (1 + 1 + 1) / 3
#               mean (5/6 + 1/2 + 1) / 3                                 -> 7/9
# F1 per label (TP, FP, FN): L0 (2,0,0) = 1; L1 (1,1,1) = 1/2; L2 (0,0,1) = 0;
#               L3 (1,1,0) = 2/3; macro (1 + 1/2 + 0 + 2/3) / 4          -> 13/24
# Micro-F1:     TP 4, FP 2, FN 2: 2*4 / (2*4 + 2 + 2)                    -> 2/3
# AUC per label (positive above negative; a tie counts 1/2): L0 2/2, L1 1/2, L2 2/2,
#               L3 1/2; macro                                             -> 3/4
# Micro-AUC:    positives .9 .4 .7 .6 .3 .7, negatives .6 .1 .2 .3 .8 .2; negatives
#               below each positive: 6, 4, 5, 4 + 1/2, 3 + 1/2, 5 = 28 of 36 -> 7/9
HAND_VALUES = {
    "hamming_loss": 1 / 3,
    "coverage": 5 / 3,
    "one_error": 1 / 3,
    "ranking_loss": 7 / 36,
    "average_precision": 7 / 9,
    "micro_f1": 2 / 3,
    "macro_f1": 13 / 24,
    "micro_auc": 7 / 9,
    "macro_auc": 3 / 4,
}


def test_multilabel_report_hand_computed() -> None:
    report = metrics.multilabel_report(HAND_Y, HAND_S)
    assert list(report) == list(metrics.MULTILABEL_METRICS)
    assert report == pytest.approx(HAND_VALUES, rel=1e-12)
    np.testing.assert_allclose(metrics.per_label_auc(HAND_Y, HAND_S), [1, 0.5, 1, 0.5])


def test_multilabel_report_accepts_tensors_and_logits() -> None:
    probs = torch.as_tensor(HAND_S, dtype=torch.float64)
    logits = torch.logit(probs)
    from_tensors = metrics.multilabel_report(torch.as_tensor(HAND_Y), probs)
    from_logits = metrics.multilabel_report(HAND_Y, logits, scores_are_probabilities=False)
    assert from_tensors == pytest.approx(HAND_VALUES, rel=1e-12)
    assert from_logits == pytest.approx(HAND_VALUES, rel=1e-12)


def test_threshold_changes_only_the_thresholded_metrics() -> None:
    # At 0.65 the predictions become 1 0 0 0 / 0 1 0 1 / 0 0 0 1:
    # wrong slots 1 + 1 + 2 = 4 of 12, so Hamming is still 1/3; TP 3, FP 1, FN 3 -> 6/10.
    report = metrics.multilabel_report(HAND_Y, HAND_S, threshold=0.65)
    assert report["hamming_loss"] == pytest.approx(1 / 3)
    assert report["micro_f1"] == pytest.approx(0.6)
    np.testing.assert_array_equal(
        metrics.predict_labels(HAND_S, 0.65), [[1, 0, 0, 0], [0, 1, 0, 1], [0, 0, 0, 1]]
    )
    np.testing.assert_array_equal(
        metrics.predict_labels(np.log(HAND_S / (1 - HAND_S)), 0.65, False),
        metrics.predict_labels(HAND_S, 0.65),
    )
    for name in ("coverage", "one_error", "ranking_loss", "average_precision", "micro_auc"):
        assert report[name] == pytest.approx(HAND_VALUES[name]), name


# ---------------------------------------------------------------------------------------
# Multi-label: edge cases
# ---------------------------------------------------------------------------------------


def test_sample_without_relevant_label_changes_no_ranking_metric() -> None:
    y = np.vstack([HAND_Y, [0, 0, 0, 0]])
    s = np.vstack([HAND_S, [0.9, 0.1, 0.1, 0.1]])
    report = metrics.multilabel_report(y, s)
    for name in ("coverage", "one_error", "ranking_loss", "average_precision"):
        assert report[name] == pytest.approx(HAND_VALUES[name]), name
    # the empty sample's slots still count: label 0 is predicted but wrong, 5 of 16
    assert report["hamming_loss"] == pytest.approx(5 / 16)


def test_no_sample_with_a_relevant_label_gives_nan() -> None:
    y = np.zeros((3, 4), dtype=int)
    s = np.full((3, 4), 0.2)
    report = metrics.multilabel_report(y, s)
    assert report["hamming_loss"] == 0.0
    nan_metrics = [name for name, value in report.items() if math.isnan(value)]
    assert nan_metrics == [n for n in metrics.MULTILABEL_METRICS if n != "hamming_loss"]


def test_sample_with_every_label_relevant() -> None:
    # nothing can be ranked wrongly: one-error 0, AP 1, ranking loss 0 (no pairs);
    # coverage has to go down all three labels: rank 3 - 1 = 2.
    y, s = [[1, 1, 1]], [[0.2, 0.5, 0.9]]
    assert metrics.one_error(y, s) == 0.0
    assert metrics.average_precision(y, s) == 1.0
    assert metrics.ranking_loss(y, s) == 0.0
    assert metrics.coverage(y, s) == 2.0


def test_tied_scores_count_against_the_model() -> None:
    # Label 0 is relevant and tied with irrelevant label 1 at the top:
    # one-error 1 (an irrelevant label shares the top score); coverage: label 0 is ranked
    # 2nd (ties take the worse rank) -> 1; ranking loss: pair (0, 1) tied = wrong,
    # (0, 2) right -> 1/2; average precision: 1 relevant among the 2 at or above -> 1/2.
    y, s = [[1, 0, 0]], [[0.5, 0.5, 0.1]]
    assert metrics.one_error(y, s) == 1.0
    assert metrics.coverage(y, s) == 1.0
    assert metrics.ranking_loss(y, s) == 0.5
    assert metrics.average_precision(y, s) == 0.5


def test_batch_of_one_sample() -> None:
    # y = 0 1 0, scores .2 .7 .4: label 1 is top and the only one predicted.
    report = metrics.multilabel_report([[0, 1, 0]], [[0.2, 0.7, 0.4]])
    assert report == pytest.approx(
        {
            "hamming_loss": 0.0,
            "coverage": 0.0,
            "one_error": 0.0,
            "ranking_loss": 0.0,
            "average_precision": 1.0,
            "micro_f1": 1.0,
            "macro_f1": 1.0,  # labels 0 and 2: no positive, none predicted -> left out
            "micro_auc": 1.0,  # pooled slots: one positive above two negatives
            "macro_auc": math.nan,  # each label has a single example: no ROC curve
        },
        nan_ok=True,
    )
    # a wrong single prediction: top label irrelevant, F1 0 for labels 0 and 1
    wrong = metrics.multilabel_report([[0, 1, 0]], [[0.8, 0.3, 0.1]])
    assert wrong["one_error"] == 1.0
    assert wrong["coverage"] == 1.0
    assert wrong["macro_f1"] == 0.0
    assert wrong["micro_auc"] == 0.5  # .3 is above .1, below .8


def test_macro_auc_skips_labels_without_both_classes() -> None:
    y = HAND_Y.copy()
    y[:, 2] = 0  # label 2: no positive
    y[:, 0] = 1  # label 0: no negative
    # left: label 1 (1/2) and label 3 (1/2)
    np.testing.assert_allclose(metrics.per_label_auc(y, HAND_S), [np.nan, 0.5, np.nan, 0.5])
    assert metrics.macro_auc(y, HAND_S) == pytest.approx(0.5)
    assert math.isnan(metrics.macro_auc(np.ones((3, 4), dtype=int), HAND_S))


def test_micro_auc_undefined_when_all_slots_agree() -> None:
    assert math.isnan(metrics.micro_auc(np.ones((2, 3), dtype=int), np.full((2, 3), 0.7)))
    assert math.isnan(metrics.micro_auc(np.zeros((2, 3), dtype=int), np.full((2, 3), 0.7)))


def test_f1_zero_division_rules() -> None:
    # label 0: TP 1, FN 1 -> F1 2/3; label 1: no positive and none predicted -> left out
    y, pred = [[1, 0], [1, 0]], [[1, 0], [0, 0]]
    assert metrics.macro_f1(y, pred) == pytest.approx(2 / 3)
    # label 1 predicted without a positive: F1 0, and it counts: (1 + 0) / 2
    assert metrics.macro_f1([[1, 0]], [[1, 1]]) == pytest.approx(0.5)
    # nothing true and nothing predicted: F1 undefined everywhere
    assert math.isnan(metrics.micro_f1([[0, 0]], [[0, 0]]))
    assert math.isnan(metrics.macro_f1([[0, 0]], [[0, 0]]))
    # true positives missed entirely: 0, not nan
    assert metrics.micro_f1([[1, 0]], [[0, 0]]) == 0.0


# ---------------------------------------------------------------------------------------
# Input checks and registries
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("y_true", "scores", "kwargs", "message"),
    [
        ([1, 0, 1], [0.2, 0.3, 0.9], {}, "y_true must be an N x L 0/1 matrix"),
        ([[1, 2]], [[0.2, 0.3]], {}, "y_true must hold only 0 and 1"),
        ([[1, 0]], [[0.2, 0.3, 0.1]], {}, r"scores must have the shape of y_true \(1, 2\)"),
        ([[1, 0]], [[0.2, np.nan]], {}, "scores must be finite"),
        ([[1, 0]], [[2.0, -1.0]], {}, "scores_are_probabilities=False"),
        ([[1, 0]], [[0.2, 0.3]], {"threshold": 1.0}, "threshold must lie strictly"),
        (np.zeros((0, 3)), np.zeros((0, 3)), {}, "N, L >= 1"),
    ],
)
def test_multilabel_report_validates_inputs(y_true, scores, kwargs, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metrics.multilabel_report(y_true, scores, **kwargs)


def test_thresholded_metrics_validate_predictions() -> None:
    with pytest.raises(ValueError, match="y_pred must hold only 0 and 1"):
        metrics.hamming_loss([[1, 0]], [[0.7, 0.2]])
    with pytest.raises(ValueError, match=r"y_pred must have the shape of y_true \(1, 2\)"):
        metrics.micro_f1([[1, 0]], [[1, 0, 0]])


def test_logits_outside_unit_interval_are_accepted_as_logits() -> None:
    report = metrics.multilabel_report([[1, 0]], [[2.0, -1.0]], scores_are_probabilities=False)
    assert report["hamming_loss"] == 0.0
    assert report["average_precision"] == 1.0


def test_multilabel_registry_is_in_paper_order_with_directions() -> None:
    assert list(metrics.MULTILABEL_METRICS.items()) == [
        ("hamming_loss", "lower"),
        ("coverage", "lower"),
        ("one_error", "lower"),
        ("ranking_loss", "lower"),
        ("average_precision", "higher"),
        ("micro_f1", "higher"),
        ("macro_f1", "higher"),
        ("micro_auc", "higher"),
        ("macro_auc", "higher"),
    ]
    # every name is also a function of the module
    for name in metrics.MULTILABEL_METRICS:
        assert callable(getattr(metrics, name)), name


def test_published_mfjle_tables_use_the_metric_names() -> None:
    assert set(MFJLE_TABLES) == {"rafml", "jaffe"}
    for dataset, models in MFJLE_TABLES.items():
        assert set(models) == {"resnet18", "mfjle"}, dataset
        for model, values in models.items():
            assert list(values) == list(metrics.MULTILABEL_METRICS), (dataset, model)
    assert MFJLE_TABLES["rafml"]["resnet18"]["coverage"] == 1.932
    assert MFJLE_TABLES["rafml"]["mfjle"]["macro_f1"] == 0.762
    assert MFJLE_TABLES["jaffe"]["resnet18"]["one_error"] == 0.153
    assert MFJLE_TABLES["jaffe"]["mfjle"]["hamming_loss"] == 0.032
    # the paper reports MF-JLE at least as good as ResNet-18 on every metric
    for dataset, models in MFJLE_TABLES.items():
        for name, direction in metrics.MULTILABEL_METRICS.items():
            ours, base = models["mfjle"][name], models["resnet18"][name]
            assert (ours <= base) if direction == "lower" else (ours >= base), (dataset, name)
