"""Figures shared by the notebooks: face grids, landmarks, histograms, matrices.

Introduced in notebook 01. Every function returns the matplotlib ``Figure`` so that a
notebook can show it and, when it has an ``output_dir``, save it with :func:`save_figure`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.figure import Figure

from fer_utils.data.dataset import ABBREVIATIONS, LANDMARK_NAMES, FERDataset
from fer_utils.data.stats import cooccurrence_matrix, entropy

LANDMARK_COLOURS = ("tab:red", "tab:orange", "tab:green", "tab:blue", "tab:purple")


def _show_face(ax: plt.Axes, image: torch.Tensor) -> None:
    """Draw one ``C x H x W`` uint8 image on ``ax`` without ticks."""
    arr = image.permute(1, 2, 0).numpy()
    if arr.shape[2] == 1:
        ax.imshow(arr[:, :, 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(arr)
    ax.set_xticks([])
    ax.set_yticks([])


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
                _show_face(ax, ds.images[chosen[c]])
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
        _show_face(ax, ds.images[i])
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


def save_figure(fig: Figure, output_dir: str | Path | None, name: str) -> Path | None:
    """Save ``fig`` as ``output_dir/name.png`` when ``output_dir`` is set; return the path."""
    if not output_dir:
        return None
    path = Path(output_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def wheel_polar(
    positions: dict[str, float],
    title: str,
    period: float = 8.0,
    petals: Sequence[str] | None = None,
) -> Figure:
    """Emotions on a circle at their wheel positions (petal units), for notebook 02.

    ``positions`` comes from :func:`fer_utils.wheel.wheel_positions`; neutral is not on
    the circle (it sits at the same distance from every emotion) and is drawn at the
    centre. ``petals`` (e.g. Plutchik's eight) are written in grey at positions 0, 1, ...
    """
    fig = plt.figure(figsize=(4, 4))
    ax = fig.add_subplot(projection="polar")
    ax.set_theta_zero_location("N")
    ax.set_theta_direction(-1)
    for i, petal in enumerate(petals or ()):
        ax.annotate(petal, (2 * np.pi * i / period, 0.7), ha="center", va="center",
                    color="grey", fontsize=8, style="italic")
    for name, pos in positions.items():
        theta = 2 * np.pi * pos / period
        ax.plot(theta, 1.0, "o", markersize=10)
        ax.annotate(name, (theta, 1.0), xytext=(theta, 1.28), ha="center", va="center")
    ax.plot(0, 0, "ko")
    ax.annotate("neutral", (0, 0), xytext=(0.0, 0.25), ha="center")
    ax.set_ylim(0, 1.45)
    ax.set_yticks([])
    ax.set_xticks(2 * np.pi * np.arange(period) / period, [""] * int(period))
    ax.set_title(title, pad=18)
    fig.tight_layout()
    return fig


def crop_overlay(
    images: torch.Tensor,
    landmarks: torch.Tensor,
    crop_fraction: float = 0.25,
    n: int = 6,
    face_width: str | float | torch.Tensor = "image",
    found: torch.Tensor | None = None,
    titles: Sequence[str] | None = None,
) -> Figure:
    """The first ``n`` faces with their five landmarks and the square each crop covers.

    Introduced in notebook 05. ``images`` is ``N x C x H x W`` uint8, ``landmarks``
    ``N x 5 x 2``; the boxes come from :func:`fer_utils.crops.crop_boxes` with the same
    ``crop_fraction`` and ``face_width``. When ``found`` (bool ``N``, from
    :func:`fer_utils.landmarks.detect_landmarks`) is given, faces whose landmarks are
    the fallback say so in their title and are drawn with dashed boxes.
    """
    from matplotlib.patches import Rectangle

    from fer_utils.crops import crop_boxes

    count = min(n, images.shape[0])
    if count < 1:
        raise ValueError("crop_overlay needs at least one image")
    boxes = crop_boxes(
        landmarks[:count].cpu(), tuple(images.shape[2:]), crop_fraction,
        face_width[:count].cpu() if isinstance(face_width, torch.Tensor) else face_width,
    )
    fig, axes = plt.subplots(1, count, figsize=(2.2 * count, 2.6), squeeze=False)
    for i, ax in enumerate(axes[0]):
        _show_face(ax, images[i].cpu())
        missed = found is not None and not bool(found[i])
        for (x, y), (x0, y0, x1, y1), colour in zip(
            landmarks[i].cpu().tolist(), boxes[i].tolist(), LANDMARK_COLOURS, strict=True
        ):
            ax.add_patch(Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False, edgecolor=colour,
                                   linewidth=1.2, linestyle="--" if missed else "-"))
            ax.plot(x, y, "o", color=colour, markersize=3, markeredgecolor="white")
        ax.set_xlim(-0.5, images.shape[3] - 0.5)
        ax.set_ylim(images.shape[2] - 0.5, -0.5)
        title = titles[i] if titles is not None else f"#{i}"
        ax.set_title(title + (" (fallback)" if missed else ""), fontsize=8)
    handles = [
        plt.Line2D([], [], marker="s", linestyle="", markerfacecolor="none", color=c, label=name)
        for name, c in zip(LANDMARK_NAMES, LANDMARK_COLOURS, strict=True)
    ]
    fig.legend(handles=handles, loc="lower center", ncol=5, fontsize=8, frameon=False)
    width_name = {"image": "image width", "landmarks": "face width (from the eyes)"}.get(
        face_width if isinstance(face_width, str) else "", "face width"
    )
    fig.suptitle(f"local crops: {crop_fraction:g} x {width_name} around each landmark",
                 fontsize=10)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig


def crop_strip(crops: torch.Tensor, n: int = 4, titles: Sequence[str] | None = None) -> Figure:
    """The five local crops of the first ``n`` faces: one row per face, one column per landmark.

    Introduced in notebook 05. ``crops`` is ``N x 5 x C x S x S`` from
    :func:`fer_utils.crops.local_crops`, in 0..255 (uint8 or float; float values are
    clipped to 0..255 for display). ``titles`` label the rows.
    """
    if crops.ndim != 5 or crops.shape[1] != len(LANDMARK_NAMES):
        raise ValueError(f"crops must be N x 5 x C x S x S, got {tuple(crops.shape)}")
    count = min(n, crops.shape[0])
    if count < 1:
        raise ValueError("crop_strip needs at least one face")
    shown = crops[:count].detach().cpu().float().clamp(0, 255).round().to(torch.uint8)
    fig, axes = plt.subplots(
        count, len(LANDMARK_NAMES), figsize=(1.5 * len(LANDMARK_NAMES), 1.55 * count + 0.3),
        squeeze=False,
    )
    for i in range(count):
        for k, name in enumerate(LANDMARK_NAMES):
            ax = axes[i, k]
            _show_face(ax, shown[i, k])
            for spine in ax.spines.values():
                spine.set_edgecolor(LANDMARK_COLOURS[k])
                spine.set_linewidth(2)
            if i == 0:
                ax.set_title(name.replace("_", " "), fontsize=8)
        label = titles[i] if titles is not None else f"#{i}"
        axes[i, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=8)
    fig.suptitle(f"the five local crops ({crops.shape[-1]} x {crops.shape[-1]} pixels)",
                 fontsize=10)
    fig.tight_layout()
    return fig
