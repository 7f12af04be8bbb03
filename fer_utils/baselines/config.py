"""The settings of paper A's Table 4 comparison methods: :class:`BaselineConfig`.

A group of :class:`fer_utils.training.config.TrainConfig` (attribute ``baselines``). Each
field belongs to the method its prefix names (``mixup_alpha`` to ``method="mixup"``); a
run's identity (:meth:`TrainConfig.identity`) holds only the fields of its own method, so
adding this group left the run names of every earlier configuration unchanged.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, fields

from fer_utils.training.checks import check_choice, check_int, check_number, fail

#: The comparison methods of paper A's Table 4, as ``TrainConfig.method`` values.
BASELINE_METHODS: tuple[str, ...] = (
    "mixup", "cutmix", "augmix", "gridmask", "saliencymix", "mixstyle", "tokenmix"
)


@dataclass
class BaselineConfig:
    """Hyper-parameters of the Table 4 comparison methods (used by those methods only).

    Defaults are the original papers' (or torchvision's) unless noted; paper A gives none.

    Attributes:
        mixup_alpha: Beta(a, a) of MixUp's mixing weight (Zhang et al. 2018).
        cutmix_alpha: Beta(a, a) of CutMix's box area (Yun et al. 2019).
        augmix_severity, augmix_width, augmix_depth, augmix_alpha, augmix_all_ops:
            torchvision's AugMix arguments ``severity``, ``mixture_width``,
            ``chain_depth`` (-1: 1 to 3 at random), ``alpha`` and ``all_ops``
            (Hendrycks et al. 2020).
        augmix_chunk: how many images share one chain of operations (1: every image
            its own, as in the paper; larger is faster, the mixing weights stay per image).
        gridmask_d_min, gridmask_d_max: range of the grid unit d as fractions of the
            image side (default 0.43 to 1: the paper's 96 to 224 pixels at 224).
        gridmask_ratio: r, the kept stripe width as a fraction of d (removed squares have
            side (1 - r) d; the paper's ImageNet value 0.6).
        gridmask_p: probability that an image is masked (the paper's final 0.8, held
            constant here instead of raised over training).
        saliencymix_alpha: Beta(a, a) of SaliencyMix's patch area (Uddin et al. 2021).
        mixstyle_p, mixstyle_alpha: probability of mixing at a layer, and Beta(a, a) of
            the per-sample mixing weight (Zhou et al. 2021).
        mixstyle_layers: backbone module names whose outputs are mixed, or ``"auto"``:
            ``layer1``-``layer3`` of ResNet-18, all conv blocks of cnn3 but the last
            (:func:`fer_utils.baselines.mixstyle.mixstyle_layers`).
        tokenmix_alpha: Beta(a, a) of the fraction of tokens kept.
        tokenmix_grid: the mask is a ``g x g`` grid of tokens.
    """

    mixup_alpha: float = 1.0
    cutmix_alpha: float = 1.0
    augmix_severity: int = 3
    augmix_width: int = 3
    augmix_depth: int = -1
    augmix_alpha: float = 1.0
    augmix_all_ops: bool = True
    augmix_chunk: int = 1
    gridmask_d_min: float = 0.43
    gridmask_d_max: float = 1.0
    gridmask_ratio: float = 0.6
    gridmask_p: float = 0.8
    saliencymix_alpha: float = 1.0
    mixstyle_p: float = 0.5
    mixstyle_alpha: float = 0.1
    mixstyle_layers: str | list[str] = "auto"
    tokenmix_alpha: float = 1.0
    tokenmix_grid: int = 8

    def __post_init__(self) -> None:
        for name in ("mixup_alpha", "cutmix_alpha", "augmix_alpha", "saliencymix_alpha",
                     "mixstyle_alpha", "tokenmix_alpha"):
            check_number(name, getattr(self, name), 0.0, 100.0, open_low=True)
        check_int("augmix_severity", self.augmix_severity, 1)
        if self.augmix_severity > 10:
            fail("augmix_severity", "an integer from 1 to 10", self.augmix_severity)
        check_int("augmix_width", self.augmix_width, 1)
        if self.augmix_depth != -1:
            check_int("augmix_depth", self.augmix_depth, 1)
        check_choice("augmix_all_ops", self.augmix_all_ops, (True, False))
        check_int("augmix_chunk", self.augmix_chunk, 1)
        check_number("gridmask_d_min", self.gridmask_d_min, 0.0, 1.0, open_low=True)
        check_number("gridmask_d_max", self.gridmask_d_max, self.gridmask_d_min, 1.0,
                     open_low=False)
        check_number("gridmask_ratio", self.gridmask_ratio, 0.0, 1.0, open_low=True)
        check_number("gridmask_p", self.gridmask_p, 0.0, 1.0, open_low=False)
        check_number("mixstyle_p", self.mixstyle_p, 0.0, 1.0, open_low=False)
        layers = self.mixstyle_layers
        if isinstance(layers, tuple):
            layers = list(layers)
        if layers != "auto" and not (
            isinstance(layers, list) and layers and all(isinstance(n, str) for n in layers)
        ):
            fail("mixstyle_layers", "'auto' or a non-empty list of module names", layers)
        self.mixstyle_layers = json.loads(json.dumps(layers))
        check_int("tokenmix_grid", self.tokenmix_grid, 1)

    @staticmethod
    def fields_of(method: str) -> tuple[str, ...]:
        """The fields that ``method`` reads (none for ``"baseline"`` and ``"mixfeature"``)."""
        return tuple(f.name for f in fields(BaselineConfig) if f.name.startswith(method + "_"))
