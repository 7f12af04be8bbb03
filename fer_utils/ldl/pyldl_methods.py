"""Paper A's Table 3 LDL baselines behind one interface, most of them from PyLDL.

Used for paper A's Table 3 (issue 11). :func:`fit_predict` fits one method of
:data:`LDL_METHODS` on a training fold (features ``x_train``, distributions ``d_train``)
and returns the predicted distributions of the test fold. Four methods are thin wrappers
around PyLDL (``python-ldl`` 0.1.2, https://github.com/SpriteMisaka/PyLDL); ``"edl"`` is
this repository's :class:`~fer_utils.ldl.edl.EDL`.

Seeding: PyLDL draws SA-BFGS's starting weights from NumPy's global generator, GLLE's
k-means from it too, and the Keras-based methods (GLLE, LDLM) from Keras's generators.
Each wrapper seeds Python's, NumPy's and (for the Keras methods, through
``keras.utils.set_random_seed``) torch's global generators with ``seed`` and restores
the previous states of all three afterwards, so the same seed gives the same numbers and
the caller's random streams are left as they were. Python warnings raised inside the
fits are silenced (PyLDL and Keras print nothing else at ``verbose=0``).
"""

from __future__ import annotations

import contextlib
import inspect
import random
import warnings
from collections.abc import Callable, Iterator

import numpy as np
import torch

from fer_utils.ldl.edl import edl_fit_predict

#: The methods of :func:`fit_predict`, in paper A's Table 3 column order.
LDL_METHODS: tuple[str, ...] = ("aa_knn", "sa_bfgs", "edl", "glle_sa_bfgs", "ldl_ldml_standin")

#: Paper A's column heading for each method of :data:`LDL_METHODS`.
PAPER_NAMES: dict[str, str] = {
    "aa_knn": "AA-kNN",
    "sa_bfgs": "SA-BFGS",
    "edl": "EDL",
    "glle_sa_bfgs": "GLLE",
    "ldl_ldml_standin": "LDL-LDML",
}

#: Methods that stand in for one of paper A's, which has no public code: what runs
#: instead and why.
STAND_INS: dict[str, str] = {
    "ldl_ldml_standin": (
        "LDL-LDML (paper A's ref. [43]) has no public code. PyLDL 0.1.2 has three LDL "
        "methods built for classification: LDL4C (Wang and Geng, IJCAI 2019), LDL-HR "
        "(Wang and Geng, IJCAI 2021) and LDLM (Wang and Geng, 'Label distribution "
        "learning machine', ICML 2021). LDLM stands in: like LDL-LDML as paper A "
        "describes it, it is an LDL method designed for classification, built on a label "
        "distribution margin. PyLDL's LDLM is itself a simplification of the paper's (a "
        "softmax-linear model trained by gradient descent on margin losses, not the "
        "paper's support vector regression machine), so numbers will differ from paper "
        "A's LDL-LDML column."
    ),
}


@contextlib.contextmanager
def _seeded(seed: int, keras_too: bool) -> Iterator[None]:
    """Seed Python's and NumPy's global generators (and Keras's, with torch's, when
    ``keras_too``), silence warnings, and restore the previous generator states."""
    # PyLDL draws from NumPy's legacy global generator, so that is the one to seed.
    python_state = random.getstate()
    numpy_state = np.random.get_state()  # noqa: NPY002
    torch_state = torch.random.get_rng_state()
    cuda_states = torch.cuda.get_rng_state_all() if torch.cuda.is_initialized() else None
    try:
        random.seed(seed)
        np.random.seed(seed)  # noqa: NPY002
        if keras_too:
            import keras

            keras.utils.set_random_seed(seed)  # Python, NumPy, torch and Keras's own
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)  # noqa: NPY002
        torch.random.set_rng_state(torch_state)
        if cuda_states is not None:
            torch.cuda.set_rng_state_all(cuda_states)


