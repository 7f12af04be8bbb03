"""Paper A's Table 3 LDL baselines (issue 11): features, the PyLDL wrappers and EDL."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from scipy.optimize import check_grad

from fer_utils.augment import to_model_input
from fer_utils.ldl import (
    EDL,
    GAPS,
    LDL_METHODS,
    PAPER_NAMES,
    STAND_INS,
    cnn_features,
    correlation_from_wheel,
    fit_predict,
    jeffreys_divergence,
    lbp_features,
    method_options,
    smoothing_matrix,
    standardise,
    wheel_correlation,
)
from fer_utils.models import build_model

# Six JAFFE emotions (neutral left out): a realistic wheel for EDL's correlations.
EMOTIONS = ("happiness", "sadness", "surprise", "anger", "disgust", "fear")
# Small options so that the Keras-based methods stay fast on a toy problem.
FAST = {"ldl_ldml_standin": {"epochs": 20}, "glle_sa_bfgs": {"glle_iterations": 10}}


def _linear_problem(
    n_train: int, n_test: int, n_features: int = 4, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Features and distributions ``softmax(x @ W)`` (no noise, no bias)."""
    rng = np.random.default_rng(seed)
    w = rng.normal(size=(n_features, len(EMOTIONS))) * 1.5
    x = rng.normal(size=(n_train + n_test, n_features))
    z = x @ w
    d = np.exp(z - z.max(axis=1, keepdims=True))
    d /= d.sum(axis=1, keepdims=True)
    return x[:n_train], d[:n_train], x[n_train:], d[n_train:]


# --- (a) a linearly generated distribution is recovered ---------------------------------


def test_sa_bfgs_recovers_a_maximum_entropy_distribution() -> None:
    x, d, x_test, d_test = _linear_problem(60, 20)
    pred = fit_predict("sa_bfgs", x, d, x_test, seed=0)
    assert np.abs(pred - d_test).max() < 1e-3


def test_edl_recovers_a_maximum_entropy_distribution() -> None:
    x, d, x_test, d_test = _linear_problem(60, 20)
    pred = EDL.from_wheel(EMOTIONS, l2=0.0).fit(x, d).predict(x_test)
    assert np.abs(pred - d_test).max() < 1e-3
    via_registry = fit_predict("edl", x, d, x_test, seed=0, classes=EMOTIONS, l2=0.0)
    assert np.abs(via_registry - d_test).max() < 1e-3


# --- (b) EDL's pieces against values worked out by hand ---------------------------------


def test_wheel_correlation_by_hand() -> None:
    # Plutchik petals: fear 2, surprise 3, happiness 0. Fear-surprise 1 petal (45
    # degrees): cos(pi/4); happiness is 2 and 3 petals away: 0.
    r = correlation_from_wheel(("fear", "surprise", "happiness"))
    c = math.sqrt(0.5)
    assert np.allclose(r, [[1, c, 0], [c, 1, 0], [0, 0, 1]])
    # contempt sits half a petal from disgust: cos(pi/8)
    assert wheel_correlation(np.array([[0.0, 0.5], [0.5, 0.0]]))[0, 1] == pytest.approx(
        math.cos(math.pi / 8)
    )


def test_smoothing_matrix_by_hand() -> None:
    r = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    # columns of R / colsum: (2/3, 1/3, 0), (1/3, 2/3, 0), (0, 0, 1); C = 0.6 I + 0.4 that
    expected = np.array([[13, 2, 0], [2, 13, 0], [0, 0, 15]]) / 15
    assert np.allclose(smoothing_matrix(r, 0.4), expected)


