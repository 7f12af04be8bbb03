"""Paper B's MF-JLE settings, and a CPU-sized variant of them: :func:`mfjle_preset`.

Introduced in notebook 05 (MF-JLE ensemble).
"""

from __future__ import annotations

from typing import Any

import torch

from fer_utils.training.config import TrainConfig

#: Paper B's MF-JLE settings (``docs/replication.md``, paper B's settings): 224x224 RGB with
#: ImageNet normalisation, Adam 1e-4 (betas 0.9, 0.999), x0.9 every 50 epochs, 218 epochs,
#: batch 128, lambda_i = 0.01. Local crops enter their modules at the global size, so every
#: module costs what the global one does.
_MFJLE_PAPER = TrainConfig.from_flat(
    task="multi_label",
    model="mfjle",
    image_size=224,
    local_size=224,
    in_channels=3,
    input_norm="imagenet",
    epochs=218,
    batch_size=128,
    optimizer="adam",
    lr=1e-4,
    weight_decay=0.0,
    schedule="step",
    step_every=50,
    gamma=0.9,
    local_weights=0.01,
    augment="basic",
)

#: Paper B's settings and a CPU-sized variant of them; see :func:`mfjle_preset`. The CPU
#: preset is not from the paper: small enough for a laptop CPU (MF-JLE about 20 training
#: images/s on 2 cores, about 8 s per JAFFE epoch), in float32 because bfloat16 autocast
#: made the ensemble slower at these small inputs (10 vs 14 images/s on a busy CPU).
MFJLE_PRESETS: dict[str, TrainConfig] = {
    "paper": _MFJLE_PAPER,
    "cpu": _MFJLE_PAPER.replace(
        image_size=64,
        local_size=32,
        epochs=30,
        batch_size=32,
        lr=1e-3,
        step_every=10,
        amp="off",
    ),
}


def mfjle_preset(name: str = "auto", **overrides: Any) -> tuple[TrainConfig, str]:
    """Paper B's MF-JLE settings (``"paper"``) or the CPU-sized ones (``"cpu"``).

    Introduced in notebook 05. ``"auto"`` takes ``"paper"`` when a CUDA GPU is present and
    ``"cpu"`` otherwise; the name actually used is returned next to the config, so that
    notebooks and results tables can state it. Pass ``model="resnet18"`` for paper B's
    single-network baseline with the same settings.

    ============ ======== ====== ====== ===== ===== ================================
    preset       global   local  epochs batch lr    schedule
    ============ ======== ====== ====== ===== ===== ================================
    paper        224      224    218    128   1e-4  x0.9 every 50 epochs
    cpu          64       32     30     32    1e-3  x0.9 every 10 epochs
    ============ ======== ====== ====== ===== ===== ================================

    Both: Adam (betas 0.9, 0.999, no weight decay), RGB input with ImageNet normalisation,
    crops 1/4 of the image width (``docs/replication.md`` D9), ``lambda_i = 0.01``, flips
    and shifts (paper B does not describe its augmentation; this is our choice), model
    selection on the validation loss. The CPU preset shrinks the inputs 3.5x and 7x, runs in
    float32 (``amp="off"``), and trades epochs for a 10x larger learning rate (with Adam
    1e-4, 30 epochs on ~130 JAFFE images leave ResNet-18 far from fitted); its numbers are
    not paper B's setting and must be labelled as such.
    """
    if name == "auto":
        name = "paper" if torch.cuda.is_available() else "cpu"
    if name not in MFJLE_PRESETS:
        raise ValueError(f"unknown MF-JLE preset {name!r}; expected auto, paper or cpu")
    return MFJLE_PRESETS[name].replace(**overrides), name
