"""MixStyle (Zhou et al., "Domain Generalization with MixStyle", ICLR 2021), as forward hooks.

Paper A's Table 4 lists this method as "StyleMix"; its reference points to MixStyle, which
is what is built here. During training, with probability ``p`` per layer and batch, the
feature maps ``x`` of a chosen backbone layer are re-styled: with per-sample, per-channel
mean ``mu`` and standard deviation ``sigma`` over the spatial positions (both treated as
constants in back-propagation), a random partner ``j`` (a permutation of the batch) and
``lam ~ Beta(a, a)`` per sample,

    out = (x - mu_i) / sigma_i * (lam sigma_i + (1 - lam) sigma_j) + (lam mu_i + (1 - lam) mu_j).

Labels are unchanged. In eval mode, and with ``p = 0``, the layer output is untouched.
:func:`mixstyle_hooks` attaches the mixing to a model for one training step, so the model
itself (and its checkpoints) stays a plain backbone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence

import torch
from torch import nn

from fer_utils.baselines.common import random_permutation, sample_beta
from fer_utils.models import InputNorm, build_backbone
from fer_utils.training.checks import fail

#: The models ``mixstyle_layers="auto"`` knows (see :func:`mixstyle_layers`).
AUTO_MODELS: tuple[str, ...] = ("resnet18", "cnn3")


class MixStyle(nn.Module):
    """Mixes per-channel feature statistics between the samples of a batch (see module).

    Random numbers come from ``generator`` (CPU). ``eps`` is added to the variance.
    """

    def __init__(
        self, p: float = 0.5, alpha: float = 0.1, generator: torch.Generator | None = None,
        eps: float = 1e-6,
    ) -> None:
        super().__init__()
        self.p, self.alpha, self.eps = float(p), float(alpha), float(eps)
        self.generator = generator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` re-styled (``N x C x H x W``), or ``x`` itself in eval mode or when skipped."""
        if not self.training or self.p <= 0.0 or x.shape[0] < 2 or x[0, 0].numel() < 2:
            return x
        if float(torch.rand((), generator=self.generator)) >= self.p:
            return x
        n = x.shape[0]
        xf = x.float()
        mu = xf.mean(dim=(2, 3), keepdim=True).detach()
        sigma = (xf.var(dim=(2, 3), keepdim=True) + self.eps).sqrt().detach()
        lam = sample_beta(self.alpha, n, self.generator).to(x.device).view(n, 1, 1, 1)
        partner = random_permutation(n, self.generator).to(x.device)
        mu_mix = lam * mu + (1.0 - lam) * mu[partner]
        sigma_mix = lam * sigma + (1.0 - lam) * sigma[partner]
        return ((xf - mu) / sigma * sigma_mix + mu_mix).to(x.dtype)


def mixstyle_layers(
    backbone: nn.Module, model_name: str, layers: str | Sequence[str]
) -> tuple[str, ...]:
    """The backbone layer names of ``layers``; ``"auto"`` picks them from the model.

    ResNet-18: the first three residual stages ``layer1``-``layer3`` (one of the settings
    of the MixStyle authors' code, which mixes early, style-carrying layers only); cnn3:
    every conv block but the last (at least the first), i.e. ``"0"`` and ``"1"`` of the
    default three.
    """
    if layers != "auto":
        return tuple(layers)
    if model_name == "resnet18":
        return ("layer1", "layer2", "layer3")
    if model_name == "cnn3":
        blocks = [n for n, m in _core(backbone).named_children() if isinstance(m, nn.Sequential)]
        return tuple(blocks[: max(1, len(blocks) - 1)])
    raise ValueError(f"no automatic MixStyle layers for model {model_name!r}")


def _core(backbone: nn.Module) -> nn.Module:
    """The backbone without the input normalisation :func:`build_model` may put in front."""
    if isinstance(backbone, nn.Sequential) and len(backbone) == 2 and isinstance(
        backbone[0], InputNorm
    ):
        return backbone[1]
    return backbone


def find_layers(backbone: nn.Module, names: Sequence[str]) -> list[nn.Module]:
    """The modules called ``names`` in ``backbone``; an unknown name raises ``ValueError``."""
    core = _core(backbone)
    found = []
    for name in names:
        try:
            found.append(core.get_submodule(name))
        except AttributeError:
            children = ", ".join(n for n, _ in core.named_children())
            raise ValueError(
                f"MixStyle layer {name!r} is not in the backbone; its top-level modules "
                f"are {children}"
            ) from None
    return found


def check_layers(
    model_name: str, in_channels: int, options: dict[str, object], stem: str,
    layers: str | Sequence[str],
) -> None:
    """Refuse ``mixstyle_layers`` that the network of a config does not have.

    Explicit names are looked up in a throw-away backbone; ``"auto"`` is always valid.
    """
    if layers == "auto":
        return
    if model_name not in AUTO_MODELS:
        fail("mixstyle_layers", f"'auto' or layers of {list(AUTO_MODELS)}", layers)
    if model_name == "resnet18":
        options = {**options, "stem": stem}
    backbone, _ = build_backbone(model_name, in_channels, **options)
    try:
        find_layers(backbone, layers)
    except ValueError as err:
        fail("mixstyle_layers", f"names of modules of {model_name} ({err})", layers)


@contextlib.contextmanager
def mixstyle_hooks(
    model: nn.Module, names: Sequence[str], p: float, alpha: float,
    generator: torch.Generator | None,
) -> Iterator[MixStyle]:
    """Apply :class:`MixStyle` to the outputs of ``model.backbone``'s layers ``names``.

    Forward hooks live for the ``with`` block only. A hooked layer in eval mode passes
    its output through unchanged.
    """
    mixer = MixStyle(p, alpha, generator)

    def hook(module: nn.Module, args: object, output: torch.Tensor) -> torch.Tensor:
        return mixer(output) if module.training else output

    handles = [layer.register_forward_hook(hook) for layer in find_layers(model.backbone, names)]
    try:
        yield mixer
    finally:
        for handle in handles:
            handle.remove()