def test_edl_objective_by_hand() -> None:
    # Two samples, three emotions, Theta = 0: the prediction is uniform, and C (above)
    # keeps it uniform. d1 = (1/2, 0, 1/2) -> C d1 = (13/30, 2/30, 1/2); d2 is its mirror
    # (0, 1/2, 1/2) -> (2/30, 13/30, 1/2), with the same divergence from (1/3, 1/3, 1/3):
    # (13/30 - 1/3) ln(1.3) + (2/30 - 1/3) ln(0.2) + (1/2 - 1/3) ln(1.5).
    by_hand = 0.1 * math.log(1.3) - (8 / 30) * math.log(0.2) + (1 / 6) * math.log(1.5)
    r = np.array([[1.0, 0.5, 0.0], [0.5, 1.0, 0.0], [0.0, 0.0, 1.0]])
    model = EDL(r, strength=0.4, l2=5.0)  # W = 0: the penalty adds nothing
    x = np.array([[1.0, -2.0], [0.5, 3.0]])
    d = np.array([[0.5, 0.0, 0.5], [0.0, 0.5, 0.5]])
    loss, _ = model.objective(np.zeros(3 * 3), x, d)
    assert loss == pytest.approx(by_hand, rel=1e-12)
    assert by_hand == pytest.approx(0.5229974, abs=1e-6)
    # the penalty: l2 / 2 * ||W||^2, the bias row excluded
    theta = np.zeros((3, 3))
    theta[-1] = [7.0, -1.0, 2.0]  # bias only: no penalty
    theta[0, 0] = 2.0
    loss_b, _ = EDL(r, strength=0.4, l2=0.0).objective(theta.ravel(), x, d)
    loss_p, _ = EDL(r, strength=0.4, l2=5.0).objective(theta.ravel(), x, d)
    assert loss_p - loss_b == pytest.approx(0.5 * 5.0 * 4.0)


def test_jeffreys_divergence_is_the_symmetrised_kl() -> None:
    d = np.array([[0.2, 0.3, 0.5]])
    p = np.array([[0.4, 0.4, 0.2]])
    kl = lambda a, b: float(np.sum(a * np.log(a / b)))  # noqa: E731
    assert jeffreys_divergence(d, p)[0] == pytest.approx(kl(d, p) + kl(p, d))
    assert jeffreys_divergence(d, d)[0] == 0.0


def test_edl_gradient_matches_finite_differences() -> None:
    x, d, _, _ = _linear_problem(12, 0, n_features=3, seed=1)
    model = EDL.from_wheel(EMOTIONS, l2=0.1)
    params = np.random.default_rng(2).normal(size=(3 + 1) * len(EMOTIONS)) * 0.5

    def value(p: np.ndarray) -> float:
        return model.objective(p, x, d)[0]

    def grad(p: np.ndarray) -> np.ndarray:
        return model.objective(p, x, d)[1]

    assert check_grad(value, grad, params) < 1e-5 * max(1.0, np.linalg.norm(grad(params)))


def test_edl_names_its_gaps() -> None:
    assert len(GAPS) >= 3 and all(isinstance(g, str) and g for g in GAPS)
    assert EDL.__doc__ and "GAPS" in EDL.__doc__


# --- (c) every method: seeded, deterministic, returns distributions ---------------------


@pytest.mark.parametrize("method", LDL_METHODS)
def test_same_seed_same_distributions(method: str) -> None:
    x, d, x_test, _ = _linear_problem(30, 7)
    options = FAST.get(method, {})
    numpy_state = np.random.get_state()[1].copy()  # noqa: NPY002
    torch_state = torch.random.get_rng_state().clone()
    first = fit_predict(method, x, d, x_test, seed=3, **options)
    second = fit_predict(method, x, d, x_test, seed=3, **options)
    assert first.shape == (7, len(EMOTIONS)) and first.dtype == np.float64
    assert np.array_equal(first, second)
    assert (first >= 0).all() and np.allclose(first.sum(axis=1), 1.0, atol=1e-12)
    # the caller's global generators are left as they were
    assert np.array_equal(np.random.get_state()[1], numpy_state)  # noqa: NPY002
    assert torch.equal(torch.random.get_rng_state(), torch_state)


