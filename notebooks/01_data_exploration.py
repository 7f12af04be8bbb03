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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/fer-replication/fer-replication/blob/main/notebooks/01_data_exploration.ipynb)

# %%
# Runs only on Google Colab: fetch the repository and install fer_utils into the
# Colab runtime (which already has matched torch and torchvision, so --no-deps keeps them).
import subprocess
import sys

if "google.colab" in sys.modules:
    subprocess.run(
        ["git", "clone", "--depth", "1", "https://github.com/fer-replication/fer-replication", "/content/fer-replication"],
        check=True,
    )
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", "/content/fer-replication"],
        check=True,
    )
    sys.path.insert(0, "/content/fer-replication")

# %% [markdown]
# # 01 · Data exploration
#
# Before training anything, look at the data. This notebook loads one dataset through the
# single interface every later notebook uses, `fer_utils.data.load_dataset`, and answers
# the questions a careful student asks first:
#
# 1. **How many images per emotion?** Class balance decides what "accuracy" means: on
#    FER+ a model that always says *neutral* is already right a third of the time. We set
#    the shares beside Table 1 of the MixFeature paper.
# 2. **What do the faces look like?** A grid of random samples per class.
# 3. **How ambiguous are the labels?** Several datasets record more than one label per
#    image: FER+ has ten crowd votes, JAFFE has mean ratings from 60 people. Their
#    spread is what label distribution learning (MixFeature) learns from.
# 4. **Which emotions appear together?** The multi-label view that MF-JLE is built on.
# 5. **Where are the landmarks?** MF-JLE crops the face around five points.
# 6. **What did the loader leave out, and why?** Nothing is dropped silently.
#
# By default everything runs on the **built-in synthetic faces**: procedurally drawn
# faces whose *true* label distribution is known for every image, so no download is
# needed. Set `dataset` and `data_root` in the next cell to explore a real dataset you
# have (see `data/README.md` for the layouts).
#
# One property of the synthetic faces matters for every later comparison: by default
# their secondary emotions are drawn from the **same Plutchik wheel that MixFeature uses**
# to build its targets, so where MixFeature reaches a lower KL divergence on them, part of
# that advantage is built into the data. Section 2 measures how strongly the wheel shapes
# the blends and shows the option that removes it,
# `load_dataset("synthetic", secondary="random")`
# ([replication notes, D25](../docs/replication.md#d25-the-synthetic-faces-secondary-emotions-follow-the-wheel)).

# %% tags=["parameters"]
dataset = "synthetic"  # "synthetic", "jaffe", "ckplus", "ferplus" or "rafml"
data_root = None  # None: $FER_DATA_DIR/<dataset> if set, else data/<dataset>
loader_options = {}  # extra loader options, e.g. {"mode": "crossentropy"} for FER+
n_synthetic = None  # synthetic images to generate; None: 4000, or 400 in quick mode
synthetic_image_size = None  # synthetic image side in pixels; None: 64, or 48 in quick mode
synthetic_imbalance = "ferplus"  # "uniform", "ferplus" or "jaffe" class shares
synthetic_difficulty = 0.5  # from 0 (clean prototypes) to 1 (strong blends, pose, noise)
multilabel_threshold = 0.25  # synthetic: an emotion is "present" at this probability
quick = False  # True: a small, fast setting (used by the tests)
seed = 0
output_dir = None  # a folder to save figures and tables into, or None

# %% [markdown]
# The next cell checks every parameter, so that a mistyped value stops the notebook here
# with a message naming it. Parameters left at `None` get their default, which depends on
# `quick`; a value you pass yourself is kept, quick mode or not. The table records the
# values this run uses.

# %%
from IPython.display import display

from fer_utils.data import DATASETS
from fer_utils.runs.params import (
    ParameterError,
    check_choice,
    check_flag,
    check_folder,
    check_int,
    check_number,
    pick,
)
from fer_utils.runs.record import RunRecord

