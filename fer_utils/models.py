"""Backbones and classifiers: the compact 3-layer CNN and ResNet-18, split into features + head.

Notebook 04 (training) trains these through :func:`fer_utils.training.loop.train`. Every
model here is a :class:`FeatureClassifier`: a *backbone* that maps an image batch to one
feature vector per image, and a single linear *head* that maps features to class logits::

    features = model.features(x)    # N x D
    logits = model.head(features)   # N x C, the same as model(x)

MixFeature (notebook 03) needs exactly this split: it mixes the feature vectors of a
mini-batch and sends the mixtures through the same head. The MF-JLE ensemble of paper B
(notebook 05), :class:`fer_utils.mfjle.model.MFJLE`, holds six such classifiers: one
global ResNet-18 on the whole face and one local ResNet-18 per facial landmark crop.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torchvision
from torch import nn

#: Per-channel input normalisations :func:`build_model` can put in front of a backbone:
#: ``"none"`` (pixels stay in [0, 1], paper A) or ``"imagenet"`` (paper B: RGB mean
#: (0.485, 0.456, 0.406), std (0.229, 0.224, 0.225)).
INPUT_NORMS: dict[str, tuple[tuple[float, ...], tuple[float, ...]] | None] = {
    "none": None,
    "imagenet": ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
}

#: ResNet-18 stems: ``"standard"`` (7x7 stride-2 conv + max-pool, for large images) and
#: ``"small"`` (3x3 stride-1 conv, no max-pool, CIFAR-style, for 48x48 images).
STEMS: tuple[str, ...] = ("standard", "small")


class FeatureClassifier(nn.Module):
    """A backbone producing ``D``-dim features, followed by one linear head.

    ``forward(x) == head(features(x))``; ``feature_dim`` is D.
    """

    def __init__(self, backbone: nn.Module, feature_dim: int, num_classes: int) -> None:
        super().__init__()
        if num_classes < 1:
            raise ValueError(f"num_classes must be at least 1, got {num_classes}")
        self.backbone = backbone
        self.feature_dim = feature_dim
        self.num_classes = num_classes
        self.head = nn.Linear(feature_dim, num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The feature vectors of an image batch: ``N x C x H x W`` -> ``N x D``."""
        return self.backbone(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class logits ``N x num_classes``."""
        return self.head(self.features(x))


class InputNorm(nn.Module):
    """Subtract a per-channel mean and divide by a per-channel std (fixed buffers).

    Paper B normalises its RGB inputs with ImageNet statistics. With one input channel the
    three values are averaged.
    """

    def __init__(self, mean: Sequence[float], std: Sequence[float], channels: int) -> None:
        super().__init__()
        m, s = torch.tensor(mean, dtype=torch.float32), torch.tensor(std, dtype=torch.float32)
        if channels == 1:
            m, s = m.mean(0, keepdim=True), s.mean(0, keepdim=True)
        self.register_buffer("mean", m.view(1, -1, 1, 1))
        self.register_buffer("std", s.view(1, -1, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(x - mean) / std`` per channel."""
        return (x - self.mean) / self.std


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """One block of the compact CNN: 3x3 conv, batch norm, ReLU, 2x2 max-pool (halves H, W).
    """
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


def cnn3_backbone(
    in_channels: int = 1, widths: Sequence[int] = (32, 64, 128), pool: int = 1
) -> nn.Module:
    """Paper A's compact CNN for JAFFE: three conv blocks, then average pooling.

    ``pool=1`` is global average pooling, giving a feature
    vector of ``widths[-1]`` entries; ``pool=p`` averages over a ``p x p`` grid of
    regions instead (``widths[-1] * p * p`` features), which keeps the coarse layout of
    the face (brows above, mouth below). Works on any input of at least 32x32 (three
    max-pools leave at least 4x4). Paper A gives neither widths nor pooling: (32, 64,
    128) and global pooling are this repository's defaults. One block per entry of
    ``widths`` (3 to 7): three blocks see 22x22 pixels each (receptive field), a sixth of
    a 128-pixel face; ``widths=(32, 64, 128, 128, 128)`` gives five blocks, which see 94x94.
    """
    if not 3 <= len(widths) <= 7 or any(int(w) < 1 for w in widths):
        raise ValueError(
            f"widths must be 3 to 7 positive channel counts (one per block), got {tuple(widths)}"
        )
    if isinstance(pool, bool) or not isinstance(pool, int) or not 1 <= pool <= 4:
        raise ValueError(f"pool must be an integer from 1 to 4, got {pool!r}")
    chans = [in_channels, *(int(w) for w in widths)]
    blocks = [conv_block(a, b) for a, b in zip(chans[:-1], chans[1:], strict=True)]
    return nn.Sequential(*blocks, nn.AdaptiveAvgPool2d(pool), nn.Flatten())


def resnet18_backbone(in_channels: int = 1, stem: str = "standard") -> nn.Module:
    """torchvision's ResNet-18, randomly initialised, up to its pooled 512-d feature vector.

    No pretrained weights are ever loaded (papers A and B train
    from scratch). ``in_channels`` other than 3 replaces the first convolution;
    ``stem="small"`` replaces it with a 3x3 stride-1 convolution and drops the max-pool,
    so a 48x48 image keeps enough resolution for the four residual stages.
    """
    if stem not in STEMS:
        raise ValueError(f"unknown stem {stem!r}; expected one of {', '.join(STEMS)}")
    net = torchvision.models.resnet18(weights=None)
    if stem == "small":
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=3, stride=1, padding=1, bias=False)
        net.maxpool = nn.Identity()
    elif in_channels != 3:
        net.conv1 = nn.Conv2d(in_channels, 64, kernel_size=7, stride=2, padding=3, bias=False)
    if stem == "small" or in_channels != 3:
        nn.init.kaiming_normal_(net.conv1.weight, mode="fan_out", nonlinearity="relu")
    net.fc = nn.Identity()  # the head lives in FeatureClassifier
    return net


