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
