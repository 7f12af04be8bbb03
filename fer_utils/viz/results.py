"""Result figures: training curves, confusion matrices, per-class bars, multi-label tables.

Introduced in notebook 04 (paper A's Figs. 4 and 6) and used by
``scripts/run_table2.py`` for the committed results; notebook 05 and
``scripts/run_mfjle.py`` add :func:`multilabel_comparison` (paper B's Tables 1-2), so
that a notebook and the script draw the same picture from the same numbers. Every
function returns the matplotlib ``Figure``; :func:`fer_utils.viz.common.save_figure` writes
it to disk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from fer_utils.metrics import MULTILABEL_METRICS, per_class_from_confusion
from fer_utils.viz.common import short_names

#: The curves drawn by default: paper A's Fig. 6 (training and validation CE, validation KL).
CURVE_METRICS: tuple[str, ...] = ("train_ce", "val_ce", "val_kl")

#: Readable titles for the history columns of :class:`fer_utils.training.loop.TrainResult`.
METRIC_TITLES: dict[str, str] = {
    "train_ce": "training cross-entropy",
    "train_loss": "training loss",
    "train_kl": "training KL (mixed samples)",
    "val_ce": "validation cross-entropy",
    "val_kl": "validation KL(true || predicted)",
    "val_accuracy": "validation accuracy",
    "val_mean_class_accuracy": "validation mean class accuracy",
    "lr": "learning rate",
    "train_global": "training BCE, global module",
    "train_local": "training loss, local modules (weighted)",
    "val_loss": "validation BCE (ensemble score)",
    "val_hamming_loss": "validation Hamming loss",
    "val_average_precision": "validation average precision",
    "val_micro_f1": "validation micro-F1",
    "val_macro_f1": "validation macro-F1",
}


def _summed(matrix: np.ndarray | Sequence[np.ndarray]) -> np.ndarray:
    """One ``C x C`` count matrix: a single matrix as it is, a stack of them added up."""
    arr = np.asarray(matrix, dtype=float)
    if arr.ndim == 3:
        arr = arr.sum(axis=0)
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1]:
        raise ValueError(f"expected a square confusion matrix, got shape {arr.shape}")
    return arr


def _row_normalised(counts: np.ndarray) -> np.ndarray:
    """Each row divided by its sum, in percent (``nan`` for a class with no test image)."""
    totals = counts.sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(totals > 0, 100.0 * counts / totals, np.nan)


def training_curves(
    histories: pd.DataFrame,
    metrics: Sequence[str] = CURVE_METRICS,
    by: str = "method",
    title: str | None = None,
) -> Figure:
    """Mean learning curve per group (e.g. method) with a shaded band of +-1 std over runs.

    Introduced in notebook 04 (paper A's Fig. 6). ``histories`` holds the per-epoch
    histories of many runs stacked on top of each other, with an ``epoch`` column and a
    ``by`` column (the runs themselves may be told apart by ``run``/``seed`` columns; they
    are averaged over). One panel per metric; metrics that are missing or all ``nan``
    (e.g. ``val_kl`` on a dataset without true distributions) are skipped. The band is
    the standard deviation (ddof=1) over the runs at each epoch, so it is absent with a
    single run. ``title`` goes in front of the figure's heading.
    """
    shown = [
        m for m in metrics if m in histories.columns and histories[m].notna().any()
    ]
    if not shown:
        raise ValueError(f"none of the metrics {list(metrics)} has a value to draw")
    grouped = histories.groupby([by, "epoch"], sort=False)[shown]
    mean, std = grouped.mean(), grouped.std(ddof=1)
    fig, axes = plt.subplots(1, len(shown), figsize=(4.5 * len(shown), 3.2), squeeze=False)
    for ax, metric in zip(axes[0], shown, strict=True):
        for name in histories[by].drop_duplicates():
            mu = mean.loc[name, metric].sort_index()
            sd = std.loc[name, metric].reindex(mu.index)
            if mu.isna().all():
                continue
            (line,) = ax.plot(mu.index, mu.to_numpy(), "o-", markersize=3, label=str(name))
            ax.fill_between(
                mu.index, (mu - sd).to_numpy(), (mu + sd).to_numpy(),
                color=line.get_color(), alpha=0.2, linewidth=0,
            )
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_title(METRIC_TITLES.get(metric, metric), fontsize=10)
        ax.legend(fontsize=8)
    first = histories[histories["epoch"] == histories["epoch"].min()]
    runs = first.groupby(by, sort=False).size()
    heading = (
        "one run each"
        if runs.max() == 1
        else f"mean over runs (+-1 std shaded); runs per {by}: "
        + ", ".join(f"{k} {v}" for k, v in runs.items())
    )
    fig.suptitle(f"{title}: {heading}" if title else heading, fontsize=9)
    fig.tight_layout()
    return fig


def per_class_table(
    matrices: Mapping[str, np.ndarray | Sequence[np.ndarray]],
    classes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Per-class accuracy (%) of each method from its confusion counts summed over runs.

    Introduced in notebook 04 (paper A's Fig. 4). ``matrices`` maps a method to a
    ``C x C`` count matrix (rows = true class) or to a list of them, which are added up
    first, so a class counts by its test images, not by its runs. One column per method,
    one row per class (``classes``, else 0..C-1); ``nan`` for a class with no test image.
    """
    table = {
        method: 100.0 * per_class_from_confusion(_summed(m)) for method, m in matrices.items()
    }
    size = len(next(iter(table.values()))) if table else 0
    index = list(classes) if classes is not None else list(range(size))
    return pd.DataFrame(table, index=pd.Index(index, name="class"))


def confusion_pair(
    matrices: Mapping[str, np.ndarray | Sequence[np.ndarray]],
    classes: Sequence[str],
    title: str | None = None,
) -> Figure:
    """The row-normalised confusion matrices (%) of each method side by side.

    Introduced in notebook 04 (paper A's Fig. 4). ``matrices`` maps a method to its
    test confusion counts (rows = true class), or to a list of them that is added up.
    Each row is divided by its class's test images, so the diagonal is the per-class
    accuracy; the cells carry the numbers and the panel titles the overall accuracy. All
    panels share one colour scale (0-100 %). ``title`` (optional) heads the figure.
    """
    if not matrices:
        raise ValueError("confusion_pair needs at least one matrix")
    n, size = len(matrices), len(classes)
    side = 0.55 * size + 1.6
    fig, axes = plt.subplots(
        1, n, figsize=(side * n + 1.0, side), squeeze=False, layout="constrained"
    )
    ticks = short_names(classes)
    image = None
    for ax, (method, m) in zip(axes[0], matrices.items(), strict=True):
        counts = _summed(m)
        if counts.shape[0] != size:
            raise ValueError(f"{method}: matrix is {counts.shape}, but {size} classes given")
        pct = _row_normalised(counts)
        image = ax.imshow(np.nan_to_num(pct), cmap="Blues", vmin=0, vmax=100)
        for i in range(size):
            for j in range(size):
                text = "-" if np.isnan(pct[i, j]) else f"{pct[i, j]:.0f}"
                colour = "white" if np.nan_to_num(pct[i, j]) > 50 else "black"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
        ax.set_xticks(range(size), ticks, rotation=45)
        ax.set_yticks(range(size), ticks)
        ax.set_xlabel("predicted")
        accuracy = 100 * np.trace(counts) / counts.sum() if counts.sum() else np.nan
        ax.set_title(f"{method}: {accuracy:.1f} % of {counts.sum():.0f} test images",
                     fontsize=10)
    axes[0, 0].set_ylabel("true")
    fig.colorbar(image, ax=list(axes[0]), shrink=0.8, label="% of the true class")
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def per_class_bars(
    table: pd.DataFrame,
    reference: pd.Series | None = None,
    title: str | None = None,
) -> Figure:
    """Grouped bars of per-class accuracy (%), one bar per method (column of ``table``).

    Introduced in notebook 04. ``table`` is what :func:`per_class_accuracy` returns;
    ``reference`` (optional, indexed by class) is drawn as black ticks over the groups;
    ``title`` goes in front of the panel's title.
    """
    x = np.arange(len(table.index))
    width = 0.8 / max(len(table.columns), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 0.9 * len(x) + 2), 3.2))
    for k, method in enumerate(table.columns):
        offset = (k - (len(table.columns) - 1) / 2) * width
        ax.bar(x + offset, table[method].to_numpy(dtype=float), width, label=str(method))
    if reference is not None:
        ref = reference.reindex(table.index).to_numpy(dtype=float)
        ax.scatter(x, ref, marker="_", s=400, color="black", label="reference", zorder=3)
    ax.set_xticks(x, short_names([str(c) for c in table.index]))
    ax.set_ylim(0, 105)
    ax.set_ylabel("accuracy on the class (%)")
    heading = "per-class accuracy (test images of all runs)"
    ax.set_title(f"{title}: {heading}" if title else heading, fontsize=10)
    ax.legend(fontsize=8, ncol=len(table.columns) + (reference is not None))
    fig.tight_layout()
    return fig


