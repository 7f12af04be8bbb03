"""MixFeature inside MF-JLE: an experiment neither paper ran (``mfjle_mix="mixfeature"``).

Used by the training step (:func:`fer_utils.training.step.multilabel_step`) for notebook
07's paper B rows. Paper A's Algorithm 1
(:func:`fer_utils.mixfeature.synthesis.synthesize`) mixes the features of a batch in
groups of K with wheel weights ``a = softmax(-d)``. Here the groups and weights are drawn
once per batch, from the images' single labels (``FERDataset.labels``, kept by
:func:`fer_utils.mfjle.labels.multilabel_view`), and shared by all six MF-JLE modules:

* every module's features are mixed with them: ``v = sum_i a_i v_i`` per module;
* the multi-hot targets too: ``t = sum_i a_i y_i``, a soft multi-label target in [0, 1];
* every module's own head scores its mixtures.

The loss (:func:`mfjle_mix_loss`, ``docs/replication.md`` D27) weighs paper B's Eq. 1 on
the original samples and the same Eq. 1 on the mixtures as paper A's Eq. 8 weighs its
two terms::

    L = lambda * L_original + (1 - lambda) * L_mixed
    L_original = BCE(g, y) + sum_i lambda_i BCE(l_i, y)          (Eq. 1 of paper B)
    L_mixed = BCE(g~, t) + sum_i lambda_i BCE(l~_i, t)           (the same, on mixtures)

A single backbone (``model="resnet18"`` or ``"cnn3"`` with ``task="multi_label"``) works
too: it is one module, mixed alone. The step that uses all this is
:func:`fer_utils.training.step.multilabel_step`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from fer_utils.mfjle.loss import mfjle_loss
from fer_utils.mfjle.model import MFJLE, NUM_LOCAL
from fer_utils.mixfeature.synthesis import synthesize

#: Values of ``TrainConfig.mfjle_mix``: ``"none"`` (paper B) or ``"mixfeature"`` (Algorithm
#: 1 of paper A inside every module, our experiment).
MFJLE_MIXES: tuple[str, ...] = ("none", "mixfeature")


@dataclass
class MixedModules:
    """The mixtures of one batch for every module (output of :func:`mix_modules`).

    ``m`` groups of ``K``; ``D`` the feature size, ``L`` the number of labels.

    Attributes:
        global_features: ``m x D`` mixed features of the global module (or single model).
        local_features: ``m x 5 x D`` mixed features of the local modules, or ``None``.
        targets: ``m x L`` float32 soft multi-label targets ``sum_i a_i y_i``.
        groups: ``m x K`` long indices into the batch of each group's members.
        weights: ``m x K`` float32 mixing weights ``a`` (rows sum to 1).
        primary: ``m`` long primary emotion (class index) of each group.
    """

    global_features: torch.Tensor
    local_features: torch.Tensor | None
    targets: torch.Tensor
    groups: torch.Tensor
    weights: torch.Tensor
    primary: torch.Tensor


def mix_rows(x: torch.Tensor, groups: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """``sum_i a_i x[g_i]`` for every group: ``x`` is ``p x ...``, the result ``m x ...``.

    ``groups`` and ``weights`` are ``m x K`` (from :func:`synthesize`); the weights take
    the dtype of ``x``. Gradients flow into ``x``.
    """
    members = x[groups]  # m x K x ...
    a = weights.to(device=x.device, dtype=x.dtype)
    a = a.view(*a.shape, *([1] * (x.ndim - 1)))
    return (a * members).sum(dim=1)  # sum_i a_i x_i


def mix_modules(
    global_features: torch.Tensor,
    local_features: torch.Tensor | None,
    labels: torch.Tensor,
    targets: torch.Tensor,
    k: int,
    distances: torch.Tensor,
    generator: torch.Generator | None = None,
    primary: str = "member",
) -> MixedModules:
    """Algorithm 1 of paper A once for the batch, applied to every module and the targets.

    Used by :func:`fer_utils.training.step.multilabel_step`. ``global_features`` is
    ``p x D``, ``local_features`` ``p x 5 x D`` (``None`` for a single model),
    ``labels`` the ``p`` single labels that place each image on the emotion wheel
    (``distances``, ``C x C``), ``targets`` the ``p x L`` multi-hot labels. The groups of
    ``k`` and their weights ``a = softmax(-d)`` are drawn by :func:`synthesize` from
    ``generator`` only (one permutation and one primary draw per batch), then used for the
    global features, all five local modules and the targets alike.
    """
    p = global_features.shape[0] if global_features.ndim == 2 else -1
    if local_features is not None and (
        local_features.ndim != 3 or tuple(local_features.shape[:2]) != (p, NUM_LOCAL)
    ):
        raise ValueError(
            f"local_features must be p x {NUM_LOCAL} x D with p = {p} like global_features, "
            f"got shape {tuple(local_features.shape)}"
        )
    if targets.ndim != 2 or targets.shape[0] != p:
        raise ValueError(
            f"targets must be p x L with p = {p} like global_features, "
            f"got shape {tuple(targets.shape)}"
        )
    mb = synthesize(global_features, labels, k, distances, generator, primary)  # the one draw
    local = None if local_features is None else mix_rows(local_features, mb.groups, mb.weights)
    soft = mix_rows(targets.float(), mb.groups, mb.weights)  # t = sum_i a_i y_i, in [0, 1]
    return MixedModules(mb.features, local, soft, mb.groups, mb.weights, mb.primary)


def module_features(
    model: nn.Module, x_global: torch.Tensor, x_local: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The features of every module before its head: ``N x D`` and ``N x 5 x D`` (or ``None``).

    For an :class:`MFJLE` the global module sees ``x_global`` and local module ``i`` sees
    ``x_local[:, i]``; any other model is a :class:`fer_utils.models.FeatureClassifier`
    whose ``features`` are returned with ``None``. ``module_heads(model,
    *module_features(model, x, xl))`` equals ``model.module_logits(x, xl)``.
    """
    if not isinstance(model, MFJLE):
        return model.features(x_global), None
    if x_local is None or x_local.ndim != 5 or x_local.shape[1] != NUM_LOCAL:
        shape = None if x_local is None else tuple(x_local.shape)
        raise ValueError(f"x_local must be N x {NUM_LOCAL} x C x h x w for MF-JLE, got {shape}")
    g = model.global_module.features(x_global)
    local = torch.stack([m.features(x_local[:, i]) for i, m in enumerate(model.local_modules)], 1)
    return g, local


