"""Checks against the real datasets; skipped unless ``FER_DATA_DIR`` holds them.

Run with ``FER_DATA_DIR=/path/to/data pytest -m realdata``. The loaders use the normal
cache folder here (``$FER_CACHE_DIR`` or ``~/.cache/fer_utils``), so only the first run
decodes FER+'s 35,710 PNG files.
"""

from __future__ import annotations

import pytest

from fer_utils.data import load_dataset

pytestmark = pytest.mark.realdata


def test_jaffe_real_counts(real_root) -> None:
    real_root("jaffe", "jaffedbase")
    ds = load_dataset("jaffe")
    assert len(ds) == 213 and ds.images.shape[1:] == (1, 256, 256)
    assert ds.class_counts() == {
        "neutral": 30,
        "happiness": 31,
        "sadness": 31,
        "surprise": 30,
        "anger": 30,
        "disgust": 29,
        "fear": 32,
    }
    assert ds.dropped == {"rating_without_image": 6}
    assert ds.info["rating_without_image"] == [
        "KM-DI2", "KM-HA5", "KM-SA4", "KR-HA3", "NM-DI2", "TM-HA4",
    ]  # fmt: skip
    assert ds.info["typo_fixes"] == ["YN-HA2 -> YM-HA2"]
    assert len(set(ds.subjects)) == 10 and not ds.votes.isnan().any()
    no_fear = load_dataset("jaffe", ratings="30_no_fear")
    assert len(no_fear) == 181 and no_fear.dropped["fear_not_rated"] == 32


def test_ferplus_real_majority_counts(real_root) -> None:
    real_root("ferplus", "FER2013Train")
    ds = load_dataset("ferplus")
    assert ds.info["split_sizes"] == {"train": 25045, "val": 3191, "test": 3137}
    assert ds.info["counts"]["train"] == {
        "neutral": 8733,
        "happiness": 7284,
        "surprise": 3136,
        "sadness": 3022,
        "anger": 2098,
        "disgust": 116,
        "fear": 536,
        "contempt": 120,
    }
    assert ds.dropped == {"no_majority": 4236, "unknown_or_nf": 101}
    assert load_dataset("ferplus").info["cache_hit"]


@pytest.mark.parametrize(
    "mode, train_size",
    [("probability", 27947), ("crossentropy", 27947), ("multi_target", 27667)],
)
def test_ferplus_real_other_modes(mode: str, train_size: int, real_root) -> None:
    """Training sizes this loader gives (validation and test stay majority)."""
    real_root("ferplus", "FER2013Train")
    ds = load_dataset("ferplus", mode=mode)
    assert ds.info["split_sizes"] == {"train": train_size, "val": 3191, "test": 3137}
