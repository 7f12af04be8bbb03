"""The training loop of every notebook: :func:`train`, driven by a :class:`TrainConfig`.

Introduced in notebook 04 (training). :func:`train` fits a baseline or a MixFeature model
(paper A), or a multi-label single ResNet-18 / MF-JLE ensemble (paper B, notebook 05),
picks the best epoch on validation data only, and evaluates that model once on the test
set. One epoch is :func:`run_epoch`: train (:mod:`fer_utils.training.step`), refresh the
batch-norm statistics (:mod:`fer_utils.training.precise_bn`), validate
(:mod:`fer_utils.training.evaluate`), remember the best epoch, and checkpoint
(:mod:`fer_utils.training.checkpoint`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn

from fer_utils import metrics
from fer_utils.data.dataset import FERDataset
from fer_utils.files import atomic_write_text
from fer_utils.mfjle.model import MFJLE
from fer_utils.models import FeatureClassifier, build_model
from fer_utils.provenance import run_info
from fer_utils.training.checkpoint import (
    CHECKPOINT_FORMAT,
    checkpoint_path,
    cpu_state,
    load_checkpoint,
    save_checkpoint,
)
from fer_utils.training.config import SELECTION_METRICS, TrainConfig
from fer_utils.training.data import DeviceData, batch_indices, data_fingerprint, prepare_data
from fer_utils.training.evaluate import evaluate
from fer_utils.training.optim import make_optimizer, make_scheduler
from fer_utils.training.precise_bn import recompute_bn_stats
from fer_utils.training.runtime import (
    StepContext,
    deterministic_algorithms,
    epoch_generators,
    make_context,
    progress_bar,
)
from fer_utils.training.step import multilabel_step, training_step

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
    """The per-epoch history columns of a run of ``task``."""
    return MULTILABEL_HISTORY_COLUMNS if task == "multi_label" else HISTORY_COLUMNS


class TrainingDivergedError(ValueError):
    """Raised by :func:`run_epoch` when the training loss is ``nan`` or infinite."""


def train_one_epoch(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    data: DeviceData,
    ctx: StepContext,
    epoch: int,
    progress: bool = False,
) -> dict[str, float]:
    """Train ``model`` for epoch ``epoch`` (0-based); return the sample-weighted means.

    Returns ``train_ce`` (cross-entropy of the original, i.e.
    non-mixed, augmented samples), ``train_loss`` and ``train_kl`` (MixFeature's weighted
    KL term; ``nan`` for the baseline). Multi-label runs return ``train_loss``,
    ``train_global`` and ``train_local`` (notebook 05).
    """
    model.train()
    gens = epoch_generators(ctx.config.runtime.seed, epoch)
    batches = batch_indices(len(data), ctx.config.optim.batch_size, gens["shuffle"])
    multi = ctx.config.task == "multi_label"
    keys = ("loss", "global", "local") if multi else ("ce", "loss", "kl")
    totals = dict.fromkeys(keys, 0.0)
    bar = progress_bar(batches, progress, desc=f"epoch {epoch + 1}", leave=False)
    for idx in bar:
        with ctx.phase("index"):
            idx_dev = idx.to(data.images.device)
            xb, yb = data.images[idx_dev], data.labels[idx_dev]
        if multi:
            local = None if data.local_images is None else data.local_images[idx_dev]
            parts = multilabel_step(model, optimizer, xb, data.targets[idx_dev], ctx, gens, local,
                                    labels=yb)
        else:
            parts = training_step(model, optimizer, xb, yb, ctx, gens)
        for key in totals:
            totals[key] += parts[key] * len(idx)
        bar.set_postfix(loss=f"{parts['loss']:.3f}", refresh=False)
    n = len(data)
    return {f"train_{k}": v / n for k, v in totals.items()}


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

    The selection metric (negated when lower is better), then
    the negated validation cross-entropy as tie-breaker. ``nan`` never wins.
    """
    sign = 1.0 if SELECTION_METRICS[selection] == "max" else -1.0
    score, ce = sign * row[selection], -row.get("val_ce", row.get("val_loss", math.nan))
    return (-math.inf if math.isnan(score) else score, -math.inf if math.isnan(ce) else ce)


