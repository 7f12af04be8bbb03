"""Tests for the built-in synthetic faces (fer_utils.data.synthetic)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from fer_utils.data import load_dataset
from fer_utils.data import synthetic as syn
from fer_utils.data.dataset import CANONICAL_CLASSES, LANDMARK_NAMES, FERDataset
from fer_utils.data.synthetic import (
    EXPRESSION_FEATURES,
    FERPLUS_SHARES,
    IDENTITY_FEATURES,
    JAFFE_SHARES,
    SECONDARY_MODES,
    class_shares,
    generate_faces,
    load_synthetic,
    neutral_pose,
    plain_scene,
    prototype_matrix,
    render_faces,
    sample_identities,
)

K = len(CANONICAL_CLASSES)


@pytest.fixture(scope="module")
def faces() -> syn.SyntheticFaces:
    return generate_faces(n=120, image_size=48, difficulty=0.7, n_subjects=6, seed=11)


def one_hot(name: str, classes: tuple[str, ...] = CANONICAL_CLASSES) -> np.ndarray:
    return np.eye(len(classes), dtype=np.float32)[[classes.index(name)]]


def extreme_identities() -> np.ndarray:
    """Every identity feature at the low and at the high end of its range."""
    rng = np.random.default_rng(0)
    low_high = sample_identities(64, variety=1.0, rng=rng)
    spread = np.abs(low_high - syn.average_identity()).max(axis=0)
    signs = np.where(rng.uniform(size=low_high.shape) < 0.5, -1.0, 1.0)
    return (syn.average_identity() + signs * spread).astype(np.float32)


def extreme_poses(n: int) -> np.ndarray:
    """Poses at the corners of the difficulty-1 range."""
    rng = np.random.default_rng(1)
    corners = np.where(rng.uniform(size=(n, 4)) < 0.5, -1.0, 1.0)
    most = syn.difficulty_amounts(1.0)
    return np.stack(
        [
            most["shift"] * corners[:, 0],
            most["shift"] * corners[:, 1],
            1 + most["scale_change"] * corners[:, 2],
            most["rotation_deg"] * corners[:, 3],
        ],
        axis=1,
    ).astype(np.float32)


def extreme_weights(n: int) -> np.ndarray:
    """Pure prototypes and sparse blends of two or three emotions."""
    rng = np.random.default_rng(2)
    blends = rng.dirichlet(np.full(K, 0.2), size=n - K)
    return np.concatenate([np.eye(K), blends]).astype(np.float32)


# --- determinism ---------------------------------------------------------------------


def test_same_seed_gives_identical_arrays() -> None:
    a = generate_faces(n=40, image_size=40, difficulty=0.8, seed=5)
    b = generate_faces(n=40, image_size=40, difficulty=0.8, seed=5)
    for field in (
        "images",
        "labels",
        "distributions",
        "votes",
        "multilabels",
        "landmarks",
        "subjects",
    ):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field), err_msg=field)
    assert a.params == b.params


def test_different_seed_gives_different_images() -> None:
    a = generate_faces(n=40, image_size=40, seed=5)
    b = generate_faces(n=40, image_size=40, seed=6)
    assert not np.array_equal(a.images, b.images)
    assert not np.array_equal(a.distributions, b.distributions)


# --- shapes, dtypes and label consistency ----------------------------------------------


def test_shapes_and_dtypes(faces: syn.SyntheticFaces) -> None:
    n = 120
    assert faces.images.shape == (n, 48, 48) and faces.images.dtype == np.uint8
    assert faces.labels.shape == (n,) and faces.labels.dtype == np.int64
    assert faces.distributions.shape == (n, K) and faces.distributions.dtype == np.float32
    assert faces.votes.shape == (n, K) and faces.votes.dtype == np.int64
    assert faces.multilabels.shape == (n, K) and faces.multilabels.dtype == np.uint8
    assert faces.landmarks.shape == (n, len(LANDMARK_NAMES), 2)
    assert faces.landmarks.dtype == np.float32
    assert faces.subjects.shape == (n,) and faces.subjects.dtype == np.int64
    assert faces.classes == CANONICAL_CLASSES
    assert len(faces) == n


def test_class_subset_sets_the_number_of_columns() -> None:
    classes = ("happiness", "sadness", "anger")
    out = generate_faces(n=30, image_size=32, classes=classes, seed=1)
    assert out.classes == classes
    assert out.distributions.shape == (30, 3) and out.votes.shape == (30, 3)
    assert set(np.unique(out.labels)) <= {0, 1, 2}


def test_distributions_are_distributions_and_labels_are_their_argmax(
    faces: syn.SyntheticFaces,
) -> None:
    dist = faces.distributions
    assert np.all(dist >= 0)
    np.testing.assert_allclose(dist.sum(axis=1), 1.0, atol=1e-5)
    np.testing.assert_array_equal(faces.labels, dist.argmax(axis=1))
    # Blends really happen at this difficulty.
    assert np.mean(dist.max(axis=1) < 0.99) > 0.5


def test_votes_sum_to_n_votes() -> None:
    out = generate_faces(n=50, image_size=32, n_votes=7, seed=2)
    assert np.all(out.votes >= 0)
    np.testing.assert_array_equal(out.votes.sum(axis=1), 7)


def test_votes_follow_the_distribution() -> None:
    out = generate_faces(n=400, image_size=32, n_votes=50, difficulty=1.0, seed=3)
    vote_shares = out.votes / 50.0
    assert np.abs(vote_shares - out.distributions).mean() < 0.05
    assert np.all(out.votes[out.distributions == 0] == 0)


def test_multilabels_are_the_thresholded_distribution_plus_the_argmax() -> None:
    out = generate_faces(n=200, image_size=32, difficulty=1.0, multilabel_threshold=0.2, seed=4)
    expected = out.distributions >= np.float32(0.2)
    expected[np.arange(200), out.labels] = True
    np.testing.assert_array_equal(out.multilabels, expected.astype(np.uint8))
    assert np.any(out.multilabels.sum(axis=1) > 1)
    # A threshold above every weight still leaves the argmax set.
    strict = generate_faces(n=50, image_size=32, difficulty=1.0, multilabel_threshold=1.0)
    np.testing.assert_array_equal(strict.multilabels.sum(axis=1), 1)
    np.testing.assert_array_equal(strict.multilabels.argmax(axis=1), strict.labels)


def test_difficulty_zero_gives_pure_prototypes_without_pose() -> None:
    out = generate_faces(n=60, image_size=32, difficulty=0.0, n_subjects=3, seed=7)
    np.testing.assert_array_equal(out.distributions.max(axis=1), 1.0)
    np.testing.assert_array_equal(out.votes.max(axis=1), 10)
    # Without pose or noise, the eyes of one subject sit at the same pixels in every image.
    for s in range(3):
        eyes = out.landmarks[out.subjects == s, :2]
        np.testing.assert_allclose(eyes, eyes[:1].repeat(len(eyes), axis=0), atol=1e-5)


def test_subjects_cover_every_id() -> None:
    out = generate_faces(n=50, image_size=32, n_subjects=7, seed=8)
    np.testing.assert_array_equal(np.unique(out.subjects), np.arange(7))


# --- landmarks ---------------------------------------------------------------------------


@pytest.mark.parametrize("size", [32, 48, 77, 256])
def test_landmarks_inside_the_image_at_difficulty_one(size: int) -> None:
    out = generate_faces(n=200 if size < 256 else 30, image_size=size, difficulty=1.0, seed=9)
    assert np.all(out.landmarks >= 0) and np.all(out.landmarks <= size - 1)


@pytest.mark.parametrize("size", [32, 64])
def test_landmarks_inside_the_image_at_extreme_pose_face_and_expression(size: int) -> None:
    n = 64
    _, landmarks = render_faces(
        extreme_weights(n), extreme_identities(), size, pose=extreme_poses(n)
    )
    assert np.all(landmarks >= 0) and np.all(landmarks <= size - 1)


def test_landmarks_follow_the_pose() -> None:
    weights = one_hot("neutral")
    _, centred = render_faces(weights, image_size=64)
    shifted_pose = np.array([[0.05, -0.03, 1.0, 0.0]], dtype=np.float32)
    _, shifted = render_faces(weights, image_size=64, pose=shifted_pose)
    np.testing.assert_allclose(shifted - centred, [[[3.2, -1.92]] * 5], atol=1e-4)
    turned_pose = np.array([[0.0, 0.0, 1.0, 90.0]], dtype=np.float32)
    _, turned = render_faces(weights, image_size=64, pose=turned_pose)
    centre = 31.5
    # A quarter turn maps (x, y) around the centre to (-y, x).
    np.testing.assert_allclose(turned[0, :, 0] - centre, -(centred[0, :, 1] - centre), atol=1e-4)
    np.testing.assert_allclose(turned[0, :, 1] - centre, centred[0, :, 0] - centre, atol=1e-4)


def test_eye_landmarks_sit_on_the_dark_iris() -> None:
    images, landmarks = render_faces(one_hot("surprise"), image_size=96)
    img, points = images[0].astype(float), np.rint(landmarks[0]).astype(int)
    assert max(img[y, x] for x, y in points[:2]) < 80
    assert img.mean() > 100


# --- class shares --------------------------------------------------------------------


def test_table_one_shares() -> None:
    assert sum(FERPLUS_SHARES.values()) == pytest.approx(100.0, abs=0.05)
    assert sum(JAFFE_SHARES.values()) == pytest.approx(99.9, abs=0.05)
    assert "contempt" not in JAFFE_SHARES
    np.testing.assert_allclose(class_shares("uniform"), np.full(K, 1 / K))
    jaffe = class_shares("jaffe")
    assert jaffe[CANONICAL_CLASSES.index("contempt")] == 0
    assert jaffe.sum() == pytest.approx(1.0)


def test_ferplus_imbalance_matches_the_shares() -> None:
    n = 4000
    out = generate_faces(n=n, image_size=32, imbalance="ferplus", difficulty=0.5, seed=10)
    freq = np.bincount(out.labels, minlength=K) / n
    shares = np.array([FERPLUS_SHARES[c] for c in CANONICAL_CLASSES]) / 100.0
    tolerance = 4 * np.sqrt(shares * (1 - shares) / n) + 1e-3
    assert np.all(np.abs(freq - shares) <= tolerance), (freq, shares)


def test_explicit_weights_renormalised_over_the_classes() -> None:
    out = generate_faces(
        n=300,
        image_size=32,
        classes=("happiness", "sadness"),
        imbalance=[3.0, 1.0],
        difficulty=0.0,
        seed=11,
    )
    assert np.mean(out.labels == 0) == pytest.approx(0.75, abs=0.1)


# --- expression prototypes --------------------------------------------------------------


def test_neutral_prototype_is_the_rest_face() -> None:
    assert not np.any(prototype_matrix()[CANONICAL_CLASSES.index("neutral")])
    neutral_images, neutral_landmarks = render_faces(one_hot("neutral"), image_size=64)
    rest_images, rest_landmarks = render_faces(np.zeros((1, K)), image_size=64)
    np.testing.assert_array_equal(neutral_images, rest_images)
    np.testing.assert_array_equal(neutral_landmarks, rest_landmarks)


def test_every_emotion_changes_the_face() -> None:
    images, _ = render_faces(np.eye(K), image_size=48)
    for i in range(1, K):
        for j in range(i):
            assert np.abs(images[i].astype(int) - images[j]).sum() > 500, (i, j)


def test_contempt_is_one_sided_and_happiness_symmetric() -> None:
    size = 64
    left, right = LANDMARK_NAMES.index("mouth_left"), LANDMARK_NAMES.index("mouth_right")
    images, landmarks = render_faces(
        np.concatenate([one_hot("contempt"), one_hot("happiness")]), image_size=size
    )
    contempt, happiness = landmarks
    assert abs(contempt[left, 1] - contempt[right, 1]) > 2.0  # pixels
    assert happiness[left, 1] == pytest.approx(happiness[right, 1], abs=1e-4)
    assert happiness[left, 0] + happiness[right, 0] == pytest.approx(size - 1, abs=1e-4)
    # The mouth region itself is lopsided for contempt only.
    mouth = slice(int(happiness[left, 1]) - 8, int(happiness[left, 1]) + 8)

    def asymmetry(img: np.ndarray) -> float:
        return float(np.abs(img[mouth].astype(int) - img[mouth, ::-1]).mean())

    assert asymmetry(images[0]) > 3 * asymmetry(images[1])


def test_blend_is_weighted_sum_of_prototypes() -> None:
    weights = np.array([[0.2, 0.5, 0.0, 0.0, 0.3, 0.0, 0.0, 0.0]], dtype=np.float32)
    expected = 0.5 * prototype_matrix()[1] + 0.3 * prototype_matrix()[4]
    np.testing.assert_allclose(weights @ prototype_matrix(), expected[None], atol=1e-6)
    assert prototype_matrix().shape == (K, len(EXPRESSION_FEATURES))


# --- rendering internals -------------------------------------------------------------


@pytest.mark.parametrize("size", [32, 64])
def test_windowed_rendering_matches_whole_image_rendering(size: int) -> None:
    """Each part is drawn only in a window around it; nothing may be cut off."""
    n = 64
    weights = extreme_weights(n)
    geom = syn._face_geometry(weights @ prototype_matrix(), extreme_identities())
    pose = extreme_poses(n)
    scene = plain_scene(n)
    seed = np.random.SeedSequence(0)
    windowed = syn._render_chunk(geom, pose, scene, size, seed, windowed=True)
    whole = syn._render_chunk(geom, pose, scene, size, seed, windowed=False)
    np.testing.assert_array_equal(windowed, whole)


def test_render_faces_chunking_and_threads_do_not_change_images() -> None:
    weights = extreme_weights(40)
    scene = plain_scene(40)
    a, la = render_faces(weights, image_size=32, scene=scene, chunk_pixels=1 << 20, workers=1)
    b, lb = render_faces(weights, image_size=32, scene=scene, chunk_pixels=5000, workers=2)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)


def test_render_faces_accepts_one_row_and_checks_shapes() -> None:
    images, landmarks = render_faces(one_hot("fear")[0], image_size=40)
    assert images.shape == (1, 40, 40) and landmarks.shape == (1, 5, 2)
    with pytest.raises(ValueError, match="expression_weights"):
        render_faces(np.ones((2, 3)))
    with pytest.raises(ValueError, match="expression_weights"):
        render_faces(-np.ones((1, K)))
    with pytest.raises(ValueError, match="identity"):
        render_faces(np.ones((2, K)), identity=np.ones((3, len(IDENTITY_FEATURES))))
    with pytest.raises(ValueError, match="pose"):
        render_faces(np.ones((2, K)), pose=neutral_pose(3))


def test_secondary_emotions_prefer_wheel_neighbours() -> None:
    classes = CANONICAL_CLASSES
    rng = np.random.default_rng(0)
    happiness = classes.index("happiness")
    dist = syn._sample_distributions(np.full(5000, happiness), classes, 1.0, rng)
    present = (dist > 0).mean(axis=0)
    # Anger is 2 petals from joy, sadness 4, neutral 3 from everything.
    assert present[classes.index("anger")] > present[classes.index("neutral")]
    assert present[classes.index("neutral")] > present[classes.index("sadness")]
    assert np.all((dist > 0).sum(axis=1) == 3)


def test_dominant_emotion_stays_largest_up_to_high_difficulty() -> None:
    rng = np.random.default_rng(1)
    dominant = rng.integers(0, K, size=2000)
    dist = syn._sample_distributions(dominant, CANONICAL_CLASSES, 0.7, rng)
    np.testing.assert_array_equal(dist.argmax(axis=1), dominant)
    hard = syn._sample_distributions(dominant, CANONICAL_CLASSES, 1.0, rng)
    assert np.mean(hard.argmax(axis=1) == dominant) > 0.9


# --- secondary emotions: on the wheel (default) or at random -------------------------------

# SHA-256 of generate_faces(n=60, image_size=32, seed=0), every other option at its
# default, computed with the generator as it was before the ``secondary`` option existed.
# The default output must never change: results and checkpoints made from it rely on it.
# The label side is pure random-number bookkeeping and must match everywhere; the pixel
# side also goes through float32 sin/cos of the pose angle, so if only it fails on a new
# platform, suspect that platform's float32 maths before the generator.
DEFAULT_LABELS_SHA256 = "3930dacdb6fee0b7359b22f1d2c6f2e604d02678951ee3475a48d36f2ae197fd"
DEFAULT_PIXELS_SHA256 = "6d78d4ca0e4ff001ca55d52adb8567e2cc6883f5f9a040156a211ed5cfc606b2"
LABEL_FIELDS = ("labels", "distributions", "votes", "multilabels", "subjects")
PIXEL_FIELDS = ("images", "landmarks")


def digest(faces: syn.SyntheticFaces, names: tuple[str, ...]) -> str:
    """SHA-256 of the named arrays: their dtype, shape and bytes, in order."""
    h = hashlib.sha256()
    for name in names:
        array = np.ascontiguousarray(getattr(faces, name))
        h.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        h.update(array.tobytes())
    return h.hexdigest()


def secondary_distances(faces: syn.SyntheticFaces) -> np.ndarray:
    """Plutchik distance from the dominant emotion to each secondary one, per occurrence."""
    present = faces.distributions > 0
    present[np.arange(len(faces)), faces.labels] = False
    rows, cols = np.nonzero(present)
    d = syn.distance_matrix(faces.classes, "plutchik").numpy()  # the generator's own wheel
    return d[faces.labels[rows], cols]


def test_default_output_is_unchanged_by_the_secondary_option() -> None:
    faces = generate_faces(n=60, image_size=32, seed=0)
    assert digest(faces, LABEL_FIELDS) == DEFAULT_LABELS_SHA256
    assert digest(faces, PIXEL_FIELDS) == DEFAULT_PIXELS_SHA256
    explicit = generate_faces(n=60, image_size=32, seed=0, secondary="wheel")
    for name in (*LABEL_FIELDS, *PIXEL_FIELDS):
        np.testing.assert_array_equal(getattr(explicit, name), getattr(faces, name), name)
    assert faces.params["secondary"] == "wheel"


def test_secondary_modes() -> None:
    assert SECONDARY_MODES == ("wheel", "random")


@pytest.mark.parametrize("bad", ["plutchik", "uniform", "Random", "", None, 1])
def test_bad_secondary_raises_value_error_naming_it_and_the_choices(bad: object) -> None:
    message = "^secondary must be one of 'wheel', 'random', got "
    with pytest.raises(ValueError, match=message):
        generate_faces(n=10, image_size=32, secondary=bad)
    with pytest.raises(ValueError, match=message):
        load_synthetic(n=10, image_size=32, secondary=bad)
    with pytest.raises(ValueError, match=message):
        load_dataset("synthetic", n=10, image_size=32, secondary=bad)


def test_random_secondary_moves_the_same_weights_to_other_emotions() -> None:
    kwargs = {"n": 300, "image_size": 32, "difficulty": 0.7, "seed": 4}
    on_wheel = generate_faces(**kwargs)
    at_random = generate_faces(**kwargs, secondary="random")
    assert at_random.params["secondary"] == "random"
    # the distributions change ...
    assert not np.array_equal(at_random.distributions, on_wheel.distributions)
    assert np.mean(np.any(at_random.distributions != on_wheel.distributions, axis=1)) > 0.5
    assert not np.array_equal(at_random.images, on_wheel.images)
    # ... but only in which emotions get the secondary weight: same dominant emotion
    # and weight, same blend weights, same subjects
    np.testing.assert_array_equal(at_random.labels, on_wheel.labels)
    # (equal up to the float32 renormalisation, which sums the columns in another order)
    np.testing.assert_allclose(
        np.sort(at_random.distributions, axis=1),
        np.sort(on_wheel.distributions, axis=1),
        rtol=1e-6,
        atol=1e-7,
    )
    np.testing.assert_array_equal(at_random.subjects, on_wheel.subjects)
    np.testing.assert_allclose(at_random.distributions.sum(axis=1), 1.0, atol=1e-5)


def test_random_secondary_repeats_with_its_seed() -> None:
    a = generate_faces(n=50, image_size=32, seed=9, secondary="random")
    b = generate_faces(n=50, image_size=32, seed=9, secondary="random")
    for name in (*LABEL_FIELDS, *PIXEL_FIELDS):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), name)
    assert a.params == b.params
    c = generate_faces(n=50, image_size=32, seed=10, secondary="random")
    assert not np.array_equal(a.distributions, c.distributions)


def test_random_secondary_ignores_the_wheel() -> None:
    # Plutchik distances from happiness: anger, fear and contempt 2-2.5, neutral,
    # surprise and disgust 3, sadness 4. The wheel mean is about 1.7 over all emotions
    # and the uniform one about 2.35; the standard error here is about 0.03.
    on_wheel = generate_faces(n=400, image_size=32, seed=1)
    at_random = generate_faces(n=400, image_size=32, seed=1, secondary="random")
    assert secondary_distances(at_random).mean() > secondary_distances(on_wheel).mean() + 0.3
    # and every other emotion is about equally likely to be a secondary one
    classes = CANONICAL_CLASSES
    happiness = classes.index("happiness")
    rng = np.random.default_rng(0)
    n = 7000
    dist = syn._sample_distributions(np.full(n, happiness), classes, 1.0, rng, "random")
    present = np.delete((dist > 0).mean(axis=0), happiness)
    expected = 2 / (K - 1)  # two secondaries among the seven other emotions
    assert np.all(np.abs(present - expected) < 4 * np.sqrt(expected * (1 - expected) / n))


def test_secondary_reaches_the_dataset_through_load_dataset() -> None:
    ds = load_dataset("synthetic", n=40, image_size=32, seed=2, secondary="random")
    assert ds.info["secondary"] == "random"
    raw = generate_faces(n=40, image_size=32, seed=2, secondary="random")
    np.testing.assert_array_equal(ds.distributions.numpy(), raw.distributions)
    np.testing.assert_array_equal(ds.images[:, 0].numpy(), raw.images)
    assert load_synthetic(n=40, image_size=32, seed=2).info["secondary"] == "wheel"


# --- load_synthetic ----------------------------------------------------------------------


def test_load_synthetic_returns_a_valid_dataset() -> None:
    ds = load_synthetic(n=90, image_size=40, n_subjects=9, seed=3)
    assert isinstance(ds, FERDataset)
    assert ds.name == "synthetic" and len(ds) == 90
    assert ds.images.shape == (90, 1, 40, 40) and ds.images.dtype == torch.uint8
    assert ds.labels.dtype == torch.long
    assert ds.distributions.dtype == torch.float32
    assert ds.multilabels.dtype == torch.float32
    assert set(ds.multilabels.unique().tolist()) <= {0.0, 1.0}
    assert ds.landmarks.shape == (90, 5, 2) and ds.landmarks.dtype == torch.float32
    assert ds.votes.dtype == torch.float32 and ds.vote_names == ds.classes
    assert ds.subjects[0].startswith("S") and len(set(ds.subjects)) == 9
    assert ds.filenames[12] == "synthetic_000012"
    assert ds.dropped == {} and ds.info["seed"] == 3
    raw = generate_faces(n=90, image_size=40, n_subjects=9, seed=3)
    np.testing.assert_array_equal(ds.images[:, 0].numpy(), raw.images)
    np.testing.assert_array_equal(ds.labels.numpy(), raw.labels)


def test_load_synthetic_split_is_grouped_by_subject() -> None:
    ds = load_synthetic(n=200, image_size=32, n_subjects=20, seed=4)
    assert set(ds.split) == {"train", "val", "test"}
    for subject in np.unique(ds.subjects):
        assert len(set(ds.split[ds.subjects == subject])) == 1, subject


# --- bad input -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"n": 0}, "^n must"),
        ({"n": 2.5}, "^n must"),
        ({"image_size": 31}, "image_size must"),
        ({"classes": ("happiness", "joy")}, "^classes: unknown class name 'joy'"),
        ({"classes": ("happiness", "happiness")}, "^classes: "),
        ({"imbalance": "balanced"}, "unknown imbalance 'balanced'"),
        ({"imbalance": [1.0, 2.0]}, "imbalance must give one weight per class"),
        ({"imbalance": [1.0, -1.0, 0, 0, 0, 0, 0, 0]}, "imbalance weights"),
        ({"classes": ("contempt",), "imbalance": "jaffe"}, "imbalance weights"),
        ({"difficulty": 1.5}, "difficulty must"),
        ({"difficulty": -0.1}, "difficulty must"),
        ({"n_subjects": 0}, "n_subjects must"),
        ({"n_votes": 0}, "n_votes must"),
        ({"multilabel_threshold": 0.0}, "multilabel_threshold must"),
        ({"multilabel_threshold": 1.2}, "multilabel_threshold must"),
        ({"secondary": "plutchik"}, "^secondary must be one of 'wheel', 'random'"),
    ],
)
def test_bad_input_raises_value_error_naming_the_parameter(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate_faces(**kwargs)
    with pytest.raises(ValueError, match=message):
        load_synthetic(**kwargs)
