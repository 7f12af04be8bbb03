"""Is one method really better than another? Paired tests over the same folds and seeds.

Part of :mod:`fer_utils.metrics`. Two methods evaluated on the same cross-validation
folds (and seeds) give paired scores ``a[j]`` and ``b[j]``; everything here works on the
differences ``d[j] = a[j] - b[j]``, so a positive mean difference means ``a`` is ahead.
:func:`compare_methods` puts the reference method (MixFeature) in ``a``.

* :func:`paired_t_test`: Student's paired t-test (scipy's ``ttest_rel``), the test
  paper A reports in Table 5;
* :func:`corrected_resampled_t_test`: the same statistic with the variance corrected
  for overlapping training sets (Nadeau and Bengio 2003);
* :func:`wilcoxon_signed_rank`: the rank-based alternative (scipy's ``wilcoxon``);
* :func:`holm`: Holm-Bonferroni adjusted p-values for several comparisons at once;
* :func:`mean_difference_ci`: the mean difference with its t-interval (plain or corrected);
* :func:`effect_size`: Cohen's d_z for paired data;
* :func:`compare_methods`: one tidy row per method against the reference, with all of
  the above and a verdict in words.

Why the plain paired t-test overstates significance
    The paired t-test assumes the J differences are independent. In k-fold
    cross-validation they are not: any two training sets share (k-2)/(k-1) of their
    samples, so the fold results are positively correlated and the sample variance of
    the differences underestimates the variance of their mean. The t statistic is then
    too large and the p-value too small: false "significant" results become far more
    frequent than the nominal 5% (Dietterich 1998; Nadeau and Bengio 2003). Nadeau and
    Bengio's correction replaces the factor 1/J in the variance of the mean by
    ``1/J + n_test/n_train``. Bouckaert and Frank (2004) applied it to r times repeated
    k-fold cross-validation (J = k * r differences), found its false-positive rate
    close to nominal and its verdicts the most replicable of the tests they compared,
    and recommend it with 10 x 10-fold CV. For 10-fold CV
    (n_test/n_train = 1/9) the correction widens the standard error by a factor of
    sqrt((1/10 + 1/9) / (1/10)) = 1.45 for one run of 10 folds and
    sqrt((1/100 + 1/9) / (1/100)) = 3.48 for 10 x 10 folds: repeating the CV adds
    pairs but cannot remove the dependence between them.

    References: T. G. Dietterich, "Approximate statistical tests for comparing
    supervised classification learning algorithms", Neural Computation 10 (1998)
    1895-1923. C. Nadeau and Y. Bengio, "Inference for the generalization error",
    Machine Learning 52 (2003) 239-281. R. R. Bouckaert and E. Frank, "Evaluating the
    replicability of significance tests for comparing learning algorithms", PAKDD 2004,
    LNCS 3056, 3-12. S. Holm, "A simple sequentially rejective multiple test
    procedure", Scandinavian Journal of Statistics 6 (1979) 65-70.

Zero variance (every difference the same)
    The t statistic is mean / 0. Both t-tests then return ``t = +inf`` or ``-inf``
    (the sign of the mean) with ``p = 0`` when the common difference is non-zero, and
    ``t = nan`` with ``p = 1`` when every difference is 0 (no evidence of any
    difference). :func:`effect_size` follows the same rule (``+-inf`` or ``nan``), the
    intervals of :func:`mean_difference_ci` shrink to the single point ``mean``, and
    :func:`wilcoxon_signed_rank` returns ``p = 1`` when every difference is 0.
    "The same" and "0" allow for floating-point rounding (:data:`ROUNDING`, 1e-12
    relative to the largest score): two accuracies that differ by 0.05 in every fold
    give differences that differ in their last bits, and without the tolerance their
    variance of about 1e-33 would give an arbitrary t instead of the rule above (and
    differences that are all rounding noise around 0 an arbitrary p).

Inputs are 1-D sequences of finite numbers (numpy arrays, torch tensors, lists) of the
same length, at least two pairs; anything else raises ``ValueError`` naming the argument.

Notebook 07 (ablations, still to be written) is the one meant to use this module; no
notebook uses it yet.

How Table 5 is tested here
    Paper A's Table 5 gives paired t-test p-values of MixFeature against seven
    augmentation methods on JAFFE over 10-fold cross-validation (the numbers are quoted
    in ``docs/replication.md``). The paper does not publish the per-fold accuracies, so
    its p-values cannot be recomputed; what can be checked is the procedure. Given a
    results table with one row per method, fold and seed, :func:`compare_methods`
    reports for each method the plain paired t-test p (the paper's test, comparable to
    the published values), the Nadeau-Bengio corrected p, the Wilcoxon p, the corrected
    p after Holm's adjustment over all seven comparisons, the mean difference with
    plain and corrected 95% intervals, and d_z; its ``verdict`` rests on the corrected,
    Holm-adjusted p. ``tests/test_significance.py`` checks every function against values
    worked out by hand, against scipy, against the published output of scikit-learn's
    example "Statistical comparison of models using grid search" (corrected t = 0.750
    and one-sided p = 0.227 for its rbf and linear SVMs, 10 x 10-fold CV), against
    statsmodels' Holm adjustment where statsmodels is installed, and checks that
    :func:`compare_methods` refuses tables whose methods were not run on the same folds
    and seeds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from fer_utils.metrics.arrays import ArrayLike, as_numpy

#: Relative tolerance for floating-point rounding: differences closer together than
#: ``ROUNDING`` times the largest absolute score count as equal, and as 0 when that close
#: to 0 (``0.8 + 0.05 - 0.8`` is not exactly ``0.05`` in floating point).
ROUNDING = 1e-12


@dataclass(frozen=True)
class TTestResult:
    """A two-sided t-test: statistic ``t``, degrees of freedom ``df`` and p-value ``p``."""

    t: float
    df: int
    p: float


@dataclass(frozen=True)
class WilcoxonResult:
    """A two-sided Wilcoxon signed-rank test.

    ``statistic`` is the smaller of the positive- and negative-rank sums (scipy's
    two-sided statistic), ``p`` the p-value and ``n_nonzero`` the number of non-zero
    differences that were ranked.
    """

    statistic: float
    p: float
    n_nonzero: int


@dataclass(frozen=True)
class MeanDifferenceCI:
    """The mean of the differences ``a - b`` and its two-sided t-interval ``[low, high]``.

    ``corrected`` says whether the Nadeau-Bengio corrected variance was used.
    """

    mean: float
    low: float
    high: float
    confidence: float
    corrected: bool


def _paired(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
    """``a`` and ``b`` as float64 after checking both are 1-D, finite, of one length, >= 2."""
    arrays = []
    for name, values in (("a", a), ("b", b)):
        arr = np.asarray(as_numpy(values), dtype=np.float64)
        if arr.ndim != 1:
            raise ValueError(f"{name} must be a 1-D sequence of scores, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} holds a missing or infinite value: {arr.tolist()}")
        arrays.append(arr)
    first, second = arrays
    if first.shape != second.shape:
        raise ValueError(
            f"a and b must be paired scores of the same length, got {len(first)} and "
            f"{len(second)}"
        )
    if len(first) < 2:
        raise ValueError(f"a paired comparison needs at least 2 pairs, got {len(first)}")
    return first, second


def _rounding(first: np.ndarray, second: np.ndarray) -> float:
    """How far apart two differences may be and still count as equal: :data:`ROUNDING`
    times the largest absolute score (float rounding of ``a - b``)."""
    return ROUNDING * float(max(np.abs(first).max(), np.abs(second).max()))


def _differences(a: ArrayLike, b: ArrayLike) -> tuple[np.ndarray, float]:
    """The checked differences ``a - b`` and their rounding tolerance."""
    first, second = _paired(a, b)
    return first - second, _rounding(first, second)


def _constant(d: np.ndarray, tol: float) -> float | None:
    """The common value of ``d`` (0.0 if it is within ``tol`` of 0) when every difference
    is the same up to ``tol``, else ``None``."""
    if np.ptp(d) > tol:
        return None
    common = float(d.mean())
    return 0.0 if abs(common) <= tol else common


def _split_ratio(n_train: float | None, n_test: float | None) -> float | None:
    """``n_test / n_train`` after checking both are given and positive (``None`` if neither)."""
    if n_train is None and n_test is None:
        return None
    if n_train is None or n_test is None:
        raise ValueError(
            "give both n_train and n_test (training and test set sizes of one fold), "
            f"got n_train={n_train} and n_test={n_test}"
        )
    if not n_train > 0:
        raise ValueError(f"n_train must be a positive number of samples, got {n_train}")
    if not n_test >= 0:
        raise ValueError(f"n_test must be a number of samples >= 0, got {n_test}")
    return float(n_test) / float(n_train)


def _degenerate(d: np.ndarray, tol: float, df: int) -> TTestResult | None:
    """The zero-variance result (``+-inf, p=0`` or ``nan, p=1``), or ``None`` if d varies."""
    common = _constant(d, tol)
    if common is None:
        return None
    if common == 0:
        return TTestResult(t=float("nan"), df=df, p=1.0)
    return TTestResult(t=math.copysign(math.inf, common), df=df, p=0.0)


def paired_t_test(a: ArrayLike, b: ArrayLike) -> TTestResult:
    """Student's paired t-test of ``a`` against ``b``, two-sided (``scipy.stats.ttest_rel``).

    ``t = mean(d) / sqrt(var(d, ddof=1) / J)`` with ``d = a - b``, ``df = J - 1``. This is
    the test of paper A's Table 5; over cross-validation folds it overstates
    significance (see the module docstring). Zero variance: ``t = +-inf, p = 0``, or
    ``t = nan, p = 1`` when every difference is 0.
    """
    first, second = _paired(a, b)
    d = first - second
    df = len(d) - 1
    degenerate = _degenerate(d, _rounding(first, second), df)
    if degenerate is not None:
        return degenerate
    result = stats.ttest_rel(first, second)
    return TTestResult(t=float(result.statistic), df=df, p=float(result.pvalue))


def corrected_resampled_t_test(
    a: ArrayLike, b: ArrayLike, n_train: float, n_test: float
) -> TTestResult:
    """Nadeau and Bengio's (2003) corrected resampled t-test, two-sided.

    Over J = k folds x r repetitions, with ``d = a - b`` and ``n_train``/``n_test`` the
    training and test set sizes of one fold (their mean when folds differ by a sample):
    ``t = mean(d) / sqrt((1/J + n_test/n_train) * var(d, ddof=1))``, ``df = J - 1``, and
    ``p = 2 * P(T_df > |t|)``. Bouckaert and Frank (2004) recommend it for repeated
    cross-validation. With ``n_test = 0`` it is the plain paired t-test (:func:`paired_t_test`).
    Zero variance: ``t = +-inf, p = 0``, or ``t = nan, p = 1`` when every difference is 0.
    """
    d, tol = _differences(a, b)
    ratio = _split_ratio(n_train, n_test)
    if ratio is None:
        raise ValueError("the corrected test needs n_train and n_test, got None for both")
    j = len(d)
    degenerate = _degenerate(d, tol, j - 1)
    if degenerate is not None:
        return degenerate
    t = float(d.mean() / math.sqrt((1.0 / j + ratio) * d.var(ddof=1)))
    return TTestResult(t=t, df=j - 1, p=float(2.0 * stats.t.sf(abs(t), j - 1)))


def wilcoxon_signed_rank(a: ArrayLike, b: ArrayLike) -> WilcoxonResult:
    """Wilcoxon's signed-rank test of ``a`` against ``b``, two-sided (``scipy.stats.wilcoxon``).

    Ranks the absolute differences ``|a - b|`` and compares the rank sums of the positive
    and negative ones; it needs no normality, but still assumes independent pairs, so it
    shares the paired t-test's optimism over overlapping CV training sets. Zero
    differences are dropped before ranking (``zero_method="wilcox"``, Wilcoxon's
    original rule), so ``n_nonzero`` pairs are ranked; when every difference is 0 the
    result is ``statistic = 0, p = 1``. The p-value uses scipy's ``method="auto"``: in
    SciPy 1.17 the exact null distribution for up to 50 distinct non-zero differences,
    the exhaustive permutation distribution when ties (common: accuracies on equally
    large folds move in steps of 1/n_test) leave at most 13 of them, and the normal
    approximation otherwise.

    Few pairs: the smallest possible two-sided exact p-value is ``2 / 2**n`` (every
    difference of the same sign), 0.0625 for 5 pairs, so fewer than 6 non-zero
    differences can never reach p < 0.05; with 6 the floor is 0.031, and 0.002 with 10.
    """
    d, tol = _differences(a, b)
    if tol > 0:  # rounding noise must neither break ties nor make a zero non-zero
        d = np.round(d / tol) * tol
    nonzero = int(np.count_nonzero(d))
    if nonzero == 0:
        return WilcoxonResult(statistic=0.0, p=1.0, n_nonzero=0)
    result = stats.wilcoxon(d, zero_method="wilcox", alternative="two-sided")
    return WilcoxonResult(
        statistic=float(result.statistic), p=float(result.pvalue), n_nonzero=nonzero
    )


def holm(p_values: Sequence[float] | np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values (Holm 1979), in the order given.

    With the m p-values sorted ascending, ``p_(1) <= ... <= p_(m)``, the i-th adjusted
    value is ``max over j <= i of min(1, (m - j + 1) * p_(j))``: the step-down rule,
    made monotone (an adjusted value never falls below that of a smaller p-value) and
    capped at 1. Rejecting where the adjusted value is below alpha controls the
    family-wise error rate at alpha. An empty input gives an empty array; a value
    outside [0, 1] or ``nan`` raises ``ValueError``.
    """
    p = np.asarray(p_values, dtype=np.float64)
    if p.ndim != 1:
        raise ValueError(f"p_values must be a 1-D sequence, got shape {p.shape}")
    if np.any(np.isnan(p)) or np.any((p < 0) | (p > 1)):
        raise ValueError(f"p_values must lie in [0, 1] (no nan), got {p.tolist()}")
    m = len(p)
    order = np.argsort(p, kind="stable")
    stepped = np.minimum(1.0, (m - np.arange(m)) * p[order])
    adjusted = np.empty(m)
    adjusted[order] = np.maximum.accumulate(stepped)
    return adjusted


