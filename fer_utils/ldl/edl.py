r"""EDL: emotion distribution learning (Zhou, Xue and Geng, ACM Multimedia 2015).

Used for paper A's Table 3 (issue 11). Y. Zhou, H. Xue and X. Geng, "Emotion distribution
recognition from facial expressions", ACM MM 2015, pp. 1247-1250, has no public code. What
could be established about its learner, and from where:

- Paper A's account, as summarised in ``docs/replication.md`` and issue 11: emotion
  distribution learning with a maximum-entropy model and a Jeffrey's divergence weighted
  by correlations between emotions, the correlations taken from Plutchik's emotion wheel.
- The same group's text version, D. Zhou, X. Zhang, Y. Zhou, Q. Zhao and X. Geng,
  "Emotion distribution learning from texts", EMNLP 2016 (abstract, stored at
  https://1library.net/document/yng8j6jz-emotion-distribution-learning-from-texts.html),
  says the relations between emotions "are captured based on the Plutchik's wheel of
  emotions and are subsequently incorporated into the learning algorithm".
- The ACM MM 2015 body (the exact objective, the correlation formula, the optimiser and
  the hyper-parameters) could not be found in any stored public source.

What :class:`EDL` implements (this repository's reading, every choice named in
:data:`GAPS`):

Model (maximum entropy, as in SA-BFGS, plus a constant feature for the class priors)

.. math:: p(y_j \mid x; \Theta) = \frac{\exp(\theta_j^\top \tilde x)}
          {\sum_k \exp(\theta_k^\top \tilde x)}, \qquad \tilde x = (x, 1).

Emotion correlations from the wheel: with ``d_jk`` the wheel distance of
:func:`fer_utils.mixfeature.wheel.distance_matrix` (Plutchik petals, 8 = once round),
``rho_jk = cos(pi/2 * d_jk / zero_at)`` for ``d_jk < zero_at`` and 0 beyond
(:func:`wheel_correlation`; ``zero_at = 2`` petals = 90 degrees, where Plutchik's wheel
places unrelated emotions). ``C = (1 - s) I + s R D^{-1}`` (:func:`smoothing_matrix`)
mixes each emotion's description degree into its correlated neighbours; its columns sum
to 1, so ``C d`` is again a distribution, and ``s < 1/2`` keeps ``C`` invertible.

Objective (minimised by L-BFGS-B, :meth:`EDL.objective`)

.. math:: T(\Theta) = \frac{1}{n} \sum_{i=1}^{n} \sum_{j=1}^{c}
          (\tilde d_{ij} - \tilde p_{ij}) \ln \frac{\tilde d_{ij}}{\tilde p_{ij}}
          + \frac{\lambda}{2} \lVert W \rVert_F^2,
          \qquad \tilde d_i = C d_i, \quad \tilde p_i = C p(\cdot \mid x_i; \Theta),

the Jeffrey's (symmetrised Kullback-Leibler) divergence between correlation-weighted
target and predicted distributions, plus an L2 penalty on the weights ``W`` (the bias row
excluded). Confusing two correlated emotions therefore costs less than confusing two
unrelated ones. Since ``C`` is invertible, ``T`` without the penalty is zero exactly when
the prediction equals the target.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.optimize import minimize

#: Floor under the distributions inside the logarithms (a zero target degree would make
#: the Jeffrey's divergence infinite).
EPS: float = 1e-12

#: Where :class:`EDL` may differ from Zhou, Xue and Geng (ACM MM 2015), whose body could
#: not be read (see the module docstring for what was established and where).
GAPS: tuple[str, ...] = (
    "How the emotion correlations weight the Jeffrey's divergence is not established: "
    "here both distributions are mixed by the correlation matrix C (d -> C d, p -> C p) "
    "before the divergence; the paper may instead weight the divergence's terms or add a "
    "correlation regulariser on the parameters.",
    "The correlation formula is this repository's: rho = cos(pi/2 * d / zero_at) of the "
    "wheel distance d (zero_at = 2 petals), negative values (opposite emotions) set to 0 "
    "so that C stays non-negative; neutral (distance 3 from everything) is uncorrelated.",
    "The mixing strength s (default 0.3), the L2 weight lambda (default 1e-3), the bias "
    "feature and the L-BFGS-B settings are this repository's choices, not the paper's.",
    "Paper A's EDL numbers were obtained on its own (unstated) image features; the features "
    "used here come from fer_utils.ldl.features.",
)


def wheel_correlation(distances: np.ndarray, zero_at: float = 2.0) -> np.ndarray:
    """Emotion correlations from wheel distances: ``cos(pi/2 * d / zero_at)``, 0 beyond.

    Used for paper A's Table 3 (issue 11), by :class:`EDL`. ``distances`` is a ``K x K``
    wheel distance matrix (:func:`fer_utils.mixfeature.wheel.distance_matrix`, in petal
    units): distance 0 gives 1, distance ``zero_at`` or more gives 0 (on Plutchik's
    wheel, emotions two petals apart sit at 90 degrees: unrelated). See :data:`GAPS`.
    """
    d = np.asarray(distances, dtype=np.float64)
    if d.ndim != 2 or d.shape[0] != d.shape[1]:
        raise ValueError(f"distances must be a square K x K matrix, got shape {d.shape}")
    if not np.isfinite(d).all() or (d < 0).any():
        raise ValueError("distances must be finite and non-negative")
    if isinstance(zero_at, bool) or not isinstance(zero_at, int | float) or not zero_at > 0:
        raise ValueError(f"zero_at must be a positive number, got {zero_at!r}")
    return np.where(d < zero_at, np.cos(0.5 * np.pi * d / zero_at), 0.0)


def correlation_from_wheel(
    classes: Sequence[str], layout: str = "plutchik", zero_at: float = 2.0
) -> np.ndarray:
    """The ``K x K`` :func:`wheel_correlation` of the dataset's classes on a wheel layout.

    Used for paper A's Table 3 (issue 11). ``classes`` and ``layout`` are those of
    :func:`fer_utils.mixfeature.wheel.distance_matrix` (for example
    ``fer_utils.data.JAFFE_CLASSES`` and ``"plutchik"``).
    """
    from fer_utils.mixfeature.wheel import distance_matrix

    distances = distance_matrix(classes, layout).numpy().astype(np.float64)
    return wheel_correlation(distances, zero_at)


def _check_correlation(correlation: np.ndarray) -> np.ndarray:
    """A square, finite, non-negative matrix with a positive diagonal, as float64."""
    r = np.asarray(correlation, dtype=np.float64)
    if r.ndim != 2 or r.shape[0] != r.shape[1] or r.shape[0] < 2:
        raise ValueError(
            f"correlation must be a square K x K matrix with K >= 2, got shape {r.shape}"
        )
    if not np.isfinite(r).all() or (r < 0).any():
        raise ValueError("correlation must be finite and non-negative")
    if not (np.diag(r) > 0).all():
        raise ValueError(f"correlation must have a positive diagonal, got {np.diag(r)}")
    return r


def smoothing_matrix(correlation: np.ndarray, strength: float) -> np.ndarray:
    """``C = (1 - strength) I + strength R D^{-1}`` (``D``: the column sums of ``R``).

    Used for paper A's Table 3 (issue 11), by :class:`EDL`: ``C d`` spreads the fraction
    ``strength`` of each emotion's description degree over its correlated emotions in
    proportion to ``correlation`` (``R``). Every column of ``C`` sums to 1, so ``C`` maps
    distributions to distributions; ``0 <= strength < 0.5`` keeps it invertible (every
    eigenvalue of ``R D^{-1}`` has modulus at most 1).
    """
    r = _check_correlation(correlation)
    if isinstance(strength, bool) or not isinstance(strength, int | float):
        raise ValueError(f"strength must be a number in [0, 0.5), got {strength!r}")
    if not 0.0 <= strength < 0.5:
        raise ValueError(f"strength must be in [0, 0.5) (C stays invertible), got {strength}")
    columns = r / r.sum(axis=0, keepdims=True)
    return (1.0 - strength) * np.eye(r.shape[0]) + strength * columns


def jeffreys_divergence(d: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Per-row Jeffrey's divergence ``sum_j (d_j - p_j) (ln d_j - ln p_j)``: shape ``N``.

    Used for paper A's Table 3 (issue 11), by :class:`EDL`. The symmetrised
    Kullback-Leibler divergence ``KL(d || p) + KL(p || d)``; both arguments are floored
    at :data:`EPS` inside the logarithms.
    """
    d = np.asarray(d, dtype=np.float64)
    p = np.asarray(p, dtype=np.float64)
    if d.shape != p.shape or d.ndim != 2:
        raise ValueError(f"d and p must be N x K matrices of one shape, got {d.shape}, {p.shape}")
    log_ratio = np.log(np.maximum(d, EPS)) - np.log(np.maximum(p, EPS))
    return np.sum((d - p) * log_ratio, axis=1)


