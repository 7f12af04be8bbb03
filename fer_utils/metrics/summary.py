"""Summaries over runs: the one mean +- standard deviation formatter of the package.

Part of :mod:`fer_utils.metrics`. Every table that reports a number over several seeds or
folds formats it here, so "73.26 +- 3.91" means the same thing everywhere: the mean and
the sample standard deviation (ddof=1) over the runs. A single run has no spread; it
prints as ``"n/a"`` instead of a misleading ``+- 0.00``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np


def mean_and_std(values: Iterable[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1) of ``values``; std is ``nan`` for one value.

    Introduced in notebook 04 (every mean +- std over seeds). Missing values (``nan``) are
    ignored; no values at all give ``(nan, nan)``.
    """
    arr = np.asarray(list(values), dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return float("nan"), float("nan")
    std = float(arr.std(ddof=1)) if arr.size > 1 else float("nan")
    return float(arr.mean()), std


def format_mean_std(
    mean: float | None, std: float | None, digits: int = 2, scale: float = 1.0
) -> str:
    """``"mean +- std"`` from numbers already computed (e.g. read from a results table).

    Introduced in notebook 06. A missing or ``nan`` std prints as ``"n/a"`` (one run, or
    a table that records no spread); a missing mean prints as ``"n/a"`` alone.
    """
    if mean is None or np.isnan(mean):
        return "n/a"
    spread = "n/a" if std is None or np.isnan(std) else f"{std * scale:.{digits}f}"
    return f"{mean * scale:.{digits}f} +- {spread}"


def mean_std(values: Iterable[float], scale: float = 1.0, digits: int = 2) -> str:
    """``"mean +- std"`` of ``values`` times ``scale``, rounded to ``digits`` decimals.

    Introduced in notebook 04. ``scale=100`` turns accuracies into percent. One value
    prints as ``"73.33 +- n/a"``; no value as ``"n/a"``.
    """
    return format_mean_std(*mean_and_std(values), digits=digits, scale=scale)
