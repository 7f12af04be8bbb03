"""Ablation figures: paper A's Table 4 as bars, Fig. 7 and the other knobs, mean curves.

Introduced in notebook 07 (ablations). Each function draws one of the committed tables
that :func:`fer_utils.runs.ablations.write_tables` writes, ours with its spread over seeds
and the paper's number beside it where it has one, and returns the ``Figure``.
"""

from __future__ import annotations

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from fer_utils.published import FIG7_PEAKS

KNOB_TITLES = {"mix_k": "group size K (Fig. 7)", "mix_lambda": "lambda (Eq. 8)",
               "mix_beta": "beta (Eq. 7)", "mix_primary": "primary emotion",
               "wheel_layout": "wheel layout"}


def table4_bars(t4: pd.DataFrame) -> Figure:
    """Accuracy per method, one panel per experiment: ours (mean, +-1 std over the seeds'
    means) as bars, paper A's Table 4 (or Table 2 for the baseline) as a black mark."""
    experiments = list(dict.fromkeys(t4["experiment"]))
    if not experiments:
        raise ValueError("the Table 4 table is empty")
    fig, axes = plt.subplots(1, len(experiments), figsize=(4.6 * len(experiments), 3.6),
                             squeeze=False, sharex=True)
    for ax, exp in zip(axes[0], experiments, strict=True):
        g = t4[t4["experiment"] == exp].reset_index(drop=True)
        y = np.arange(len(g))
        colors = ["tab:red" if m == "mixfeature" else "tab:blue" for m in g["method"]]
        ax.barh(y, g["accuracy_mean"], xerr=g["accuracy_std_seeds"].fillna(0), color=colors,
                alpha=0.8, capsize=2, label="ours")
        paper = g["paper_accuracy"]
        if paper.notna().any():
            ax.plot(paper, y, "k|", markersize=14, markeredgewidth=2, label="paper A")
        ax.set_yticks(y, g["method"])
        ax.invert_yaxis()
        ax.set_xlabel("test accuracy (%)")
        ax.set_title(f"{exp} ({g['seeds'].iloc[0]} seeds, {int(g['n_runs'].max())} runs)",
                     fontsize=9)
        ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return fig


def knob_panels(f7: pd.DataFrame, experiment: str) -> Figure:
    """MixFeature's accuracy against each knob of one experiment: K and lambda as lines
    with +-1 std over seeds (Fig. 7; the paper's peak marked), the other knobs as bars.
    Knobs run only at their default get no panel."""
    g = f7[f7["experiment"] == experiment]
    if g.empty:
        raise ValueError(f"no Fig. 7 rows for experiment {experiment!r}")
    counts = g.groupby("knob")["value"].nunique()
    knobs = [k for k in KNOB_TITLES if counts.get(k, 0) > 1]  # the default alone: no panel
    if not knobs:
        raise ValueError(f"no knob of experiment {experiment!r} was run at a second value")
    fig, axes = plt.subplots(1, len(knobs), figsize=(3.4 * len(knobs), 3.0), squeeze=False)
    dataset = g["dataset"].iloc[0]
    for ax, knob in zip(axes[0], knobs, strict=True):
        k = g[g["knob"] == knob]
        err = k["accuracy_std_seeds"].fillna(0)
        if knob in ("mix_k", "mix_lambda"):
            k = k.assign(x=k["value"].astype(float)).sort_values("x")
            ax.errorbar(k["x"], k["accuracy_mean"], yerr=err.loc[k.index], fmt="o-",
                        capsize=2, label="ours")
            if knob == "mix_k" and dataset in FIG7_PEAKS:
                best_k, acc = FIG7_PEAKS[dataset]
                ax.plot([best_k], [acc], "k*", markersize=10, label="paper's peak")
                ax.legend(fontsize=7)
        else:
            x = np.arange(len(k))
            ax.bar(x, k["accuracy_mean"], yerr=err, capsize=2,
                   color=["tab:red" if d else "tab:blue" for d in k["is_default"]])
            ax.set_xticks(x, k["value"], fontsize=8)
        low = (k["accuracy_mean"] - err.loc[k.index]).min()
        high = (k["accuracy_mean"] + err.loc[k.index]).max()
        if not (math.isnan(low) or math.isnan(high)):
            ax.set_ylim(max(0.0, low - 5), min(100.0, high + 5))
        ax.set_title(KNOB_TITLES[knob], fontsize=9)
        ax.set_ylabel("test accuracy (%)")
    fig.suptitle(f"{experiment}: MixFeature, one knob changed at a time (default in red "
                 "or on the line); mean +- std over seeds", fontsize=9)
    fig.tight_layout()
    return fig


def mean_curves(curves: pd.DataFrame, title: str) -> Figure:
    """Training cross-entropy and validation accuracy per epoch, mean +- std over runs, one
    line per method (from an experiment's ``_curves.csv``): the convergence check."""
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
    for ax, metric in zip(axes, ("train_ce", "val_accuracy"), strict=True):
        for method, c in curves.groupby("method", sort=False):
            mu, sd = c[f"{metric}_mean"], c[f"{metric}_std"].fillna(0)
            (line,) = ax.plot(c["epoch"], mu, label=method,
                              linewidth=2.2 if method == "mixfeature" else 1.0)
            ax.fill_between(c["epoch"], mu - sd, mu + sd, color=line.get_color(), alpha=0.12,
                            linewidth=0)
        ax.set_xlabel("epoch")
        ax.set_title({"train_ce": "training cross-entropy",
                      "val_accuracy": "validation accuracy"}[metric], fontsize=9)
    axes[0].legend(fontsize=7, ncol=2)
    fig.suptitle(f"{title}: mean +- std over runs (folds x seeds)", fontsize=9)
    fig.tight_layout()
    return fig
