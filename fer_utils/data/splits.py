"""Seeded data splits: k-fold cross-validation grouped by subject, and train/val/test.

Notebook 01 (data exploration) uses it through :func:`fer_utils.data.load_dataset` (the
synthetic split). Grouping by subject keeps every image of one person (or every frame of one
CK+ sequence) on the same side of a split, so a model is never tested on a face it was
trained on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fer_utils.data.dataset import SPLIT_NAMES, FERDataset


def _as_groups(groups: Sequence[object] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return the sorted unique groups and, per sample, the index of its group."""
    arr = np.asarray(groups)
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(f"groups must be a non-empty 1-D sequence, got shape {arr.shape}")
    return np.unique(arr, return_inverse=True)


def _assign_groups(sizes: np.ndarray, targets: np.ndarray, seed: int) -> np.ndarray:
    """Assign groups (in a seeded random order) to bins, filling the most under-full bin.

    ``targets`` are the wanted bin sizes in samples. Returns the bin index of each group.
    Greedy filling in a random order keeps bins close to their targets while the seed
    alone decides which groups go where.
    """
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(sizes))
    filled = np.zeros(len(targets), dtype=float)
    out = np.empty(len(sizes), dtype=np.int64)
    for g in order:
        deficit = (targets - filled) / np.maximum(targets, 1e-12)
        b = int(np.argmax(deficit))
        out[g] = b
        filled[b] += sizes[g]
    return out


def subject_kfold(
    groups: Sequence[object] | np.ndarray, n_splits: int = 10, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold cross-validation folds in which no group (subject) spans train and test.

    Returns ``n_splits`` pairs ``(train_idx, test_idx)`` of
    sample indices; every sample is in exactly one test fold, and folds hold about the
    same number of samples. The same ``seed`` always gives the same folds.
    """
    uniq, inverse = _as_groups(groups)
    if not 2 <= n_splits <= len(uniq):
        raise ValueError(
            f"n_splits={n_splits} must be between 2 and the number of groups ({len(uniq)})"
        )
    sizes = np.bincount(inverse)
    targets = np.full(n_splits, len(inverse) / n_splits)
    fold_of_group = _assign_groups(sizes, targets, seed)
    fold_of_sample = fold_of_group[inverse]
    all_idx = np.arange(len(inverse))
    return [
        (all_idx[fold_of_sample != k], all_idx[fold_of_sample == k]) for k in range(n_splits)
    ]


def stratified_kfold(
    labels: Sequence[int] | np.ndarray, n_splits: int = 10, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """K-fold folds drawn over single images, each fold with about the same class shares.

    The likeliest reading of paper A's "10-fold cross-validation" for JAFFE (images,
    not people, are split; near-identical repetitions of a pose can land on both sides).
    Returns ``n_splits`` pairs ``(train_idx, test_idx)``; every sample is tested exactly
    once, and the same ``seed`` gives the same folds (scikit-learn's ``StratifiedKFold``
    with shuffling).
    """
    from sklearn.model_selection import StratifiedKFold

    labels = np.asarray(labels)
    counts = np.bincount(labels) if labels.size else np.zeros(1, dtype=int)
    smallest = int(counts[counts > 0].min()) if counts.any() else 0
    if not 2 <= n_splits <= smallest:
        raise ValueError(
            f"n_splits={n_splits} must be between 2 and the size of the smallest class "
            f"({smallest})"
        )
    folds = StratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return [(tr, te) for tr, te in folds.split(np.zeros(len(labels)), labels)]


def train_val_test_split(
    n: int,
    fractions: tuple[float, float, float] = (0.6, 0.2, 0.2),
    seed: int = 0,
    groups: Sequence[object] | np.ndarray | None = None,
) -> np.ndarray:
    """A seeded split of ``n`` samples into ``"train"``, ``"val"`` and ``"test"``.

    Returns an array of ``n`` split names. With ``groups``
    (e.g. subject ids), whole groups are assigned, so the fractions hold only roughly;
    without, samples are shuffled and cut at the fractions exactly (rounded down for
    val and test).
    """
    frac = np.asarray(fractions, dtype=float)
    if frac.shape != (3,) or np.any(frac < 0) or not np.isclose(frac.sum(), 1.0):
        raise ValueError(
            f"fractions must be three non-negative numbers summing to 1, got {fractions}"
        )
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    names = np.array(SPLIT_NAMES)
    if groups is None:
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n)
        n_val = int(np.floor(frac[1] * n))
        n_test = int(np.floor(frac[2] * n))
        out = np.full(n, "train", dtype=object)
        out[perm[:n_test]] = "test"
        out[perm[n_test : n_test + n_val]] = "val"
        return out.astype(str)
    uniq, inverse = _as_groups(groups)
    if len(inverse) != n:
        raise ValueError(f"groups has {len(inverse)} entries, expected n={n}")
    sizes = np.bincount(inverse)
    bins = _assign_groups(sizes, frac * n, seed)
    return names[bins[inverse]]


def dataset_parts(
    ds: FERDataset,
    fractions: tuple[float, float, float] = (0.7, 0.15, 0.15),
    seed: int = 0,
) -> dict[str, FERDataset]:
    """The dataset cut into ``{"train", "val", "test"}`` sub-datasets.

    Introduced in notebook 03. Uses the dataset's own ``split`` when it has one (FER+,
    the synthetic faces); otherwise a seeded :func:`train_val_test_split` with
    ``fractions``, grouped by subject when subjects are known.
    """
    split = ds.split
    if split is None:
        split = train_val_test_split(len(ds), fractions, seed=seed, groups=ds.subjects)
    return {name: ds.subset(np.flatnonzero(split == name)) for name in SPLIT_NAMES}
