"""Multi-label views of a dataset (paper B): which label columns an experiment learns.

Introduced in notebook 05 (MF-JLE ensemble). :func:`multilabel_view` turns a dataset
into the label space paper B uses (JAFFE: the six rated emotions, no neutral; an emotion
is present when its mean rating is above 3). The training loop itself is
:func:`fer_utils.training.loop.train` with ``task="multi_label"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import torch

from fer_utils.data.dataset import FERDataset


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
