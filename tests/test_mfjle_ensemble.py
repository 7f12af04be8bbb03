"""MF-JLE with ensemble weights fitted on validation logits (our extension of paper B)."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from fer_utils.mfjle.ensemble import ensemble_scores, fit_ensemble_weights

pytestmark = pytest.mark.usefixtures("one_thread")


def problem(
    weights: list[float], n: int = 3000, labels: int = 4, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Logits and 0/1 targets drawn from ``sigmoid(g + sum_i w_i l_i)`` with known ``w``."""
    gen = torch.Generator().manual_seed(seed)
    g = torch.randn(n, labels, generator=gen)
    loc = 2.0 * torch.randn(n, 5, labels, generator=gen)
    p = torch.sigmoid(ensemble_scores(g, loc, torch.tensor(weights)))
    return g, loc, torch.bernoulli(p, generator=gen)


def bce(g: torch.Tensor, loc: torch.Tensor, y: torch.Tensor, w: torch.Tensor) -> float:
    return float(F.binary_cross_entropy_with_logits(ensemble_scores(g, loc, w).double(),
                                                    y.double()))


def test_ensemble_scores_is_global_plus_weighted_locals() -> None:
    gen = torch.Generator().manual_seed(1)
    g, loc = torch.randn(3, 2, generator=gen), torch.randn(3, 5, 2, generator=gen)
    w = [0.1, 0.2, 0.3, 0.4, 0.5]
    expected = g + sum(w[i] * loc[:, i] for i in range(5))
    torch.testing.assert_close(ensemble_scores(g, loc, w), expected)
    torch.testing.assert_close(ensemble_scores(g, loc, torch.zeros(5)), g)


def test_fit_recovers_known_weights() -> None:
    true = [0.6, 0.2, 1.0, 0.3, 0.8]
    g, loc, y = problem(true)
    w = fit_ensemble_weights(g, loc, y)
    assert w.shape == (5,) and w.dtype == torch.float64
    torch.testing.assert_close(w, torch.tensor(true, dtype=torch.float64), atol=0.1, rtol=0)


def test_weights_stay_non_negative_where_the_best_one_is_negative() -> None:
    true = [0.6, -1.0, 1.0, 0.3, 0.8]  # the best unconstrained w_2 is negative
    g, loc, y = problem(true, seed=2)
    w = fit_ensemble_weights(g, loc, y)
    assert (w >= 0).all()
    assert w[1] < 0.02  # pushed to the boundary
    assert (w[[0, 2, 3, 4]] > 0.1).all()


def test_same_input_gives_the_same_weights() -> None:
    g, loc, y = problem([0.3, 0.3, 0.3, 0.3, 0.3], n=500, seed=3)
    assert torch.equal(fit_ensemble_weights(g, loc, y), fit_ensemble_weights(g, loc, y))


@pytest.mark.parametrize("seed", [4, 5])
def test_fitted_weights_do_not_raise_the_loss_over_the_initial_ones(seed: int) -> None:
    g, loc, y = problem([0.05, 0.0, 0.2, 0.0, 0.1], n=400, seed=seed)
    noise = torch.Generator().manual_seed(seed)
    y_random = torch.bernoulli(torch.full(y.shape, 0.4), generator=noise)  # no relation
    for targets in (y, y_random):
        w = fit_ensemble_weights(g, loc, targets, init=0.01)
        assert bce(g, loc, targets, w) <= bce(g, loc, targets, torch.full((5,), 0.01)) + 1e-12


def test_fit_works_without_gradients_and_leaves_inputs_alone() -> None:
    g, loc, y = problem([0.5, 0.5, 0.5, 0.5, 0.5], n=300, seed=6)
    before = g.clone()
    free = fit_ensemble_weights(g, loc, y)
    with torch.inference_mode():
        assert torch.equal(fit_ensemble_weights(g, loc, y), free)
    with torch.no_grad():
        assert torch.equal(fit_ensemble_weights(g, loc, y), free)
    assert torch.equal(g, before)


@pytest.mark.parametrize(
    ("args", "name"),
    [
        ((torch.zeros(4), torch.zeros(4, 5, 1), torch.zeros(4, 1)), "global_logits"),
        ((torch.zeros(0, 3), torch.zeros(0, 5, 3), torch.zeros(0, 3)), "global_logits"),
        ((torch.zeros(4, 3), torch.zeros(4, 4, 3), torch.zeros(4, 3)), "local_logits"),
        ((torch.zeros(4, 3), torch.zeros(4, 5, 2), torch.zeros(4, 3)), "local_logits"),
        ((torch.zeros(4, 3), torch.zeros(4, 5, 3), torch.zeros(3, 3)), "targets"),
        ((torch.zeros(4, 3), torch.zeros(4, 5, 3), torch.full((4, 3), 2.0)), "targets"),
        ((torch.full((4, 3), float("nan")), torch.zeros(4, 5, 3), torch.zeros(4, 3)),
         "global_logits"),
    ],
)
def test_fit_refuses_bad_inputs_naming_the_argument(args: tuple, name: str) -> None:
    with pytest.raises(ValueError, match=name):
        fit_ensemble_weights(*args)


def test_fit_refuses_bad_options_and_scores_bad_weights() -> None:
    g, loc, y = torch.zeros(4, 3), torch.zeros(4, 5, 3), torch.zeros(4, 3)
    for init in (0.0, -0.1, float("inf")):
        with pytest.raises(ValueError, match="init"):
            fit_ensemble_weights(g, loc, y, init=init)
    with pytest.raises(ValueError, match="max_iter"):
        fit_ensemble_weights(g, loc, y, max_iter=0)
    with pytest.raises(ValueError, match="weights"):
        ensemble_scores(g, loc, torch.ones(4))
    with pytest.raises(ValueError, match="local_logits"):
        ensemble_scores(g, loc[:, :4], torch.ones(5))
