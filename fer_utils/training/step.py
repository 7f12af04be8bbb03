"""One optimisation step: the baseline, MixFeature and its comparisons (paper A), MF-JLE (paper B).

Part of :func:`fer_utils.training.loop.train` (notebook 04; the multi-label step in notebook
05). This is the part of the trainer a student should read: each function takes one uint8
batch, augments it, runs the network, computes the paper's loss and updates the weights.
Everything else (devices, precision, timing) hides in the
:class:`~fer_utils.training.runtime.StepContext`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from fer_utils import augment as aug
from fer_utils import baselines
from fer_utils.mfjle.loss import mfjle_loss
from fer_utils.mfjle.mixing import mfjle_mix_loss, mix_modules, module_features, module_heads
from fer_utils.mfjle.model import MFJLE
from fer_utils.mixfeature.loss import mixfeature_loss
from fer_utils.mixfeature.synthesis import synthesize
from fer_utils.training.runtime import StepContext


def _backward_and_step(loss: torch.Tensor, optimizer: torch.optim.Optimizer,
                       ctx: StepContext) -> None:
    """Gradients of ``loss`` into fresh ``.grad`` tensors, then one optimiser step."""
    with ctx.phase("backward"):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
    with ctx.phase("optimizer"):
        optimizer.step()


def training_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    ctx: StepContext,
    generators: Mapping[str, torch.Generator],
) -> dict[str, float]:
    """One single-label optimisation step on a uint8 batch; returns ``{"ce", "loss", "kl"}``.

    Baseline: cross-entropy on the augmented batch. Table 4 comparison methods
    (:mod:`fer_utils.baselines`): cross-entropy on the batch the method makes, against
    its label distributions for the mixing methods (MixUp, CutMix, SaliencyMix, TokenMix:
    ``-sum_c t_c log p_c``), against the class labels for the others; ``ce`` and ``loss``
    are both that cross-entropy (for a mixing method it is not the cross-entropy of the
    unmixed images that ``ce`` is for the baseline). MixFeature
    (paper A): the features of the batch are mixed in groups by Algorithm 1
    (:func:`fer_utils.mixfeature.synthesis.synthesize`), the classifier head scores the
    originals and the mixtures, and the loss is Eq. 8
    (:func:`fer_utils.mixfeature.loss.mixfeature_loss`). ``kl`` is ``nan`` for the
    baseline. Each ``ctx.phase`` block is timed when the benchmark asks for it.
    """
    cfg = ctx.config
    targets = labels  # class indices, or N x C label distributions for a mixing method
    with ctx.phase("augment"):
        if cfg.method in baselines.BASELINE_METHODS:
            x, targets = baselines.augmented_batch(cfg.method, images, labels, model.num_classes,
                                                   cfg.baselines, cfg.optim.augment, generators)
        else:
            x = aug.augment_batch(images, None, cfg.optim.augment, generators["augment"])
        x = ctx.to_layout(x)
    feature_mixing = baselines.feature_mixing(  # MixStyle's hooks, else nothing
        model, cfg.method, cfg.network.model, cfg.baselines, generators["mix"]
    )
    with ctx.phase("forward"), ctx.autocast(), feature_mixing:
        feats = model.features(x)  # v_i, one feature vector per image
        logits = model.head(feats).float()
    if cfg.method != "mixfeature":
        with ctx.phase("loss"):
            loss = F.cross_entropy(logits, targets)
            ce = loss.item()
        parts = {"ce": ce, "loss": ce, "kl": math.nan}
    else:
        mix = cfg.mixfeature
        with ctx.phase("mix"):  # Algorithm 1: groups of K, weights softmax(-d), mixtures
            mb = synthesize(feats.float(), labels, mix.mix_k, ctx.distances, generators["mix"],
                            primary=mix.mix_primary)
        with ctx.phase("forward"), ctx.autocast():
            mixed_logits = model.head(mb.features)  # the same head scores the mixtures
        with ctx.phase("loss"):  # Eqs. 5-8
            loss, parts = mixfeature_loss(
                logits, labels, mixed_logits.float(), mb.targets, mix.mix_lambda,
                beta=mix.mix_beta,
            )
    _backward_and_step(loss, optimizer, ctx)
    return parts


def multilabel_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    targets: torch.Tensor,
    ctx: StepContext,
    generators: Mapping[str, torch.Generator],
    local_images: torch.Tensor | None = None,
    labels: torch.Tensor | None = None,
) -> dict[str, float]:
    """One multi-label optimisation step; returns ``{"loss", "global", "local"}``.

    The global images are augmented as in paper A's runs; for
    MF-JLE the ``N x 5`` crops are augmented the same way as one batch of ``5N`` images
    (each crop draws its own flip and shift), every module runs on its input, and the
    loss is paper B's Eq. 1 (:func:`fer_utils.mfjle.loss.mfjle_loss`). A single ResNet-18
    (no ``local_images``) is trained with its own binary cross-entropy.

    With ``mfjle_mix="mixfeature"`` (our experiment, :mod:`fer_utils.mfjle.mixing`) every
    module's features are also mixed by Algorithm 1 of paper A, with groups and weights
    drawn once from ``generators["mix"]`` and the images' single ``labels`` on the wheel
    ``ctx.distances``, and the loss is :func:`fer_utils.mfjle.mixing.mfjle_mix_loss`
    (the result then also holds ``"original"`` and ``"mixed"``). With ``"none"`` nothing
    of this runs and ``labels`` is not used.
    """
    cfg = ctx.config
    with ctx.phase("augment"):
        x = ctx.to_layout(aug.augment_batch(images, None, cfg.optim.augment, generators["augment"]))
        xl = None
        if isinstance(model, MFJLE):
            if local_images is None:
                raise ValueError("MF-JLE needs the local crops of the batch (local_images)")
            n, k = local_images.shape[:2]
            xl = aug.augment_batch(
                local_images.flatten(0, 1), None, cfg.optim.augment, generators["augment"]
            )
            xl = ctx.to_layout(xl).view(n, k, *xl.shape[1:])
    if cfg.multilabel.mfjle_mix == "mixfeature":
        loss, parts = _mixed_multilabel_loss(model, x, xl, targets, labels, ctx,
                                             generators["mix"])
    else:
        with ctx.phase("forward"), ctx.autocast():
            if xl is None:
                global_logits, local_logits = model(x), None
            else:
                global_logits, local_logits = model.module_logits(x, xl)  # N x L, N x 5 x L
        with ctx.phase("loss"):  # Eq. 1: L_global + sum_i lambda_i L_local_i
            loss, parts = mfjle_loss(
                global_logits.float(),
                None if local_logits is None else local_logits.float(),
                targets,
                getattr(model, "local_weights", None),
                cfg.multilabel.multilabel_loss,
            )
    _backward_and_step(loss, optimizer, ctx)
    return parts


def _mixed_multilabel_loss(
    model: nn.Module,
    x: torch.Tensor,
    xl: torch.Tensor | None,
    targets: torch.Tensor,
    labels: torch.Tensor | None,
    ctx: StepContext,
    generator: torch.Generator,
) -> tuple[torch.Tensor, dict[str, float]]:
    """The loss of ``mfjle_mix="mixfeature"``: Eq. 1 of paper B on originals and mixtures.

    Every module's features, then Algorithm 1 of paper A once for the batch (the same
    groups and weights for all modules and the targets), then every head on its
    originals and mixtures (:mod:`fer_utils.mfjle.mixing`, ``docs/replication.md`` D27).
    """
    cfg = ctx.config
    if labels is None:
        raise ValueError(
            "mfjle_mix='mixfeature' needs the single label of every image (labels=...) to "
            "place it on the emotion wheel; the dataset's FERDataset.labels carry it"
        )
    if ctx.distances is None:
        raise ValueError(
            "mfjle_mix='mixfeature' needs the wheel distances in ctx.distances "
            "(fer_utils.training.runtime.make_context builds them)"
        )
    mix = cfg.mixfeature
    with ctx.phase("forward"), ctx.autocast():
        feats_g, feats_l = module_features(model, x, xl)  # v: N x D, N x 5 x D
        global_logits, local_logits = module_heads(model, feats_g, feats_l)
    with ctx.phase("mix"):  # Algorithm 1 once: groups of K, a = softmax(-d), shared by all
        mm = mix_modules(feats_g.float(), None if feats_l is None else feats_l.float(), labels,
                         targets, mix.mix_k, ctx.distances, generator, primary=mix.mix_primary)
    with ctx.phase("forward"), ctx.autocast():
        mixed_g, mixed_l = module_heads(model, mm.global_features, mm.local_features)
    with ctx.phase("loss"):  # lambda * L_original + (1 - lambda) * L_mixed
        return mfjle_mix_loss(
            global_logits.float(),
            None if local_logits is None else local_logits.float(),
            targets,
            mixed_g.float(),
            None if mixed_l is None else mixed_l.float(),
            mm.targets,
            getattr(model, "local_weights", None),
            mix.mix_lambda,
            cfg.multilabel.multilabel_loss,
        )