check_flag("quick", quick)
n_synthetic = pick(n_synthetic, 4000, 400, quick)
synthetic_image_size = pick(synthetic_image_size, 64, 48, quick)
check_choice("dataset", dataset, DATASETS)
check_folder("data_root", data_root)
check_folder("output_dir", output_dir)
if not isinstance(loader_options, dict):
    raise ParameterError(f"parameter loader_options must be a dict, got {loader_options!r}")
check_int("n_synthetic", n_synthetic, 100)
check_int("synthetic_image_size", synthetic_image_size, 32)
check_choice("synthetic_imbalance", synthetic_imbalance, ("uniform", "ferplus", "jaffe"))
check_number("synthetic_difficulty", synthetic_difficulty, 0.0, 1.0)
check_number("multilabel_threshold", multilabel_threshold, 0.01, 1.0)
check_int("seed", seed, 0)
record = RunRecord("01_data_exploration", dict(
    dataset=dataset, data_root=data_root, loader_options=loader_options,
    n_synthetic=n_synthetic, synthetic_image_size=synthetic_image_size,
    synthetic_imbalance=synthetic_imbalance, synthetic_difficulty=synthetic_difficulty,
    multilabel_threshold=multilabel_threshold, quick=quick, seed=seed, output_dir=output_dir,
))
display(record.parameters_table())

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from IPython.display import Markdown

from fer_utils.data import load_dataset
from fer_utils.data.stats import class_share_table, labels_per_sample
from fer_utils.data.synthetic import EXPRESSION_FEATURES, prototype_matrix, render_faces
from fer_utils.metrics import entropy
from fer_utils.mixfeature.wheel import distance_matrix
from fer_utils.published import REAL_COUNTS, TABLE1_SHARES
from fer_utils.training.data import data_fingerprint
from fer_utils.viz.common import save_figure
from fer_utils.viz.data import (
    class_bars,
    cooccurrence_heatmap,
    distribution_histograms,
    landmark_grid,
    sample_grid,
)

if dataset == "synthetic":
    options = {
        "n": n_synthetic,
        "image_size": synthetic_image_size,
        "imbalance": synthetic_imbalance,
        "difficulty": synthetic_difficulty,
        "multilabel_threshold": multilabel_threshold,
        "seed": seed,
        **loader_options,
    }
else:
    options = dict(loader_options)
ds = load_dataset(dataset, root=data_root, **options)
print(ds.summary())
# for the result file: what was loaded, and the numbers the sections below compute
record.add_config(loader_options=options, classes=list(ds.classes),
                  data_fingerprint=data_fingerprint(ds))
numbers = {"images": len(ds), "classes": ds.num_classes}

# %% [markdown]
# ## 1. Class balance
#
# The table gives each class's count and share. For the paper's datasets it also shows the
# share that Table 1 of the MixFeature paper prints, and the difference. For the
# synthetic data the reference is the share the generator was asked for (FER+-like by
# default here), so the column shows how close a random draw of this size comes to it.
#
# Two things to know about the paper's Table 1: its CK+ column sums to 134% (the shares
# are the CK+48 counts scaled by about 1.19), so for CK+ we compare with the real counts
# instead ([replication notes, D6](../docs/replication.md#d6-table-1s-ck-column-adds-up-to-134-percent));
# and its FER+ column is the *training split* with majority labels
# ([replication notes, Datasets: FER+](../docs/replication.md#fer-ferplus-load_ferplus)).

# %%
reference_name = {"synthetic": synthetic_imbalance}.get(dataset, dataset)
reference = TABLE1_SHARES.get(reference_name)
# Table 1 counts the FER+ training split only
counted = ds.subset(ds.split_indices("train")) if dataset == "ferplus" else ds
table = class_share_table(counted, reference)
if dataset in REAL_COUNTS:
    table["expected count"] = [REAL_COUNTS[dataset].get(c, np.nan) for c in table.index]
