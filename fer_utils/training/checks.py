"""Field checks of :class:`fer_utils.training.config.TrainConfig`: one error message style.

A bad value raises ``ValueError("TrainConfig.<field> must be <what it accepts>, got <value>")``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np


def fail(name: str, expected: str, value: Any) -> None:
    """Raise the error of a bad ``TrainConfig`` field."""
    raise ValueError(f"TrainConfig.{name} must be {expected}, got {value!r}")


def check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    """Refuse ``value`` unless it is one of ``choices``."""
    if value not in choices:
        fail(name, "one of " + ", ".join(repr(c) for c in choices), value)


def check_int(name: str, value: Any, minimum: int) -> None:
    """Refuse anything but an integer >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        fail(name, f"an integer >= {minimum}", value)


def check_number(name: str, value: Any, low: float, high: float, open_low: bool) -> None:
    """Refuse anything but a finite number in ``(low, high]`` or ``[low, high]``."""
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.floating)
    ok = ok and math.isfinite(value) and value <= high
    ok = ok and (value > low if open_low else value >= low)
    if not ok:
        bracket = "(" if open_low else "["
        fail(name, f"a number in {bracket}{low}, {high}]", value)


