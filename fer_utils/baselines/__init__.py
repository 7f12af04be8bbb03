"""Paper A's Table 4 comparison methods, trained by the same trainer as MixFeature.

Each is a ``TrainConfig.method`` value; its settings live in
:class:`~fer_utils.baselines.config.BaselineConfig` (``TrainConfig.baselines``). All are
batched on the training device and seeded from the trainer's per-epoch generators.

============== ============================================= ==============================
method         paper                                         module
============== ============================================= ==============================
``mixup``      Zhang et al., ICLR 2018 (torchvision MixUp)   :mod:`.torchvision_mix`
``cutmix``     Yun et al., ICCV 2019 (torchvision CutMix)    :mod:`.torchvision_mix`
``augmix``     Hendrycks et al., ICLR 2020 (torchvision)     :mod:`.torchvision_mix`
``gridmask``   Chen et al., arXiv 2001.04086, 2020           :mod:`.gridmask`
``saliencymix`` Uddin et al., ICLR 2021 (spectral-residual   :mod:`.saliencymix`
               saliency instead of OpenCV's detector)
``mixstyle``   Zhou et al., ICLR 2021 (paper A: "StyleMix")  :mod:`.mixstyle`
``tokenmix``   Liu et al., ECCV 2022 (token-grid CutMix,     :mod:`.tokenmix`
               area labels instead of a teacher's)
============== ============================================= ==============================

:mod:`.apply` is what the training step calls; :mod:`.common` holds the seeded draws and
the mixed label targets.
"""

from fer_utils.baselines.apply import augmented_batch, feature_mixing
from fer_utils.baselines.config import BASELINE_METHODS, BaselineConfig

#: The methods that train on label distributions (the others keep class labels).
MIXING_METHODS: tuple[str, ...] = ("mixup", "cutmix", "saliencymix", "tokenmix")

__all__ = [
    "BASELINE_METHODS",
    "MIXING_METHODS",
    "BaselineConfig",
    "augmented_batch",
    "feature_mixing",
]
