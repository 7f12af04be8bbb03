"""Write ``notebooks/05_mf_jle_ensemble.ipynb`` from the cell texts below (run from anywhere).

Edit a cell here, run ``.venv/bin/python tools/build_nb05.py``, and commit both files. The
result has no outputs and stable cell ids, so a rebuild without edits changes nothing.
"""

# Notebook text: the Colab cell shared by every notebook has long lines, as in the notebooks.
# ruff: noqa: E501

from __future__ import annotations

from nbbuild import COLAB_INSTALL, badge, write

NAME = "05_mf_jle_ensemble.ipynb"
BADGE = badge(NAME)

INTRO = """\
# 05 · MF-JLE: one global and five local ResNet-18s for multi-label FER

Paper B treats a face as carrying a **set** of emotions (a face can be surprised *and*
afraid) and predicts, for every emotion separately, whether it is present. Its model,
MF-JLE (multi-feature joint-learning ensemble), has six ResNet-18s trained from scratch:

* a **global** module that sees the whole face, and
* five **local** modules, each seeing a square crop centred on one facial landmark (the
  two eyes, the nose tip and the two mouth corners, found by MTCNN).

Every module ends in one logit per emotion. Training minimises
`L = L_global + sum_i lambda_i * L_local_i`, each term a binary cross-entropy against the
multi-hot label vector; prediction adds the logits the same way,
`score = global + sum_i lambda_i * local_i`, and a label is predicted when
`sigmoid(score) > 0.5`. The paper's best `lambda_i` is 0.01 for all five. The baseline
is a single ResNet-18 on the whole face with the same loss.

**Decisions where the paper is unclear (SPEC 5.8, 5.9):**

* Its Eq. 2 is a garbled binary cross-entropy; we use the standard one
  (`binary_cross_entropy_with_logits`, mean over samples and labels, per module).
* It says N = 5 expression classes, but RAF-ML and JAFFE both have 6; we use the
  dataset's classes (JAFFE: the six rated emotions, no neutral).
* It says module outputs pass through softmax and then sigmoid; we keep logits
  throughout and take one sigmoid of the weighted sum (softmax would force the labels
  to compete, which contradicts multi-label prediction).
* It does not give the crop size: `crop_fraction` (default a square of 1/4 of the face
  width) is a parameter, and the crops are drawn below so you can judge them.
* Paper B's training (224x224 RGB, 218 epochs, batch 128, Adam 1e-4) is the `paper`
  preset; without a GPU the notebook uses a smaller `cpu` preset and says so. Numbers
  from the CPU preset are **not** a replication of the paper's setting.

This notebook introduces `fer_utils.models.MFJLE`, `fer_utils.multilabel`,
`fer_utils.landmarks`, `fer_utils.crops` and the multi-label path of
`fer_utils.train.train`; notebook 06 explains every metric."""

PARAMETERS = """\
dataset = "synthetic"  # "synthetic", "jaffe" or "rafml"
data_root = None  # None: $FER_DATA_DIR/<dataset> if set, else data/<dataset>
n_synthetic = 400  # synthetic images to generate
preset_name = "auto"  # "auto" (paper on a GPU, cpu otherwise), "paper" or "cpu"
epochs = 6  # None: the preset's number of epochs
local_weight = 0.01  # lambda_i, the same for all five local modules (paper B: 0.01)
crop_fraction = 0.25  # crop side as a fraction of the face width (SPEC 5.9)
multilabel_loss = "bce"  # "bce" (paper B) or "ce" (its multi-class ablation)
seeds = [0]  # one 60/20/20 split and training run per seed
checkpoint_dir = None  # a folder for per-epoch checkpoints (a killed run resumes)
quick = False  # True: a small, fast setting (used by the tests)
seed = 0  # seeds the synthetic data
output_dir = None  # a folder to save figures and tables into, or None"""

