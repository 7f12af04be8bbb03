"""The emotion wheel: distances between emotions and the mixing weights they give.

Introduced in notebook 02 (emotion wheel). MixFeature (paper A, section 3.2) mixes the
features of a group of samples with weights ``a = softmax(-d)`` (Eq. 3), where ``d`` is
how far each sample's emotion sits from the group's primary emotion on an emotion wheel.

The paper's text and Plutchik's wheel disagree about which emotions are neighbours
(``docs/replication.md`` D1, see :func:`ambiguity_table`), so the wheel is a parameter with
named layouts:

``"plutchik"`` (default)
    Plutchik's eight petals, in order joy, trust, fear, surprise, sadness, disgust, anger,
    anticipation, sit at positions 0..7. Each FER emotion sits on its petal (happiness on
    joy); contempt, which has no petal, sits at 5.5, between disgust and anger. The
    distance is the circular petal distance ``min(|a - b|, 8 - |a - b|)``.
``"ring"``
    Only the dataset's own emotions (neutral excluded), in Plutchik order on a ring
    where neighbours are 1 apart: circular distance on a ring of ``n`` places.
``"uniform"``
    Every distance is 0, neutral's included, so every group member weighs ``1/K``: the
    paper's unguided variant.
``"shuffled"``
    A control for the ablations: Plutchik's positions, but handed to the emotions in a
    fixed scrambled order (:data:`SHUFFLED_POSITIONS`), so the distances have the same
    spread as Plutchik's while saying nothing true about which emotions are alike.
a distance matrix
    A ``K x K`` array in the dataset's class order, or a mapping
    ``{(name, name): distance}``; it is checked (square, symmetric, zero diagonal,
    non-negative, finite) and used as given.

Neutral, which the authors added to the wheel, is :data:`NEUTRAL_DISTANCE` (3) from every
other emotion in the ``plutchik`` and ``ring`` layouts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import torch

from fer_utils.data.dataset import CANONICAL_CLASSES, check_classes

#: The named wheel layouts accepted by :func:`distance_matrix`.
LAYOUTS: tuple[str, ...] = ("plutchik", "ring", "uniform", "shuffled")

#: Distance from neutral to every other emotion (paper A, section 3.2).
NEUTRAL_DISTANCE: float = 3.0

#: Plutchik's eight primary emotions, in wheel order; petal ``i`` sits at position ``i``.
PLUTCHIK_PETALS: tuple[str, ...] = (
    "joy",
    "trust",
    "fear",
    "surprise",
    "sadness",
    "disgust",
    "anger",
    "anticipation",
)

#: Number of petal units once round the wheel.
WHEEL_PERIOD: float = float(len(PLUTCHIK_PETALS))

#: Position (in petal units) of every non-neutral canonical emotion on Plutchik's wheel.
PETAL_POSITIONS: dict[str, float] = {
    "happiness": float(PLUTCHIK_PETALS.index("joy")),
    "fear": float(PLUTCHIK_PETALS.index("fear")),
    "surprise": float(PLUTCHIK_PETALS.index("surprise")),
    "sadness": float(PLUTCHIK_PETALS.index("sadness")),
    "disgust": float(PLUTCHIK_PETALS.index("disgust")),
    "contempt": 5.5,  # no petal of its own: between disgust (5) and anger (6)
    "anger": float(PLUTCHIK_PETALS.index("anger")),
}

#: The ``"shuffled"`` control: the positions of :data:`PETAL_POSITIONS` dealt out again so
#: that every emotion moves (happiness takes sadness's place, sadness contempt's, ...).
SHUFFLED_POSITIONS: dict[str, float] = {
    "happiness": 4.0,
    "fear": 6.0,
    "surprise": 0.0,
    "sadness": 5.5,
    "disgust": 2.0,
    "contempt": 3.0,
    "anger": 5.0,
}

_MATRIX_HELP = "a K x K distance matrix or a {(name, name): distance} mapping"


def _circular(a: float, b: float, period: float) -> float:
    """Distance between positions ``a`` and ``b`` on a circle of length ``period``."""
    gap = abs(a - b) % period
    return min(gap, period - gap)


def _check_layout_name(layout: str) -> None:
    """Raise ``ValueError`` naming ``layout`` when it is not one of :data:`LAYOUTS`."""
    if layout not in LAYOUTS:
        raise ValueError(
            f"unknown wheel layout {layout!r}; expected one of {', '.join(LAYOUTS)} "
            f"(or, for distance_matrix, {_MATRIX_HELP})"
        )


def _emotions(classes: Sequence[str]) -> tuple[str, ...]:
    """The non-neutral classes, in the dataset's order (after checking every name)."""
    return tuple(c for c in check_classes(classes) if c != "neutral")


