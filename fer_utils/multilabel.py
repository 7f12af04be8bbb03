"""Multi-label FER (paper B): label sets, the MF-JLE loss, and the inputs of the six modules.

Introduced in notebook 05 (MF-JLE ensemble). The training loop itself is
:func:`fer_utils.train.train` with ``task="multi_label"``; this module holds the parts
that are specific to multi-label learning and that the loop calls:

* :func:`multilabel_view` turns a dataset into the label space paper B uses (JAFFE: the
  six rated emotions, no neutral; an emotion is present when its mean rating is above 3).
* :func:`mfjle_loss` is ``L = L_global + sum_i lambda_i * L_local_i`` with binary
  cross-entropy on logits per module (SPEC 5.8), or the multi-class cross-entropy of
  paper B's ablation.
* :func:`local_inputs` cuts the five landmark crops of every image once, before training,
  as uint8 tensors (the crops are then augmented like the global image, batch by batch).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch
import torch.nn.functional as F

from fer_utils.augment import match_channels
from fer_utils.crops import local_crops
from fer_utils.data.dataset import FERDataset

#: Losses a multi-label run can use: ``"bce"`` (paper B) or ``"ce"`` (its ablation).
MULTILABEL_LOSSES: tuple[str, ...] = ("bce", "ce")


def multilabel_view(
    dataset: FERDataset, exclude: Sequence[str] | None = None, min_positives: int = 0
) -> FERDataset:
    """``dataset`` restricted to the label columns a multi-label experiment uses.

    Introduced in notebook 05. ``exclude`` lists classes to drop; by default ``neutral``
    is dropped for JAFFE (paper B uses its six rated emotions; the JAFFE loader's neutral
    column of ``multilabels`` is all zero because neutral is never rated) and nothing for
    other datasets. ``min_positives > 0`` also drops label columns with fewer positive
    samples. The single ``labels`` are re-indexed into the kept classes; a sample whose
    label was dropped (a posed-neutral JAFFE face) gets the kept class with the highest
    distribution value instead (its most-rated emotion). Samples are never dropped: a
    sample with an empty label set stays (the metrics define how it counts).
    """
    if dataset.multilabels is None:
        raise ValueError(
            f"{dataset.name} has no multi-label targets (FERDataset.multilabels is None); "
            "load JAFFE with ratings, RAF-ML, or the synthetic data"
        )
    if exclude is None:
        exclude = ("neutral",) if dataset.name == "jaffe" else ()
    unknown = sorted(set(exclude) - set(dataset.classes))
    if unknown:
        raise ValueError(
            f"exclude names classes {unknown} not in {dataset.name}: {dataset.classes}"
        )
    positives = dataset.multilabels.sum(dim=0)
    keep = [
        i
        for i, c in enumerate(dataset.classes)
        if c not in exclude and int(positives[i]) >= min_positives
    ]
    if not keep:
        raise ValueError(f"no label column of {dataset.name} is left to learn")
    if len(keep) == dataset.num_classes:
        return dataset
    keep_t = torch.tensor(keep)
    classes = tuple(dataset.classes[i] for i in keep)
    remap = torch.full((dataset.num_classes,), -1, dtype=torch.long)
    remap[keep_t] = torch.arange(len(keep))
    labels = remap[dataset.labels]
    dist = dataset.distributions
    if (labels < 0).any():
        if dist is None:
            raise ValueError(
                f"{dataset.name}: some single labels fall in the excluded classes and there "
                "are no distributions to pick a replacement from"
            )
        labels = torch.where(labels < 0, dist[:, keep_t].argmax(dim=1), labels)
    if dist is not None:
        dist = dist[:, keep_t]
        dist = dist / dist.sum(dim=1, keepdim=True).clamp_min(1e-12)
    info = dict(dataset.info, multilabel_classes=list(classes), excluded=list(exclude))
    return replace(
        dataset,
        labels=labels,
        classes=classes,
        distributions=dist,
        multilabels=dataset.multilabels[:, keep_t].float(),
        info=info,
    )


def mfjle_loss(
    global_logits: torch.Tensor,
    local_logits: torch.Tensor | None,
    targets: torch.Tensor,
    local_weights: torch.Tensor | None = None,
    kind: str = "bce",
) -> tuple[torch.Tensor, dict[str, float]]:
    """Paper B's joint loss ``L_global + sum_i lambda_i L_local_i`` and its parts.

    Introduced in notebook 05. ``global_logits`` is ``N x L``; ``local_logits`` is
    ``N x 5 x L`` (``None`` for a single ResNet-18, whose loss is then just its own);
    ``targets`` is the 0/1 matrix ``N x L``; ``local_weights`` the five ``lambda_i``.
    ``kind="bce"``: mean binary cross-entropy with logits over samples and labels, per
    module. ``kind="ce"``: the multi-class alternative of paper B's ablation, softmax
    cross-entropy against the label set spread evenly (``targets / row sum``); a sample
    with an empty label set has no such target and is left out of that mean. Returns the
    loss tensor and ``{"loss", "global", "local"}`` floats (``local`` is the weighted sum
    of the local terms, ``nan`` without local modules).
    """
    if kind not in MULTILABEL_LOSSES:
        raise ValueError(f"kind must be one of {MULTILABEL_LOSSES}, got {kind!r}")
    targets = targets.to(global_logits.dtype)

    def module_loss(logits: torch.Tensor) -> torch.Tensor:
        if kind == "bce":
            return F.binary_cross_entropy_with_logits(logits, targets)
        counts = targets.sum(dim=1)
        has = counts > 0
        if not bool(has.any()):
            return logits.sum() * 0.0
        soft = targets[has] / counts[has, None]
        return -(soft * F.log_softmax(logits[has], dim=1)).sum(dim=1).mean()

    g = module_loss(global_logits)
    if local_logits is None:
        value = float(g.detach())
        return g, {"loss": value, "global": value, "local": float("nan")}
    if local_weights is None:
        raise ValueError("local_weights are needed with local_logits")
    terms = torch.stack([module_loss(local_logits[:, i]) for i in range(local_logits.shape[1])])
    local = (local_weights.to(terms.dtype) * terms).sum()
    loss = g + local
    parts = {"loss": float(loss.detach()), "global": float(g.detach()),
             "local": float(local.detach())}
    return loss, parts


def local_inputs(
    dataset: FERDataset, size: int, crop_fraction: float, in_channels: int
) -> torch.Tensor:
    """The five landmark crops of every image, uint8 ``N x 5 x C x size x size`` (CPU).

    Introduced in notebook 05. Crops are cut from the images at their stored resolution
    (sharper than cutting from the resized global input), all at once by
    :func:`fer_utils.crops.local_crops`, then rounded back to uint8 so that they live on
    the device as compactly as the global images. Needs ``dataset.landmarks``
    (see :func:`fer_utils.landmarks.dataset_landmarks`).
    """
    if dataset.landmarks is None:
        raise ValueError(
            f"{dataset.name} has no landmarks, which MF-JLE's local crops need; add them "
            "with `dataset.landmarks, report = fer_utils.landmarks.dataset_landmarks(dataset)`"
        )
    images = match_channels(dataset.images, in_channels)
    crops = local_crops(images, dataset.landmarks, size, crop_fraction)
    return crops.round().clamp(0, 255).to(torch.uint8)
