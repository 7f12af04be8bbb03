"""Subject-grouped k-fold and seeded train/val/test splits."""

from __future__ import annotations

import numpy as np
import pytest

from fer_utils.data.splits import subject_kfold, train_val_test_split


def _groups() -> np.ndarray:
    rng = np.random.default_rng(1)
    return np.repeat([f"S{i:02d}" for i in range(23)], rng.integers(3, 12, size=23))


def test_kfold_partitions_samples_and_never_splits_a_subject() -> None:
    groups = _groups()
    folds = subject_kfold(groups, n_splits=10, seed=0)
    assert len(folds) == 10
    tests = np.concatenate([test for _, test in folds])
    assert np.array_equal(np.sort(tests), np.arange(len(groups)))
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == len(groups)
        assert not set(groups[train]) & set(groups[test])
    sizes = [len(test) for _, test in folds]
    assert max(sizes) - min(sizes) <= 12  # at most about one subject apart


def test_kfold_is_deterministic_and_seed_dependent() -> None:
    groups = _groups()
    a = subject_kfold(groups, 5, seed=3)
    b = subject_kfold(groups, 5, seed=3)
    c = subject_kfold(groups, 5, seed=4)
    assert all(np.array_equal(x[1], y[1]) for x, y in zip(a, b, strict=True))
    assert any(not np.array_equal(x[1], y[1]) for x, y in zip(a, c, strict=True))


def test_kfold_rejects_more_folds_than_subjects() -> None:
    with pytest.raises(ValueError, match="n_splits=5"):
        subject_kfold(["a", "a", "b", "c"], n_splits=5)


def test_ungrouped_split_has_exact_sizes() -> None:
    split = train_val_test_split(100, (0.6, 0.2, 0.2), seed=0)
    assert {s: int((split == s).sum()) for s in ("train", "val", "test")} == {
        "train": 60,
        "val": 20,
        "test": 20,
    }
    assert np.array_equal(split, train_val_test_split(100, (0.6, 0.2, 0.2), seed=0))
    assert not np.array_equal(split, train_val_test_split(100, (0.6, 0.2, 0.2), seed=1))


def test_grouped_split_keeps_subjects_whole_and_is_close_to_the_fractions() -> None:
    groups = _groups()
    split = train_val_test_split(len(groups), (0.6, 0.2, 0.2), seed=0, groups=groups)
    for g in np.unique(groups):
        assert len(set(split[groups == g])) == 1
    share = (split == "train").mean()
    assert 0.45 < share < 0.75


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 10, "fractions": (0.5, 0.5, 0.5)}, "fractions"),
        ({"n": 0}, "n must be"),
        ({"n": 3, "groups": ["a", "b"]}, "groups has 2 entries"),
    ],
)
def test_split_bad_input(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train_val_test_split(**kwargs)


def test_dataset_parts_uses_the_own_split_or_a_grouped_seeded_one() -> None:
    import torch

    from fer_utils.data.dataset import FERDataset
    from fer_utils.data.splits import dataset_parts

    groups = _groups()
    n = len(groups)
    ds = FERDataset(
        name="tiny",
        images=torch.zeros(n, 1, 2, 2, dtype=torch.uint8),
        labels=torch.zeros(n, dtype=torch.long),
        classes=("neutral",),
        subjects=groups,
    )
    parts = dataset_parts(ds, (0.6, 0.2, 0.2), seed=0)
    assert sum(len(p) for p in parts.values()) == n
    assert not set(parts["train"].subjects) & set(parts["test"].subjects)
    expected = train_val_test_split(n, (0.6, 0.2, 0.2), seed=0, groups=groups)
    assert len(parts["val"]) == int((expected == "val").sum())
    ds.split = expected[::-1].copy()
    own = dataset_parts(ds, seed=5)
    assert len(own["test"]) == int((ds.split == "test").sum())
