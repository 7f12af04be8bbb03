"""The experiment cell of the ablation sweeps: one method under one protocol, gathered by a
sweep into rows that the Table 5 statistics pair on fold and seed."""

from __future__ import annotations

from pathlib import Path

import pytest

from fer_utils.metrics import compare_methods
from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.grid import GridError
from fer_utils.runs.sweep import count_cells, sweep

PROTOCOL_RUN = REPO_ROOT / "notebooks" / "experiments" / "protocol_run.ipynb"


def test_a_method_sweep_gives_paired_rows_for_the_significance_tests(tmp_path: Path) -> None:
    table = sweep(PROTOCOL_RUN, {"method": ["baseline", "mixfeature", "cutmix"]}, tmp_path,
                  fixed={"quick": True, "protocol": "kfold_sample", "folds": 3},
                  workers=2, progress=False)
    assert count_cells(table) == {"ok": 3}
    assert len(table) == 9 and set(table.groupby("method").size()) == {3}  # 3 folds each
    assert (table["n_test"] > 0).all() and table["train_ce_last"].notna().all()
    for cell in table["cell"].unique():
        assert (tmp_path / "cells" / cell / "histories.csv").is_file()
    stats = compare_methods(table, reference="mixfeature", pair_on=("fold", "seed"),
                            n_train=float(table["n_train"].mean()),
                            n_test=float(table["n_test"].mean()))
    assert sorted(stats["method"]) == ["baseline", "cutmix"]
    assert (stats["n_pairs"] == 3).all() and stats["verdict"].str.len().gt(0).all()


def test_a_setting_the_training_configuration_refuses_stops_the_sweep_first(
    tmp_path: Path,
) -> None:
    with pytest.raises(GridError, match="training configuration refuses.*no_such_field"):
        sweep(PROTOCOL_RUN, {"overrides": [{"no_such_field": 1}]}, tmp_path,
              fixed={"quick": True}, progress=False)
    with pytest.raises(GridError, match="parameter protocol='kfold_by_face' is not one of"):
        sweep(PROTOCOL_RUN, {"protocol": ["kfold_by_face"]}, tmp_path, progress=False)
