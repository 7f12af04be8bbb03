"""Paper A's Table 4 comparison methods (fer_utils.baselines): hand cases and tiny runs."""

from __future__ import annotations

import math

import pytest
import torch

from fer_utils.baselines import BASELINE_METHODS, MIXING_METHODS, BaselineConfig
from fer_utils.baselines.apply import augmented_batch
from fer_utils.baselines.common import seeded_global_rng
from fer_utils.baselines.gridmask import gridmask, removed_fraction
from fer_utils.baselines.mixstyle import MixStyle, mixstyle_hooks, mixstyle_layers
from fer_utils.baselines.saliencymix import saliencymix, salient_points
from fer_utils.baselines.tokenmix import tokenmix
from fer_utils.baselines.torchvision_mix import augmix, cutmix, mixup
from fer_utils.data import FERDataset, load_dataset
from fer_utils.mixfeature.presets import preset
from fer_utils.models import build_model
from fer_utils.training.config import TrainConfig
from fer_utils.training.loop import train
from fer_utils.training.runtime import epoch_generators

pytestmark = pytest.mark.usefixtures("one_thread")

N, SIDE = 8, 32


def gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def constant_batch(n: int = N, side: int = SIDE) -> tuple[torch.Tensor, torch.Tensor]:
    """Image i is filled with the value (i + 1) / 16 and has class i: pixels name their origin."""
    values = (torch.arange(n, dtype=torch.float32) + 1) / 16
    return values.view(n, 1, 1, 1).expand(n, 3, side, side).clone(), torch.arange(n)


