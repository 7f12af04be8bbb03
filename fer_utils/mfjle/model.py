"""Paper B's MF-JLE ensemble: one global and five local ResNet-18s, and their ensemble score.

Notebook 05 (MF-JLE ensemble) trains it through :func:`fer_utils.training.loop.train`. Every
module is a :class:`fer_utils.models.FeatureClassifier` ending in one logit per label; the
ensemble score is the lambda-weighted sum of the module logits (``docs/replication.md`` D8:
logits throughout, no softmax), and its sigmoid gives the per-label probabilities.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from fer_utils.models import FeatureClassifier, build_model

#: Number of local MF-JLE modules: one per landmark (eyes, nose tip, mouth corners).
NUM_LOCAL: int = 5


class MFJLE(nn.Module):
    """Paper B's multi-feature joint-learning ensemble: one global and five local ResNet-18s.

    Each of the six modules is a :class:`FeatureClassifier`
    (ResNet-18 from scratch) ending in one logit per label. The global module sees the
    whole face ``N x C x H x W``; local module ``i`` sees the crop around landmark ``i``,
    ``x_local[:, i]`` of an ``N x 5 x C x h x w`` tensor (see :mod:`fer_utils.mfjle.crops`).
    The ensemble score is ``global + sum_i lambda_i * local_i`` (logits; ``lambda_i`` are
    ``local_weights``); its sigmoid gives the per-label probabilities.
    """

    def __init__(
        self,
        num_labels: int,
        in_channels: int = 3,
        local_weights: Sequence[float] = (0.01,) * NUM_LOCAL,
        input_norm: str = "none",
        stem: str = "standard",
    ) -> None:
        super().__init__()
        weights = torch.as_tensor(list(local_weights), dtype=torch.float32)
        if weights.shape != (NUM_LOCAL,) or not torch.isfinite(weights).all():
            raise ValueError(
                f"local_weights must be {NUM_LOCAL} finite numbers, got {list(local_weights)}"
            )
        self.num_classes = num_labels

        def module() -> FeatureClassifier:
            return build_model("resnet18", num_labels, in_channels, input_norm, stem=stem)

        self.global_module = module()
        self.local_modules = nn.ModuleList(module() for _ in range(NUM_LOCAL))
        self.register_buffer("local_weights", weights)

    def module_logits(
        self, x_global: torch.Tensor, x_local: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The logits of every module: global ``N x L`` and local ``N x 5 x L``."""
        if x_local.ndim != 5 or x_local.shape[1] != NUM_LOCAL:
            raise ValueError(
                f"x_local must be N x {NUM_LOCAL} x C x h x w, got {tuple(x_local.shape)}"
            )
        g = self.global_module(x_global)
        local = torch.stack([m(x_local[:, i]) for i, m in enumerate(self.local_modules)], 1)
        return g, local

    def combine(self, global_logits: torch.Tensor, local_logits: torch.Tensor) -> torch.Tensor:
        """The ensemble score ``global + sum_i lambda_i * local_i`` (``N x L`` logits)."""
        w = self.local_weights.to(local_logits.dtype).view(1, -1, 1)
        return global_logits + (w * local_logits).sum(dim=1)  # s = g + sum_i lambda_i l_i

    def forward(self, x_global: torch.Tensor, x_local: torch.Tensor) -> torch.Tensor:
        """The ensemble score for a batch (``N x L`` logits)."""
        return self.combine(*self.module_logits(x_global, x_local))
