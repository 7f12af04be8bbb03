"""A token-grid CutMix standing in for TokenMix (Liu et al., "TokenMix: Rethinking Image
Mixing for Data Augmentation in Vision Transformers", ECCV 2022), batched.

The image is divided into a ``g x g`` grid of tokens (rows and columns of pixels split as
evenly as the side allows). One ``lam ~ Beta(a, a)`` per batch sets the number of pasted
tokens ``round((1 - lam) g^2)``; every image ``i`` takes that many tokens, chosen at random
per image, from a source image ``j`` (a random permutation). Labels are mixed by the
pasted pixel area exactly.

**Deviation.** TokenMix assigns the mixed label from a pretrained teacher's activation
maps over the pasted tokens; no such teacher is available offline, so the labels here are
mixed by area, as in CutMix.
"""

from __future__ import annotations

import torch

from fer_utils.baselines.common import paste, random_permutation, sample_beta


def token_masks(
    n: int, height: int, width: int, grid: int, tokens: int, generator: torch.Generator | None
) -> torch.Tensor:
    """Boolean ``n x 1 x H x W`` masks, each true on ``tokens`` random cells of a grid."""
    cells = grid * grid
    ranks = torch.rand(n, cells, generator=generator).argsort(1).argsort(1)
    chosen = (ranks < tokens).view(n, grid, grid)
    rows = torch.arange(height) * grid // height
    cols = torch.arange(width) * grid // width
    return chosen[:, rows][:, :, cols].unsqueeze(1)


def tokenmix(
    images: torch.Tensor, labels: torch.Tensor, num_classes: int, alpha: float, grid: int,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Token-grid mix of a float batch: mixed images and label distributions by area."""
    n, _, h, w = images.shape
    grid = min(grid, h, w)
    lam = float(sample_beta(alpha, 1, generator))
    tokens = round((1.0 - lam) * grid * grid)
    source = random_permutation(n, generator)
    mask = token_masks(n, h, w, grid, tokens, generator)
    return paste(images, labels, source, mask, num_classes)
