"""True label distributions: the dominant emotion's class shares and the secondary emotions.

:func:`class_shares` gives how likely each class is to be an image's dominant emotion;
``_sample_distributions`` adds up to two secondary emotions, chosen near the dominant one
on Plutchik's wheel or at random (:data:`SECONDARY_MODES`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from fer_utils.data.dataset import CANONICAL_CLASSES
from fer_utils.data.synthetic.expression import _check_classes
from fer_utils.data.synthetic.variation import difficulty_amounts
from fer_utils.mixfeature.wheel import distance_matrix
from fer_utils.published import TABLE1_SHARES

#: Class shares (percent) of the FER+ and JAFFE columns of paper A's Table 1 (JAFFE has
#: no contempt), kept in :mod:`fer_utils.published` with the other published numbers.
FERPLUS_SHARES: dict[str, float] = TABLE1_SHARES["ferplus"]
JAFFE_SHARES: dict[str, float] = TABLE1_SHARES["jaffe"]

#: How :func:`generate_faces` chooses each image's secondary emotions: ``"wheel"``
#: (default: near the dominant emotion on Plutchik's wheel, probability ``exp(-d)``) or
#: ``"random"`` (uniformly among the other emotions). See the docstring of
#: :mod:`fer_utils.data.synthetic`.
SECONDARY_MODES: tuple[str, ...] = ("wheel", "random")

_NAMED_SHARES: dict[str, dict[str, float] | None] = {
    "uniform": None,
    "ferplus": FERPLUS_SHARES,
    "jaffe": JAFFE_SHARES,
}


def class_shares(
    imbalance: str | Sequence[float], classes: Sequence[str] = CANONICAL_CLASSES
) -> np.ndarray:
    """The probability of each class being an image's dominant emotion.

    ``imbalance`` is ``"uniform"``, ``"ferplus"`` or
    ``"jaffe"`` (paper A's Table 1 shares, renormalised over ``classes``), or one
    non-negative weight per class.
    """
    classes = _check_classes(classes)
    if isinstance(imbalance, str):
        if imbalance not in _NAMED_SHARES:
            raise ValueError(
                f"unknown imbalance {imbalance!r}; expected one of "
                f"{', '.join(_NAMED_SHARES)} or one weight per class"
            )
        table = _NAMED_SHARES[imbalance]
        weights = np.array([1.0 if table is None else table.get(c, 0.0) for c in classes])
    else:
        weights = np.asarray(imbalance, dtype=np.float64)
        if weights.shape != (len(classes),):
            raise ValueError(
                f"imbalance must give one weight per class ({len(classes)}), "
                f"got shape {weights.shape}"
            )
    if np.any(weights < 0) or not np.all(np.isfinite(weights)) or weights.sum() <= 0:
        raise ValueError(
            f"imbalance weights must be non-negative with a positive sum over the classes "
            f"{classes}, got {weights.tolist()}"
        )
    return weights / weights.sum()


def _sample_distributions(
    dominant: np.ndarray,
    classes: tuple[str, ...],
    difficulty: float,
    rng: np.random.Generator,
    secondary: str = "wheel",
) -> np.ndarray:
    """True label distributions: the dominant emotion plus up to two secondary emotions.

    The dominant weight is ``1 - s * U(0, 1)`` with ``s`` the ``"secondary_weight"`` of
    :func:`difficulty_amounts`; the rest is split at random between two secondary
    emotions chosen without replacement: with probability proportional to
    ``exp(-wheel distance)`` from the dominant one (``secondary="wheel"``), or with equal
    probability among the other emotions (``secondary="random"``). Both modes draw the
    same random numbers in the same order, so only the choice of emotions differs.
    """
    n, k = len(dominant), len(classes)
    out = np.zeros((n, k), dtype=np.float64)
    rows = np.arange(n)
    most = difficulty_amounts(difficulty)["secondary_weight"]
    dominant_weight = 1.0 - most * rng.uniform(size=n)
    out[rows, dominant] = dominant_weight
    n_secondary = min(2, k - 1)
    if n_secondary == 0:
        return out
    # Gumbel top-k: adding Gumbel noise to log-probabilities and keeping the largest draws
    # a sample without replacement, for every image at once.
    if secondary == "wheel":
        # the same Plutchik wheel that MixFeature uses (notebook 02)
        log_p = -distance_matrix(classes, "plutchik").double().numpy()[dominant]
    else:  # "random": every other emotion equally likely
        log_p = np.zeros((n, k), dtype=np.float64)
    log_p[rows, dominant] = -np.inf
    keys = log_p + rng.gumbel(size=(n, k))
    chosen = np.argsort(-keys, axis=1)[:, :n_secondary]
    split = rng.dirichlet(np.ones(n_secondary), size=n)
    out[rows[:, None], chosen] = (1.0 - dominant_weight)[:, None] * split
    return out
