"""MF-JLE's five local crops drawn on their faces, and the crops themselves.

Introduced in notebook 05 (MF-JLE ensemble).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from fer_utils.data.dataset import LANDMARK_NAMES
from fer_utils.viz.common import show_face
from fer_utils.viz.data import LANDMARK_COLOURS


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
    ``N x 5 x 2``; the boxes come from :func:`fer_utils.mfjle.crops.crop_boxes` with the same
    ``crop_fraction`` and ``face_width``. When ``found`` (bool ``N``, from
    :func:`fer_utils.mfjle.landmarks.detect_landmarks`) is given, faces whose landmarks are
    the fallback say so in their title and are drawn with dashed boxes.
    """
    from matplotlib.patches import Rectangle

    from fer_utils.mfjle.crops import crop_boxes

    count = min(n, images.shape[0])
    if count < 1:
        raise ValueError("crop_overlay needs at least one image")
    boxes = crop_boxes(
        landmarks[:count].cpu(), tuple(images.shape[2:]), crop_fraction,
        face_width[:count].cpu() if isinstance(face_width, torch.Tensor) else face_width,
    )
    fig, axes = plt.subplots(1, count, figsize=(2.2 * count, 2.6), squeeze=False)
    for i, ax in enumerate(axes[0]):
        show_face(ax, images[i].cpu())
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
    :func:`fer_utils.mfjle.crops.local_crops`, in 0..255 (uint8 or float; float values are
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
            show_face(ax, shown[i, k])
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