def multilabel_comparison(
    ours: pd.DataFrame,
    paper: Mapping[str, Mapping[str, float]] | None = None,
    title: str | None = None,
) -> Figure:
    """Paper B's nine metrics, ours (mean +- std over runs) beside the paper's, per model.

    Introduced in notebook 05. ``ours`` has one row per model with a ``model`` column and
    ``<metric>_mean`` / ``<metric>_std`` columns for the names of
    :data:`fer_utils.metrics.MULTILABEL_METRICS` (the layout of ``results/mfjle.csv``);
    ``paper`` maps model -> metric -> value (:data:`fer_utils.published.MFJLE_TABLES`
    of one dataset) and is drawn as hollow bars. Each metric gets its own panel, because
    their scales differ (coverage counts labels); the panel title says which direction
    is better.
    """
    models = list(ours["model"])
    fig, axes = plt.subplots(1, len(MULTILABEL_METRICS), figsize=(2.0 * len(MULTILABEL_METRICS),
                                                                   3.2))
    x = np.arange(len(models))
    for ax, (name, better) in zip(axes, MULTILABEL_METRICS.items(), strict=True):
        mean = ours[f"{name}_mean"].to_numpy(float)
        std = ours[f"{name}_std"].to_numpy(float)
        ax.bar(x - 0.2, mean, 0.4, yerr=std, capsize=3, color="tab:blue", label="ours")
        if paper:
            ref = [paper.get(m, {}).get(name, np.nan) for m in models]
            ax.bar(x + 0.2, ref, 0.4, fill=False, edgecolor="tab:gray", hatch="//",
                   label="paper")
        ax.set_xticks(x, models, rotation=30, fontsize=8)
        ax.set_title(f"{name.replace('_', ' ')}\n({better} is better)", fontsize=8)
        ax.tick_params(axis="y", labelsize=7)
    axes[0].legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return fig