@dataclass
class TrainResult:
    """What :func:`train` returns.

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


def init_model(config: TrainConfig, num_classes: int) -> nn.Module:
    """The model of ``config``, initialised from ``config.runtime.seed`` (global RNG untouched).

    ``model="mfjle"`` builds :class:`fer_utils.mfjle.model.MFJLE` (notebook 05).
    """
    options = dict(config.network.model_options)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(config.runtime.seed)
        if config.network.model == "mfjle":
            return MFJLE(num_classes, config.network.in_channels, config.multilabel.local_weights,
                         config.network.input_norm, config.network.stem)
        if config.network.model == "resnet18":
            options["stem"] = config.network.stem
        return build_model(config.network.model, num_classes, config.network.in_channels,
                           input_norm=config.network.input_norm, **options)


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
    smallest = len(train_set) // math.ceil(len(train_set) / config.optim.batch_size)
    mixes = config.method == "mixfeature" or (
        config.multilabel is not None and config.multilabel.mfjle_mix != "none"
    )
    if mixes and smallest < config.mixfeature.mix_k:
        raise ValueError(
            f"MixFeature needs batches of at least mix_k={config.mixfeature.mix_k} samples, but "
            f"{len(train_set)} training samples in batches of batch_size="
            f"{config.optim.batch_size} give batches of {smallest}"
        )
    if config.task == "multi_label":
        for name, ds in {"train_set": train_set, **others}.items():
            if ds is None:
                continue
            if ds.multilabels is None or tuple(ds.multilabels.shape) != (len(ds), ds.num_classes):
                raise ValueError(
                    f"task='multi_label' needs {name}.multilabels of shape N x "
                    f"{ds.num_classes} (see fer_utils.mfjle.labels.multilabel_view)"
                )
            if config.network.model == "mfjle" and ds.landmarks is None:
                raise ValueError(
                    f"model='mfjle' needs {name}.landmarks for the local crops; add them with "
                    "fer_utils.mfjle.landmarks.dataset_landmarks(dataset)"
                )
    if config.optim.selection == "val_kl" and (val := others.get("val_set")) is not None:
        if val.distributions is None:
            raise ValueError("TrainConfig.selection='val_kl' needs val_set.distributions")


@dataclass
class RunState:
    """Everything a run carries from epoch to epoch, i.e. what a checkpoint holds.

    ``best`` is the selected epoch so far (1-based), its
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
            self.best_weights = cpu_state(self.model)

    def to_checkpoint(self, config: TrainConfig, fingerprint: str) -> dict[str, Any]:
        """The checkpoint dict: this state plus the config identity and data fingerprint."""
        return {
            "format": CHECKPOINT_FORMAT,
            "config": config.identity(),
            "data_fingerprint": fingerprint,
            "epoch": self.epochs_done,
            "model": cpu_state(self.model),
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
    """
    model = init_model(config, num_classes).to(ctx.device)
    if ctx.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(config, model)
    return RunState(model, optimizer, make_scheduler(config, optimizer))


def run_epoch(
    state: RunState,
    train_data: DeviceData,
    val_data: DeviceData | None,
    ctx: StepContext,
) -> dict[str, float]:
    """Train one more epoch, refresh batch-norm statistics, validate, update the best epoch.

    Returns the epoch's history row. A loss that is no longer
    finite stops the run with :class:`TrainingDivergedError`, naming the epoch, before the
    diverged weights reach a checkpoint.
    """
    start = time.perf_counter()
    cfg, epoch = ctx.config, state.epochs_done
    row: dict[str, float] = {"epoch": epoch + 1, "lr": state.optimizer.param_groups[0]["lr"]}
    row.update(
        train_one_epoch(state.model, state.optimizer, train_data, ctx, epoch, cfg.runtime.progress)
    )
    if not math.isfinite(row["train_loss"]):
        raise TrainingDivergedError(
            f"the training loss became {row['train_loss']} in epoch {epoch + 1} (lr "
            f"{row['lr']:g}); the run stops there and its checkpoint, if any, keeps epoch "
            f"{epoch}. Lower TrainConfig.lr and start a new run."
        )
    state.scheduler.step()
    bn_generator = epoch_generators(cfg.runtime.seed, epoch)["bn"]
    recompute_bn_stats(state.model, train_data, ctx, cfg.optim.precise_bn_images, bn_generator)
    report = None if val_data is None else evaluate(state.model, val_data, ctx)[0]
    row.update(_val_row(report, cfg.task))
    row["seconds"] = time.perf_counter() - start
    state.history.append(row)
    state.epochs_done = epoch + 1
    state.consider(row, cfg.resolved_selection())
    return row


def select_best(state: RunState, selection: str, has_val: bool) -> tuple[int, str]:
    """Load the selected weights into ``state.model``; return (epoch, how it was chosen).

    Without any finite validation score the last epoch's
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
    keeps the epoch that is best by ``config.optim.selection`` on ``val_set`` (without a
    validation set: the last epoch), and evaluates that model on ``test_set`` once at the
    end. The test set plays no part in training or selection.

    With ``config.runtime.checkpoint_dir`` set, a checkpoint is written after every epoch to
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
        atomic_write_text(json.dumps(config.to_dict(), indent=2), path.with_name("config.json"))
    resumed_from = state.epochs_done

    train_data = prepare_data(train_set, config, ctx.device)
    val_data = None if val_set is None else prepare_data(val_set, config, ctx.device)
    with deterministic_algorithms(config.runtime.deterministic):
        epochs = range(state.epochs_done, config.optim.epochs)
        for _ in progress_bar(epochs, config.runtime.progress, desc="epochs"):
            row = run_epoch(state, train_data, val_data, ctx)
            if path is not None:
                save_checkpoint(path, state.to_checkpoint(config, fingerprint), state.history)
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