def mean_difference_ci(
    a: ArrayLike,
    b: ArrayLike,
    confidence: float = 0.95,
    n_train: float | None = None,
    n_test: float | None = None,
) -> MeanDifferenceCI:
    """Mean of ``d = a - b`` with its two-sided Student-t interval at ``confidence``.

    ``mean(d) +- t_{(1 + confidence)/2, J-1} * se``, where ``se = sqrt(var(d, ddof=1) / J)``,
    or, when ``n_train`` and ``n_test`` are given, the Nadeau-Bengio (2003) corrected
    ``se = sqrt((1/J + n_test/n_train) * var(d, ddof=1))``: the interval that matches
    :func:`corrected_resampled_t_test` (it excludes 0 exactly when that test's p is below
    ``1 - confidence``). With zero variance the interval is the point ``[mean, mean]``.
    """
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie strictly between 0 and 1, got {confidence}")
    d, tol = _differences(a, b)
    ratio = _split_ratio(n_train, n_test)
    j = len(d)
    factor = 1.0 / j + (ratio if ratio is not None else 0.0)
    common = _constant(d, tol)
    mean = float(d.mean()) if common is None else common
    spread = 0.0 if common is not None else float(d.var(ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, j - 1) * math.sqrt(factor * spread))
    return MeanDifferenceCI(
        mean=mean,
        low=mean - half,
        high=mean + half,
        confidence=confidence,
        corrected=ratio is not None,
    )


