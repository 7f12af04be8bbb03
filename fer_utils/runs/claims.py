"""Paper A's claims about MixFeature, checked against the ablation tables.

Introduced in notebook 07 (ablations). :func:`check_claims` reads the summaries that
:func:`fer_utils.runs.ablations.write_tables` makes (Table 4, Table 5, Fig. 7) and gives
one row per claim and experiment: what the paper says, what our runs measured (numbers
in the sentence), and a verdict word computed from those numbers, so that the notebook's
summary never says more than its tables.
"""

from __future__ import annotations

import math

import pandas as pd

from fer_utils.published import FIG7_PEAKS, TABLE2_ACCURACY, TABLE5_P_VALUES
from fer_utils.runs.ablations import FIG7_KNOBS, KNOB_DEFAULTS

HELD, FAILED, OPEN = "held", "did not hold", "not measured yet"
BEST_METHOD = "MixFeature is the most accurate of the Table 4 methods"
SIGNIFICANT = "MixFeature is significantly better than each augmentation method"
#: Significance level of the Table 5 verdicts (after Holm's correction).
ALPHA = 0.05
CONVERGED = "every method's training loss is flat at the end (a fair comparison)"
K_PEAK = "the group size K matters, with a peak"
#: The group sizes of Fig. 7: the K claim is judged once all of them have run.
ALL_K: tuple[int, ...] = (KNOB_DEFAULTS["mix_k"], *FIG7_KNOBS["mix_k"])


def _fmt(value: float, std: float = math.nan) -> str:
    return f"{value:.2f}" if math.isnan(std) else f"{value:.2f} +- {std:.2f}"


def _best_method(t4: pd.DataFrame) -> list[dict[str, str]]:
    """Claim 1 (Table 4): MixFeature is the most accurate method, per experiment."""
    out = []
    needed = {"mixfeature", *TABLE5_P_VALUES}
    for exp, g in t4.groupby("experiment", sort=False):
        if "mixfeature" not in set(g["method"]) or len(g) < 2:
            continue
        missing = needed - set(g["method"])
        if missing:
            out.append({"experiment": exp, "claim": BEST_METHOD, "paper": "best on every "
                        "dataset", "ours": f"{len(needed) - len(missing)} of {len(needed)} "
                        f"methods run so far (missing: {', '.join(sorted(missing))})",
                        "verdict": OPEN})
            continue
        g = g.sort_values("accuracy_mean", ascending=False)
        mix = g[g["method"] == "mixfeature"].iloc[0]
        best = g.iloc[0]
        rank = int((g["accuracy_mean"] > mix["accuracy_mean"]).sum()) + 1
        ours = (f"MixFeature {_fmt(mix['accuracy_mean'], mix['accuracy_std_seeds'])} %, "
                f"rank {rank} of {len(g)}")
        if best["method"] != "mixfeature":
            ours += f"; best {best['method']} {_fmt(best['accuracy_mean'])} %"
        out.append({"experiment": exp, "claim": BEST_METHOD, "paper": "best on every dataset",
                    "ours": ours,
                    "verdict": HELD if rank == 1 else FAILED})
    return out


def _converged(t4: pd.DataFrame) -> list[dict[str, str]]:
    """The precondition of every comparison: each method's runs ended with a flat loss."""
    out = []
    for exp, g in t4.groupby("experiment", sort=False):
        steep = g[g["runs_flat"] < g["n_runs"]]
        ours = (f"{int(g['runs_flat'].sum())} of {int(g['n_runs'].sum())} runs flat; "
                f"largest drop over the last tenth of the epochs "
                f"{g['train_ce_drop_max'].max():.3f}")
        if len(steep):
            ours += "; still falling: " + ", ".join(
                f"{r.method} ({r.n_runs - r.runs_flat} runs)" for r in steep.itertuples())
        out.append({"experiment": exp, "claim": CONVERGED, "paper": "-", "ours": ours,
                    "verdict": HELD if steep.empty else FAILED})
    return out


def _beats_baseline(t5: pd.DataFrame) -> list[dict[str, str]]:
    """Claim 2 (Table 2): MixFeature is more accurate than the baseline, per experiment."""
    out = []
    for _, r in t5[t5["method"] == "baseline"].iterrows():
        paper = TABLE2_ACCURACY.get(r["dataset"])
        gain = f"+{paper['mixfeature'] - paper['baseline']:.2f} points" if paper else "-"
        p = r["p_corrected"] if not math.isnan(r["p_corrected"]) else r["p_paired_t"]
        ahead = r["mean_difference"] > 0
        significant = p < ALPHA
        ours = (f"{r['mean_difference']:+.2f} points (95% CI corrected "
                f"{r['ci_low_corrected']:+.2f} to {r['ci_high_corrected']:+.2f}), "
                f"corrected p = {p:.3g}, {int(r['n_pairs'])} paired runs")
        verdict = HELD if ahead and significant else FAILED
        if ahead and not significant:
            verdict = "ahead, not significant"
        out.append({"experiment": r["experiment"], "claim": "MixFeature beats the baseline",
                    "paper": gain, "ours": ours, "verdict": verdict})
    return out


