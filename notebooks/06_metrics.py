# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/fer-replication/fer-replication/blob/main/notebooks/06_metrics.ipynb)

# %%
# Runs only on Google Colab: fetch the repository and install fer_utils into the
# Colab runtime (which already has matched torch and torchvision, so --no-deps keeps them).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        ["git", "clone", "--depth", "1", "https://github.com/fer-replication/fer-replication", "/content/fer-replication"],
        check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "/content/fer-replication"],
        check=True,
    )
    sys.path.insert(0, "/content/fer-replication")

# %% [markdown]
# # 06 · Metrics: what each number means, and how ours compare with the papers
#
# The two papers report accuracy, KL divergence and nine multi-label metrics. Before
# trusting a comparison between their tables and ours, it helps to know exactly what every
# number measures, which direction is better, and what happens in the awkward cases (an
# empty label set, a class missing from the test split, tied scores). This notebook does three things:
#
# 1. **Defines every metric** that `fer_utils.metrics` computes, in plain words, and works
#    it out on an example small enough to check with pencil and paper: the single-label
#    metrics of the MixFeature paper (A), the six label-distribution measures that PyLDL
#    uses by default, and the nine multi-label metrics of the MF-JLE paper (B).
# 2. **Checks each one against a reference implementation** (scikit-learn or PyLDL): every
#    table below has the value worked out by hand, ours, and the reference's, and the cell
#    stops with an error if they disagree. Random inputs of many shapes then repeat the
#    check at scale.
# 3. **Gathers the committed results** in `results/` into paper-versus-ours tables for both
#    papers. The papers' numbers always sit *beside* ours, in columns labelled as the
#    paper's, never in their place. A result file that has not been made yet is reported
#    as missing and skipped.
#
# Nothing here trains a model; the notebook runs in seconds.

# %% tags=["parameters"]
results_dir = None  # None: the repository's results/ folder
n_random_checks = None  # random input sets per metric family; None: 25, or 3 in quick mode
quick = False  # True: fewer random checks (used by the tests)
seed = 0  # seeds the random inputs of the checks
output_dir = None  # a folder to save the comparison tables into, or None

# %% [markdown]
# The next cell checks the parameters, fills in `n_random_checks` when it is left at `None`
# (its default depends on `quick`; a value you pass yourself is kept) and records the
# values this run uses.

# %%
from IPython.display import display

from fer_utils.runs.params import check_flag, check_folder, check_int, pick
from fer_utils.runs.record import RunRecord

check_flag("quick", quick)
n_random_checks = pick(n_random_checks, 25, 3, quick)
check_folder("results_dir", results_dir)
check_folder("output_dir", output_dir)
check_int("n_random_checks", n_random_checks, 1)
check_int("seed", seed, 0)
record = RunRecord("06_metrics", dict(results_dir=results_dir, n_random_checks=n_random_checks,
                                     quick=quick, seed=seed, output_dir=output_dir))
display(record.parameters_table())

# %%
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn import metrics as skm

from fer_utils import metrics
from fer_utils.provenance import REPO_ROOT
from fer_utils.published import MFJLE_TABLES, TABLE2_ACCURACY

os.environ.setdefault("KERAS_BACKEND", "torch")  # PyLDL runs on Keras: use its torch backend
try:
    import pyldl.metrics as pyldl_metrics
except ImportError:  # e.g. on Binder or Colab, where only the runtime dependencies are installed
    pyldl_metrics = None
print("LDL reference:", "PyLDL" if pyldl_metrics else "textbook formulas (PyLDL not installed)")

results_dir = Path(results_dir) if results_dir else REPO_ROOT / "results"
if output_dir:
    Path(output_dir).mkdir(parents=True, exist_ok=True)
rng = np.random.default_rng(seed)
pd.set_option("display.precision", 4)


def side_by_side(by_hand, ours, reference, reference_name):
    """A table of hand-computed, our and reference values; fails loudly on a mismatch."""
    table = pd.DataFrame({"by hand": by_hand, "ours": ours, reference_name: reference})
    close = dict(rtol=1e-9, atol=1e-12, equal_nan=True)
    table["agree"] = np.isclose(table["ours"], table[reference_name], **close) & np.isclose(
        table["ours"], table["by hand"], **close
    )
    assert table["agree"].all(), f"mismatch:\n{table[~table['agree']]}"
    return table


def record_checks(part, ours, references, agree):
    """One row of the result file: values checked, values that agreed, the largest gap.

    `references` holds the arrays `ours` was compared with; two NaNs count as a gap of 0.
    """
    ours = np.asarray(ours, dtype=float)
    gaps = [np.nan_to_num(np.abs(ours - np.asarray(r, dtype=float)), nan=0.0)
            for r in references]
    record.add_metrics(seed=seed, part=part, checks=int(ours.size), passed=int(np.sum(agree)),
                       max_abs_deviation=float(np.max(gaps)))


