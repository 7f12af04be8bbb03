"""Notebook parameters: quick mode never overrides an explicit value; bad values are named."""

from __future__ import annotations

import pytest

from fer_utils.runs.params import (
    ParameterError,
    check_choice,
    check_flag,
    check_int,
    check_int_or,
    check_number,
    pick,
)


def test_pick_lets_an_explicit_value_win_over_quick_mode() -> None:
    assert pick(None, 15, 2, quick=False) == 15
    assert pick(None, 15, 2, quick=True) == 2
    assert pick(7, 15, 2, quick=True) == 7  # passed explicitly: quick does not override
    assert pick(0, 15, 2, quick=True) == 0  # 0 is a value, not "missing"
    assert pick(15, 15, 2, quick=True) == 15  # even the full default, passed, is kept
    assert pick("preset", 15, 2, quick=True) == "preset"  # a word is a value too


@pytest.mark.parametrize(
    ("check", "args", "message"),
    [
        (check_choice, ("layout", "circle", ("plutchik", "ring")), r"layout='circle'.*'plutchik'"),
        (check_int, ("epochs", 0, 1), r"epochs must be an integer >= 1, got 0"),
        (check_int, ("epochs", 2.5, 1), r"epochs must be an integer"),
        (check_int, ("epochs", True, 0), r"epochs must be an integer"),
        (check_int, ("k", 9, 2, 6), r"k must be an integer >= 2 and <= 6"),
        (check_int_or, ("epochs", "presets", 1, "preset"),
         r"epochs must be an integer >= 1 or 'preset', got 'presets'"),
        (check_int_or, ("epochs", None, 1, "preset"), r"epochs must be an integer"),
        (check_int_or, ("protocol_max_images", 50, 100, "all"), r"protocol_max_images"),
        (check_number, ("difficulty", 1.5, 0.0, 1.0), r"difficulty must be a number in"),
        (check_number, ("difficulty", float("nan"), 0.0, 1.0), r"difficulty"),
        (check_flag, ("quick", "yes"), r"quick must be True or False"),
    ],
)
def test_bad_values_name_the_parameter(check, args, message) -> None:  # noqa: ANN001
    with pytest.raises(ParameterError, match=message):
        check(*args)


def test_good_values_pass() -> None:
    check_choice("layout", "ring", ("plutchik", "ring"))
    check_int("epochs", 3, 1)
    check_int_or("epochs", 3, 1, "preset")
    check_int_or("epochs", "preset", 1, "preset")
    check_int_or("protocol_epochs", "same", 1, "preset", "same")
    check_number("difficulty", 0.5, 0.0, 1.0)
    check_flag("quick", False)