def test_glle_guard_falls_back_to_the_best_finite_parameters() -> None:
    # PyLDL's GLLE can end its L-BFGS on NaN parameters; the guard puts back the best
    # finite ones. Poison the end of a short fit and check what comes back.
    from fer_utils.ldl.pyldl_methods import _finite_glle, _seeded

    x, d, _, _ = _linear_problem(20, 0)
    labels = np.eye(len(EMOTIONS))[d.argmax(axis=1)]
    with _seeded(0, keras_too=True):
        enhancer = _finite_glle(alpha=1e-2, beta=1e-4, sigma=1.0)
        optimise = enhancer._optimize_bfgs

        def optimise_then_poison(max_iterations: int) -> None:
            optimise(max_iterations)
            for variable in enhancer._model.trainable_variables:
                variable.assign(variable * float("nan"))

        enhancer._optimize_bfgs = optimise_then_poison
        enhanced = enhancer.fit(x, labels, max_iterations=5).transform()
    weights = enhancer._model.trainable_variables[0].value.detach().numpy().ravel()  # torch
    assert np.isfinite(enhancer.best_loss) and np.allclose(weights, enhancer.best_params)
    assert np.isfinite(enhanced).all() and np.allclose(enhanced.sum(axis=1), 1.0, atol=1e-5)


def test_method_registry() -> None:
    assert set(PAPER_NAMES) == set(LDL_METHODS)
    assert set(STAND_INS) <= set(LDL_METHODS)
    assert "LDLM" in STAND_INS["ldl_ldml_standin"]
    assert "k" in method_options("aa_knn") and "classes" in method_options("edl")
    assert "seed" not in method_options("sa_bfgs")


# --- (d) LBP features ---------------------------------------------------------------------


def test_lbp_feature_shape_and_cell_histograms() -> None:
    images = np.random.default_rng(0).integers(0, 256, size=(3, 20, 18), dtype=np.uint8)
    feats = lbp_features(images, grid=(3, 2), points=8, radius=1, method="uniform")
    assert feats.shape == (3, 3 * 2 * (8 + 2))
    cells = feats.reshape(3, 6, 10)
    assert np.allclose(cells.sum(axis=2), 1.0)
    default = lbp_features(images, grid=(3, 2))  # LBP^u2_(8,2): 59 codes per cell
    assert default.shape == (3, 3 * 2 * 59)
    assert np.allclose(default.reshape(3, 6, 59).sum(axis=2), 1.0)
    # N x 1 x H x W and a torch tensor give the same features
    same = lbp_features(torch.from_numpy(images[:, None]), grid=(3, 2))
    assert np.array_equal(same, default)


def test_lbp_of_a_constant_image_is_one_bin() -> None:
    # every neighbour equals the centre: uniform code P everywhere, borders included
    image = np.full((1, 16, 16), 137, dtype=np.uint8)
    feats = lbp_features(image, grid=(2, 2), points=8, radius=1, method="uniform")
    expected = np.zeros(10)
    expected[8] = 1.0
    assert np.array_equal(feats.reshape(4, 10), np.tile(expected, (4, 1)))
    default = lbp_features(image, grid=(2, 2)).reshape(4, 59)
    assert (np.count_nonzero(default, axis=1) == 1).all() and np.allclose(default.sum(1), 1)


def test_oriented_lbp_tells_an_edge_from_its_rotation_and_the_invariant_one_does_not() -> None:
    # a dark-to-bright step, left to right, and the same step turned by 90 degrees
    step = np.zeros((1, 16, 16), dtype=np.uint8)
    step[:, :, 8:] = 200
    turned = np.ascontiguousarray(np.rot90(step, axes=(1, 2)))
    for method, differ in (("nri_uniform", True), ("uniform", False)):
        a, b = (lbp_features(x, grid=(1, 1), method=method) for x in (step, turned))
        assert (not np.allclose(a, b)) == differ, method


# --- (e) standardisation uses training statistics only -------------------------------------


