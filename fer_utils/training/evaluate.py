"""Predictions and metrics of a trained model, on prepared data or on a dataset.

Part of :func:`fer_utils.training.loop.train` (notebook 04: single-label, softmax, accuracy,
KL); notebook 05 adds the multi-label path (sigmoid, paper B's nine metrics) and each MF-JLE
module alone.
"""

from __future__ import annotations

import contextlib
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from fer_utils import augment as aug
from fer_utils import metrics
from fer_utils.data.dataset import LANDMARK_NAMES, FERDataset
from fer_utils.mfjle.model import MFJLE
from fer_utils.training.config import TrainConfig
from fer_utils.training.data import DeviceData, prepare_data
from fer_utils.training.runtime import StepContext, resolve_amp, resolve_channels_last


def local_model_input(local_images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
    """uint8 crops ``N x 5 x C x s x s`` as the float model input (evaluation path).
    """
    n, k = local_images.shape[:2]
    x = ctx.to_layout(aug.to_model_input(local_images.flatten(0, 1)))
    return x.view(n, k, *x.shape[1:])


@torch.inference_mode()
def predict_module_logits(
    model: MFJLE, data: DeviceData, ctx: StepContext
) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 CPU logits of every MF-JLE module on ``data``: global ``N x L``, local ``N x 5 x L``.

    Each module alone, next to the ensemble (:func:`predict_modules`).
    """
    model.eval()
    bs = ctx.config.runtime.eval_batch_size
    outs_g, outs_l = [], []
    for start in range(0, len(data), bs):
        x = ctx.to_layout(aug.to_model_input(data.images[start : start + bs]))
        xl = local_model_input(data.local_images[start : start + bs], ctx)
        with ctx.autocast():
            g, loc = model.module_logits(x, xl)
        outs_g.append(g.float().cpu())
        outs_l.append(loc.float().cpu())
    return torch.cat(outs_g), torch.cat(outs_l)


def predict_scores(model: nn.Module, data: DeviceData, ctx: StepContext) -> torch.Tensor:
    """Float32 CPU logits ``N x K`` of any trained model on ``data`` (MF-JLE: ensemble score).
    """
    if isinstance(model, MFJLE):
        g, loc = predict_module_logits(model, data, ctx)
        return model.combine(g, loc.to(g.device)).float()
    return predict_logits(
        model, data.images, ctx.config.runtime.eval_batch_size, ctx.amp_dtype, ctx.channels_last
    )


@torch.inference_mode()
def predict_logits(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = 256,
    amp_dtype: torch.dtype | None = None,
    channels_last: bool = False,
) -> torch.Tensor:
    """Float32 logits (on the CPU) of ``model`` in eval mode for uint8 ``images``.

    ``images`` must already have the model's input size and
    lie on the model's device (see :func:`prepare_data`); they go through the
    deterministic evaluation path of :func:`fer_utils.augment.to_model_input`.
    """
    model.eval()
    device = images.device
    outs = []
    for start in range(0, images.shape[0], batch_size):
        x = aug.to_model_input(images[start : start + batch_size])
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with (
            torch.autocast(device.type, dtype=amp_dtype)
            if amp_dtype is not None
            else contextlib.nullcontext()
        ):
            outs.append(model(x).float().cpu())
    if not outs:
        return torch.zeros(0, getattr(model, "num_classes", 0))
    return torch.cat(outs)


def model_context(model: nn.Module, config: TrainConfig) -> StepContext:
    """The evaluation context of a trained model: its device and ``config``'s precision."""
    dev = next(model.parameters()).device
    amp_dtype = resolve_amp(config.runtime.amp, dev)
    cl = resolve_channels_last(config.runtime.channels_last, amp_dtype)
    return StepContext(config, dev, amp_dtype, cl, None)


def predict_proba(model: nn.Module, dataset: FERDataset, config: TrainConfig) -> np.ndarray:
    """Class probabilities ``N x K`` (float64) of ``model`` on ``dataset``, as in evaluation.

    For example the compound-emotion face of paper A's Fig. 5. The images are prepared as
    in training (channels, ``config.network.image_size``) on the device of
    the model's parameters, with the precision ``config`` resolves to there.
    """
    ctx = model_context(model, config)
    logits = predict_scores(model, prepare_data(dataset, config, ctx.device), ctx)
    if config.task == "multi_label":
        return torch.sigmoid(logits.double()).numpy()
    return torch.softmax(logits.double(), dim=1).numpy()


def predict_modules(
    model: MFJLE, dataset: FERDataset, config: TrainConfig
) -> dict[str, np.ndarray]:
    """Per-label probabilities ``N x L`` of each MF-JLE module alone and of the ensemble.

    Introduced in notebook 05. Keys: ``"global"``, the landmark names of
    :data:`fer_utils.data.dataset.LANDMARK_NAMES` (each local module's own sigmoid), and
    ``"ensemble"`` (sigmoid of the weighted sum, what the model predicts).
    """
    ctx = model_context(model, config)
    g, loc = predict_module_logits(model, prepare_data(dataset, config, ctx.device), ctx)
    out = {"global": torch.sigmoid(g.double()).numpy()}
    for i, name in enumerate(LANDMARK_NAMES):
        out[name] = torch.sigmoid(loc[:, i].double()).numpy()
    out["ensemble"] = torch.sigmoid(model.combine(g, loc).double()).numpy()
    return out


def evaluate(
    model: nn.Module, data: DeviceData, ctx: StepContext
) -> tuple[dict[str, Any], np.ndarray]:
    """Every single-label metric of ``model`` on ``data``, and its probabilities ``N x K``.

    The metrics are :func:`fer_utils.metrics.single_label_report`
    (``kl`` only when ``data`` has distributions); ``ce`` is computed from the logits, so
    it is exact also for very confident mistakes. Multi-label runs (notebook 05) report
    :func:`fer_utils.metrics.multilabel_report` of the sigmoid probabilities plus
    ``loss``, the binary cross-entropy of the (ensemble) logits, and return the sigmoid
    probabilities.
    """
    logits = predict_scores(model, data, ctx)
    if ctx.config.task == "multi_label":
        targets = data.targets.cpu()
        probs = torch.sigmoid(logits.double()).numpy()
        report = metrics.multilabel_report(targets.numpy(), probs, ctx.config.multilabel.threshold)
        report["loss"] = float(F.binary_cross_entropy_with_logits(logits.double(),
                                                                  targets.double()))
        return report, probs
    labels = data.labels.cpu()
    probs = torch.softmax(logits.double(), dim=1).numpy()
    report = metrics.single_label_report(labels, probs, data.distributions)
    report["ce"] = float(F.cross_entropy(logits.double(), labels))
    return report, probs
