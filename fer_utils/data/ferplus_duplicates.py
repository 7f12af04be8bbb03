"""Pixel-identical FER+ images within and across the train / val / test splits.

FER2013 holds the same face several times, across splits too. :func:`duplicate_report`
counts the groups of identical images (by pixel digest, see
:func:`fer_utils.data.io.pixel_digest`); ``_twins_of_train`` marks the validation and
test images that ``load_ferplus(duplicates="drop")`` removes.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from fer_utils.data.ferplus_files import SPLIT_FOLDERS


def duplicate_report(
    digests: np.ndarray, split: np.ndarray, labels: np.ndarray | None = None
) -> dict[str, Any]:
    """Counts of pixel-identical images within and across the FER+ splits.

    ``digests``: ``N x 16`` pixel digests (:func:`fer_utils.data.io.pixel_digest`);
    ``split``: ``N`` split names. Returns::

        {"groups": groups of 2+ identical images (any splits),
         "images": images in those groups,
         "within": {split: {"groups": g, "images": n}}   # groups inside one split
         "across": {"val_in_train": validation images with a twin in training,
                    "test_in_train": test images with a twin in training,
                    "test_in_val": test images with a twin in validation},
         "conflicting_labels": groups whose images have different labels}

    (``conflicting_labels`` only when ``labels`` is given).
    """
    report: dict[str, Any] = {"groups": 0, "images": 0, "within": {}, "across": {}}
    if len(digests) == 0:
        report["within"] = {s: {"groups": 0, "images": 0} for s in SPLIT_FOLDERS}
        report["across"] = {"val_in_train": 0, "test_in_train": 0, "test_in_val": 0}
        if labels is not None:
            report["conflicting_labels"] = 0
        return report
    _, ids, counts = np.unique(digests, axis=0, return_inverse=True, return_counts=True)
    ids = ids.ravel()
    shared = counts[ids] > 1
    report["groups"] = int(np.sum(counts > 1))
    report["images"] = int(shared.sum())
    for s in SPLIT_FOLDERS:
        in_split = np.bincount(ids[split == s], minlength=len(counts))
        report["within"][s] = {
            "groups": int(np.sum(in_split > 1)),
            "images": int(in_split[in_split > 1].sum()),
        }
    ids_of = {s: ids[split == s] for s in SPLIT_FOLDERS}
    for a, b in (("val", "train"), ("test", "train"), ("test", "val")):
        report["across"][f"{a}_in_{b}"] = int(np.isin(ids_of[a], ids_of[b]).sum())
    if labels is not None:
        lab = np.asarray(labels)[shared]
        group_ids = ids[shared]
        low = np.full(len(counts), np.iinfo(np.int64).max)
        high = np.full(len(counts), np.iinfo(np.int64).min)
        np.minimum.at(low, group_ids, lab)
        np.maximum.at(high, group_ids, lab)
        report["conflicting_labels"] = int(np.sum((counts > 1) & (low != high)))
    return report


def _twins_of_train(digests: np.ndarray, split: np.ndarray) -> np.ndarray:
    """True for each validation/test image whose pixels also occur in the training split."""
    if len(digests) == 0:
        return np.zeros(0, dtype=bool)
    _, ids = np.unique(digests, axis=0, return_inverse=True)
    ids = ids.ravel()
    return (split != "train") & np.isin(ids, ids[split == "train"])
