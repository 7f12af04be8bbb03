"""Numbers published in the two papers, kept apart from anything this repository measures.

Introduced in notebook 01 (Table 1 of MixFeature). Values are copied from the papers as
printed (SPEC sections 2 and 5); where the spec records an erratum, the printed value is
kept here and the correction is made, visibly, where the value is used.
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

#: Real class counts that the spec gives for checking loaders (SPEC section 4).
#: CK+ is listed by its real CK+48 counts because the paper's CK+ shares sum to 134%
#: (SPEC erratum 5.6).
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
