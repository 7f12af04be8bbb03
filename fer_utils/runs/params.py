"""Notebook parameters: checked in the first code cell, quick mode never overriding them.

Every notebook's ``parameters`` cell holds plain assignments that papermill (``make run``,
a sweep) or a student may change. The first code cell after it calls these helpers, so a
mistyped value stops the notebook at once with a message naming the parameter and what
it accepts, instead of failing deep inside a loop or printing an empty table:

* :func:`pick` resolves a parameter left at ``None`` to its full or quick-mode default,
  so ``quick=True`` never overrides a value that was passed explicitly. ``None`` always
  means "the notebook's default"; a parameter that can also take a preset's value says so
  with a word (``epochs = "preset"``), never with ``None``;
* :func:`check_choice`, :func:`check_int`, :func:`check_int_or`, :func:`check_number`,
  :func:`check_flag`, :func:`check_seeds` and :func:`check_folder` validate one value each.

The values a run uses are then shown and recorded by
:class:`fer_utils.runs.record.RunRecord`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

T = TypeVar("T")


class ParameterError(ValueError):
    """A notebook parameter with a value the notebook cannot use."""


def pick(value: T | None, full: T, quick_value: T, quick: bool) -> T:
    """``value`` when given, else the quick-mode or full default.

    Introduced in notebook 01. A parameter cell says ``epochs = None  # None: 15, quick 2``;
    the notebook then runs ``epochs = pick(epochs, 15, 2, quick)``. An explicit value wins
    over quick mode.
    """
    if value is not None:
        return value
    return quick_value if quick else full


def check_choice(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Refuse ``value`` unless it is one of ``allowed``. Introduced in notebook 01."""
    if value not in allowed:
        choices = ", ".join(repr(a) for a in allowed)
        raise ParameterError(f"parameter {name}={value!r} is not one of {choices}")


def check_int(name: str, value: Any, minimum: int, maximum: int | None = None) -> None:
    """Refuse anything but an integer in ``[minimum, maximum]``. Introduced in notebook 01."""
    ok = isinstance(value, int | np.integer) and not isinstance(value, bool)
    ok = ok and value >= minimum and (maximum is None or value <= maximum)
    if not ok:
        upper = "" if maximum is None else f" and <= {maximum}"
        raise ParameterError(f"parameter {name} must be an integer >= {minimum}{upper}, "
                             f"got {value!r}")


def check_int_or(name: str, value: Any, minimum: int, *words: str) -> None:
    """Refuse anything but one of the strings ``words`` or an integer >= ``minimum``.

    Introduced in notebook 04, for parameters such as ``epochs``, which take a number or
    ``"preset"`` (the preset's value).
    """
    if isinstance(value, str) and value in words:
        return
    try:
        check_int(name, value, minimum)
    except ParameterError:
        either = " or ".join(repr(w) for w in words)
        raise ParameterError(
            f"parameter {name} must be an integer >= {minimum} or {either}, got {value!r}"
        ) from None


def check_number(name: str, value: Any, low: float, high: float) -> None:
    """Refuse anything but a finite number in ``[low, high]``. Introduced in notebook 01."""
    ok = isinstance(value, int | float | np.number) and not isinstance(value, bool)
    if not ok or not math.isfinite(value) or not low <= value <= high:
        raise ParameterError(f"parameter {name} must be a number in [{low}, {high}], "
                             f"got {value!r}")


def check_flag(name: str, value: Any) -> None:
    """Refuse anything but ``True`` or ``False``. Introduced in notebook 01."""
    if not isinstance(value, bool):
        raise ParameterError(f"parameter {name} must be True or False, got {value!r}")


def check_seeds(name: str, value: Any) -> None:
    """Refuse anything but a non-empty list of distinct integers >= 0.

    Introduced in notebook 04.
    """
    if not isinstance(value, list | tuple) or not value:
        raise ParameterError(f"parameter {name} must be a non-empty list, got {value!r}")
    for i, seed in enumerate(value):
        check_int(f"{name}[{i}]", seed, 0)
    if len(set(value)) != len(value):
        raise ParameterError(f"parameter {name} must not repeat a seed, got {value!r}")


def check_folder(name: str, value: Any) -> None:
    """Refuse anything but ``None`` or a folder path given as a str.

    Introduced in notebook 01.
    """
    if value is not None and not isinstance(value, str):
        raise ParameterError(f"parameter {name} must be None or a folder (a str), got {value!r}")


def check_subset(name: str, value: Any, allowed: Sequence[Any]) -> None:
    """Refuse anything but a non-empty list of distinct entries of ``allowed``.

    Introduced in notebook 04 (``methods``).
    """
    if not isinstance(value, list | tuple) or not value or len(set(value)) != len(value):
        raise ParameterError(f"parameter {name} must be a non-empty list without repeats, "
                             f"got {value!r}")
    for item in value:
        check_choice(f"{name} entry", item, allowed)
