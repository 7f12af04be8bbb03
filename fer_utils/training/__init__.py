"""Training, shared by both papers: one loop, small pieces, each in its own module.

Read in this order (notebook 04 introduces them; notebook 05 adds the multi-label path):

* :mod:`~fer_utils.training.config`: :class:`~fer_utils.training.config.TrainConfig`,
  the settings of a run grouped by concern;
* :mod:`~fer_utils.training.step`: one optimisation step, baseline, MixFeature and MF-JLE;
* :mod:`~fer_utils.training.loop`: :func:`~fer_utils.training.loop.train`, epochs,
  model selection on validation data and the :class:`~fer_utils.training.loop.TrainResult`;
* :mod:`~fer_utils.training.evaluate`: predictions and metrics;
* :mod:`~fer_utils.training.checkpoint`: atomic checkpoints and exact resume;
* :mod:`~fer_utils.training.data`, :mod:`~fer_utils.training.optim`,
  :mod:`~fer_utils.training.precise_bn`, :mod:`~fer_utils.training.runtime`: the data on
  the device, the optimiser and schedule, precise batch-norm, and devices / precision /
  seeds / timing.

The papers' settings live with the papers: :func:`fer_utils.mixfeature.presets.preset`
and :func:`fer_utils.mfjle.presets.mfjle_preset`.
"""
