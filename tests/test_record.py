"""Result files: what a notebook writes last, and what a sweep reads back."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from fer_utils.mixfeature.presets import PRESETS, preset
from fer_utils.runs.record import (
    RESULT_FILE,
    RunRecord,
    config_deviations,
    read_result,
)


def _record() -> RunRecord:
    record = RunRecord("04_training", {"epochs": 2, "seeds": (0, 1), "data_root": Path("/d"),
                                       "quick": True, "output_dir": None})
    record.add_config(preset="synthetic", images={"train": np.int64(280)})
    record.add_metrics(seed=np.int64(0), method="baseline", test_accuracy=np.float32(0.5),
                       test_kl=float("nan"), best_epoch=np.int64(2), val_loss=torch.tensor(0.25))
    record.add_metrics(seed=1, method="mixfeature", test_accuracy=0.75, test_kl=np.nan,
                       best_epoch=1, val_loss=0.5)
    return record


def test_a_record_round_trips_through_its_file(tmp_path: Path) -> None:
    path = _record().write(tmp_path / "cell")
    assert path == tmp_path / "cell" / RESULT_FILE
    data = read_result(path)
    assert data["notebook"] == "04_training"
    assert data["parameters"] == {"epochs": 2, "seeds": [0, 1], "data_root": "/d",
                                  "quick": True, "output_dir": None}
    assert data["config"] == {"preset": "synthetic", "images": {"train": 280}}
    assert data["metrics"] == [
        {"seed": 0, "method": "baseline", "test_accuracy": 0.5, "test_kl": None,
         "best_epoch": 2, "val_loss": 0.25},
        {"seed": 1, "method": "mixfeature", "test_accuracy": 0.75, "test_kl": None,
         "best_epoch": 1, "val_loss": 0.5},
    ]
    assert data["provenance"]["git_commit"] and data["duration_s"] >= 0
    # plain JSON: no NaN or Infinity tokens, which strict readers refuse
    json.loads(path.read_text(encoding="utf-8"), parse_constant=pytest.fail)


def test_the_parameters_table_shows_every_parameter() -> None:
    table = _record().parameters_table()
    assert list(table.index) == ["epochs", "seeds", "data_root", "quick", "output_dir"]
    assert table.loc["seeds", "value"] == "[0, 1]"
    assert table.loc["data_root", "value"] == "'/d'"


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"test_accuracy": "0.5"}, r"metric 'test_accuracy' must be a number.*got '0.5'"),
        ({"converged": True}, r"metric 'converged' must be a number"),
        ({"test_accuracy": [0.5, 0.6]}, r"metric 'test_accuracy' must be a number"),
        ({"method": 3.5, "weird": object()}, r"metrics.weird: cannot store a object"),
    ],
)
def test_a_metric_that_is_not_a_number_is_refused_by_name(values: dict, message: str) -> None:
    with pytest.raises(TypeError, match=message):
        RunRecord("01_data_exploration", {}).add_metrics(seed=0, **values)


def test_labels_may_be_strings() -> None:
    record = RunRecord("06_metrics", {})
    record.add_metrics(part="LDL example", checks=6, passed=6, max_abs_deviation=1e-15)
    assert record.metrics == [{"part": "LDL example", "checks": 6, "passed": 6,
                               "max_abs_deviation": 1e-15}]


def test_write_is_atomic_and_replaces_an_older_file(tmp_path: Path) -> None:
    record = _record()
    record.write(tmp_path)
    record.add_metrics(seed=2, method="baseline", test_accuracy=0.6)
    record.write(tmp_path)
    assert [p.name for p in tmp_path.iterdir()] == [RESULT_FILE]  # no temporary file left
    assert len(read_result(tmp_path / RESULT_FILE)["metrics"]) == 3


def test_a_failed_write_leaves_no_file(tmp_path: Path) -> None:
    record = _record()
    record.config["bad"] = math.inf  # bypasses add_config: json refuses it at write time
    with pytest.raises(ValueError):
        record.write(tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_nothing_is_written_without_an_output_dir(tmp_path: Path, monkeypatch) -> None:  # noqa: ANN001
    monkeypatch.chdir(tmp_path)
    assert _record().write(None) is None
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", r"not a readable result file"),
        ('{"format": 99, "notebook": "x"}', r"expected result format 1, found 99"),
        ("[1, 2]", r"expected result format 1, found 'list'"),
        ('{"format": 1, "notebook": "x", "parameters": {}}', r"lacks config, metrics, provenance"),
    ],
)
def test_read_result_refuses_a_bad_file_by_name(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "cell" / RESULT_FILE
    path.parent.mkdir()
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message) as info:
        read_result(path)
    assert str(path) in str(info.value)


def test_config_deviations_name_what_departs_from_the_preset() -> None:
    config = preset("synthetic", epochs=2, checkpoint_dir="/tmp/ck", mix_k=3)
    assert config_deviations(config, PRESETS["synthetic"]) == [("epochs", 2)]
    assert config_deviations(PRESETS["jaffe"], PRESETS["jaffe"]) == []