table

# %%
fig = class_bars(ds, reference)
save_figure(fig, output_dir, "class_balance")
if output_dir:
    table.to_csv(Path(output_dir) / "class_balance.csv")
plt.show()

# %% [markdown]
# ## 2. What the faces look like
#
# Random faces, one row per class. On the synthetic data, look for the cues the generator
# draws: raised brows and wide eyes for surprise and fear, lowered brows drawn together
# for anger, a smile for happiness, drooping mouth corners for sadness, a wrinkled nose
# for disgust, and a lip corner raised on **one side only** for contempt.

# %%
fig = sample_grid(ds, per_class=4 if quick else 8, seed=seed)
save_figure(fig, output_dir, "sample_grid")
plt.show()

# %% [markdown]
# ### How the synthetic faces are made
#
# Each emotion has an *expression prototype*: a small vector of face movements (brow
# height and tilt, eye opening, mouth curve and opening, nose wrinkle, one-sided lip
# raise). Neutral is the rest face, all zeros. An image's expression is its true label
# distribution times the prototypes, so an image that is 70% surprise and 30% fear gets
# a face between the two. Identity (face shape), pose, lighting and noise are then varied
# per subject and per image. Below: each prototype alone on the average face, then blends
# that move from pure happiness to pure surprise.

# %%
classes = ds.classes if dataset == "synthetic" else ("neutral", "happiness", "surprise",
                                                     "sadness", "anger", "disgust",
                                                     "fear", "contempt")
pure, _ = render_faces(np.eye(len(classes)), image_size=96, classes=classes)
steps = np.linspace(1, 0, len(classes))
mix = np.zeros((len(classes), len(classes)))
mix[:, classes.index("happiness")] = steps
mix[:, classes.index("surprise")] = 1 - steps
blends, _ = render_faces(mix, image_size=96, classes=classes)

fig, axes = plt.subplots(2, len(classes), figsize=(1.6 * len(classes), 3.6))
for ax, img, name in zip(axes[0], pure, classes, strict=True):
    ax.imshow(img, cmap="gray", vmin=0, vmax=255)
    ax.set_title(name, fontsize=9)
for ax, img, row in zip(axes[1], blends, mix, strict=True):
    ax.imshow(img, cmap="gray", vmin=0, vmax=255)
    ax.set_title(f"{row[classes.index('happiness')]:.2f} hap / "
                 f"{row[classes.index('surprise')]:.2f} sur", fontsize=7)
for ax in axes.ravel():
    ax.axis("off")
fig.tight_layout()
save_figure(fig, output_dir, "synthetic_prototypes")
plt.show()
pd.DataFrame(prototype_matrix(classes), index=classes, columns=EXPRESSION_FEATURES).round(2)

# %% [markdown]
# ### Which emotions blend: the wheel is built into the synthetic faces
#
# Besides its dominant emotion, a synthetic face blends in up to two secondary emotions.
# By default (`secondary="wheel"`) the generator picks them with probability proportional
# to exp(−d), d their distance from the dominant emotion on **Plutchik's wheel, the same
# wheel MixFeature uses** to build its target distributions (notebooks 02-03). MixFeature's
# targets therefore favour the same emotion pairs as the true distributions of these faces
# by construction, and where MixFeature reaches a lower KL divergence on them, part of that
# advantage is built into the data rather than learned ([replication notes, D25](../docs/replication.md#d25-the-synthetic-faces-secondary-emotions-follow-the-wheel)).
# `load_dataset("synthetic", secondary="random")` draws the secondary emotions uniformly
# from the other emotions instead; for the same seed it keeps every dominant emotion and
# every weight, and changes only *which* emotions receive the secondary weight.
#
# The table compares the two settings on faces generated with this notebook's parameters
# (drawn at 32 pixels: the distributions do not depend on the image size). It looks at
# the faces that blend emotions and whose dominant emotion is not neutral (neutral is 3
# from every emotion, so the wheel prefers no secondary emotion for it), asks whether the
# *runner-up* emotion, the second most probable, is a wheel neighbour of the dominant one
# (Plutchik distance at most 1), and gives the mean wheel distance from the dominant
# emotion, of the runner-up and of all secondary probability mass.

