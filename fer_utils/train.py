"""One training function for every notebook: :func:`train`, driven by a :class:`TrainConfig`.

Introduced in notebook 04 (training). :func:`preset` gives paper A's settings per dataset
(SPEC section 2); :func:`train` fits a baseline or a MixFeature model, picks the best
epoch on validation data only, and evaluates that model once on the test set.

Notebook 05 uses the same function for paper B's multi-label task (``task="multi_label"``):
a single ResNet-18 or the MF-JLE ensemble (``model="mfjle"``) trained with binary
cross-entropy on multi-hot labels, evaluated with the nine multi-label metrics;
:func:`mfjle_preset` gives its settings (SPEC section 3).

How a run works:

* **Data** stay uint8 tensors on the training device, resized once to
  ``image_size``. Each epoch draws a permutation, cuts it into mini-batches, and augments
  every batch on the device (:mod:`fer_utils.augment`).
* **Randomness.** Model initialisation uses ``seed``; everything random in epoch ``e``
  (shuffling, augmentation, MixFeature groups) comes from fresh generators seeded from
  ``(seed, e)`` (:func:`epoch_generators`). An epoch therefore never depends on how the
  previous epochs were run, which is what makes resuming exact.
* **Checkpoints.** With ``checkpoint_dir`` set, the state after every epoch (model,
  optimizer, scheduler, history, best model so far) is written atomically to
  ``checkpoint_dir/run_name/checkpoint.pt``. Calling :func:`train` again with the same
  configuration, data and ``run_name`` continues from there and, on the CPU, ends with
  exactly the numbers of an uninterrupted run. A checkpoint written with another
  configuration or other data is refused with an error, never mixed in.
* **Determinism.** ``deterministic=True`` (the default) switches on
  ``torch.use_deterministic_algorithms`` (``warn_only``) for the duration of the call. On
  the CPU the same seed then gives bit-identical histories and test numbers (for the same
  torch version and thread count). On CUDA runs are close but not guaranteed identical.
"""

from __future__ import annotations

import contextlib
import copy
import hashlib
import json
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from fer_utils import augment as aug
from fer_utils import metrics
from fer_utils import multilabel as ml
from fer_utils.augment import match_channels  # noqa: F401  (re-exported: notebook 03)
from fer_utils.data.dataset import LANDMARK_NAMES, FERDataset
from fer_utils.mixfeature import mixfeature_loss, synthesize
from fer_utils.models import (
    INPUT_NORMS,
    MFJLE,
    MODEL_NAMES,
    NUM_LOCAL,
    STEMS,
    FeatureClassifier,
    build_backbone,
    build_model,
    model_options,
)
from fer_utils.provenance import run_info
from fer_utils.wheel import LAYOUTS, distance_matrix

OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
SCHEDULES: tuple[str, ...] = ("constant", "step")
METHODS: tuple[str, ...] = ("baseline", "mixfeature")
#: ``"single_label"`` (paper A: one class per image, softmax) or ``"multi_label"``
#: (paper B: a set of labels per image, sigmoid per label).
TASKS: tuple[str, ...] = ("single_label", "multi_label")
#: Models :class:`TrainConfig` accepts: the backbones plus paper B's ensemble.
TRAIN_MODELS: tuple[str, ...] = (*MODEL_NAMES, "mfjle")
AMP_MODES: tuple[str, ...] = ("auto", "bf16", "off")

#: Selection metrics and whether higher (``"max"``) or lower (``"min"``) is better.
SELECTION_METRICS: dict[str, str] = {
    "val_accuracy": "max",
    "val_mean_class_accuracy": "max",
    "val_ce": "min",
    "val_kl": "min",
    "val_loss": "min",
    "val_average_precision": "max",
    "val_micro_f1": "max",
}

#: The selection metrics that exist for each task (``selection="auto"`` takes the first).
TASK_SELECTION: dict[str, tuple[str, ...]] = {
    "single_label": ("val_accuracy", "val_mean_class_accuracy", "val_ce", "val_kl"),
    "multi_label": ("val_loss", "val_average_precision", "val_micro_f1"),
}

#: Config fields that do not change the numbers of a run; a checkpoint written with
#: other values of these fields may still be resumed.
NON_IDENTITY_FIELDS: tuple[str, ...] = ("checkpoint_dir", "progress")

#: Config fields that only multi-label runs use (see :meth:`TrainConfig.identity`).
MULTILABEL_ONLY_FIELDS: tuple[str, ...] = (
    "local_size",
    "crop_fraction",
    "local_weights",
    "multilabel_loss",
    "threshold",
)

#: The columns of :attr:`TrainResult.history`, one row per epoch.
HISTORY_COLUMNS: tuple[str, ...] = (
    "epoch",
    "lr",
    "train_ce",
    "train_loss",
    "train_kl",
    "val_ce",
    "val_kl",
    "val_accuracy",
    "val_mean_class_accuracy",
    "seconds",
)

#: The history columns of a ``task="multi_label"`` run. ``train_global`` and
#: ``train_local`` are the two parts of paper B's loss (``nan`` for a single model);
#: ``val_loss`` is the binary cross-entropy of the ensemble score.
MULTILABEL_HISTORY_COLUMNS: tuple[str, ...] = (
    "epoch",
    "lr",
    "train_loss",
    "train_global",
    "train_local",
    "val_loss",
    "val_hamming_loss",
    "val_average_precision",
    "val_micro_f1",
    "val_macro_f1",
    "seconds",
)


def history_columns(task: str) -> tuple[str, ...]:
    """The per-epoch history columns of a run of ``task``. Introduced in notebook 05."""
    return MULTILABEL_HISTORY_COLUMNS if task == "multi_label" else HISTORY_COLUMNS

CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_FORMAT = 1


# ---------------------------------------------------------------------------------------
# Configuration
# ---------------------------------------------------------------------------------------


def _fail(name: str, expected: str, value: Any) -> None:
    """Raise the one error message style of :class:`TrainConfig` validation."""
    raise ValueError(f"TrainConfig.{name} must be {expected}, got {value!r}")


def _check_choice(name: str, value: Any, choices: Sequence[Any]) -> None:
    if value not in choices:
        _fail(name, "one of " + ", ".join(repr(c) for c in choices), value)


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        _fail(name, f"an integer >= {minimum}", value)


def _check_number(name: str, value: Any, low: float, high: float, open_low: bool) -> None:
    ok = not isinstance(value, bool) and isinstance(value, int | float | np.floating)
    ok = ok and math.isfinite(value) and value <= high
    ok = ok and (value > low if open_low else value >= low)
    if not ok:
        bracket = "(" if open_low else "["
        _fail(name, f"a number in {bracket}{low}, {high}]", value)