def test_standardise_uses_training_statistics() -> None:
    train = np.array([[1.0, 5.0, 2.0], [3.0, 5.0, 4.0], [5.0, 5.0, 9.0]])
    test = np.array([[3.0, 6.0, 100.0], [1.0, 4.0, -3.0]])
    train_z, test_z = standardise(train, test)
    assert np.allclose(train_z.mean(axis=0), 0.0) and np.allclose(train_z[:, [0, 2]].std(0), 1)
    mean, std = train.mean(axis=0), np.array([train[:, 0].std(), 1.0, train[:, 2].std()])
    assert np.allclose(test_z, (test - mean) / std)  # column 1 is constant: std taken as 1
    # moving the test features moves nothing else: the statistics are the training set's
    _, shifted = standardise(train, test + 10.0)
    assert np.allclose(shifted - test_z, 10.0 / std)


# --- (f) CNN features ------------------------------------------------------------------------


def test_cnn_features_shape_and_no_side_effects() -> None:
    torch.manual_seed(0)
    model = build_model("cnn3", 3, widths=[4, 4, 4])
    model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    images = torch.randint(0, 256, (5, 1, 32, 32), dtype=torch.uint8)
    feats = cnn_features(model, images, batch_size=2)
    assert feats.shape == (5, 4) and feats.dtype == np.float64
    assert model.training and all(m.training for m in model.modules())
    after = model.state_dict()
    assert all(torch.equal(before[k], after[k]) for k in before)  # BN statistics too
    model.eval()
    with torch.no_grad():
        expected = model.features(to_model_input(images)).numpy()
    assert np.allclose(feats, expected, atol=1e-6)
    resized = cnn_features(model, images, size=40)
    assert resized.shape == (5, 4)


# --- (g) bad inputs name the parameter ---------------------------------------------------------


def test_bad_inputs_name_the_parameter() -> None:
    x, d, x_test, _ = _linear_problem(10, 3)
    image = np.zeros((1, 8, 8), dtype=np.uint8)
    cases = [
        (lambda: lbp_features(image.astype(np.float32)), "images"),
        (lambda: lbp_features(np.zeros((1, 3, 8, 8), dtype=np.uint8)), "images"),
        (lambda: lbp_features(image, grid=(0, 2)), "grid"),
        (lambda: lbp_features(image, grid=(9, 2)), "grid"),
        (lambda: lbp_features(image, points=0), "points"),
        (lambda: lbp_features(image, radius=-1), "radius"),
        (lambda: lbp_features(image, method="ror"), "method"),
        (lambda: standardise(x, x_test[:, :2]), "test"),
        (lambda: fit_predict("nope", x, d, x_test, seed=0), "method"),
        (lambda: fit_predict("sa_bfgs", x, d * 2, x_test, seed=0), "d_train"),
        (lambda: fit_predict("sa_bfgs", x, d, x_test[:, :2], seed=0), "x_test"),
        (lambda: fit_predict("sa_bfgs", x[:, 0], d, x_test, seed=0), "x_train"),
        (lambda: fit_predict("sa_bfgs", x, d, x_test, seed=-1), "seed"),
        (lambda: fit_predict("aa_knn", x, d, x_test, seed=0, k=11), "k"),
        (lambda: fit_predict("aa_knn", x, d, x_test, seed=0, kk=3), "kk"),
        (lambda: EDL(np.eye(3), strength=0.7), "strength"),
        (lambda: EDL(-np.eye(3)), "correlation"),
        (lambda: EDL(l2=-1.0), "l2"),
        (lambda: EDL(np.eye(3)).fit(x, d), "correlation"),
        (lambda: cnn_features(build_model("cnn3", 3, widths=[4, 4, 4]), image), "images"),
    ]
    for call, name in cases:
        with pytest.raises(ValueError, match=name):
            call()
    with pytest.raises(TypeError, match="model"):
        cnn_features(torch.nn.Linear(2, 2), torch.zeros((1, 1, 32, 32), dtype=torch.uint8))