# %%
def wheel_blend_stats(name, data):
    """How close on Plutchik's wheel each face's secondary emotions are to its top one."""
    dist = data.distributions.double().numpy()
    d = distance_matrix(data.classes, "plutchik").double().numpy()
    rows = np.arange(len(dist))
    top = dist.argmax(axis=1)
    rest = dist.copy()
    rest[rows, top] = 0.0
    # faces with some secondary probability whose top emotion is not neutral
    blended = rest.sum(axis=1) > 1e-6
    if "neutral" in data.classes:
        blended &= top != data.classes.index("neutral")
    row = {"data": name, "faces counted": int(blended.sum())}
    if not blended.any():  # e.g. at difficulty 0 nothing blends
        return row
    runner_up = rest.argmax(axis=1)
    d_runner_up = d[top, runner_up][blended]
    d_mass = (rest * d[top]).sum(axis=1)[blended] / rest.sum(axis=1)[blended]
    return {
        **row,
        "runner-up is a wheel neighbour %": 100 * np.mean(d_runner_up <= 1),
        "mean distance of runner-up": d_runner_up.mean(),
        "mean distance of secondary mass": d_mass.mean(),
    }


synthetic_options = dict(options) if dataset == "synthetic" else {
    "n": n_synthetic, "imbalance": synthetic_imbalance, "difficulty": synthetic_difficulty,
    "seed": seed}
blend_rows = []
for mode in ("wheel", "random"):
    faces = load_dataset("synthetic", **{**synthetic_options, "image_size": 32,
                                         "secondary": mode})
    blend_rows.append(wheel_blend_stats(f'synthetic, secondary="{mode}"', faces))
if dataset != "synthetic" and ds.distributions is not None:
    blend_rows.append(wheel_blend_stats(dataset, ds))
blend_table = pd.DataFrame(blend_rows).set_index("data").round(2)
if output_dir:
    blend_table.to_csv(Path(output_dir) / "secondary_emotions.csv")
display(blend_table)

wheel_row, random_row = blend_rows[0], blend_rows[1]
col = "runner-up is a wheel neighbour %"
if min(wheel_row["faces counted"], random_row["faces counted"]) == 0:
    verdict = ("No face here blends a non-neutral dominant emotion with others (at "
               "`synthetic_difficulty = 0` no face blends), so the two settings cannot differ.")
else:
    how = ("more often" if wheel_row[col] > random_row[col] else
           "not more often")
    verdict = (
        f"With `secondary=\"wheel\"` the runner-up emotion is a wheel neighbour of the "
        f"dominant one for {wheel_row[col]:.1f}% of the faces counted (mean distance "
        f"{wheel_row['mean distance of runner-up']:.2f}); with `secondary=\"random\"` for "
        f"{random_row[col]:.1f}% (mean distance "
        f"{random_row['mean distance of runner-up']:.2f}): the wheel setting pairs "
        f"neighbours {how}. To judge MixFeature without this help, train it on faces from "
        f"`load_dataset(\"synthetic\", secondary=\"random\")`; "
        f"`loader_options = {{\"secondary\": \"random\"}}` explores those faces here."
    )
if dataset == "synthetic":
    verdict += (f" This notebook's faces were generated with "
                f"`secondary=\"{ds.info.get('secondary', 'wheel')}\"`.")
display(Markdown(verdict))
numbers["runner_up_neighbour_pct_wheel"] = wheel_row.get(col)
numbers["runner_up_neighbour_pct_random"] = random_row.get(col)

