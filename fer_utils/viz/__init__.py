"""Every figure of the package, by subject; each function returns a matplotlib ``Figure``.

* :mod:`fer_utils.viz.data`: dataset figures (notebook 01);
* :mod:`fer_utils.viz.wheel`: the emotion wheel (notebook 02);
* :mod:`fer_utils.viz.results`: training curves, confusion matrices, per-class and
  multi-label result figures (notebooks 04-05 and the results scripts);
* :mod:`fer_utils.viz.crops`: MF-JLE's crops (notebook 05);
* :mod:`fer_utils.viz.ablations`: Table 4 bars, Fig. 7 knob panels, mean training
  curves of the ablations (notebook 07);
* :mod:`fer_utils.viz.common`: :func:`~fer_utils.viz.common.save_figure` and helpers.
"""
