"""Precise batch-norm: exact batch-norm statistics under the final weights of an epoch.

Part of :func:`fer_utils.training.loop.train` (notebook 04); see :func:`recompute_bn_stats`
for why the running averages kept during training can mislead evaluation on small datasets.
"""

from __future__ import annotations

import torch
from torch import nn

from fer_utils import augment as aug
from fer_utils.mfjle.model import MFJLE
from fer_utils.training.data import DeviceData, batch_indices
from fer_utils.training.evaluate import local_model_input
from fer_utils.training.runtime import StepContext


@torch.no_grad()
def recompute_bn_stats(
    model: nn.Module,
    data: DeviceData,
    ctx: StepContext,
    max_images: int,
    generator: torch.Generator,
) -> None:
    """Replace the batch-norm running statistics by exact averages under the current weights.

    During training, batch norm keeps exponential moving
    averages of the batch means and variances, collected while the weights were still
    changing. On small, very uniform datasets (JAFFE: one lab, one background) the
    class differences are tiny next to what the features share, and these slightly stale
    averages can move eval-mode predictions a lot: we saw JAFFE models with training
    accuracy near 1.0 in train mode score 0.5-0.7 in eval mode, and 0.99 after this
    recomputation ("precise BN", Wu and Johnson 2021). Up to ``max_images`` training
    images, in a random order from ``generator`` (so each batch mixes classes as training
    batches do), un-augmented as in evaluation, are passed forward in train mode in
    batches of ``batch_size``; the statistics become the plain average over those batches.
    No weight changes.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or max_images <= 0:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # None = cumulative average over the batches that follow
    was_training = model.training
    model.train()
    order = torch.randperm(len(data), generator=generator)[:max_images]
    batches = batch_indices(len(order), ctx.config.optim.batch_size, generator)
    try:
        for idx in batches:
            sel = order[idx].to(data.images.device)
            x = ctx.to_layout(aug.to_model_input(data.images[sel]))
            with ctx.autocast():
                if isinstance(model, MFJLE):
                    model.module_logits(x, local_model_input(data.local_images[sel], ctx))
                else:
                    model.features(x)
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        model.train(was_training)
