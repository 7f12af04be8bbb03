"""Training, checkpoints, presets, protocols and the single-label metrics.

Everything runs on tiny synthetic data (200 images of 32x32) with a tiny cnn3, on one
CPU thread, so the whole module takes seconds.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from fer_utils import metrics
from fer_utils.augment import match_channels
from fer_utils.data import FERDataset, load_dataset
from fer_utils.mixfeature.presets import PRESETS, preset
from fer_utils.models import build_model
from fer_utils.protocols import (
    carve_validation,
    holdout_indices,
    holdout_protocol,
    kfold_protocol,
    official_split_protocol,
    pick_groups,
)
from fer_utils.training.config import TrainConfig
from fer_utils.training.data import batch_indices, prepare_data
from fer_utils.training.evaluate import predict_proba
from fer_utils.training.loop import HISTORY_COLUMNS, TrainResult, selection_key, train
from fer_utils.training.optim import lr_factor
from fer_utils.training.precise_bn import recompute_bn_stats
from fer_utils.training.runtime import (
    epoch_generators,
    make_context,
    resolve_amp,
    resolve_channels_last,
)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data() -> FERDataset:
    return load_dataset("synthetic", n=200, image_size=32)


@pytest.fixture(scope="module")
def parts(data: FERDataset) -> tuple[FERDataset, FERDataset, FERDataset]:
    return tuple(data.subset(data.split_indices(s)) for s in ("train", "val", "test"))


def tiny(**overrides: object) -> TrainConfig:
    """A config that trains in well under a second per epoch."""
    base = {
        "image_size": 32,
        "epochs": 3,
        "batch_size": 32,
        "lr": 0.05,
        "model_options": {"widths": [8, 16, 16]},
        "progress": False,
    }
    base.update(overrides)
    return preset("synthetic", **base)


def _same_numbers(a: TrainResult, b: TrainResult) -> None:
    cols = [c for c in HISTORY_COLUMNS if c != "seconds"]
    assert a.history[cols].equals(b.history[cols])
    assert a.best_epoch == b.best_epoch
    assert np.array_equal(a.test_probabilities, b.test_probabilities)
    assert a.test_metrics["accuracy"] == b.test_metrics["accuracy"]
    sa, sb = a.model.state_dict(), b.model.state_dict()
    assert all(torch.equal(sa[k], sb[k]) for k in sa)


# ---------------------------------------------------------------------------------------
# train()
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def reference(parts: tuple[FERDataset, ...]) -> TrainResult:
    """One uninterrupted 3-epoch MixFeature run, compared against by several tests."""
    return train(tiny(method="mixfeature"), *parts)


def test_result_contents(reference: TrainResult, parts: tuple[FERDataset, ...]) -> None:
    r = reference
    assert list(r.history.columns) == list(HISTORY_COLUMNS)
    assert r.history["epoch"].tolist() == [1, 2, 3]
    assert r.history[["train_ce", "train_kl", "val_ce", "val_kl"]].notna().all().all()
    assert 1 <= r.best_epoch <= 3 and r.selected_by == "val_accuracy"
    n_test, k = len(parts[2]), parts[2].num_classes
    assert r.test_probabilities.shape == (n_test, k)
    np.testing.assert_allclose(r.test_probabilities.sum(1), 1.0)
    assert r.test_metrics["confusion_matrix"].sum() == n_test
    assert {"accuracy", "mean_class_accuracy", "kl", "ce"} <= set(r.test_metrics)
    assert next(r.model.parameters()).device.type == "cpu" and not r.model.training
    assert {"git_commit", "device", "torch", "train_device", "amp"} <= set(r.provenance)
    assert r.duration_s > 0 and r.resumed_from_epoch == 0


def test_same_seed_same_numbers_other_seed_differs(
    reference: TrainResult, parts: tuple[FERDataset, ...]
) -> None:
    again = train(tiny(method="mixfeature"), *parts)
    _same_numbers(reference, again)
    other = train(tiny(method="mixfeature", seed=1), *parts)
    assert not np.array_equal(reference.test_probabilities, other.test_probabilities)
    assert not reference.history["train_loss"].equals(other.history["train_loss"])


class Killed(RuntimeError):
    """Stands in for a crash between epochs."""


def _kill_after(epoch: int) -> Callable[[int, dict[str, float]], None]:
    def callback(done: int, row: dict[str, float]) -> None:
        if done == epoch:
            raise Killed(f"killed after epoch {done}")

    return callback


def test_resume_after_kill_is_identical(
    reference: TrainResult, parts: tuple[FERDataset, ...], tmp_path: Path
) -> None:
    cfg = tiny(method="mixfeature", checkpoint_dir=str(tmp_path))
    with pytest.raises(Killed):
        train(cfg, *parts, run_name="run", callbacks=[_kill_after(1)])
    run_dir = tmp_path / "run"
    assert (run_dir / "checkpoint.pt").exists() and (run_dir / "config.json").exists()
    assert not list(run_dir.glob("*.tmp"))
    resumed = train(cfg, *parts, run_name="run")
    assert resumed.resumed_from_epoch == 1
    _same_numbers(reference, resumed)
    # a finished run loads without training again, with the same numbers
    finished = train(cfg, *parts, run_name="run")
    assert finished.resumed_from_epoch == 3
    _same_numbers(reference, finished)


def test_checkpoint_of_other_config_or_data_refused(
    parts: tuple[FERDataset, ...], tmp_path: Path
) -> None:
    cfg = tiny(epochs=1, checkpoint_dir=str(tmp_path))
    train(cfg, *parts, run_name="run")
    with pytest.raises(ValueError, match="different configuration.*lr"):
        train(tiny(epochs=1, lr=0.02, checkpoint_dir=str(tmp_path)), *parts, run_name="run")
    with pytest.raises(ValueError, match="different data"):
        train(cfg, parts[1], parts[0], parts[2], run_name="run")
    # fields that do not change the numbers do not block resuming
    train(tiny(epochs=1, checkpoint_dir=str(tmp_path), progress=True), *parts, run_name="run")


def test_default_run_name_is_derived_from_config(
    parts: tuple[FERDataset, ...], tmp_path: Path
) -> None:
    r = train(tiny(epochs=1, checkpoint_dir=tmp_path), *parts)
    assert r.run_name is not None and r.run_name.startswith("cnn3_baseline_seed0_")
    assert (tmp_path / r.run_name / "history.csv").exists()


def test_selection_uses_validation_only(
    reference: TrainResult, parts: tuple[FERDataset, ...]
) -> None:
    train_set, val_set, test_set = parts
    g = torch.Generator().manual_seed(0)
    shuffled = test_set.subset(torch.randperm(len(test_set), generator=g))
    shuffled.labels = shuffled.labels[torch.randperm(len(test_set), generator=g)]
    other = train(tiny(method="mixfeature"), train_set, val_set, shuffled)
    assert other.best_epoch == reference.best_epoch
    cols = [c for c in HISTORY_COLUMNS if c != "seconds"]
    assert other.history[cols].equals(reference.history[cols])


def test_selection_follows_val_metric(reference: TrainResult) -> None:
    h = reference.history
    keys = [selection_key(row, "val_accuracy") for row in h.to_dict("records")]
    assert reference.best_epoch == 1 + int(np.argmax([k[0] for k in keys])) or (
        keys[reference.best_epoch - 1] == max(keys)
    )
    # ties on the metric go to the lower validation cross-entropy
    a = {"val_accuracy": 0.5, "val_ce": 1.0}
    b = {"val_accuracy": 0.5, "val_ce": 0.9}
    assert selection_key(b, "val_accuracy") > selection_key(a, "val_accuracy")
    assert selection_key({"val_ce": 0.5}, "val_ce") > selection_key({"val_ce": 0.6}, "val_ce")
    nan = {"val_accuracy": math.nan, "val_ce": math.nan}
    assert selection_key(a, "val_accuracy") > selection_key(nan, "val_accuracy")


def test_without_validation_the_last_epoch_is_kept(parts: tuple[FERDataset, ...]) -> None:
    r = train(tiny(epochs=2), parts[0], None, parts[2])
    assert r.best_epoch == 2 and "no validation set" in r.selected_by
    assert r.history["val_accuracy"].isna().all()
    r = train(tiny(epochs=1), parts[0], None, None)
    assert r.test_metrics is None and r.test_probabilities is None


@pytest.mark.parametrize("method", ["baseline", "mixfeature"])
def test_both_methods_reduce_the_loss(method: str, parts: tuple[FERDataset, ...]) -> None:
    cfg = tiny(method=method, epochs=6, augment="none", lr=0.05, batch_size=16)
    h = train(cfg, parts[0], parts[1]).history
    assert h["train_loss"].iloc[-1] < h["train_loss"].iloc[0]
    assert h["train_ce"].iloc[-1] < h["train_ce"].iloc[0]
    if method == "mixfeature":
        assert (h["train_kl"] > 0).all()
    else:
        assert h["train_kl"].isna().all()


def test_rgb_input_and_fp32(parts: tuple[FERDataset, ...]) -> None:
    r = train(tiny(epochs=1, in_channels=3, amp="off", augment="ferplus"), *parts)
    assert r.model.backbone[0][0].in_channels == 3
    assert r.provenance["amp"] == "float32" and r.provenance["channels_last"] is False


def test_predict_proba_matches_test_probabilities(
    reference: TrainResult, parts: tuple[FERDataset, ...]
) -> None:
    probs = predict_proba(reference.model, parts[2], reference.config)
    np.testing.assert_array_equal(probs, reference.test_probabilities)


def test_recompute_bn_stats_gives_exact_averages(parts: tuple[FERDataset, ...]) -> None:
    cfg = tiny(amp="off", batch_size=len(parts[1]))
    ctx = make_context(cfg, parts[1].classes)
    data = prepare_data(parts[1], cfg, ctx.device)
    torch.manual_seed(0)
    model = build_model("cnn3", 8, widths=(8, 16, 16))
    bn = model.backbone[0][1]
    recompute_bn_stats(model, data, ctx, 0, torch.Generator().manual_seed(0))
    assert torch.equal(bn.running_mean, torch.zeros(8))  # 0 images: untouched
    recompute_bn_stats(model, data, ctx, 10_000, torch.Generator().manual_seed(0))
    with torch.no_grad():
        conv = model.backbone[0][0](data.images.float() / 255)
    torch.testing.assert_close(bn.running_mean, conv.mean(dim=(0, 2, 3)))
    torch.testing.assert_close(bn.running_var, conv.transpose(0, 1).flatten(1).var(dim=1))
    assert bn.momentum == 0.1


def test_match_channels() -> None:
    gray = torch.randint(0, 256, (2, 1, 4, 4), dtype=torch.uint8)
    rgb = match_channels(gray, 3)
    assert rgb.shape == (2, 3, 4, 4) and torch.equal(rgb[:, 2], gray[:, 0])
    assert torch.equal(match_channels(rgb, 1), gray)  # luma weights sum to 1
    assert match_channels(gray, 1) is gray


def test_mixfeature_needs_batches_of_k(parts: tuple[FERDataset, ...]) -> None:
    small = parts[0].subset(np.arange(5))
    with pytest.raises(ValueError, match="mix_k"):
        train(tiny(method="mixfeature", batch_size=2, mix_k=3), small, None)


# ---------------------------------------------------------------------------------------
# Config, presets, schedule, randomness
# ---------------------------------------------------------------------------------------


def test_presets_match_paper_a_settings() -> None:
    for cfg in PRESETS.values():
        opt, mix = cfg.optim, cfg.mixfeature
        assert (opt.optimizer, opt.momentum, opt.weight_decay) == ("sgd", 0.9, 5e-4)
        assert cfg.method == "baseline" and mix.mix_k == 3 and mix.mix_lambda == 0.5
    j, c, f = PRESETS["jaffe"], PRESETS["ckplus"], PRESETS["ferplus"]
    assert (j.network.model, j.optim.lr, j.optim.epochs, j.optim.schedule) == (
        "cnn3",
        0.001,
        100,
        "constant",
    )
    assert j.network.image_size == 256
    assert (c.network.model, c.optim.lr, c.optim.epochs, c.network.image_size) == (
        "resnet18",
        0.01,
        30,
        256,
    )
    co, fo = c.optim, f.optim
    assert (co.schedule, co.gamma, co.step_every, co.step_after) == ("step", 0.9, 2, 10)
    assert (f.network.model, f.network.stem, f.network.image_size) == ("resnet18", "small", 48)
    assert (fo.lr, fo.epochs) == (0.01, 200)
    assert (fo.schedule, fo.gamma, fo.step_every, fo.step_after) == ("step", 0.9, 5, 50)
    assert (j.optim.augment, co.augment, fo.augment) == ("basic", "basic", "ferplus")
    assert j.network.model_options == {"pool": 2}  # this repository's choice, see preset()
    assert preset("ferplus", method="mixfeature").method == "mixfeature"
    assert PRESETS["ferplus"].method == "baseline"  # presets are not modified
    with pytest.raises(ValueError, match="jaffe"):
        preset("affectnet")
    with pytest.raises(ValueError, match="learning_rate"):
        preset("jaffe", learning_rate=0.1)


def test_step_schedule() -> None:
    ck = PRESETS["ckplus"]
    factors = [lr_factor(ck, e) for e in range(30)]  # 0-based epochs
    assert factors[:12] == [1.0] * 12  # epochs 1-12
    assert factors[12] == factors[13] == pytest.approx(0.9)  # epochs 13-14
    assert factors[14] == pytest.approx(0.81)
    assert factors[29] == pytest.approx(0.9**9)
    assert lr_factor(PRESETS["jaffe"], 99) == 1.0
    fp = PRESETS["ferplus"]
    assert lr_factor(fp, 54) == 1.0 and lr_factor(fp, 55) == pytest.approx(0.9)


def test_lr_is_recorded_per_epoch(parts: tuple[FERDataset, ...]) -> None:
    cfg = tiny(epochs=3, schedule="step", step_after=1, step_every=1, gamma=0.5)
    h = train(cfg, parts[0], None).history
    assert h["lr"].tolist() == pytest.approx([0.05, 0.05, 0.025])


BAD_VALUES = [
    ("model", "vgg"),
    ("image_size", 16),
    ("in_channels", 2),
    ("stem", "tiny"),
    ("model_options", {"depth": 3}),
    ("model_options", {"pool": 0}),
    ("epochs", 0),
    ("batch_size", 1.5),
    ("optimizer", "rmsprop"),
    ("lr", -0.1),
    ("momentum", 1.5),
    ("weight_decay", -1.0),
    ("schedule", "cosine"),
    ("step_every", 0),
    ("gamma", 0.0),
    ("method", "manifold_mixup"),
    ("mix_k", 1),
    ("mix_lambda", 1.5),
    ("wheel_layout", "circle"),
    ("augment", "heavy"),
    ("seed", -1),
    ("device", "tpu"),
    ("amp", "fp16"),
    ("channels_last", "yes"),
    ("selection", "test_accuracy"),
    ("eval_batch_size", 0),
    ("progress", "no"),
]


@pytest.mark.parametrize(("name", "value"), BAD_VALUES)
def test_bad_config_values_name_the_field(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=rf"TrainConfig\.{name} must be"):
        TrainConfig.from_flat(**{name: value})


def test_config_round_trip_and_key() -> None:
    cfg = tiny(wheel_layout=np.eye(8).tolist(), checkpoint_dir=Path("/tmp/x"))
    assert cfg.runtime.checkpoint_dir == "/tmp/x"
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    assert tiny(progress=True).key() == tiny().key()
    assert tiny(lr=0.02).key() != tiny().key()


def test_devices_and_precision() -> None:
    cpu = torch.device("cpu")
    assert resolve_amp("off", cpu) is None
    assert resolve_amp("bf16", cpu) == torch.bfloat16
    assert resolve_channels_last("auto", None) is False
    assert resolve_channels_last("auto", torch.bfloat16) is True
    assert resolve_channels_last(False, torch.bfloat16) is False


def test_batches_and_epoch_generators() -> None:
    g = torch.Generator().manual_seed(0)
    batches = batch_indices(70, 32, g)
    sizes = [len(b) for b in batches]
    assert len(batches) == 3 and max(sizes) - min(sizes) <= 1
    assert sorted(torch.cat(batches).tolist()) == list(range(70))
    a, b = epoch_generators(0, 5), epoch_generators(0, 5)
    assert all(torch.equal(torch.rand(3, generator=a[k]), torch.rand(3, generator=b[k])) for k in a)
    draws = [torch.rand(1, generator=g).item() for g in epoch_generators(0, 6).values()]
    assert len(set(draws)) == len(draws) == 4  # independent streams
    assert (
        torch.rand(1, generator=epoch_generators(1, 5)["shuffle"]).item()
        != torch.rand(1, generator=epoch_generators(0, 5)["shuffle"]).item()
    )


# ---------------------------------------------------------------------------------------
# Protocols
# ---------------------------------------------------------------------------------------


def test_kfold_protocol_groups_by_subject(data: FERDataset) -> None:
    res = kfold_protocol(tiny(epochs=1), data, n_folds=3, seed=0)
    t = res.table
    assert len(t) == 3 and t["fold"].tolist() == [0, 1, 2]
    assert (t["grouped_by"] == "subject").all()
    assert int(t["n_test"].sum()) == len(data)
    assert (t["n_train"] + t["n_val"] + t["n_test"] == len(data)).all()
    assert {"test_accuracy", "best_epoch", "git_commit", "device"} <= set(t.columns)
    assert res.confusion_matrix().sum() == len(data)
    assert res.runs[0].model is None
    assert set(res.summary().index) >= {"test_accuracy", "test_mean_class_accuracy"}


def test_carve_validation_keeps_groups_whole() -> None:
    groups = np.repeat(np.array([f"S{i}" for i in range(9)]), 20)
    tr, va = carve_validation(groups, 0.1, seed=3)
    assert len(va) >= 20 and set(groups[tr]).isdisjoint(groups[va])
    assert len(tr) + len(va) == len(groups)


def test_holdout_split_has_45_images_and_whole_groups(data: FERDataset) -> None:
    rest, test = holdout_indices(data, 45, seed=0)
    assert len(test) == 45 and len(rest) + len(test) == len(data)
    key = np.char.add(np.asarray(data.subjects).astype(str), data.labels.numpy().astype(str))
    assert set(key[rest]).isdisjoint(key[test])
    assert len(np.unique(data.labels.numpy()[test])) == data.num_classes
    again = holdout_indices(data, 45, seed=0)[1]
    assert np.array_equal(test, again)
    res = holdout_protocol(tiny(epochs=1), data, 45, seed=0, train_seeds=[0, 1])
    assert res.table["n_test"].tolist() == [45, 45] and res.table["train_seed"].tolist() == [0, 1]


def test_pick_groups_takes_whole_groups_up_to_size() -> None:
    groups = np.repeat(np.arange(12), 3).astype(str)  # 12 groups of 3
    labels = np.repeat(np.arange(12) % 4, 3)
    mask = pick_groups(groups, labels, 10, seed=1)
    assert mask.sum() == 9  # 10 is not reachable with groups of 3
    assert set(groups[mask]).isdisjoint(groups[~mask])
    assert len(np.unique(labels[mask])) == 3
    assert pick_groups(groups, labels, 12, seed=1).sum() == 12


def test_official_split_protocol(data: FERDataset) -> None:
    res = official_split_protocol(tiny(epochs=1), data, keep_models=True)
    row = res.table.iloc[0]
    assert row["n_train"] == (data.split == "train").sum()
    assert row["n_test"] == (data.split == "test").sum()
    assert res.runs[0].model is not None
    no_split = data.subset(np.arange(10))
    no_split.split = None
    with pytest.raises(ValueError, match="no predefined split"):
        official_split_protocol(tiny(epochs=1), no_split)


# ---------------------------------------------------------------------------------------
# Single-label metrics (fer_utils.metrics)
# ---------------------------------------------------------------------------------------


def test_metrics_hand_computed() -> None:
    y_true = [0, 0, 1, 1, 1, 2]
    y_pred = [0, 1, 1, 1, 0, 2]
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(4 / 6)
    cm = metrics.confusion_matrix(y_true, y_pred, 4)
    assert cm.tolist() == [[1, 1, 0, 0], [1, 2, 0, 0], [0, 0, 1, 0], [0, 0, 0, 0]]
    per_class = metrics.per_class_accuracy(y_true, y_pred, 4)
    np.testing.assert_allclose(per_class[:3], [0.5, 2 / 3, 1.0])
    assert math.isnan(per_class[3])  # class 3 absent: excluded from the mean
    assert metrics.mean_class_accuracy(y_true, y_pred, 4) == pytest.approx((0.5 + 2 / 3 + 1) / 3)


def test_metrics_match_scikit_learn() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 6, 300)
    y_pred = np.where(rng.random(300) < 0.6, y_true, rng.integers(0, 7, 300))
    assert metrics.accuracy(y_true, y_pred) == pytest.approx(skm.accuracy_score(y_true, y_pred))
    np.testing.assert_array_equal(
        metrics.confusion_matrix(y_true, y_pred, 7),
        skm.confusion_matrix(y_true, y_pred, labels=range(7)),
    )
    with pytest.warns(UserWarning):  # sklearn warns about predicted class 6, absent in y_true
        balanced = skm.balanced_accuracy_score(y_true, y_pred)
    assert metrics.mean_class_accuracy(torch.as_tensor(y_true), y_pred, 7) == pytest.approx(
        balanced
    )


def test_kl_divergence() -> None:
    t = np.array([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]])
    q = np.array([[0.25, 0.75, 0.0], [0.5, 0.25, 0.25]])
    row0 = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)  # 0 log 0 = 0
    row1 = math.log(1.0 / 0.5)
    np.testing.assert_allclose(metrics.kl_divergence(t, q), [row0, row1])
    assert metrics.kl_divergence_mean(t, q) == pytest.approx((row0 + row1) / 2)
    # a predicted 0 where the truth is positive is large but finite (eps clamp)
    assert math.isfinite(metrics.kl_divergence_mean([[1.0, 0.0]], [[0.0, 1.0]]))
    assert metrics.kl_divergence_mean(t, t) == 0.0
    with pytest.raises(ValueError, match="N x K"):
        metrics.kl_divergence_mean(t, q[:, :2])


def test_single_label_report() -> None:
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4], [0.5, 0.4, 0.1]])
    y = np.array([0, 1, 2, 1])
    rep = metrics.single_label_report(y, probs, true_dist=np.eye(3)[y])
    assert rep["accuracy"] == 0.75
    assert rep["mean_class_accuracy"] == pytest.approx((1 + 0.5 + 1) / 3)
    assert rep["ce"] == pytest.approx(-np.mean(np.log([0.7, 0.8, 0.4, 0.4])))
    assert rep["kl"] == pytest.approx(rep["ce"])  # KL to one-hot targets = cross-entropy
    assert rep["confusion_matrix"].trace() == 3


def test_single_label_identity_is_unchanged_by_the_multilabel_fields() -> None:
    """Single-label run names (and so their checkpoints) did not change when multi-label
    training was added: the identity holds exactly the fields it held before."""
    cfg = preset("jaffe", image_size=64, progress=False, checkpoint_dir="/tmp/somewhere")
    ident = cfg.identity()
    for name in ("task", "input_norm", "local_size", "crop_fraction", "local_weights",
                 "multilabel_loss", "threshold", "checkpoint_dir", "progress"):
        assert name not in ident
    assert ident["selection"] == "val_accuracy"
    assert cfg.key() == cfg.replace(selection="val_accuracy").key()
    # the run name the trainer used for this config before multi-label training existed
    assert cfg.key() == "cef63aaa47"
    multi = cfg.replace(task="multi_label", model="resnet18", model_options={})
    assert {"task", "local_weights", "threshold"} <= set(multi.identity())
    assert multi.identity()["selection"] == "val_loss"


def test_config_groups_keep_mfjle_fields_out_of_single_label_runs() -> None:
    cfg = preset("synthetic")
    assert cfg.multilabel is None  # a single-label run carries no MF-JLE settings
    assert "local_weights" not in cfg.flat()
    with pytest.raises(ValueError, match="local_weights apply only to task='multi_label'"):
        cfg.replace(local_weights=0.1)
    multi = cfg.replace(task="multi_label", model="resnet18", model_options={})
    assert multi.multilabel is not None and multi.multilabel.local_weights == [0.01] * 5
    assert multi.replace(task="single_label").multilabel is None
    # one flat name reaches its group; the original is unchanged
    assert cfg.replace(lr=0.5, mix_k=4).optim.lr == 0.5 and cfg.optim.lr == 0.01
    assert cfg.replace(mix_k=4).mixfeature.mix_k == 4


def test_config_json_written_before_the_grouping_still_loads() -> None:
    """``config.json`` of a checkpoint folder used to hold the flat field dict (with the
    multi-label fields even for single-label runs); :meth:`TrainConfig.from_dict` reads it."""
    cfg = preset("jaffe", image_size=64, checkpoint_dir="/tmp/somewhere")
    old = {**cfg.flat(), "task": "single_label", "local_size": 32, "crop_fraction": 0.25,
           "local_weights": [0.01] * 5, "multilabel_loss": "bce", "threshold": 0.5}
    assert TrainConfig.from_dict(old) == cfg
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg


def test_describe_shows_the_settings_of_the_run() -> None:
    base = preset("synthetic").describe()
    assert ("optim", "lr") in base.index and ("network", "model") in base.index
    assert "mixfeature" not in base.index.get_level_values("group")
    mix = preset("synthetic", method="mixfeature").describe()
    assert mix.loc[("mixfeature", "mix_k"), "value"] == "3"
    assert len(mix) < 40  # a short table, not the whole config