def _check_seed(seed: int) -> int:
    """``seed`` as an int in NumPy's seed range; ``ValueError`` naming ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not (
        0 <= seed < 2**32
    ):
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    return int(seed)


def _check_inputs(
    x_train: np.ndarray, d_train: np.ndarray, x_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The three arrays as float64, checked; ``ValueError`` naming the bad one."""
    x_train = np.asarray(x_train, dtype=np.float64)
    d_train = np.asarray(d_train, dtype=np.float64)
    x_test = np.asarray(x_test, dtype=np.float64)
    if x_train.ndim != 2 or x_train.shape[0] < 1 or not np.isfinite(x_train).all():
        raise ValueError(
            f"x_train must be a finite, non-empty N x F matrix, got shape {x_train.shape}"
        )
    if d_train.ndim != 2 or d_train.shape[0] != x_train.shape[0] or d_train.shape[1] < 2:
        raise ValueError(
            f"d_train must be an N x C matrix (C >= 2) with x_train's {x_train.shape[0]} "
            f"rows, got shape {d_train.shape}"
        )
    if (
        not np.isfinite(d_train).all()
        or (d_train < 0).any()
        or not np.allclose(d_train.sum(axis=1), 1.0, atol=1e-6)
    ):
        raise ValueError("d_train must hold distributions: non-negative rows that sum to 1")
    if x_test.ndim != 2 or x_test.shape[1] != x_train.shape[1] or not np.isfinite(x_test).all():
        raise ValueError(
            f"x_test must be a finite M x {x_train.shape[1]} matrix (x_train's width), "
            f"got shape {x_test.shape}"
        )
    return x_train, d_train, x_test


def _as_distributions(p: np.ndarray) -> np.ndarray:
    """Float64 rows clipped at 0 and renormalised to sum to 1 (float32 outputs drift)."""
    p = np.clip(np.asarray(p, dtype=np.float64), 0.0, None)
    sums = p.sum(axis=1, keepdims=True)
    if not (np.isfinite(p).all() and (sums > 0).all()):
        raise RuntimeError("the method returned non-finite or all-zero distributions")
    return p / sums


def aa_knn(
    x_train: np.ndarray,
    d_train: np.ndarray,
    x_test: np.ndarray,
    *,
    seed: int = 0,
    k: int = 5,
) -> np.ndarray:
    """AA-kNN (Geng, TKDE 2016): the mean distribution of the ``k`` nearest training faces.

    Used for paper A's Table 3 (issue 11). PyLDL's ``AA_KNN`` (Euclidean neighbours,
    scikit-learn); deterministic, ``seed`` only keeps the interface uniform.
    """
    from pyldl.algorithms import AA_KNN

    x_train, d_train, x_test = _check_inputs(x_train, d_train, x_test)
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= x_train.shape[0]:
        raise ValueError(
            f"k must be an integer from 1 to len(x_train)={x_train.shape[0]}, got {k!r}"
        )
    with _seeded(_check_seed(seed), keras_too=False):
        model = AA_KNN(k=k).fit(x_train, d_train)
        return _as_distributions(model.predict(x_test))


def sa_bfgs(
    x_train: np.ndarray,
    d_train: np.ndarray,
    x_test: np.ndarray,
    *,
    seed: int = 0,
    max_iterations: int = 500,
    convergence_criterion: float = 1e-7,
) -> np.ndarray:
    """SA-BFGS (Geng, TKDE 2016): a maximum-entropy model fitted to the KL loss by L-BFGS.

    Used for paper A's Table 3 (issue 11). PyLDL's ``SA_BFGS``: ``p(y | x) =
    softmax(x W)`` (no bias: append a constant feature to ``x`` for one), ``W`` started
    from NumPy's global generator (seeded here with ``seed``) and fitted by SciPy's
    L-BFGS-B on ``sum_i KL(d_i || p(. | x_i))``.
    """
    from pyldl.algorithms import SA_BFGS

    x_train, d_train, x_test = _check_inputs(x_train, d_train, x_test)
    with _seeded(_check_seed(seed), keras_too=False):
        model = SA_BFGS().fit(
            x_train,
            d_train,
            max_iterations=max_iterations,
            convergence_criterion=convergence_criterion,
        )
        return _as_distributions(model.predict(x_test))


