"""SaliencyMix (Uddin et al., "SaliencyMix: A Saliency Guided Data Augmentation Strategy
for Better Regularization", ICLR 2021), batched, with a substitute saliency detector.

One ``lam ~ Beta(a, a)`` per batch sets the patch side ``sqrt(1 - lam)`` times the image
side (as in CutMix). Every image ``i`` gets a source image ``j`` (a random permutation);
the patch is centred on the most salient pixel of ``x_j``, clipped at the border, and
pasted at the same place into ``x_i``. Labels are mixed by the pasted area exactly.

**Substitute saliency.** The paper uses OpenCV's fine-grained static saliency detector
(opencv-contrib, not available here). This module uses the *spectral residual* saliency
of Hou and Zhang ("Saliency Detection: A Spectral Residual Approach", CVPR 2007),
computed in torch with the FFT (:func:`spectral_residual_saliency`). The original code
also computes one box from the first source image and uses it for the whole batch; here
every source image gets its own box around its own salient point, as the paper describes.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from fer_utils.baselines.common import box_mask, paste, random_permutation, sample_beta


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Blur ``N x 1 x H x W`` maps with a Gaussian of ``sigma`` pixels (separable, reflected)."""
    radius = max(1, round(3 * sigma))
    offsets = torch.arange(-radius, radius + 1, dtype=maps.dtype, device=maps.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    out = F.conv2d(F.pad(maps, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))
    return F.conv2d(F.pad(out, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1))


def spectral_residual_saliency(
    images: torch.Tensor, work_size: int = 64, blur_sigma: float = 2.5
) -> torch.Tensor:
    """Spectral-residual saliency maps ``N x H x W`` (>= 0) of a batch ``N x C x H x W``.

    The channel mean is resized to ``work_size``; with ``A`` the log amplitude and ``P``
    the phase of its 2-D FFT, the saliency is ``|IFFT(exp(A - mean3x3(A) + iP))|^2``,
    blurred with a Gaussian of ``blur_sigma`` pixels and resized back to ``H x W``.
    """
    n, _, h, w = images.shape
    gray = images.float().mean(1, keepdim=True)
    small = F.interpolate(gray, size=(work_size, work_size), mode="bilinear",
                          align_corners=False, antialias=True)
    spectrum = torch.fft.fft2(small)
    log_amp = torch.log(spectrum.abs() + 1e-8)
    local_mean = F.avg_pool2d(F.pad(log_amp, (1, 1, 1, 1), mode="circular"), 3, stride=1)
    # exp(A - mean3x3(A) + iP) = F exp(-mean3x3(A)) (up to the 1e-8 inside the log)
    saliency = torch.fft.ifft2(spectrum * torch.exp(-local_mean)).abs().square()
    saliency = gaussian_blur(saliency, blur_sigma)
    saliency = F.interpolate(saliency, size=(h, w), mode="bilinear", align_corners=False)
    return saliency.squeeze(1)


def salient_points(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Row and column of the most salient pixel of every image (first one on ties)."""
    saliency = spectral_residual_saliency(images)
    flat = saliency.flatten(1).argmax(1)
    width = images.shape[-1]
    return flat // width, flat % width


def saliencymix(
    images: torch.Tensor, labels: torch.Tensor, num_classes: int, alpha: float,
    generator: torch.Generator | None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """SaliencyMix of a float batch: mixed images and ``N x num_classes`` label distributions."""
    n, _, h, w = images.shape
    lam = float(sample_beta(alpha, 1, generator))
    source = random_permutation(n, generator)
    cy, cx = salient_points(images)
    cy, cx = cy[source.to(cy.device)], cx[source.to(cx.device)]
    cut = (1.0 - lam) ** 0.5
    half_h, half_w = int(h * cut) // 2, int(w * cut) // 2
    mask = box_mask(h, w, (cy - half_h).clamp(0, h), (cy + half_h).clamp(0, h),
                    (cx - half_w).clamp(0, w), (cx + half_w).clamp(0, w))
    return paste(images, labels, source, mask, num_classes)
