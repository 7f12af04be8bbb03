"""Has a run converged? The late level of a training curve and how much it still falls.

Used by the experiment cell of the ablation sweeps (``notebooks/experiments/
protocol_run``) and by ``scripts/probe_convergence.py``: a run counts as converged when
its training loss is flat over the last tenth of the epochs.
"""

from __future__ import annotations

import math

import pandas as pd


def late_change(
    history: pd.DataFrame, column: str = "train_ce", share: float = 0.1
) -> tuple[float, float]:
    """Mean of ``column`` over the last ``share`` of the epochs, and its drop from the mean
    over the same number of epochs just before (``nan`` with too few epochs).

    A drop near 0 means the curve has flattened; a positive drop that it is still falling.
    """
    if not 0.0 < share <= 0.5:
        raise ValueError(f"share must be in (0, 0.5], got {share}")
    values = history[column].to_numpy(dtype=float)
    if len(values) == 0:
        raise ValueError(f"history has no rows for {column!r}")
    n = max(1, int(len(values) * share))
    last = float(values[-n:].mean())
    before = float(values[-2 * n:-n].mean()) if len(values) >= 2 * n else math.nan
    return last, before - last


#: Tolerances of :func:`is_flat`: a drop below ``FLAT_ATOL`` or below ``FLAT_RTOL`` times
#: the late level counts as flat (replication notes D26). The relative part is for the
#: mixing methods, whose loss on mixed labels stays high and a little noisy.
FLAT_ATOL = 0.02
FLAT_RTOL = 0.03


def is_flat(level: float, drop: float, atol: float = FLAT_ATOL, rtol: float = FLAT_RTOL) -> bool:
    """Whether a curve with late mean ``level`` that still fell by ``drop`` (as returned by
    :func:`late_change`) has flattened: ``drop < atol + rtol * |level|``. ``nan`` is not flat.
    """
    if math.isnan(level) or math.isnan(drop):
        return False
    return drop < atol + rtol * abs(level)