# %% [markdown]
# ## 3. How ambiguous are the labels?
#
# A *label distribution* gives every emotion a probability for one image. Left: how much
# probability the top emotion gets. A value near 1 is an unambiguous face; values near
# 0.5 or below mean the face mixes emotions. Middle: the entropy of each distribution
# (0 for a single emotion, log K when all K are equally likely). MixFeature weights the
# KL term of each sample it synthesizes by the same quantity, the entropy of that
# sample's target (notebook 03). Right: the raw annotation the distribution came from
# (votes for FER+ and synthetic data, mean ratings from 1 to 5 for JAFFE).

# %%
if ds.distributions is None:
    print(f"{dataset} has single labels only: no distribution to show.")
else:
    fig = distribution_histograms(ds)
    save_figure(fig, output_dir, "distributions")
    plt.show()
    top = ds.distributions.max(dim=1).values.numpy()
    print(f"top emotion below 0.5 probability: {np.mean(top < 0.5):.1%} of images "
          f"(lowest top probability {top.min():.2f}); "
          f"mean entropy {entropy(ds.distributions).mean().item():.3f} nats "
          f"(max possible {np.log(ds.num_classes):.3f})")
    agrees = (ds.distributions.argmax(dim=1) == ds.labels).float().mean().item()
    print(f"the single label equals the distribution's top emotion for {agrees:.1%} "
          "of images")
    numbers.update(share_top_below_half=np.mean(top < 0.5),
                   mean_entropy=entropy(ds.distributions).mean().item(),
                   share_label_is_top=agrees)

# %% [markdown]
# ## 4. Which emotions appear together?
#
# Turning a distribution into a *set* of labels (multi-label learning, as in MF-JLE)
# needs a rule: for JAFFE an emotion is present when its mean rating is above 3; for the
# synthetic data when its true probability reaches `multilabel_threshold`. The matrix
# counts images carrying both emotions; the diagonal counts every image carrying that
# emotion, alone or together with others. If emotions that sit near each other on the
# emotion wheel (notebook 02) go together, the other emotions an image carries should be
# wheel neighbours of its label more often than chance; on the default synthetic faces
# that is built in (section 2), on real data it is a question the numbers below answer.

# %%
if ds.multilabels is None:
    print(f"{dataset} has no multi-label annotation.")
else:
    fig = cooccurrence_heatmap(ds)
    save_figure(fig, output_dir, "cooccurrence")
    plt.show()
    display(labels_per_sample(ds.multilabels).to_frame().T)

    # Each image's other emotions, compared with its label: wheel neighbours or not?
    present = ds.multilabels.numpy() > 0.5
    label = ds.labels.numpy()
    rows = np.arange(len(label))
    d = distance_matrix(ds.classes, "plutchik").numpy()
    neighbour = (d <= 1) & ~np.eye(ds.num_classes, dtype=bool)
    others = present.copy()
    others[rows, label] = False
    n_others = int(others.sum())
    if n_others == 0:
        print("No image carries an emotion besides its label.")
    else:
        observed = 100 * (others & neighbour[label]).sum() / n_others
        # chance: the other emotion drawn evenly from the emotions this data ever carries
        candidates = present.any(axis=0)[None, :] & ~np.eye(ds.num_classes, dtype=bool)[label]
        chance_per_image = (neighbour[label] & candidates).sum(1) / np.maximum(
            candidates.sum(1), 1)
        chance = 100 * (others.sum(1) * chance_per_image).sum() / n_others
        how = "more" if observed > chance else "not more"
        numbers.update(cooccurring_neighbour_pct=observed, cooccurring_neighbour_chance_pct=chance)
        print(f"{n_others} times an image carries an emotion besides its label; "
              f"{observed:.1f}% of these are wheel neighbours of the label (Plutchik "
              f"distance <= 1), against {chance:.1f}% if that emotion were any other "
              f"emotion of the data with equal chance: neighbours co-occur {how} often "
              "than chance.")

