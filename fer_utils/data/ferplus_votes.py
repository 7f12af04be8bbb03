"""FER+ votes to training targets: the label modes of the FER+ reference reader.

Each FER2013 image has ten crowd-sourced vote counts (:data:`VOTE_NAMES`: the eight
emotions, then unknown and NF). Here: single-vote removal, the ``majority`` /
``probability`` / ``crossentropy`` / ``multi_target`` rules that turn votes into a target
or drop the image, the vote distributions (LDL target), the multi-target 0/1 labels, and
the per-split targets :func:`fer_utils.data.ferplus.load_ferplus` uses. Re-implemented
from the description of the FER+ release's ``src/ferplus.py``, vectorised over images.
"""

from __future__ import annotations

import numpy as np

from fer_utils.data.dataset import CANONICAL_CLASSES

#: The ten vote columns of ``label.csv`` / ``fer2013new.csv``.
VOTE_NAMES: tuple[str, ...] = (*CANONICAL_CLASSES, "unknown", "NF")
#: Training label modes of the FER+ reference reader.
LABEL_MODES: tuple[str, ...] = ("majority", "probability", "crossentropy", "multi_target")

_N_EMOTIONS = len(CANONICAL_CLASSES)  # columns 8 and 9 are unknown and NF


def remove_single_votes(votes: np.ndarray) -> np.ndarray:
    """Zero every vote count of 1 (a single annotator's outlier), as FER+ does first.

    ``votes`` is ``N x 10``; a copy is returned.
    """
    clean = np.array(votes, dtype=np.int64, copy=True)
    clean[clean <= 1] = 0
    return clean


def _value_levels(votes: np.ndarray) -> np.ndarray:
    """Per entry, how many distinct larger values its row holds (0 = the row's maximum).

    Entries with equal counts share a level, so level k collects the k-th round of
    "take every emotion tied at the current maximum".
    """
    order = np.argsort(-votes, axis=1, kind="stable")
    ordered = np.take_along_axis(votes, order, axis=1)
    steps = np.diff(ordered, axis=1) != 0
    ordered_levels = np.concatenate(
        [np.zeros((len(votes), 1), dtype=np.int64), np.cumsum(steps, axis=1)], axis=1
    )
    levels = np.empty_like(ordered_levels)
    np.put_along_axis(levels, order, ordered_levels, axis=1)
    return levels


