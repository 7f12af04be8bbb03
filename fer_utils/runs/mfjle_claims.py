"""Paper B's claims about MF-JLE, checked against the committed ablation rows.

Introduced in notebook 07 (ablations, paper B section). :func:`check_mfjle_claims` reads
the per-seed rows that :func:`fer_utils.runs.mfjle_ablations.write_mfjle_tables` writes
and gives one row per claim and experiment: what paper B says, what our runs measured
(numbers in the sentence) and a verdict word computed from them. Differences are paired
by seed (each seed is one split and one initialisation, shared by both sides); a
difference counts only when its 95 % t-interval over the seeds excludes zero.
Two rows report our own extensions (fitted ensemble weights, MixFeature inside MF-JLE),
which paper B does not have.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy import stats

from fer_utils.runs.claims import FAILED, HELD, OPEN
from fer_utils.runs.mfjle_ablations import FIG6_LAMBDAS, PAPER_LAMBDA
from fer_utils.training.convergence import is_flat

#: A difference whose 95 % interval over the seeds contains zero.
NOT_SHOWN = "not shown (within seed noise)"
#: Verdict words of the rows about our extensions, which have no claim to hold.
BETTER, WORSE, SAME = "better", "worse", "no clear difference"
CONVERGED_B = "every run's training loss is flat at the end (a fair comparison)"
ENSEMBLE = "MF-JLE beats the single ResNet-18"
BCE = "binary cross-entropy beats multi-class cross-entropy"
LAMBDA = "lambda_i = 0.01 is the best of 0, 0.001, 0.005, 0.01, 0.015"
FITTED = "ours: local weights fitted on the validation part vs paper B's fixed 0.01"
MIXED = "ours: MixFeature inside MF-JLE vs plain MF-JLE"
#: The metric the verdicts use (paper B's ablations report micro-F1).
METRIC = "micro_f1"


def paired_difference(a: pd.DataFrame, b: pd.DataFrame,
                      metric: str = METRIC) -> tuple[float, float, float, int]:
    """Mean of ``a - b`` over the seeds both have, and its 95 % t-interval (``nan`` bounds
    with one seed), and the number of seeds. ``a`` and ``b``: rows with ``seed`` and
    ``metric``, one per seed."""
    both = a.set_index("seed")[metric].astype(float).to_frame("a").join(
        b.set_index("seed")[metric].astype(float).to_frame("b"), how="inner")
    d = (both["a"] - both["b"]).to_numpy()
    n = len(d)
    if n == 0:
        return math.nan, math.nan, math.nan, 0
    mean = float(d.mean())
    if n < 2:
        return mean, math.nan, math.nan, n
    half = float(stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / math.sqrt(n))
    return mean, mean - half, mean + half, n


def _verdict(low: float, high: float, words: tuple[str, str, str]) -> str:
    """``words[0]`` when the interval is above 0, ``words[1]`` below, else ``words[2]``."""
    if math.isnan(low):
        return words[2]
    return words[0] if low > 0 else words[1] if high < 0 else words[2]


def _sentence(name_a: str, name_b: str, mean: float, low: float, high: float,
              n: int, a: pd.DataFrame, b: pd.DataFrame) -> str:
    spread = "" if math.isnan(low) else f", 95 % interval {low:+.3f} to {high:+.3f}"
    shared = set(a["seed"]) & set(b["seed"])  # the means of the seeds the difference pairs
    a, b = a[a["seed"].isin(shared)], b[b["seed"].isin(shared)]
    return (f"{name_a} {a[METRIC].mean():.3f} vs {name_b} {b[METRIC].mean():.3f} micro-F1: "
            f"{mean:+.3f}{spread} ({n} seed{'s' if n != 1 else ''})")


def _own_score(rows: pd.DataFrame, variant: str, module: str | None = None) -> pd.DataFrame:
    """The rows of ``variant`` scored as the variant itself (the ensemble, or the single
    network), or as ``module`` (e.g. ``"fitted"``)."""
    g = rows[rows["variant"] == variant]
    return g[g["module"].isin(["single", "ensemble"] if module is None else [module])]


def _compare(g: pd.DataFrame, a: tuple[str, str | None], b: tuple[str, str | None],
             names: tuple[str, str], words: tuple[str, str, str]) -> tuple[str, str]:
    """``(ours, verdict)`` of side ``a`` against side ``b`` (variant, module) in ``g``."""
    ra, rb = _own_score(g, *a), _own_score(g, *b)
    if ra.empty or rb.empty:
        gone = [n for n, r in zip(names, (ra, rb), strict=True) if r.empty]
        return f"not run yet: {', '.join(gone)}", OPEN
    mean, low, high, n = paired_difference(ra, rb)
    return _sentence(*names, mean, low, high, n, ra, rb), _verdict(low, high, words)


def _lambda_claim(g: pd.DataFrame) -> tuple[str, str]:
    """``(ours, verdict)`` of Fig. 6's claim: 0.01 against the best other lambda, each
    lambda trained where all are, else the modules trained at 0.01 re-weighted (D28)."""
    lambdas = {PAPER_LAMBDA: _own_score(g, "mfjle")}
    lambdas.update({v: _own_score(g, f"lambda={v:g}") for v in FIG6_LAMBDAS})
    how = "each lambda trained"
    if any(r.empty for r in lambdas.values()):
        lambdas.update({v: _own_score(g, "mfjle", f"reweighted:lambda={v:g}")
                        for v in FIG6_LAMBDAS})
        how = "the modules trained at 0.01, re-weighted"
    missing = [f"{v:g}" for v, r in lambdas.items() if r.empty]
    if missing:
        return f"not run yet: lambda {', '.join(missing)}", OPEN
    means = {v: r[METRIC].mean() for v, r in lambdas.items()}
    best = max(means, key=lambda v: means[v])
    others = [v for v in means if v != PAPER_LAMBDA]
    rival = max(others, key=lambda v: means[v]) if best == PAPER_LAMBDA else best
    mean, low, high, _ = paired_difference(lambdas[PAPER_LAMBDA], lambdas[rival])
    ours = (f"{how}: " + "; ".join(f"{v:g}: {m:.3f}" for v, m in sorted(means.items()))
            + f" micro-F1; best {best:g}; 0.01 minus {rival:g}: {mean:+.3f}")
    if not math.isnan(low):
        ours += f" (95 % interval {low:+.3f} to {high:+.3f})"
    # 0.01 on top: held once clearly ahead of the next; else failed once clearly behind
    verdict = (_verdict(low, high, (HELD, FAILED, NOT_SHOWN)) if best == PAPER_LAMBDA
               else _verdict(-high, -low, (FAILED, HELD, NOT_SHOWN)))
    return ours, verdict


def check_mfjle_claims(rows: pd.DataFrame) -> pd.DataFrame:
    """One row per experiment and claim of paper B (and our two extensions): columns
    ``experiment``, ``claim``, ``paper``, ``ours`` (numbers) and ``verdict``."""
    columns = ["experiment", "claim", "paper", "ours", "verdict"]
    out: list[tuple[str, ...]] = []
    claim_words = (HELD, FAILED, NOT_SHOWN)
    ours_words = (BETTER, WORSE, SAME)
    for exp, g in rows.groupby("experiment", sort=False) if not rows.empty else []:
        runs = g.drop_duplicates(["sweep_cell", "seed"])
        flat = [is_flat(lv, dr) for lv, dr in
                zip(runs["train_loss_last"], runs["train_loss_drop"], strict=True)]
        out.append((exp, CONVERGED_B, "(precondition)", f"{sum(flat)} of {len(flat)} runs "
                    "flat", HELD if all(flat) else FAILED))
        out.append((exp, ENSEMBLE, "about +0.01 micro-F1 (Fig. 5)", *_compare(
            g, ("mfjle", None), ("resnet18", None), ("MF-JLE", "ResNet-18"), claim_words)))
        out.append((exp, BCE, "BCE ahead (Fig. 5)", *_compare(
            g, ("mfjle", None), ("mfjle_ce", None), ("BCE", "CE"), claim_words)))
        out.append((exp, LAMBDA, "0.01 best (Fig. 6)", *_lambda_claim(g)))
        out.append((exp, FITTED, "not in the paper", *_compare(
            g, ("mfjle", "fitted"), ("mfjle", None), ("fitted", "fixed"), ours_words)))
        out.append((exp, MIXED, "not in the paper", *_compare(
            g, ("mfjle_mixfeature", None), ("mfjle", None), ("with MixFeature", "without"),
            ours_words)))
    return pd.DataFrame(out, columns=columns)


def fitted_weights(rows: pd.DataFrame) -> pd.DataFrame:
    """The five local weights fitted on the validation part, per experiment and seed
    (rows of module ``fitted``), beside paper B's fixed 0.01."""
    weights = [c for c in rows if c.startswith("weight_")]
    g = rows[rows["module"] == "fitted"]
    return g[["experiment", "seed", *weights]].reset_index(drop=True) if not g.empty \
        else pd.DataFrame(columns=["experiment", "seed", *weights])

