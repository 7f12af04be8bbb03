"""What every figure of the package shares: saving, face display, short class names.

Part of :mod:`fer_utils.viz` (introduced in notebook 01).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from fer_utils.data.dataset import ABBREVIATIONS


def save_figure(fig: Figure, output_dir: str | Path | None, name: str) -> Path | None:
    """Save ``fig`` as ``output_dir/name.png`` when ``output_dir`` is set; return the path."""
    if not output_dir:
        return None
    path = Path(output_dir) / f"{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110, bbox_inches="tight")
    return path


def show_face(ax: plt.Axes, image: torch.Tensor) -> None:
    """Draw one ``C x H x W`` uint8 image on ``ax`` without ticks."""
    arr = image.permute(1, 2, 0).numpy()
    if arr.shape[2] == 1:
        ax.imshow(arr[:, :, 0], cmap="gray", vmin=0, vmax=255)
    else:
        ax.imshow(arr)
    ax.set_xticks([])
    ax.set_yticks([])


def short_names(names: Sequence[str]) -> list[str]:
    """Class names as the paper's three-letter abbreviations where there is one."""
    return [ABBREVIATIONS.get(n, n) for n in names]