def _finite_glle(**hyper: float) -> object:
    """PyLDL's GLLE, guarded against its L-BFGS stepping into NaN.

    PyLDL's GLLE updates its cluster matrices inside every loss evaluation, so the
    objective L-BFGS sees keeps moving; on the torch backend, once the loss has flattened,
    torch's L-BFGS can then take a NaN step (seen here on 190 z-scored LBP vectors after
    about a dozen iterations), and every enhanced distribution becomes NaN. This subclass
    remembers the parameters with the lowest finite loss evaluated and, only if the fit
    ends non-finite, puts them back: early stopping at the best finite point. GLLE's
    objective and optimiser are otherwise untouched.
    """
    import keras.ops as ops
    from pyldl.algorithms import GLLE

    class FiniteGLLE(GLLE):
        """GLLE that falls back to its best finite parameters (see ``_finite_glle``)."""

        def _loss(self, params_1d: object) -> object:
            value = super()._loss(params_1d)
            loss = float(ops.convert_to_numpy(ops.stop_gradient(value)))
            if np.isfinite(loss) and loss < self.best_loss:
                self.best_loss = loss
                self.best_params = ops.convert_to_numpy(ops.stop_gradient(params_1d)).copy()
            return value

        def fit(self, *args: object, **kwargs: object) -> FiniteGLLE:
            self.best_loss, self.best_params = float("inf"), None
            super().fit(*args, **kwargs)
            weights = self.get_weights()
            if not all(np.isfinite(w).all() for w in weights) and self.best_params is not None:
                self._assign_new_model_parameters(self.best_params)
            return self

    return FiniteGLLE(**hyper)


def glle_sa_bfgs(
    x_train: np.ndarray,
    d_train: np.ndarray,
    x_test: np.ndarray,
    *,
    seed: int = 0,
    alpha: float = 1e-2,
    beta: float = 1e-4,
    sigma: float = 1.0,
    glle_iterations: int = 50,
    max_iterations: int = 500,
    convergence_criterion: float = 1e-7,
) -> np.ndarray:
    """GLLE label enhancement (Xu, Liu and Geng, TKDE 2021), then SA-BFGS.

    Used for paper A's Table 3 (issue 11). GLLE is label enhancement: it turns the
    training fold's single labels (the one-hot arg-max of each ``d_train`` row) into
    distributions, using the feature-space graph (PyLDL's ``GLLE``: an RBF-kernel model
    fitted by L-BFGS with a graph-Laplacian smoothness term of weight ``alpha`` and a
    cluster term of weight ``beta``, ``sigma`` the graph's kernel width, for
    ``glle_iterations`` iterations; should its L-BFGS step into NaN, the parameters with
    the lowest finite loss are kept, see ``_finite_glle``). :func:`sa_bfgs` is then
    fitted on the enhanced training distributions and predicts the test fold; the test
    fold is never enhanced. GLLE's kernel is ``N_train x N_train`` (memory and time grow
    as ``N_train**2``) and its k-means needs at least 8 training faces.
    """
    x_train, d_train, x_test = _check_inputs(x_train, d_train, x_test)
    seed = _check_seed(seed)
    n, n_classes = d_train.shape
    if n < max(8, n_classes + 2):
        raise ValueError(
            f"x_train must have at least {max(8, n_classes + 2)} rows for GLLE (k-means "
            f"with 8 clusters, {n_classes + 1} nearest neighbours), got {n}"
        )
    labels = np.eye(n_classes)[d_train.argmax(axis=1)]
    with _seeded(seed, keras_too=True):
        enhancer = _finite_glle(alpha=alpha, beta=beta, sigma=sigma)
        enhanced = enhancer.fit(x_train, labels, max_iterations=glle_iterations).transform()
    return sa_bfgs(
        x_train,
        _as_distributions(enhanced),
        x_test,
        seed=seed,
        max_iterations=max_iterations,
        convergence_criterion=convergence_criterion,
    )


