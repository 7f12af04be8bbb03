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
# # Experiment cell: shallow label-distribution learners on image features
#
# This notebook is not part of the numbered course. It is the unit of work behind paper
# A's Table 3, where MixFeature is compared with five shallow label distribution learning
# (LDL) methods on JAFFE: AA-kNN, SA-BFGS, EDL, GLLE (followed by SA-BFGS) and LDL-LDML
# (run here through a named stand-in, see `fer_utils.ldl.STAND_INS`). These methods do
# not look at pixels; they learn a map from a fixed feature vector to an emotion
# distribution. A sweep (`python -m fer_utils.sweep notebooks/experiments/ldl_run.ipynb
# -p features lbp cnn ...`) runs it once per grid cell; its `result.json` holds one
# metrics row per seed, fold and method.
#
# Three kinds of features can be used: hand-crafted LBP histograms (`features="lbp"`),
# or the penultimate layer of a CNN trained on the same fold: the baseline CNN
# (`features="cnn"`) or the CNN trained with MixFeature (`features="cnn_mixfeature"`).
# The CNN is trained exactly as the ablation sweep trains its baseline or its default
# MixFeature cell (same configuration, same folds, same run names), so with a shared
# `checkpoint_dir` a network already trained there is read back rather than trained
# again. The CNN's own softmax is scored beside the shallow methods: with MixFeature's
# CNN, that row is paper A's MixFeature entry of Table 3.

# %% tags=["parameters"]
dataset = "synthetic"  # "synthetic", "jaffe" or "ferplus"
data_root = None  # None: $FER_DATA_DIR/<dataset> if set, else data/<dataset>
n_synthetic = None  # synthetic images; None: 600, or 160 in quick mode
protocol = "kfold_sample"  # "kfold_sample" (folds over images, stratified by class) or "kfold" (folds by subject)
folds = None  # number of folds; None: 10, or 2 in quick mode
features = "lbp"  # "lbp" (LBP histograms), "cnn" or "cnn_mixfeature" (penultimate features of each fold's baseline or MixFeature CNN)
methods = None  # None: every method of fer_utils.ldl.LDL_METHODS; else a list of them
budget = "cpu"  # CNN training for CNN features: "cpu" (cpu_budget, as the ablations) or "paper" (preset)
lbp_grid = [4, 4]  # LBP cells as [rows, cols]
image_size = None  # None: 64 for LBP, the CNN configuration's for CNN (32 for both in quick mode)
seeds = [0]  # seeds of the LDL methods and of the CNN training
data_seed = 0  # seeds the synthetic faces, the folds and the max_images subset
checkpoint_dir = None  # CNN checkpoints: a finished run there with the same config and fold is read back
max_images = None  # None: every image; else a stratified subset of this many (FER+: of its training part)
quick = False  # True: a tiny setting (used by the tests)
output_dir = None  # where result.json goes

# %% [markdown]
# The next cell checks every parameter (a wrong value stops the notebook here, and a
# sweep refuses it before running anything) and, for CNN features, builds the training
# configuration of the ablations' baseline.

# %%
from IPython.display import display

from fer_utils.ldl import LDL_METHODS
from fer_utils.mixfeature.presets import PRESETS, cpu_budget, preset
from fer_utils.runs.ablations import KNOB_DEFAULTS
from fer_utils.runs.params import (
    ParameterError,
    check_choice,
    check_flag,
    check_folder,
    check_int,
    check_seeds,
    check_subset,
    pick,
)
from fer_utils.runs.record import RunRecord, config_deviations
from fer_utils.runs.results import settings_text

check_flag("quick", quick)
n_synthetic = pick(n_synthetic, 600, 160, quick)
folds = pick(folds, 10, 2, quick)
methods = pick(methods, list(LDL_METHODS), list(LDL_METHODS), quick)
check_choice("dataset", dataset, ("synthetic", "jaffe", "ferplus"))
check_folder("data_root", data_root)
check_folder("checkpoint_dir", checkpoint_dir)
check_folder("output_dir", output_dir)
check_int("n_synthetic", n_synthetic, 100)
check_choice("protocol", protocol, ("kfold_sample", "kfold"))
check_int("folds", folds, 2)
check_choice("features", features, ("lbp", "cnn", "cnn_mixfeature"))
check_subset("methods", methods, LDL_METHODS)
check_choice("budget", budget, ("cpu", "paper"))
if not (isinstance(lbp_grid, list | tuple) and len(lbp_grid) == 2):
    raise ParameterError(f"parameter lbp_grid must be [rows, cols], got {lbp_grid!r}")
