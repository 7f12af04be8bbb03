"""Evaluation protocols: which images train, select and test, and one results row per run.

Introduced in notebook 04 (training). Paper A evaluates JAFFE and CK+ by 10-fold
cross-validation and FER+ on its official split; its JAFFE accuracies are all multiples of
1/45, which fits one 45-image test split better (``docs/replication.md`` D5), so both are
offered:

* :func:`kfold_protocol`: folds grouped by subject (no person in both training and test
  data); from each training fold a subject-grouped validation part (``val_fraction``,
  10 % by default, at least one subject) is held out for model selection. With
  ``group_by="sample"`` the folds are drawn over single images instead, stratified by
  class, and so is the validation part: the likeliest reading of the paper's "10-fold
  cross-validation" for JAFFE. CK+ stays grouped by subject (frames of one sequence are
  near-copies of each other). :func:`kfold_parts` gives the folds' index arrays alone.
* :func:`holdout_protocol`: one seeded test split of exactly ``test_size`` (45) images.
  Images are grouped by (subject, expression): JAFFE has about three near-identical
  repetitions of each posed expression, and those always stay on one side of the split,
  so a test image never has a near-twin in training. Subjects themselves are shared
  between training and test (as the 1/45 granularity implies: 45 JAFFE images are about
  two subjects, whose counts do not add up to 45). Groups are taken in a seeded random
  order that cycles through the classes, so every class is in the test set.
  ``group_by="sample"`` draws single images instead, letting near-twins leak into
  training; that is probably closer to how the paper's split was made, and on JAFFE it
  scores much higher, so say which one a number comes from.
* :func:`official_split_protocol`: the dataset's own train / val / test split (FER+).
* :func:`random_split_protocol`: a fresh seeded train / val / test split per seed (paper
  B: 60 / 20 / 20), one run per seed; used by notebook 05.

Each protocol returns a :class:`ProtocolResult`: a pandas table with one row per fold or
run (test metrics, selected epoch, sizes, git commit and device), plus the provenance.
Model selection always uses the validation part only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from fer_utils.data.dataset import FERDataset
from fer_utils.data.splits import stratified_kfold, subject_kfold, train_val_test_split
from fer_utils.metrics import mean_and_std
from fer_utils.provenance import run_info
from fer_utils.training.config import TrainConfig
from fer_utils.training.loop import TrainResult, train

#: Default share of each training part held out, grouped, for model selection.
VAL_FRACTION: float = 0.1


@dataclass
class ProtocolResult:
    """The outcome of a protocol.

    Attributes:
        table: one row per fold or run.
        runs: the :class:`~fer_utils.training.loop.TrainResult` of every row (models dropped
            unless ``keep_models=True`` was passed).
        config: the training configuration.
        provenance: :func:`fer_utils.provenance.run_info` at the start.
    """

    table: pd.DataFrame
    runs: list[TrainResult] = field(repr=False)
    config: TrainConfig
    provenance: dict[str, Any]

    def summary(self) -> pd.DataFrame:
        """Mean and standard deviation (ddof=1) of the numeric test columns over rows."""
        cols = [c for c in self.table.columns if c.startswith("test_")]
        numeric = self.table[cols].apply(pd.to_numeric, errors="coerce")
        return pd.DataFrame({"mean": numeric.mean(), "std": numeric.std(ddof=1)})

    def mean_std_row(self, names: Sequence[str], digits: int | None = None) -> dict[str, float]:
        """``{"<name>_mean", "<name>_std"}`` of the ``test_<name>`` columns over the rows.

        The layout of ``results/mfjle.csv``: the numbers of
        :func:`fer_utils.metrics.mean_and_std` (std with ddof=1, ``nan`` for a single row,
        which has no spread); ``digits`` rounds both.
        """
        out: dict[str, float] = {}
        for name in names:
            mean, std = mean_and_std(self.table[f"test_{name}"].astype(float))
            if digits is not None:
                mean, std = round(mean, digits), round(std, digits)
            out[f"{name}_mean"], out[f"{name}_std"] = mean, std
        return out

    def confusion_matrix(self) -> np.ndarray:
        """The test confusion matrices of all rows added up (rows = true class)."""
        mats = [r.test_metrics["confusion_matrix"] for r in self.runs if r.test_metrics]
        return np.sum(mats, axis=0)


#: How :func:`holdout_protocol` may group images.
GROUPINGS: tuple[str, ...] = ("subject_expression", "subject", "sample")


def sample_groups(dataset: FERDataset, by: str) -> tuple[np.ndarray, str]:
    """A group id per sample, and the grouping actually used.

    ``by`` is one of :data:`GROUPINGS`; a dataset without
    subjects can only be grouped by ``"sample"``, which is then what is returned.
    """
    if by not in GROUPINGS:
        raise ValueError(f"group_by must be one of {', '.join(GROUPINGS)}, got {by!r}")
    if by == "sample" or dataset.subjects is None:
        return np.arange(len(dataset)).astype(str), "sample"
    subjects = np.asarray(dataset.subjects).astype(str)
    if by == "subject":
        return subjects, by
    labels = dataset.labels.numpy().astype(str)
    return np.char.add(np.char.add(subjects, "|"), labels), by


def carve_validation(
    groups: np.ndarray, val_fraction: float = VAL_FRACTION, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions ``0..len(groups)-1`` into (train, val), whole groups at a time.

    About ``val_fraction`` of the samples go to validation,
    always at least one group (when there are two or more).
    """
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    names = train_val_test_split(
        len(groups), (1.0 - val_fraction, val_fraction, 0.0), seed, groups=groups
    )
    return np.flatnonzero(names == "train"), np.flatnonzero(names == "val")


