"""The one dataset type every loader returns, and the canonical emotion names.

Notebook 01 (data exploration) meets it as what :func:`fer_utils.data.load_dataset` returns.
Every loader in :mod:`fer_utils.data` returns an :class:`FERDataset`; later notebooks only
ever see this type.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
import torch

#: The eight canonical emotion names, in the FER+ vote order. Every dataset names its
#: classes with a subset of these, in an order fixed per dataset.
CANONICAL_CLASSES: tuple[str, ...] = (
    "neutral",
    "happiness",
    "surprise",
    "sadness",
    "anger",
    "disgust",
    "fear",
    "contempt",
)

#: Three-letter abbreviations used in plots and in paper A's Table 1.
ABBREVIATIONS: dict[str, str] = {
    "neutral": "NEU",
    "happiness": "HAP",
    "surprise": "SUR",
    "sadness": "SAD",
    "anger": "ANG",
    "disgust": "DIS",
    "fear": "FEA",
    "contempt": "CON",
}

#: The five landmarks, in the order of the ``landmarks`` array (x, y in pixels).
LANDMARK_NAMES: tuple[str, ...] = (
    "left_eye",
    "right_eye",
    "nose_tip",
    "mouth_left",
    "mouth_right",
)

SPLIT_NAMES: tuple[str, ...] = ("train", "val", "test")


def check_classes(classes: Sequence[str]) -> tuple[str, ...]:
    """Return ``classes`` as a tuple after checking each is a canonical emotion name.

    Raises ``ValueError`` naming the unknown entry.
    """
    out = tuple(classes)
    for name in out:
        if name not in CANONICAL_CLASSES:
            raise ValueError(
                f"unknown class name {name!r}; expected one of {', '.join(CANONICAL_CLASSES)}"
            )
    if len(set(out)) != len(out):
        raise ValueError(f"class names repeat in {out!r}")
    return out


def select_classes(
    requested: Sequence[str] | None,
    available: Sequence[str],
    dataset: str,
    hint: str = "",
) -> tuple[str, ...]:
    """The ``classes=`` option of a loader: the requested classes in the dataset's order.

    ``None`` means every class in ``available``. Otherwise
    every name must be a canonical name (:func:`check_classes`) that ``dataset`` has;
    the result keeps ``available``'s fixed order whatever the order asked for. Raises
    ``ValueError`` naming the offending entry and listing the available classes
    (followed by ``hint`` when given).
    """
    if requested is None:
        return tuple(available)
    if isinstance(requested, str):
        raise ValueError(
            f"{dataset}: classes={requested!r} must be a sequence of class names, e.g. "
            f"({requested!r},), not a single string"
        )
    names = check_classes(requested)
    if not names:
        raise ValueError(
            f"{dataset}: classes=() selects nothing; available: {', '.join(available)}"
        )
    for name in names:
        if name not in available:
            raise ValueError(
                f"{dataset}: class {name!r} is not available; available: "
                f"{', '.join(available)}{hint}"
            )
    return tuple(c for c in available if c in names)


@dataclass
class FERDataset:
    """A facial-expression dataset held in memory, in one format for every source.

    Fields that a source does not provide are ``None``.

    Attributes:
        name: loader name (``"synthetic"``, ``"jaffe"``, ...).
        images: uint8 tensor ``N x C x H x W`` (C = 1 for gray, 3 for RGB).
        labels: long tensor ``N``, an index into ``classes``.
        classes: canonical class names, in this dataset's fixed order.
        distributions: float tensor ``N x K`` (rows sum to 1) or ``None``.
        multilabels: 0/1 float tensor ``N x K`` or ``None``.
        subjects: array of ``N`` subject ids (strings) or ``None``.
        landmarks: float tensor ``N x 5 x 2`` of (x, y) pixel coordinates in
            :data:`LANDMARK_NAMES` order, or ``None``.
        split: array of ``N`` strings from :data:`SPLIT_NAMES`, or ``None``.
        votes: float tensor ``N x V`` of raw annotator votes or ratings (what the
            source recorded before it was turned into ``distributions``), or ``None``.
        vote_names: names of the ``votes`` columns, or ``None``.
        filenames: the source file (or row) of each sample, for tracing back.
        dropped: what the loader dropped, ``{reason: count}``; never silently.
        info: free-form provenance (root, options, cache file, ...). Loaders of real
            data put their duplicate-image report in ``info["duplicates"]`` (pixel-
            identical images: groups for JAFFE and CK+, counts within and across
            splits for FER+; see each loader); it describes the dataset as loaded and
            is not updated by :meth:`subset`.
    """

    name: str
    images: torch.Tensor
    labels: torch.Tensor
    classes: tuple[str, ...]
    distributions: torch.Tensor | None = None
    multilabels: torch.Tensor | None = None
    subjects: np.ndarray | None = None
    landmarks: torch.Tensor | None = None
    split: np.ndarray | None = None
    votes: torch.Tensor | None = None
    vote_names: tuple[str, ...] | None = None
    filenames: list[str] | None = None
    dropped: dict[str, int] = field(default_factory=dict)
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.classes = check_classes(self.classes)
        n = self.images.shape[0]
        if self.images.dtype != torch.uint8 or self.images.ndim != 4:
            raise ValueError(
                f"{self.name}: images must be a uint8 tensor N x C x H x W, got "
                f"{self.images.dtype} with shape {tuple(self.images.shape)}"
            )
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name in ("images", "classes", "vote_names", "dropped", "info", "name"):
                continue
            if value is not None and len(value) != n:
                raise ValueError(
                    f"{self.name}: field {f.name!r} has {len(value)} entries, expected {n}"
                )

    def __len__(self) -> int:
        return int(self.images.shape[0])

    @property
    def num_classes(self) -> int:
        """Number of classes K."""
        return len(self.classes)

    def subset(self, index: Sequence[int] | np.ndarray | torch.Tensor) -> FERDataset:
        """Return a new dataset holding only the samples at ``index`` (in that order).

        Introduced in notebook 01; used by every split helper.
        """
        idx = torch.as_tensor(np.asarray(index), dtype=torch.long)
        idx_np = idx.numpy()

        def take(value: Any) -> Any:
            if value is None:
                return None
            if isinstance(value, torch.Tensor):
                return value[idx]
            if isinstance(value, np.ndarray):
                return value[idx_np]
            if isinstance(value, list):
                return [value[i] for i in idx_np]
            raise TypeError(f"cannot index field of type {type(value).__name__}")

        per_sample = {
            f.name: take(getattr(self, f.name))
            for f in fields(self)
            if f.name not in ("name", "classes", "vote_names", "dropped", "info")
        }
        return replace(self, **per_sample, dropped=dict(self.dropped), info=dict(self.info))

    def split_indices(self, name: str) -> np.ndarray:
        """Indices of the samples whose ``split`` equals ``name``."""
        if self.split is None:
            raise ValueError(f"{self.name}: this dataset has no predefined split")
        if name not in SPLIT_NAMES:
            raise ValueError(f"unknown split {name!r}; expected one of {SPLIT_NAMES}")
        return np.flatnonzero(self.split == name)

    def class_counts(self) -> dict[str, int]:
        """Number of samples per class, in ``classes`` order."""
        counts = torch.bincount(self.labels, minlength=self.num_classes)
        return {c: int(k) for c, k in zip(self.classes, counts.tolist(), strict=True)}

    def summary(self) -> str:
        """A short human-readable description (size, image shape, what is present)."""
        n, c, h, w = self.images.shape
        present = [
            f.name
            for f in fields(self)
            if f.name in ("distributions", "multilabels", "subjects", "landmarks", "split", "votes")
            and getattr(self, f.name) is not None
        ]
        lines = [
            f"{self.name}: {n} images of {c}x{h}x{w}, {self.num_classes} classes "
            f"({', '.join(self.classes)})",
            f"  has: {', '.join(present) if present else 'labels only'}",
        ]
        if self.dropped:
            lines.append("  dropped: " + ", ".join(f"{k}={v}" for k, v in self.dropped.items()))
        return "\n".join(lines)