def _significance(t5: pd.DataFrame) -> list[dict[str, str]]:
    """Claim 3 (Table 5): MixFeature beats every augmentation method, all p < 0.005."""
    out = []
    paper = "p = 0.0015 to 0.0031 (JAFFE, paired t-test)"
    for exp, g in t5.groupby("experiment", sort=False):
        g = g[g["method"].isin(list(TABLE5_P_VALUES))]
        if len(g) < len(TABLE5_P_VALUES):
            out.append({"experiment": exp, "claim": SIGNIFICANT, "paper": paper,
                        "ours": f"{len(g)} of {len(TABLE5_P_VALUES)} methods compared so far",
                        "verdict": OPEN})
            continue
        wins = g[(g["mean_difference"] > 0) & (g["p_corrected_holm"] < ALPHA)]
        plain = g[(g["mean_difference"] > 0) & (g["p_paired_t_holm"] < ALPHA)]
        ours = (f"significantly ahead of {len(wins)} of {len(g)} methods after the "
                f"corrected test and Holm (plain paired t-test: {len(plain)}); corrected p "
                f"from {g['p_corrected'].min():.3g} to {g['p_corrected'].max():.3g}")
        out.append({"experiment": exp, "claim": SIGNIFICANT, "paper": paper, "ours": ours,
                    "verdict": HELD if len(wins) == len(g) else FAILED})
    return out


def _best_k(f7: pd.DataFrame) -> list[dict[str, str]]:
    """Claim 4 (Fig. 7): the best group size K (3 on JAFFE, 5 on CK+, 3 on FER+), on the
    seeds every K has (:func:`fer_utils.runs.ablations.fig7`); "not measured yet" until
    every K of :data:`ALL_K` has run, and a verdict resting on one seed says so."""
    out = []
    ks = f7[f7["knob"] == "mix_k"]
    for exp, g in ks.groupby("experiment", sort=False):
        if len(g) < 2:
            continue
        g = g.assign(k=g["value"].astype(float).astype(int)).sort_values("k")
        peak = FIG7_PEAKS.get(g["dataset"].iloc[0])
        paper = "-" if peak is None else f"best K = {peak[0]} ({peak[1]} %)"
        missing = sorted(set(ALL_K) - set(g["k"]))
        if missing:
            out.append({"experiment": exp, "claim": K_PEAK, "paper": paper,
                        "ours": f"K = {', '.join(map(str, g['k']))} run so far (missing: "
                                f"{', '.join(map(str, missing))})", "verdict": OPEN})
            continue
        best = g.loc[g["accuracy_mean"].idxmax()]
        spread = g["accuracy_mean"].max() - g["accuracy_mean"].min()
        noise = g["accuracy_std_seeds"].max()
        seeds = str(best["seeds"]).split()
        folds = g["accuracy_std_runs"]
        on = (f"seed std up to {noise:.2f}" if len(seeds) > 1
              else f"one seed ({seeds[0]}), so no seed spread yet (std over its runs "
                   f"{folds.min():.2f} to {folds.max():.2f})")
        ours = (f"best K = {int(best['k'])} ({_fmt(best['accuracy_mean'])} %); K = "
                f"{g['k'].min()}..{g['k'].max()} span {spread:.2f} points, {on}")
        if peak is None:
            verdict = "no published peak"
        else:
            verdict = HELD if int(best["k"]) == peak[0] else FAILED
            if verdict == FAILED and not math.isnan(noise) and spread <= noise:
                verdict = "no K stands out (spread within seed noise)"
            elif len(seeds) == 1:
                verdict += " (one seed)"
        out.append({"experiment": exp, "claim": K_PEAK,
                    "paper": paper, "ours": ours, "verdict": verdict})
    return out


def check_claims(t4: pd.DataFrame, t5: pd.DataFrame, f7: pd.DataFrame) -> pd.DataFrame:
    """One row per claim of paper A and experiment: ``experiment``, ``claim``, ``paper``,
    ``ours`` (a sentence with our numbers) and ``verdict`` (:data:`HELD`, :data:`FAILED`,
    or a qualified word). Empty tables give no rows for their claims."""
    rows = []
    if not t4.empty:
        rows += _converged(t4) + _best_method(t4)
    if not t5.empty:
        rows += _beats_baseline(t5) + _significance(t5)
    if not f7.empty:
        rows += _best_k(f7)
    return pd.DataFrame(rows, columns=["experiment", "claim", "paper", "ours", "verdict"])
