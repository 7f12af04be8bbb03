# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Experiment cell: one MF-JLE variant on seeded 60/20/20 splits
#
# This notebook is not part of the numbered course. It is the unit of work of paper B's
# ablation sweeps (`scripts/run_mfjle_ablations.py`, notebook 07's paper B section): one
# model (the single ResNet-18 or MF-JLE), one loss (binary cross-entropy, or the
# multi-class cross-entropy of paper B's Fig. 5), one set of the five local weights
# lambda_i of Eq. 1 (Figs. 6 and 7), with or without MixFeature inside the ensemble (an
# experiment neither paper ran, replication notes D27), for one or more seeds. Each seed
# draws its own 60/20/20 split (over images, or over subjects so that no person is in two
# parts) and seeds the training.
#
# For MF-JLE the result has one row per seed and *module*: `ensemble` (paper B's score
# `global + sum_i lambda_i local_i` with the weights it was trained with), `fitted` (the
# same trained modules with the five weights fitted on the validation part after
# training: our extension, never fitted on the test part), `global` and each local module
# alone. The per-epoch histories (validation micro-F1 for Fig. 5) go to `histories.csv`.

# %% tags=["parameters"]
dataset = "synthetic"  # "synthetic" or "jaffe"
data_root = None  # None: $FER_DATA_DIR/<dataset> if set, else data/<dataset>
n_synthetic = None  # synthetic images; None: 600, or 80 in quick mode
data_seed = 0  # seeds the synthetic faces (each seed below draws its own split)
split = "sample"  # 60/20/20 split over "sample" (images) or "subject" (people)
model = "mfjle"  # "mfjle" (global + five local ResNet-18s) or "resnet18" (the single network)
multilabel_loss = "bce"  # "bce" (paper B) or "ce" (multi-class cross-entropy, Fig. 5)
local_weights = [0.01, 0.01, 0.01, 0.01, 0.01]  # lambda_i of Eq. 1 for the five local modules (paper B: 0.01)
mfjle_mix = "none"  # "none", or "mixfeature": MixFeature's groups inside every module (D27)
budget = "cpu"  # "cpu": the CPU preset of fer_utils.mfjle.presets; "paper": paper B's settings
epochs = None  # None: the budget's, or 1 in quick mode
overrides = {}  # any other TrainConfig field by its flat name, e.g. {"batch_size": 16}
seeds = [0]  # one split and training run per seed
checkpoint_dir = None  # per-epoch checkpoints: a killed cell resumes seed by seed
quick = False  # True: a tiny setting (used by the tests)
output_dir = None  # where result.json and the per-epoch histories go

# %% [markdown]
# The next cell checks every parameter and builds the training configuration; a value
# it cannot take stops the notebook here with a message naming it.

# %%
from IPython.display import display

from fer_utils.mfjle.loss import MULTILABEL_LOSSES
from fer_utils.mfjle.presets import MFJLE_PRESETS, mfjle_preset
from fer_utils.runs.params import (
    ParameterError,
    check_choice,
    check_flag,
    check_folder,
    check_int,
    check_seeds,
    pick,
)
from fer_utils.runs.record import RunRecord, config_deviations
from fer_utils.runs.results import settings_text

check_flag("quick", quick)
n_synthetic = pick(n_synthetic, 600, 80, quick)
check_choice("dataset", dataset, ("synthetic", "jaffe"))
check_folder("data_root", data_root)
check_folder("checkpoint_dir", checkpoint_dir)
check_folder("output_dir", output_dir)
check_int("n_synthetic", n_synthetic, 50)
check_int("data_seed", data_seed, 0)
check_choice("split", split, ("sample", "subject"))
check_choice("model", model, ("mfjle", "resnet18"))
check_choice("multilabel_loss", multilabel_loss, MULTILABEL_LOSSES)
check_choice("mfjle_mix", mfjle_mix, ("none", "mixfeature"))
check_choice("budget", budget, tuple(MFJLE_PRESETS))
check_seeds("seeds", seeds)
if not isinstance(overrides, dict):
    raise ParameterError(f"parameter overrides must be a dict of TrainConfig fields, got "
                         f"{overrides!r}")