# %% [markdown]
# ## 1. Single-label metrics (paper A)
#
# Each face has one true class and the model outputs one probability per class; the
# predicted class is the one with the highest probability.
#
# - **Accuracy**: the fraction of faces whose predicted class is the true class. Higher is
#   better. On an imbalanced set it mostly measures the large classes.
# - **Confusion matrix**: a count for every (true class, predicted class) pair; rows are
#   the true class. The diagonal holds the correct predictions.
# - **Per-class accuracy**: within the faces of one true class, the fraction predicted
#   correctly (the diagonal divided by the row sum; also called that class's recall). It
#   is undefined, and reported as `nan`, for a class with no face in the evaluated set.
# - **Mean per-class accuracy**: the average of the per-class accuracies over the classes
#   present, so every class weighs the same however rare it is (scikit-learn calls it
#   balanced accuracy). Paper A reports it beside its confusion matrices.
# - **Cross-entropy**: the average of −ln(probability given to the true class). It rewards
#   confident correct predictions and punishes confident mistakes hard; lower is better.
#   Probabilities are clamped to at least 1e-12 so that a predicted 0 gives a large,
#   finite value.
#
# The example: six faces, three classes. The probabilities are chosen so the arithmetic
# stays short.
#
# | face | true | probabilities (c0, c1, c2) | predicted | right? |
# |---|---|---|---|---|
# | 1 | c0 | 0.7, 0.2, 0.1 | c0 | yes |
# | 2 | c0 | 0.3, 0.6, 0.1 | c1 | no |
# | 3 | c1 | 0.2, 0.5, 0.3 | c1 | yes |
# | 4 | c1 | 0.1, 0.8, 0.1 | c1 | yes |
# | 5 | c1 | 0.4, 0.1, 0.5 | c2 | no |
# | 6 | c2 | 0.2, 0.2, 0.6 | c2 | yes |
#
# By hand: accuracy 4/6. Confusion rows: c0 → (1, 1, 0), c1 → (0, 2, 1), c2 → (0, 0, 1).
# Per-class accuracy 1/2, 2/3, 1/1, so the mean per-class accuracy is (1/2 + 2/3 + 1)/3 =
# 13/18 ≈ 0.722, above the plain accuracy because the one face of c2 was right.
# Cross-entropy: the true class got 0.7, 0.3, 0.5, 0.8, 0.1, 0.6, so it is
# −(ln 0.7 + ln 0.3 + ln 0.5 + ln 0.8 + ln 0.1 + ln 0.6)/6 ≈ 0.882.

# %%
y_single = np.array([0, 0, 1, 1, 1, 2])
p_single = np.array([[0.7, 0.2, 0.1], [0.3, 0.6, 0.1], [0.2, 0.5, 0.3],
                     [0.1, 0.8, 0.1], [0.4, 0.1, 0.5], [0.2, 0.2, 0.6]])
report = metrics.single_label_report(y_single, p_single)
pred_single = p_single.argmax(axis=1)

per_class_ref = skm.recall_score(y_single, pred_single, average=None)
single = side_by_side(
    by_hand={"accuracy": 4 / 6, "mean per-class accuracy": 13 / 18,
             "per-class accuracy c0": 1 / 2, "per-class accuracy c1": 2 / 3,
             "per-class accuracy c2": 1.0,
             "cross-entropy": -np.log([0.7, 0.3, 0.5, 0.8, 0.1, 0.6]).sum() / 6},
    ours={"accuracy": report["accuracy"], "mean per-class accuracy": report["mean_class_accuracy"],
          **{f"per-class accuracy c{k}": v for k, v in enumerate(report["per_class_accuracy"])},
          "cross-entropy": report["ce"]},
    reference={"accuracy": skm.accuracy_score(y_single, pred_single),
               "mean per-class accuracy": skm.balanced_accuracy_score(y_single, pred_single),
               **{f"per-class accuracy c{k}": v for k, v in enumerate(per_class_ref)},
               "cross-entropy": skm.log_loss(y_single, p_single)},
    reference_name="scikit-learn",
)
display(single)
record_checks("single-label example", single["ours"], [single["scikit-learn"], single["by hand"]],
              single["agree"])

confusion_hand = np.array([[1, 1, 0], [0, 2, 1], [0, 0, 1]])
np.testing.assert_array_equal(report["confusion_matrix"], confusion_hand)
confusion_ref = skm.confusion_matrix(y_single, pred_single)
np.testing.assert_array_equal(report["confusion_matrix"], confusion_ref)
record_checks("confusion matrix", report["confusion_matrix"], [confusion_hand, confusion_ref],
              (report["confusion_matrix"] == confusion_hand)
              & (report["confusion_matrix"] == confusion_ref))
