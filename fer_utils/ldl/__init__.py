"""Shallow label distribution learning (LDL) baselines of paper A's Table 3.

Used for paper A's Table 3 (issue 11): AA-kNN, SA-BFGS, EDL, GLLE followed by SA-BFGS,
and LDL-LDML, each fitted on image features and predicting one emotion distribution per
test face (its arg-max is the predicted class).

================== ================================================ ======================
name               method                                           module
================== ================================================ ======================
``aa_knn``         AA-kNN (Geng, TKDE 2016), PyLDL ``AA_KNN``       :mod:`.pyldl_methods`
``sa_bfgs``        SA-BFGS (Geng, TKDE 2016), PyLDL ``SA_BFGS``     :mod:`.pyldl_methods`
``glle_sa_bfgs``   GLLE label enhancement (Xu et al., TKDE 2021),   :mod:`.pyldl_methods`
                   then SA-BFGS on the enhanced distributions
``edl``            EDL (Zhou, Xue and Geng, ACM MM 2015), this      :mod:`.edl`
                   repository's reading of it (see ``edl.GAPS``)
``ldl_ldml_standin`` PyLDL ``LDLM`` standing in for LDL-LDML         :mod:`.pyldl_methods`
                   (see :data:`STAND_INS`)
================== ================================================ ======================

Features come from :mod:`.features`: uniform LBP histograms over a grid of face cells
(:func:`lbp_features`) or the penultimate features of a trained network
(:func:`cnn_features`), z-scored with training statistics (:func:`standardise`).

PyLDL runs on Keras; importing this package points Keras at the torch backend
(``KERAS_BACKEND=torch``) unless the variable is already set, so this must happen before
anything imports ``keras`` or ``pyldl``. PyLDL itself is imported only when a method that
needs it runs.
"""

import os

# Before anything can import keras (through pyldl): the torch backend, and no TensorFlow
# C++ log lines should TensorFlow ever be installed.
os.environ.setdefault("KERAS_BACKEND", "torch")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from fer_utils.ldl.edl import (  # noqa: E402
    EDL,
    GAPS,
    correlation_from_wheel,
    edl_fit_predict,
    jeffreys_divergence,
    smoothing_matrix,
    wheel_correlation,
)
from fer_utils.ldl.features import cnn_features, lbp_features, standardise  # noqa: E402
from fer_utils.ldl.pyldl_methods import (  # noqa: E402
    LDL_METHODS,
    PAPER_NAMES,
    STAND_INS,
    aa_knn,
    fit_predict,
    glle_sa_bfgs,
    ldlm_standin,
    method_options,
    sa_bfgs,
)

__all__ = [
    "EDL",
    "GAPS",
    "LDL_METHODS",
    "PAPER_NAMES",
    "STAND_INS",
    "aa_knn",
    "cnn_features",
    "correlation_from_wheel",
    "edl_fit_predict",
    "fit_predict",
    "glle_sa_bfgs",
    "jeffreys_divergence",
    "lbp_features",
    "ldlm_standin",
    "method_options",
    "sa_bfgs",
    "smoothing_matrix",
    "standardise",
    "wheel_correlation",
]
