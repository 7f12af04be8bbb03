"""fer_utils: the helper package behind the FER teaching and replication notebooks.

Notebook 01 introduces the data side (:mod:`fer_utils.data`); later notebooks add the
emotion wheel, MixFeature, training and MF-JLE.
"""

__version__ = "0.1.0"