print("confusion matrix (rows: true class), equal to the hand count and to scikit-learn's:")
print(report["confusion_matrix"])


# %% [markdown]
# ## 2. Label-distribution metrics (paper A's KL, PyLDL's six)
#
# In label distribution learning every face has a *distribution* over the emotions (from
# ratings or votes, or synthesized by MixFeature) and the model predicts one too. Paper A
# reports the KL divergence; the LDL literature, and the PyLDL library, report six
# measures by default. Each is computed per face and averaged over faces. Write t for the
# true and q for the predicted distribution, k for a label.
#
# | measure | per face | best value | better |
# |---|---|---|---|
# | Chebyshev | the largest gap max_k \|t_k − q_k\| | 0 | lower |
# | Clark | sqrt(Σ_k (t_k − q_k)² / (t_k + q_k)²): each gap relative to the label's total mass | 0 | lower |
# | Canberra | Σ_k \|t_k − q_k\| / (t_k + q_k): like Clark without squares; each label adds 0 to 1 | 0 | lower |
# | KL divergence | Σ_k t_k ln(t_k / q_k): the information lost using q in place of t | 0 | lower |
# | cosine | Σ_k t_k q_k / (‖t‖ ‖q‖): the cosine of the angle between the two vectors | 1 | higher |
# | intersection | Σ_k min(t_k, q_k): the probability mass the two share | 1 | higher |
#
# Clark and Canberra rate a miss on a rare label as heavily as one on a common label;
# Chebyshev looks only at the worst label; KL is dominated by labels the model believes
# nearly impossible but that are true.
#
# **Zeros.** Clark and Canberra divide by t_k + q_k and KL takes ln q_k, so a 0 needs a
# rule. We follow PyLDL: both distributions are clipped to at least the float64 machine
# epsilon (about 2.2e-16) first. A label that is 0 in both then adds 0, and a label that
# is 0 in only one adds almost exactly 1 to Canberra (its largest possible term). For KL,
# terms with t_k = 0 are 0, and a predicted 0 where t_k > 0 costs t_k · ln(t_k / 2.2e-16),
# large but finite. (Notebook 04's training curves use `kl_divergence_mean` with a floor of
# 1e-12 instead; the two differ only when a predicted probability is below 1e-12.)
#
# The example: two faces, three labels. Face 1 has t = (1/2, 1/2, 0) and q = (1/4, 1/2,
# 1/4); face 2 is predicted perfectly, t = q = (0.2, 0.3, 0.5), so it adds the best value
# of each measure and the mean is halfway between face 1's value and the best.
#
# By hand for face 1: Chebyshev max(1/4, 0, 1/4) = 1/4. Clark sqrt((1/4 ÷ 3/4)² + 0 +
# (1/4 ÷ 1/4)²) = sqrt(10/9). Canberra 1/3 + 0 + 1 = 4/3. KL 1/2 ln 2 + 1/2 ln 1 + 0 =
# (ln 2)/2. Cosine (1/8 + 1/4) / (sqrt(1/2) · sqrt(3/8)) = sqrt(3)/2. Intersection
# 1/4 + 1/2 + 0 = 3/4.

# %%
def textbook_ldl(t, q):
    """The six measures written out directly; the reference when PyLDL is missing."""
    eps = np.finfo(np.float64).eps  # PyLDL's floor for zeros
    tc, qc = np.clip(t, eps, 1), np.clip(q, eps, 1)
    return {
        "chebyshev": np.abs(t - q).max(axis=1).mean(),
        "clark": np.sqrt(((tc - qc) ** 2 / (tc + qc) ** 2).sum(axis=1)).mean(),
        "canberra": (np.abs(tc - qc) / (tc + qc)).sum(axis=1).mean(),
        "kl_divergence": (tc * np.log(tc / qc)).sum(axis=1).mean(),
        "cosine": ((t * q).sum(axis=1)
                   / (np.linalg.norm(t, axis=1) * np.linalg.norm(q, axis=1))).mean(),
        "intersection": np.minimum(t, q).sum(axis=1).mean(),
    }


def reference_ldl(t, q):
    if pyldl_metrics is None:
        return textbook_ldl(t, q)
    return {name: float(getattr(pyldl_metrics, name)(t, q)) for name in metrics.LDL_METRICS}


reference_name = "PyLDL" if pyldl_metrics else "textbook"
t_ldl = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
q_ldl = np.array([[0.25, 0.5, 0.25], [0.2, 0.3, 0.5]])
face1 = {"chebyshev": 1 / 4, "clark": math.sqrt(10 / 9), "canberra": 4 / 3,
         "kl_divergence": math.log(2) / 2, "cosine": math.sqrt(3) / 2, "intersection": 3 / 4}
