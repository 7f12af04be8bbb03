"""The late level of a training curve and how much it still falls."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from fer_utils.training.convergence import late_change


def test_late_change_by_hand() -> None:
    history = pd.DataFrame({"train_ce": [5.0] * 16 + [2.0, 1.0, 0.6, 0.4]})  # 20 epochs
    last, drop = late_change(history)  # last 2 epochs: 0.5; the 2 before: 1.5
    assert last == pytest.approx(0.5) and drop == pytest.approx(1.0)
    flat = pd.DataFrame({"train_ce": [0.1] * 30})
    assert late_change(flat) == (pytest.approx(0.1), pytest.approx(0.0))


def test_late_change_with_too_few_epochs_and_bad_input() -> None:
    last, drop = late_change(pd.DataFrame({"train_ce": [0.7]}))
    assert last == 0.7 and math.isnan(drop)
    with pytest.raises(ValueError, match="share"):
        late_change(pd.DataFrame({"train_ce": [1.0, 2.0]}), share=0.9)
    with pytest.raises(ValueError, match="no rows"):
        late_change(pd.DataFrame({"train_ce": []}))


def test_is_flat_takes_an_absolute_or_a_relative_drop() -> None:
    from fer_utils.training.convergence import is_flat

    assert is_flat(0.23, 0.015)  # baseline-like: below the absolute 0.02
    assert not is_flat(0.23, 0.03)  # 0.03 >= 0.02 + 0.03 * 0.23 = 0.0269
    assert is_flat(1.42, 0.027)  # mixup-like: 0.027 < 0.02 + 0.03 * 1.42 = 0.0626
    assert not is_flat(1.0, 0.06)
    assert not is_flat(float("nan"), 0.0) and not is_flat(0.5, float("nan"))
