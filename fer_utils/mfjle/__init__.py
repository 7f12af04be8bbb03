"""Paper B, MF-JLE: a global and five local ResNet-18s for multi-label FER (notebook 05).

* :mod:`~fer_utils.mfjle.landmarks`: five facial landmarks per face (the dataset's own,
  else MTCNN);
* :mod:`~fer_utils.mfjle.crops`: the five local crops around them;
* :mod:`~fer_utils.mfjle.labels`: the multi-hot label views paper B learns;
* :mod:`~fer_utils.mfjle.model`: the six modules and their ensemble score;
* :mod:`~fer_utils.mfjle.loss`: the joint loss of Eqs. 1-2;
* :mod:`~fer_utils.mfjle.presets`: the paper's settings and a CPU-sized variant;
* :mod:`~fer_utils.mfjle.ensemble`: ensemble weights fitted on validation logits (our
  extension, notebook 07);
* :mod:`~fer_utils.mfjle.mixing`: MixFeature inside every module, ``mfjle_mix`` (our
  experiment, notebook 07).

The training step that puts them together is :func:`fer_utils.training.step.multilabel_step`.
"""