best = {name: 1.0 if better == "higher" else 0.0
        for name, (_, better) in metrics.LDL_METRICS.items()}
ldl = side_by_side(
    by_hand={name: (face1[name] + best[name]) / 2 for name in metrics.LDL_METRICS},
    ours=metrics.ldl_report(t_ldl, q_ldl),
    reference=reference_ldl(t_ldl, q_ldl),
    reference_name=reference_name,
)
ldl.insert(0, "better", [better for _, better in metrics.LDL_METRICS.values()])
display(ldl)
record_checks("LDL example", ldl["ours"], [ldl[reference_name], ldl["by hand"]], ldl["agree"])

# %% [markdown]
# What the zero rule does on the harshest case, a face whose true and predicted
# distributions have no label in common: Canberra reaches its maximum of 2 (two labels,
# each adding 1), Clark sqrt(2), cosine and intersection 0, and KL ln(1 / 2.2e-16) ≈ 36.0.
# The last row shows notebook 04's KL with its 1e-12 floor for comparison.

# %%
t_zero, q_zero = np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])
zero = pd.DataFrame({"ours": metrics.ldl_report(t_zero, q_zero),
                     reference_name: reference_ldl(t_zero, q_zero)})
assert np.allclose(zero["ours"], zero[reference_name])
record_checks("LDL, no shared label", zero["ours"], [zero[reference_name]],
              np.isclose(zero["ours"], zero[reference_name]))
zero.loc["kl_divergence_mean (notebook 04, floor 1e-12)", "ours"] = metrics.kl_divergence_mean(
    t_zero, q_zero)
zero


# %% [markdown]
# The same comparison on random inputs: `n_random_checks` pairs of distribution matrices
# with between 1 and 60 faces and 2 to 8 labels, about a quarter of their entries set to
# exactly 0. The table gives the largest difference from the reference over all of them.

# %%
def random_distributions(n, k):
    dist = rng.dirichlet(np.full(k, 0.5), size=n)
    holes = rng.random((n, k)) < 0.25
    holes[np.arange(n), dist.argmax(axis=1)] = False  # no all-zero row
    dist[holes] = 0.0
    return dist / dist.sum(axis=1, keepdims=True)


worst = dict.fromkeys(metrics.LDL_METRICS, 0.0)
checked = []  # (ours, reference) of every value, for the result file
for _ in range(n_random_checks):
    n, k = int(rng.integers(1, 61)), int(rng.integers(2, 9))
    t, q = random_distributions(n, k), random_distributions(n, k)
    ours, ref = metrics.ldl_report(t, q), reference_ldl(t, q)
    for name in worst:
        worst[name] = max(worst[name], abs(ours[name] - ref[name]))
        checked.append((ours[name], ref[name]))
ldl_random = pd.Series(worst, name=f"max |ours - {reference_name}| over {n_random_checks} inputs")
assert (ldl_random < 1e-10).all(), ldl_random
ours, ref = np.array(checked).T
record_checks("LDL, random inputs", ours, [ref], np.abs(ours - ref) < 1e-10)
ldl_random.to_frame()

