"""Subject-grouped and image-level stratified k-fold, seeded train/val/test splits."""

from __future__ import annotations

import numpy as np
import pytest

from fer_utils.data import load_dataset
from fer_utils.data.splits import stratified_kfold, subject_kfold, train_val_test_split
from fer_utils.mixfeature.presets import preset
from fer_utils.protocols import kfold_protocol


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


def test_stratified_kfold_tests_every_image_once_with_the_class_shares() -> None:
    labels = np.repeat([0, 1, 2], [30, 20, 10])
    folds = stratified_kfold(labels, n_splits=10, seed=0)
    tested = np.concatenate([te for _, te in folds])
    assert sorted(tested.tolist()) == list(range(60))
    for tr, te in folds:
        assert set(tr).isdisjoint(te) and len(tr) + len(te) == 60
        assert np.bincount(labels[te], minlength=3).tolist() == [3, 2, 1]
    again, other = stratified_kfold(labels, 10, seed=0), stratified_kfold(labels, 10, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    assert not all(np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True))


def test_stratified_kfold_refuses_more_folds_than_the_smallest_class() -> None:
    with pytest.raises(ValueError, match=r"smallest class \(3\)"):
        stratified_kfold([0] * 10 + [1] * 3, n_splits=4)


def test_image_level_kfold_protocol_shares_subjects_and_stratifies_validation() -> None:
    data = load_dataset("synthetic", n=200, image_size=32)
    config = preset("synthetic", image_size=32, epochs=1, batch_size=32, progress=False,
                    precise_bn_images=0, model_options={"widths": [8, 8, 8]})
    result = kfold_protocol(config, data, n_folds=3, seed=0, group_by="sample",
                            keep_models=False)
    table = result.table
    assert (table["grouped_by"] == "sample").all() and int(table["n_test"].sum()) == 200
    assert (table["n_train"] + table["n_val"] + table["n_test"] == 200).all()
    # image folds: some person is on both sides of a fold (subject folds never allow it)
    subjects = np.asarray(data.subjects)
    rest, test = stratified_kfold(data.labels.numpy(), 3, seed=0)[0]
    assert set(subjects[rest]) & set(subjects[test])
    with pytest.raises(ValueError, match="group_by must be 'subject' or 'sample'"):
        kfold_protocol(config, data, n_folds=3, group_by="subject_expression")