def _ring_order(emotions: Sequence[str]) -> tuple[str, ...]:
    """``emotions`` sorted by their place on Plutchik's wheel (contempt after disgust)."""
    return tuple(sorted(emotions, key=PETAL_POSITIONS.__getitem__))


def wheel_positions(classes: Sequence[str], layout: str = "plutchik") -> dict[str, float]:
    """Angular position of each non-neutral class, in petal units (8 = once round).

    Introduced in notebook 02 for the polar plot: the angle in radians is
    ``position * 2 * pi / WHEEL_PERIOD``. ``plutchik`` gives the petal positions;
    ``ring`` spreads the dataset's emotions evenly in Plutchik order (place ``i`` of
    ``n`` at ``i * 8 / n``); ``uniform`` has no geometry (all distances are 0) and
    returns the Plutchik positions so that the plot still has somewhere to put each
    emotion; ``shuffled`` gives :data:`SHUFFLED_POSITIONS`. Neutral has no angle (it is
    equally far from everything) and is left out. Keys follow the order of ``classes``.
    """
    _check_layout_name(layout)
    emotions = _emotions(classes)
    if layout == "shuffled":
        return {name: SHUFFLED_POSITIONS[name] for name in emotions}
    if layout != "ring":
        return {name: PETAL_POSITIONS[name] for name in emotions}
    order = _ring_order(emotions)
    step = WHEEL_PERIOD / max(len(order), 1)
    place = {name: i * step for i, name in enumerate(order)}
    return {name: place[name] for name in emotions}


def _named_distances(classes: tuple[str, ...], layout: str) -> np.ndarray:
    """``K x K`` distances of a named layout, in the order of ``classes``."""
    k = len(classes)
    out = np.zeros((k, k), dtype=np.float64)
    if layout == "uniform":
        return out
    if layout in ("plutchik", "shuffled"):
        position = PETAL_POSITIONS if layout == "plutchik" else SHUFFLED_POSITIONS
        period = WHEEL_PERIOD
    else:  # ring: the dataset's own emotions, neighbours 1 apart
        order = _ring_order([c for c in classes if c != "neutral"])
        position = {name: float(i) for i, name in enumerate(order)}
        period = float(len(order))
    for i, a in enumerate(classes):
        for j, b in enumerate(classes):
            if i == j:
                continue
            if "neutral" in (a, b):
                out[i, j] = NEUTRAL_DISTANCE
            else:
                out[i, j] = _circular(position[a], position[b], period)
    return out


def _matrix_from_mapping(classes: tuple[str, ...], mapping: Mapping) -> np.ndarray:
    """Turn ``{(name, name): distance}`` into a ``K x K`` array in the order of ``classes``.

    A pair may be given in either order (if both are given they must agree); the diagonal
    may be left out. Keys naming canonical classes the dataset lacks are ignored.
    """
    index = {name: i for i, name in enumerate(classes)}
    out = np.full((len(classes), len(classes)), np.nan)
    np.fill_diagonal(out, 0.0)
    for key, value in mapping.items():
        if not (isinstance(key, tuple) and len(key) == 2):
            raise ValueError(f"distance mapping keys must be (name, name) pairs, got {key!r}")
        for name in key:
            if name not in CANONICAL_CLASSES:
                raise ValueError(
                    f"distance mapping names {name!r}, which is not on the wheel; "
                    f"expected one of {', '.join(CANONICAL_CLASSES)}"
                )
        a, b = key
        d = float(value)
        if a == b:
            if d != 0.0:
                raise ValueError(f"distance mapping gives ({a!r}, {a!r}) = {d}; expected 0")
            continue
        if a not in index or b not in index:
            continue
        i, j = index[a], index[b]
        if not np.isnan(out[i, j]) and out[i, j] != d:
            raise ValueError(
                f"distance mapping is not symmetric: ({a!r}, {b!r}) is given as both "
                f"{out[i, j]} and {d}"
            )
        out[i, j] = out[j, i] = d
    missing = [
        (classes[i], classes[j]) for i, j in zip(*np.where(np.isnan(out)), strict=True) if i < j
    ]
    if missing:
        raise ValueError(
            f"distance mapping lacks {len(missing)} pair(s), first {missing[0]!r}; "
            f"expected a distance for every pair of {', '.join(classes)}"
        )
    return out


