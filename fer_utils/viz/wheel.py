"""The emotion wheel drawn as a polar plot.

Introduced in notebook 02 (emotion wheel).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure


def wheel_polar(
    positions: dict[str, float],
    title: str,
    period: float = 8.0,
    petals: Sequence[str] | None = None,
) -> Figure:
    """Emotions on a circle at their wheel positions (petal units), for notebook 02.

    ``positions`` comes from :func:`fer_utils.mixfeature.wheel.wheel_positions`; neutral is not on
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
