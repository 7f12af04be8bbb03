"""Figures of a dataset: face grids, landmarks, class shares, label histograms, matrices.

Introduced in notebook 01 (data exploration). Every function returns the matplotlib
``Figure``; :func:`fer_utils.viz.common.save_figure` writes it to disk.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from fer_utils.data.dataset import ABBREVIATIONS, LANDMARK_NAMES, FERDataset
from fer_utils.data.stats import cooccurrence_matrix
from fer_utils.metrics import entropy
from fer_utils.viz.common import show_face

LANDMARK_COLOURS = ("tab:red", "tab:orange", "tab:green", "tab:blue", "tab:purple")


def sample_grid(ds: FERDataset, per_class: int = 6, seed: int = 0) -> Figure:
    """A grid of random faces, one row per class (classes with no sample are skipped).

    Introduced in notebook 01.
    """
    rng = np.random.default_rng(seed)
    labels = ds.labels.numpy()
    rows = [k for k in range(ds.num_classes) if np.any(labels == k)]
    fig, axes = plt.subplots(
        len(rows), per_class, figsize=(1.3 * per_class, 1.4 * len(rows)), squeeze=False
    )
    for r, k in enumerate(rows):
        members = np.flatnonzero(labels == k)
        chosen = rng.choice(members, size=min(per_class, len(members)), replace=False)
        for c in range(per_class):
            ax = axes[r, c]
            if c < len(chosen):
                show_face(ax, ds.images[chosen[c]])
            else:
                ax.axis("off")
        axes[r, 0].set_ylabel(ds.classes[k], rotation=0, ha="right", va="center")
    fig.suptitle(f"{ds.name}: random faces per class")
    fig.tight_layout()
    return fig


def landmark_grid(ds: FERDataset, n: int = 8, seed: int = 0) -> Figure:
    """Random faces with their five landmarks drawn as coloured dots. Notebook 01."""
    if ds.landmarks is None:
        raise ValueError(f"{ds.name} has no landmarks; notebook 05 finds them with MTCNN")
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(ds), size=min(n, len(ds)), replace=False)
    fig, axes = plt.subplots(1, len(chosen), figsize=(2.0 * len(chosen), 2.3), squeeze=False)
    for ax, i in zip(axes[0], chosen, strict=True):
        show_face(ax, ds.images[i])
        pts = ds.landmarks[i].numpy()
        for (x, y), colour in zip(pts, LANDMARK_COLOURS, strict=True):
            ax.plot(x, y, "o", color=colour, markersize=4, markeredgecolor="white")
        ax.set_title(ds.classes[int(ds.labels[i])], fontsize=9)
    handles = [
        plt.Line2D([], [], marker="o", linestyle="", color=c, label=name)
        for name, c in zip(LANDMARK_NAMES, LANDMARK_COLOURS, strict=True)
    ]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def class_bars(ds: FERDataset, reference: dict[str, float] | None = None) -> Figure:
    """Bar chart of class shares (%), with a reference (e.g. the paper) beside them."""
    counts = np.array(list(ds.class_counts().values()), dtype=float)
    shares = 100 * counts / max(counts.sum(), 1)
    x = np.arange(ds.num_classes)
    fig, ax = plt.subplots(figsize=(7, 3))
    width = 0.4 if reference else 0.8
    ax.bar(x - (width / 2 if reference else 0), shares, width, label="this dataset")
    if reference:
        ref = [reference.get(c, np.nan) for c in ds.classes]
        ax.bar(x + width / 2, ref, width, label="paper Table 1", alpha=0.7)
        ax.legend()
    ax.set_xticks(x, [ABBREVIATIONS[c] for c in ds.classes])
    ax.set_ylabel("share of images (%)")
    ax.set_title(f"{ds.name}: class balance")
    fig.tight_layout()
    return fig


def distribution_histograms(ds: FERDataset) -> Figure:
    """How mixed the labels are: dominant probability, entropy, and the raw votes.

    Introduced in notebook 01. Needs ``ds.distributions``. When the dataset has
    ``votes``, a third panel shows annotator agreement (vote counts) or the spread of
    each column (mean ratings, as in JAFFE).
    """
    if ds.distributions is None:
        raise ValueError(f"{ds.name} has no label distributions")
    dist = ds.distributions.numpy()
    panels = 3 if ds.votes is not None else 2
    fig, axes = plt.subplots(1, panels, figsize=(4.2 * panels, 3))
    axes[0].hist(dist.max(axis=1), bins=20, range=(0, 1), color="tab:blue")
    axes[0].set_xlabel("probability of the top emotion")
    axes[0].set_ylabel("images")
    axes[1].hist(entropy(dist), bins=20, color="tab:green")
    axes[1].set_xlabel("entropy of the distribution (nats)")
    if ds.votes is not None:
        votes = ds.votes.numpy()
        names = ds.vote_names or tuple(f"v{i}" for i in range(votes.shape[1]))
        if np.allclose(votes, np.round(votes)):  # annotator counts: how many agree?
            top = votes.max(axis=1).astype(int)
            axes[2].bar(*np.unique(top, return_counts=True), color="tab:purple")
            axes[2].set_xlabel("votes for the most-voted label")
            axes[2].set_title(f"annotator agreement ({int(votes.sum(axis=1).max())} votes)")
        else:  # mean ratings: their spread per column
            axes[2].boxplot([votes[:, j] for j in range(votes.shape[1])])
            axes[2].set_xticks(
                range(1, len(names) + 1), [ABBREVIATIONS.get(n, n[:3]) for n in names]
            )
            axes[2].set_ylabel("mean rating")
            axes[2].set_title("ratings per emotion")
    fig.suptitle(f"{ds.name}: label distributions")
    fig.tight_layout()
    return fig


def matrix_heatmap(
    matrix: np.ndarray,
    labels: Sequence[str],
    title: str,
    fmt: str = "d",
    cmap: str = "Blues",
) -> Figure:
    """A labelled heat map of a square matrix with its values written in the cells."""
    fig, ax = plt.subplots(figsize=(0.7 * len(labels) + 2, 0.6 * len(labels) + 1.5))
    im = ax.imshow(matrix, cmap=cmap)
    ticks = [ABBREVIATIONS.get(n, n) for n in labels]
    ax.set_xticks(range(len(labels)), ticks, rotation=45)
    ax.set_yticks(range(len(labels)), ticks)
    threshold = matrix.max() / 2 if matrix.size else 0
    for i in range(matrix.shape[0]):
        for j in range(matrix.shape[1]):
            colour = "white" if matrix[i, j] > threshold else "black"
            ax.text(j, i, format(matrix[i, j], fmt), ha="center", va="center",
                    fontsize=7, color=colour)
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title)
    fig.tight_layout()
    return fig


def cooccurrence_heatmap(ds: FERDataset) -> Figure:
    """Heat map of how often two labels are present on the same image. Notebook 01."""
    if ds.multilabels is None:
        raise ValueError(f"{ds.name} has no multi-label annotation")
    return matrix_heatmap(
        cooccurrence_matrix(ds.multilabels), ds.classes, f"{ds.name}: label co-occurrence"
    )