SETUP = """\
from dataclasses import replace
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from fer_utils import figures, plots
from fer_utils.crops import local_crops
from fer_utils.data import load_dataset
from fer_utils.landmarks import dataset_landmarks
from fer_utils.metrics import MULTILABEL_METRICS, multilabel_report
from fer_utils.multilabel import multilabel_view
from fer_utils.protocols import random_split_indices, random_split_protocol
from fer_utils.provenance import REPO_ROOT
from fer_utils.published import MFJLE_TABLES
from fer_utils.train import mfjle_preset, predict_modules, resolve_device

if quick:
    n_synthetic, epochs, seeds = 80, 1, [0]
if output_dir:
    Path(output_dir).mkdir(parents=True, exist_ok=True)

options = {"n": n_synthetic, "seed": seed} if dataset == "synthetic" else {}
ds = multilabel_view(load_dataset(dataset, root=data_root, **options))
print(ds.summary())
labels_per_face = ds.multilabels.sum(1).numpy()
print("labels per face:", dict(zip(*np.unique(labels_per_face, return_counts=True), strict=True)))
print("faces per label:", dict(zip(ds.classes, ds.multilabels.sum(0).int().tolist(), strict=True)))"""

LANDMARK_MD = """\
## 1. Landmarks and the five local crops

The synthetic faces (and RAF-ML) come with exact landmarks; for the other datasets MTCNN
(from `facenet-pytorch`, whose weights ship inside the package) finds them, in batches,
and the result is cached with the dataset cache. A face where MTCNN finds nothing is not
dropped: it gets the mean landmark positions of the detected faces and is counted below
(dashed boxes in the figure). The boxes show exactly what each local module sees."""

LANDMARK_CODE = """\
landmarks, report = dataset_landmarks(ds)
ds = replace(ds, landmarks=landmarks)
print({k: report[k] for k in ("source", "n_images", "n_found", "n_fallback", "fallback")})
found = torch.ones(len(ds), dtype=torch.bool)
if report["n_fallback"]:
    found[torch.as_tensor(report["fallback_indices"])] = False
    print("faces from the fallback rule:", report["fallback_files"][:10])
fig = plots.crop_overlay(ds.images, ds.landmarks, crop_fraction, n=6, found=found)
plots.save_figure(fig, output_dir, "landmark_crops")
plt.show()
crops = local_crops(ds.images[:4], ds.landmarks[:4], 48, crop_fraction)
fig = plots.crop_strip(crops, n=4)
plots.save_figure(fig, output_dir, "crop_strip")
plt.show()"""

TRAIN_MD = """\
## 2. Training the single ResNet-18 and MF-JLE

Both models use the same preset, the same seeded 60/20/20 splits, and the training
function of notebook 04 (`train` with `task="multi_label"`): per-epoch checkpoints,
selection on the validation loss only, and one evaluation on the test part at the end."""

TRAIN_CODE = """\
overrides = {"local_weights": local_weight, "crop_fraction": crop_fraction,
             "multilabel_loss": multilabel_loss, "checkpoint_dir": checkpoint_dir}
if epochs is not None:
    overrides["epochs"] = epochs
if quick:
    overrides.update(image_size=32, local_size=32, precise_bn_images=64)
results, used = {}, None
for model in ("resnet18", "mfjle"):
    config, used = mfjle_preset(preset_name, model=model, **overrides)
    results[model] = random_split_protocol(config, ds, seeds=seeds, keep_models=True)
print(f"device: {resolve_device(config.device)}; preset: {used!r}"
      + (" (smaller inputs and fewer epochs than paper B; see mfjle_preset)" if used == "cpu" else ""))
print(config)
histories = pd.concat([r.history.assign(method=m, run=i)
                       for m, res in results.items() for i, r in enumerate(res.runs)])
fig = figures.training_curves(histories, metrics=("train_loss", "val_loss", "val_micro_f1"))
plots.save_figure(fig, output_dir, "curves")
plt.show()"""

TABLE_MD = """\
## 3. The nine metrics beside paper B's Tables 1-2

Mean and standard deviation over the seeds (each seed is its own split). The paper's
numbers for JAFFE and RAF-ML are shown in their own columns; on the synthetic faces there
is nothing to compare with, and on JAFFE the comparison only means something with the
paper preset."""

TABLE_CODE = """\
rows = [{"model": model, **res.mean_std_row(list(MULTILABEL_METRICS))}
        for model, res in results.items()]
ours = pd.DataFrame(rows)
table = pd.DataFrame({
    f"ours: {m}": [f"{r[f'{k}_mean']:.3f} +- {r[f'{k}_std']:.3f}" for k in MULTILABEL_METRICS]
    for m, r in zip(ours["model"], rows, strict=True)
}, index=[f"{k} ({d} is better)" for k, d in MULTILABEL_METRICS.items()])
for paper_ds, models in MFJLE_TABLES.items():
    for m, values in models.items():
        table[f"paper {paper_ds}: {m}"] = [values[k] for k in MULTILABEL_METRICS]
if output_dir:
    table.to_csv(Path(output_dir) / "mfjle_table.csv")
fig = figures.multilabel_comparison(ours, MFJLE_TABLES.get(dataset), title=f"{dataset}, preset {used}")
plots.save_figure(fig, output_dir, "metrics")
plt.show()
table"""

