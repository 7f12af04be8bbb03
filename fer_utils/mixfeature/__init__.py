"""Paper A, MixFeature: emotion-wheel-guided label distribution learning.

One module per idea, in the order of the paper:

* :mod:`~fer_utils.mixfeature.wheel`: the emotion wheel, its distances and the mixing
  weights of Eq. 3 (notebook 02);
* :mod:`~fer_utils.mixfeature.synthesis`: Algorithm 1, mixing the features of a batch in
  groups of K (notebook 03);
* :mod:`~fer_utils.mixfeature.loss`: the loss of Eqs. 5-8 (notebook 03);
* :mod:`~fer_utils.mixfeature.presets`: the paper's training settings per dataset
  (notebook 04).

The training step that puts them together is :func:`fer_utils.training.step.training_step`.
"""
