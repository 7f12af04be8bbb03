"""How the trainer applies a Table 4 comparison method to one training batch.

:func:`augmented_batch` returns the float input batch and its targets: class indices for
the methods that keep labels (``augmix``, ``gridmask``, ``mixstyle``) and ``N x C`` label
distributions for the mixing ones (``mixup``, ``cutmix``, ``saliencymix``, ``tokenmix``);
:func:`torch.nn.functional.cross_entropy` takes either. :func:`feature_mixing` wraps the
forward pass (MixStyle's hooks, a no-op for the other methods).

Order: AugMix works on the uint8 images before the run's usual flips and shifts
(:func:`fer_utils.augment.augment_batch`); the other image methods act on the augmented
float batch. The flips and shifts use the ``"augment"`` generator exactly as a
``method="baseline"`` run does; the methods' own draws come from the ``"mix"`` generator.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping

import torch
from torch import nn

from fer_utils import augment as aug
from fer_utils.baselines.config import BASELINE_METHODS, BaselineConfig
from fer_utils.baselines.gridmask import gridmask
from fer_utils.baselines.mixstyle import mixstyle_hooks, mixstyle_layers
from fer_utils.baselines.saliencymix import saliencymix
from fer_utils.baselines.tokenmix import tokenmix
from fer_utils.baselines.torchvision_mix import augmix, cutmix, mixup


def augmented_batch(
    method: str,
    images: torch.Tensor,
    labels: torch.Tensor,
    num_classes: int,
    params: BaselineConfig,
    policy: str,
    generators: Mapping[str, torch.Generator],
) -> tuple[torch.Tensor, torch.Tensor]:
    """The float training batch of ``method`` from a uint8 batch, and its targets."""
    if method not in BASELINE_METHODS:
        raise ValueError(f"unknown comparison method {method!r}; expected one of "
                         f"{', '.join(BASELINE_METHODS)}")
    gen = generators["mix"]
    if method == "augmix":
        images = augmix(images, gen, params.augmix_severity, params.augmix_width,
                        params.augmix_depth, params.augmix_alpha, params.augmix_all_ops,
                        params.augmix_chunk)
    x = aug.augment_batch(images, None, policy, generators["augment"])
    if method == "mixup":
        return mixup(x, labels, num_classes, params.mixup_alpha, gen)
    if method == "cutmix":
        return cutmix(x, labels, num_classes, params.cutmix_alpha, gen)
    if method == "saliencymix":
        return saliencymix(x, labels, num_classes, params.saliencymix_alpha, gen)
    if method == "tokenmix":
        return tokenmix(x, labels, num_classes, params.tokenmix_alpha, params.tokenmix_grid, gen)
    if method == "gridmask":
        x = gridmask(x, gen, params.gridmask_d_min, params.gridmask_d_max,
                     params.gridmask_ratio, params.gridmask_p)
    return x, labels


def feature_mixing(
    model: nn.Module, method: str, model_name: str, params: BaselineConfig,
    generator: torch.Generator,
) -> contextlib.AbstractContextManager[object]:
    """MixStyle's hooks on ``model`` for ``method="mixstyle"``, else a no-op context."""
    if method != "mixstyle":
        return contextlib.nullcontext()
    names = mixstyle_layers(model.backbone, model_name, params.mixstyle_layers)
    return mixstyle_hooks(model, names, params.mixstyle_p, params.mixstyle_alpha, generator)
