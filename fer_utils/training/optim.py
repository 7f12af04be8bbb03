"""The optimiser and the learning-rate schedule of a run.

Part of :func:`fer_utils.training.loop.train` (notebook 04): paper A trains with SGD
(momentum 0.9, weight decay 5e-4) and a step decay after a warm period; paper B with Adam
and a step decay every 50 epochs (``docs/replication.md``, the two papers' settings).
"""

from __future__ import annotations

import torch
from torch import nn

from fer_utils.training.config import TrainConfig


def lr_factor(config: TrainConfig, epoch: int) -> float:
    """Learning-rate multiplier for epoch ``epoch`` (0-based) of ``config``'s schedule.

    ``"step"``: ``gamma ** ((epoch - step_after) // step_every)``
    once ``epoch >= step_after``, else 1. For CK+ (``step_after=10, step_every=2``) epochs
    1-12 (1-based) run at the initial rate, 13-14 at 0.9 times it, 15-16 at 0.81 times it,
    and so on: "x0.9 every 2 epochs after epoch 10".
    """
    if config.optim.schedule == "constant" or epoch < config.optim.step_after:
        return 1.0
    return config.optim.gamma ** ((epoch - config.optim.step_after) // config.optim.step_every)


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer of ``config`` over ``model``'s parameters."""
    if config.optim.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=config.optim.lr,
            momentum=config.optim.momentum,
            weight_decay=config.optim.weight_decay,
        )
    # The fused Adam kernel updates all parameters in one pass: on a CPU it takes a
    # quarter of the time of the default loop, which matters for MF-JLE's 67M parameters.
    device = next(model.parameters()).device
    return torch.optim.Adam(
        model.parameters(),
        lr=config.optim.lr,
        weight_decay=config.optim.weight_decay,
        fused=device.type in ("cpu", "cuda"),
    )


def make_scheduler(
    config: TrainConfig, optimizer: torch.optim.Optimizer
) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-epoch scheduler applying :func:`lr_factor`."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: lr_factor(config, e))