# %% [markdown]
# ## 3. Multi-label metrics (paper B's nine)
#
# In the multi-label setting a face can show several emotions at once: the truth is a 0/1
# vector (1 = the emotion is present, "relevant") and the model gives every emotion a
# score, here a probability. Some metrics judge the **predicted label set**, the emotions
# whose probability is above 0.5; the others judge the **ranking** of the emotions by
# score and need no threshold. In paper B's order:
#
# | metric | what it measures | better | uses |
# |---|---|---|---|
# | Hamming loss | the fraction of (face, emotion) slots predicted wrongly | lower | set |
# | coverage | how many steps down the ranked list are needed, after the first, to reach every relevant emotion (scikit-learn's `coverage_error` − 1) | lower | ranking |
# | one-error | the fraction of faces whose top-ranked emotion is not relevant | lower | ranking |
# | ranking loss | the fraction of (relevant, irrelevant) pairs ranked the wrong way round | lower | ranking |
# | average precision | for each relevant emotion, the share of relevant ones among those ranked at or above it, averaged | higher | ranking |
# | micro-F1 | F1 = 2TP / (2TP + FP + FN) with the counts pooled over all slots | higher | set |
# | macro-F1 | F1 of each emotion separately, then averaged: rare emotions weigh as much as common ones | higher | set |
# | micro-AUC | the area under the ROC curve of all slots pooled: the chance that a random relevant slot scores above a random irrelevant one | higher | scores |
# | macro-AUC | the ROC area of each emotion separately, then averaged | higher | scores |
#
# Ties count against the model (as in scikit-learn): a relevant and an irrelevant emotion
# with the same score are a wrongly ordered pair, the tie shares the worse rank, and
# one-error is 1 if any emotion sharing the top score is irrelevant. In AUC a tie counts
# as half a correct pair.
#
# The example: three faces, four emotions (L0 to L3).
#
# | face | relevant | scores (L0, L1, L2, L3) | predicted set (> 0.5) | ranks (1 = top) |
# |---|---|---|---|---|
# | 1 | L0, L2 | 0.9, 0.6, 0.4, 0.1 | L0, L1 | 1, 2, 3, 4 |
# | 2 | L1 | 0.2, 0.7, 0.3, 0.8 | L1, L3 | 4, 2, 3, 1 |
# | 3 | L0, L1, L3 | 0.6, 0.3, 0.2, 0.7 | L0, L3 | 2, 3, 4, 1 |
#
# By hand:
#
# - Hamming loss: wrong slots 2 (face 1: L1, L2) + 1 (face 2: L3) + 1 (face 3: L1) = 4 of
#   12 = 1/3.
# - Coverage: the worst rank of a relevant emotion, minus 1: 3 − 1, 2 − 1, 3 − 1, mean 5/3.
# - One-error: the top emotions are L0 (relevant), L3 (not), L3 (relevant): 1/3.
# - Ranking loss: face 1 has 2 × 2 = 4 pairs, one wrong (L2 below L1); face 2 has 3 pairs,
#   one wrong (L1 below L3); face 3 has 3 pairs, none wrong: (1/4 + 1/3 + 0)/3 = 7/36.
# - Average precision: face 1: L0 at rank 1 (1/1), L2 at rank 3 (2 relevant of 3): 5/6;
#   face 2: L1 at rank 2: 1/2; face 3: ranks 1, 2, 3 all relevant: 1. Mean 7/9.
# - F1 per emotion from (TP, FP, FN): L0 (2, 0, 0) → 1; L1 (1, 1, 1) → 1/2; L2 (0, 0, 1) →
#   0; L3 (1, 1, 0) → 2/3. Macro-F1 = 13/24. Pooled: TP 4, FP 2, FN 2, micro-F1 = 8/12 = 2/3.
# - AUC per emotion, the share of (relevant, irrelevant) face pairs ordered correctly:
#   L0 2/2, L1 1/2, L2 2/2, L3 1/2, macro-AUC 3/4. Pooled, the 6 relevant slots score
#   0.9, 0.4, 0.7, 0.6, 0.3, 0.7 and the 6 irrelevant ones 0.6, 0.1, 0.2, 0.3, 0.8, 0.2; the
#   irrelevant slots below each relevant one number 6, 4, 5, 4½, 3½, 5 (ties count ½), so
#   micro-AUC = 28/36 = 7/9.
#
# scikit-learn has no one-error, so its reference is a plain loop over the faces.

# %%
y_ml = np.array([[1, 0, 1, 0], [0, 1, 0, 0], [1, 1, 0, 1]])
s_ml = np.array([[0.9, 0.6, 0.4, 0.1], [0.2, 0.7, 0.3, 0.8], [0.6, 0.3, 0.2, 0.7]])


def loop_one_error(y, s):
    """One-error as a plain loop: faces without a relevant emotion are skipped."""
    errors = [any(labels[j] == 0 for j in np.flatnonzero(row == row.max()))
              for labels, row in zip(y, s, strict=True) if labels.any()]
    return float(np.mean(errors)) if errors else math.nan


def sklearn_reference(y, s, threshold=0.5):
    """The nine metrics from scikit-learn (and the loop), following our documented rules."""
    pred = (s > threshold).astype(int)
    has = y.any(axis=1)  # ranking metrics: faces with at least one relevant emotion
    both = (y.sum(axis=0) > 0) & (y.sum(axis=0) < len(y))  # macro-AUC: labels with a ROC curve
    f1 = skm.f1_score(y, pred, average=None, zero_division=np.nan)
    if not both.any():
        macro_auc = math.nan
    elif both.sum() == 1:  # a single label: scikit-learn wants it as a 1-D problem
        macro_auc = skm.roc_auc_score(y[:, both].ravel(), s[:, both].ravel())
    else:
        macro_auc = skm.roc_auc_score(y[:, both], s[:, both], average="macro")
    return {
        "hamming_loss": skm.hamming_loss(y, pred),
        "coverage": skm.coverage_error(y[has], s[has]) - 1 if has.any() else math.nan,
        "one_error": loop_one_error(y, s),
        "ranking_loss": skm.label_ranking_loss(y[has], s[has]) if has.any() else math.nan,
        "average_precision": (skm.label_ranking_average_precision_score(y[has], s[has])
                              if has.any() else math.nan),
        "micro_f1": skm.f1_score(y, pred, average="micro", zero_division=np.nan),
        "macro_f1": np.nanmean(f1) if np.any(~np.isnan(f1)) else math.nan,
        "micro_auc": skm.roc_auc_score(y.ravel(), s.ravel()) if 0 < y.mean() < 1 else math.nan,
        "macro_auc": macro_auc,
    }