def _cnn3_with_dim(
    in_channels: int = 1, widths: Sequence[int] = (32, 64, 128), pool: int = 1
) -> tuple[nn.Module, int]:
    """``cnn3`` for the registry: the backbone and its feature size."""
    return cnn3_backbone(in_channels, widths, pool), int(tuple(widths)[-1]) * pool * pool


def _resnet18_with_dim(in_channels: int = 1, stem: str = "standard") -> tuple[nn.Module, int]:
    """``resnet18`` for the registry: the backbone and its feature size (512)."""
    return resnet18_backbone(in_channels, stem), 512


#: Backbone builders by model name; each returns ``(backbone, feature_dim)``. A new
#: backbone is one more entry here (its keyword arguments become its options).
BACKBONES: dict[str, Callable[..., tuple[nn.Module, int]]] = {
    "cnn3": _cnn3_with_dim,
    "resnet18": _resnet18_with_dim,
}

#: Every name :func:`build_model` accepts.
MODEL_NAMES: tuple[str, ...] = tuple(BACKBONES)


def model_options(name: str) -> tuple[str, ...]:
    """The options backbone ``name`` accepts (its builder's keyword arguments).
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODEL_NAMES)}")
    params = inspect.signature(BACKBONES[name]).parameters
    return tuple(p for p in params if p != "in_channels")


def build_backbone(name: str, in_channels: int = 1, **options: Any) -> tuple[nn.Module, int]:
    """The backbone called ``name`` and its feature size ``D``.

    Notebook 05 uses it for the six MF-JLE modules. Options:
    ``cnn3`` takes ``widths`` and ``pool``; ``resnet18`` takes ``stem``. An unknown name or option
    raises ``ValueError`` listing the accepted ones.
    """
    accepted = model_options(name)
    if in_channels not in (1, 3):
        raise ValueError(f"in_channels must be 1 (gray) or 3 (RGB), got {in_channels}")
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} for model {name!r}; "
            f"accepted: {', '.join(accepted)}"
        )
    return BACKBONES[name](in_channels=in_channels, **options)


def build_model(
    name: str, num_classes: int, in_channels: int = 1, input_norm: str = "none", **options: Any
) -> FeatureClassifier:
    """A freshly initialised classifier: backbone ``name`` plus a linear head.

    ``name`` is ``"cnn3"`` or ``"resnet18"``; ``options`` go to
    :func:`build_backbone` (``stem="small"`` for FER+ at 48x48; ``widths`` and ``pool``
    for cnn3). ``input_norm`` (a key of :data:`INPUT_NORMS`) puts an :class:`InputNorm`
    in front of the backbone (notebook 05).
    The initial weights come from torch's global random generator: seed it first (the
    trainer does) for reproducible models.
    """
    if input_norm not in INPUT_NORMS:
        raise ValueError(
            f"unknown input_norm {input_norm!r}; expected one of {', '.join(INPUT_NORMS)}"
        )
    backbone, dim = build_backbone(name, in_channels, **options)
    stats = INPUT_NORMS[input_norm]
    if stats is not None:
        backbone = nn.Sequential(InputNorm(*stats, channels=in_channels), backbone)
    return FeatureClassifier(backbone, dim, num_classes)


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters of ``model``."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