def _stratified_validation(
    labels: np.ndarray, val_fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split positions into (train, val) image by image, keeping the class shares."""
    from sklearn.model_selection import train_test_split

    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    positions = np.arange(len(labels))
    counts = np.bincount(labels)
    # stratifying needs two images of every class, and one validation image per class
    stratify = labels if counts[counts > 0].min() >= 2 else None
    n_val = max(1, round(val_fraction * len(labels)))
    if stratify is not None:
        n_val = max(n_val, int((counts > 0).sum()))
    train_pos, val_pos = train_test_split(positions, test_size=n_val, random_state=seed,
                                          stratify=stratify)
    return np.sort(train_pos), np.sort(val_pos)


def pick_groups(groups: np.ndarray, labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """A boolean mask of whole groups holding ``size`` samples where the groups allow.

    Groups are visited in a seeded order that takes one group
    of each class in turn (a group's class is that of its first sample), so every class
    is represented; a group is taken when it still fits. If no combination reaches
    ``size`` exactly, the mask holds as many as this greedy pass gets, never more.
    """
    rng = np.random.default_rng(seed)
    uniq, first, sizes = np.unique(groups, return_index=True, return_counts=True)
    queues = {c: list(rng.permutation(uniq[labels[first] == c])) for c in np.unique(labels)}
    size_of = dict(zip(uniq, sizes, strict=True))
    chosen, total = [], 0
    while total < size and any(queues.values()):
        for c in rng.permutation(list(queues)):
            if queues[c] and total + size_of[queues[c][-1]] <= size:
                chosen.append(queues[c][-1])
                total += size_of[queues[c][-1]]
            if queues[c]:
                queues[c].pop()
    return np.isin(groups, chosen)


def holdout_indices(
    dataset: FERDataset, test_size: int = 45, seed: int = 0, group_by: str = "subject_expression"
) -> tuple[np.ndarray, np.ndarray]:
    """(rest, test) indices with exactly ``test_size`` test images where groups allow.

    See the module docstring for the grouping; the groups are drawn by :func:`pick_groups`.
    """
    if not 0 < test_size < len(dataset):
        raise ValueError(f"test_size must be in [1, {len(dataset) - 1}], got {test_size}")
    groups, _ = sample_groups(dataset, group_by)
    is_test = pick_groups(groups, dataset.labels.numpy(), test_size, seed)
    return np.flatnonzero(~is_test), np.flatnonzero(is_test)


def _row(result: TrainResult, **extra: Any) -> dict[str, Any]:
    """One results-table row: ``extra`` columns, the run summary, commit and device."""
    row = dict(extra)
    row.update(result.summary())
    row["git_commit"] = result.provenance.get("git_commit")
    row["device"] = result.provenance.get("train_device")
    return row


def _run(
    config: TrainConfig,
    dataset: FERDataset,
    parts: tuple[np.ndarray, np.ndarray, np.ndarray],
    run_name: str,
    keep_models: bool,
) -> TrainResult:
    """Train on the (train, val, test) index arrays of ``dataset``."""
    train_idx, val_idx, test_idx = parts
    result = train(
        config,
        dataset.subset(train_idx),
        dataset.subset(val_idx) if len(val_idx) else None,
        dataset.subset(test_idx) if len(test_idx) else None,
        run_name=run_name,
    )
    if not keep_models:
        result.model = None
    return result


def _finish(
    rows: list[dict[str, Any]],
    runs: list[TrainResult],
    config: TrainConfig,
    provenance: dict[str, Any],
) -> ProtocolResult:
    """Bundle the rows and runs of a protocol."""
    return ProtocolResult(pd.DataFrame(rows), runs, config, provenance)


def kfold_parts(
    dataset: FERDataset,
    n_folds: int = 10,
    seed: int = 0,
    val_fraction: float = VAL_FRACTION,
    group_by: str = "subject",
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """The (train, val, test) index arrays of every fold of :func:`kfold_protocol`.

    Used by the Table 3 experiment cell ``notebooks/experiments/ldl_run``, whose shallow
    LDL methods are fitted and tested on exactly the folds (same order, same seeds) that
    the CNN of the same cell is trained on by :func:`kfold_protocol`, which draws its
    folds here. ``group_by="subject"`` keeps each person's images in one fold (a
    dataset without subjects is split image by image); ``"sample"`` draws folds over
    single images, stratified by class, with a stratified validation part. ``seed``
    draws the folds and, as ``seed + 1000 + k``, the validation part of fold ``k``.
    """
    if group_by not in ("subject", "sample"):
        raise ValueError(f"group_by must be 'subject' or 'sample' for k-fold, got {group_by!r}")
    groups, by = sample_groups(dataset, group_by)
    labels = dataset.labels.numpy()
    if by == "sample":
        folds = stratified_kfold(labels, n_folds, seed)
    else:
        folds = subject_kfold(groups, n_folds, seed)
    parts = []
    for k, (rest, test) in enumerate(folds):
        if by == "sample":
            tr, va = _stratified_validation(labels[rest], val_fraction, seed + 1000 + k)
        else:
            tr, va = carve_validation(groups[rest], val_fraction, seed + 1000 + k)
        parts.append((rest[tr], rest[va], test))
    return parts


def kfold_protocol(
    config: TrainConfig,
    dataset: FERDataset,
    n_folds: int = 10,
    seed: int = 0,
    val_fraction: float = VAL_FRACTION,
    keep_models: bool = False,
    group_by: str = "subject",
) -> ProtocolResult:
    """``n_folds``-fold cross-validation (paper A: JAFFE and CK+), by subject or by image.

    Introduced in notebook 04. ``group_by="subject"`` (the default) keeps each person's
    images in one fold; ``"sample"`` draws folds over single images, stratified by class,
    with a stratified validation part. ``seed`` draws the folds and the validation parts
    (:func:`kfold_parts`); ``config.runtime.seed`` the training. Without subjects,
    samples are grouped individually (the table's ``grouped_by`` column says so). Runs
    are named ``kfold-<key>-foldNN`` (``kfold-sample-...`` for image folds) for
    checkpointing, so an interrupted protocol resumes fold by fold.
    """
    if group_by not in ("subject", "sample"):
        raise ValueError(f"group_by must be 'subject' or 'sample' for k-fold, got {group_by!r}")
    provenance = run_info()
    _, by = sample_groups(dataset, group_by)
    rows, runs = [], []
    prefix = "kfold-sample" if group_by == "sample" else "kfold"
    for k, parts in enumerate(kfold_parts(dataset, n_folds, seed, val_fraction, group_by)):
        name = f"{prefix}-{config.key()}-s{seed}-fold{k:02d}"
        result = _run(config, dataset, parts, name, keep_models)
        runs.append(result)
        train_idx, val_idx, test_idx = parts
        rows.append(
            _row(result, fold=k, grouped_by=by, n_train=len(train_idx), n_val=len(val_idx),
                 n_test=len(test_idx))
        )
    return _finish(rows, runs, config, provenance)


def holdout_protocol(
    config: TrainConfig,
    dataset: FERDataset,
    test_size: int = 45,
    seed: int = 0,
    val_fraction: float = VAL_FRACTION,
    group_by: str = "subject_expression",
    train_seeds: Sequence[int] | None = None,
    keep_models: bool = False,
) -> ProtocolResult:
    """One seeded ``test_size``-image test split (paper A's JAFFE numbers,
    ``docs/replication.md`` D5).

    Introduced in notebook 04. The split is :func:`holdout_indices`; the validation part
    (``val_fraction`` of the rest, at least one group of each class where possible) is
    drawn from the rest the same way. One row per training seed
    (``train_seeds``, default ``[config.runtime.seed]``), all on the same split.
    """
    provenance = run_info()
    rest, test = holdout_indices(dataset, test_size, seed, group_by)
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in (0, 1), got {val_fraction}")
    groups, by = sample_groups(dataset, group_by)
    labels = dataset.labels.numpy()
    is_val = pick_groups(groups[rest], labels[rest], round(val_fraction * len(rest)), seed + 1000)
    tr, va = np.flatnonzero(~is_val), np.flatnonzero(is_val)
    parts = (rest[tr], rest[va], test)
    rows, runs = [], []
    for s in train_seeds if train_seeds is not None else [config.runtime.seed]:
        cfg = config.replace(seed=int(s))
        name = f"holdout-{cfg.key()}-s{seed}"
        result = _run(cfg, dataset, parts, name, keep_models)
        runs.append(result)
        rows.append(
            _row(
                result,
                train_seed=s,
                grouped_by=by,
                n_train=len(tr),
                n_val=len(va),
                n_test=len(test),
            )
        )
    return _finish(rows, runs, config, provenance)


def official_split_protocol(
    config: TrainConfig,
    dataset: FERDataset,
    train_seeds: Sequence[int] | None = None,
    keep_models: bool = False,
) -> ProtocolResult:
    """Train / select / test on the dataset's own ``split`` (FER+: train, val, test).

    One row per training seed (default ``[config.runtime.seed]``).
    """
    if dataset.split is None:
        raise ValueError(f"{dataset.name} has no predefined split; use kfold_protocol")
    provenance = run_info()
    parts = (
        dataset.split_indices("train"),
        dataset.split_indices("val"),
        dataset.split_indices("test"),
    )
    rows, runs = [], []
    for s in train_seeds if train_seeds is not None else [config.runtime.seed]:
        cfg = config.replace(seed=int(s))
        result = _run(cfg, dataset, parts, f"official-{cfg.key()}", keep_models)
        runs.append(result)
        rows.append(
            _row(
                result,
                train_seed=s,
                n_train=len(parts[0]),
                n_val=len(parts[1]),
                n_test=len(parts[2]),
            )
        )
    return _finish(rows, runs, config, provenance)


def random_split_indices(
    dataset: FERDataset,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
    group_by: str = "sample",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(train, val, test) indices of the seeded split :func:`random_split_protocol` uses.

    Introduced in notebook 05, e.g. to look again at the test images of one seed.
    """
    groups, by = sample_groups(dataset, group_by)
    names = train_val_test_split(
        len(dataset), fractions, seed, groups=None if by == "sample" else groups
    )
    return tuple(np.flatnonzero(names == part) for part in ("train", "val", "test"))


def random_split_protocol(
    config: TrainConfig,
    dataset: FERDataset,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seeds: Sequence[int] = (0, 1, 2),
    group_by: str = "sample",
    keep_models: bool = False,
) -> ProtocolResult:
    """One run per seed, each on its own seeded split into train / val / test parts.

    Introduced in notebook 05 (paper B: a 60 / 20 / 20 split). Seed ``s`` draws the
    split and also seeds the training (``config.runtime.seed = s``), so the spread over seeds
    covers both the split and the initialisation. ``group_by`` is ``"sample"``
    (single images, as paper B appears to split) or ``"subject"`` (no person in two
    parts). Runs are named ``split-<key>-s<seed>`` for checkpointing.
    """
    provenance = run_info()
    _, by = sample_groups(dataset, group_by)
    rows, runs = [], []
    for s in seeds:
        parts = random_split_indices(dataset, fractions, int(s), group_by)
        cfg = config.replace(seed=int(s))
        result = _run(cfg, dataset, parts, f"split-{cfg.key()}-s{s}", keep_models)
        runs.append(result)
        rows.append(
            _row(
                result,
                seed=int(s),
                grouped_by=by,
                n_train=len(parts[0]),
                n_val=len(parts[1]),
                n_test=len(parts[2]),
            )
        )
    return _finish(rows, runs, config, provenance)


def mean_std(values: Sequence[float]) -> str:
    """``"mean +- std"`` in percent with two decimals (std with ddof=1; 0 for one value).

    Introduced in notebook 04 for the paper-vs-ours tables.
    """
    arr = np.asarray(values, dtype=float) * 100.0
    std = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return f"{arr.mean():.2f} +- {std:.2f}"
