"""MixFeature inside MF-JLE (``mfjle_mix="mixfeature"``): an experiment neither paper ran.

Tiny synthetic faces (32x32), random uint8 batches and one CPU thread keep it fast.
"""

from __future__ import annotations

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from fer_utils import augment as aug
from fer_utils.data import FERDataset, load_dataset
from fer_utils.mfjle.loss import mfjle_loss
from fer_utils.mfjle.mixing import (
    mfjle_mix_loss,
    mix_modules,
    mix_rows,
    module_features,
    module_heads,
)
from fer_utils.mfjle.model import MFJLE
from fer_utils.mfjle.presets import mfjle_preset
from fer_utils.mixfeature.wheel import distance_matrix
from fer_utils.training.config import TrainConfig
from fer_utils.training.loop import MULTILABEL_HISTORY_COLUMNS, init_model, train
from fer_utils.training.runtime import StepContext, epoch_generators
from fer_utils.training.step import multilabel_step

pytestmark = pytest.mark.usefixtures("one_thread")

CLASSES = ("neutral", "happiness", "surprise", "sadness", "anger", "disgust", "fear", "contempt")


def tiny(**overrides: object) -> TrainConfig:
    """The CPU MF-JLE preset at 32x32, mixing on (as in tests/test_mfjle.py)."""
    base = {"image_size": 32, "local_size": 32, "epochs": 1, "batch_size": 16, "progress": False,
            "precise_bn_images": 32, "model": "mfjle", "mfjle_mix": "mixfeature"}
    base.update(overrides)
    return mfjle_preset("cpu", **base)[0]


# --- the mixing itself ------------------------------------------------------------------


