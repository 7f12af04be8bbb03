"""MF-JLE (paper B): the ensemble model, its loss, label sets, and multi-label training.

Tiny synthetic faces (32x32, with exact landmarks) and one CPU thread keep it fast.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from fer_utils import metrics
from fer_utils.data import FERDataset, load_dataset
from fer_utils.data.dataset import LANDMARK_NAMES
from fer_utils.mfjle.crops import local_inputs
from fer_utils.mfjle.labels import multilabel_view
from fer_utils.mfjle.loss import mfjle_loss
from fer_utils.mfjle.model import MFJLE
from fer_utils.mfjle.presets import MFJLE_PRESETS, mfjle_preset
from fer_utils.models import InputNorm, build_model
from fer_utils.training.config import TrainConfig
from fer_utils.training.evaluate import predict_modules, predict_proba
from fer_utils.training.loop import MULTILABEL_HISTORY_COLUMNS, train

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(scope="module")
def data() -> FERDataset:
    return load_dataset("synthetic", n=60, image_size=32, seed=3)


@pytest.fixture(scope="module")
def parts(data: FERDataset) -> tuple[FERDataset, FERDataset, FERDataset]:
    return tuple(data.subset(data.split_indices(s)) for s in ("train", "val", "test"))


def tiny(model: str = "mfjle", **overrides: object) -> TrainConfig:
    """The CPU preset shrunk to 32x32 inputs and two epochs."""
    base = {"image_size": 32, "local_size": 32, "epochs": 2, "batch_size": 16, "progress": False,
            "precise_bn_images": 32, "model": model}
    base.update(overrides)
    return mfjle_preset("cpu", **base)[0]


# --- model ------------------------------------------------------------------------------


def test_mfjle_score_is_global_plus_weighted_locals() -> None:
    torch.manual_seed(0)
    weights = [0.01, 0.02, 0.0, 0.5, 1.0]
    model = MFJLE(4, in_channels=1, local_weights=weights).eval()
    x = torch.rand(3, 1, 32, 32)
    xl = torch.rand(3, 5, 1, 32, 32)
    g, loc = model.module_logits(x, xl)
    assert g.shape == (3, 4) and loc.shape == (3, 5, 4)
    expected = g.clone()
    for i, w in enumerate(weights):
        expected += w * loc[:, i]
    torch.testing.assert_close(model(x, xl), expected)
    # each local module sees its own crop: changing crop 2 changes only local output 2
    xl2 = xl.clone()
    xl2[:, 2] = torch.rand(3, 1, 32, 32)
    _, loc2 = model.module_logits(x, xl2)
    changed = (loc2 - loc).abs().amax(dim=(0, 2)) > 0
    assert changed.tolist() == [False, False, True, False, False]


def test_mfjle_rejects_bad_inputs() -> None:
    with pytest.raises(ValueError, match="local_weights"):
        MFJLE(3, local_weights=[0.1, 0.1])
    model = MFJLE(3, in_channels=1)
    with pytest.raises(ValueError, match="x_local"):
        model.module_logits(torch.rand(2, 1, 32, 32), torch.rand(2, 4, 1, 32, 32))


def test_input_norm_uses_imagenet_statistics() -> None:
    norm = InputNorm((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), channels=3)
    x = torch.full((1, 3, 2, 2), 0.5)
    out = norm(x)
    assert out[0, 0, 0, 0].item() == pytest.approx((0.5 - 0.485) / 0.229)
    assert out[0, 2, 1, 1].item() == pytest.approx((0.5 - 0.406) / 0.225)
    gray = InputNorm((0.485, 0.456, 0.406), (0.229, 0.224, 0.225), channels=1)
    assert gray(x[:, :1])[0, 0, 0, 0].item() == pytest.approx((0.5 - 0.449) / (0.678 / 3))
    with pytest.raises(ValueError, match="input_norm"):
        build_model("resnet18", 3, 3, input_norm="cifar")


# --- loss -------------------------------------------------------------------------------


def _bce(logits: torch.Tensor, y: torch.Tensor) -> float:
    """Binary cross-entropy written out: -mean(y log s + (1 - y) log(1 - s))."""
    p = 1.0 / (1.0 + np.exp(-logits.double().numpy()))
    yy = y.double().numpy()
    return float(-(yy * np.log(p) + (1 - yy) * np.log(1 - p)).mean())


def test_mfjle_loss_matches_direct_computation() -> None:
    gen = torch.Generator().manual_seed(1)
    g = torch.randn(6, 4, generator=gen)
    loc = torch.randn(6, 5, 4, generator=gen)
    y = (torch.rand(6, 4, generator=gen) > 0.5).float()
    w = torch.tensor([0.01, 0.01, 0.02, 0.0, 0.1])
    loss, parts = mfjle_loss(g, loc, y, w)
    direct = _bce(g, y) + sum(float(w[i]) * _bce(loc[:, i], y) for i in range(5))
    assert float(loss) == pytest.approx(direct, rel=1e-5)
    assert parts["global"] == pytest.approx(_bce(g, y), rel=1e-5)
    assert parts["loss"] == pytest.approx(parts["global"] + parts["local"], rel=1e-6)
    single, sparts = mfjle_loss(g, None, y)
    assert float(single) == pytest.approx(_bce(g, y), rel=1e-5) and math.isnan(sparts["local"])
    with pytest.raises(ValueError, match="local_weights"):
        mfjle_loss(g, loc, y)
    with pytest.raises(ValueError, match="kind"):
        mfjle_loss(g, None, y, kind="focal")


def test_multiclass_ce_ablation_spreads_the_label_set_and_skips_empty_rows() -> None:
    logits = torch.tensor([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5], [1.0, -2.0, 0.0]])
    y = torch.tensor([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    loss, _ = mfjle_loss(logits, None, y, kind="ce")
    logp = F.log_softmax(logits, dim=1)
    # row 0: target (1/2, 1/2, 0); row 1 has no label and is left out; row 2: (0, 0, 1)
    expected = (-(0.5 * logp[0, 0] + 0.5 * logp[0, 1]) - logp[2, 2]) / 2
    assert float(loss) == pytest.approx(float(expected), rel=1e-6)
    none, _ = mfjle_loss(logits, None, torch.zeros(3, 3), kind="ce")
    assert float(none) == 0.0


# --- label sets -------------------------------------------------------------------------


def test_multilabel_view_drops_jaffe_neutral_and_relabels(jaffe_fixture) -> None:
    _, written = jaffe_fixture
    ds = load_dataset("jaffe", root=written.root.parent, cache=False)
    view = multilabel_view(ds)
    assert "neutral" in ds.classes and "neutral" not in view.classes
    assert view.multilabels.shape == (len(ds), len(ds.classes) - 1)
    keep = [ds.classes.index(c) for c in view.classes]
    torch.testing.assert_close(view.multilabels, ds.multilabels[:, keep].float())
    # labels point at the same emotion; posed-neutral faces get their most-rated emotion
    for i in range(len(ds)):
        own = ds.classes[int(ds.labels[i])]
        new = view.classes[int(view.labels[i])]
        if own != "neutral":
            assert new == own
        else:
            assert new == view.classes[int(ds.distributions[i, keep].argmax())]
    torch.testing.assert_close(view.distributions.sum(1), torch.ones(len(ds)))
    with pytest.raises(ValueError, match="not in"):
        multilabel_view(ds, exclude=["boredom"])


def test_multilabel_view_keeps_synthetic_classes_and_needs_multilabels(data: FERDataset) -> None:
    assert multilabel_view(data) is data
    with pytest.raises(ValueError, match="multilabels"):
        multilabel_view(replace(data, multilabels=None))


def test_local_inputs_are_uint8_crops_and_need_landmarks(data: FERDataset) -> None:
    crops = local_inputs(data.subset(range(4)), 32, 0.25, 3)
    assert crops.dtype == torch.uint8 and crops.shape == (4, 5, 3, 32, 32)
    with pytest.raises(ValueError, match="landmarks"):
        local_inputs(replace(data, landmarks=None), 32, 0.25, 1)


# --- config and presets -----------------------------------------------------------------


def test_presets_follow_paper_b() -> None:
    paper = MFJLE_PRESETS["paper"]
    net, opt = paper.network, paper.optim
    assert (net.image_size, opt.epochs, opt.batch_size, opt.lr) == (224, 218, 128, 1e-4)
    assert opt.optimizer == "adam" and opt.step_every == 50 and opt.gamma == 0.9
    assert paper.network.input_norm == "imagenet" and paper.network.in_channels == 3
    assert paper.multilabel.local_weights == [0.01] * 5
    cfg, name = mfjle_preset("auto")
    assert name == ("paper" if torch.cuda.is_available() else "cpu")
    assert mfjle_preset("cpu", model="resnet18")[0].network.model == "resnet18"
    with pytest.raises(ValueError, match="preset"):
        mfjle_preset("gpu")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"model": "mfjle", "task": "single_label"}, "task"),
        ({"task": "multi_label", "method": "mixfeature"}, "method"),
        ({"task": "multi_label", "local_weights": [0.1] * 4}, "local_weights"),
        ({"task": "multi_label", "local_weights": -1.0}, "local_weights"),
        ({"task": "multi_label", "local_weights": "high"}, "local_weights"),
        ({"task": "multi_label", "threshold": 1.5}, "threshold"),
        ({"task": "multi_label", "crop_fraction": 0.0}, "crop_fraction"),
        ({"task": "multi_label", "multilabel_loss": "focal"}, "multilabel_loss"),
        ({"task": "multi_label", "selection": "val_accuracy"}, "selection"),
        ({"input_norm": "cifar"}, "input_norm"),
        ({"task": "both"}, "task"),
    ],
)
def test_config_rejects_bad_multilabel_fields(overrides: dict, field: str) -> None:
    with pytest.raises(ValueError, match=f"TrainConfig.{field}"):
        TrainConfig.from_flat(**overrides)


# --- training ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mfjle_run(parts: tuple[FERDataset, ...]):
    return train(tiny(), *parts)


def test_train_mfjle_records_history_and_the_nine_metrics(mfjle_run, parts) -> None:
    r = mfjle_run
    assert list(r.history.columns) == list(MULTILABEL_HISTORY_COLUMNS)
    assert len(r.history) == 2 and r.selected_by == "val_loss"
    assert r.history["train_local"].notna().all()
    assert set(metrics.MULTILABEL_METRICS) <= set(r.test_metrics)
    test = parts[2]
    # the reported metrics are those of the returned probabilities
    again = metrics.multilabel_report(test.multilabels.numpy(), r.test_probabilities, 0.5)
    for k in metrics.MULTILABEL_METRICS:
        assert again[k] == pytest.approx(r.test_metrics[k], nan_ok=True)
    probs = predict_proba(r.model, test, r.config)
    np.testing.assert_allclose(probs, r.test_probabilities, atol=1e-6)
    row = r.summary()
    assert {f"test_{k}" for k in metrics.MULTILABEL_METRICS} <= set(row)


def test_predict_modules_gives_each_module_and_the_ensemble(mfjle_run, parts) -> None:
    out = predict_modules(mfjle_run.model, parts[2], mfjle_run.config)
    assert list(out) == ["global", *LANDMARK_NAMES, "ensemble"]
    n, k = len(parts[2]), parts[2].num_classes
    assert all(v.shape == (n, k) for v in out.values())
    logit = lambda p: np.log(p) - np.log1p(-p)  # noqa: E731
    score = logit(out["global"]) + sum(0.01 * logit(out[name]) for name in LANDMARK_NAMES)
    np.testing.assert_allclose(out["ensemble"], 1 / (1 + np.exp(-score)), atol=1e-5)


def test_single_resnet_baseline_trains_multilabel(parts) -> None:
    r = train(tiny("resnet18", epochs=1), *parts)
    assert math.isnan(r.history["train_local"].iloc[0])
    assert r.test_probabilities.shape == (len(parts[2]), parts[2].num_classes)


def test_mfjle_resumes_after_a_kill_to_the_same_numbers(mfjle_run, parts, tmp_path: Path) -> None:
    """Same seed, same numbers: a run killed after epoch 1 and resumed equals mfjle_run."""
    cfg = mfjle_run.config.replace(checkpoint_dir=str(tmp_path))

    def kill(epoch: int, row: dict) -> None:
        if epoch == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, *parts, run_name="killed", callbacks=[kill])
    resumed = train(cfg, *parts, run_name="killed")
    assert resumed.resumed_from_epoch == 1
    cols = [c for c in MULTILABEL_HISTORY_COLUMNS if c != "seconds"]
    assert resumed.history[cols].equals(mfjle_run.history[cols])
    np.testing.assert_array_equal(resumed.test_probabilities, mfjle_run.test_probabilities)


def test_local_weights_do_not_change_how_the_global_module_trains(parts) -> None:
    """Replication notes D28: the global module's gradient comes from its own loss term
    only, so on one machine lambda_i = 0 and 0.01 train it to the same numbers, epoch
    by epoch; only the total loss (which adds the weighted local terms) differs."""
    runs = [train(tiny(epochs=3, local_weights=w), *parts) for w in (0.0, 0.01)]
    global_loss = [r.history["train_global"].to_numpy() for r in runs]
    np.testing.assert_array_equal(global_loss[0], global_loss[1])
    assert not np.array_equal(runs[0].history["train_loss"], runs[1].history["train_loss"])


def test_mfjle_checkpoint_is_refused_for_other_landmarks(mfjle_run, parts, tmp_path) -> None:
    """Resuming with moved landmarks (other crops) must not mix two runs' data."""
    cfg = mfjle_run.config.replace(checkpoint_dir=str(tmp_path), epochs=1)
    train(cfg, *parts, run_name="run")
    train_set = parts[0]
    moved = replace(train_set, landmarks=train_set.landmarks + 2.0)
    with pytest.raises(ValueError, match="different data"):
        train(cfg, moved, *parts[1:], run_name="run")