flat = {"model": model, "multilabel_loss": multilabel_loss, "local_weights": local_weights,
        "checkpoint_dir": checkpoint_dir, "progress": False, **overrides}
if mfjle_mix != "none":
    flat["mfjle_mix"] = mfjle_mix
epochs = pick(epochs, None, 1, quick)
if epochs is not None:
    flat["epochs"] = epochs
if quick:
    for name, value in (("image_size", 32), ("local_size", 32), ("batch_size", 16),
                        ("precise_bn_images", 0)):
        flat.setdefault(name, value)
try:
    config, _ = mfjle_preset(budget, **flat)
except (TypeError, ValueError) as err:
    raise ParameterError(f"the training configuration refuses these settings: {err}") from None
record = RunRecord("mfjle_run", dict(
    dataset=dataset, data_root=data_root, n_synthetic=n_synthetic, data_seed=data_seed,
    split=split, model=model, multilabel_loss=multilabel_loss, local_weights=local_weights,
    mfjle_mix=mfjle_mix, budget=budget, epochs=epochs, overrides=overrides, seeds=seeds,
    checkpoint_dir=checkpoint_dir, quick=quick, output_dir=output_dir,
))
display(record.parameters_table())

# %% [markdown]
# ## The data, the landmarks and the settings
#
# JAFFE's labels are its mean ratings above 3 (six emotions); the synthetic faces' are
# their true distributions' large entries (`fer_utils.mfjle.labels.multilabel_view`).
# The local crops need five landmarks per face: MTCNN's for JAFFE (cached), the exact
# ones for the synthetic faces.

# %%
from dataclasses import replace
from pathlib import Path

import pandas as pd

from fer_utils.data import load_dataset
from fer_utils.mfjle.labels import multilabel_view
from fer_utils.mfjle.landmarks import dataset_landmarks
from fer_utils.training.data import data_fingerprint

options = {"n": n_synthetic, "seed": data_seed} if dataset == "synthetic" else {}
ds = multilabel_view(load_dataset(dataset, root=data_root, **options))
landmarks, report = dataset_landmarks(ds)
ds = replace(ds, landmarks=landmarks)
print(ds.summary())
print(f"landmarks: {report['source']}, {report['n_fallback']} of {report['n_images']} "
      "faces from the fallback rule")
# the budget's departures from its preset, the variant's own settings (model, loss,
# local weights, mixing) left out: they are the variant, not a deviation
variant_fields = {"model": model, "multilabel_loss": multilabel_loss,
                  "local_weights": local_weights, "mfjle_mix": mfjle_mix}
reference = MFJLE_PRESETS[budget].replace(**variant_fields)
record.add_config(budget=budget,
                  deviations=settings_text(config_deviations(config, reference)),
                  train_config=config.to_dict(), classes=list(ds.classes),
                  landmarks=report["source"], landmark_fallbacks=report["n_fallback"],
                  data_fingerprint=data_fingerprint(ds, multilabel=True))
display(config.describe())

# %% [markdown]
# ## Training, one split per seed
#
# Model selection on the validation loss; the test part is used once, at the end.
# `train_loss_last` is the training loss averaged over the last tenth of the epochs and
# `train_loss_drop` how much it still fell over that tenth (near 0: converged). For
# MF-JLE the trained modules are then scored once more with the five local weights
# fitted on the validation part (`fer_utils.mfjle.ensemble.fit_ensemble_weights`) and,
# for a run at paper B's weights, with every lambda of Figs. 6 and 7 (`reweighted:...`).
# The six modules share no parameters, so each learns from its own term of Eq. 1 alone,
# and Adam's steps hardly depend on a constant factor lambda_i of that term: the weights
# mostly act in the score, which re-weighting computes from one training (D28).