for i, cells in enumerate(lbp_grid):
    check_int(f"lbp_grid[{i}]", cells, 1)
if image_size is not None:
    check_int("image_size", image_size, 8)
check_seeds("seeds", seeds)
check_int("data_seed", data_seed, 0)
if max_images is not None:
    check_int("max_images", max_images, 20)

config = None
cnn_method = {"cnn": "baseline", "cnn_mixfeature": "mixfeature"}.get(features)
if cnn_method is not None:
    # the ablation sweep's cell of this method (protocol_run, its knobs at their
    # defaults), so that the run names, and with them the checkpoints, are the same
    knobs = KNOB_DEFAULTS if cnn_method == "mixfeature" else {}
    flat = {"method": cnn_method, **knobs, "progress": False, "checkpoint_dir": checkpoint_dir}
    size = pick(image_size, None, 32, quick)
    if size is not None:
        flat["image_size"] = size
    if quick:
        flat.update(epochs=1, precise_bn_images=0, model_options={"widths": [8, 8, 8], "pool": 2})
    try:
        config = (cpu_budget if budget == "cpu" else preset)(dataset, **flat)
    except (TypeError, ValueError) as err:
        raise ParameterError(f"the training configuration refuses these settings: {err}") from None
    image_size = config.network.image_size
else:
    image_size = pick(image_size, 64, 32, quick)
if features == "lbp" and max(lbp_grid) > image_size:
    raise ParameterError(f"parameter lbp_grid={lbp_grid!r} has more cells than the "
                         f"{image_size} pixels of image_size")
group_by = "sample" if protocol == "kfold_sample" else "subject"
record = RunRecord("ldl_run", dict(
    dataset=dataset, data_root=data_root, n_synthetic=n_synthetic, protocol=protocol,
    folds=folds, features=features, methods=methods, budget=budget, lbp_grid=lbp_grid,
    image_size=image_size, seeds=seeds, data_seed=data_seed, checkpoint_dir=checkpoint_dir,
    max_images=max_images, quick=quick, output_dir=output_dir,
))
display(record.parameters_table())

# %% [markdown]
# ## The data
#
# The targets are the dataset's own emotion distributions (synthetic faces: the
# distribution each face was drawn from; JAFFE: the mean ratings of 60 raters; FER+: the
# annotators' votes), each row normalised to sum 1.
#
# **JAFFE's neutral faces are left out of this cell**, from training and test alike. The
# raters scored six emotions and no "neutral" (replication notes D19), so a posed-neutral
# face has no target that could name its class, and an LDL method trained on these
# ratings can never predict "neutral". The distributions are therefore taken over the six
# rated emotions, the classes are those six, and a prediction is right when the
# arg-max of the predicted distribution is the posed emotion. The folds themselves are
# drawn over all 213 images, exactly as the CNN's (which is trained on all seven classes),
# and the neutral images are then removed from each fold; how many is recorded as
# `n_neutral_dropped`.
#
# FER+ is used through its official training part only (its test part stays unseen);
# `max_images` draws a class-stratified subset of whatever is used (GLLE's graph grows
# with the square of the training set, so large FER+ runs need it). A subset changes the
# data, so its CNN checkpoints are not the ablation runs': a `checkpoint_dir` holding a run
# of the same name on other data is refused by the training loop, so give such runs their
# own folder.

# %%
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.model_selection import train_test_split

from fer_utils.data import load_dataset
from fer_utils.ldl import GAPS, PAPER_NAMES, STAND_INS
from fer_utils.training.data import data_fingerprint

options = {"n": n_synthetic, "seed": data_seed} if dataset == "synthetic" else {}
ds = load_dataset(dataset, root=data_root, **options)
source = "the official training part" if dataset == "ferplus" else "the dataset"
if dataset == "ferplus":
    ds = ds.subset(ds.split_indices("train"))
subset_note = f"every image of {source}"
if max_images is not None and max_images < len(ds):
    labels_all = ds.labels.numpy()
    counts = np.bincount(labels_all)
    stratify = labels_all if counts[counts > 0].min() >= 2 else None
    chosen, _ = train_test_split(np.arange(len(ds)), train_size=max_images,
                                 random_state=data_seed, stratify=stratify)
    ds = ds.subset(np.sort(chosen))
    subset_note = (f"a class-stratified subset of {max_images} images of {source} "
                   f"(seed {data_seed})")
    if protocol == "kfold_sample":  # stratified folds need `folds` images of each class
        kept = np.bincount(ds.labels.numpy(), minlength=len(ds.classes))
        short = {c: int(n) for c, n in zip(ds.classes, kept, strict=True) if 0 < n < folds}
        if short:
            raise ParameterError(
                f"parameter max_images={max_images} leaves fewer than folds={folds} images "
                f"of {short}; raise max_images or lower folds")