@dataclass
class TrainConfig:
    """Everything that decides a training run. Introduced in notebook 04.

    Every field is checked when the config is made (and by :func:`dataclasses.replace`);
    a bad value raises ``ValueError`` naming the field and the accepted values.

    Attributes:
        model: ``"cnn3"`` or ``"resnet18"`` (:mod:`fer_utils.models`), or ``"mfjle"``
            (paper B's six-module ensemble; needs ``task="multi_label"``).
        image_size: side of the square model input in pixels (>= 32).
        in_channels: 1 (gray) or 3 (RGB); images are converted when the data differ
            (gray repeated into 3 channels, RGB to luma 0.299 R + 0.587 G + 0.114 B).
        stem: ResNet-18 stem, ``"standard"`` or ``"small"`` (ignored by cnn3).
        model_options: further backbone options, e.g. ``{"widths": [16, 32, 64]}``.
        epochs, batch_size: training length and mini-batch size.
        optimizer: ``"sgd"`` (with ``momentum`` and ``weight_decay``; paper A) or
            ``"adam"`` (default betas, ``weight_decay``; paper B).
        lr: initial learning rate.
        schedule: ``"constant"`` or ``"step"``: after the first ``step_after`` epochs,
            the rate is multiplied by ``gamma`` at the end of every ``step_every``-th
            further epoch (see :func:`lr_factor`).
        method: ``"baseline"`` (cross-entropy) or ``"mixfeature"`` (paper A's loss).
        mix_k, mix_lambda, wheel_layout: MixFeature's group size K, loss weight lambda
            and emotion-wheel layout (a name from :data:`fer_utils.wheel.LAYOUTS` or a
            K x K distance matrix as nested lists).
        task: ``"single_label"`` (paper A) or ``"multi_label"`` (paper B: binary
            cross-entropy on the dataset's ``multilabels``, see :mod:`fer_utils.multilabel`).
        input_norm: ``"none"`` (pixels in [0, 1]) or ``"imagenet"`` (paper B), applied
            inside the model (:data:`fer_utils.models.INPUT_NORMS`).
        local_size: side in pixels of MF-JLE's local crops as the local modules see them.
        crop_fraction: side of each square crop as a fraction of the image width
            (SPEC 5.9, default 1/4; :mod:`fer_utils.crops`).
        local_weights: the five ``lambda_i`` of paper B (one number for all five, or five).
        multilabel_loss: ``"bce"`` (paper B) or ``"ce"`` (the multi-class ablation).
        threshold: a label is predicted when its probability is above this.
        augment: ``"none"``, ``"basic"`` (flips + random crops) or ``"ferplus"`` (adds
            small rotations and brightness changes); see :mod:`fer_utils.augment`.
        seed: seed of the model initialisation and of every epoch's randomness.
        device: ``"auto"`` (CUDA, then Apple MPS, then CPU) or a torch device string.
        amp: ``"auto"``, ``"bf16"`` or ``"off"``. ``"auto"`` uses bfloat16 autocast on
            CUDA GPUs that support it and on CPUs with native bfloat16 instructions
            (Intel AMX or AVX512-BF16), where it is 2-4x faster; never on MPS or on
            other CPUs (emulated bfloat16 is slower than float32).
        channels_last: ``"auto"`` (on whenever bfloat16 autocast is on), ``True`` or
            ``False``: the memory layout of the model and input batches.
        selection: the validation metric that picks the best epoch (a key of
            :data:`SELECTION_METRICS` valid for the task, see :data:`TASK_SELECTION`;
            ``"auto"``: validation accuracy for single-label runs, validation loss for
            multi-label runs); ties go to the lower validation cross-entropy,
            then to the earlier epoch.
        eval_batch_size: batch size of validation and test predictions.
        precise_bn_images: after every epoch, recompute the batch-norm statistics from
            this many (un-augmented, randomly ordered) training images with the epoch's
            final weights, before validation (0 = keep the running averages collected
            during training). See :func:`recompute_bn_stats` for why.
        deterministic: switch on torch's deterministic algorithms during the run.
        checkpoint_dir: folder for per-epoch checkpoints, or ``None`` for none.
        progress: show tqdm progress bars over epochs and batches.
    """

    model: str = "resnet18"
    image_size: int = 48
    in_channels: int = 1
    stem: str = "standard"
    model_options: dict[str, Any] = field(default_factory=dict)
    epochs: int = 30
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.01
    momentum: float = 0.9
    weight_decay: float = 5e-4
    schedule: str = "constant"
    step_every: int = 1
    step_after: int = 0
    gamma: float = 0.9
    method: str = "baseline"
    mix_k: int = 3
    mix_lambda: float = 0.5
    wheel_layout: str | list[list[float]] = "plutchik"
    task: str = "single_label"
    input_norm: str = "none"
    local_size: int = 32
    crop_fraction: float = 0.25
    local_weights: float | list[float] = 0.01
    multilabel_loss: str = "bce"
    threshold: float = 0.5
    augment: str = "basic"
    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    channels_last: bool | str = "auto"
    selection: str = "auto"
    eval_batch_size: int = 256
    precise_bn_images: int = 4096
    deterministic: bool = True
    checkpoint_dir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        self._check_model()
        self._check_optimisation()
        self._check_method()
        self._check_task()
        self._check_runtime()

    def _check_model(self) -> None:
        _check_choice("model", self.model, TRAIN_MODELS)
        _check_int("image_size", self.image_size, 32)
        _check_choice("in_channels", self.in_channels, (1, 3))
        _check_choice("stem", self.stem, STEMS)
        if not isinstance(self.model_options, Mapping):
            _fail("model_options", "a dict of backbone options", self.model_options)
        backbone = "resnet18" if self.model == "mfjle" else self.model
        accepted = [o for o in model_options(backbone) if o != "stem"]
        unknown = sorted(set(self.model_options) - set(accepted))
        if unknown:
            _fail("model_options", f"a dict with keys from {accepted} for {self.model}", unknown)
        # stored as JSON values (tuples become lists) so that configs compare reliably
        self.model_options = json.loads(json.dumps(dict(self.model_options)))
        if self.model_options:
            try:  # builds a throw-away backbone: cheap for the options there are
                build_backbone(backbone, self.in_channels, **self.model_options)
            except (ValueError, TypeError) as err:
                _fail(
                    "model_options", f"valid options for {self.model} ({err})", self.model_options
                )

    def _check_optimisation(self) -> None:
        _check_int("epochs", self.epochs, 1)
        _check_int("batch_size", self.batch_size, 2)
        _check_choice("optimizer", self.optimizer, OPTIMIZERS)
        _check_number("lr", self.lr, 0.0, 10.0, open_low=True)
        _check_number("momentum", self.momentum, 0.0, 0.999, open_low=False)
        _check_number("weight_decay", self.weight_decay, 0.0, 1.0, open_low=False)
        _check_choice("schedule", self.schedule, SCHEDULES)
        _check_int("step_every", self.step_every, 1)
        _check_int("step_after", self.step_after, 0)
        _check_number("gamma", self.gamma, 0.0, 1.0, open_low=True)

    def _check_method(self) -> None:
        _check_choice("method", self.method, METHODS)
        _check_int("mix_k", self.mix_k, 2)
        _check_number("mix_lambda", self.mix_lambda, 0.0, 1.0, open_low=False)
        layout = self.wheel_layout
        if isinstance(layout, np.ndarray | torch.Tensor | tuple):
            self.wheel_layout = layout = np.asarray(layout, dtype=float).tolist()
        if isinstance(layout, str):
            _check_choice("wheel_layout", layout, LAYOUTS)
        elif not (isinstance(layout, list) and all(isinstance(r, list) for r in layout)):
            _fail("wheel_layout", f"one of {LAYOUTS} or a K x K matrix (nested lists)", layout)
        _check_choice("augment", self.augment, tuple(aug.POLICIES))

    def _check_task(self) -> None:
        _check_choice("task", self.task, TASKS)
        _check_choice("input_norm", self.input_norm, tuple(INPUT_NORMS))
        _check_int("local_size", self.local_size, 32)
        _check_number("crop_fraction", self.crop_fraction, 0.0, 1.0, open_low=True)
        weights = self.local_weights
        if not isinstance(weights, list | tuple | np.ndarray | torch.Tensor):
            weights = [weights] * NUM_LOCAL
        try:
            weights = [math.nan if isinstance(w, bool) else float(w) for w in weights]
        except (TypeError, ValueError):
            weights = []
        if len(weights) != NUM_LOCAL or not all(math.isfinite(w) and w >= 0 for w in weights):
            _fail("local_weights", f"a number >= 0 or {NUM_LOCAL} of them", self.local_weights)
        self.local_weights = weights
        _check_choice("multilabel_loss", self.multilabel_loss, ml.MULTILABEL_LOSSES)
        _check_number("threshold", self.threshold, 0.0, 1.0, open_low=True)
        if self.model == "mfjle" and self.task != "multi_label":
            _fail("task", "'multi_label' for model='mfjle'", self.task)
        if self.task == "multi_label" and self.method != "baseline":
            _fail("method", "'baseline' for task='multi_label' (MixFeature is single-label)",
                  self.method)

    def resolved_selection(self) -> str:
        """The selection metric actually used (``"auto"`` resolved for the task)."""
        return TASK_SELECTION[self.task][0] if self.selection == "auto" else self.selection

    def _check_runtime(self) -> None:
        _check_int("seed", self.seed, 0)
        if not isinstance(self.device, str):
            _fail("device", "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'", self.device)
        if self.device != "auto":
            try:
                torch.device(self.device)
            except RuntimeError:
                _fail("device", "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'", self.device)
        _check_choice("amp", self.amp, AMP_MODES)
        _check_choice("channels_last", self.channels_last, ("auto", True, False))
        _check_choice("selection", self.selection, ("auto", *TASK_SELECTION[self.task]))
        _check_int("eval_batch_size", self.eval_batch_size, 1)
        _check_int("precise_bn_images", self.precise_bn_images, 0)
        _check_choice("deterministic", self.deterministic, (True, False))
        if self.checkpoint_dir is not None:
            if not isinstance(self.checkpoint_dir, str | os.PathLike):
                _fail("checkpoint_dir", "None or a folder path", self.checkpoint_dir)
            self.checkpoint_dir = os.fspath(self.checkpoint_dir)
        _check_choice("progress", self.progress, (True, False))

    def to_dict(self) -> dict[str, Any]:
        """The config as a JSON-ready dict (``TrainConfig(**d)`` rebuilds it)."""
        return json.loads(json.dumps(asdict(self)))

    def identity(self) -> dict[str, Any]:
        """The fields that decide the numbers of a run (all but :data:`NON_IDENTITY_FIELDS`).

        ``selection`` enters resolved (``"auto"`` is the metric it stands for). A
        single-label run leaves out the fields that only multi-label runs use
        (:data:`MULTILABEL_ONLY_FIELDS`, and ``task`` itself) and ``input_norm`` when it
        is ``"none"``: they cannot change its numbers, and leaving them out keeps the
        identity (and run names) of single-label runs what it was before multi-label
        training existed, so their checkpoints still resume.
        """
        d = self.to_dict()
        for name in NON_IDENTITY_FIELDS:
            d.pop(name)
        d["selection"] = self.resolved_selection()
        if self.task == "single_label":
            for name in ("task", *MULTILABEL_ONLY_FIELDS):
                d.pop(name)
            if self.input_norm == "none":
                d.pop("input_norm")
        return d

    def key(self) -> str:
        """A short hash of :meth:`identity`, for naming runs."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


#: Paper A's settings per dataset (SPEC section 2); see :func:`preset`.
PRESETS: dict[str, TrainConfig] = {
    # 3-layer CNN, SGD lr 0.001, 100 epochs, constant rate, flips + crops at 256x256.
    # Pooling over a 2x2 grid is this repository's choice (the paper does not say; see
    # the preset() docstring).
    "jaffe": TrainConfig(
        model="cnn3",
        model_options={"pool": 2},
        image_size=256,
        epochs=100,
        batch_size=16,
        lr=0.001,
        augment="basic",
    ),
    # ResNet-18, lr 0.01 x 0.9 every 2 epochs after epoch 10, 30 epochs, 256x256.
    "ckplus": TrainConfig(
        model="resnet18",
        image_size=256,
        epochs=30,
        batch_size=32,
        lr=0.01,
        schedule="step",
        step_after=10,
        step_every=2,
        gamma=0.9,
        augment="basic",
    ),
    # ResNet-18 with the CIFAR-style stem at the native 48x48, lr 0.01 x 0.9 every 5
    # epochs after epoch 50, 200 epochs, flips + crops + rotations + brightness.
    "ferplus": TrainConfig(
        model="resnet18",
        stem="small",
        image_size=48,
        epochs=200,
        batch_size=64,
        lr=0.01,
        schedule="step",
        step_after=50,
        step_every=5,
        gamma=0.9,
        augment="ferplus",
    ),
    # Not from the paper: the built-in synthetic faces, under a minute on a laptop CPU.
    # cnn3 pooled over a 2x2 grid learns these small faces much better than with
    # global pooling (test accuracy 0.64 vs 0.46 after 15 epochs), and the decay
    # settles the validation curve.
    "synthetic": TrainConfig(
        model="cnn3",
        model_options={"pool": 2},
        image_size=48,
        epochs=15,
        batch_size=32,
        lr=0.01,
        schedule="step",
        step_after=5,
        step_every=1,
        gamma=0.8,
        augment="basic",
    ),
}


def preset(dataset: str, **overrides: Any) -> TrainConfig:
    """Paper A's training settings for ``dataset``, with ``overrides`` applied.

    Introduced in notebook 04. Presets (SGD, momentum 0.9, weight decay 5e-4 throughout):

    ========= ======== ===== ====== ======= ===================================== =====
    dataset   model    size  epochs lr      schedule                              batch
    ========= ======== ===== ====== ======= ===================================== =====
    jaffe     cnn3     256   100    0.001   constant                              16
              (pool 2)
    ckplus    resnet18 256   30     0.01    x0.9 every 2 epochs after epoch 10    32
    ferplus   resnet18 48    200    0.01    x0.9 every 5 epochs after epoch 50    64
              (small stem)
    synthetic cnn3     48    15     0.01    x0.8 every epoch after epoch 5        32
              (pool 2)
    ========= ======== ===== ====== ======= ===================================== =====

    Image sizes are the paper's (JAFFE and CK+ resized to 256x256, FER+ at its native
    48x48); augmentation is ``"basic"`` except FER+ (``"ferplus"``). Paper A gives no
    batch size (SPEC 5.2): the batch sizes above are this repository's choice, small
    enough that JAFFE's ~170 training images still give ~11 steps per epoch while a
    MixFeature batch still holds at least two groups for every K of Fig. 7 (K <= 6).

    Paper A does not describe its compact CNN beyond "three layers". The jaffe preset
    pools the last feature map over a 2x2 grid (``model_options={"pool": 2}``) instead of
    globally: on real JAFFE at 64x64 (45 random test images, lr 0.01, 40 epochs, no
    augmentation, 3 seeds) global pooling scored 30, 32 and 37 of 45 and 2x2 pooling 37,
    37 and 39; on the synthetic faces 0.46 vs 0.64 test accuracy. With the paper's lr
    0.001 the CNN still underfits JAFFE at 64x64 after 100 epochs (training CE above 1);
    notebooks should show that rather than hide it.

    On a CPU, JAFFE at 256x256 runs about 7 s per epoch (12 min per 100-epoch run, 2 h
    per 10-fold run, 2 threads with bfloat16) and CK+ longer; pass ``image_size=64``
    for a run about 16x cheaper (and say so next to its numbers).

    ``synthetic`` is not from the paper: it trains on the built-in faces
    (``load_dataset("synthetic")``, 1,400 training images of 48x48) in 30-60 s on a
    laptop CPU. An unknown dataset or field raises ``ValueError``.
    """
    if dataset not in PRESETS:
        raise ValueError(f"unknown preset {dataset!r}; expected one of {', '.join(PRESETS)}")
    return _with_overrides(PRESETS[dataset], overrides)


def _with_overrides(base: TrainConfig, overrides: Mapping[str, Any]) -> TrainConfig:
    """A copy of ``base`` with ``overrides``; unknown field names raise ``ValueError``."""
    names = {f.name for f in fields(TrainConfig)}
    unknown = sorted(set(overrides) - names)
    if unknown:
        raise ValueError(
            f"unknown TrainConfig field(s) {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(names))}"
        )
    return replace(copy.deepcopy(base), **overrides)


#: Paper B's MF-JLE settings (SPEC section 3): 224x224 RGB with ImageNet normalisation,
#: Adam 1e-4 (betas 0.9, 0.999), x0.9 every 50 epochs, 218 epochs, batch 128, lambda_i =
#: 0.01. Local crops enter their modules at the global size, so every module costs what
#: the global one does.
_MFJLE_PAPER = TrainConfig(
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
    "cpu": replace(
        _MFJLE_PAPER,
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

    Both: Adam (betas 0.9, 0.999, no weight decay), RGB input with ImageNet
    normalisation, crops 1/4 of the image width (SPEC 5.9), ``lambda_i = 0.01``, flips
    and shifts (paper B does not describe its augmentation; this is our choice), model
    selection on the validation loss. The CPU preset shrinks the inputs 3.5x and 7x,
    runs in float32 (``amp="off"``), and trades epochs for a 10x larger learning rate
    (with Adam 1e-4, 30 epochs on ~130 JAFFE images leave ResNet-18 far from fitted); its
    numbers are not paper B's setting and must be labelled as such.
    """
    if name == "auto":
        name = "paper" if torch.cuda.is_available() else "cpu"
    if name not in MFJLE_PRESETS:
        raise ValueError(f"unknown MF-JLE preset {name!r}; expected auto, paper or cpu")
    return _with_overrides(MFJLE_PRESETS[name], overrides), name


