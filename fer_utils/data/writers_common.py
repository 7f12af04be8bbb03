"""What every synthetic-data writer shares: :class:`WrittenDataset` and two helpers.

The writers themselves are in ``writers_jaffe``, ``writers_ckplus``, ``writers_ferplus``
and ``writers_rafml``; :mod:`fer_utils.data.writers` gathers them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from fer_utils.data.synthetic import SyntheticFaces


@dataclass
class WrittenDataset:
    """What a writer wrote: the dataset folder, which face each file shows, the quirks.

    ``files`` maps a path relative to ``root`` (for the FER+
    csv layout: the image name) to the index of the face in the written
    ``SyntheticFaces``; ``quirks`` records every fault injected, so tests can check the
    loader reports exactly those. ``os.fspath(written)`` is ``root``.
    """

    root: Path
    files: dict[str, int] = field(default_factory=dict)
    quirks: dict[str, Any] = field(default_factory=dict)

    def __fspath__(self) -> str:
        return str(self.root)


def _class_names(faces: SyntheticFaces, allowed: Sequence[str], fmt: str) -> list[str]:
    """The class name of every face; raises when a class cannot be written in ``fmt``."""
    extra = [c for c in faces.classes if c not in allowed]
    if extra:
        raise ValueError(
            f"{fmt} cannot hold classes {extra}; generate the faces with classes from "
            f"{tuple(allowed)}"
        )
    return [faces.classes[int(k)] for k in faces.labels]


def _class_column(faces: SyntheticFaces, name: str) -> np.ndarray:
    """Column ``name`` of the faces' distributions (zeros when the class is absent)."""
    if name in faces.classes:
        return faces.distributions[:, faces.classes.index(name)].astype(np.float64)
    return np.zeros(len(faces.labels), dtype=np.float64)
