"""Is it the wheel? Two controls of ours that paper A does not run.

Introduced in notebook 07 (section 6). MixFeature builds its soft targets from an emotion
wheel (paper A, Eqs. 4-6). If the wheel's structure is what helps, then

1. MixFeature with Plutchik's wheel should beat MixFeature with a *shuffled* wheel, whose
   neighbours are unrelated emotions (:func:`shuffled_wheel`, per experiment);
2. on the synthetic faces, MixFeature's gain over the baseline should be larger when the
   faces' secondary emotions follow the wheel (experiment ``synthetic_wheel``) than when
   they are drawn at random (``synthetic_random``; replication notes D25)
   (:func:`secondary_emotions`).

Both compare runs paired fold by fold and seed by seed, with the corrected resampled
t-test of Table 5 (:func:`fer_utils.metrics.compare_methods`). For one seed the two
synthetic experiments have the same dominant emotions and so the same folds (D25), which
is what lets their gains be paired.
"""

from __future__ import annotations

import pandas as pd

from fer_utils.metrics import compare_methods
from fer_utils.runs.ablations import GROUP, at_defaults
from fer_utils.runs.claims import ALPHA  # the significance level of every verdict

SHUFFLED = "Plutchik's wheel beats a shuffled wheel"
SECONDARY = "MixFeature gains more when secondary emotions follow the wheel"
COLUMNS = ["experiment", "control", "n_pairs", "seeds", "mean_difference", "ci_low_corrected",
           "ci_high_corrected", "p_corrected", "ours", "verdict"]


def _paired(runs: pd.DataFrame, by: str, reference: str, other: str) -> dict | None:
    """``reference`` minus ``other`` (accuracy points) on the (fold, seed) pairs both
    have, as one row of :func:`compare_methods`; ``None`` with fewer than two pairs."""
    runs = runs[runs[by].isin([reference, other])]
    keys = [set(zip(g["fold"], g["seed"], strict=True)) for _, g in runs.groupby(by)]
    if len(keys) < 2:
        return None
    common = keys[0] & keys[1]
    if len(common) < 2:
        return None
    runs = runs[[p in common for p in zip(runs["fold"], runs["seed"], strict=True)]]
    stats = compare_methods(runs.assign(test_accuracy=runs["test_accuracy"] * 100),
                            reference=reference, by=by, pair_on=("fold", "seed"),
                            n_train=float(runs["n_train"].mean()),
                            n_test=float(runs["n_test"].mean())).iloc[0].to_dict()
    stats["seeds"] = " ".join(map(str, sorted({s for _, s in common})))
    return stats


def _verdict(stats: dict) -> str:
    """'yes' (ahead and significant), 'ahead, not significant', or 'no' (not ahead)."""
    if stats["mean_difference"] <= 0:
        return "no"
    return "yes" if stats["p_corrected"] < ALPHA else "ahead, not significant"


def _row(experiment: str, control: str, stats: dict, ours: str) -> dict:
    return {"experiment": experiment, "control": control, "n_pairs": int(stats["n_pairs"]),
            "seeds": stats["seeds"], **{k: stats[k] for k in COLUMNS[4:8]},
            "ours": ours + (f" ({stats['mean_difference']:+.2f} points, 95% CI corrected "
                            f"{stats['ci_low_corrected']:+.2f} to "
                            f"{stats['ci_high_corrected']:+.2f}, corrected p = "
                            f"{stats['p_corrected']:.3g}, {int(stats['n_pairs'])} paired runs)"),
            "verdict": _verdict(stats)}


def shuffled_wheel(rows: pd.DataFrame) -> list[dict]:
    """Control 1, per experiment: MixFeature with Plutchik's wheel minus MixFeature with
    the shuffled wheel, all other knobs at their defaults (per-run ablation rows)."""
    out = []
    mix = at_defaults(rows[rows["method"] == "mixfeature"], free="wheel_layout")
    for key, g in mix.groupby(GROUP, sort=False):
        stats = _paired(g, "wheel_layout", "plutchik", "shuffled")
        if stats is not None:
            out.append(_row(key[0], SHUFFLED, stats, "Plutchik's wheel minus the shuffled wheel"))
    return out


def secondary_emotions(rows: pd.DataFrame, wheel: str = "synthetic_wheel",
                       random: str = "synthetic_random") -> list[dict]:
    """Control 2: MixFeature's gain over the baseline (per fold and seed, at the default
    knobs) on the ``wheel`` experiment minus its gain on the ``random`` one."""
    gains = []
    for name in (wheel, random):
        g = at_defaults(rows[rows["experiment"] == name])
        runs = {m: r.set_index(["fold", "seed"]) for m, r in g.groupby("method")}
        if not {"baseline", "mixfeature"} <= set(runs):
            return []
        gain = (runs["mixfeature"]["test_accuracy"] - runs["baseline"]["test_accuracy"]).dropna()
        sizes = runs["mixfeature"].loc[gain.index, ["n_train", "n_test"]]
        gains.append(pd.concat([gain.rename("test_accuracy"), sizes], axis=1)
                     .reset_index().assign(secondary=name))
    stats = _paired(pd.concat(gains, ignore_index=True), "secondary", wheel, random)
    if stats is None:
        return []
    return [_row(f"{wheel} vs {random}", SECONDARY, stats,
                 "MixFeature's gain over the baseline with wheel-shaped secondary emotions "
                 "minus its gain with random ones")]


def wheel_control(rows: pd.DataFrame) -> pd.DataFrame:
    """Both controls from the per-run ablation rows (``results/ablations/*.csv`` but the
    curves): one row per experiment and control with the paired statistics, a sentence
    with the numbers (``ours``) and a ``verdict`` computed from them ("yes", "ahead, not
    significant" or "no"). Controls whose runs are not made yet give no row."""
    if rows.empty:
        return pd.DataFrame(columns=COLUMNS)
    return pd.DataFrame(shuffled_wheel(rows) + secondary_emotions(rows), columns=COLUMNS)