def test_hand_case_mixes_targets_with_the_wheel_weights() -> None:
    """K = 2, labels 0 and 2 at distance 2: weights 1/(1+e^-2) (primary) and e^-2/(1+e^-2)."""
    distances = torch.tensor([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    labels = torch.tensor([0, 2])
    y = torch.tensor([[1.0, 1.0, 0.0], [0.0, 1.0, 1.0]])
    feats = torch.tensor([[1.0, 0.0], [0.0, 1.0]])
    mm = mix_modules(feats, None, labels, y, 2, distances, torch.Generator().manual_seed(0))
    (members,), (a,) = mm.groups.tolist(), mm.weights
    primary_member = members.index(labels.tolist().index(int(mm.primary[0])))
    big, small = 1 / (1 + math.exp(-2)), math.exp(-2) / (1 + math.exp(-2))
    expected_a = torch.tensor([big if i == primary_member else small for i in range(2)])
    torch.testing.assert_close(a, expected_a)
    t = a[0] * y[members[0]] + a[1] * y[members[1]]  # t = a_1 y_1 + a_2 y_2
    torch.testing.assert_close(mm.targets[0], t)
    assert mm.targets[0, 1] == pytest.approx(1.0)  # a label both members carry stays 1
    assert ((mm.targets >= 0) & (mm.targets <= 1)).all()
    torch.testing.assert_close(mm.global_features[0], a[0] * feats[members[0]]
                               + a[1] * feats[members[1]])


def test_one_draw_of_groups_and_weights_serves_all_six_modules() -> None:
    gen = torch.Generator().manual_seed(1)
    p, d = 12, 4
    g = torch.randn(p, d, generator=gen)
    loc = torch.randn(p, 5, d, generator=gen)
    labels = torch.randint(0, len(CLASSES), (p,), generator=gen)
    y = (torch.rand(p, len(CLASSES), generator=gen) > 0.6).float()
    distances = distance_matrix(CLASSES, "plutchik")
    mm = mix_modules(g, loc, labels, y, 3, distances, torch.Generator().manual_seed(2))
    assert mm.groups.shape == (4, 3) and mm.local_features.shape == (4, 5, d)
    for j in range(4):  # by hand: sum_i a_i v_i with the one set of groups and weights
        idx, a = mm.groups[j], mm.weights[j]
        torch.testing.assert_close(mm.global_features[j], (a[:, None] * g[idx]).sum(0))
        for i in range(5):
            torch.testing.assert_close(mm.local_features[j, i], (a[:, None] * loc[idx, i]).sum(0))
        torch.testing.assert_close(mm.targets[j], (a[:, None] * y[idx]).sum(0))
    # the same features in every module give the same mixtures in every module
    same = mix_modules(g, g[:, None].expand(p, 5, d), labels, y, 3, distances,
                       torch.Generator().manual_seed(2))
    for i in range(5):
        torch.testing.assert_close(same.local_features[:, i], same.global_features)
    assert ((mm.targets >= 0) & (mm.targets <= 1 + 1e-6)).all()
    torch.testing.assert_close(mix_rows(y, mm.groups, mm.weights), mm.targets)


def test_mix_modules_refuses_mismatched_inputs() -> None:
    g, labels, y = torch.zeros(6, 3), torch.zeros(6, dtype=torch.long), torch.zeros(6, 2)
    distances = torch.zeros(2, 2)
    with pytest.raises(ValueError, match="local_features"):
        mix_modules(g, torch.zeros(6, 4, 3), labels, y, 2, distances)
    with pytest.raises(ValueError, match="targets"):
        mix_modules(g, None, labels, y[:5], 2, distances)
    with pytest.raises(ValueError, match="labels"):
        mix_modules(g, None, labels[:5], y, 2, distances)


def test_mixed_loss_is_lambda_original_plus_one_minus_lambda_mixed() -> None:
    gen = torch.Generator().manual_seed(3)
    g, loc = torch.randn(6, 4, generator=gen), torch.randn(6, 5, 4, generator=gen)
    y = (torch.rand(6, 4, generator=gen) > 0.5).float()
    mg, ml = torch.randn(2, 4, generator=gen), torch.randn(2, 5, 4, generator=gen)
    t = torch.rand(2, 4, generator=gen)
    w = torch.full((5,), 0.01)
    loss, parts = mfjle_mix_loss(g, loc, y, mg, ml, t, w, lam=0.3)
    orig = F.binary_cross_entropy_with_logits(g, y) + sum(
        0.01 * F.binary_cross_entropy_with_logits(loc[:, i], y) for i in range(5))
    mixed = F.binary_cross_entropy_with_logits(mg, t) + sum(
        0.01 * F.binary_cross_entropy_with_logits(ml[:, i], t) for i in range(5))
    torch.testing.assert_close(loss, 0.3 * orig + 0.7 * mixed)
    assert parts["original"] == pytest.approx(float(orig))
    assert parts["mixed"] == pytest.approx(float(mixed))
    assert parts["global"] == pytest.approx(float(F.binary_cross_entropy_with_logits(g, y)))
    with pytest.raises(ValueError, match="lam"):
        mfjle_mix_loss(g, loc, y, mg, ml, t, w, lam=1.5)


# --- the training step ------------------------------------------------------------------


def batch(n: int = 8, seed: int = 4) -> dict[str, torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return {
        "images": torch.randint(0, 256, (n, 3, 32, 32), generator=gen, dtype=torch.uint8),
        "local_images": torch.randint(0, 256, (n, 5, 3, 32, 32), generator=gen,
                                      dtype=torch.uint8),
        "targets": (torch.rand(n, len(CLASSES), generator=gen) > 0.6).float(),
        "labels": torch.randint(0, len(CLASSES), (n,), generator=gen),
    }


def context(cfg: TrainConfig) -> StepContext:
    return StepContext(cfg, torch.device("cpu"), None, False,
                       distance_matrix(CLASSES, cfg.mixfeature.wheel_layout))


@pytest.fixture(scope="module")
def model() -> MFJLE:
    return init_model(tiny(), len(CLASSES))


def step(model: MFJLE, cfg: TrainConfig, seed: int = 0, **b: torch.Tensor
         ) -> tuple[dict[str, float], MFJLE, dict[str, torch.Generator]]:
    """One step on a copy of ``model``; returns its parts, the updated copy, the generators."""
    m = copy.deepcopy(model)
    gens = epoch_generators(seed, 0)
    opt = torch.optim.Adam(m.parameters(), lr=1e-3)
    parts = multilabel_step(m, opt, b["images"], b["targets"], context(cfg), gens,
                            b["local_images"], labels=b.get("labels"))
    return parts, m, gens


def same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    return all(torch.equal(x, y) for x, y in zip(a.state_dict().values(),
                                                  b.state_dict().values(), strict=True))


def test_module_features_and_heads_give_the_module_logits(model: MFJLE) -> None:
    b = batch()
    x = aug.to_model_input(b["images"])
    xl = aug.to_model_input(b["local_images"].flatten(0, 1)).view(8, 5, 3, 32, 32)
    model.eval()
    with torch.no_grad():
        g, loc = module_heads(model, *module_features(model, x, xl))
        g0, loc0 = model.module_logits(x, xl)
    model.train()
    assert torch.equal(g, g0) and torch.equal(loc, loc0)
    with pytest.raises(ValueError, match="x_local"):
        module_features(model, x, None)


def test_a_seed_repeats_and_another_seed_mixes_otherwise(model: MFJLE) -> None:
    b, cfg = batch(), tiny(mix_k=2)
    first, m1, _ = step(model, cfg, **b)
    again, m2, _ = step(model, cfg, **b)
    assert first == again and same_weights(m1, m2)
    assert {"loss", "global", "local", "original", "mixed"} <= set(first)
    assert all(math.isfinite(v) for v in first.values())
    other, _, _ = step(model, cfg, seed=1, **b)
    assert other["mixed"] != first["mixed"]


def test_none_is_exactly_the_old_step_and_draws_nothing_to_mix(model: MFJLE) -> None:
    """mfjle_mix="none": the same loss and weights as the step before mixing existed."""
    b, cfg = batch(), tiny(mfjle_mix="none")
    parts, new, gens = step(model, cfg, **b)
    assert torch.equal(gens["mix"].get_state(), epoch_generators(0, 0)["mix"].get_state())
    # the step as it was: augment, module logits, Eq. 1, one Adam step
    old = copy.deepcopy(model)
    gens = epoch_generators(0, 0)
    opt = torch.optim.Adam(old.parameters(), lr=1e-3)
    x = aug.augment_batch(b["images"], None, cfg.optim.augment, gens["augment"])
    xl = aug.augment_batch(b["local_images"].flatten(0, 1), None, cfg.optim.augment,
                           gens["augment"]).view(8, 5, 3, 32, 32)
    g, loc = old.module_logits(x, xl)
    loss, old_parts = mfjle_loss(g.float(), loc.float(), b["targets"], old.local_weights,
                                 cfg.multilabel.multilabel_loss)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    assert parts == old_parts and same_weights(new, old)
    # without labels too: "none" never reads them
    assert step(model, cfg, **{k: v for k, v in b.items() if k != "labels"})[0] == old_parts


def test_lambda_one_reduces_to_paper_b(model: MFJLE) -> None:
    b = batch()
    plain, m0, _ = step(model, tiny(mfjle_mix="none"), **b)
    mixed, m1, _ = step(model, tiny(mix_lambda=1.0), **b)
    assert mixed["loss"] == pytest.approx(plain["loss"], rel=1e-6)
    for x, y in zip(m0.parameters(), m1.parameters(), strict=True):
        torch.testing.assert_close(x, y)


def test_step_needs_single_labels_and_wheel(model: MFJLE) -> None:
    b, cfg = batch(), tiny()
    with pytest.raises(ValueError, match="single label"):
        step(model, cfg, **{k: v for k, v in b.items() if k != "labels"})
    m = copy.deepcopy(model)
    ctx = StepContext(cfg, torch.device("cpu"), None, False, None)
    with pytest.raises(ValueError, match="distances"):
        multilabel_step(m, torch.optim.Adam(m.parameters()), b["images"], b["targets"], ctx,
                        epoch_generators(0, 0), b["local_images"], labels=b["labels"])


def test_a_single_resnet_mixes_alone() -> None:
    cfg = tiny(model="resnet18")
    net = init_model(cfg, len(CLASSES))
    b = batch()
    gens = epoch_generators(0, 0)
    parts = multilabel_step(net, torch.optim.Adam(net.parameters()), b["images"], b["targets"],
                            context(cfg), gens, None, labels=b["labels"])
    assert math.isnan(parts["local"]) and math.isfinite(parts["mixed"])


# --- config and end to end --------------------------------------------------------------


def test_config_refuses_bad_values_naming_mfjle_mix() -> None:
    with pytest.raises(ValueError, match="TrainConfig.mfjle_mix"):
        TrainConfig.from_flat(task="multi_label", mfjle_mix="cutmix")
    with pytest.raises(ValueError, match="mfjle_mix apply only to task='multi_label'"):
        TrainConfig.from_flat(mfjle_mix="mixfeature")


def test_default_leaves_the_run_identity_unchanged() -> None:
    cfg = TrainConfig.from_flat(task="multi_label", model="mfjle", in_channels=3,
                                input_norm="imagenet")
    assert cfg.multilabel.mfjle_mix == "none" and "mfjle_mix" not in cfg.identity()
    assert cfg.key() == "3abb6c0444"  # this config's key before mfjle_mix existed
    beta = TrainConfig.from_flat(task="multi_label", model="resnet18", mix_beta="batch")
    assert beta.key() == "84cbe0ae08"
    old = cfg.to_dict()
    del old["multilabel"]["mfjle_mix"]  # a config.json written before the field
    assert TrainConfig.from_dict(old) == cfg
    mixing = cfg.replace(mfjle_mix="mixfeature")
    assert mixing.identity()["mfjle_mix"] == "mixfeature" and mixing.key() != cfg.key()
    assert mixing.replace(mix_k=4).key() != mixing.key()
    groups = mixing.describe().index.get_level_values("group")
    assert "mixfeature" in groups and "mixfeature" not in cfg.describe().index.get_level_values(
        "group")


@pytest.fixture(scope="module")
def parts() -> tuple[FERDataset, FERDataset, FERDataset]:
    data = load_dataset("synthetic", n=60, image_size=32, seed=3)
    return tuple(data.subset(data.split_indices(s)) for s in ("train", "val", "test"))


def test_train_mfjle_with_mixfeature_end_to_end(parts) -> None:
    r = train(tiny(mix_k=3), *parts)
    assert list(r.history.columns) == list(MULTILABEL_HISTORY_COLUMNS)
    assert len(r.history) == 1
    assert r.history[["train_loss", "train_global", "train_local", "val_loss"]].notna().all(
        axis=None)
    assert r.test_probabilities.shape == (len(parts[2]), parts[2].num_classes)
