"""Descriptive statistics of a dataset: class shares and label co-occurrence.

The entropy of label distributions is :func:`fer_utils.metrics.entropy`.

Introduced in notebook 01 (data exploration).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from fer_utils.data.dataset import ABBREVIATIONS, FERDataset


def class_share_table(ds: FERDataset, reference: dict[str, float] | None = None) -> pd.DataFrame:
    """Count and percentage share of each class, beside a reference share if given.

    Introduced in notebook 01. ``reference`` maps class name to a percentage (e.g. the
    paper's Table 1); classes it lacks show as NaN. Rows follow ``ds.classes``.
    """
    counts = ds.class_counts()
    total = max(sum(counts.values()), 1)
    rows = []
    for name, count in counts.items():
        row: dict[str, object] = {
            "class": name,
            "abbr": ABBREVIATIONS[name],
            "count": count,
            "share %": round(100.0 * count / total, 2),
        }
        if reference is not None:
            paper = reference.get(name, float("nan"))
            row["paper %"] = paper
            row["ours - paper"] = round(row["share %"] - paper, 2)  # type: ignore[operator]
        rows.append(row)
    return pd.DataFrame(rows).set_index("class")


def cooccurrence_matrix(multilabels: torch.Tensor | np.ndarray) -> np.ndarray:
    """``K x K`` counts of samples carrying both labels i and j (diagonal: label counts).
    """
    m = np.asarray(multilabels, dtype=np.int64)
    if m.ndim != 2:
        raise ValueError(f"multilabels must be N x K, got shape {m.shape}")
    return m.T @ m


def labels_per_sample(multilabels: torch.Tensor | np.ndarray) -> pd.Series:
    """How many samples carry 0, 1, 2, ... labels at once. Introduced in notebook 01."""
    m = np.asarray(multilabels, dtype=np.int64)
    counts = np.bincount(m.sum(axis=1), minlength=m.shape[1] + 1)
    return pd.Series(counts, name="samples").rename_axis("labels per sample")