def effect_size(a: ArrayLike, b: ArrayLike) -> float:
    """Cohen's d_z for paired data: ``mean(d) / std(d, ddof=1)`` with ``d = a - b``.

    It measures how consistent the gain is across pairs (d_z = t / sqrt(J) of the plain
    paired t-test), not how large it is against the spread of the scores themselves;
    Cohen's rough labels are 0.2 small, 0.5 medium, 0.8 large. It is not corrected for
    overlapping CV training sets. Zero variance: ``+-inf``, or ``nan`` when every
    difference is 0.
    """
    d, tol = _differences(a, b)
    common = _constant(d, tol)
    if common is not None:
        return float("nan") if common == 0 else math.copysign(math.inf, common)
    return float(d.mean() / d.std(ddof=1))


def _paired_scores(
    table: pd.DataFrame, by: str, method: str, value: str, keys: list[str]
) -> pd.Series:
    """``value`` of ``method`` indexed by the pairing ``keys`` (duplicates refused)."""
    rows = table[table[by] == method]
    duplicated = rows.duplicated(keys, keep=False)
    if duplicated.any():
        twice = sorted(set(map(tuple, rows.loc[duplicated, keys].to_numpy().tolist())))
        raise ValueError(
            f"method {method!r} has more than one row for {keys} = {twice}; "
            "pair_on must identify each run"
        )
    if rows[value].isna().any():
        missing = rows.loc[rows[value].isna(), keys].to_numpy().tolist()
        raise ValueError(f"method {method!r} has no {value!r} for {keys} = {missing}")
    return rows.set_index(keys)[value].astype(float)


