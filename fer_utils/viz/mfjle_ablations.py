"""Paper B's ablation figures redrawn from our runs: Fig. 5 curves, Figs. 6 and 7 lambda plots.

Introduced in notebook 07 (ablations, paper B section). Each function draws one
experiment of the committed tables that
:func:`fer_utils.runs.mfjle_ablations.write_mfjle_tables` writes, with the spread over
seeds, and returns the ``Figure``.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from fer_utils.data.dataset import LANDMARK_NAMES
from fer_utils.runs.mfjle_ablations import FIG6_LAMBDAS, FIG7_LAMBDAS, PAPER_LAMBDA

#: Fig. 5's three models and their legend labels.
FIG5_VARIANTS = {"resnet18": "single ResNet-18", "mfjle": "MF-JLE, BCE",
                 "mfjle_ce": "MF-JLE, cross-entropy"}


def fig5_curves(curves: pd.DataFrame, experiment: str) -> Figure:
    """Paper B's Fig. 5 for one experiment: validation micro-F1 per epoch (left) and the
    training loss (right) of the single ResNet-18 and MF-JLE with BCE and with
    cross-entropy; mean over seeds, shaded +-1 std."""
    g = curves[(curves["experiment"] == experiment) & curves["variant"].isin(FIG5_VARIANTS)]
    if g.empty:
        raise ValueError(f"no Fig. 5 curves for experiment {experiment!r}")
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4))
    for variant, label in FIG5_VARIANTS.items():
        v = g[g["variant"] == variant]
        if v.empty:
            continue
        for ax, column in zip(axes, ("val_micro_f1", "train_loss"), strict=True):
            stat = v.groupby("epoch")[column].agg(["mean", "std", "count"])
            n = int(stat["count"].max())
            ax.plot(stat.index, stat["mean"], label=f"{label} ({n} seed{'s' * (n > 1)})")
            ax.fill_between(stat.index, stat["mean"] - stat["std"].fillna(0),
                            stat["mean"] + stat["std"].fillna(0), alpha=0.2)
    axes[0].set_ylabel("validation micro-F1")
    axes[1].set_ylabel("training loss (each model's own)")
    for ax in axes:
        ax.set_xlabel("epoch")
    axes[0].legend(fontsize=7)
    fig.suptitle(f"{experiment}: paper B's Fig. 5 redrawn", fontsize=10)
    fig.tight_layout()
    return fig


def _points(summary: pd.DataFrame, names: dict[str, float]
            ) -> tuple[list[float], list[float], list[float], list[int]]:
    """x, mean and std of micro-F1 and the number of seeds for the summary rows named in
    ``names`` (name -> x)."""
    xs, means, stds, ns = [], [], [], []
    for name, x in sorted(names.items(), key=lambda item: item[1]):
        r = summary[summary["name"] == name]
        if len(r):
            xs.append(x)
            means.append(float(r["micro_f1_mean"].iloc[0]))
            stds.append(float(np.nan_to_num(r["micro_f1_std"].iloc[0])))
            ns.append(int(r["n_runs"].iloc[0]))
    return xs, means, stds, ns


def _label_seeds(ax: Axes, xs: list[float], means: list[float], ns: list[int]) -> None:
    """Write each point's number of seeds beside it when the points differ in it."""
    if len(set(ns)) > 1:
        for x, m, n in zip(xs, means, ns, strict=True):
            ax.annotate(f"{n} seed{'s' if n > 1 else ''}", (x, m), fontsize=6,
                        xytext=(3, -9), textcoords="offset points")


def lambda_panels(summary: pd.DataFrame, experiment: str) -> Figure:
    """Paper B's Figs. 6 and 7 for one experiment: test micro-F1 against lambda for all
    five local modules (left) and against one module's lambda_j, the others at 0.01
    (right, one colour per landmark); mean and +-1 std over seeds. Solid: each lambda
    trained (paper B's ablation); dashed: the modules trained at 0.01 re-weighted with
    each lambda (``reweighted:`` rows, replication notes D28). Where the trained points
    rest on different numbers of seeds, each is labelled with its count."""
    s = summary[summary["experiment"] == experiment]
    if s.empty:
        raise ValueError(f"no MF-JLE ablation rows for experiment {experiment!r}")
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4), sharey=True)
    six = {"mfjle": PAPER_LAMBDA, **{f"lambda={v:g}": v for v in FIG6_LAMBDAS}}
    xs, means, stds, ns = _points(s, six)
    if len(xs) > 1:
        axes[0].errorbar(xs, means, yerr=stds, marker="o", capsize=3, label="trained")
        _label_seeds(axes[0], xs, means, ns)
    again = {"mfjle": PAPER_LAMBDA,
             **{f"mfjle/reweighted:lambda={v:g}": v for v in FIG6_LAMBDAS}}
    xs, means, stds, _ = _points(s, again)
    if len(xs) > 1:  # the modules trained at 0.01, scored with each lambda (D28)
        axes[0].errorbar(xs, means, yerr=stds, marker="s", ls="--", capsize=3,
                         label="re-weighted")
    axes[0].set_title("Fig. 6: all five lambda_i", fontsize=9)
    axes[0].set_xlabel("lambda_i (0: the global module alone)")
    axes[0].set_ylabel("test micro-F1")
    for i, name in enumerate(LANDMARK_NAMES):
        color = f"C{i}"
        one = {"mfjle": PAPER_LAMBDA, **{f"lambda_{name}={v:g}": v for v in FIG7_LAMBDAS}}
        xs, means, stds, ns = _points(s, one)
        if len(xs) > 1:
            axes[1].errorbar(xs, means, yerr=stds, marker="o", capsize=3, label=name,
                             color=color)
            _label_seeds(axes[1], xs, means, ns)
        again = {"mfjle": PAPER_LAMBDA,
                 **{f"mfjle/reweighted:lambda_{name}={v:g}": v for v in FIG7_LAMBDAS}}
        xs, means, _, _ = _points(s, again)
        if len(xs) > 1:
            axes[1].plot(xs, means, marker="s", ls="--", color=color,
                         label=f"{name}, re-weighted")
    axes[1].set_title("Fig. 7: one lambda_j, the others 0.01", fontsize=9)
    axes[1].set_xlabel("lambda_j")
    for ax in axes:
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=6)
    for ax in axes:
        ax.axvline(PAPER_LAMBDA, color="k", lw=0.8, ls=":")
    fig.tight_layout()
    return fig
