"""The FERDataset type: validation, subsets, counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from fer_utils.data.dataset import FERDataset


def _tiny(n: int = 6) -> FERDataset:
    return FERDataset(
        name="tiny",
        images=torch.arange(n * 4, dtype=torch.uint8).reshape(n, 1, 2, 2),
        labels=torch.tensor([0, 1, 1, 2, 2, 2][:n]),
        classes=("neutral", "happiness", "anger"),
        subjects=np.array(["a", "a", "b", "b", "c", "c"][:n]),
        split=np.array(["train", "train", "val", "val", "test", "test"][:n]),
        filenames=[f"f{i}" for i in range(n)],
    )


def test_subset_takes_every_per_sample_field() -> None:
    ds = _tiny()
    sub = ds.subset([4, 0])
    assert len(sub) == 2
    assert sub.labels.tolist() == [2, 0]
    assert sub.subjects.tolist() == ["c", "a"]
    assert sub.filenames == ["f4", "f0"]
    assert torch.equal(sub.images[1], ds.images[0])
    assert sub.classes == ds.classes


def test_class_counts_and_split_indices() -> None:
    ds = _tiny()
    assert ds.class_counts() == {"neutral": 1, "happiness": 2, "anger": 3}
    assert ds.split_indices("val").tolist() == [2, 3]
    assert "6 images" in ds.summary()


def test_rejects_wrong_lengths_dtypes_and_names() -> None:
    ds = _tiny()
    with pytest.raises(ValueError, match="'labels' has 5 entries, expected 6"):
        FERDataset(name="x", images=ds.images, labels=ds.labels[:5], classes=ds.classes)
    with pytest.raises(ValueError, match="uint8"):
        FERDataset(name="x", images=ds.images.float(), labels=ds.labels, classes=ds.classes)
    with pytest.raises(ValueError, match="unknown class name 'joy'"):
        FERDataset(name="x", images=ds.images, labels=ds.labels, classes=("joy", "b", "c"))
    with pytest.raises(ValueError, match="unknown split"):
        ds.split_indices("holdout")
