"""Shared pieces of the Table 4 comparison methods: seeded draws and mixed label targets.

Every random number of a comparison method comes from the trainer's per-epoch ``"mix"``
generator (:func:`fer_utils.training.runtime.epoch_generators`), drawn on the CPU, so the
same seed gives the same batch on every device. torchvision's MixUp, CutMix and AugMix
draw from torch's global generator instead; :func:`seeded_global_rng` runs them with the
CPU global generator seeded from the trainer's generator and restores it afterwards.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch
import torch.nn.functional as F


def draw_seed(generator: torch.Generator | None) -> int:
    """A 62-bit seed drawn from ``generator`` (for code that uses torch's global RNG)."""
    return int(torch.randint(0, 2**62, (1,), generator=generator))


@contextlib.contextmanager
def seeded_global_rng(seed: int) -> Iterator[None]:
    """Run the ``with`` block with torch's CPU global generator seeded to ``seed``.

    The global generator's state before the block is restored afterwards
    (:func:`torch.random.fork_rng` over the CPU only), so the rest of the program, and
    the trainer's own generators, never see the draws made inside.
    """
    with torch.random.fork_rng(devices=[]):
        torch.default_generator.manual_seed(seed)
        yield


def sample_beta(alpha: float, n: int, generator: torch.Generator | None) -> torch.Tensor:
    """``n`` draws from Beta(alpha, alpha) on the CPU, from ``generator`` (float32)."""
    concentration = torch.full((n, 2), float(alpha))
    return torch._sample_dirichlet(concentration, generator=generator)[:, 0]


def mixed_targets(
    labels: torch.Tensor, source: torch.Tensor, source_weight: torch.Tensor, num_classes: int
) -> torch.Tensor:
    """Label distributions ``N x num_classes`` of a mixed batch.

    Sample ``i`` keeps ``1 - source_weight[i]`` of its own one-hot label and takes
    ``source_weight[i]`` of the label of sample ``source[i]``; every row sums to 1.
    """
    own = F.one_hot(labels, num_classes).float()
    w = source_weight.to(own.device, torch.float32).view(-1, 1)
    return own * (1.0 - w) + own[source.to(own.device)] * w


def random_permutation(n: int, generator: torch.Generator | None) -> torch.Tensor:
    """A random permutation of ``range(n)`` from ``generator`` (CPU)."""
    return torch.randperm(n, generator=generator)


def box_mask(
    height: int, width: int, y1: torch.Tensor, y2: torch.Tensor, x1: torch.Tensor,
    x2: torch.Tensor,
) -> torch.Tensor:
    """Boolean ``N x 1 x H x W`` masks, true inside the boxes ``[y1, y2) x [x1, x2)``."""
    ys = torch.arange(height, device=y1.device).view(1, -1, 1)
    xs = torch.arange(width, device=x1.device).view(1, 1, -1)
    inside_y = (ys >= y1.view(-1, 1, 1)) & (ys < y2.view(-1, 1, 1))
    inside_x = (xs >= x1.view(-1, 1, 1)) & (xs < x2.view(-1, 1, 1))
    return (inside_y & inside_x).unsqueeze(1)


def paste(
    images: torch.Tensor, labels: torch.Tensor, source: torch.Tensor, mask: torch.Tensor,
    num_classes: int,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Paste ``images[source]`` into ``images`` where ``mask`` is true; labels by area.

    ``mask`` is boolean ``N x 1 x H x W``. Sample ``i``'s label weight on its source's
    class is exactly the fraction of its pixels that were pasted (the mask's mean).
    """
    src = source.to(images.device)
    mask = mask.to(images.device)
    out = torch.where(mask, images[src], images)
    area = mask.flatten(1).float().mean(1)
    return out, mixed_targets(labels, src, area, num_classes)