def ldlm_standin(
    x_train: np.ndarray,
    d_train: np.ndarray,
    x_test: np.ndarray,
    *,
    seed: int = 0,
    alpha: float = 1e-2,
    beta: float = 1e-2,
    gamma: float = 0.0,
    rho: float = 1e-2,
    epochs: int = 1000,
) -> np.ndarray:
    """PyLDL's LDLM (Wang and Geng, ICML 2021), standing in for paper A's LDL-LDML.

    Used for paper A's Table 3 (issue 11); why this method stands in is in
    :data:`STAND_INS`. A softmax-linear Keras model trained by full-batch gradient
    descent (SGD, learning rate 1e-3, ``epochs`` epochs) on LDLM's losses: a margin on
    the distance to the one-hot highest label (``rho``), a margin keeping the highest
    label above the rest (weight ``alpha``), a margin on the rest of the distribution
    (weight ``beta``) and an L2 penalty (``gamma``). Needs at least 3 classes. Returns
    LDLM's predicted distributions (``predict_proba``).
    """
    from pyldl.algorithms import LDLM

    x_train, d_train, x_test = _check_inputs(x_train, d_train, x_test)
    if d_train.shape[1] < 3:
        raise ValueError(f"d_train must have at least 3 classes for LDLM, got {d_train.shape[1]}")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    with _seeded(_check_seed(seed), keras_too=True):
        model = LDLM(alpha=alpha, beta=beta, gamma=gamma, rho=rho)
        model.fit(x_train.astype(np.float32), d_train.astype(np.float32), epochs=epochs)
        return _as_distributions(model.predict_proba(x_test.astype(np.float32)))


def _edl(
    x_train: np.ndarray, d_train: np.ndarray, x_test: np.ndarray, **options: object
) -> np.ndarray:
    """:func:`~fer_utils.ldl.edl.edl_fit_predict` after the shared input checks."""
    x_train, d_train, x_test = _check_inputs(x_train, d_train, x_test)
    return _as_distributions(edl_fit_predict(x_train, d_train, x_test, **options))


_METHODS: dict[str, Callable[..., np.ndarray]] = {
    "aa_knn": aa_knn,
    "sa_bfgs": sa_bfgs,
    "edl": _edl,
    "glle_sa_bfgs": glle_sa_bfgs,
    "ldl_ldml_standin": ldlm_standin,
}

#: The public function behind each method (``"edl"``: its keyword options are those of
#: :func:`fer_utils.ldl.edl.edl_fit_predict`).
_SIGNATURES: dict[str, Callable[..., np.ndarray]] = {**_METHODS, "edl": edl_fit_predict}


def method_options(method: str) -> tuple[str, ...]:
    """The keyword options ``method`` accepts in :func:`fit_predict` (``seed`` aside).

    Used for paper A's Table 3 (issue 11).
    """
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(LDL_METHODS)}")
    params = inspect.signature(_SIGNATURES[method]).parameters.values()
    return tuple(p.name for p in params if p.kind is p.KEYWORD_ONLY and p.name != "seed")


def fit_predict(
    method: str,
    x_train: np.ndarray,
    d_train: np.ndarray,
    x_test: np.ndarray,
    seed: int,
    **options: object,
) -> np.ndarray:
    """Fit ``method`` on the training fold, predict the test fold: ``N_test x C``.

    Used for paper A's Table 3 (issue 11). ``method`` is one of :data:`LDL_METHODS`;
    ``x_train`` (``N x F``) and ``x_test`` (``M x F``) are features (see
    :mod:`fer_utils.ldl.features`), ``d_train`` (``N x C``) the training distributions
    (one-hot rows for single-label data). ``options`` go to the method's function
    (:func:`aa_knn`, :func:`sa_bfgs`, :func:`~fer_utils.ldl.edl.edl_fit_predict`,
    :func:`glle_sa_bfgs`, :func:`ldlm_standin`; :func:`method_options` lists them). The
    result is float64, non-negative, each row summing to 1; its arg-max is the predicted
    class. The same ``seed`` gives the same numbers.
    """
    if method not in _METHODS:
        raise ValueError(f"unknown method {method!r}; expected one of {', '.join(LDL_METHODS)}")
    accepted = method_options(method)
    unknown = sorted(set(options) - set(accepted))
    if unknown:
        raise ValueError(
            f"unknown option(s) {', '.join(unknown)} for method {method!r}; "
            f"accepted: {', '.join(accepted)}"
        )
    return _METHODS[method](x_train, d_train, x_test, seed=_check_seed(seed), **options)