MODULES_MD = """\
## 4. What each module contributes

Each module's own sigmoid, scored alone on the test part of the first seed, next to the
ensemble. With `lambda_i = 0.01` a local module moves the ensemble score by a hundredth
of its logit, so the ensemble mostly follows the global module; the local modules still
learn their own predictors (Adam's steps do not shrink with the loss weight)."""

MODULES_CODE = """\
mfjle_run = results["mfjle"].runs[0]
test = ds.subset(random_split_indices(ds, seed=seeds[0])[2])
per_module = predict_modules(mfjle_run.model, test, mfjle_run.config)
contrib = pd.DataFrame({name: multilabel_report(test.multilabels.numpy(), probs)
                        for name, probs in per_module.items()}).T
single = results["resnet18"].runs[0].test_metrics
contrib.loc["single ResNet-18"] = [single[k] for k in contrib.columns]
if output_dir:
    contrib.to_csv(Path(output_dir) / "module_contribution.csv")
contrib.astype(float).round(3)"""

EXAMPLES_MD = """\
## 5. Examples in the style of paper B's Fig. 8

Test faces of the first seed with their true label sets and what each model predicts
(`=` marks an exactly right set, `x` anything else). Faces where the two models
disagree come first."""

EXAMPLES_CODE = """\
preds = {"ResNet-18": results["resnet18"].runs[0].test_probabilities,
         "MF-JLE": mfjle_run.test_probabilities}
a, b = (p > 0.5 for p in preds.values())
order = np.argsort(~(a != b).any(axis=1), kind="stable")
fig = figures.multilabel_examples(test.images[order].numpy(), test.classes,
                                  test.multilabels.numpy()[order],
                                  {k: v[order] for k, v in preds.items()}, n=6)
plots.save_figure(fig, output_dir, "examples")
plt.show()"""

COMMITTED_MD = """\
## 6. The committed results

`results/mfjle.csv` is made by `scripts/run_mfjle.py` (three seeds per model, each row
with its preset, epochs, device, commit and duration), for example

```
FER_DATA_DIR=/path/to/data python scripts/run_mfjle.py --dataset jaffe --preset cpu --seeds 0 1 2
python scripts/run_mfjle.py --dataset synthetic --preset cpu --seeds 0 1 2
```

Notebook 06 puts these rows beside the paper's tables."""

COMMITTED_CODE = """\
path = REPO_ROOT / "results" / "mfjle.csv"
if path.exists():
    committed = pd.read_csv(path)
    cols = ["dataset", "model", "preset", "epochs", "n_runs"] + [f"{k}_mean" for k in MULTILABEL_METRICS]
    display_table = committed[cols]
else:
    display_table = f"{path} has not been made yet"
display_table"""

SUMMARY_MD = """\
## Summary

* MF-JLE is six ResNet-18s whose logits are added with weights 1 and `lambda_i`; one
  sigmoid of the sum gives the label probabilities.
* The local crops come from five landmarks (the dataset's own, or MTCNN's with a counted
  fallback) and are cut for the whole dataset in one batched `grid_sample` call.
* On a CPU the notebook trains a shrunken version; the printed preset says which one
  produced the numbers, and only the `paper` preset on a GPU is comparable with paper
  B's tables."""


SPEC = [
    ("md", BADGE),
    ("code", COLAB_INSTALL),
    ("md", INTRO),
    ("params", PARAMETERS),
    ("code", SETUP),
    ("md", LANDMARK_MD),
    ("code", LANDMARK_CODE),
    ("md", TRAIN_MD),
    ("code", TRAIN_CODE),
    ("md", TABLE_MD),
    ("code", TABLE_CODE),
    ("md", MODULES_MD),
    ("code", MODULES_CODE),
    ("md", EXAMPLES_MD),
    ("code", EXAMPLES_CODE),
    ("md", COMMITTED_MD),
    ("code", COMMITTED_CODE),
    ("md", SUMMARY_MD),
]


if __name__ == "__main__":
    write(SPEC, NAME, "nb05")
