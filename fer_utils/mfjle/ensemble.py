"""MF-JLE with ensemble weights fitted on the validation split: our extension, not paper B's.

Used by the experiment cell ``notebooks/experiments/mfjle_run`` (paper B rows of notebook
07). Paper B scores a face with
``s = global + sum_i lambda_i * local_i`` (logits) and fixes ``lambda_i = 0.01``, so the
five local modules barely move the score. :func:`fit_ensemble_weights` instead chooses the
five weights that minimise the binary cross-entropy of ``s`` on held-out logits, with the
six trained modules frozen (it only sees their logits); :func:`ensemble_scores` combines
module logits with any weights. The weights must be fitted on the *validation* split and
never on the test split, whose numbers would otherwise no longer be a test
(``docs/replication.md`` D27). The module logits of a trained model come from
:func:`fer_utils.training.evaluate.predict_module_logits`.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from fer_utils.mfjle.model import NUM_LOCAL


def _check_logits(
    global_logits: torch.Tensor, local_logits: torch.Tensor
) -> tuple[int, int]:
    """``(N, L)`` of a valid ``global_logits`` ``N x L`` and ``local_logits`` ``N x 5 x L``."""
    if not isinstance(global_logits, torch.Tensor) or global_logits.ndim != 2:
        shape = getattr(global_logits, "shape", type(global_logits).__name__)
        raise ValueError(f"global_logits must be an N x L tensor, got {shape}")
    n, labels = global_logits.shape
    if n == 0 or labels == 0:
        raise ValueError(f"global_logits is empty (shape {tuple(global_logits.shape)})")
    if not isinstance(local_logits, torch.Tensor) or tuple(local_logits.shape) != (
        n, NUM_LOCAL, labels
    ):
        shape = getattr(local_logits, "shape", type(local_logits).__name__)
        raise ValueError(
            f"local_logits must be N x {NUM_LOCAL} x L = {n} x {NUM_LOCAL} x {labels} "
            f"like global_logits, got {shape}"
        )
    return n, labels


def ensemble_scores(
    global_logits: torch.Tensor, local_logits: torch.Tensor, weights: torch.Tensor
) -> torch.Tensor:
    """The ensemble score ``global + sum_i w_i * local_i`` (``N x L`` logits) for any weights.

    Used by the experiment cell ``notebooks/experiments/mfjle_run`` (notebook 07's paper B
    rows). With paper B's weights
    (``model.local_weights``) it equals :meth:`fer_utils.mfjle.model.MFJLE.combine`;
    with the weights of :func:`fit_ensemble_weights` it is our extension. ``weights``
    are the five ``w_i`` (any sequence or tensor of five numbers); the result has the
    dtype of ``local_logits``.
    """
    _check_logits(global_logits, local_logits)
    w = torch.as_tensor(weights, device=local_logits.device)
    if w.shape != (NUM_LOCAL,):
        raise ValueError(f"weights must be {NUM_LOCAL} numbers, got shape {tuple(w.shape)}")
    w = w.to(local_logits.dtype).view(1, -1, 1)
    return global_logits + (w * local_logits).sum(dim=1)  # s = g + sum_i w_i l_i


def fit_ensemble_weights(
    global_logits: torch.Tensor,
    local_logits: torch.Tensor,
    targets: torch.Tensor,
    init: float = 0.01,
    max_iter: int = 200,
) -> torch.Tensor:
    """The five non-negative weights ``w`` that minimise the BCE of the ensemble score.

    Used by the experiment cell ``notebooks/experiments/mfjle_run`` (notebook 07's paper B
    rows); our extension, not in paper B. Minimises
    ``mean_{n,l} BCE(sigmoid(g_nl + sum_i w_i l_inl), y_nl)`` over ``w``,
    with ``w_i = softplus(theta_i)`` (so ``w_i >= 0``) and ``theta`` starting where
    ``softplus(theta_i) = init`` (paper B's 0.01 by default). The global module keeps
    weight 1 and the modules are frozen: only their logits enter, detached. Fit it on
    the **validation** split, never on the test split.

    ``global_logits`` is ``N x L``, ``local_logits`` ``N x 5 x L`` (e.g. from
    :func:`fer_utils.training.evaluate.predict_module_logits`), ``targets`` the ``N x L``
    0/1 labels. The fit is deterministic: float64 on the CPU, full-batch L-BFGS with a
    strong-Wolfe line search (at most ``max_iter`` iterations), no random draws. Should
    it ever end worse than it started, the initial weights are returned. Returns a
    float64 CPU tensor of five weights, for :func:`ensemble_scores`.
    """
    n, labels = _check_logits(global_logits, local_logits)
    if not isinstance(targets, torch.Tensor) or tuple(targets.shape) != (n, labels):
        shape = getattr(targets, "shape", type(targets).__name__)
        raise ValueError(f"targets must be N x L = {n} x {labels} like global_logits, got {shape}")
    if isinstance(init, bool) or not isinstance(init, int | float) or not (
        math.isfinite(init) and init > 0
    ):
        raise ValueError(f"init must be a finite number > 0 (softplus is positive), got {init!r}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be an integer >= 1, got {max_iter!r}")
    # plain float64 CPU copies, so that a call under torch.inference_mode works too
    with torch.inference_mode(False):
        g, loc, y = (t.detach().to("cpu", torch.float64).clone()
                     for t in (global_logits, local_logits, targets))
    for name, t in (("global_logits", g), ("local_logits", loc)):
        if not torch.isfinite(t).all():
            raise ValueError(f"{name} must be finite")
    if not ((y >= 0) & (y <= 1)).all():
        raise ValueError("targets must lie in [0, 1] (0/1 labels)")

    def bce(w: torch.Tensor) -> torch.Tensor:
        return F.binary_cross_entropy_with_logits(ensemble_scores(g, loc, w), y)

    start = torch.full((NUM_LOCAL,), float(init), dtype=torch.float64)
    with torch.inference_mode(False), torch.enable_grad():  # also under no_grad
        theta0 = math.log(math.expm1(init))  # softplus(theta0) = log(1 + e^theta0) = init
        theta = torch.full((NUM_LOCAL,), theta0, dtype=torch.float64, requires_grad=True)
        optimizer = torch.optim.LBFGS(
            [theta], lr=1.0, max_iter=max_iter, history_size=20, tolerance_grad=1e-10,
            tolerance_change=1e-14, line_search_fn="strong_wolfe",
        )

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            loss = bce(F.softplus(theta))  # w_i = softplus(theta_i) >= 0
            loss.backward()
            return loss

        optimizer.step(closure)
        fitted = F.softplus(theta.detach())
        with torch.no_grad():
            if not torch.isfinite(fitted).all() or not bce(fitted) <= bce(start):
                return start
    return fitted