# ---------------------------------------------------------------------------------------
# Devices, precision, randomness, learning rate
# ---------------------------------------------------------------------------------------


def resolve_device(spec: str = "auto") -> torch.device:
    """The torch device for ``spec``: ``"auto"`` picks CUDA, then Apple MPS, then CPU.

    Introduced in notebook 04.
    """
    if spec != "auto":
        return torch.device(spec)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions (Intel AMX or AVX512-BF16).

    Introduced in notebook 04.
    """
    cpu = torch.cpu
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(cpu, name, lambda: False)() for name in checks)


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device`` (``None`` = full float32).

    Introduced in notebook 04; see :class:`TrainConfig` ``amp`` for the ``"auto"`` rule.
    """
    if amp == "off":
        return None
    if amp == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_native_bf16() else None
    return None


def resolve_channels_last(setting: bool | str, amp_dtype: torch.dtype | None) -> bool:
    """Whether to use the channels-last memory layout (``"auto"``: with bf16 autocast)."""
    if setting == "auto":
        return amp_dtype is not None
    return bool(setting)


def derive_seed(*parts: int) -> int:
    """A 63-bit seed mixed from integers with numpy's ``SeedSequence`` (stable everywhere).

    Introduced in notebook 04.
    """
    state = np.random.SeedSequence([int(p) for p in parts]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


#: The independent random streams of one epoch.
EPOCH_STREAMS: tuple[str, ...] = ("shuffle", "augment", "mix", "bn")


def epoch_generators(seed: int, epoch: int) -> dict[str, torch.Generator]:
    """Fresh CPU generators for epoch ``epoch`` (0-based), one per :data:`EPOCH_STREAMS`.

    Introduced in notebook 04. Each depends only on ``(seed, epoch, stream)``, so a
    resumed run draws exactly what an uninterrupted run draws, and changing e.g. the
    augmentation does not change the batch order.
    """
    return {
        name: torch.Generator().manual_seed(derive_seed(seed, epoch, i))
        for i, name in enumerate(EPOCH_STREAMS)
    }


def lr_factor(config: TrainConfig, epoch: int) -> float:
    """Learning-rate multiplier for epoch ``epoch`` (0-based) of ``config``'s schedule.

    Introduced in notebook 04. ``"step"``: ``gamma ** ((epoch - step_after) // step_every)``
    once ``epoch >= step_after``, else 1. For CK+ (``step_after=10, step_every=2``) epochs
    1-12 (1-based) run at the initial rate, 13-14 at 0.9 times it, 15-16 at 0.81 times it,
    and so on: "x0.9 every 2 epochs after epoch 10".
    """
    if config.schedule == "constant" or epoch < config.step_after:
        return 1.0
    return config.gamma ** ((epoch - config.step_after) // config.step_every)


def make_optimizer(config: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    """The optimizer of ``config`` over ``model``'s parameters. Introduced in notebook 04."""
    if config.optimizer == "sgd":
        return torch.optim.SGD(
            model.parameters(),
            lr=config.lr,
            momentum=config.momentum,
            weight_decay=config.weight_decay,
        )
    # The fused Adam kernel updates all parameters in one pass: on a CPU it takes a
    # quarter of the time of the default loop, which matters for MF-JLE's 67M parameters.
    device = next(model.parameters()).device
    return torch.optim.Adam(
        model.parameters(),
        lr=config.lr,
        weight_decay=config.weight_decay,
        fused=device.type in ("cpu", "cuda"),
    )


def make_scheduler(
    config: TrainConfig, optimizer: torch.optim.Optimizer
) -> torch.optim.lr_scheduler.LRScheduler:
    """A per-epoch scheduler applying :func:`lr_factor`. Introduced in notebook 04."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda e: lr_factor(config, e))


def batch_indices(n: int, batch_size: int, generator: torch.Generator) -> list[torch.Tensor]:
    """A random permutation of ``0..n-1`` cut into ``ceil(n / batch_size)`` batches.

    Introduced in notebook 04. The batches differ in size by at most one, so every sample
    is used each epoch and no batch is tiny (a batch of one would break batch norm).
    """
    perm = torch.randperm(n, generator=generator)
    return list(torch.tensor_split(perm, max(1, math.ceil(n / batch_size))))


# ---------------------------------------------------------------------------------------
# Data on the device
# ---------------------------------------------------------------------------------------


@dataclass
class DeviceData:
    """A dataset ready for training: uint8 images at the model size, on the device.

    Introduced in notebook 04. ``distributions`` (``N x K`` or ``None``) stay on the CPU.
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

    Introduced in notebook 04. Distributions are kept only when they have one column per
    class. For ``task="multi_label"`` the multi-hot ``targets`` come along, and for MF-JLE
    the five landmark crops of every image, cut once here
    (:func:`fer_utils.multilabel.local_inputs`).
    """
    channels = aug.match_channels(dataset.images, config.in_channels)
    images = aug.resize_uint8(channels, config.image_size)
    dist = dataset.distributions
    if dist is not None and tuple(dist.shape) != (len(dataset), dataset.num_classes):
        dist = None
    targets = local = None
    if config.task == "multi_label":
        targets = dataset.multilabels.to(device=device, dtype=torch.float32)
    if config.model == "mfjle":
        local = ml.local_inputs(
            dataset, config.local_size, config.crop_fraction, config.in_channels
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

    Introduced in notebook 04: a checkpoint remembers it, so a resumed run is refused when
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


# ---------------------------------------------------------------------------------------
# One epoch of training, and prediction
# ---------------------------------------------------------------------------------------


class PhaseTimer:
    """Adds up wall time per named phase of a training step (used by the benchmark).

    Introduced in notebook 04. On CUDA it synchronises around each phase so that the
    times are the device's, not the launch times.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds: dict[str, float] = {}

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the ``with`` block and add it to ``seconds[name]``."""
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


@contextlib.contextmanager
def _phase(timer: PhaseTimer | None, name: str) -> Iterator[None]:
    """``timer.phase(name)``, or nothing when there is no timer."""
    if timer is None:
        yield
    else:
        with timer.phase(name):
            yield


@dataclass
class StepContext:
    """What every training step of a run needs besides the batch. Introduced in notebook 04."""

    config: TrainConfig
    device: torch.device
    amp_dtype: torch.dtype | None
    channels_last: bool
    distances: torch.Tensor | None  # wheel distances (MixFeature only), on the device

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Autocast to ``amp_dtype`` on the device, or a no-op."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def to_layout(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in the run's memory layout."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


def training_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    labels: torch.Tensor,
    ctx: StepContext,
    generators: Mapping[str, torch.Generator],
    timer: PhaseTimer | None = None,
    targets: torch.Tensor | None = None,
    local_images: torch.Tensor | None = None,
) -> dict[str, float]:
    """One optimisation step on a uint8 batch; returns ``{"ce", "loss", "kl"}``.

    Introduced in notebook 04. Baseline: cross-entropy on the augmented batch. MixFeature
    (paper A): features of the batch, groups mixed by :func:`fer_utils.mixfeature.synthesize`,
    the head applied to originals and mixtures, loss
    :func:`fer_utils.mixfeature.mixfeature_loss`. ``kl`` is ``nan`` for the baseline.
    Multi-label runs (notebook 05) go to :func:`multilabel_step` with ``targets`` (and
    ``local_images`` for MF-JLE) and return its parts instead.
    """
    cfg = ctx.config
    if cfg.task == "multi_label":
        if targets is None:
            raise ValueError("a multi-label training step needs targets")
        return multilabel_step(model, optimizer, images, targets, ctx, generators, timer,
                               local_images)
    with _phase(timer, "augment"):
        x = aug.augment_batch(images, None, cfg.augment, generators["augment"])
        x = ctx.to_layout(x)
    with _phase(timer, "forward"), ctx.autocast():
        feats = model.features(x)
        logits = model.head(feats).float()
    if cfg.method == "baseline":
        with _phase(timer, "loss"):
            loss = F.cross_entropy(logits, labels)
            ce = loss.item()
        parts = {"ce": ce, "loss": ce, "kl": math.nan}
    else:
        with _phase(timer, "mix"):
            mb = synthesize(feats.float(), labels, cfg.mix_k, ctx.distances, generators["mix"])
        with _phase(timer, "forward"), ctx.autocast():
            mixed_logits = model.head(mb.features)
        with _phase(timer, "loss"):
            loss, parts = mixfeature_loss(
                logits, labels, mixed_logits.float(), mb.targets, cfg.mix_lambda
            )
    with _phase(timer, "backward"):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
    with _phase(timer, "optimizer"):
        optimizer.step()
    return parts


def multilabel_step(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    images: torch.Tensor,
    targets: torch.Tensor,
    ctx: StepContext,
    generators: Mapping[str, torch.Generator],
    timer: PhaseTimer | None = None,
    local_images: torch.Tensor | None = None,
) -> dict[str, float]:
    """One multi-label optimisation step; returns ``{"loss", "global", "local"}``.

    Introduced in notebook 05. The global images are augmented as in paper A's runs; for
    MF-JLE the ``N x 5`` crops are augmented the same way as one batch of ``5N`` images
    (each crop draws its own flip and shift), every module runs on its input, and the
    loss is :func:`fer_utils.multilabel.mfjle_loss`.
    """
    cfg = ctx.config
    with _phase(timer, "augment"):
        x = ctx.to_layout(aug.augment_batch(images, None, cfg.augment, generators["augment"]))
        xl = None
        if isinstance(model, MFJLE):
            if local_images is None:
                raise ValueError("MF-JLE needs the local crops of the batch (local_images)")
            n, k = local_images.shape[:2]
            flat = local_images.flatten(0, 1)
            xl = aug.augment_batch(flat, None, cfg.augment, generators["augment"])
            xl = ctx.to_layout(xl).view(n, k, *xl.shape[1:])
    with _phase(timer, "forward"), ctx.autocast():
        if xl is None:
            global_logits, local_logits = model(x), None
        else:
            global_logits, local_logits = model.module_logits(x, xl)
    with _phase(timer, "loss"):
        loss, parts = ml.mfjle_loss(
            global_logits.float(),
            None if local_logits is None else local_logits.float(),
            targets,
            getattr(model, "local_weights", None),
            cfg.multilabel_loss,
        )
    with _phase(timer, "backward"):
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
    with _phase(timer, "optimizer"):
        optimizer.step()
    return parts


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: DeviceData,
    ctx: StepContext,
    epoch: int,
    timer: PhaseTimer | None = None,
    progress: bool = False,
) -> dict[str, float]:
    """Train ``model`` for epoch ``epoch`` (0-based); return the sample-weighted means.

    Introduced in notebook 04. Returns ``train_ce`` (cross-entropy of the original, i.e.
    non-mixed, augmented samples), ``train_loss`` and ``train_kl`` (MixFeature's weighted
    KL term; ``nan`` for the baseline). Multi-label runs return ``train_loss``,
    ``train_global`` and ``train_local`` (notebook 05).
    """
    model.train()
    gens = epoch_generators(ctx.config.seed, epoch)
    batches = batch_indices(len(data), ctx.config.batch_size, gens["shuffle"])
    keys = ("loss", "global", "local") if ctx.config.task == "multi_label" else ("ce", "loss", "kl")
    totals = dict.fromkeys(keys, 0.0)
    bar = tqdm(batches, desc=f"epoch {epoch + 1}", leave=False, disable=not progress)
    for idx in bar:
        with _phase(timer, "index"):
            idx_dev = idx.to(data.images.device)
            xb, yb = data.images[idx_dev], data.labels[idx_dev]
            tb = None if data.targets is None else data.targets[idx_dev]
            lb = None if data.local_images is None else data.local_images[idx_dev]
        parts = training_step(model, optimizer, xb, yb, ctx, gens, timer, tb, lb)
        for key in totals:
            totals[key] += parts[key] * len(idx)
        bar.set_postfix(loss=f"{parts['loss']:.3f}", refresh=False)
    n = len(data)
    return {f"train_{k}": v / n for k, v in totals.items()}


@torch.no_grad()
def recompute_bn_stats(
    model: nn.Module,
    data: DeviceData,
    ctx: StepContext,
    max_images: int,
    generator: torch.Generator,
) -> None:
    """Replace the batch-norm running statistics by exact averages under the current weights.

    Introduced in notebook 04. During training, batch norm keeps exponential moving
    averages of the batch means and variances, collected while the weights were still
    changing. On small, very uniform datasets (JAFFE: one lab, one background) the
    class differences are tiny next to what the features share, and these slightly stale
    averages can move eval-mode predictions a lot: we saw JAFFE models with training
    accuracy near 1.0 in train mode score 0.5-0.7 in eval mode, and 0.99 after this
    recomputation ("precise BN", Wu and Johnson 2021). Up to ``max_images`` training
    images, in a random order from ``generator`` (so each batch mixes classes as training
    batches do), un-augmented as in evaluation, are passed forward in train mode in
    batches of ``batch_size``; the statistics become the plain average over those batches.
    No weight changes.
    """
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    if not norms or max_images <= 0:
        return
    momenta = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None  # None = cumulative average over the batches that follow
    was_training = model.training
    model.train()
    order = torch.randperm(len(data), generator=generator)[:max_images]
    batches = batch_indices(len(order), ctx.config.batch_size, generator)
    try:
        for idx in batches:
            sel = order[idx].to(data.images.device)
            x = ctx.to_layout(aug.to_model_input(data.images[sel]))
            with ctx.autocast():
                if isinstance(model, MFJLE):
                    model.module_logits(x, _local_model_input(data.local_images[sel], ctx))
                else:
                    model.features(x)
    finally:
        for m, momentum in zip(norms, momenta, strict=True):
            m.momentum = momentum
        model.train(was_training)


def _local_model_input(local_images: torch.Tensor, ctx: StepContext) -> torch.Tensor:
    """uint8 crops ``N x 5 x C x s x s`` as the float model input (evaluation path)."""
    n, k = local_images.shape[:2]
    x = ctx.to_layout(aug.to_model_input(local_images.flatten(0, 1)))
    return x.view(n, k, *x.shape[1:])


@torch.inference_mode()
def predict_module_logits(
    model: MFJLE, data: DeviceData, ctx: StepContext
) -> tuple[torch.Tensor, torch.Tensor]:
    """Float32 CPU logits of every MF-JLE module on ``data``: global ``N x L``, local ``N x 5 x L``.

    Introduced in notebook 05 (each module alone vs the ensemble).
    """
    model.eval()
    bs = ctx.config.eval_batch_size
    outs_g, outs_l = [], []
    for start in range(0, len(data), bs):
        x = ctx.to_layout(aug.to_model_input(data.images[start : start + bs]))
        xl = _local_model_input(data.local_images[start : start + bs], ctx)
        with ctx.autocast():
            g, loc = model.module_logits(x, xl)
        outs_g.append(g.float().cpu())
        outs_l.append(loc.float().cpu())
    return torch.cat(outs_g), torch.cat(outs_l)


def predict_scores(model: nn.Module, data: DeviceData, ctx: StepContext) -> torch.Tensor:
    """Float32 CPU logits ``N x K`` of any trained model on ``data`` (MF-JLE: ensemble score).

    Introduced in notebook 05.
    """
    if isinstance(model, MFJLE):
        g, loc = predict_module_logits(model, data, ctx)
        return model.combine(g, loc.to(g.device)).float()
    return predict_logits(
        model, data.images, ctx.config.eval_batch_size, ctx.amp_dtype, ctx.channels_last
    )


@torch.inference_mode()
def predict_logits(
    model: nn.Module,
    images: torch.Tensor,
    batch_size: int = 256,
    amp_dtype: torch.dtype | None = None,
    channels_last: bool = False,
) -> torch.Tensor:
    """Float32 logits (on the CPU) of ``model`` in eval mode for uint8 ``images``.

    Introduced in notebook 04. ``images`` must already have the model's input size and
    lie on the model's device (see :func:`prepare_data`); they go through the
    deterministic evaluation path of :func:`fer_utils.augment.to_model_input`.
    """
    model.eval()
    device = images.device
    outs = []
    for start in range(0, images.shape[0], batch_size):
        x = aug.to_model_input(images[start : start + batch_size])
        if channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with (
            torch.autocast(device.type, dtype=amp_dtype)
            if amp_dtype is not None
            else contextlib.nullcontext()
        ):
            outs.append(model(x).float().cpu())
    if not outs:
        return torch.zeros(0, getattr(model, "num_classes", 0))
    return torch.cat(outs)


def _model_context(model: nn.Module, config: TrainConfig) -> StepContext:
    """The evaluation context of a trained model: its device and ``config``'s precision."""
    dev = next(model.parameters()).device
    amp_dtype = resolve_amp(config.amp, dev)
    cl = resolve_channels_last(config.channels_last, amp_dtype)
    return StepContext(config, dev, amp_dtype, cl, None)


def predict_proba(model: nn.Module, dataset: FERDataset, config: TrainConfig) -> np.ndarray:
    """Class probabilities ``N x K`` (float64) of ``model`` on ``dataset``, as in evaluation.

    Introduced in notebook 04 (e.g. the compound-emotion example, paper A's Fig. 5). The
    images are prepared as in training (channels, ``config.image_size``) on the device of
    the model's parameters, with the precision ``config`` resolves to there.
    """
    ctx = _model_context(model, config)
    logits = predict_scores(model, prepare_data(dataset, config, ctx.device), ctx)
    if config.task == "multi_label":
        return torch.sigmoid(logits.double()).numpy()
    return torch.softmax(logits.double(), dim=1).numpy()


def predict_modules(
    model: MFJLE, dataset: FERDataset, config: TrainConfig
) -> dict[str, np.ndarray]:
    """Per-label probabilities ``N x L`` of each MF-JLE module alone and of the ensemble.

    Introduced in notebook 05. Keys: ``"global"``, the landmark names of
    :data:`fer_utils.data.dataset.LANDMARK_NAMES` (each local module's own sigmoid), and
    ``"ensemble"`` (sigmoid of the weighted sum, what the model predicts).
    """
    ctx = _model_context(model, config)
    g, loc = predict_module_logits(model, prepare_data(dataset, config, ctx.device), ctx)
    out = {"global": torch.sigmoid(g.double()).numpy()}
    for i, name in enumerate(LANDMARK_NAMES):
        out[name] = torch.sigmoid(loc[:, i].double()).numpy()
    out["ensemble"] = torch.sigmoid(model.combine(g, loc).double()).numpy()
    return out


def evaluate(
    model: nn.Module, data: DeviceData, ctx: StepContext
) -> tuple[dict[str, Any], np.ndarray]:
    """Every single-label metric of ``model`` on ``data``, and its probabilities ``N x K``.

    Introduced in notebook 04. The metrics are :func:`fer_utils.metrics.single_label_report`
    (``kl`` only when ``data`` has distributions); ``ce`` is computed from the logits, so
    it is exact also for very confident mistakes. Multi-label runs (notebook 05) report
    :func:`fer_utils.metrics.multilabel_report` of the sigmoid probabilities plus
    ``loss``, the binary cross-entropy of the (ensemble) logits, and return the sigmoid
    probabilities.
    """
    logits = predict_scores(model, data, ctx)
    if ctx.config.task == "multi_label":
        targets = data.targets.cpu()
        probs = torch.sigmoid(logits.double()).numpy()
        report = metrics.multilabel_report(targets.numpy(), probs, ctx.config.threshold)
        report["loss"] = float(F.binary_cross_entropy_with_logits(logits.double(),
                                                                  targets.double()))
        return report, probs
    labels = data.labels.cpu()
    probs = torch.softmax(logits.double(), dim=1).numpy()
    report = metrics.single_label_report(labels, probs, data.distributions)
    report["ce"] = float(F.cross_entropy(logits.double(), labels))
    return report, probs


def _val_row(report: dict[str, Any] | None, task: str = "single_label") -> dict[str, float]:
    """The validation columns of a history row (``nan`` without a validation set)."""
    if task == "multi_label":
        names = [c[4:] for c in MULTILABEL_HISTORY_COLUMNS if c.startswith("val_")]
        return {f"val_{k}": math.nan if report is None else report[k] for k in names}
    if report is None:
        return {
            k: math.nan for k in ("val_ce", "val_kl", "val_accuracy", "val_mean_class_accuracy")
        }
    return {
        "val_ce": report["ce"],
        "val_kl": report.get("kl", math.nan),
        "val_accuracy": report["accuracy"],
        "val_mean_class_accuracy": report["mean_class_accuracy"],
    }


def selection_key(row: Mapping[str, float], selection: str) -> tuple[float, float]:
    """Sort key of an epoch for model selection: larger is better.

    Introduced in notebook 04: the selection metric (negated when lower is better), then
    the negated validation cross-entropy as tie-breaker. ``nan`` never wins.
    """
    sign = 1.0 if SELECTION_METRICS[selection] == "max" else -1.0
    score, ce = sign * row[selection], -row.get("val_ce", row.get("val_loss", math.nan))
    return (-math.inf if math.isnan(score) else score, -math.inf if math.isnan(ce) else ce)


# ---------------------------------------------------------------------------------------
# Checkpoints
# ---------------------------------------------------------------------------------------


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` to a temporary file next to ``path``, then ``os.replace`` it.

    Introduced in notebook 04: a run killed mid-write leaves the previous file intact.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            torch.save(obj, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _atomic_write_text(text: str, path: Path) -> None:
    """Write ``text`` to ``path`` atomically (temporary file + ``os.replace``)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as fh:
        fh.write(text)
    os.replace(tmp, path)


def _cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of ``model``'s state dict (a snapshot, safe to keep)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def _config_differences(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """``"field: saved != wanted"`` for every field that differs."""
    keys = sorted(set(saved) | set(wanted))
    return [
        f"{k}: {saved.get(k)!r} != {wanted.get(k)!r}" for k in keys if saved.get(k) != wanted.get(k)
    ]


def load_checkpoint(path: Path, config: TrainConfig, fingerprint: str) -> dict[str, Any]:
    """Read a checkpoint and check that it belongs to this config and data.

    Introduced in notebook 04. Raises ``ValueError`` listing the differing fields when the
    checkpoint was written by another configuration, or when its data differ.
    """
    state = torch.load(path, map_location="cpu", weights_only=True)
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: unknown checkpoint format {state.get('format')!r}")
    diffs = _config_differences(state["config"], config.identity())
    if diffs:
        raise ValueError(
            f"{path} was written by a different configuration; refusing to resume it "
            f"(checkpoint != requested: {'; '.join(diffs)}). Use another run_name or "
            "delete that folder."
        )
    if state["data_fingerprint"] != fingerprint:
        raise ValueError(
            f"{path} was written for different data (fingerprint {state['data_fingerprint']} "
            f"!= {fingerprint}); refusing to resume it. Use another run_name."
        )
    return state


# ---------------------------------------------------------------------------------------
# The training function
# ---------------------------------------------------------------------------------------


@dataclass
class TrainResult:
    """What :func:`train` returns. Introduced in notebook 04.

    Attributes:
        config: the configuration of the run.
        history: one row per epoch, columns :data:`HISTORY_COLUMNS`.
        best_epoch: the selected epoch (1-based).
        selected_by: how it was selected, e.g. ``"val_accuracy"`` or
            ``"last epoch (no validation set)"``.
        model: the selected model, on the CPU, in eval mode (``None`` when a protocol
            dropped it to save memory).
        classes: the class names, in the order of the model's outputs.
        test_metrics: :func:`fer_utils.metrics.single_label_report` of the selected
            model on the test set (``None`` without a test set).
        test_probabilities: its predicted probabilities ``N x K`` (or ``None``).
        provenance: :func:`fer_utils.provenance.run_info` plus the resolved device,
            precision and thread count.
        duration_s: wall time of this call in seconds.
        run_name: the checkpoint folder name (``None`` without checkpoints).
        resumed_from_epoch: epochs already done when this call started (0 = fresh).
    """

    config: TrainConfig
    history: pd.DataFrame
    best_epoch: int
    selected_by: str
    model: FeatureClassifier | None
    classes: tuple[str, ...]
    test_metrics: dict[str, Any] | None
    test_probabilities: np.ndarray | None
    provenance: dict[str, Any]
    duration_s: float
    run_name: str | None = None
    resumed_from_epoch: int = 0

    def summary(self) -> dict[str, Any]:
        """One flat row for results tables: selection, test numbers, duration."""
        row: dict[str, Any] = {
            "best_epoch": self.best_epoch,
            "selected_by": self.selected_by,
            "epochs": int(len(self.history)),
            "duration_s": round(self.duration_s, 2),
        }
        best = self.history.loc[self.history["epoch"] == self.best_epoch]
        if self.config.task == "multi_label":
            if len(best):
                row["val_loss"] = float(best["val_loss"].iloc[0])
            if self.test_metrics is not None:
                for k in (*metrics.MULTILABEL_METRICS, "loss"):
                    row[f"test_{k}"] = self.test_metrics.get(k, math.nan)
            return row
        if len(best):
            row["val_accuracy"] = float(best["val_accuracy"].iloc[0])
        if self.test_metrics is not None:
            for k in ("accuracy", "mean_class_accuracy", "ce", "kl"):
                row[f"test_{k}"] = self.test_metrics.get(k, math.nan)
        return row


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool) -> Iterator[None]:
    """Switch torch's deterministic algorithms on (warn-only) for the ``with`` block.

    Introduced in notebook 04. The previous setting is restored afterwards.
    """
    before = torch.are_deterministic_algorithms_enabled()
    before_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    before_bench = torch.backends.cudnn.benchmark
    if enabled:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=before_warn)
        torch.backends.cudnn.benchmark = before_bench


def init_model(config: TrainConfig, num_classes: int) -> nn.Module:
    """The model of ``config``, initialised from ``config.seed`` (global RNG untouched).

    Introduced in notebook 04; ``model="mfjle"`` builds :class:`fer_utils.models.MFJLE`
    (notebook 05).
    """
    options = dict(config.model_options)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.seed)
        if config.model == "mfjle":
            return MFJLE(num_classes, config.in_channels, config.local_weights,
                         config.input_norm, config.stem)
        if config.model == "resnet18":
            options["stem"] = config.stem
        return build_model(config.model, num_classes, config.in_channels,
                           input_norm=config.input_norm, **options)


def _check_datasets(
    config: TrainConfig, train_set: FERDataset, others: Mapping[str, FERDataset | None]
) -> None:
    """Raise ``ValueError`` when the datasets cannot be trained on with ``config``."""
    if len(train_set) == 0:
        raise ValueError("train_set is empty")
    for name, ds in others.items():
        if ds is not None and ds.classes != train_set.classes:
            raise ValueError(
                f"{name} has classes {ds.classes}, but train_set has {train_set.classes}"
            )
    smallest = len(train_set) // math.ceil(len(train_set) / config.batch_size)
    if config.method == "mixfeature" and smallest < config.mix_k:
        raise ValueError(
            f"MixFeature needs batches of at least mix_k={config.mix_k} samples, but "
            f"{len(train_set)} training samples in batches of batch_size="
            f"{config.batch_size} give batches of {smallest}"
        )
    if config.task == "multi_label":
        for name, ds in {"train_set": train_set, **others}.items():
            if ds is None:
                continue
            if ds.multilabels is None or tuple(ds.multilabels.shape) != (len(ds), ds.num_classes):
                raise ValueError(
                    f"task='multi_label' needs {name}.multilabels of shape N x "
                    f"{ds.num_classes} (see fer_utils.multilabel.multilabel_view)"
                )
            if config.model == "mfjle" and ds.landmarks is None:
                raise ValueError(
                    f"model='mfjle' needs {name}.landmarks for the local crops; add them with "
                    "fer_utils.landmarks.dataset_landmarks(dataset)"
                )
    if config.selection == "val_kl" and (val := others.get("val_set")) is not None:
        if val.distributions is None:
            raise ValueError("TrainConfig.selection='val_kl' needs val_set.distributions")


def make_context(config: TrainConfig, classes: Sequence[str]) -> StepContext:
    """Resolve device, precision, memory layout and wheel distances for a run.

    Introduced in notebook 04.
    """
    device = resolve_device(config.device)
    amp_dtype = resolve_amp(config.amp, device)
    channels_last = resolve_channels_last(config.channels_last, amp_dtype)
    distances = None
    if config.method == "mixfeature":
        distances = distance_matrix(classes, config.wheel_layout).to(device)
    return StepContext(config, device, amp_dtype, channels_last, distances)


@dataclass
class RunState:
    """Everything a run carries from epoch to epoch, i.e. what a checkpoint holds.

    Introduced in notebook 04. ``best`` is the selected epoch so far (1-based), its
    selection key and a CPU copy of its weights; ``epochs_done`` counts finished epochs.
    """

    model: FeatureClassifier
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_key: list[float] | None = None
    best_weights: dict[str, torch.Tensor] | None = None
    epochs_done: int = 0

    def consider(self, row: Mapping[str, float], selection: str) -> None:
        """Make the epoch of ``row`` the best one if its selection key is larger."""
        key = selection_key(row, selection)
        if key[0] == -math.inf:  # no finite validation score
            return
        if self.best_key is None or key > tuple(self.best_key):
            self.best_epoch = int(row["epoch"])
            self.best_key = list(key)
            self.best_weights = _cpu_state(self.model)

    def to_checkpoint(self, config: TrainConfig, fingerprint: str) -> dict[str, Any]:
        """The checkpoint dict: this state plus the config identity and data fingerprint."""
        return {
            "format": CHECKPOINT_FORMAT,
            "config": config.identity(),
            "data_fingerprint": fingerprint,
            "epoch": self.epochs_done,
            "model": _cpu_state(self.model),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "history": self.history,
            "best_epoch": self.best_epoch,
            "best_key": self.best_key,
            "best": self.best_weights,
        }

    def restore(self, checkpoint: Mapping[str, Any]) -> None:
        """Load a checkpoint dict written by :meth:`to_checkpoint`."""
        self.model.load_state_dict(checkpoint["model"])
        self.optimizer.load_state_dict(checkpoint["optimizer"])
        self.scheduler.load_state_dict(checkpoint["scheduler"])
        self.history = list(checkpoint["history"])
        self.best_epoch = checkpoint["best_epoch"]
        self.best_key = checkpoint["best_key"]
        self.best_weights = checkpoint["best"]
        self.epochs_done = int(checkpoint["epoch"])


def new_run_state(config: TrainConfig, num_classes: int, ctx: StepContext) -> RunState:
    """A freshly initialised model (seeded), its optimizer and scheduler, on the device.

    Introduced in notebook 04.
    """
    model = init_model(config, num_classes).to(ctx.device)
    if ctx.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(config, model)
    return RunState(model, optimizer, make_scheduler(config, optimizer))


def checkpoint_path(
    config: TrainConfig, run_name: str | None, fingerprint: str
) -> tuple[Path | None, str | None]:
    """Where a run's checkpoint lives, and the run name (derived when ``None``).

    Introduced in notebook 04. The derived name is ``<model>_<method>_seed<seed>_`` plus
    the config key and the start of the data fingerprint, so different runs never share
    a folder by accident. Without ``checkpoint_dir``: ``(None, run_name)``.
    """
    if config.checkpoint_dir is None:
        return None, run_name
    if run_name is None:
        run_name = f"{config.model}_{config.method}_seed{config.seed}_{config.key()}"
        run_name += f"_{fingerprint[:6]}"
    return Path(config.checkpoint_dir) / run_name / CHECKPOINT_FILE, run_name


def save_checkpoint(path: Path, state: RunState, config: TrainConfig, fingerprint: str) -> None:
    """Write ``state`` atomically to ``path``, and its history as ``history.csv`` next to it.

    Introduced in notebook 04.
    """
    atomic_torch_save(state.to_checkpoint(config, fingerprint), path)
    _atomic_write_text(
        pd.DataFrame(state.history).to_csv(index=False), path.with_name("history.csv")
    )


def run_epoch(
    state: RunState,
    train_data: DeviceData,
    val_data: DeviceData | None,
    ctx: StepContext,
) -> dict[str, float]:
    """Train one more epoch, refresh batch-norm statistics, validate, update the best epoch.

    Introduced in notebook 04. Returns the epoch's history row.
    """
    start = time.perf_counter()
    epoch = state.epochs_done
    row: dict[str, float] = {"epoch": epoch + 1, "lr": state.optimizer.param_groups[0]["lr"]}
    row.update(
        train_one_epoch(
            state.model, state.optimizer, train_data, ctx, epoch, None, ctx.config.progress
        )
    )
    state.scheduler.step()
    bn_generator = epoch_generators(ctx.config.seed, epoch)["bn"]
    recompute_bn_stats(state.model, train_data, ctx, ctx.config.precise_bn_images, bn_generator)
    report = None if val_data is None else evaluate(state.model, val_data, ctx)[0]
    row.update(_val_row(report, ctx.config.task))
    row["seconds"] = time.perf_counter() - start
    state.history.append(row)
    state.epochs_done = epoch + 1
    state.consider(row, ctx.config.resolved_selection())
    return row


def select_best(state: RunState, selection: str, has_val: bool) -> tuple[int, str]:
    """Load the selected weights into ``state.model``; return (epoch, how it was chosen).

    Introduced in notebook 04. Without any finite validation score the last epoch's
    weights stay.
    """
    if state.best_weights is not None and state.best_epoch is not None:
        state.model.load_state_dict(state.best_weights)
        return state.best_epoch, selection
    reason = "no validation set" if not has_val else "no epoch had a finite validation score"
    return state.epochs_done, f"last epoch ({reason})"


def train(
    config: TrainConfig,
    train_set: FERDataset,
    val_set: FERDataset | None,
    test_set: FERDataset | None = None,
    run_name: str | None = None,
    callbacks: Sequence[Callable[[int, dict[str, float]], None]] = (),
) -> TrainResult:
    """Train, select on validation data, test once: the training of every notebook.

    Introduced in notebook 04. Records the per-epoch history (:data:`HISTORY_COLUMNS`),
    keeps the epoch that is best by ``config.selection`` on ``val_set`` (without a
    validation set: the last epoch), and evaluates that model on ``test_set`` once at the
    end. The test set plays no part in training or selection.

    With ``config.checkpoint_dir`` set, a checkpoint is written after every epoch to
    ``checkpoint_dir/run_name`` (``run_name`` defaults to model, method, seed and a hash
    of config and data: :func:`checkpoint_path`), and a call with a finished or
    interrupted run's config, data and ``run_name`` resumes it. ``callbacks`` are called
    as ``callback(epoch, row)`` after each epoch (1-based, after its checkpoint), e.g.
    for live plots; an exception raised there stops the run, as a crash would.
    """
    start_time = time.perf_counter()
    _check_datasets(config, train_set, {"val_set": val_set, "test_set": test_set})
    ctx = make_context(config, train_set.classes)
    fingerprint = data_fingerprint(
        train_set, val_set, multilabel=config.task == "multi_label"
    )
    path, run_name = checkpoint_path(config, run_name, fingerprint)
    state = new_run_state(config, train_set.num_classes, ctx)
    if path is not None and path.exists():
        state.restore(load_checkpoint(path, config, fingerprint))
    elif path is not None:
        _atomic_write_text(json.dumps(config.to_dict(), indent=2), path.with_name("config.json"))
    resumed_from = state.epochs_done

    train_data = prepare_data(train_set, config, ctx.device)
    val_data = None if val_set is None else prepare_data(val_set, config, ctx.device)
    with deterministic_algorithms(config.deterministic):
        epochs = range(state.epochs_done, config.epochs)
        for _ in tqdm(epochs, desc="epochs", disable=not config.progress):
            row = run_epoch(state, train_data, val_data, ctx)
            if path is not None:
                save_checkpoint(path, state, config, fingerprint)
            for callback in callbacks:
                callback(int(row["epoch"]), dict(row))
        best_epoch, selected_by = select_best(
            state, config.resolved_selection(), val_set is not None
        )
        test_metrics, test_probs = None, None
        if test_set is not None:
            test_data = prepare_data(test_set, config, ctx.device)
            test_metrics, test_probs = evaluate(state.model, test_data, ctx)

    provenance = run_info()
    provenance.update(
        train_device=str(ctx.device),
        amp=str(ctx.amp_dtype).replace("torch.", "") if ctx.amp_dtype else "float32",
        channels_last=ctx.channels_last,
        threads=torch.get_num_threads(),
    )
    return TrainResult(
        config=config,
        history=pd.DataFrame(state.history, columns=list(history_columns(config.task))),
        best_epoch=best_epoch,
        selected_by=selected_by,
        model=state.model.to("cpu", memory_format=torch.contiguous_format).eval(),
        classes=train_set.classes,
        test_metrics=test_metrics,
        test_probabilities=test_probs,
        provenance=provenance,
        duration_s=time.perf_counter() - start_time,
        run_name=run_name,
        resumed_from_epoch=resumed_from,
    )