def uint8_batch(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = gen(seed)
    images = torch.randint(0, 256, (N, 1, SIDE, SIDE), generator=g, dtype=torch.uint8)
    return images, torch.randint(0, 7, (N,), generator=g)


PASTING = {
    "cutmix": lambda x, y, g: cutmix(x, y, N, 1.0, g),
    "saliencymix": lambda x, y, g: saliencymix(x, y, N, 1.0, g),
    "tokenmix": lambda x, y, g: tokenmix(x, y, N, 1.0, 4, g),
}


# ---------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", MIXING_METHODS)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_mixed_label_weights_are_distributions(method: str, seed: int) -> None:
    images, labels = uint8_batch(seed)
    x, t = augmented_batch(method, images, labels, 7, BaselineConfig(), "basic",
                           epoch_generators(seed, 0))
    assert t.shape == (N, 7) and t.dtype == torch.float32
    assert (t >= 0).all()
    assert torch.allclose(t.sum(1), torch.ones(N), atol=1e-6)


@pytest.mark.parametrize("method", list(PASTING))
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_label_weights_equal_the_pasted_area(method: str, seed: int) -> None:
    x, labels = constant_batch()
    out, t = PASTING[method](x, labels, gen(seed))
    for i in range(N):
        own = (out[i] == x[i, 0, 0, 0]).float().mean()
        assert t[i, i] == pytest.approx(float(own), abs=1e-6)
        others = torch.unique(out[i][out[i] != x[i, 0, 0, 0]])
        assert len(others) <= 1  # one source per image
        if len(others):
            j = int(round(float(others[0]) * 16)) - 1
            assert t[i, j] == pytest.approx(1.0 - float(own), abs=1e-6)


def test_mixup_mixes_images_and_labels_with_the_same_weight() -> None:
    x, labels = constant_batch()
    out, t = mixup(x, labels, N, 1.0, gen(3))
    for i in range(N):
        j = (i - 1) % N  # torchvision pairs each sample with the one before it
        lam = float(t[i, i])
        assert t[i, j] == pytest.approx(1 - lam, abs=1e-6)
        expected = lam * x[i, 0, 0, 0] + (1 - lam) * x[j, 0, 0, 0]
        assert torch.allclose(out[i], expected.expand_as(out[i]), atol=1e-6)


@pytest.mark.parametrize("method", ["augmix", "gridmask", "mixstyle"])
def test_label_keeping_methods_return_the_class_labels(method: str) -> None:
    images, labels = uint8_batch()
    x, t = augmented_batch(method, images, labels, 7, BaselineConfig(), "basic",
                           epoch_generators(0, 0))
    assert torch.equal(t, labels)
    assert x.dtype == torch.float32 and x.shape == images.shape


# ---------------------------------------------------------------------------------------
# Seeds, shapes, dtypes
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", [m for m in BASELINE_METHODS if m != "mixstyle"])
def test_a_seed_repeats_and_another_seed_differs(method: str) -> None:
    images, labels = uint8_batch()
    cfg = BaselineConfig(gridmask_p=1.0)
    state = torch.get_rng_state()
    runs = [augmented_batch(method, images, labels, 7, cfg, "basic", epoch_generators(s, 0))
            for s in (5, 5, 6)]
    assert torch.equal(torch.get_rng_state(), state)  # torch's global generator untouched
    assert torch.equal(runs[0][0], runs[1][0]) and torch.equal(runs[0][1], runs[1][1])
    assert not torch.equal(runs[0][0], runs[2][0])
    assert runs[0][0].shape == images.shape and runs[0][0].dtype == torch.float32


def test_augmix_keeps_uint8_and_shape_and_repeats_with_its_seed() -> None:
    images, _ = uint8_batch()
    rgb = images.expand(-1, 3, -1, -1).contiguous()
    for batch in (images, rgb):
        for chunk in (1, 3, N):
            a, b = augmix(batch, gen(1), chunk=chunk), augmix(batch, gen(1), chunk=chunk)
            assert a.dtype == torch.uint8 and a.shape == batch.shape
            assert torch.equal(a, b)
    assert not torch.equal(augmix(images, gen(1)), augmix(images, gen(2)))
    with pytest.raises(ValueError, match="uint8"):
        augmix(images.float(), gen(1))


def test_seeded_global_rng_restores_the_global_generator() -> None:
    before = torch.get_rng_state()
    with seeded_global_rng(123):
        first = torch.rand(3)
    with seeded_global_rng(123):
        assert torch.equal(torch.rand(3), first)
    assert torch.equal(torch.get_rng_state(), before)


# ---------------------------------------------------------------------------------------
# GridMask, saliency, MixStyle
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("d", "ratio"), [(8, 0.5), (16, 0.25), (32, 0.6), (4, 0.5)])
def test_gridmask_removes_the_expected_fraction(d: int, ratio: float) -> None:
    ones = torch.ones(N, 1, SIDE, SIDE)
    out = gridmask(ones, gen(0), d / SIDE, d / SIDE, ratio, p=1.0)
    expected = removed_fraction(d, ratio)
    assert expected == pytest.approx(((d - math.ceil(d * ratio)) / d) ** 2)
    for i in range(N):  # whatever the offsets: the side is a whole number of units
        assert float((out[i] == 0).float().mean()) == pytest.approx(expected)
    assert set(out.unique().tolist()) <= {0.0, 1.0}


def test_gridmask_with_p_0_leaves_images_alone_and_keeps_dtype() -> None:
    x = torch.rand(N, 3, SIDE, SIDE)
    assert torch.equal(gridmask(x, gen(0), p=0.0), x)
    half = gridmask(x.to(torch.float64), gen(0), p=1.0)
    assert half.dtype == torch.float64 and half.shape == x.shape


@pytest.mark.parametrize(("cy", "cx", "h", "w"), [(10, 35, 48, 48), (40, 8, 48, 48),
                                                  (20, 30, 32, 40), (70, 100, 128, 128)])
