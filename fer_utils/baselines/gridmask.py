"""GridMask (Chen et al., "GridMask Data Augmentation", arXiv 2001.04086, 2020), batched.

Each image is multiplied by a grid of removed squares: in every ``d x d`` unit of a
periodic grid, stripes of width ``l = ceil(r d)`` along the unit's top and left edges are
kept and the remaining ``(d - l) x (d - l)`` square is set to 0. Per image, ``d`` is drawn
uniformly (in pixels) from ``[d_min, d_max]`` times the shorter image side and the grid is
shifted by random offsets ``0 <= dx, dy < d``; an image is masked with probability ``p``.
Labels are unchanged.

Differences from the paper: the optional random rotation of the mask is skipped, and
``p`` stays constant instead of rising over training.
"""

from __future__ import annotations

import math

import torch


def grid_masks(
    n: int,
    height: int,
    width: int,
    d_min: float,
    d_max: float,
    ratio: float,
    p: float,
    generator: torch.Generator | None,
) -> torch.Tensor:
    """Boolean keep-masks ``n x 1 x H x W`` (true = pixel kept), drawn on the CPU."""
    side = min(height, width)
    lo = max(2, round(d_min * side))
    hi = max(lo, round(d_max * side))
    d = torch.randint(lo, hi + 1, (n,), generator=generator)
    keep_width = torch.ceil(d.double() * ratio).long().clamp(max=d)
    offsets = (torch.rand(n, 2, generator=generator) * d.view(-1, 1)).long()
    masked = torch.rand(n, generator=generator) < p
    ys = torch.arange(height).view(1, -1)
    xs = torch.arange(width).view(1, -1)
    row_kept = (ys - offsets[:, :1]).remainder(d.view(-1, 1)) < keep_width.view(-1, 1)
    col_kept = (xs - offsets[:, 1:]).remainder(d.view(-1, 1)) < keep_width.view(-1, 1)
    keep = row_kept.unsqueeze(2) | col_kept.unsqueeze(1)
    return (keep | ~masked.view(-1, 1, 1)).unsqueeze(1)


def gridmask(
    images: torch.Tensor,
    generator: torch.Generator | None,
    d_min: float = 0.43,
    d_max: float = 1.0,
    ratio: float = 0.6,
    p: float = 0.8,
) -> torch.Tensor:
    """GridMask of a float batch ``N x C x H x W``: removed squares set to 0, same dtype."""
    n, _, h, w = images.shape
    keep = grid_masks(n, h, w, d_min, d_max, ratio, p, generator).to(images.device)
    return images * keep.to(images.dtype)


def removed_fraction(d: int, ratio: float) -> float:
    """The fraction of a whole number of grid units that GridMask removes: ``((d - l) / d)^2``."""
    keep_width = min(d, math.ceil(d * ratio))
    return ((d - keep_width) / d) ** 2