def test_multilabel_training_needs_targets_and_landmarks(parts) -> None:
    train_set = parts[0]
    with pytest.raises(ValueError, match="multilabels"):
        train(tiny(), replace(train_set, multilabels=None), None)
    with pytest.raises(ValueError, match="landmarks"):
        train(tiny(), replace(train_set, landmarks=None), None)


def test_random_split_indices_are_a_seeded_60_20_20_partition(data: FERDataset) -> None:
    from fer_utils.protocols import random_split_indices

    tr, va, te = random_split_indices(data, seed=4)
    assert (len(tr), len(va), len(te)) == (36, 12, 12)
    assert sorted(np.concatenate([tr, va, te]).tolist()) == list(range(len(data)))
    again = random_split_indices(data, seed=4)
    assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), again, strict=True))
    other = random_split_indices(data, seed=5)
    assert not np.array_equal(te, other[2])
    by_subject = random_split_indices(data, seed=4, group_by="subject")
    subjects = [set(data.subjects[idx]) for idx in by_subject]
    assert not (subjects[0] & subjects[2]) and not (subjects[1] & subjects[2])


def test_protocol_mean_std_row_matches_the_table() -> None:
    import pandas as pd

    from fer_utils.protocols import ProtocolResult

    table = pd.DataFrame({"test_micro_f1": [0.5, 0.7, 0.9], "test_coverage": [1.0, 2.0, 3.0]})
    row = ProtocolResult(table, [], TrainConfig(), {}).mean_std_row(["micro_f1", "coverage"])
    assert row["micro_f1_mean"] == pytest.approx(0.7) and row["micro_f1_std"] == pytest.approx(0.2)
    assert row["coverage_mean"] == pytest.approx(2.0) and row["coverage_std"] == pytest.approx(1.0)
    one = ProtocolResult(table.iloc[:1], [], TrainConfig(), {}).mean_std_row(["coverage"], 2)
    assert one["coverage_mean"] == 1.0 and math.isnan(one["coverage_std"])  # no spread: n/a