def test_saliency_finds_the_one_bright_blob(cy: int, cx: int, h: int, w: int) -> None:
    ys, xs = torch.arange(h).view(-1, 1), torch.arange(w).view(1, -1)
    blob = 0.7 * torch.exp(-((ys - cy) ** 2 + (xs - cx) ** 2) / 8.0)
    image = 0.2 + 0.02 * torch.rand(h, w, generator=gen(0)) + blob
    rows, cols = salient_points(image.expand(2, 3, h, w))
    assert abs(int(rows[0]) - cy) <= 1 and abs(int(cols[0]) - cx) <= 1


def test_saliencymix_centres_the_patch_on_the_source_blob() -> None:
    n, side = 4, 48
    ys, xs = torch.arange(side).view(-1, 1), torch.arange(side).view(1, -1)
    centres = [(10, 12), (36, 36), (12, 38), (30, 10)]
    x = torch.stack([0.1 + 0.8 * torch.exp(-((ys - a) ** 2 + (xs - b) ** 2) / 8.0)
                     for a, b in centres]).unsqueeze(1)
    x = x + torch.arange(n).view(n, 1, 1, 1) * 0.01  # every pixel tells its image
    checked = 0
    for seed in range(4):
        out, t = saliencymix(x, torch.arange(n), n, 1.0, gen(seed))
        for i in range(n):
            other = t[i] * (torch.arange(n) != i)
            if other.sum() == 0:  # its own source, or an empty patch
                continue
            j = int(other.argmax())
            a, b = centres[j]
            assert torch.equal(out[i, :, a, b], x[j, :, a, b])  # the source's blob came along
            checked += 1
    assert checked >= 4


def test_mixstyle_is_identity_in_eval_mode_and_with_p_0() -> None:
    x = torch.randn(N, 4, 6, 6)
    assert torch.equal(MixStyle(p=1.0, alpha=0.1, generator=gen(0)).eval()(x), x)
    assert torch.equal(MixStyle(p=0.0, alpha=0.1, generator=gen(0))(x), x)
    mixed = MixStyle(p=1.0, alpha=0.1, generator=gen(0))(x)
    assert mixed.shape == x.shape and mixed.dtype == x.dtype and not torch.equal(mixed, x)
    again = MixStyle(p=1.0, alpha=0.1, generator=gen(0))(x)
    assert torch.equal(mixed, again)


def test_mixstyle_mixes_the_channel_statistics() -> None:
    x = torch.randn(2, 3, 5, 5) * torch.tensor([1.0, 4.0]).view(2, 1, 1, 1)
    x = x + torch.tensor([0.0, 10.0]).view(2, 1, 1, 1)
    out = MixStyle(p=1.0, alpha=0.1, generator=gen(1))(x)
    mu, mu_out = x.mean((2, 3)), out.mean((2, 3))
    lo, hi = torch.minimum(mu[0], mu[1]), torch.maximum(mu[0], mu[1])
    assert ((mu_out >= lo - 1e-4) & (mu_out <= hi + 1e-4)).all()  # convex mixes of the means


@pytest.mark.parametrize(("model", "options", "norm"), [
    ("cnn3", {"widths": [8, 8, 8]}, "none"), ("resnet18", {"stem": "small"}, "imagenet")])
def test_mixstyle_hooks_change_training_only_and_go_away(model: str, options: dict,
                                                         norm: str) -> None:
    torch.manual_seed(0)
    net = build_model(model, 3, 3, input_norm=norm, **options)
    layers = ("0", "1") if model == "cnn3" else ("layer1", "layer2", "layer3")
    x = torch.rand(4, 3, 32, 32)
    net.eval()
    plain = net(x)
    with mixstyle_hooks(net, layers, 1.0, 0.1, gen(0)):
        assert torch.equal(net(x), plain)  # eval mode: untouched
        net.train()
        torch.manual_seed(1)
        hooked = net(x)
    torch.manual_seed(1)
    unhooked = net(x)
    assert not torch.allclose(hooked, unhooked)
    with mixstyle_hooks(net, layers, 0.0, 0.1, gen(0)):
        torch.manual_seed(1)
        assert torch.equal(net(x), unhooked)  # p = 0: untouched


