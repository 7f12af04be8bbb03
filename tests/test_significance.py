"""Paired significance tests (fer_utils.metrics.significance): hand values, scipy, references.

Every function is checked on a worked example whose numbers are computed here with
plain arithmetic, against scipy where it wraps scipy, and the corrected resampled t-test
also against the published output of scikit-learn's example "Statistical comparison of
models using grid search" (rerun here: the example's data and folds are seeded).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy import stats

from fer_utils import metrics
from fer_utils.metrics.significance import (
    MeanDifferenceCI,
    TTestResult,
    compare_methods,
    corrected_resampled_t_test,
    effect_size,
    holm,
    mean_difference_ci,
    paired_t_test,
    wilcoxon_signed_rank,
)

# The worked example: ten fold differences (in accuracy points), 10-fold CV of 200
# images, so n_train = 180 and n_test = 20 (n_test / n_train = 1/9).
D = np.array([2, 3, -1, 4, 1, 2, 5, 0, 3, 1], dtype=float)
B = np.array([80, 82, 79, 85, 81, 78, 83, 80, 84, 82], dtype=float)
A = B + D
# By hand: sum 20, mean 2; deviations 0, 1, -3, 2, -1, 0, 3, -2, 1, -1, squares summing
# to 30, so var(d, ddof=1) = 30/9 = 10/3.
MEAN, VAR, J = 2.0, 10 / 3, 10
# Plain: se^2 = var/J = 1/3, t = 2 / sqrt(1/3) = 2 sqrt(3).
T_PLAIN = 2 * math.sqrt(3)
# Corrected: (1/10 + 1/9) * 10/3 = 19/90 * 10/3 = 19/27, t = 2 / sqrt(19/27).
SE2_CORRECTED = 19 / 27
T_CORRECTED = 2 / math.sqrt(SE2_CORRECTED)
# Student t quantiles with 9 degrees of freedom, from a printed t table.
T_TABLE_9 = {0.975: 2.262, 0.99: 2.821, 0.995: 3.250, 0.9975: 3.690}


def test_paired_t_test_hand_example() -> None:
    result = paired_t_test(A, B)
    assert isinstance(result, TTestResult)
    assert result.t == pytest.approx(T_PLAIN, rel=1e-12)
    assert result.df == 9
    assert result.p == pytest.approx(2 * stats.t.sf(T_PLAIN, 9), rel=1e-12)
    # 3.250 < 3.464 < 3.690: two-sided p between 0.005 and 0.01 by the table
    assert T_TABLE_9[0.995] < result.t < T_TABLE_9[0.9975]
    assert 0.005 < result.p < 0.01
    # swapping the methods flips the sign only
    swapped = paired_t_test(B, A)
    assert swapped.t == pytest.approx(-T_PLAIN) and swapped.p == pytest.approx(result.p)


def test_paired_t_test_agrees_with_scipy() -> None:
    rng = np.random.default_rng(0)
    for n in (2, 3, 10, 50):
        a, b = rng.normal(0.8, 0.05, n), rng.normal(0.79, 0.05, n)
        ref = stats.ttest_rel(a, b)
        got = paired_t_test(a, b)
        assert got.t == pytest.approx(ref.statistic, rel=1e-12)
        assert got.p == pytest.approx(ref.pvalue, rel=1e-12)
        assert got.df == n - 1


def test_inputs_may_be_lists_or_tensors() -> None:
    ref = paired_t_test(A, B)
    assert paired_t_test(A.tolist(), B.tolist()) == ref
    assert paired_t_test(torch.tensor(A), torch.tensor(B)).t == pytest.approx(ref.t)


def test_corrected_test_hand_example() -> None:
    result = corrected_resampled_t_test(A, B, n_train=180, n_test=20)
    assert result.t == pytest.approx(T_CORRECTED, rel=1e-12)
    assert result.t == pytest.approx(2.3842, abs=1e-4)
    assert result.df == 9
    assert result.p == pytest.approx(2 * stats.t.sf(T_CORRECTED, 9), rel=1e-12)
    # 2.262 < 2.384 < 2.821: significant at 0.05 but not at 0.02, where the plain test
    # (t = 3.46) claimed p < 0.01
    assert T_TABLE_9[0.975] < result.t < T_TABLE_9[0.99]
    assert 0.02 < result.p < 0.05
    assert result.p > paired_t_test(A, B).p


def test_corrected_test_without_correction_is_scipys_paired_test() -> None:
    rng = np.random.default_rng(1)
    for n in (3, 10, 100):
        a, b = rng.normal(0.8, 0.05, n), rng.normal(0.78, 0.05, n)
        ref = stats.ttest_rel(a, b)
        got = corrected_resampled_t_test(a, b, n_train=90, n_test=0)
        assert got.t == pytest.approx(ref.statistic, rel=1e-12)
        assert got.p == pytest.approx(ref.pvalue, rel=1e-12)


def test_corrected_t_shrinks_by_the_variance_factor() -> None:
    """t_corrected = t_plain * sqrt((1/J) / (1/J + n_test/n_train)) for any data."""
    rng = np.random.default_rng(2)
    a, b = rng.normal(0.8, 0.05, 100), rng.normal(0.78, 0.05, 100)
    plain = paired_t_test(a, b)
    got = corrected_resampled_t_test(a, b, n_train=90, n_test=10)
    assert got.t == pytest.approx(plain.t * math.sqrt(0.01 / (0.01 + 1 / 9)), rel=1e-12)


@pytest.fixture(scope="module")
def sklearn_example_scores() -> dict[str, np.ndarray]:
    """The 100 ROC-AUC scores per SVC kernel of scikit-learn's grid-search statistics
    example (make_moons, 10 x 10-fold RepeatedStratifiedKFold, all seeded)."""
    from sklearn.datasets import make_moons
    from sklearn.model_selection import GridSearchCV, RepeatedStratifiedKFold
    from sklearn.svm import SVC

    x, y = make_moons(noise=0.352, random_state=1, n_samples=100)
    cv = RepeatedStratifiedKFold(n_splits=10, n_repeats=10, random_state=0)
    grid = [{"kernel": ["linear"]}, {"kernel": ["poly"], "degree": [2, 3]}, {"kernel": ["rbf"]}]
    search = GridSearchCV(SVC(random_state=0), grid, scoring="roc_auc", cv=cv).fit(x, y)
    res = search.cv_results_
    names = ["_".join(str(v) for v in p.values()) for p in res["params"]]
    return {
        name: np.array([res[f"split{i}_test_score"][c] for i in range(100)])
        for c, name in enumerate(names)
    }


def test_corrected_test_matches_scikit_learns_published_example(sklearn_example_scores) -> None:
    """Published output of the example (n_train = 90, n_test = 10, J = 100): corrected
    t = 0.750 with one-sided p = 0.227, uncorrected t = 2.611, and the corrected 95%
    interval of the mean difference (its "credible interval") -0.016445 to 0.036445;
    pairwise corrected t-values 1.657, 4.565, 1.111, 4.276 and 3.851."""
    s = sklearn_example_scores
    assert s["rbf"].mean() == pytest.approx(0.9400, abs=5e-5)
    assert s["linear"].mean() == pytest.approx(0.9300, abs=5e-5)
    got = corrected_resampled_t_test(s["rbf"], s["linear"], n_train=90, n_test=10)
    assert got.t == pytest.approx(0.750, abs=5e-4)
    assert got.p / 2 == pytest.approx(0.227, abs=5e-4)  # ours is two-sided
    assert paired_t_test(s["rbf"], s["linear"]).t == pytest.approx(2.611, abs=5e-4)
    ci = mean_difference_ci(s["rbf"], s["linear"], 0.95, n_train=90, n_test=10)
    assert ci.low == pytest.approx(-0.016445, abs=5e-7)
    assert ci.high == pytest.approx(0.036445, abs=5e-7)
    pairs = {("rbf", "3_poly"): 1.657, ("rbf", "2_poly"): 4.565, ("linear", "3_poly"): 1.111,
             ("linear", "2_poly"): 4.276, ("3_poly", "2_poly"): 3.851}
    for (first, second), t in pairs.items():
        got = corrected_resampled_t_test(s[first], s[second], n_train=90, n_test=10)
        assert got.t == pytest.approx(t, abs=5e-4), (first, second)


def test_wilcoxon_hand_examples() -> None:
    # d = 1, 2, -3, 4, 5: ranks equal |d|, W+ = 12, W- = 3, statistic min = 3. Sign
    # patterns with a rank sum <= 3 on one side: {}, {1}, {2}, {3}, {1, 2}, so the exact
    # two-sided p = 2 * 5 / 2**5 = 0.3125.
    got = wilcoxon_signed_rank([1, 2, -3, 4, 5], [0, 0, 0, 0, 0])
    assert got.statistic == 3.0 and got.n_nonzero == 5
    assert got.p == pytest.approx(0.3125, rel=1e-12)
    # all differences positive: the floor 2 / 2**n, 0.0625 for 5 pairs, 0.03125 for 6
    assert wilcoxon_signed_rank(np.arange(1, 6), np.zeros(5)).p == pytest.approx(0.0625)
    assert wilcoxon_signed_rank(np.arange(1, 7), np.zeros(6)).p == pytest.approx(0.03125)
    # a zero difference is dropped before ranking (zero_method="wilcox")
    dropped = wilcoxon_signed_rank([0, 1, 2, -3, 4, 5], np.zeros(6))
    assert dropped.n_nonzero == 5 and dropped.p == pytest.approx(0.3125)


def test_wilcoxon_agrees_with_scipy() -> None:
    rng = np.random.default_rng(3)
    for n in (6, 10, 30, 80):
        a, b = rng.normal(0.8, 0.05, n), rng.normal(0.79, 0.05, n)
        ref = stats.wilcoxon(a, b)
        got = wilcoxon_signed_rank(a, b)
        assert got.statistic == ref.statistic and got.p == pytest.approx(ref.pvalue)
    # ties, as with accuracies on folds of 20 images
    a = np.array([17, 18, 16, 19, 17, 18, 18, 16, 17, 19]) / 20
    b = np.array([16, 17, 16, 17, 16, 18, 17, 15, 16, 17]) / 20
    assert wilcoxon_signed_rank(a, b).p == pytest.approx(stats.wilcoxon(a, b).pvalue)


def test_holm_hand_example() -> None:
    # sorted: 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; made
    # monotone: 0.02, 0.03, 0.06, 0.06; back in the given order:
    got = holm([0.01, 0.04, 0.03, 0.005])
    np.testing.assert_allclose(got, [0.03, 0.06, 0.06, 0.02], rtol=1e-12)
    np.testing.assert_allclose(holm([0.6, 0.7]), [1.0, 1.0])  # 1.2 capped at 1
    np.testing.assert_allclose(holm([0.02, 0.02]), [0.04, 0.04])  # ties
    assert holm([0.3]).tolist() == [0.3]
    assert holm([]).shape == (0,)


def test_holm_agrees_with_statsmodels() -> None:
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(4)
    for m in (1, 2, 7, 20):
        p = rng.uniform(0, 0.2, m)
        ref = multitest.multipletests(p, method="holm")[1]
        np.testing.assert_allclose(holm(p), ref, rtol=1e-12)


def test_holm_refuses_values_that_are_not_p_values() -> None:
    for bad in ([0.1, float("nan")], [0.1, 1.5], [-0.1]):
        with pytest.raises(ValueError, match="must lie in"):
            holm(bad)
    with pytest.raises(ValueError, match="1-D"):
        holm([[0.1, 0.2]])


def test_mean_difference_ci_hand_example() -> None:
    q = stats.t.ppf(0.975, 9)
    assert q == pytest.approx(T_TABLE_9[0.975], abs=5e-4)
    plain = mean_difference_ci(A, B)
    assert isinstance(plain, MeanDifferenceCI) and not plain.corrected
    assert plain.mean == MEAN
    assert plain.low == pytest.approx(MEAN - q * math.sqrt(VAR / J), rel=1e-12)
    assert plain.high == pytest.approx(MEAN + q * math.sqrt(VAR / J), rel=1e-12)
    assert (plain.low, plain.high) == pytest.approx((0.694, 3.306), abs=1e-3)
    corrected = mean_difference_ci(A, B, n_train=180, n_test=20)
    assert corrected.corrected
    assert corrected.low == pytest.approx(MEAN - q * math.sqrt(SE2_CORRECTED), rel=1e-12)
    assert (corrected.low, corrected.high) == pytest.approx((0.102, 3.898), abs=1e-3)
    wide = mean_difference_ci(A, B, confidence=0.99)
    assert wide.low < plain.low and wide.high > plain.high


def test_ci_excludes_zero_exactly_when_the_test_rejects() -> None:
    rng = np.random.default_rng(5)
    for _ in range(200):
        a, b = rng.normal(0.8, 0.05, 10), rng.normal(0.79, 0.05, 10)
        for kw in ({}, {"n_train": 180, "n_test": 20}):
            ci = mean_difference_ci(a, b, 0.95, **kw)
            p = (corrected_resampled_t_test(a, b, **kw) if kw else paired_t_test(a, b)).p
            assert (ci.low > 0 or ci.high < 0) == (p < 0.05)


def test_effect_size_hand_example() -> None:
    # 2 / sqrt(10/3) = sqrt(1.2) = 1.0954; also t / sqrt(J)
    assert effect_size(A, B) == pytest.approx(math.sqrt(1.2), rel=1e-12)
    assert effect_size(A, B) == pytest.approx(T_PLAIN / math.sqrt(J), rel=1e-12)
    assert effect_size(B, A) == pytest.approx(-math.sqrt(1.2), rel=1e-12)


def test_zero_variance() -> None:
    a = np.array([0.8, 0.7, 0.9])
    for fn in (paired_t_test, lambda x, y: corrected_resampled_t_test(x, y, 9, 1)):
        ahead, behind, same = fn(a + 0.5, a), fn(a, a + 0.5), fn(a, a)
        assert ahead.t == math.inf and ahead.p == 0.0 and ahead.df == 2
        assert behind.t == -math.inf and behind.p == 0.0
        assert math.isnan(same.t) and same.p == 1.0
    assert effect_size(a + 0.5, a) == math.inf and math.isnan(effect_size(a, a))
    point = mean_difference_ci(a + 0.5, a, n_train=9, n_test=1)
    assert point.low == point.mean == point.high == 0.5
    nothing = wilcoxon_signed_rank(a, a)
    assert nothing.p == 1.0 and nothing.n_nonzero == 0


def test_zero_variance_allows_for_float_rounding() -> None:
    """Accuracies on folds of 20 images, one image apart in every fold: 17/20 - 16/20 is
    not exactly 8/20 - 7/20 in floating point, but these differences still count as equal."""
    a = np.array([17, 15, 18, 13, 16, 8]) / 20
    b = np.array([16, 14, 17, 12, 15, 7]) / 20
    assert np.ptp(a - b) > 0  # the rounding the tolerance is for
    assert paired_t_test(a, b).t == math.inf
    assert corrected_resampled_t_test(a, b, 9, 1).p == 0.0
    assert effect_size(a, b) == math.inf
    ci = mean_difference_ci(a, b)
    assert ci.low == ci.high == pytest.approx(0.05)
    noisy = a * 3 / 7 * 7 / 3  # a again, up to rounding
    assert np.ptp(noisy - a) > 0
    assert paired_t_test(noisy, a).p == 1.0 and math.isnan(effect_size(noisy, a))
    assert wilcoxon_signed_rank(noisy, a).n_nonzero == 0
    # ties broken only by rounding stay ties for Wilcoxon
    b2 = b.copy()
    b2[[2, 4]] = np.array([19, 14]) / 20  # differences -1/20 and +2/20
    clean = np.array([1, 1, -1, 1, 2, 1]) / 20
    assert wilcoxon_signed_rank(a, b2).p == pytest.approx(stats.wilcoxon(clean).pvalue)
    assert stats.wilcoxon(a - b2).pvalue < 0.6 * stats.wilcoxon(clean).pvalue  # unsnapped


def test_refusals() -> None:
    with pytest.raises(ValueError, match="same length, got 3 and 2"):
        paired_t_test([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match="at least 2 pairs, got 1"):
        corrected_resampled_t_test([1], [2], 9, 1)
    with pytest.raises(ValueError, match="at least 2 pairs, got 0"):
        wilcoxon_signed_rank([], [])
    with pytest.raises(ValueError, match="a must be a 1-D"):
        effect_size([[1, 2], [3, 4]], [1, 2])
    with pytest.raises(ValueError, match="b holds a missing"):
        mean_difference_ci([1, 2, 3], [1, float("nan"), 3])
    with pytest.raises(ValueError, match="give both n_train and n_test"):
        mean_difference_ci(A, B, n_train=180)
    with pytest.raises(ValueError, match="needs n_train and n_test"):
        corrected_resampled_t_test(A, B, None, None)
    with pytest.raises(ValueError, match="n_train must be a positive"):
        corrected_resampled_t_test(A, B, 0, 20)
    with pytest.raises(ValueError, match="n_test must be"):
        corrected_resampled_t_test(A, B, 180, -1)
    with pytest.raises(ValueError, match="confidence"):
        mean_difference_ci(A, B, confidence=95)


def test_names_are_exported() -> None:
    for name in ("paired_t_test", "corrected_resampled_t_test", "wilcoxon_signed_rank",
                 "holm", "mean_difference_ci", "effect_size", "compare_methods"):
        assert getattr(metrics, name) is globals()[name]


# --- compare_methods ------------------------------------------------------------------


def runs_table(gaps: dict[str, np.ndarray], folds: int = 10, seeds: int = 2) -> pd.DataFrame:
    """A long results table: MixFeature's accuracies plus, for each other method, those
    accuracies minus its ``gaps`` (one per fold and seed)."""
    rng = np.random.default_rng(6)
    keys = [(f, s) for s in range(seeds) for f in range(folds)]
    base = rng.uniform(0.80, 0.90, len(keys))
    rows = [{"method": "mixfeature", "fold": f, "seed": s, "test_accuracy": base[i]}
            for i, (f, s) in enumerate(keys)]
    for name, gap in gaps.items():
        rows += [{"method": name, "fold": f, "seed": s, "test_accuracy": base[i] - gap[i]}
                 for i, (f, s) in enumerate(keys)]
    return pd.DataFrame(rows)


def standardised(mean: float, std: float, n: int, seed: int) -> np.ndarray:
    """``n`` numbers with exactly this mean and sample standard deviation."""
    z = np.random.default_rng(seed).normal(size=n)
    return mean + std * (z - z.mean()) / z.std(ddof=1)


def test_compare_methods_numbers_and_both_verdicts() -> None:
    gaps = {
        "mixup": standardised(0.05, 0.01, 20, 7),  # MixFeature clearly ahead
        "cutmix": standardised(0.0, 0.02, 20, 8),  # no difference
        "augmix": standardised(-0.04, 0.01, 20, 9),  # AugMix clearly ahead
    }
    table = runs_table(gaps)
    out = compare_methods(table, n_train=180, n_test=20)
    assert out["method"].tolist() == ["mixup", "cutmix", "augmix"]  # as the table lists them
    # pairs are matched by fold and seed, not by row order
    shuffled = compare_methods(table.sample(frac=1.0, random_state=0), n_train=180, n_test=20)
    pd.testing.assert_frame_equal(
        shuffled.set_index("method").loc[out["method"]].reset_index(), out,
        check_exact=False, rtol=1e-12)
    assert (out["reference"] == "mixfeature").all() and (out["n_pairs"] == 20).all()
    np.testing.assert_allclose(out["mean_difference"], [0.05, 0.0, -0.04], atol=1e-12)

    mixup = out.set_index("method").loc["mixup"]
    d = gaps["mixup"]
    a, b = np.full(20, 1.0), 1.0 - d  # any scores with these differences
    assert mixup["p_paired_t"] == pytest.approx(paired_t_test(a, b).p, rel=1e-9)
    assert mixup["p_corrected"] == pytest.approx(
        corrected_resampled_t_test(a, b, 180, 20).p, rel=1e-9)
    assert mixup["p_wilcoxon"] == pytest.approx(wilcoxon_signed_rank(a, b).p, rel=1e-9)
    assert mixup["cohens_dz"] == pytest.approx(5.0, rel=1e-9)  # 0.05 / 0.01
    ci = mean_difference_ci(a, b, n_train=180, n_test=20)
    assert (mixup["ci_low_corrected"], mixup["ci_high_corrected"]) == pytest.approx(
        (ci.low, ci.high), rel=1e-9)
    np.testing.assert_allclose(out["p_corrected_holm"], holm(out["p_corrected"]))
    np.testing.assert_allclose(out["p_paired_t_holm"], holm(out["p_paired_t"]))

    verdicts = out.set_index("method")["verdict"]
    assert verdicts["mixup"].startswith(
        "mixfeature ahead, significant after Holm (corrected t-test, p = ")
    assert verdicts["augmix"].startswith("augmix ahead, significant after Holm")
    assert verdicts["cutmix"].startswith("no significant difference after Holm (corrected")
    assert "plain paired t-test" not in verdicts["cutmix"]


def test_compare_methods_verdict_names_the_overconfident_plain_test() -> None:
    """A gain of 1 point with a spread of 2 over 10 x 10 folds: plain t = 5, corrected
    t = 1 / sqrt((1/100 + 1/9) * 4) = 1.44, p = 0.15."""
    out = compare_methods(runs_table({"mixup": standardised(1.0, 2.0, 100, 10)}, seeds=10),
                          n_train=900, n_test=100)
    row = out.iloc[0]
    assert row["p_paired_t"] < 1e-5
    assert row["p_corrected"] == pytest.approx(2 * stats.t.sf(1 / math.sqrt(0.4844444), 99),
                                               rel=1e-6)
    assert row["verdict"].startswith("no significant difference after Holm (corrected")
    assert "the plain paired t-test would call it significant" in row["verdict"]


def test_compare_methods_without_split_sizes_uses_the_plain_test() -> None:
    out = compare_methods(runs_table({"mixup": standardised(0.05, 0.01, 20, 7)}))
    assert out[["p_corrected", "p_corrected_holm", "ci_low_corrected"]].isna().all().all()
    assert out.iloc[0]["verdict"].startswith(
        "mixfeature ahead, significant after Holm (paired t-test")


def test_compare_methods_refuses_unpaired_runs() -> None:
    table = runs_table({"mixup": np.zeros(20), "cutmix": np.full(20, 0.01)})
    short = table.drop(table.index[(table["method"] == "cutmix") & (table["fold"] == 3)])
    with pytest.raises(ValueError, match=r"'cutmix' was not run on the same \['fold', 'seed'\]"
                       r".*missing for 'cutmix': \[\(3, 0\), \(3, 1\)\]"):
        compare_methods(short, n_train=180, n_test=20)
    extra = pd.concat([table, pd.DataFrame([
        {"method": "mixup", "fold": 10, "seed": 0, "test_accuracy": 0.8}])])
    with pytest.raises(ValueError, match=r"'mixup'.*missing for 'mixfeature': \[\(10, 0\)\]"):
        compare_methods(extra)
    twice = pd.concat([table, table.iloc[[-1]]])
    with pytest.raises(ValueError, match="'cutmix' has more than one row"):
        compare_methods(twice)
    with pytest.raises(ValueError, match="at least 2 pairs"):
        compare_methods(runs_table({"mixup": np.zeros(1)}, folds=1, seeds=1))
    gap = table.copy()
    gap.loc[gap.index[-1], "test_accuracy"] = float("nan")
    with pytest.raises(ValueError, match="'cutmix' has no 'test_accuracy'"):
        compare_methods(gap)
    with pytest.raises(ValueError, match="reference method 'baseline' is not in"):
        compare_methods(table, reference="baseline")
    with pytest.raises(ValueError, match="no column"):
        compare_methods(table, value="val_accuracy")
    with pytest.raises(ValueError, match="only the reference"):
        compare_methods(table[table["method"] == "mixfeature"])


def test_compare_methods_pairs_on_seed_alone() -> None:
    table = runs_table({"mixup": standardised(0.05, 0.01, 5, 11)}, folds=1, seeds=5)
    out = compare_methods(table.drop(columns="fold"), pair_on="seed")
    assert out.iloc[0]["n_pairs"] == 5