multilabel = side_by_side(
    by_hand={"hamming_loss": 1 / 3, "coverage": 5 / 3, "one_error": 1 / 3, "ranking_loss": 7 / 36,
             "average_precision": 7 / 9, "micro_f1": 2 / 3, "macro_f1": 13 / 24,
             "micro_auc": 7 / 9, "macro_auc": 3 / 4},
    ours=metrics.multilabel_report(y_ml, s_ml),
    reference=sklearn_reference(y_ml, s_ml),
    reference_name="scikit-learn",
)
multilabel.insert(0, "better", list(metrics.MULTILABEL_METRICS.values()))
display(multilabel)
record_checks("multi-label example", multilabel["ours"],
              [multilabel["scikit-learn"], multilabel["by hand"]], multilabel["agree"])
print("ROC AUC per emotion:", metrics.per_label_auc(y_ml, s_ml))


# %% [markdown]
# ### The awkward cases, and the rule for each
#
# Real test splits are small (paper B's JAFFE test set has about 43 faces), so these cases
# do occur. Each rule is stated in `fer_utils.metrics` and followed by every function.
#
# - **A face with no relevant emotion** (possible on JAFFE, where an emotion counts as
#   present only when its mean rating is above 3). Nothing can be ranked first or covered,
#   so one-error, coverage, ranking loss and average precision are undefined for it: we
#   **leave such faces out** of these four and average over the rest (`nan` if no face
#   remains). Hamming loss, F1 and AUC keep the face, since its slots can still be right
#   or wrong. scikit-learn on its own would count such a face as perfect for ranking loss
#   and average precision, and give it a coverage of 0 − 1 = −1.
# - **A face with every emotion relevant** is kept: one-error 0, average precision 1,
#   coverage L − 1, ranking loss 0 (there is no pair to get wrong).
# - **An emotion with no positive, or no negative, face** in the evaluated set has no ROC
#   curve: macro-AUC leaves it out and averages the others (`nan` if none remains);
#   micro-AUC is `nan` only if all pooled slots are equal.
# - **An emotion never present and never predicted** has F1 = 0/0: macro-F1 leaves it out
#   of the average (scikit-learn's `zero_division=np.nan`). Counting it as 0 would punish a
#   model for an emotion the split happens not to contain; counting it as 1 would reward
#   it. Micro-F1 is `nan` only if nothing is present and nothing predicted at all.
# - **A single face** follows the same rules; its macro-AUC is always `nan`.
#
# The table sets our values beside what scikit-learn gives when called directly, with its
# own conventions (its warnings about undefined values are silenced here).

# %%
def sklearn_as_is(y, s):
    """scikit-learn called directly, with its own conventions for the undefined cases."""
    pred = (s > 0.5).astype(int)

    def auc(**kw):
        try:
            return skm.roc_auc_score(y, s, **kw)
        except ValueError:  # older scikit-learn raises instead of returning nan
            return math.nan

    return {"coverage": skm.coverage_error(y, s) - 1, "ranking_loss": skm.label_ranking_loss(y, s),
            "average_precision": skm.label_ranking_average_precision_score(y, s),
            "macro_f1": skm.f1_score(y, pred, average="macro", zero_division=0),
            "macro_auc": auc(average="macro")}


cases = {
    "example + a face with no emotion": (np.vstack([y_ml, [0, 0, 0, 0]]),
                                         np.vstack([s_ml, [0.9, 0.1, 0.1, 0.1]])),
    "tie at the top (L0 true, L1 not)": (np.array([[1, 0, 0]]), np.array([[0.5, 0.5, 0.1]])),
    "a single face": (np.array([[0, 1, 0]]), np.array([[0.2, 0.7, 0.4]])),
    "every emotion relevant": (np.array([[1, 1, 1]]), np.array([[0.2, 0.5, 0.9]])),
}
rows, checked = [], []
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    for case, (y, s) in cases.items():
        ours = metrics.multilabel_report(y, s)
        reference = list(sklearn_reference(y, s).values())
        assert np.allclose(list(ours.values()), reference, equal_nan=True)
        checked += zip(ours.values(), reference, strict=True)
        theirs = sklearn_as_is(y, s)
        for name in theirs:
            rows.append({"case": case, "metric": name, "ours": ours[name],
                         "scikit-learn as is": theirs[name]})