def module_heads(
    model: nn.Module, global_features: torch.Tensor, local_features: torch.Tensor | None = None
) -> tuple[torch.Tensor, torch.Tensor | None]:
    """Each module's head on its own features: logits ``m x L`` and ``m x 5 x L`` (or ``None``)."""
    if not isinstance(model, MFJLE):
        return model.head(global_features), None
    if local_features is None:
        raise ValueError("local_features are needed for MF-JLE's five local heads")
    g = model.global_module.head(global_features)
    local = torch.stack(
        [m.head(local_features[:, i]) for i, m in enumerate(model.local_modules)], 1
    )
    return g, local


def mfjle_mix_loss(
    global_logits: torch.Tensor,
    local_logits: torch.Tensor | None,
    targets: torch.Tensor,
    mixed_global_logits: torch.Tensor,
    mixed_local_logits: torch.Tensor | None,
    mixed_targets: torch.Tensor,
    local_weights: torch.Tensor | None = None,
    lam: float = 0.5,
    kind: str = "bce",
) -> tuple[torch.Tensor, dict[str, float]]:
    """``lam * L_original + (1 - lam) * L_mixed``, both paper B's Eq. 1 (D27).

    The loss of ``mfjle_mix="mixfeature"`` (notebook 07, ablations). ``L_original`` is
    :func:`fer_utils.mfjle.loss.mfjle_loss` of the ``p`` original samples against their
    multi-hot ``targets``; ``L_mixed`` the same loss, with the same ``lambda_i``
    (``local_weights``; the global module weighs 1), of the ``m`` mixtures against
    their soft ``mixed_targets``: with ``kind="bce"`` (paper B) the binary cross-entropy
    with logits against ``t = sum_i a_i y_i``. ``lam`` is MixFeature's lambda and
    weighs the original term, as in paper A's Eq. 8. Returns the loss and ``{"loss",
    "global", "local", "original", "mixed"}`` floats, where ``global`` and ``local`` are
    the parts of ``L_original`` (as a run without mixing reports them).
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must lie in [0, 1], got {lam!r}")
    if mixed_targets.ndim != 2 or mixed_targets.shape[0] == 0:
        raise ValueError(
            f"mixed_targets must be m x L with m >= 1, got {tuple(mixed_targets.shape)}"
        )
    original, parts = mfjle_loss(global_logits, local_logits, targets, local_weights, kind)
    mixed, mixed_parts = mfjle_loss(  # Eq. 1 on the mixtures, soft targets
        mixed_global_logits, mixed_local_logits, mixed_targets, local_weights, kind
    )
    loss = lam * original + (1.0 - lam) * mixed  # as paper A's Eq. 8
    out = {"loss": float(loss.detach()), "global": parts["global"], "local": parts["local"],
           "original": parts["loss"], "mixed": mixed_parts["loss"]}
    return loss, out
