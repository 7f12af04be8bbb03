"""Numbers published in the two papers, kept apart from anything this repository measures.

Introduced in notebook 01 (Table 1 of MixFeature). Values are copied from the papers as
printed (``docs/replication.md``: the two papers' settings and the decisions); where the
spec records an erratum, the printed value is kept here and the correction is made, visibly,
where the value is used. Notebook 06 sets all of them beside the committed results in
``results/``.
"""

from __future__ import annotations

#: MixFeature paper, Table 1: class shares in percent, by canonical class name.
TABLE1_SHARES: dict[str, dict[str, float]] = {
    "jaffe": {
        "happiness": 14.5,
        "surprise": 14.1,
        "sadness": 14.5,
        "neutral": 14.1,
        "fear": 15.0,
        "disgust": 13.6,
        "anger": 14.1,
    },
    "ferplus": {
        "happiness": 29.10,
        "surprise": 12.54,
        "sadness": 12.06,
        "neutral": 34.85,
        "fear": 2.14,
        "disgust": 0.46,
        "anger": 8.38,
        "contempt": 0.48,
    },
}

#: Real class counts that the spec gives for checking loaders (``docs/replication.md``, datasets).
#: CK+ is listed by its real CK+48 counts because the paper's CK+ shares sum to 134%
#: (``docs/replication.md`` D6).
REAL_COUNTS: dict[str, dict[str, int]] = {
    "jaffe": {
        "neutral": 30,
        "happiness": 31,
        "sadness": 31,
        "surprise": 30,
        "anger": 30,
        "disgust": 29,
        "fear": 32,
    },
    "ckplus": {
        "anger": 135,
        "contempt": 54,
        "disgust": 177,
        "fear": 75,
        "happiness": 207,
        "sadness": 84,
        "surprise": 249,
    },
    "ferplus": {
        "neutral": 8733,
        "happiness": 7284,
        "surprise": 3136,
        "sadness": 3022,
        "anger": 2098,
        "fear": 536,
        "disgust": 116,
        "contempt": 120,
    },
}

#: MixFeature paper, Table 2: test accuracy (%) of the baseline and of MixFeature. The
#: paper prints the gains as +6.63 (JAFFE) and +0.22 (FER+); the differences of its own
#: numbers are +6.67 and +0.25 (``docs/replication.md`` D4), so gains are always recomputed.
TABLE2_ACCURACY: dict[str, dict[str, float]] = {
    "jaffe": {"baseline": 82.22, "mixfeature": 88.89},
    "ckplus": {"baseline": 90.79, "mixfeature": 94.06},
    "ferplus": {"baseline": 82.26, "mixfeature": 82.51},
}

#: MixFeature paper, Table 3: test accuracy (%) of five shallow label distribution learning
#: methods on image features, and of MixFeature, on JAFFE and on ``ferplus_argument`` (the
#: paper's FER+ with vote distributions, whose features include OpenFace action units).
#: Keys are the method names this repository runs (:data:`fer_utils.ldl.LDL_METHODS`):
#: LDL-LDML has no public code, so its number is keyed by the method that stands in for it
#: here (``"ldl_ldml_standin"``, :data:`fer_utils.ldl.STAND_INS`); the number is
#: LDL-LDML's, as printed. Notebook 07 (Table 3 section) sets ours beside them.
TABLE3_ACCURACY: dict[str, dict[str, float]] = {
    "jaffe": {"aa_knn": 79.32, "sa_bfgs": 80.81, "edl": 80.88, "glle_sa_bfgs": 79.37,
              "ldl_ldml_standin": 82.31, "mixfeature": 88.89},
    "ferplus_argument": {"aa_knn": 78.33, "sa_bfgs": 79.91, "edl": 81.05,
                         "glle_sa_bfgs": 79.25, "ldl_ldml_standin": 82.39,
                         "mixfeature": 87.75},
}

