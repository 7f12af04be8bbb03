"""Batched image augmentation on the training device, driven by a seeded generator.

Notebook 04 (training) uses it through :func:`fer_utils.training.loop.train`. Images stay
uint8 ``N x C x H x W`` tensors on the device; a whole mini-batch is augmented at once, with
no Python loop over images:

1. **Resize** to the model's input size (bilinear, anti-aliased when shrinking) and scale
   pixels to float ``[0, 1]`` (paper A: "pixels scaled to [0, 1]"). This is all the
   evaluation path :func:`to_model_input` does.
2. **Geometry**, one :func:`torch.nn.functional.affine_grid` /
   :func:`~torch.nn.functional.grid_sample` call for the whole batch: a random horizontal
   flip, a random shift of up to ``max_shift`` of the image side in x and in y (the
   *pad-and-crop* style of random crop: padding by ``max_shift * side`` and cropping a
   window of the original size at a random position shifts the face by the same amount;
   uncovered pixels are filled as ``fill`` says, zeros by default, as zero padding would)
   and, for FER+, a small random rotation about the image centre.
3. **Brightness** (FER+): every image is multiplied by a factor drawn uniformly from
   ``[1 - brightness, 1 + brightness]`` and clipped to ``[0, 1]``.

Every random number comes from the ``torch.Generator`` passed in, drawn on the CPU, so the
same generator seed gives the same augmented batch on every device. Named policies:
``"none"`` (resize and scale only), ``"basic"`` (flips and shifts: JAFFE and CK+ in paper
A) and ``"ferplus"`` (adds rotations and brightness: FER+ in paper A).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

#: How ``grid_sample`` fills pixels that come from outside the image.
FILL_MODES: tuple[str, ...] = ("zeros", "border", "reflection")


@dataclass(frozen=True)
class AugmentPolicy:
    """What one augmentation policy does; every amount 0 switches that step off.

    Attributes:
        flip: mirror each image left-right with probability 1/2.
        max_shift: largest shift in x and in y, as a fraction of the image side.
        max_rotation: largest rotation in degrees (uniform in ``[-r, r]``).
        brightness: brightness factor drawn from ``[1 - b, 1 + b]``.
        fill: how uncovered pixels are filled (one of :data:`FILL_MODES`).
    """

    flip: bool = False
    max_shift: float = 0.0
    max_rotation: float = 0.0
    brightness: float = 0.0
    fill: str = "zeros"

    def __post_init__(self) -> None:
        if not 0.0 <= self.max_shift < 0.5:
            raise ValueError(f"max_shift must be in [0, 0.5), got {self.max_shift}")
        if not 0.0 <= self.max_rotation <= 180.0:
            raise ValueError(f"max_rotation must be in [0, 180] degrees, got {self.max_rotation}")
        if not 0.0 <= self.brightness < 1.0:
            raise ValueError(f"brightness must be in [0, 1), got {self.brightness}")
        if self.fill not in FILL_MODES:
            raise ValueError(f"fill must be one of {', '.join(FILL_MODES)}, got {self.fill!r}")

    @property
    def is_geometric(self) -> bool:
        """Whether the policy moves pixels (flip, shift or rotation)."""
        return self.flip or self.max_shift > 0 or self.max_rotation > 0


#: The named policies of :class:`fer_utils.training.config.TrainConfig` ``augment``. A shift of
#: 1/8 of the side is padding 6 pixels and cropping at 48x48 (32 pixels at 256x256);
#: 10 degrees and +-20 % brightness are this repository's reading of paper A's "small
#: rotations and brightness changes", which gives no amounts.
POLICIES: dict[str, AugmentPolicy] = {
    "none": AugmentPolicy(),
    "basic": AugmentPolicy(flip=True, max_shift=0.125),
    "ferplus": AugmentPolicy(flip=True, max_shift=0.125, max_rotation=10.0, brightness=0.2),
}


def get_policy(policy: str | AugmentPolicy) -> AugmentPolicy:
    """The :class:`AugmentPolicy` called ``policy`` (or ``policy`` itself).

    An unknown name raises ``ValueError`` listing the names.
    """
    if isinstance(policy, AugmentPolicy):
        return policy
    if policy not in POLICIES:
        raise ValueError(
            f"unknown augment policy {policy!r}; expected one of {', '.join(POLICIES)}"
        )
    return POLICIES[policy]


def resize_uint8(images: torch.Tensor, size: int) -> torch.Tensor:
    """Square-resize a uint8 batch to ``size x size``, keeping uint8 (rounded).

    The trainer resizes a whole dataset once with this, so
    that per-batch work happens at the model's input size. Returns ``images`` itself when
    it already has that size.
    """
    if tuple(images.shape[-2:]) == (size, size):
        return images
    out = F.interpolate(
        images.float(), size=(size, size), mode="bilinear", align_corners=False, antialias=True
    )
    return out.round_().clamp_(0, 255).to(torch.uint8)


def to_model_input(images: torch.Tensor, size: int | None = None) -> torch.Tensor:
    """The evaluation path: resize (when ``size`` differs) and scale uint8 to float [0, 1].

    Deterministic; the training path :func:`augment_batch`
    with policy ``"none"`` returns the same values.
    """
    if images.dtype != torch.uint8 or images.ndim != 4:
        raise ValueError(
            f"images must be a uint8 tensor N x C x H x W, got {images.dtype} "
            f"with shape {tuple(images.shape)}"
        )
    x = images.float().div_(255.0)
    if size is not None and tuple(x.shape[-2:]) != (size, size):
        x = F.interpolate(
            x, size=(size, size), mode="bilinear", align_corners=False, antialias=True
        ).clamp_(0.0, 1.0)
    return x


def random_affine_matrices(
    n: int, policy: AugmentPolicy, generator: torch.Generator | None = None
) -> torch.Tensor:
    """``n`` random 2x3 matrices (output -> input coordinates, in [-1, 1] units), on CPU.

    Each matrix is ``rotation @ flip`` plus a shift: with
    normalised coordinates a shift of ``s`` image sides is ``2 s`` units.
    """
    u = torch.rand(n, 4, generator=generator)  # flip, shift x, shift y, angle
    sign = torch.where(u[:, 0] < 0.5, -1.0, 1.0) if policy.flip else torch.ones(n)
    shift = (u[:, 1:3] * 2.0 - 1.0) * (2.0 * policy.max_shift)
    angle = (u[:, 3] * 2.0 - 1.0) * math.radians(policy.max_rotation)
    cos, sin = torch.cos(angle), torch.sin(angle)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0] = cos * sign
    theta[:, 0, 1] = -sin
    theta[:, 1, 0] = sin * sign
    theta[:, 1, 1] = cos
    theta[:, :, 2] = shift
    return theta


def augment_batch(
    images: torch.Tensor,
    size: int | None = None,
    policy: str | AugmentPolicy = "basic",
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Randomly augment a uint8 batch and return float images in [0, 1] of ``size x size``.

    Steps and policies are described in the module docstring;
    all randomness is drawn from ``generator`` (seed it for reproducible batches). The
    output lies on the device of ``images``.
    """
    pol = get_policy(policy)
    x = to_model_input(images, size)
    n = x.shape[0]
    if pol.is_geometric and n > 0:
        theta = random_affine_matrices(n, pol, generator).to(x.device)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, mode="bilinear", padding_mode=pol.fill, align_corners=False)
    if pol.brightness > 0 and n > 0:
        factor = 1.0 + (torch.rand(n, generator=generator) * 2.0 - 1.0) * pol.brightness
        x = (x * factor.to(x.device).view(n, 1, 1, 1)).clamp_(0.0, 1.0)
    return x


def match_channels(images: torch.Tensor, in_channels: int) -> torch.Tensor:
    """uint8 images with ``in_channels`` channels: gray repeated, or RGB turned to luma.

    Used by the trainer and by the MF-JLE crops.
    """
    c = images.shape[1]
    if c == in_channels:
        return images
    if c == 1 and in_channels == 3:
        return images.expand(-1, 3, -1, -1).contiguous()
    if c == 3 and in_channels == 1:
        luma = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1)
        gray = (images.float() * luma.to(images.device)).sum(dim=1, keepdim=True)
        return gray.round_().clamp_(0, 255).to(torch.uint8)
    raise ValueError(f"cannot turn {c}-channel images into {in_channels} channels")
