"""MixFeature's loss (paper A, Eqs. 5-8): cross-entropy plus an entropy-weighted KL term.

Introduced in notebook 03 (MixFeature synthesis); notebook 04 trains with it::

    L = lambda * L_CE + (1 - lambda) * L_KL                          (Eq. 8)
    L_KL = mean_i beta_i * KL(t_i || q_i),   beta_i = H(t_i)         (Eqs. 6-7)

``L_CE`` is the cross-entropy of the ``p`` original samples (Eq. 5), ``t_i`` the target
distribution of synthesized sample ``i`` and ``q_i`` the softmax of its logits.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fer_utils.metrics.distributions import entropy

#: Readings of Eq. 7 (``docs/replication.md`` D11): one beta per synthesized sample, its
#: target's entropy (default), or one batch-level beta, the mean of those entropies.
BETA_MODES: tuple[str, ...] = ("sample", "batch")


def kl_from_logits(target: torch.Tensor, logits: torch.Tensor) -> torch.Tensor:
    """Per-row ``KL(target || softmax(logits))`` in nats, with ``0 log 0 = 0``.

    Introduced in notebook 03 (paper A's Eq. 6, with its stray minus sign dropped:
    ``docs/replication.md`` D3). Takes logits, not probabilities (for those, see
    :func:`fer_utils.metrics.kl_divergence`), and works from ``log_softmax`` so large
    logits do not overflow; entries where ``target`` is 0 contribute nothing. Always
    ``>= 0`` and differentiable in ``logits``.
    """
    log_q = F.log_softmax(logits, dim=-1)
    return -entropy(target) - (target * log_q).sum(dim=-1)  # sum_k t_k (log t_k - log q_k)


def mixfeature_loss(
    logits: torch.Tensor,
    labels: torch.Tensor,
    mixed_logits: torch.Tensor,
    targets: torch.Tensor,
    lam: float = 0.5,
    beta: str = "sample",
) -> tuple[torch.Tensor, dict[str, float]]:
    """MixFeature loss ``lam * CE + (1 - lam) * mean_i(beta_i * KL(t_i || q_i))`` (Eqs. 5-8).

    Introduced in notebook 03. ``logits`` (``p x C``) and ``labels`` are the original
    samples; ``mixed_logits`` (``m x C``) are the classifier head applied to
    :attr:`MixedBatch.features` and ``targets`` the matching :attr:`MixedBatch.targets`.
    ``beta_i`` is the entropy of ``t_i``, so a group whose members all share one label
    (one-hot target, ``beta = 0``) adds nothing to the KL term, and the more evenly a
    target spreads, the more it counts. ``lam`` defaults to 0.5 (not given in the paper:
    ``docs/replication.md`` D2). ``beta="batch"`` reads Eq. 7's double sum as one
    batch-level weight instead, ``mean_i H(t_i) * mean_i KL_i`` (D11). Returns the loss
    and ``{"ce", "kl", "loss"}`` as plain floats (``kl`` is the weighted KL term), read
    with a single device sync.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must lie in [0, 1], got {lam!r}")
    if beta not in BETA_MODES:
        raise ValueError(f"beta must be one of {', '.join(BETA_MODES)}, got {beta!r}")
    if logits.ndim != 2 or labels.shape != logits.shape[:1]:
        raise ValueError(
            f"logits must be p x C with labels of length p, got logits "
            f"{tuple(logits.shape)} and labels {tuple(labels.shape)}"
        )
    if mixed_logits.ndim != 2 or mixed_logits.shape != targets.shape or len(targets) == 0:
        raise ValueError(
            f"mixed_logits and targets must both be m x C with m >= 1, got mixed_logits "
            f"{tuple(mixed_logits.shape)} and targets {tuple(targets.shape)}"
        )
    if mixed_logits.shape[1] != logits.shape[1]:
        raise ValueError(
            f"mixed_logits must have C = {logits.shape[1]} columns like logits, "
            f"got {mixed_logits.shape[1]}"
        )
    targets = targets.float()  # the KL term in float32, also under mixed precision
    ce = F.cross_entropy(logits, labels)  # Eq. 5: L_CE over the p original samples
    weight = entropy(targets)  # Eq. 7: beta_i = H(t_i), one per synthesized sample
    if beta == "batch":  # Eq. 7 read as one beta for the batch: the mean over i
        weight = weight.mean()
    kl = (weight * kl_from_logits(targets, mixed_logits.float())).mean()  # Eq. 6: L_KL
    loss = lam * ce + (1.0 - lam) * kl  # Eq. 8
    ce_value, kl_value, loss_value = torch.stack([ce, kl, loss]).detach().float().tolist()
    return loss, {"ce": ce_value, "kl": kl_value, "loss": loss_value}
