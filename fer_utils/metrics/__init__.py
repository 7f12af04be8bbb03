"""Evaluation metrics, one small function per metric, checked against reference code.

Introduced in notebook 04 (training) and gathered in notebook 06 (metrics), where every
metric is worked out by hand on a tiny example. Inputs may be numpy arrays, torch
tensors or lists; outputs are plain floats and numpy arrays. Each argument is checked
and a wrong shape or value raises ``ValueError`` naming the argument.

The package is organised by the kind of label a metric scores (one module each; every
name is also importable from ``fer_utils.metrics`` itself):

* **single-label** (:mod:`~fer_utils.metrics.single_label`; paper A's Table 2 and
  Fig. 4): :func:`accuracy`, :func:`confusion_matrix`, :func:`per_class_accuracy`,
  :func:`mean_class_accuracy`, and :func:`single_label_report` bundling them;
* **label distributions** (:mod:`~fer_utils.metrics.distributions`; paper A's KL curves
  and Eq. 7's entropy; the six default measures of PyLDL): :func:`entropy`,
  :func:`kl_divergence` (of probabilities; the loss on logits is
  :func:`fer_utils.mixfeature.loss.kl_from_logits`), :func:`kl_divergence_mean`,
  :func:`chebyshev`, :func:`clark`, :func:`canberra`, :func:`kl_divergence_ldl`,
  :func:`cosine`, :func:`intersection`, the registry :data:`LDL_METRICS` and
  :func:`ldl_report`;
* **multi-label** (:mod:`~fer_utils.metrics.multilabel`; paper B's nine metrics):
  :func:`hamming_loss`, :func:`coverage`, :func:`one_error`, :func:`ranking_loss`,
  :func:`average_precision`, :func:`micro_f1`, :func:`macro_f1`, :func:`micro_auc`,
  :func:`macro_auc`, the registry :data:`MULTILABEL_METRICS` and :func:`multilabel_report`.

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

Means over runs are formatted by :func:`mean_std` (:mod:`~fer_utils.metrics.summary`).
Two methods run on the same folds and seeds are compared by
:mod:`~fer_utils.metrics.significance` (paper A's Table 5): :func:`paired_t_test`,
:func:`corrected_resampled_t_test` (Nadeau and Bengio), :func:`wilcoxon_signed_rank`,
:func:`holm`, :func:`mean_difference_ci`, :func:`effect_size` and :func:`compare_methods`.
"""


from fer_utils.metrics.arrays import ArrayLike, as_numpy
from fer_utils.metrics.distributions import (
    LDL_EPS,
    LDL_METRICS,
    canberra,
    chebyshev,
    clark,
    cosine,
    entropy,
    intersection,
    kl_divergence,
    kl_divergence_ldl,
    kl_divergence_mean,
    ldl_report,
)
from fer_utils.metrics.multilabel import (
    MULTILABEL_METRICS,
    average_precision,
    coverage,
    hamming_loss,
    macro_auc,
    macro_f1,
    micro_auc,
    micro_f1,
    multilabel_report,
    one_error,
    per_label_auc,
    predict_labels,
    ranking_loss,
)
from fer_utils.metrics.significance import (
    MeanDifferenceCI,
    TTestResult,
    WilcoxonResult,
    compare_methods,
    corrected_resampled_t_test,
    effect_size,
    holm,
    mean_difference_ci,
    paired_t_test,
    wilcoxon_signed_rank,
)
from fer_utils.metrics.single_label import (
    accuracy,
    confusion_matrix,
    cross_entropy_mean,
    mean_class_accuracy,
    per_class_accuracy,
    per_class_from_confusion,
    single_label_report,
)
from fer_utils.metrics.summary import format_mean_std, mean_and_std, mean_std

__all__ = [
    "LDL_EPS",
    "LDL_METRICS",
    "MULTILABEL_METRICS",
    "ArrayLike",
    "MeanDifferenceCI",
    "TTestResult",
    "WilcoxonResult",
    "accuracy",
    "as_numpy",
    "average_precision",
    "canberra",
    "chebyshev",
    "clark",
    "compare_methods",
    "confusion_matrix",
    "corrected_resampled_t_test",
    "cosine",
    "coverage",
    "cross_entropy_mean",
    "effect_size",
    "entropy",
    "format_mean_std",
    "hamming_loss",
    "holm",
    "intersection",
    "kl_divergence",
    "kl_divergence_ldl",
    "kl_divergence_mean",
    "ldl_report",
    "macro_auc",
    "macro_f1",
    "mean_and_std",
    "mean_class_accuracy",
    "mean_difference_ci",
    "mean_std",
    "micro_auc",
    "micro_f1",
    "multilabel_report",
    "one_error",
    "paired_t_test",
    "per_class_accuracy",
    "per_class_from_confusion",
    "per_label_auc",
    "predict_labels",
    "ranking_loss",
    "single_label_report",
    "wilcoxon_signed_rank",
]
