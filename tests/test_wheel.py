"""The emotion wheel: layouts, distance matrices, mixing weights (notebook 02)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from fer_utils.data.dataset import CANONICAL_CLASSES
from fer_utils.mixfeature.wheel import (
    LAYOUTS,
    NEUTRAL_DISTANCE,
    ambiguity_table,
    distance_matrix,
    mixing_weights,
    wheel_positions,
)

JAFFE = ("neutral", "happiness", "sadness", "surprise", "anger", "disgust", "fear")
CKPLUS = ("anger", "contempt", "disgust", "fear", "happiness", "sadness", "surprise")


def _d(matrix: torch.Tensor, classes: tuple[str, ...], a: str, b: str) -> float:
    return float(matrix[classes.index(a), classes.index(b)])


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        ("happiness", "fear", 2.0),  # joy 0, fear 2
        ("anger", "sadness", 2.0),  # anger 6, sadness 4
        ("anger", "happiness", 2.0),  # 6 -> 0 the short way round: 2
        ("disgust", "contempt", 0.5),
        ("anger", "contempt", 0.5),
        ("happiness", "sadness", 4.0),  # opposite petals
        ("surprise", "fear", 1.0),
        ("happiness", "contempt", 2.5),  # 5.5 -> 0 the short way round
    ],
)
def test_plutchik_distances_by_hand(a: str, b: str, expected: float) -> None:
    d = distance_matrix(CANONICAL_CLASSES)
    assert _d(d, CANONICAL_CLASSES, a, b) == expected
    assert _d(d, CANONICAL_CLASSES, b, a) == expected


@pytest.mark.parametrize("layout", ["plutchik", "ring"])
def test_neutral_is_three_from_everything_and_matrix_is_a_distance(layout: str) -> None:
    d = distance_matrix(CANONICAL_CLASSES, layout)
    assert d.shape == (8, 8) and d.dtype == torch.float32
    n = CANONICAL_CLASSES.index("neutral")
    others = [i for i in range(8) if i != n]
    assert torch.all(d[n, others] == NEUTRAL_DISTANCE)
    assert torch.all(d[others, n] == NEUTRAL_DISTANCE)
    assert torch.equal(d, d.T)
    assert torch.all(torch.diag(d) == 0)
    assert torch.all(d[~torch.eye(8, dtype=torch.bool)] > 0)


def test_matrix_follows_the_dataset_class_order() -> None:
    full = distance_matrix(CANONICAL_CLASSES)
    idx = [CANONICAL_CLASSES.index(c) for c in JAFFE]
    assert torch.equal(distance_matrix(JAFFE), full[idx][:, idx])


def test_ring_for_jaffe_by_hand() -> None:
    # Ring order (Plutchik order of JAFFE's six emotions): happiness 0, fear 1,
    # surprise 2, sadness 3, disgust 4, anger 5; circular distance on a ring of 6.
    expected = np.array(
        [
            # neu hap sad sur ang dis fea
            [0, 3, 3, 3, 3, 3, 3],  # neutral
            [3, 0, 3, 2, 1, 2, 1],  # happiness
            [3, 3, 0, 1, 2, 1, 2],  # sadness
            [3, 2, 1, 0, 3, 2, 1],  # surprise
            [3, 1, 2, 3, 0, 1, 2],  # anger
            [3, 2, 1, 2, 1, 0, 3],  # disgust
            [3, 1, 2, 1, 2, 3, 0],  # fear
        ],
        dtype=np.float32,
    )
    np.testing.assert_array_equal(distance_matrix(JAFFE, "ring").numpy(), expected)


def test_ring_puts_contempt_between_disgust_and_anger() -> None:
    d = distance_matrix(CKPLUS, "ring")
    assert _d(d, CKPLUS, "contempt", "disgust") == 1.0
    assert _d(d, CKPLUS, "contempt", "anger") == 1.0
    assert _d(d, CKPLUS, "disgust", "anger") == 2.0
    assert _d(d, CKPLUS, "anger", "happiness") == 1.0  # the ring closes: 6 -> 0
    assert d.max() == 3.0  # a ring of 7: at most 3 apart


def test_uniform_layout_gives_uniform_weights() -> None:
    d = distance_matrix(JAFFE, "uniform")
    assert torch.all(d == 0)
    assert torch.allclose(mixing_weights(d), torch.full((7, 7), 1 / 7))


def test_mixing_weights_by_hand() -> None:
    # A group (anger, anger, sadness) with primary anger: d = (0, 0, 2) on Plutchik's wheel.
    d = distance_matrix(CANONICAL_CLASSES)
    ang, sad = CANONICAL_CLASSES.index("anger"), CANONICAL_CLASSES.index("sadness")
    a = mixing_weights(torch.stack([d[ang, ang], d[ang, ang], d[sad, ang]]))
    z = 2 + math.exp(-2)
    np.testing.assert_allclose(a.numpy(), [1 / z, 1 / z, math.exp(-2) / z], rtol=1e-6)
    rows = mixing_weights(d)
    assert torch.allclose(rows.sum(dim=1), torch.ones(8))
    assert torch.all(rows.argmax(dim=1) == torch.arange(8))  # the primary weighs most


def test_positions() -> None:
    plutchik = wheel_positions(JAFFE)
    assert plutchik == {
        "happiness": 0.0,
        "sadness": 4.0,
        "surprise": 3.0,
        "anger": 6.0,
        "disgust": 5.0,
        "fear": 2.0,
    }
    assert wheel_positions(CKPLUS)["contempt"] == 5.5
    ring = wheel_positions(CKPLUS, "ring")
    order = ("happiness", "fear", "surprise", "sadness", "disgust", "contempt", "anger")
    assert ring == pytest.approx({name: i * 8 / 7 for i, name in enumerate(order)})
    assert "neutral" not in wheel_positions(JAFFE, "uniform")
    assert list(wheel_positions(JAFFE, "ring")) == list(JAFFE[1:])  # dataset's order


def test_user_matrix_and_mapping_are_accepted() -> None:
    classes = ("neutral", "happiness", "anger")
    matrix = np.array([[0, 3, 3], [3, 0, 1.5], [3, 1.5, 0]])
    assert torch.equal(distance_matrix(classes, matrix), torch.tensor(matrix).float())
    assert torch.equal(distance_matrix(classes, torch.tensor(matrix)), torch.tensor(matrix).float())
    mapping = {
        ("neutral", "happiness"): 3,
        ("anger", "neutral"): 3,  # either order
        ("happiness", "anger"): 1.5,
        ("anger", "happiness"): 1.5,  # both orders, agreeing
        ("fear", "anger"): 9,  # a canonical class the dataset lacks: ignored
        ("anger", "anger"): 0,
    }
    assert torch.equal(distance_matrix(classes, mapping), torch.tensor(matrix).float())


@pytest.mark.parametrize(
    ("layout", "message"),
    [
        (np.zeros((2, 2)), r"must be 3 x 3"),
        (np.array([[0, 1, 1], [2, 0, 1], [1, 1, 0]]), r"symmetric"),
        (np.array([[1, 1, 1], [1, 0, 1], [1, 1, 0]]), r"zero diagonal"),
        (np.array([[0, -1, 1], [-1, 0, 1], [1, 1, 0]]), r"non-negative"),
        (np.array([[0, np.inf, 1], [np.inf, 0, 1], [1, 1, 0]]), r"finite"),
        (np.array([[0, np.nan, 1], [np.nan, 0, 1], [1, 1, 0]]), r"finite"),
        ({("neutral", "happiness"): 3, ("neutral", "anger"): 3}, r"lacks 1 pair.*happiness"),
        ({("neutral", "joy"): 3}, r"'joy'.*contempt"),
        ({("anger", "happiness"): 1, ("happiness", "anger"): 2}, r"not symmetric"),
        ({("anger", "anger"): 1}, r"expected 0"),
        ({"anger": 1}, r"\(name, name\) pairs"),
        ("wheel", r"unknown wheel layout 'wheel'.*plutchik, ring, uniform"),
        (3.0, r"layout must be one of"),
    ],
)
def test_bad_layouts_raise(layout: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        distance_matrix(("neutral", "happiness", "anger"), layout)  # type: ignore[arg-type]


def test_unknown_class_and_layout_name_the_culprit() -> None:
    with pytest.raises(ValueError, match=r"'anticipation'.*neutral, happiness"):
        distance_matrix(("happiness", "anticipation"))
    with pytest.raises(ValueError, match=r"'polar'.*plutchik, ring, uniform"):
        wheel_positions(JAFFE, "polar")
    assert LAYOUTS == ("plutchik", "ring", "uniform", "shuffled")


def test_ambiguity_table_shows_the_paper_claim_fails_on_every_layout() -> None:
    table = ambiguity_table()
    paper = table.iloc[0]
    assert paper["d(anger, sadness)"] == 1.0 and bool(paper["anger nearer sadness"])
    plutchik = table.loc["plutchik"]
    assert plutchik["d(anger, sadness)"] == 2.0 and plutchik["d(anger, happiness)"] == 2.0
    assert plutchik["a(sadness)"] == plutchik["a(happiness)"]
    z = 1 + 2 * math.exp(-2)
    assert plutchik["a(sadness)"] == pytest.approx(math.exp(-2) / z, abs=1e-4)
    assert not table.iloc[1:]["anger nearer sadness"].any()
    assert table.loc["uniform", "a(sadness)"] == pytest.approx(1 / 3, abs=1e-4)


def test_shuffled_control_moves_every_emotion_and_keeps_plutchiks_spread() -> None:
    from fer_utils.mixfeature.wheel import PETAL_POSITIONS, SHUFFLED_POSITIONS

    assert sorted(SHUFFLED_POSITIONS.values()) == sorted(PETAL_POSITIONS.values())
    assert all(SHUFFLED_POSITIONS[e] != PETAL_POSITIONS[e] for e in PETAL_POSITIONS)
    emotions = tuple(c for c in CANONICAL_CLASSES if c != "neutral")
    shuffled = distance_matrix(emotions, "shuffled").numpy()
    plutchik = distance_matrix(emotions, "plutchik").numpy()
    assert not np.array_equal(shuffled, plutchik)
    # the same multiset of off-diagonal distances: only who is near whom changed
    assert sorted(shuffled[np.triu_indices(7, 1)]) == sorted(plutchik[np.triu_indices(7, 1)])
    # by hand: happiness (now 4) and sadness (now 5.5) are 1.5 apart; anger 5, fear 6: 1
    i = {e: n for n, e in enumerate(emotions)}
    assert shuffled[i["happiness"], i["sadness"]] == 1.5
    assert shuffled[i["anger"], i["fear"]] == 1.0
    assert distance_matrix(("neutral", "anger"), "shuffled")[0, 1] == 3.0
    assert wheel_positions(JAFFE, "shuffled")["surprise"] == 0.0