def _check_matrix(matrix: np.ndarray, classes: tuple[str, ...]) -> np.ndarray:
    """Check a user-supplied distance matrix; raise ``ValueError`` saying what is wrong."""
    k = len(classes)
    if matrix.shape != (k, k):
        raise ValueError(
            f"distance matrix must be {k} x {k} (one row and column per class: "
            f"{', '.join(classes)}), got shape {matrix.shape}"
        )
    if not np.isfinite(matrix).all():
        raise ValueError("distance matrix must be finite (no NaN or inf entries)")
    if (matrix < 0).any():
        raise ValueError("distance matrix must be non-negative")
    if not np.allclose(np.diag(matrix), 0.0):
        raise ValueError(f"distance matrix must have a zero diagonal, got {np.diag(matrix)}")
    if not np.allclose(matrix, matrix.T):
        raise ValueError("distance matrix must be symmetric (d[i, j] == d[j, i])")
    return matrix


def distance_matrix(
    classes: Sequence[str],
    layout: str | np.ndarray | torch.Tensor | Mapping = "plutchik",
) -> torch.Tensor:
    """``K x K`` float32 wheel distances between the dataset's classes, in their order.

    Introduced in notebook 02. ``layout`` is a name from :data:`LAYOUTS` (see the module
    docstring) or a user-supplied ``K x K`` array / ``{(name, name): distance}`` mapping,
    which is validated (square, symmetric, zero diagonal, non-negative, finite). A class
    name not on the wheel or an unknown layout name raises ``ValueError``.
    """
    names = check_classes(classes)
    if isinstance(layout, str):
        _check_layout_name(layout)
        matrix = _named_distances(names, layout)
    elif isinstance(layout, Mapping):
        matrix = _check_matrix(_matrix_from_mapping(names, layout), names)
    elif isinstance(layout, np.ndarray | torch.Tensor | list | tuple):
        if isinstance(layout, torch.Tensor):
            layout = layout.detach().cpu().numpy()
        matrix = _check_matrix(np.asarray(layout, dtype=np.float64), names)
    else:
        raise ValueError(
            f"layout must be one of {', '.join(LAYOUTS)} or {_MATRIX_HELP}, "
            f"got {type(layout).__name__}"
        )
    return torch.as_tensor(matrix, dtype=torch.float32)


def mixing_weights(distances: torch.Tensor) -> torch.Tensor:
    """Mixing weights ``a = softmax(-d)`` over the last dimension (paper A, Eq. 3).

    Introduced in notebook 02. Row ``i`` of ``mixing_weights(distance_matrix(classes))``
    holds the weights each class would get if class ``i`` were the primary emotion of a
    group with one member of every class; each row sums to 1.
    """
    return torch.softmax(-torch.as_tensor(distances, dtype=torch.float32), dim=-1)


def ambiguity_table() -> pd.DataFrame:
    """The ``docs/replication.md`` D1 ambiguity made concrete: how far anger is from sadness
    and happiness.

    Introduced in notebook 02. Paper A's text says anger mixes with sadness more than with
    happiness because the two are adjacent; on Plutchik's wheel anger is two petals from
    both. One row per reading: the paper's text, each layout (the ring for the six basic
    emotions of JAFFE / RAF-ML and for the seven of CK+ / FER+, which add contempt).
    Columns: the two distances, the weights ``a`` that sadness and happiness get in a group
    ``(anger, sadness, happiness)`` whose primary emotion is anger (Eq. 3), and whether
    anger ends up nearer sadness than happiness, as the paper's text claims.
    """
    six = ("happiness", "sadness", "surprise", "anger", "disgust", "fear")
    readings: list[tuple[str, tuple[str, ...], str]] = [
        ("plutchik", CANONICAL_CLASSES, "plutchik"),
        ("ring, 6 basic emotions (JAFFE, RAF-ML)", six, "ring"),
        ("ring, 7 emotions (CK+, FER+: with contempt)", (*six, "contempt"), "ring"),
        ("uniform", CANONICAL_CLASSES, "uniform"),
    ]
    rows: list[dict[str, object]] = [
        {
            "reading": "paper A's text (section 3.2)",
            "d(anger, sadness)": 1.0,  # "adjacent"
            "d(anger, happiness)": float("nan"),  # not stated, only "further"
            "a(sadness)": float("nan"),
            "a(happiness)": float("nan"),
            "anger nearer sadness": True,
        }
    ]
    for reading, classes, layout in readings:
        d = distance_matrix(classes, layout)
        ang, sad, hap = (classes.index(c) for c in ("anger", "sadness", "happiness"))
        a = mixing_weights(torch.stack([d[ang, ang], d[sad, ang], d[hap, ang]]))
        rows.append(
            {
                "reading": reading,
                "d(anger, sadness)": float(d[ang, sad]),
                "d(anger, happiness)": float(d[ang, hap]),
                "a(sadness)": round(float(a[1]), 4),
                "a(happiness)": round(float(a[2]), 4),
                "anger nearer sadness": bool(d[ang, sad] < d[ang, hap]),
            }
        )
    return pd.DataFrame(rows).set_index("reading")