# %%
import torch

from fer_utils.data.dataset import LANDMARK_NAMES
from fer_utils.metrics import MULTILABEL_METRICS, multilabel_report
from fer_utils.mfjle.ensemble import ensemble_scores, fit_ensemble_weights
from fer_utils.protocols import random_split_indices, random_split_protocol
from fer_utils.runs.mfjle_ablations import DEFAULT_CELL, VARIANTS
from fer_utils.training.convergence import late_change
from fer_utils.training.data import prepare_data
from fer_utils.training.evaluate import model_context, predict_module_logits


def module_logits(run, part):
    """Logits of every module of a trained MF-JLE on the images ``part`` of ``ds``."""
    ctx = model_context(run.model, run.config)
    return predict_module_logits(run.model, prepare_data(ds.subset(part), run.config,
                                                        ctx.device), ctx)


rows, histories = [], []
for s in seeds:
    result = random_split_protocol(config, ds, seeds=[s], group_by=split, keep_models=True)
    run, summary = result.runs[0], result.table.iloc[0]
    loss_last, loss_drop = late_change(run.history, "train_loss")
    common = {"best_epoch": run.best_epoch, "epochs_trained": len(run.history),
              "n_train": int(summary["n_train"]), "n_val": int(summary["n_val"]),
              "n_test": int(summary["n_test"]), "train_loss_last": loss_last,
              "train_loss_drop": loss_drop, "train_seconds": float(summary["duration_s"])}
    histories.append(run.history.assign(seed=s))
    if model == "resnet18":
        rows.append({"seed": s, "module": "single", **common,
                     **{k: run.test_metrics[k] for k in MULTILABEL_METRICS}})
        continue
    _, val_part, test_part = random_split_indices(ds, seed=s, group_by=split)
    g_val, l_val = module_logits(run, val_part)
    g_test, l_test = module_logits(run, test_part)
    truth = ds.subset(test_part).multilabels.numpy()
    weights = fit_ensemble_weights(g_val, l_val, ds.subset(val_part).multilabels)
    trained = torch.as_tensor(run.config.multilabel.local_weights)
    scored = {"ensemble": ensemble_scores(g_test, l_test, trained),
              "fitted": ensemble_scores(g_test, l_test, weights), "global": g_test}
    scored.update({name: l_test[:, i] for i, name in enumerate(LANDMARK_NAMES)})
    if list(run.config.multilabel.local_weights) == DEFAULT_CELL["local_weights"]:
        # Figs. 6 and 7 by re-weighting these trained modules (replication notes D28)
        scored.update({f"reweighted:{name}": ensemble_scores(g_test, l_test,
                                                             changes["local_weights"])
                       for name, (part, changes) in VARIANTS.items()
                       if part in ("fig6", "fig7")})
    for name, logits in scored.items():
        report_ = multilabel_report(truth, torch.sigmoid(logits.double()).numpy(),
                                    run.config.multilabel.threshold)
        extra = {f"weight_{n}": float(w) for n, w in zip(LANDMARK_NAMES, weights, strict=True)
                 } if name == "fitted" else {}
        rows.append({"seed": s, "module": name, **common, **report_, **extra})
    run.model = None  # free the six networks before the next seed

runs = pd.DataFrame(rows)
for row in rows:
    record.add_metrics(model=model, **row)
if output_dir:
    Path(output_dir).mkdir(parents=True, exist_ok=True)
    pd.concat(histories, ignore_index=True).to_csv(Path(output_dir) / "histories.csv",
                                                   index=False)
runs.round(4)

# %% [markdown]
# ## The result file
#
# Written last, so that a sweep counts this cell as finished only when every run above
# is done.

# %%
if record.write(output_dir):
    print(f"result file: {Path(output_dir) / 'result.json'}")