def multilabel_examples(
    images: np.ndarray | Sequence[np.ndarray],
    classes: Sequence[str],
    true: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    threshold: float = 0.5,
    n: int = 6,
) -> Figure:
    """Faces with their true label sets and each model's predicted set (paper B, Fig. 8).

    Introduced in notebook 05. ``images`` are ``N x C x H x W`` uint8 (gray or RGB),
    ``true`` the 0/1 matrix ``N x L``, ``predictions`` maps a model name to its
    probabilities ``N x L``; a label is predicted above ``threshold``. Under each face:
    the true set, then per model its set with a mark for an exact match.
    """
    count = min(n, len(true))
    if count < 1:
        raise ValueError("multilabel_examples needs at least one face")
    short = short_names(classes)
    fig, axes = plt.subplots(1, count, figsize=(2.4 * count, 3.4), squeeze=False)

    def names(row: np.ndarray) -> str:
        chosen = [short[k] for k in np.flatnonzero(row)]
        return ", ".join(chosen) if chosen else "(none)"

    for i, ax in enumerate(axes[0]):
        img = np.asarray(images[i])
        shown = img[0] if img.shape[0] == 1 else np.transpose(img, (1, 2, 0))
        ax.imshow(shown, cmap="gray" if img.shape[0] == 1 else None, vmin=0, vmax=255)
        ax.axis("off")
        lines = [f"true: {names(true[i])}"]
        for model, probs in predictions.items():
            pred = np.asarray(probs[i]) > threshold
            mark = "=" if np.array_equal(pred, true[i].astype(bool)) else "x"
            lines.append(f"{model}: {names(pred)} [{mark}]")
        ax.set_title("\n".join(lines), fontsize=7, loc="left")
    fig.tight_layout()
    return fig