# %% [markdown]
# ## 5. Five facial landmarks
#
# MF-JLE cuts five local crops around the eye centres, the nose tip and the mouth corners.
# The synthetic faces know these points exactly (they are drawn from them); RAF-ML ships
# them; for JAFFE, CK+ and FER+ they are found with a face-landmark detector (MTCNN) in
# notebook 05.

# %%
if ds.landmarks is None:
    print(f"{dataset} ships no landmarks: notebook 05 detects them.")
else:
    fig = landmark_grid(ds, n=6 if quick else 8, seed=seed)
    save_figure(fig, output_dir, "landmarks")
    plt.show()

# %% [markdown]
# ## 6. What the loader left out
#
# Real datasets have faults: FER+ has rows that are not faces and names that repeat,
# JAFFE has ratings for pictures that are not in the archive. Each loader counts what it
# drops, by reason, instead of dropping silently.

# %%
if ds.dropped:
    dropped = pd.Series(ds.dropped, name="dropped").rename_axis("reason").to_frame()
    display(dropped)
else:
    print(f"{dataset}: nothing was dropped ({len(ds)} samples kept).")
numbers["dropped"] = sum(ds.dropped.values()) if ds.dropped else 0
if ds.split is not None:
    per_split = pd.Series(ds.split).value_counts().rename("images").rename_axis("split")
    display(per_split.to_frame().T)
    numbers.update({f"images_{name}": n for name, n in per_split.items()})

# %% [markdown]
# **Identical images.** The loaders hash every decoded image. In JAFFE and CK+ a
# pixel-identical image under two names can only be a copying mistake, and the loaders
# refuse it by default (`duplicates="keep"` or `"drop"` to override). The real FER+
# folders hold many byte-identical faces, some of them in the validation or test split
# with a twin in training: a test image whose twin was trained on is partly a training
# image, which flatters every FER+ test accuracy. `load_dataset("ferplus")` counts them
# (measured on 2026-12-02 with majority labels: 232 of the 3,137 test images and 231 of
# the 3,191 validation images have a twin in training), and `duplicates="drop"` removes
# those validation and test images. The counts of the dataset loaded here:

# %%
duplicates = ds.info.get("duplicates")
if duplicates is None:
    print(f"{dataset}: no duplicate report (generated data, or a loader that refuses "
          "duplicates instead of counting them)")
else:
    display(pd.Series(duplicates["across"], name="images").rename_axis("twin").to_frame())
    display(pd.DataFrame(duplicates["within"]).T.rename_axis("within split"))

# %% [markdown]
# ## Summary
#
# - The class balance decides how to read accuracy; report mean per-class accuracy too.
# - Where a dataset has votes or ratings, its labels are distributions, not single
#   classes: that is the signal MixFeature imitates by mixing features (notebooks 02-04).
# - Emotions co-occur, which is what the multi-label MF-JLE ensemble models (notebook 05).
# - The synthetic faces' secondary emotions follow the same wheel as MixFeature's targets
#   unless generated with `secondary="random"`: keep that in mind when MixFeature's KL
#   looks good on them.
#
# Next in the series: **02 · the emotion wheel**, which decides how MixFeature mixes.

# %% [markdown]
# ## The result file
#
# With `output_dir` set, the last cell writes `output_dir/result.json`: the parameters as
# this run resolved them, the loader options and a fingerprint of the data, and one row
# of numbers: the image and class counts, the images per split and the images dropped,
# and, where the dataset has what they need, the label statistics of sections 2-4. A
# parameter sweep gathers these files into one table; `fer_utils.runs.record.read_result`
# reads one. The file is written last, and in one step, so a run that stopped early
# leaves none.

# %%
record.add_metrics(seed=seed, **numbers)
written = record.write(output_dir)
if written:
    print(f"result file: {written}")