def _softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, shifted by the row maximum for stability."""
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _check_xd(x: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Features ``N x F`` and distributions ``N x K`` as float64, checked."""
    x = np.asarray(x, dtype=np.float64)
    d = np.asarray(d, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 1 or not np.isfinite(x).all():
        raise ValueError(f"x must be a finite, non-empty N x F matrix, got shape {x.shape}")
    if d.ndim != 2 or d.shape[0] != x.shape[0] or d.shape[1] < 2:
        raise ValueError(
            f"d must be an N x K matrix (K >= 2) with x's {x.shape[0]} rows, got {d.shape}"
        )
    if not np.isfinite(d).all() or (d < 0).any() or not np.allclose(d.sum(axis=1), 1.0, atol=1e-6):
        raise ValueError("d must hold distributions: non-negative rows that sum to 1")
    return x, d


class EDL:
    """Emotion distribution learning (Zhou, Xue and Geng, ACM MM 2015), as read here.

    Used for paper A's Table 3 (issue 11). A maximum-entropy (softmax-linear) model with
    a bias, fitted by L-BFGS-B on the mean Jeffrey's divergence between the
    correlation-weighted target and predicted distributions plus ``l2 / 2 * ||W||^2``
    (equation in the module docstring; differences from the paper in :data:`GAPS`).

    ``correlation``: a ``K x K`` non-negative emotion correlation matrix (for example
    :func:`correlation_from_wheel`; see :meth:`from_wheel`); ``None`` means no
    correlation (``C = I``: a plain Jeffrey's-divergence maximum-entropy model).
    ``strength``: the mixing strength ``s`` of :func:`smoothing_matrix`. ``seed`` draws
    the small random starting weights, so a fit is deterministic for a given seed.
    """

    def __init__(
        self,
        correlation: np.ndarray | None = None,
        *,
        strength: float = 0.3,
        l2: float = 1e-3,
        max_iterations: int = 500,
        tol: float = 1e-7,
        seed: int = 0,
    ) -> None:
        self.correlation = None if correlation is None else _check_correlation(correlation)
        if self.correlation is not None:
            smoothing_matrix(self.correlation, strength)  # checks strength
        elif isinstance(strength, bool) or not isinstance(strength, int | float):
            raise ValueError(f"strength must be a number in [0, 0.5), got {strength!r}")
        if isinstance(l2, bool) or not isinstance(l2, int | float) or not l2 >= 0:
            raise ValueError(f"l2 must be a non-negative number, got {l2!r}")
        if isinstance(max_iterations, bool) or not isinstance(max_iterations, int) or (
            max_iterations < 1
        ):
            raise ValueError(f"max_iterations must be a positive integer, got {max_iterations!r}")
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
        self.strength = float(strength)
        self.l2 = float(l2)
        self.max_iterations = max_iterations
        self.tol = float(tol)
        self.seed = int(seed)
        self.theta: np.ndarray | None = None

    @classmethod
    def from_wheel(
        cls,
        classes: Sequence[str],
        layout: str = "plutchik",
        *,
        zero_at: float = 2.0,
        **options: float | int,
    ) -> EDL:
        """An :class:`EDL` whose correlations come from the emotion wheel.

        Used for paper A's Table 3 (issue 11): ``correlation_from_wheel(classes, layout,
        zero_at)``; ``options`` are the other constructor arguments.
        """
        return cls(correlation_from_wheel(classes, layout, zero_at), **options)

    def smoother(self, n_classes: int) -> np.ndarray:
        """The ``K x K`` mixing matrix ``C`` (the identity without a correlation).

        Used for paper A's Table 3 (issue 11), inside :meth:`objective`.
        """
        if self.correlation is None:
            return np.eye(n_classes)
        if self.correlation.shape[0] != n_classes:
            raise ValueError(
                f"d has {n_classes} classes but correlation is "
                f"{self.correlation.shape[0]} x {self.correlation.shape[0]}"
            )
        return smoothing_matrix(self.correlation, self.strength)

    def objective(
        self, params: np.ndarray, x: np.ndarray, d: np.ndarray
    ) -> tuple[float, np.ndarray]:
        """The objective ``T`` of the module docstring and its gradient, at ``params``.

        Used for paper A's Table 3 (issue 11), by :meth:`fit` (L-BFGS-B). ``params`` is
        the flattened ``(F + 1) x K`` matrix ``Theta`` (the last row is the bias).
        """
        n, n_features = x.shape
        n_classes = d.shape[1]
        theta = params.reshape(n_features + 1, n_classes)
        x1 = np.hstack([x, np.ones((n, 1))])  # x~ = (x, 1): the constant feature
        p = _softmax(x1 @ theta)  # p(y_j | x_i): the maximum-entropy model
        c = self.smoother(n_classes)
        d_c = d @ c.T  # d~_i = C d_i: correlation-weighted target
        p_c = p @ c.T  # p~_i = C p_i: correlation-weighted prediction
        log_ratio = np.log(np.maximum(d_c, EPS)) - np.log(np.maximum(p_c, EPS))
        jeffreys = np.sum((d_c - p_c) * log_ratio) / n  # mean Jeffrey's divergence
        weights = theta[:-1]  # W: Theta without the bias row
        penalty = 0.5 * self.l2 * np.sum(weights**2)  # lambda / 2 * ||W||^2
        loss = jeffreys + penalty
        # Gradient, back through each line above.
        grad_pc = (-log_ratio - (d_c - p_c) / np.maximum(p_c, EPS)) / n  # dT/dp~
        grad_p = grad_pc @ c  # through p~ = p C^T
        grad_z = p * (grad_p - np.sum(grad_p * p, axis=1, keepdims=True))  # through softmax
        grad = x1.T @ grad_z  # through z = x~ Theta
        grad[:-1] += self.l2 * weights  # the penalty
        return float(loss), grad.ravel()

    def fit(self, x: np.ndarray, d: np.ndarray) -> EDL:
        """Fit ``Theta`` to features ``x`` (``N x F``) and distributions ``d`` (``N x K``).

        Used for paper A's Table 3 (issue 11). L-BFGS-B from small random weights drawn
        with ``seed``, until the projected gradient is below ``tol`` or after
        ``max_iterations`` iterations; returns ``self``.
        """
        x, d = _check_xd(x, d)
        self.smoother(d.shape[1])  # checks the correlation's size
        rng = np.random.default_rng(self.seed)
        start = rng.normal(0.0, 1e-3, size=(x.shape[1] + 1) * d.shape[1])
        result = minimize(
            self.objective,
            start,
            args=(x, d),
            method="L-BFGS-B",
            jac=True,
            # ftol far below SciPy's default, so that the gradient test (gtol) decides
            options={"maxiter": self.max_iterations, "gtol": self.tol, "ftol": 1e-12},
        )
        self.theta = result.x.reshape(x.shape[1] + 1, d.shape[1])
        return self

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Predicted distributions ``p(. | x)``, ``N x K`` (rows sum to 1).

        Used for paper A's Table 3 (issue 11); the prediction is the model's own
        distribution, not the correlation-weighted one.
        """
        if self.theta is None:
            raise RuntimeError("EDL.predict needs a fitted model: call fit(x, d) first")
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.theta.shape[0] - 1:
            raise ValueError(
                f"x must be an N x {self.theta.shape[0] - 1} matrix (the training features' "
                f"width), got shape {x.shape}"
            )
        return _softmax(np.hstack([x, np.ones((x.shape[0], 1))]) @ self.theta)


def edl_fit_predict(
    x_train: np.ndarray,
    d_train: np.ndarray,
    x_test: np.ndarray,
    *,
    seed: int = 0,
    classes: Sequence[str] | None = None,
    layout: str = "plutchik",
    correlation: np.ndarray | None = None,
    zero_at: float = 2.0,
    strength: float = 0.3,
    l2: float = 1e-3,
    max_iterations: int = 500,
) -> np.ndarray:
    """Fit :class:`EDL` on the training fold and predict the test fold: ``N_test x K``.

    Used for paper A's Table 3 (issue 11), as method ``"edl"`` of
    :func:`fer_utils.ldl.fit_predict`. The correlations are ``correlation`` when given,
    else the wheel's for ``classes`` on ``layout`` (:func:`correlation_from_wheel`), else
    none (a plain Jeffrey's-divergence maximum-entropy model).
    """
    if correlation is None and classes is not None:
        correlation = correlation_from_wheel(classes, layout, zero_at)
    model = EDL(
        correlation, strength=strength, l2=l2, max_iterations=max_iterations, seed=seed
    )
    return model.fit(x_train, d_train).predict(x_test)