def _verdict(
    reference: str, other: str, mean: float, p_holm: float, p_plain: float, test: str,
    alpha: float,
) -> str:
    """The comparison in words, from the Holm-adjusted p-values of ``test`` and of the plain
    paired t-test (``p_plain``)."""
    if p_holm < alpha:
        leader = reference if mean > 0 else other
        return f"{leader} ahead, significant after Holm ({test}, p = {p_holm:.3g})"
    text = f"no significant difference after Holm ({test}, p = {p_holm:.3g})"
    if test != "paired t-test" and p_plain < alpha:
        text += f"; the plain paired t-test would call it significant (p = {p_plain:.3g})"
    return text


def compare_methods(
    table: pd.DataFrame,
    reference: str = "mixfeature",
    value: str = "test_accuracy",
    pair_on: Sequence[str] | str = ("fold", "seed"),
    n_train: float | None = None,
    n_test: float | None = None,
    by: str = "method",
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Every other method of ``table`` against ``reference``, one tidy row each.

    ``table`` has one row per run: the method in column ``by``, the pairing keys in the
    ``pair_on`` columns (fold and seed) and the score in ``value``. Differences are
    reference minus other, so a positive ``mean_difference`` means the reference is
    ahead. Columns: ``method``, ``reference``, ``n_pairs``, ``mean_difference``,
    ``ci_low``/``ci_high`` (plain t-interval at ``1 - alpha``),
    ``ci_low_corrected``/``ci_high_corrected`` (Nadeau-Bengio), ``p_paired_t``,
    ``p_corrected``, ``p_wilcoxon``, ``p_paired_t_holm``, ``p_corrected_holm`` (Holm
    over all the table's comparisons), ``cohens_dz`` and ``verdict``.

    The verdict rests on ``p_corrected_holm`` at ``alpha``; without ``n_train`` and
    ``n_test`` the corrected columns are ``nan`` and it rests on ``p_paired_t_holm``
    instead, and says so. When the corrected test finds no significant difference but
    the plain paired t-test (after Holm) would, the verdict adds that, which is the
    overstatement the correction exists for. Rows come in the order the methods first
    appear in ``table``; ``alpha`` also sets the intervals' level (95% by default). A
    method not run on exactly the reference's folds and seeds, a repeated key, a
    missing score or fewer than 2 pairs raise ``ValueError`` naming the method.
    """
    keys = [pair_on] if isinstance(pair_on, str) else list(pair_on)
    absent = [c for c in [by, value, *keys] if c not in table.columns]
    if absent:
        raise ValueError(f"table has no column {absent}; its columns are {list(table.columns)}")
    ratio = _split_ratio(n_train, n_test)
    methods = list(dict.fromkeys(table[by].tolist()))
    if reference not in methods:
        raise ValueError(f"reference method {reference!r} is not in table[{by!r}]: {methods}")
    others = [m for m in methods if m != reference]
    if not others:
        raise ValueError(f"table holds only the reference method {reference!r}")
    ref = _paired_scores(table, by, reference, value, keys)

    rows = []
    for other in others:
        scores = _paired_scores(table, by, other, value, keys)
        only_ref = ref.index.difference(scores.index)
        only_other = scores.index.difference(ref.index)
        if len(only_ref) or len(only_other):
            raise ValueError(
                f"method {other!r} was not run on the same {keys} as {reference!r}: "
                f"missing for {other!r}: {only_ref.tolist()}; "
                f"missing for {reference!r}: {only_other.tolist()}"
            )
        if len(ref) < 2:
            raise ValueError(
                f"method {other!r}: a paired comparison needs at least 2 pairs, got {len(ref)}"
            )
        a = ref.sort_index().to_numpy()
        b = scores.reindex(ref.sort_index().index).to_numpy()
        plain_ci = mean_difference_ci(a, b, confidence=1 - alpha)
        row = {
            "method": other,
            "reference": reference,
            "n_pairs": len(a),
            "mean_difference": plain_ci.mean,
            "ci_low": plain_ci.low,
            "ci_high": plain_ci.high,
            "ci_low_corrected": float("nan"),
            "ci_high_corrected": float("nan"),
            "p_paired_t": paired_t_test(a, b).p,
            "p_corrected": float("nan"),
            "p_wilcoxon": wilcoxon_signed_rank(a, b).p,
            "cohens_dz": effect_size(a, b),
        }
        if ratio is not None:
            corrected_ci = mean_difference_ci(a, b, 1 - alpha, n_train, n_test)
            row["ci_low_corrected"] = corrected_ci.low
            row["ci_high_corrected"] = corrected_ci.high
            row["p_corrected"] = corrected_resampled_t_test(a, b, n_train, n_test).p
        rows.append(row)

    out = pd.DataFrame(rows)
    out["p_paired_t_holm"] = holm(out["p_paired_t"].to_numpy())
    out["p_corrected_holm"] = (
        holm(out["p_corrected"].to_numpy()) if ratio is not None else float("nan")
    )
    test, column = (
        ("corrected t-test", "p_corrected_holm")
        if ratio is not None
        else ("paired t-test", "p_paired_t_holm")
    )
    out["verdict"] = [
        _verdict(reference, r["method"], r["mean_difference"], r[column],
                 r["p_paired_t_holm"], test, alpha)
        for _, r in out.iterrows()
    ]
    columns = [
        "method", "reference", "n_pairs", "mean_difference", "ci_low", "ci_high",
        "ci_low_corrected", "ci_high_corrected", "p_paired_t", "p_corrected", "p_wilcoxon",
        "p_paired_t_holm", "p_corrected_holm", "cohens_dz", "verdict",
    ]
    return out[columns]