def _kept_majority(v: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Majority: keep the top count when it is more than half of all remaining votes."""
    top = np.argmax(v, axis=1)
    ok = 2 * v[np.arange(len(v)), top] > total
    kept = np.zeros(v.shape, dtype=bool)
    kept[np.flatnonzero(ok), top[ok]] = True
    return kept, np.where(ok, "", "no_majority")


def _kept_leaders(v: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Probability / crossentropy: most-voted emotions, ties together, until >= 75%.

    Rounds take every entry tied at the current maximum, in vote order, while the kept
    votes are below 75% of the total and fewer than three entries are kept. Meeting
    unknown or NF in a round ends the selection: it is kept only when nothing else is
    (the image is then dropped because its target peaks at unknown/NF), and of the two
    only the first met (unknown) is looked at. The image is dropped when the kept votes
    are half of the total or less, or when more than three entries were kept.
    """
    n = len(v)
    levels = _value_levels(v)
    kept = np.zeros(v.shape, dtype=bool)
    kept_sum = np.zeros(n, dtype=np.int64)
    count = np.zeros(n, dtype=np.int64)
    active = total > 0
    rows = np.arange(n)
    for level in range(v.shape[1]):
        active &= (4 * kept_sum < 3 * total) & (count < 3)
        if not active.any():
            break
        in_round = (levels == level) & active[:, None]
        emotions = in_round[:, :_N_EMOTIONS]
        kept[:, :_N_EMOTIONS] |= emotions
        kept_sum += (v[:, :_N_EMOTIONS] * emotions).sum(axis=1)
        count += emotions.sum(axis=1)
        meets_other = in_round[:, _N_EMOTIONS:].any(axis=1)
        first_other = np.where(in_round[:, _N_EMOTIONS], _N_EMOTIONS, _N_EMOTIONS + 1)
        alone = meets_other & ~kept[:, :_N_EMOTIONS].any(axis=1)
        kept[rows[alone], first_other[alone]] = True
        kept_sum += np.where(alone, v[rows, first_other], 0)
        count += alone
        active &= ~meets_other
    reasons = np.where(count > 3, "too_many_emotions", "")
    reasons = np.where(2 * kept_sum <= total, "low_coverage", reasons)
    return kept, reasons


def _kept_multi_target(v: np.ndarray, total: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Multi-target: keep every entry with at least 30% of the votes; need > half."""
    kept = (10 * v >= 3 * total[:, None]) & (total[:, None] > 0)
    covered = (v * kept).sum(axis=1)
    return kept, np.where(2 * covered <= total, "low_coverage", "")


_MODE_RULES = {
    "majority": _kept_majority,
    "probability": _kept_leaders,
    "crossentropy": _kept_leaders,
    "multi_target": _kept_multi_target,
}


def process_votes(votes: np.ndarray, mode: str = "majority") -> tuple[np.ndarray, np.ndarray]:
    """Turn raw FER+ vote rows into training targets the way the FER+ reference does.

    ``votes``: ``N x 10`` counts in :data:`VOTE_NAMES` order. Steps: zero the single
    votes (:func:`remove_single_votes`); keep entries by the ``mode`` rule (see the
    ``_kept_*`` helpers); drop the image when the rule fails or when the kept target
    peaks (first maximum) at unknown or NF; renormalise the kept target over the eight
    emotions.

    Returns ``(targets, reasons)``: ``targets`` ``N x 8`` float32 (rows of dropped
    images are all 0) and ``reasons``, ``""`` for a kept image, else one of
    ``"only_single_votes"``, ``"no_majority"``, ``"low_coverage"``,
    ``"too_many_emotions"``, ``"unknown_or_nf"``.
    """
    if mode not in _MODE_RULES:
        raise ValueError(f"unknown FER+ label mode {mode!r}; expected one of {LABEL_MODES}")
    v = remove_single_votes(votes)
    if v.ndim != 2 or v.shape[1] != len(VOTE_NAMES):
        raise ValueError(f"votes must be N x {len(VOTE_NAMES)}, got shape {v.shape}")
    total = v.sum(axis=1)
    kept, reasons = _MODE_RULES[mode](v, total)
    target = v * kept
    peak = np.argmax(target, axis=1)
    reasons = np.where((reasons == "") & (peak >= _N_EMOTIONS), "unknown_or_nf", reasons)
    reasons = np.where(total == 0, "only_single_votes", reasons).astype(object)
    emotions = np.where((reasons == "")[:, None], target[:, :_N_EMOTIONS], 0).astype(np.float64)
    sums = emotions.sum(axis=1, keepdims=True)
    targets = np.divide(emotions, sums, out=np.zeros_like(emotions), where=sums > 0)
    return targets.astype(np.float32), reasons


def vote_distributions(votes: np.ndarray) -> np.ndarray:
    """The eight emotion votes after single-vote removal, normalised to sum 1.

    Rows without any emotion vote left are all 0.
    """
    emotions = remove_single_votes(votes)[:, :_N_EMOTIONS].astype(np.float64)
    sums = emotions.sum(axis=1, keepdims=True)
    out = np.divide(emotions, sums, out=np.zeros_like(emotions), where=sums > 0)
    return out.astype(np.float32)


def multi_target_labels(votes: np.ndarray) -> np.ndarray:
    """0/1 per emotion: at least 30% of the votes left after single-vote removal.

    This is the ``multi_target`` rule of FER+ (the total includes the unknown and NF
    votes), used as ``FERDataset.multilabels``.
    """
    v = remove_single_votes(votes)
    total = v.sum(axis=1, keepdims=True)
    return ((10 * v[:, :_N_EMOTIONS] >= 3 * total) & (total > 0)).astype(np.float32)


def split_targets(votes: np.ndarray, split: np.ndarray, mode: str) -> tuple[np.ndarray, np.ndarray]:
    """Targets and drop reasons of :func:`process_votes`: ``mode`` for the training rows,
    ``"majority"`` for validation and test (as the FER+ reference evaluates)."""
    train_targets, train_reasons = process_votes(votes, mode)
    eval_targets, eval_reasons = process_votes(votes, "majority")
    is_train = split == "train"
    targets = np.where(is_train[:, None], train_targets, eval_targets)
    return targets, np.where(is_train, train_reasons, eval_reasons)
