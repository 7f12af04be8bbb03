"""Datasets: one loader per source, all returning :class:`FERDataset`.

Introduced in notebook 01. ``load_dataset("jaffe")`` reads ``$FER_DATA_DIR/jaffe`` (or
``<repo>/data/jaffe``); ``load_dataset("synthetic", n=500)`` needs no files at all. The
writers put synthetic faces on disk in each real layout, for tests and for trying the
loaders without the real data.
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fer_utils.data.ckplus import CKPLUS_CLASSES, load_ckplus
from fer_utils.data.dataset import CANONICAL_CLASSES, LANDMARK_NAMES, FERDataset
from fer_utils.data.ferplus import FERPLUS_CLASSES, LABEL_MODES, load_ferplus
from fer_utils.data.io import DatasetFormatError
from fer_utils.data.jaffe import JAFFE_CLASSES, load_jaffe
from fer_utils.data.rafml import RAFML_CLASSES, load_rafml
from fer_utils.data.splits import subject_kfold, train_val_test_split
from fer_utils.data.writers import (
    WrittenDataset,
    write_ckplus,
    write_ferplus,
    write_jaffe,
    write_rafml,
)
from fer_utils.provenance import REPO_ROOT

#: Every name :func:`load_dataset` accepts.
DATASETS: tuple[str, ...] = ("synthetic", "jaffe", "ckplus", "ferplus", "rafml")

__all__ = [
    "CANONICAL_CLASSES",
    "CKPLUS_CLASSES",
    "DATASETS",
    "FERPLUS_CLASSES",
    "JAFFE_CLASSES",
    "LABEL_MODES",
    "LANDMARK_NAMES",
    "RAFML_CLASSES",
    "DatasetFormatError",
    "FERDataset",
    "WrittenDataset",
    "data_root",
    "load_ckplus",
    "load_dataset",
    "load_ferplus",
    "load_jaffe",
    "load_rafml",
    "subject_kfold",
    "train_val_test_split",
    "write_ckplus",
    "write_ferplus",
    "write_jaffe",
    "write_rafml",
]


def _loader(name: str) -> Callable[..., FERDataset]:
    """The loader function of dataset ``name`` (synthetic is imported on first use)."""
    if name == "synthetic":
        from fer_utils.data.synthetic import load_synthetic

        return load_synthetic
    return {
        "jaffe": load_jaffe,
        "ckplus": load_ckplus,
        "ferplus": load_ferplus,
        "rafml": load_rafml,
    }[name]


def data_root() -> Path:
    """Where datasets live: ``$FER_DATA_DIR`` when set, else ``<repo>/data``.

    Introduced in notebook 01.
    """
    env = os.environ.get("FER_DATA_DIR")
    return Path(env).expanduser() if env else REPO_ROOT / "data"


def load_dataset(
    name: str, root: str | os.PathLike[str] | None = None, **options: Any
) -> FERDataset:
    """Load dataset ``name`` (one of :data:`DATASETS`) as an :class:`FERDataset`.

    Introduced in notebook 01. ``root=None`` reads ``data_root() / name``; for
    ``"synthetic"`` the root is ignored and ``options`` go to
    :func:`fer_utils.data.synthetic.load_synthetic`. Every other option goes to the
    dataset's loader (``load_jaffe``, ``load_ckplus``, ``load_ferplus``, ``load_rafml``).
    An unknown name or option raises ``ValueError`` naming it and listing the accepted
    ones.
    """
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}; expected one of {', '.join(DATASETS)}")
    loader = _loader(name)
    accepted = [p for p in inspect.signature(loader).parameters if p != "root"]
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} for dataset {name!r}; "
            f"accepted: {', '.join(accepted)}"
        )
    if name == "synthetic":
        return loader(**options)
    return loader(data_root() / name if root is None else root, **options)