def test_auto_mixstyle_layers_are_the_early_stages() -> None:
    cnn = build_model("cnn3", 7, 1, widths=[8, 8, 8])
    assert mixstyle_layers(cnn.backbone, "cnn3", "auto") == ("0", "1")
    normed = build_model("cnn3", 7, 3, input_norm="imagenet", widths=[8, 8, 8])
    assert mixstyle_layers(normed.backbone, "cnn3", "auto") == ("0", "1")
    res = build_model("resnet18", 7, 1)
    assert mixstyle_layers(res.backbone, "resnet18", "auto") == ("layer1", "layer2", "layer3")
    assert mixstyle_layers(res.backbone, "resnet18", ["layer4"]) == ("layer4",)
    with pytest.raises(ValueError, match="not in the backbone"):
        with mixstyle_hooks(res, ["nowhere"], 0.5, 0.1, gen(0)):
            pass


# ---------------------------------------------------------------------------------------
# Config and training
# ---------------------------------------------------------------------------------------


def test_only_the_runs_own_method_settings_enter_its_identity() -> None:
    base = preset("synthetic")
    assert not set(base.identity()) & {f for m in BASELINE_METHODS
                                       for f in BaselineConfig.fields_of(m)}
    assert base.replace(mixup_alpha=0.3).key() == base.key()
    mix = base.replace(method="mixup")
    assert "mixup_alpha" in mix.identity() and "cutmix_alpha" not in mix.identity()
    assert mix.replace(cutmix_alpha=0.3).key() == mix.key()
    assert mix.replace(mixup_alpha=0.3).key() != mix.key()
    assert mix.key() != base.key()
    assert TrainConfig.from_dict(mix.to_dict()) == mix
    shown = mix.describe()
    assert ("baselines", "mixup_alpha") in shown.index
    assert ("baselines", "cutmix_alpha") not in shown.index
    assert "baselines" not in base.describe().index.get_level_values("group")


def test_bad_comparison_settings_are_refused() -> None:
    cfg = preset("synthetic")
    with pytest.raises(ValueError, match="mixup_alpha"):
        cfg.replace(mixup_alpha=0.0)
    with pytest.raises(ValueError, match="gridmask_d_max"):
        cfg.replace(gridmask_d_min=0.5, gridmask_d_max=0.4)
    with pytest.raises(ValueError, match="mixstyle_layers.*layer9"):
        cfg.replace(method="mixstyle", mixstyle_layers=["layer9"])
    assert cfg.replace(method="mixstyle", mixstyle_layers=("0", "2")).baselines.mixstyle_layers \
        == ["0", "2"]
    with pytest.raises(ValueError, match="method"):
        cfg.replace(task="multi_label", model="resnet18", model_options={}, method="cutmix")


@pytest.fixture(scope="module")
def parts() -> tuple[FERDataset, FERDataset]:
    data = load_dataset("synthetic", n=120, image_size=32)
    return tuple(data.subset(data.split_indices(s)) for s in ("train", "val"))


@pytest.mark.parametrize("method", BASELINE_METHODS)
def test_each_method_trains_an_epoch_and_repeats_with_its_seed(method: str, parts: tuple) -> None:
    cfg = preset("synthetic", image_size=32, epochs=1, batch_size=16, lr=0.05, method=method,
                 model_options={"widths": [8, 8, 8]}, progress=False, precise_bn_images=0)
    a, b = (train(cfg, parts[0], parts[1]).history for _ in range(2))
    assert math.isfinite(a["train_loss"].iloc[0]) and math.isfinite(a["train_ce"].iloc[0])
    assert math.isnan(a["train_kl"].iloc[0])
    assert a["train_loss"].iloc[0] == b["train_loss"].iloc[0]
    assert a["val_ce"].iloc[0] == b["val_ce"].iloc[0]