print(ds.summary())
print("used:", subset_note)

# the distribution columns: JAFFE's six rated emotions, otherwise every class
classes = [c for c in ds.classes if not (dataset == "jaffe" and c == "neutral")]
columns = np.array([ds.classes.index(c) for c in classes])
labels = ds.labels.numpy()
keep = np.isin(labels, columns)  # False only for JAFFE's posed-neutral faces
n_neutral_dropped = int((~keep).sum())
targets = ds.distributions.double().numpy()[:, columns]
mass = targets.sum(axis=1)
if not (mass[keep] > 0).all():
    raise ValueError(f"{int((mass[keep] <= 0).sum())} kept images have no distribution mass "
                     f"on {', '.join(classes)}")
targets = targets / np.where(mass > 0, mass, 1.0)[:, None]
# each kept image's posed label as an index into `classes` (-1 for a dropped one)
target_labels = np.array([classes.index(ds.classes[y]) if k else -1
                          for y, k in zip(labels, keep, strict=True)])
print(f"classes of this cell: {', '.join(classes)}; neutral images dropped: "
      f"{n_neutral_dropped}")

record.add_config(
    features=features, classes=classes, dataset_classes=list(ds.classes),
    n_images=len(ds), n_neutral_dropped=n_neutral_dropped, images_used=subset_note,
    data_fingerprint=data_fingerprint(ds), grouped_by=group_by,
    methods={m: PAPER_NAMES[m] for m in methods},
    stand_ins={m: STAND_INS[m] for m in methods if m in STAND_INS},
    edl_gaps=list(GAPS) if "edl" in methods else [],
)
if config is not None:
    record.add_config(
        cnn_method=cnn_method, budget=budget, deviations=settings_text(config_deviations(config, PRESETS[dataset])),
        train_config=config.to_dict(),
    )
    display(config.describe())

# %% [markdown]
# ## Features
#
# LBP: every image is turned gray, resized to `image_size` pixels square, and described
# by uniform LBP histograms over a grid of `lbp_grid` cells (`lbp_features`; the
# oriented LBP^u2 operator with 8 neighbours at radius 2, replication notes D29). These
# involve no learning, so they are computed once for all images. CNN features (`cnn`,
# `cnn_mixfeature`) need a network per fold that has never seen that fold's test images; they are computed in the
# next section, after each fold's CNN is trained (or read back).
#
# Either way the features are then z-scored with the mean and spread of the fold's
# training part only (`standardise`), so nothing of the test part leaks into training.

# %%
from fer_utils.augment import match_channels, resize_uint8
from fer_utils.ldl import cnn_features, lbp_features

lbp = None
if features == "lbp":
    gray = resize_uint8(match_channels(ds.images, 1), image_size)
    operator = {"points": 8, "radius": 2, "method": "nri_uniform"}  # LBP^u2_(8,2), D29
    lbp = lbp_features(gray[:, 0].numpy(), tuple(lbp_grid), **operator)
    record.add_config(feature_dim=int(lbp.shape[1]), lbp_operator=operator)
    print(f"LBP features: {lbp.shape[0]} images x {lbp.shape[1]} values "
          f"({lbp_grid[0]} x {lbp_grid[1]} cells of {image_size} px images)")

# %% [markdown]
# ## Fitting and testing, fold by fold
#
# The folds are those of `kfold_protocol` (`kfold_parts` returns them): each fold's
# training and validation parts together train the shallow methods, and its test part
# tests them. The validation part exists for the CNN, which selects its epoch there;
# the shallow methods have nothing to select, so they get those images too.
#
# Each method predicts a distribution per test face. Its arg-max against the posed label
# gives `test_accuracy`; the predicted and the true distributions are compared with
# PyLDL's six measures (`ldl_report`): Chebyshev, Clark, Canberra and KL divergence
# (lower is better), cosine and intersection (higher is better). In quick mode every
# method runs with very few iterations, so only the plumbing is exercised.
#
# With CNN features, the CNN's own softmax output on the same test faces is scored the
# same way, as `method="cnn_baseline"` (the baseline CNN) or `method="cnn_mixfeature"`
# (the CNN trained with MixFeature, paper A's own entry of Table 3): the rows the shallow
# methods are compared with.
# For JAFFE its seven outputs are cut to the six rated emotions and renormalised (the
# neutral images are not in the test part here), which can only help it a little;
# `cnn_protocol_accuracy` keeps its accuracy over all of the fold's test images and seven
# classes, the number of the ablation rows. `cnn_epochs_read_back` says how many of its
# epochs came from a checkpoint (when that is all of them, the network was read back, not
# trained).
# `fit_seconds` is the time a method took to fit and predict (for the CNN: its training,
# or reading it back).

