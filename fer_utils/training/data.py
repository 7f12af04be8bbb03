"""A dataset on the training device: uint8 images at the model size, labels, fingerprints.

Part of :func:`fer_utils.training.loop.train` (notebook 04). Images are resized once and
stay uint8 on the device; each epoch draws a permutation, cuts it into mini-batches
(:func:`batch_indices`) and augments every batch on the device (:mod:`fer_utils.augment`).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass

import numpy as np
import torch

from fer_utils import augment as aug
from fer_utils.data.dataset import FERDataset
from fer_utils.mfjle.crops import local_inputs
from fer_utils.training.config import TrainConfig


def batch_indices(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A random permutation of ``0..n-1`` cut into ``ceil(n / batch_size)`` batches.

    The batches differ in size by at most one, so every sample
    is used each epoch and no batch is tiny (a batch of one would break batch norm).
    """
    perm = torch.randperm(n, generator=generator)
    return list(torch.tensor_split(perm, max(1, math.ceil(n / batch_size))))


@dataclass
class DeviceData:
    """A dataset ready for training: uint8 images at the model size, on the device.

    ``distributions`` (``N x K`` or ``None``) stay on the CPU.
    Multi-label runs (notebook 05) add ``targets``, the 0/1 float matrix ``N x L`` on the
    device, and MF-JLE adds ``local_images``, the uint8 crops ``N x 5 x C x s x s``.
    """

    images: torch.Tensor
    labels: torch.Tensor
    distributions: torch.Tensor | None
    classes: tuple[str, ...]
    targets: torch.Tensor | None = None
    local_images: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.labels.shape[0])


def prepare_data(dataset: FERDataset, config: TrainConfig, device: torch.device) -> DeviceData:
    """``dataset`` as :class:`DeviceData`: channels matched, resized once, moved to ``device``.

    Distributions are kept only when they have one column per
    class. For ``task="multi_label"`` the multi-hot ``targets`` come along, and for MF-JLE
    the five landmark crops of every image, cut once here
    (:func:`fer_utils.mfjle.crops.local_inputs`).
    """
    channels = aug.match_channels(dataset.images, config.network.in_channels)
    images = aug.resize_uint8(channels, config.network.image_size)
    dist = dataset.distributions
    if dist is not None and tuple(dist.shape) != (len(dataset), dataset.num_classes):
        dist = None
    targets = local = None
    if config.task == "multi_label":
        targets = dataset.multilabels.to(device=device, dtype=torch.float32)
    if config.network.model == "mfjle":
        ml = config.multilabel
        local = local_inputs(
            dataset, ml.local_size, ml.crop_fraction, config.network.in_channels
        ).to(device)
    return DeviceData(
        images=images.to(device),
        labels=dataset.labels.to(device=device, dtype=torch.long),
        distributions=None if dist is None else dist.float().cpu(),
        classes=dataset.classes,
        targets=targets,
        local_images=local,
    )


def data_fingerprint(*datasets: FERDataset | None, multilabel: bool = False) -> str:
    """A short hash of the images and labels of ``datasets`` (``None`` counts too).

    A checkpoint remembers it, so a resumed run is refused when
    its data differ (e.g. another cross-validation fold under the same run name). With
    ``multilabel=True`` (notebook 05) the multi-hot targets and the landmarks that place
    MF-JLE's crops enter the hash as well; single-label hashes are unchanged by them.
    """
    h = hashlib.sha256()
    for ds in datasets:
        if ds is None:
            h.update(b"none")
            continue
        h.update(str(tuple(ds.images.shape)).encode())
        h.update(ds.images.contiguous().numpy().tobytes())
        h.update(ds.labels.cpu().numpy().astype(np.int64).tobytes())
        h.update(",".join(ds.classes).encode())
        if multilabel:
            for extra in (ds.multilabels, ds.landmarks):
                h.update(b"none" if extra is None else extra.float().numpy().tobytes())
    return h.hexdigest()[:16]
