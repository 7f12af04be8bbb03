"""MixUp, CutMix and AugMix, from :mod:`torchvision.transforms.v2`, seeded by the trainer.

* **MixUp** (Zhang et al., "mixup: Beyond Empirical Risk Minimization", ICLR 2018): one
  weight ``lam ~ Beta(a, a)`` per batch; every image becomes ``lam x_i + (1 - lam) x_j``
  and its label ``lam y_i + (1 - lam) y_j``.
* **CutMix** (Yun et al., ICCV 2019): one box per batch, of area ``(1 - lam)`` of the
  image with ``lam ~ Beta(a, a)``, clipped at the border; the box of ``x_j`` is pasted
  into ``x_i`` and the labels are mixed by the box's actual area.
* **AugMix** (Hendrycks et al., ICLR 2020): each image becomes a convex mix of itself and
  ``width`` chains of 1-3 random operations (rotations, shears, posterize, ...); labels
  are unchanged. Only the augmentation is used here: the paper's Jensen-Shannon
  consistency loss over two AugMix views is not part of this baseline.

torchvision pairs sample ``i`` with ``j = i - 1`` (a roll of the batch), which is a random
pairing because the trainer shuffles the data every epoch. Its transforms draw from torch's
global generator: every call here runs under :func:`~fer_utils.baselines.common.seeded_global_rng`
with a seed drawn from the trainer's generator, so a seed repeats its batches exactly.
"""

from __future__ import annotations

import torch
from torchvision.transforms import v2

from fer_utils.baselines.common import draw_seed, seeded_global_rng


def mixup(
    images: torch.Tensor, labels: torch.Tensor, num_classes: int, alpha: float,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """MixUp of a float batch: the mixed images and ``N x num_classes`` label distributions."""
    with seeded_global_rng(draw_seed(generator)):
        return v2.MixUp(alpha=alpha, num_classes=num_classes)(images, labels)


def cutmix(
    images: torch.Tensor, labels: torch.Tensor, num_classes: int, alpha: float,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """CutMix of a float batch: the mixed images and labels weighted by the pasted area."""
    with seeded_global_rng(draw_seed(generator)):
        return v2.CutMix(alpha=alpha, num_classes=num_classes)(images, labels)


class _SeededAugMix(v2.AugMix):
    """torchvision's AugMix whose Dirichlet weights come from a given CPU generator.

    torchvision samples the weights on the images' device; drawing them on the CPU makes
    a CUDA run draw the same numbers as a CPU run.
    """

    def __init__(self, generator: torch.Generator | None, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.generator = generator

    def _sample_dirichlet(self, params: torch.Tensor) -> torch.Tensor:
        draws = torch._sample_dirichlet(params.cpu().float(), generator=self.generator)
        return draws.to(params.device)


def augmix(
    images: torch.Tensor,
    generator: torch.Generator | None,
    severity: int = 3,
    width: int = 3,
    depth: int = -1,
    alpha: float = 1.0,
    all_ops: bool = True,
    chunk: int = 1,
) -> torch.Tensor:
    """AugMix of a uint8 batch ``N x C x H x W`` (C = 1 or 3); returns uint8, same shape.

    The batch is cut into chunks of ``chunk`` images; the images of a chunk share
    one draw of operations and magnitudes, while the mixing weights are drawn per image
    (``chunk=1``: everything per image, as in the paper, at one transform call per image).
    """
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(f"augmix needs a uint8 batch N x C x H x W, got {images.dtype} "
                         f"{tuple(images.shape)}")
    transform = _SeededAugMix(generator, severity=severity, mixture_width=width,
                              chain_depth=depth, alpha=alpha, all_ops=all_ops)
    with seeded_global_rng(draw_seed(generator)):
        parts = [transform(part) for part in images.split(chunk)]
    return torch.cat(parts) if parts else images.clone()
