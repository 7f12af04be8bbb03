"""Models: shapes, the features/head split, options and errors (fer_utils.models)."""

from __future__ import annotations

import pytest
import torch

from fer_utils.models import (
    MODEL_NAMES,
    FeatureClassifier,
    build_backbone,
    build_model,
    count_parameters,
    model_options,
)

pytestmark = pytest.mark.usefixtures("one_thread")


CASES = [
    ("cnn3", {}, 1, 32, 128),
    ("cnn3", {"widths": (8, 16, 24)}, 3, 48, 24),
    ("cnn3", {}, 1, 64, 128),
    ("cnn3", {"widths": (8, 16, 24), "pool": 2}, 1, 32, 96),
    ("cnn3", {"widths": (8, 8, 8, 8, 16), "pool": 2}, 1, 128, 64),  # five blocks
    ("resnet18", {"stem": "standard"}, 1, 48, 512),
    ("resnet18", {"stem": "standard"}, 3, 32, 512),
    ("resnet18", {"stem": "small"}, 1, 48, 512),
    ("resnet18", {"stem": "small"}, 3, 32, 512),
]


@pytest.mark.parametrize(("name", "options", "channels", "size", "dim"), CASES)
def test_shapes_and_split(name: str, options: dict, channels: int, size: int, dim: int) -> None:
    torch.manual_seed(0)
    model = build_model(name, num_classes=7, in_channels=channels, **options).eval()
    x = torch.rand(2, channels, size, size)
    with torch.no_grad():
        feats = model.features(x)
        logits = model(x)
    assert isinstance(model, FeatureClassifier)
    assert isinstance(model.head, torch.nn.Linear)
    assert feats.shape == (2, dim) and model.feature_dim == dim
    assert logits.shape == (2, 7)
    torch.testing.assert_close(logits, model.head(feats))


def test_small_stem_keeps_resolution() -> None:
    standard = build_model("resnet18", 8, stem="standard").backbone
    small = build_model("resnet18", 8, stem="small").backbone
    assert standard.conv1.kernel_size == (7, 7) and standard.conv1.stride == (2, 2)
    assert small.conv1.kernel_size == (3, 3) and small.conv1.stride == (1, 1)
    assert isinstance(small.maxpool, torch.nn.Identity)
    assert small.conv1.in_channels == 1


def test_rgb_standard_resnet_is_torchvision_layout() -> None:
    model = build_model("resnet18", 8, in_channels=3)
    assert model.backbone.conv1.in_channels == 3
    # 11.18 M backbone parameters of ResNet-18 without its 1000-way fc, plus our head.
    assert count_parameters(model) == 11_176_512 + 512 * 8 + 8


def test_same_seed_same_weights() -> None:
    torch.manual_seed(3)
    a = build_model("cnn3", 5)
    torch.manual_seed(3)
    b = build_model("cnn3", 5)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


def test_unknown_model_lists_names() -> None:
    with pytest.raises(ValueError, match="cnn3, resnet18"):
        build_model("vgg", 7)
    assert MODEL_NAMES == ("cnn3", "resnet18")


def test_unknown_option_and_bad_values() -> None:
    with pytest.raises(ValueError, match="accepted: stem"):
        build_model("resnet18", 7, widths=(1, 2, 3))
    with pytest.raises(ValueError, match="stem"):
        build_model("resnet18", 7, stem="tiny")
    with pytest.raises(ValueError, match="in_channels"):
        build_backbone("cnn3", in_channels=2)
    with pytest.raises(ValueError, match="widths"):
        build_model("cnn3", 7, widths=(8, 16))
    with pytest.raises(ValueError, match="num_classes"):
        build_model("cnn3", 0)
    assert model_options("cnn3") == ("widths", "pool")
    with pytest.raises(ValueError, match="pool"):
        build_model("cnn3", 7, pool=0)