edge = pd.DataFrame(rows).set_index(["case", "metric"])
edge["differs"] = ~np.isclose(edge["ours"], edge["scikit-learn as is"], equal_nan=True)
ours, ref = np.array(checked).T
record_checks("multi-label, awkward cases", ours, [ref], np.isclose(ours, ref, equal_nan=True))
edge

# %% [markdown]
# Random inputs: `n_random_checks` sets of 5 to 150 faces and 2 to 8 emotions, with some
# faces that have no relevant emotion and, in every other set, scores rounded to one
# decimal so that ties are common. The reference applies scikit-learn to the faces and
# emotions our rules keep; the table gives the largest difference.

# %%
worst = dict.fromkeys(metrics.MULTILABEL_METRICS, 0.0)
checked = []
for i in range(n_random_checks):
    n, k = int(rng.integers(5, 151)), int(rng.integers(2, 9))
    y = (rng.random((n, k)) < 0.35).astype(int)
    s = np.clip(0.3 * y + 0.7 * rng.random((n, k)), 0, 1)
    if i % 2:
        s = np.round(s, 1)
    ours, ref = metrics.multilabel_report(y, s), sklearn_reference(y, s)
    for name in worst:
        if not (math.isnan(ours[name]) and math.isnan(ref[name])):
            worst[name] = max(worst[name], abs(ours[name] - ref[name]))
        checked.append((ours[name], ref[name]))
ml_random = pd.Series(worst, name=f"max |ours - reference| over {n_random_checks} inputs")
assert (ml_random < 1e-10).all(), ml_random
ours, ref = np.array(checked).T
record_checks("multi-label, random inputs", ours, [ref],
              (np.abs(ours - ref) < 1e-10) | (np.isnan(ours) & np.isnan(ref)))
ml_random.to_frame()

# %% [markdown]
# ## 4. Our results beside the papers'
#
# Every result file under `results/` (or `results_dir`) is listed first, with the table
# below that shows it. Our numbers are mean ± standard deviation over the runs recorded in
# the file (its `n_runs` column); the papers give single numbers. A paper's figure comes
# from its own protocol, data and training length, so a gap is a reason to look at the
# protocol columns before it is a verdict on the method. Rows on the built-in synthetic
# faces have no paper counterpart at all: they show that the pipeline runs and how the
# methods compare on data whose truth is known. Unless they were generated with
# `secondary="random"`, those faces blend emotions that are neighbours on the same wheel
# MixFeature builds its targets from, so a lower KL for MixFeature there is partly built
# into the data
# ([replication notes, D25](../docs/replication.md#d25-the-synthetic-faces-secondary-emotions-follow-the-wheel)).

# %%
shown_in = {"table2.csv": "4.1 (paper A, Table 2)", "mfjle.csv": "4.2 (paper B, Tables 1-2)"}
if results_dir.is_dir():
    files = sorted(p for p in results_dir.rglob("*") if p.is_file())
    listing = pd.DataFrame([
        {"file": str(p.relative_to(results_dir)),
         "rows": len(pd.read_csv(p)) if p.suffix == ".csv" else "—",
         "shown in": shown_in.get(str(p.relative_to(results_dir)),
                                  "the rows behind table2.csv" if p.parent.name == "table2_runs"
                                  else "not tabulated here")}
        for p in files
    ])
    display(listing)
else:
    print(f"{results_dir} does not exist: no results to compare yet.")


def save(table, name):
    if output_dir:
        table.to_csv(Path(output_dir) / name)


# %% [markdown]
# ### 4.1 Paper A, Table 2: baseline versus MixFeature (test accuracy, %)
#
# From `results/table2.csv`, made by `scripts/run_table2.py`. The paper's column comes from
# `fer_utils.published.TABLE2_ACCURACY`. The gains are recomputed from the numbers, since
# the paper misprints two of them
# ([replication notes, D4](../docs/replication.md#d4-table-2s-gains-are-misprinted)). The
# paper's JAFFE numbers fit a single 45-face test split better than the 10-fold
# cross-validation it describes
# ([replication notes, D5](../docs/replication.md#d5-jaffes-accuracies-fit-a-single-45-image-split)),
# so compare them with our `holdout45` rows first.

# %%
table2_path = results_dir / "table2.csv"
if not table2_path.exists():
    print(f"{table2_path} not found: make it with scripts/run_table2.py. Skipping this table.")