# %%
import time

from fer_utils.ldl import fit_predict, standardise
from fer_utils.metrics import accuracy, ldl_report
from fer_utils.protocols import kfold_parts, kfold_protocol

# EDL's emotion correlations come from the wheel positions of the classes
method_options = {m: {} for m in methods}
if "edl" in method_options:
    method_options["edl"] = {"classes": classes}
if quick:
    few = {"sa_bfgs": {"max_iterations": 20}, "edl": {"max_iterations": 20},
           "glle_sa_bfgs": {"glle_iterations": 5, "max_iterations": 20},
           "ldl_ldml_standin": {"epochs": 20}}
    for m in methods:
        method_options[m].update(few.get(m, {}))
record.add_config(method_options=method_options)

parts = kfold_parts(ds, n_folds=folds, seed=data_seed, group_by=group_by)
if config is not None:  # the images as the CNN sees them at test time
    net_in = resize_uint8(match_channels(ds.images, config.network.in_channels), image_size)
rows = []
for s in seeds:
    trained = None
    if config is not None:
        trained = kfold_protocol(config.replace(seed=s), ds, n_folds=folds, seed=data_seed,
                                 group_by=group_by, keep_models=True)
    for k, (train_idx, val_idx, test_idx) in enumerate(parts):
        fit_idx = np.sort(np.concatenate([train_idx, val_idx]))
        fit_idx, test_kept = fit_idx[keep[fit_idx]], test_idx[keep[test_idx]]
        d_tr, d_te = targets[fit_idx], targets[test_kept]
        y_te = target_labels[test_kept]
        size = {"n_train": len(fit_idx), "n_test": len(test_kept)}
        if config is not None:
            run = trained.runs[k]
            x_tr = cnn_features(run.model, net_in[fit_idx])
            x_te = cnn_features(run.model, net_in[test_kept])
            # the CNN's own softmax on the same test faces, cut to this cell's classes
            probs = run.test_probabilities[keep[test_idx]][:, columns]
            probs = probs / probs.sum(axis=1, keepdims=True)
            rows.append({"seed": s, "fold": k, "method": f"cnn_{cnn_method}",
                         "test_accuracy": accuracy(y_te, probs.argmax(axis=1)), **size,
                         **ldl_report(d_te, probs), "fit_seconds": run.duration_s,
                         "cnn_protocol_accuracy": run.test_metrics["accuracy"],
                         "cnn_n_fit": len(train_idx),
                         "cnn_epochs_read_back": run.resumed_from_epoch})
        else:
            x_tr, x_te = lbp[fit_idx], lbp[test_kept]
        x_tr, x_te = standardise(x_tr, x_te)
        for m in methods:
            start = time.perf_counter()
            pred = fit_predict(m, x_tr, d_tr, x_te, seed=s, **method_options[m])
            rows.append({"seed": s, "fold": k, "method": m,
                         "test_accuracy": accuracy(y_te, pred.argmax(axis=1)), **size,
                         **ldl_report(d_te, pred),
                         "fit_seconds": time.perf_counter() - start})
runs = pd.DataFrame(rows)
for row in rows:
    record.add_metrics(**row)
runs.round(4)

# %% [markdown]
# Mean and spread (standard deviation over seeds and folds) per method, under paper A's
# column names:

# %%
from fer_utils.runs.table3 import CNN_ROWS

names = {**PAPER_NAMES, **CNN_ROWS}  # the tables' names of the CNNs' own rows
measures = ["test_accuracy", "chebyshev", "clark", "canberra", "kl_divergence", "cosine",
            "intersection"]
summary = runs.groupby("method", sort=False)[measures].agg(["mean", "std"])
summary.index = [names[m] for m in summary.index]
summary.round(4)

# %% [markdown]
# ## The result file
#
# Written last, so that a sweep counts this cell as finished only when every method has
# been fitted and tested on every fold.

# %%
if record.write(output_dir):
    print(f"result file: {Path(output_dir) / 'result.json'}")
