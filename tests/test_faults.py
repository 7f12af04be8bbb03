"""Faults: unreadable checkpoints, missing devices, diverging runs, mistyped parameters,
interrupted results tables. Each error names what is wrong and what to do."""

from __future__ import annotations

import math
import multiprocessing as mp
from pathlib import Path

import pandas as pd
import pytest
import torch

from fer_utils.data import load_dataset
from fer_utils.mixfeature.presets import preset
from fer_utils.runs.results import update_results_table
from fer_utils.training.loop import TrainingDivergedError, train
from fer_utils.training.runtime import resolve_device


@pytest.fixture(scope="module")
def small() -> tuple:
    ds = load_dataset("synthetic", n=120, image_size=32, seed=0)
    return ds.subset(ds.split_indices("train")), ds.subset(ds.split_indices("val"))


def tiny(**overrides: object):
    base = {"image_size": 32, "epochs": 1, "batch_size": 32, "progress": False,
            "model_options": {"widths": [8, 8, 8]}, "precise_bn_images": 0}
    return preset("synthetic", **{**base, **overrides})


@pytest.mark.parametrize("content", [b"", b"not a checkpoint at all"])
def test_truncated_checkpoint_names_its_path_and_how_to_start_fresh(
    small: tuple, tmp_path: Path, content: bytes
) -> None:
    folder = tmp_path / "run"
    folder.mkdir()
    (folder / "checkpoint.pt").write_bytes(content)
    cfg = tiny(checkpoint_dir=str(tmp_path))
    with pytest.raises(ValueError, match=r"checkpoint\.pt cannot be read.*start this run fresh"):
        train(cfg, small[0], small[1], run_name="run")


def test_missing_device_lists_the_devices_there_are() -> None:
    missing = f"cuda:{torch.cuda.device_count() + 6}"
    with pytest.raises(ValueError, match=rf"{missing}.*not on this machine; available: cpu"):
        resolve_device(missing)
    assert resolve_device("cpu") == torch.device("cpu")


def test_a_diverging_run_stops_naming_the_epoch(
    small: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fer_utils.training.loop as loop

    real_step = loop.training_step
    calls = {"n": 0}
    per_epoch = math.ceil(len(small[0]) / 32)

    def diverging_step(*args: object, **kwargs: object) -> dict[str, float]:
        calls["n"] += 1
        parts = real_step(*args, **kwargs)
        # the first epoch trains normally, then the loss "explodes"
        return parts if calls["n"] <= per_epoch else {k: float("nan") for k in parts}

    monkeypatch.setattr(loop, "training_step", diverging_step)
    cfg = tiny(epochs=3, checkpoint_dir=str(tmp_path))
    with pytest.raises(TrainingDivergedError, match=r"became nan in epoch 2"):
        train(cfg, small[0], small[1], run_name="diverge")
    saved = torch.load(tmp_path / "diverge" / "checkpoint.pt", weights_only=True)
    assert saved["epoch"] == 1  # the diverged epoch never reached the checkpoint


def _add_rows(path: str, worker: int) -> None:
    for i in range(15):
        row = pd.DataFrame({"dataset": [f"w{worker}"], "seed": [i], "acc": [float(i)]})
        update_results_table(path, row, ["dataset", "seed"])


def test_concurrent_writers_keep_every_row(tmp_path: Path) -> None:
    path = str(tmp_path / "table.csv")
    ctx = mp.get_context("spawn")
    procs = [ctx.Process(target=_add_rows, args=(path, w)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
        assert p.exitcode == 0
    assert len(pd.read_csv(path)) == 60


def test_a_failed_write_leaves_the_old_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "table.csv"
    update_results_table(path, pd.DataFrame({"dataset": ["a"], "acc": [1.0]}), ["dataset"])
    before = path.read_bytes()

    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", full_disk)
    with pytest.raises(OSError, match="No space"):
        update_results_table(path, pd.DataFrame({"dataset": ["b"], "acc": [2.0]}), ["dataset"])
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.suffix == ".tmp"] == []


def test_a_table_of_another_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "table.csv"
    pd.DataFrame({"model": ["x"], "hamming_loss": [0.1], "coverage": [1.0]}).to_csv(
        path, index=False
    )
    rows = pd.DataFrame({"dataset": ["a"], "method": ["m"], "accuracy_mean": [1.0]})
    with pytest.raises(ValueError, match="another table"):
        update_results_table(path, rows, ["dataset", "method"])


def test_a_mistyped_notebook_parameter_is_refused_before_anything_runs(tmp_path: Path) -> None:
    from fer_utils.runs.notebooks import check_declared, list_notebooks, run_notebooks

    notebooks = [nb for nb in list_notebooks() if nb.name.startswith("02")]
    with pytest.raises(ValueError, match=r"epocs; they declare: .*quick.*seed"):
        check_declared(notebooks, {"epocs": 5})
    with pytest.raises(ValueError, match="epocs"):
        run_notebooks(tmp_path / "run", {"epocs": 5}, notebooks)
    assert not (tmp_path / "run").exists()  # refused before the run folder was made
    check_declared(notebooks, {"quick": True, "output_dir": "x"})  # declared: fine
