"""What decides a training run, grouped by concern: :class:`TrainConfig` and its parts.

Notebook 04 (training) builds these through :func:`fer_utils.mixfeature.presets.preset`. A
run is described by six small groups, so that a reader sees at once which settings belong
to what, and a single-label run carries no MF-JLE settings at all:

=============================== ============================================================
group                           settings
=============================== ============================================================
:class:`NetworkConfig`          which network, its input size and channels, input norm
:class:`OptimConfig`            epochs, batches, optimiser, learning-rate schedule,
                                augmentation, precise batch-norm, model selection
:class:`MixFeatureConfig`       paper A's K, lambda and wheel (used when
                                ``method="mixfeature"``)
:class:`BaselineConfig`         paper A's Table 4 comparison methods (MixUp, CutMix, ...;
                                :mod:`fer_utils.baselines`), used by those methods only
:class:`MultiLabelConfig`       paper B's crops, lambda_i, loss and threshold (present only
                                when ``task="multi_label"``, else ``None``)
:class:`RuntimeConfig`          seed, device, precision, determinism, checkpoints, progress
=============================== ============================================================

Every field name is unique across the groups, so a run can also be written flat:
``TrainConfig.from_flat(model="cnn3", lr=0.01, method="mixfeature")``, and
``config.replace(lr=0.1)`` changes one setting wherever it lives. Presets and
command-line scripts use the flat names; code reads the groups (``config.optim.lr``).
Every value is checked when a config is made; a bad one raises ``ValueError`` naming the
field and the accepted values.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
import torch

from fer_utils import augment as aug
from fer_utils.baselines.config import BASELINE_METHODS, BaselineConfig
from fer_utils.baselines.mixstyle import check_layers
from fer_utils.mfjle.loss import MULTILABEL_LOSSES
from fer_utils.mfjle.mixing import MFJLE_MIXES
from fer_utils.mfjle.model import NUM_LOCAL
from fer_utils.mixfeature.loss import BETA_MODES
from fer_utils.mixfeature.synthesis import PRIMARY_DRAWS
from fer_utils.mixfeature.wheel import LAYOUTS
from fer_utils.models import INPUT_NORMS, MODEL_NAMES, STEMS, build_backbone, model_options
from fer_utils.training.checks import check_choice, check_int, check_number, fail

OPTIMIZERS: tuple[str, ...] = ("sgd", "adam")
SCHEDULES: tuple[str, ...] = ("constant", "step")
#: ``"baseline"`` (cross-entropy), ``"mixfeature"`` (paper A) and paper A's Table 4
#: comparison methods (:data:`fer_utils.baselines.BASELINE_METHODS`).
METHODS: tuple[str, ...] = ("baseline", "mixfeature", *BASELINE_METHODS)
#: ``"single_label"`` (paper A: one class per image, softmax) or ``"multi_label"``
#: (paper B: a set of labels per image, sigmoid per label).
TASKS: tuple[str, ...] = ("single_label", "multi_label")
#: Models :class:`NetworkConfig` accepts: the backbones plus paper B's ensemble.
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

#: Fields that do not change the numbers of a run; a checkpoint written with other
#: values of these fields may still be resumed.
NON_IDENTITY_FIELDS: tuple[str, ...] = ("checkpoint_dir", "progress")


# ---------------------------------------------------------------------------------------
# The groups (BaselineConfig lives in fer_utils.baselines.config)
# ---------------------------------------------------------------------------------------


@dataclass
class NetworkConfig:
    """Which network a run trains, and the input it sees.

    Attributes:
        model: ``"cnn3"`` or ``"resnet18"`` (:mod:`fer_utils.models`), or ``"mfjle"``
            (paper B's six-module ensemble; needs ``task="multi_label"``).
        image_size: side of the square model input in pixels (>= 32).
        in_channels: 1 (gray) or 3 (RGB); images are converted when the data differ
            (gray repeated into 3 channels, RGB to luma 0.299 R + 0.587 G + 0.114 B).
        stem: ResNet-18 stem, ``"standard"`` or ``"small"`` (ignored by cnn3).
        model_options: further backbone options, e.g. ``{"widths": [16, 32, 64]}``.
        input_norm: ``"none"`` (pixels in [0, 1]) or ``"imagenet"`` (paper B), applied
            inside the model (:data:`fer_utils.models.INPUT_NORMS`).
    """

    model: str = "resnet18"
    image_size: int = 48
    in_channels: int = 1
    stem: str = "standard"
    model_options: dict[str, Any] = field(default_factory=dict)
    input_norm: str = "none"

    def __post_init__(self) -> None:
        check_choice("model", self.model, TRAIN_MODELS)
        check_int("image_size", self.image_size, 32)
        check_choice("in_channels", self.in_channels, (1, 3))
        check_choice("stem", self.stem, STEMS)
        check_choice("input_norm", self.input_norm, tuple(INPUT_NORMS))
        if not isinstance(self.model_options, Mapping):
            fail("model_options", "a dict of backbone options", self.model_options)
        backbone = "resnet18" if self.model == "mfjle" else self.model
        accepted = [o for o in model_options(backbone) if o != "stem"]
        unknown = sorted(set(self.model_options) - set(accepted))
        if unknown:
            fail("model_options", f"a dict with keys from {accepted} for {self.model}", unknown)
        # stored as JSON values (tuples become lists) so that configs compare reliably
        self.model_options = json.loads(json.dumps(dict(self.model_options)))
        if self.model_options:
            try:  # builds a throw-away backbone: cheap for the options there are
                build_backbone(backbone, self.in_channels, **self.model_options)
            except (ValueError, TypeError) as err:
                fail(
                    "model_options", f"valid options for {self.model} ({err})", self.model_options
                )


@dataclass
class OptimConfig:
    """How the network is fitted, and which epoch is kept.

    Attributes:
        epochs, batch_size: training length and mini-batch size.
        optimizer: ``"sgd"`` (with ``momentum`` and ``weight_decay``; paper A) or
            ``"adam"`` (default betas, ``weight_decay``; paper B).
        lr: initial learning rate.
        schedule: ``"constant"`` or ``"step"``: after the first ``step_after`` epochs,
            the rate is multiplied by ``gamma`` at the end of every ``step_every``-th
            further epoch (see :func:`fer_utils.training.optim.lr_factor`).
        augment: ``"none"``, ``"basic"`` (flips + random crops) or ``"ferplus"`` (adds
            small rotations and brightness changes); see :mod:`fer_utils.augment`.
        precise_bn_images: after every epoch, recompute the batch-norm statistics from
            this many (un-augmented, randomly ordered) training images with the epoch's
            final weights, before validation (0 = keep the running averages collected
            during training); see :mod:`fer_utils.training.precise_bn` for why.
        selection: the validation metric that picks the best epoch (a key of
            :data:`SELECTION_METRICS` valid for the task, see :data:`TASK_SELECTION`;
            ``"auto"``: validation accuracy for single-label runs, validation loss for
            multi-label runs); ties go to the lower validation cross-entropy, then to
            the earlier epoch.
    """

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
    augment: str = "basic"
    precise_bn_images: int = 4096
    selection: str = "auto"

    def __post_init__(self) -> None:
        check_int("epochs", self.epochs, 1)
        check_int("batch_size", self.batch_size, 2)
        check_choice("optimizer", self.optimizer, OPTIMIZERS)
        check_number("lr", self.lr, 0.0, 10.0, open_low=True)
        check_number("momentum", self.momentum, 0.0, 0.999, open_low=False)
        check_number("weight_decay", self.weight_decay, 0.0, 1.0, open_low=False)
        check_choice("schedule", self.schedule, SCHEDULES)
        check_int("step_every", self.step_every, 1)
        check_int("step_after", self.step_after, 0)
        check_number("gamma", self.gamma, 0.0, 1.0, open_low=True)
        check_choice("augment", self.augment, tuple(aug.POLICIES))
        check_int("precise_bn_images", self.precise_bn_images, 0)
        check_choice("selection", self.selection, ("auto", *SELECTION_METRICS))


@dataclass
class MixFeatureConfig:
    """Paper A's MixFeature settings (used when ``method="mixfeature"``). Notebook 04.

    Attributes:
        mix_k: group size K of Algorithm 1 (>= 2).
        mix_lambda: lambda of Eq. 8, the weight of the cross-entropy term (in [0, 1];
            the paper gives none: ``docs/replication.md`` D2).
        wheel_layout: a name from :data:`fer_utils.mixfeature.wheel.LAYOUTS` or a
            K x K distance matrix as nested lists (``docs/replication.md`` D1).
        mix_beta: Eq. 7's beta, ``"sample"`` (each synthesized sample's own target
            entropy) or ``"batch"`` (one batch-level beta), ``docs/replication.md`` D11.
        mix_primary: how Algorithm 1 draws a group's primary emotion, ``"member"`` (a
            random member's label) or ``"label"`` (a random distinct label), D11.
    """

    mix_k: int = 3
    mix_lambda: float = 0.5
    wheel_layout: str | list[list[float]] = "plutchik"
    mix_beta: str = "sample"
    mix_primary: str = "member"

    def __post_init__(self) -> None:
        check_int("mix_k", self.mix_k, 2)
        check_choice("mix_beta", self.mix_beta, BETA_MODES)
        check_choice("mix_primary", self.mix_primary, PRIMARY_DRAWS)
        check_number("mix_lambda", self.mix_lambda, 0.0, 1.0, open_low=False)
        layout = self.wheel_layout
        if isinstance(layout, np.ndarray | torch.Tensor | tuple):
            self.wheel_layout = layout = np.asarray(layout, dtype=float).tolist()
        if isinstance(layout, str):
            check_choice("wheel_layout", layout, LAYOUTS)
        elif not (isinstance(layout, list) and all(isinstance(r, list) for r in layout)):
            fail("wheel_layout", f"one of {LAYOUTS} or a K x K matrix (nested lists)", layout)


@dataclass
class MultiLabelConfig:
    """Paper B's multi-label settings (present only when ``task="multi_label"``). Notebook 05.

    Attributes:
        local_size: side in pixels of MF-JLE's local crops as the local modules see them.
        crop_fraction: side of each square crop as a fraction of the image width
            (``docs/replication.md`` D9, default 1/4; :mod:`fer_utils.mfjle.crops`).
        local_weights: the five ``lambda_i`` of paper B's Eq. 1 (one number for all
            five, or five).
        multilabel_loss: ``"bce"`` (paper B) or ``"ce"`` (the multi-class ablation).
        threshold: a label is predicted when its probability is above this.
        mfjle_mix: ``"none"`` (paper B) or ``"mixfeature"``: paper A's Algorithm 1 inside
            every module, with MixFeature's ``mix_k``, ``mix_lambda``, ``wheel_layout``
            and ``mix_primary`` (``mix_beta`` is not used: the mixed term has no beta);
            our experiment, :mod:`fer_utils.mfjle.mixing`, ``docs/replication.md`` D27.
            It also works for a single backbone (one module). Enters a run's identity
            only when not ``"none"``.
    """

    local_size: int = 32
    crop_fraction: float = 0.25
    local_weights: float | list[float] = 0.01
    multilabel_loss: str = "bce"
    threshold: float = 0.5
    mfjle_mix: str = "none"

    def __post_init__(self) -> None:
        check_int("local_size", self.local_size, 32)
        check_number("crop_fraction", self.crop_fraction, 0.0, 1.0, open_low=True)
        weights = self.local_weights
        if not isinstance(weights, list | tuple | np.ndarray | torch.Tensor):
            weights = [weights] * NUM_LOCAL
        try:
            weights = [math.nan if isinstance(w, bool) else float(w) for w in weights]
        except (TypeError, ValueError):
            weights = []
        if len(weights) != NUM_LOCAL or not all(math.isfinite(w) and w >= 0 for w in weights):
            fail("local_weights", f"a number >= 0 or {NUM_LOCAL} of them", self.local_weights)
        self.local_weights = weights
        check_choice("multilabel_loss", self.multilabel_loss, MULTILABEL_LOSSES)
        check_number("threshold", self.threshold, 0.0, 1.0, open_low=True)
        check_choice("mfjle_mix", self.mfjle_mix, MFJLE_MIXES)


@dataclass
class RuntimeConfig:
    """Where and how a run executes; only ``seed`` changes its numbers. Notebook 04.

    Attributes:
        seed: seed of the model initialisation and of every epoch's randomness.
        device: ``"auto"`` (CUDA, then Apple MPS, then CPU) or a torch device string.
        amp: ``"auto"``, ``"bf16"`` or ``"off"``. ``"auto"`` uses bfloat16 autocast on
            CUDA GPUs that support it and on CPUs with native bfloat16 instructions
            (Intel AMX or AVX512-BF16), where it is 2-4x faster; never on MPS or on
            other CPUs (emulated bfloat16 is slower than float32).
        channels_last: ``"auto"`` (on whenever bfloat16 autocast is on), ``True`` or
            ``False``: the memory layout of the model and input batches.
        eval_batch_size: batch size of validation and test predictions.
        deterministic: switch on torch's deterministic algorithms during the run.
        checkpoint_dir: folder for per-epoch checkpoints, or ``None`` for none.
        progress: show progress bars over epochs and batches (widgets in JupyterLab;
            silenced by ``TQDM_DISABLE=1``, which the notebook runner sets).
    """

    seed: int = 0
    device: str = "auto"
    amp: str = "auto"
    channels_last: bool | str = "auto"
    eval_batch_size: int = 256
    deterministic: bool = True
    checkpoint_dir: str | None = None
    progress: bool = True

    def __post_init__(self) -> None:
        check_int("seed", self.seed, 0)
        if not isinstance(self.device, str):
            fail("device", "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'", self.device)
        if self.device != "auto":
            try:
                torch.device(self.device)
            except RuntimeError:
                fail("device", "'auto', 'cpu', 'cuda', 'cuda:N' or 'mps'", self.device)
        check_choice("amp", self.amp, AMP_MODES)
        check_choice("channels_last", self.channels_last, ("auto", True, False))
        check_int("eval_batch_size", self.eval_batch_size, 1)
        check_choice("deterministic", self.deterministic, (True, False))
        if self.checkpoint_dir is not None:
            if not isinstance(self.checkpoint_dir, str | os.PathLike):
                fail("checkpoint_dir", "None or a folder path", self.checkpoint_dir)
            self.checkpoint_dir = os.fspath(self.checkpoint_dir)
        check_choice("progress", self.progress, (True, False))


#: The groups of :class:`TrainConfig`: attribute name -> group class.
GROUPS: dict[str, type] = {
    "network": NetworkConfig,
    "optim": OptimConfig,
    "mixfeature": MixFeatureConfig,
    "baselines": BaselineConfig,
    "multilabel": MultiLabelConfig,
    "runtime": RuntimeConfig,
}

#: Flat field name -> the group that holds it (``"task"`` and ``"method"`` sit on top).
FIELD_GROUP: dict[str, str] = {
    f.name: group for group, cls in GROUPS.items() for f in fields(cls)
}

#: The flat names that only multi-label runs use.
MULTILABEL_ONLY_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(MultiLabelConfig))

_TOP_FIELDS: tuple[str, ...] = ("task", "method")


# ---------------------------------------------------------------------------------------
# The whole configuration
# ---------------------------------------------------------------------------------------


@dataclass
class TrainConfig:
    """Everything that decides a training run, grouped by concern.

    ``task`` is ``"single_label"`` (paper A) or ``"multi_label"`` (paper B: binary
    cross-entropy on the dataset's ``multilabels``); ``method`` is ``"baseline"``
    (cross-entropy), ``"mixfeature"`` (paper A's loss) or one of paper A's Table 4
    comparison methods (:mod:`fer_utils.baselines`); all but ``"baseline"`` are
    single-label only. The groups are described in the module docstring; ``multilabel``
    is made with its defaults when ``task="multi_label"`` and must be ``None`` otherwise.
    """

    task: str = "single_label"
    method: str = "baseline"
    network: NetworkConfig = field(default_factory=NetworkConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    mixfeature: MixFeatureConfig = field(default_factory=MixFeatureConfig)
    baselines: BaselineConfig = field(default_factory=BaselineConfig)
    multilabel: MultiLabelConfig | None = None
    runtime: RuntimeConfig = field(default_factory=RuntimeConfig)

    def __post_init__(self) -> None:
        check_choice("task", self.task, TASKS)
        check_choice("method", self.method, METHODS)
        for name, cls in GROUPS.items():
            value = getattr(self, name)
            if not (isinstance(value, cls) or (name == "multilabel" and value is None)):
                fail(name, f"a {cls.__name__}", value)
        if self.task == "multi_label" and self.multilabel is None:
            self.multilabel = MultiLabelConfig()
        if self.task == "single_label" and self.multilabel is not None:
            fail("multilabel", "None for task='single_label' (MF-JLE settings)", self.multilabel)
        if self.network.model == "mfjle" and self.task != "multi_label":
            fail("task", "'multi_label' for model='mfjle'", self.task)
        if self.task == "multi_label" and self.method != "baseline":
            fail("method", "'baseline' for task='multi_label' (the other methods are "
                 "single-label)", self.method)
        if self.method == "mixstyle":
            net = self.network
            check_layers(net.model, net.in_channels, net.model_options, net.stem,
                         self.baselines.mixstyle_layers)
        check_choice("selection", self.optim.selection, ("auto", *TASK_SELECTION[self.task]))

    # -- flat access -----------------------------------------------------------------

    @classmethod
    def from_flat(cls, **values: Any) -> TrainConfig:
        """A config from flat field names (``model=``, ``lr=``, ``mix_k=``, ...).

        Unknown names raise ``ValueError`` listing the
        accepted ones; MF-JLE fields with ``task="single_label"`` are refused.
        """
        return cls().replace(**values)

    def replace(self, **values: Any) -> TrainConfig:
        """A copy with flat fields changed, wherever they live (``config.replace(lr=0.1)``).

        Introduced in notebook 04. Changing ``task`` to ``"multi_label"`` adds the
        multi-label group with its defaults; changing it to ``"single_label"`` drops it.
        """
        names = set(FIELD_GROUP) | set(_TOP_FIELDS)
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(
                f"unknown TrainConfig field(s) {', '.join(unknown)}; "
                f"accepted: {', '.join(sorted(names))}"
            )
        task = values.get("task", self.task)
        misplaced = sorted(set(values) & set(MULTILABEL_ONLY_FIELDS))
        if task != "multi_label" and misplaced:
            raise ValueError(
                f"TrainConfig field(s) {', '.join(misplaced)} apply only to "
                f"task='multi_label', but task is {task!r}"
            )
        groups: dict[str, Any] = {}
        for group in GROUPS:
            current = getattr(self, group)
            if group == "multilabel":
                if task != "multi_label":
                    groups[group] = None
                    continue
                current = current or MultiLabelConfig()
            changes = {k: v for k, v in values.items() if FIELD_GROUP.get(k) == group}
            groups[group] = dataclasses.replace(copy.deepcopy(current), **changes)
        top = {k: values.get(k, getattr(self, k)) for k in _TOP_FIELDS}
        return TrainConfig(**top, **groups)

    def flat(self) -> dict[str, Any]:
        """Every field as one flat, JSON-ready dict (the multi-label ones only when present)."""
        out: dict[str, Any] = {k: getattr(self, k) for k in _TOP_FIELDS}
        for group in GROUPS:
            value = getattr(self, group)
            if value is not None:
                out.update(dataclasses.asdict(value))
        return json.loads(json.dumps(out))

    # -- serialisation and identity --------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The config as a nested JSON-ready dict; :meth:`from_dict` rebuilds it."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrainConfig:
        """Rebuild a config from :meth:`to_dict` output, or from a flat dict.

        A flat dict is what ``config.json`` held before the fields were grouped; its
        multi-label fields are dropped for single-label runs, where they had no effect.
        """
        if any(isinstance(data.get(g), Mapping) for g in GROUPS):
            top = {k: data[k] for k in _TOP_FIELDS if k in data}
            groups = {
                g: None if data.get(g) is None else GROUPS[g](**data[g])
                for g in GROUPS
                if g in data
            }
            return cls(**top, **groups)
        flat = dict(data)
        if flat.get("task", "single_label") != "multi_label":
            for name in MULTILABEL_ONLY_FIELDS:
                flat.pop(name, None)
        return cls.from_flat(**flat)

    def resolved_selection(self) -> str:
        """The selection metric actually used (``"auto"`` resolved for the task)."""
        selection = self.optim.selection
        return TASK_SELECTION[self.task][0] if selection == "auto" else selection

    def identity(self) -> dict[str, Any]:
        """The flat fields that decide the numbers of a run (not :data:`NON_IDENTITY_FIELDS`).

        ``selection`` enters resolved (``"auto"`` is the metric it stands for). A
        single-label run leaves out ``task`` and ``input_norm`` when it is ``"none"``; of
        the :class:`BaselineConfig` fields only those of the run's own method enter;
        ``mix_beta``, ``mix_primary`` and ``mfjle_mix`` only when not at their defaults.
        This is the same dict as before the fields were grouped, so run names and
        checkpoints written earlier still resume.
        """
        d = self.flat()
        for name in NON_IDENTITY_FIELDS:
            d.pop(name)
        d["selection"] = self.resolved_selection()
        for name, default in (("mix_beta", "sample"), ("mix_primary", "member"),
                              ("mfjle_mix", "none")):
            if d.get(name) == default:  # added later: left out at their defaults, so runs
                d.pop(name)  # named before they existed keep their names
        own = BaselineConfig.fields_of(self.method)
        for name in (f.name for f in fields(BaselineConfig)):
            if name not in own:
                d.pop(name)
        if self.task == "single_label":
            d.pop("task")
            if self.network.input_norm == "none":
                d.pop("input_norm")
        return d

    def key(self) -> str:
        """A short hash of :meth:`identity`, for naming runs."""
        text = json.dumps(self.identity(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]

    def describe(self) -> pd.DataFrame:
        """A short table of the settings that matter for this run, by group.

        Introduced in notebook 04 (printed before each training). MixFeature's settings
        appear only for ``method="mixfeature"`` (or ``mfjle_mix="mixfeature"``), a
        comparison method's only for it, and the multi-label ones only for multi-label
        runs; of the runtime group only what can change the numbers or the speed (seed,
        device, precision) is shown.
        """
        shown = {
            "network": dataclasses.asdict(self.network),
            "optim": dataclasses.asdict(self.optim),
            "runtime": {k: getattr(self.runtime, k) for k in ("seed", "device", "amp")},
        }
        mixes = self.multilabel is not None and self.multilabel.mfjle_mix != "none"
        if self.method == "mixfeature" or mixes:
            shown["mixfeature"] = dataclasses.asdict(self.mixfeature)
        if self.method in BASELINE_METHODS:
            shown["baselines"] = {
                k: getattr(self.baselines, k) for k in BaselineConfig.fields_of(self.method)
            }
        if self.multilabel is not None:
            shown["multilabel"] = dataclasses.asdict(self.multilabel)
        shown["optim"]["selection"] = self.resolved_selection()
        rows = [
            {"group": "run", "setting": "task / method", "value": f"{self.task} / {self.method}"}
        ]
        for group, values in shown.items():
            for name, value in values.items():
                if name == "model_options" and not value:
                    continue
                rows.append({"group": group, "setting": name, "value": str(value)})
        return pd.DataFrame(rows).set_index(["group", "setting"])