else:
    t2 = pd.read_csv(table2_path)
    rows = []
    for _, r in t2.iterrows():
        rows.append({
            "dataset": r["dataset"], "protocol": r["protocol"], "method": r["method"],
            "epochs": r["epochs"], "runs": r["n_runs"],
            "deviations": r.get("deviations", "none"),
            "ours: accuracy %": metrics.format_mean_std(r["accuracy_mean"], r.get("accuracy_std"), 2),
            "paper: accuracy %": TABLE2_ACCURACY.get(r["dataset"], {}).get(r["method"], "—"),
            "ours: mean class acc. %": metrics.format_mean_std(r.get("mean_class_accuracy_mean"),
                                                   r.get("mean_class_accuracy_std"), 2),
            "ours: KL": metrics.format_mean_std(r.get("kl_mean"), None, 4),
        })
    table2_cmp = pd.DataFrame(rows).set_index(["dataset", "protocol", "method"])
    display(table2_cmp)
    save(table2_cmp, "table2_comparison.csv")

    # gains: rows that differ only in the method are paired
    keys = [c for c in ("dataset", "protocol", "epochs", "image_size", "deviations")
            if c in t2.columns]
    gains = []
    for key, part in t2.groupby(keys, sort=False, dropna=False):
        acc = part.groupby("method")["accuracy_mean"].last()
        paper = TABLE2_ACCURACY.get(key[0])
        both_methods = {"mixfeature", "baseline"} <= set(acc.index)
        gains.append({
            **dict(zip(keys, key, strict=True)),
            "ours: MixFeature - baseline": (acc["mixfeature"] - acc["baseline"]
                                            if both_methods else math.nan),
            "paper: MixFeature - baseline": (paper["mixfeature"] - paper["baseline"]
                                             if paper else math.nan),
        })
    display(pd.DataFrame(gains).set_index(keys).round(2))

# %% [markdown]
# ### 4.2 Paper B: a single ResNet-18 versus the MF-JLE ensemble (nine metrics)
#
# From `results/mfjle.csv` (one row per dataset, model and preset, each metric as
# `<name>_mean` and `<name>_std` over the runs). The paper's columns come from
# `fer_utils.published.MFJLE_TABLES`; its coverage is the "minus one" form used here, so
# the two are on the same scale. One table per dataset, metrics in the paper's order; a
# dataset the paper reports but we have not run keeps an empty "ours" column.

# %%
mfjle_path = results_dir / "mfjle.csv"
if mfjle_path.exists():
    mf = pd.read_csv(mfjle_path)
else:
    print(f"{mfjle_path} not found: the MF-JLE runs have not been made yet. "
          "The paper's numbers are shown alone, with an empty column for ours.")
    mf = pd.DataFrame(columns=["dataset", "model", "preset", "epochs", "n_runs"])

names = list(metrics.MULTILABEL_METRICS)
datasets = list(MFJLE_TABLES) + [d for d in mf["dataset"].unique() if d not in MFJLE_TABLES]
for dataset in datasets:
    table = pd.DataFrame({"better": list(metrics.MULTILABEL_METRICS.values())}, index=names)
    part = mf[mf["dataset"] == dataset]
    if part.empty:
        table["ours"] = "not run"
    for _, r in part.iterrows():
        label = f"ours: {r['model']} ({r['preset']}, {r['epochs']} epochs, {r['n_runs']} runs)"
        table[label] = [metrics.format_mean_std(r.get(f"{m}_mean"), r.get(f"{m}_std"), 3) for m in names]
    paper = MFJLE_TABLES.get(dataset, {})
    for model, values in paper.items():
        table[f"paper: {model}"] = [f"{values[m]:.3f}" for m in names]
    print(f"\n{dataset}" + ("" if paper else ": the paper has no numbers for this dataset"))
    display(table)
    save(table, f"mfjle_comparison_{dataset}.csv")

# %% [markdown]
# ## Summary
#
# - Every metric in `fer_utils.metrics` matches its reference (scikit-learn or PyLDL) on the
#   hand-worked examples and on random inputs; the one metric scikit-learn lacks,
#   one-error, matches a plain loop.
# - The awkward cases follow one stated rule each: faces without a relevant emotion are
#   left out of the four ranking metrics; emotions without a ROC curve, or with F1 = 0/0,
#   are left out of the macro averages; ties count against the model.
# - The comparison tables put the papers' numbers beside ours. Read them with the
#   protocol and deviations columns: a row run with another split, fewer epochs or a
#   smaller input does not test the paper's setting, so its gap to the paper is not a
#   verdict on the method; on the synthetic faces there is no paper number to compare with.

# %% [markdown]
# ## The result file
#
# With `output_dir` set, the last cell writes `output_dir/result.json`: the parameters of
# this run and one row per group of checks in sections 1-3 (the hand-worked examples, the
# awkward cases and the random inputs), each with the number of values checked, how many
# agreed with the reference, and the largest absolute difference found. A parameter sweep
# gathers these files into one table; `fer_utils.runs.record.read_result` reads one. The
# file is written last, and in one step, so a run that stopped early leaves none.

# %%
written = record.write(output_dir)
if written:
    print(f"result file: {written}")
