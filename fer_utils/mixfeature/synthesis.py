"""MixFeature's synthesis (paper A, Algorithm 1): wheel-weighted mixtures of batch features.

Introduced in notebook 03 (MixFeature synthesis); notebook 04 trains with it.

Within a mini-batch of ``p`` feature vectors, :func:`synthesize` draws ``m = floor(p / K)``
groups of ``K`` distinct samples, picks a primary emotion per group, weighs each member
by ``a = softmax(-d)`` (``d``: wheel distance from the member's label to the primary
emotion, see :mod:`fer_utils.mixfeature.wheel`) and returns the mixed features with their mixed
target distributions. :func:`fer_utils.mixfeature.loss.mixfeature_loss` combines the
usual cross-entropy on the original samples with an entropy-weighted KL divergence on the
synthesized ones.

A training step then reads::

    feats = model.features(x)
    logits = model.head(feats)
    mb = synthesize(feats, y, k, distances, generator)
    loss, parts = mixfeature_loss(logits, y, model.head(mb.features), mb.targets, lam)
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from fer_utils.mixfeature.wheel import mixing_weights

#: How a group's primary emotion is drawn (``docs/replication.md`` D11): the label of a
#: random member (default), or one of the group's distinct labels, each equally likely.
PRIMARY_DRAWS: tuple[str, ...] = ("member", "label")


@dataclass
class MixedBatch:
    """The output of :func:`synthesize` (Algorithm 1) for one mini-batch.

    ``m`` is the number of groups, ``K`` the group size,
    ``D`` the feature size and ``C`` the number of classes.

    Attributes:
        features: ``m x D`` mixed features ``sum_i a_i v_i`` (differentiable in ``v``).
        targets: ``m x C`` float32 target distributions ``sum_i a_i onehot(y_i)``.
        groups: ``m x K`` long indices into the batch of each group's members.
        primary: ``m`` long primary emotion (class index) of each group.
        weights: ``m x K`` float32 mixing weights ``a`` (each row sums to 1).
    """

    features: torch.Tensor
    targets: torch.Tensor
    groups: torch.Tensor
    primary: torch.Tensor
    weights: torch.Tensor


def _check_synthesis_inputs(
    features: torch.Tensor, labels: torch.Tensor, k: int, distances: torch.Tensor
) -> None:
    """Raise ``ValueError`` naming the parameter when an input of :func:`synthesize` is off."""
    if features.ndim != 2:
        raise ValueError(f"features must be p x D, got shape {tuple(features.shape)}")
    p = features.shape[0]
    if labels.ndim != 1 or labels.shape[0] != p:
        raise ValueError(
            f"labels must be a vector of p = {p} class indices, got shape {tuple(labels.shape)}"
        )
    if labels.dtype.is_floating_point or labels.dtype == torch.bool:
        raise ValueError(f"labels must be integer class indices, got dtype {labels.dtype}")
    if isinstance(k, bool) or not isinstance(k, int) or not 2 <= k <= p:
        raise ValueError(f"k (group size) must be an integer in [2, batch size {p}], got {k!r}")
    if distances.ndim != 2 or distances.shape[0] != distances.shape[1]:
        raise ValueError(
            f"distances must be a square C x C matrix, got shape {tuple(distances.shape)}"
        )
    # One small device sync when labels live on a GPU.
    lo, hi = torch.stack(torch.aminmax(labels)).tolist()
    n_classes = distances.shape[0]
    if lo < 0 or hi >= n_classes:
        raise ValueError(
            f"labels must lie in [0, {n_classes - 1}] (distances is {n_classes} x "
            f"{n_classes}), got values from {lo} to {hi}"
        )


def _draw_groups(
    p: int, k: int, generator: torch.Generator | None, primary: str = "member"
) -> tuple[torch.Tensor, torch.Tensor]:
    """Draw the groups and what decides each group's primary emotion, on the CPU.

    Returns ``(groups, draw)``: ``groups`` is ``m x K``, the first ``m * K`` entries of a
    random permutation of ``0..p-1`` (so members are distinct, with no sample in two
    groups). For ``primary="member"`` ``draw`` is ``m``, the column of each group's
    primary member; for ``"label"`` it is ``m x K`` uniform scores, of which
    :func:`synthesize` keeps the largest among each label's first member.
    """
    m = p // k
    perm = torch.randperm(p, generator=generator)
    groups = perm[: m * k].view(m, k)
    if primary == "member":
        return groups, torch.randint(0, k, (m,), generator=generator)
    return groups, torch.rand(m, k, generator=generator)


def _first_of_label(member_labels: torch.Tensor) -> torch.Tensor:
    """``m x K`` mask of the members that are the first in their group with their label."""
    same = member_labels.unsqueeze(2) == member_labels.unsqueeze(1)  # m x K x K
    return ~torch.tril(same, diagonal=-1).any(dim=2)


def synthesize(
    features: torch.Tensor,
    labels: torch.Tensor,
    k: int,
    distances: torch.Tensor,
    generator: torch.Generator | None = None,
    primary: str = "member",
) -> MixedBatch:
    """Algorithm 1 of paper A: ``floor(p / k)`` mixed features and their target distributions.

    Introduced in notebook 03. ``features`` is ``p x D``, ``labels`` ``p`` class indices
    into the rows of the ``C x C`` wheel ``distances`` (from
    :func:`fer_utils.mixfeature.wheel.distance_matrix`). For each group of ``k`` distinct samples:

    1. the primary emotion is the label of one member picked uniformly at random. This is
       our reading of "chosen uniformly at random among the K samples' labels": a label
       carried by two members is twice as likely to be primary as one carried by one.
       ``primary="label"`` takes the other reading: each distinct label of the group is
       equally likely (``docs/replication.md`` D11);
    2. ``d_i`` = distance(label of member ``i``, primary emotion), ``a = softmax(-d)``;
    3. mixed feature ``sum_i a_i v_i``, target ``sum_i a_i onehot(y_i)``.

    There are ``m = floor(p / k)`` groups (paper A's Eq. 4 misprints ``m = v / K``:
    ``docs/replication.md`` D3); the ``p - m * k`` samples left over sit this step out of
    the mixing (they still count in the cross-entropy term).
    Randomness comes only from ``generator`` (a CPU ``torch.Generator``; ``None`` uses
    torch's global generator): first a permutation of the batch, then the primary member
    of each group. The indices are drawn on the CPU and moved to the features' device, so
    a seed gives the same groups on CPU and GPU. All groups are handled at once (no Python
    loop). Gradients flow into ``features``; the weights depend on labels only.
    """
    if generator is not None and generator.device.type != "cpu":
        raise ValueError(
            f"generator must be a CPU torch.Generator (got one on {generator.device}) so "
            "that a seed draws the same groups on every device"
        )
    if primary not in PRIMARY_DRAWS:
        raise ValueError(f"primary must be one of {', '.join(PRIMARY_DRAWS)}, got {primary!r}")
    _check_synthesis_inputs(features, labels, k, distances)
    device = features.device
    groups, draw = _draw_groups(features.shape[0], k, generator, primary)
    groups = groups.to(device, non_blocking=True)
    draw = draw.to(device, non_blocking=True)
    distances = distances.to(device=device, dtype=torch.float32)
    labels = labels.to(device)

    m = groups.shape[0]
    member_labels = labels[groups]  # m x K
    if primary == "member":
        pick = draw
    else:  # each distinct label once: the best score among the first members of each label
        pick = torch.where(_first_of_label(member_labels), draw, -1.0).argmax(dim=1)
    primary_emotion = member_labels.gather(1, pick.unsqueeze(1)).squeeze(1)  # m
    d = distances[member_labels, primary_emotion.unsqueeze(1)]  # m x K
    weights = mixing_weights(d)  # Eq. 3: a_i = exp(-d_i) / sum_j exp(-d_j)
    members = features.index_select(0, groups.reshape(-1)).view(m, k, -1)  # m x K x D
    # sum_i a_i v_i for every group at once: (m x 1 x K) @ (m x K x D) -> m x D
    # Algorithm 1: v = sum_i a_i v_i ...
    mixed = torch.bmm(weights.to(features.dtype).unsqueeze(1), members).squeeze(1)
    targets = torch.zeros(m, distances.shape[0], device=device)
    targets.scatter_add_(1, member_labels, weights)  # ... and t = sum_i a_i onehot(y_i)
    return MixedBatch(mixed, targets, groups, primary_emotion, weights)