#: MixFeature paper, Table 4: test accuracy (%) of MixFeature and of seven augmentation
#: methods, per dataset (``ferplus_argument`` is the paper's FER+ with vote distributions).
#: The paper's "StyleMix" cites MixStyle (``docs/replication.md`` D10); the key here is the
#: method name this repository trains (``"mixstyle"``). Notebook 07 draws it.
TABLE4_ACCURACY: dict[str, dict[str, float]] = {
    "jaffe": {"mixfeature": 88.89, "mixup": 84.44, "cutmix": 84.44, "augmix": 86.67,
              "gridmask": 82.22, "saliencymix": 86.67, "mixstyle": 84.44, "tokenmix": 84.44},
    "ckplus": {"mixfeature": 94.06, "mixup": 70.89, "cutmix": 88.91, "augmix": 90.10,
               "gridmask": 86.93, "saliencymix": 68.61, "mixstyle": 73.56, "tokenmix": 81.58},
    "ferplus": {"mixfeature": 82.51, "mixup": 80.60, "cutmix": 75.09, "augmix": 80.07,
                "gridmask": 78.00, "saliencymix": 75.84, "mixstyle": 59.64, "tokenmix": 59.32},
    "ferplus_argument": {"mixfeature": 87.75, "mixup": 87.21, "cutmix": 87.50,
                         "augmix": 87.12, "gridmask": 85.05, "saliencymix": 87.24,
                         "mixstyle": 87.43, "tokenmix": 84.96},
}

#: MixFeature paper, Table 5: paired t-test p-values on JAFFE, MixFeature against each
#: augmentation method (the paper does not say what was paired). Notebook 07.
TABLE5_P_VALUES: dict[str, float] = {
    "mixup": 0.0023, "cutmix": 0.0019, "augmix": 0.0031, "gridmask": 0.0027,
    "saliencymix": 0.0016, "mixstyle": 0.0018, "tokenmix": 0.0015,
}

#: MixFeature paper, Fig. 7 (accuracy against the group size K = 2..6): only the peaks
#: are stated in the text, as (best K, accuracy %); every JAFFE value lies above 84 %.
#: Notebook 07.
FIG7_PEAKS: dict[str, tuple[int, float]] = {
    "jaffe": (3, 88.89),
    "ckplus": (5, 94.06),
    "ferplus": (3, 82.6),
}

#: MF-JLE paper (method B), its tables of results on RAF-ML and JAFFE
#: (``docs/replication.md``, paper B's settings): dataset -> model (``"resnet18"``: a single
#: ResNet-18 trained with BCE; ``"mfjle"``: the six-module ensemble) -> metric -> value. The
#: paper prints the nine metrics in the order Hamming loss, coverage, one-error, ranking
#: loss, average precision, micro-F1, macro-F1, micro-AUC, macro-AUC; the keys are the names
#: used by ``fer_utils.metrics.MULTILABEL_METRICS`` (same order). Coverage is the "minus
#: one" form (scikit-learn's ``coverage_error`` - 1). Introduced in notebook 05.
MFJLE_TABLES: dict[str, dict[str, dict[str, float]]] = {
    "rafml": {
        "resnet18": {
            "hamming_loss": 0.161,
            "coverage": 1.932,
            "one_error": 0.124,
            "ranking_loss": 0.112,
            "average_precision": 0.827,
            "micro_f1": 0.772,
            "macro_f1": 0.740,
            "micro_auc": 0.907,
            "macro_auc": 0.895,
        },
        "mfjle": {
            "hamming_loss": 0.155,
            "coverage": 1.879,
            "one_error": 0.123,
            "ranking_loss": 0.111,
            "average_precision": 0.828,
            "micro_f1": 0.783,
            "macro_f1": 0.762,
            "micro_auc": 0.909,
            "macro_auc": 0.897,
        },
    },
    "jaffe": {
        "resnet18": {
            "hamming_loss": 0.061,
            "coverage": 0.875,
            "one_error": 0.153,
            "ranking_loss": 0.025,
            "average_precision": 0.939,
            "micro_f1": 0.888,
            "macro_f1": 0.861,
            "micro_auc": 0.962,
            "macro_auc": 0.961,
        },
        "mfjle": {
            "hamming_loss": 0.032,
            "coverage": 0.804,
            "one_error": 0.146,
            "ranking_loss": 0.023,
            "average_precision": 0.959,
            "micro_f1": 0.895,
            "macro_f1": 0.873,
            "micro_auc": 0.979,
            "macro_auc": 0.963,
        },
    },
}

#: MF-JLE paper (method B): running time per image in milliseconds of ``"resnet18"`` (the
#: single ResNet-18) and ``"mfjle"`` (the six-module ensemble), on the GPU named in
#: :data:`MFJLE_INFERENCE_HARDWARE` (paper B's inputs are 224x224; no batch size is
#: recorded here). The same figure for both, as printed. ``scripts/benchmark_inference.py``
#: prints them beside ours.
MFJLE_INFERENCE_MS: dict[str, float] = {"resnet18": 10.52, "mfjle": 10.52}

#: The hardware of :data:`MFJLE_INFERENCE_MS`, as paper B names it.
MFJLE_INFERENCE_HARDWARE: str = "GTX 1060"
