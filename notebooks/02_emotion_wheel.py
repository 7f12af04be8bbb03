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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/fer-replication/fer-replication/blob/main/notebooks/02_emotion_wheel.ipynb)

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
# # 02 · The emotion wheel
#
# MixFeature (notebook 03) mixes the features of a few images and must decide **how much
# each image counts** in the mix. It answers with an *emotion wheel*: emotions that sit
# close together on the wheel (fear and surprise, say) are similar, so an image whose
# emotion is close to the group's chosen *primary* emotion gets a large weight, and a far
# one a small weight.
#
# Concretely, for a group of K images with labels y_1..y_K and a primary emotion e, let
# d_i be the wheel distance between y_i and e. The weights are (Eq. 3 of the paper)
#
# $$a_i = \frac{\exp(-d_i)}{\sum_j \exp(-d_j)},$$
#
# a softmax of the negative distances. This notebook builds the distances, draws the
# wheel, shows the weights for example groups, and makes one ambiguity in the paper
# concrete.

# %% tags=["parameters"]
dataset = "synthetic"  # whose classes to use: "synthetic", "jaffe", "ckplus", "ferplus", "rafml"
data_root = None  # only needed for a real dataset
layout = "plutchik"  # the layout used for the example groups: "plutchik", "ring", "uniform" or "shuffled"
quick = False  # True: a small, fast setting (used by the tests)
seed = 0
output_dir = None  # a folder to save figures and tables into, or None

# %% [markdown]
# The next cell checks the parameters (a layout name that does not exist stops the
# notebook here, naming the layouts there are) and records the values this run uses.

# %%
from IPython.display import display

from fer_utils.data import DATASETS
from fer_utils.mixfeature.wheel import LAYOUTS
from fer_utils.runs.params import check_choice, check_flag, check_folder, check_int
from fer_utils.runs.record import RunRecord

check_choice("dataset", dataset, DATASETS)
check_choice("layout", layout, LAYOUTS)
check_folder("data_root", data_root)
check_folder("output_dir", output_dir)
check_flag("quick", quick)
check_int("seed", seed, 0)
record = RunRecord("02_emotion_wheel", dict(dataset=dataset, data_root=data_root, layout=layout,
                                           quick=quick, seed=seed, output_dir=output_dir))
display(record.parameters_table())

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch

from fer_utils.data import CANONICAL_CLASSES, load_dataset
from fer_utils.mixfeature.wheel import (
    PLUTCHIK_PETALS,
    ambiguity_table,
    distance_matrix,
    mixing_weights,
    wheel_positions,
)
from fer_utils.viz.common import save_figure
from fer_utils.viz.data import matrix_heatmap
from fer_utils.viz.wheel import wheel_polar

if dataset == "synthetic":
    classes = CANONICAL_CLASSES  # the synthetic data uses all eight canonical emotions
else:
    classes = load_dataset(dataset, root=data_root).classes
print(f"{len(classes)} classes: {', '.join(classes)}")
record.add_config(classes=list(classes))  # for the result file
if output_dir:
    Path(output_dir).mkdir(parents=True, exist_ok=True)

# %% [markdown]
# ## 1. Four layouts
#
# **Plutchik** (the default). Plutchik's wheel has eight petals: joy, trust, fear,
# surprise, sadness, disgust, anger, anticipation. Each FER emotion sits on its petal
# (happiness on joy); contempt, which Plutchik does not list, sits halfway between
# disgust and anger. Adjacent petals are 1 apart and the distance goes the short way
# round the circle, so the largest distance is 4 (opposite petals).
#
# **Ring.** Only the dataset's own emotions, in Plutchik's order, placed on a ring where
# neighbours are 1 apart. On a dataset without trust and anticipation this pulls anger
# next to happiness.
#
# **Uniform.** Every distance is 0, so every weight is 1/K: MixFeature without the wheel
# (the paper's unguided variant).
#
# **Shuffled.** A control for the ablations: Plutchik's positions dealt out again so that
# every emotion moves (happiness sits where sadness was, surprise where happiness was,
# ...). Its distances spread like Plutchik's but say nothing true about which emotions
# are alike, so a model that does as well with it as with Plutchik's wheel is not using
# the wheel's meaning.
#
# In every layout except uniform, **neutral** (added by the authors, not on Plutchik's
# wheel) is 3 from every emotion. It is drawn in the centre.

# %%
for name in ("plutchik", "ring", "shuffled"):
    petals = PLUTCHIK_PETALS if name == "plutchik" else None  # grey: Plutchik's petal names
    fig = wheel_polar(wheel_positions(classes, name), f"{name} layout", petals=petals)
    save_figure(fig, output_dir, f"wheel_{name}")
    plt.show()

# %% [markdown]
# ## 2. Distance matrices
#
# Rows and columns follow the dataset's class order, so the matrix can be indexed with
# the integer labels directly during training.

# %%
for name in LAYOUTS:
    d = distance_matrix(classes, name).numpy()
    fig = matrix_heatmap(d, classes, f"{name}: wheel distance", fmt=".1f")
    save_figure(fig, output_dir, f"distances_{name}")
    plt.show()

# %% [markdown]
# ## 3. Weights for example groups
#
# Each row is one group of K = 3 images (their labels) with its primary emotion. An
# image whose label *is* the primary emotion has distance 0, so no image in the group
# gets a larger weight (it shares the largest with any other image at distance 0, and
# under the uniform layout with every image). On the Plutchik and ring layouts,
# neighbours of the primary emotion on the wheel come next and neutral, at distance 3,
# gets little. When every image in a group has the same label, all distances are 0 and
# the weights are equal: the mix is then just an average of three images of one class,
# with a one-hot target.

# %%
examples = [
    (("anger", "anger", "sadness"), "anger"),
    (("anger", "sadness", "happiness"), "anger"),
    (("fear", "surprise", "happiness"), "fear"),
    (("disgust", "contempt", "anger"), "contempt"),
    (("happiness", "neutral", "surprise"), "happiness"),
    (("sadness", "sadness", "sadness"), "sadness"),
]
examples = [(g, p) for g, p in examples if set(g) | {p} <= set(classes)]
rows = []
for name in LAYOUTS:
    d = distance_matrix(classes, name)
    for group, primary in examples:
        idx = torch.tensor([classes.index(c) for c in group])
        dist = d[idx, classes.index(primary)]
        weights = mixing_weights(dist)
        rows.append({
            "layout": name,
            "group": " + ".join(group),
            "primary": primary,
            "distances": ", ".join(f"{x:g}" for x in dist.tolist()),
            "weights": ", ".join(f"{w:.3f}" for w in weights.tolist()),
        })
weights_table = pd.DataFrame(rows)
if output_dir:
    weights_table.to_csv(f"{output_dir}/example_weights.csv", index=False)
weights_table[weights_table.layout == layout]

# %% [markdown]
# The same groups under every layout, side by side: the guided layouts differ in *which*
# neighbours they favour, the uniform layout favours none.

# %%
weights_table.pivot(index=["group", "primary"], columns="layout", values="weights")

# %% [markdown]
# ## 4. The paper's ambiguity ([replication notes, D1](../docs/replication.md#d1-the-emotion-wheel-where-anger-sits))
#
# The paper explains the wheel with an example: anger should mix more with sadness than
# with happiness, *because anger and sadness are adjacent*. On Plutchik's wheel they are
# not: anger is two petals from sadness **and** two from joy (happiness). No layout we
# can build from the paper's description puts anger next to sadness, so the claim
# cannot be reproduced as stated. We keep Plutchik's real wheel as the default, offer
# the ring and uniform layouts (and the shuffled control, which by chance of its
# scrambling puts anger half a petal from sadness: it is not a reading of the paper), and
# let you pass your own distance matrix. The table
# shows the two distances, and the weights sadness and happiness receive in an
# (anger, sadness, happiness) group whose primary emotion is anger.

# %%
ambiguity = ambiguity_table()
if output_dir:
    ambiguity.to_csv(f"{output_dir}/ambiguity.csv")
for reading, row in ambiguity.iterrows():  # the result file: one row per reading
    record.add_metrics(name=reading, d_anger_sadness=row["d(anger, sadness)"],
                       d_anger_happiness=row["d(anger, happiness)"],
                       a_sadness=row["a(sadness)"], a_happiness=row["a(happiness)"],
                       anger_nearer_sadness=int(row["anger nearer sadness"]))
ambiguity

# %% [markdown]
# ## 5. Your own wheel
#
# Any symmetric matrix with a zero diagonal and non-negative distances works, given as a
# K x K array in the class order or as a dictionary of pairs. Here is one that follows
# the paper's sentence literally: anger next to sadness (distance 1) and far from
# happiness (distance 4), every other pair as on Plutchik's wheel.

# %%
custom = distance_matrix(classes, "plutchik").clone()
if {"anger", "sadness", "happiness"} <= set(classes):
    a, s, h = (classes.index(c) for c in ("anger", "sadness", "happiness"))
    custom[a, s] = custom[s, a] = 1.0
    custom[a, h] = custom[h, a] = 4.0
custom = distance_matrix(classes, custom.numpy())  # validated like any user matrix
group = torch.tensor([classes.index(c) for c in ("anger", "sadness", "happiness")
                      if c in classes])
custom_weights = mixing_weights(custom[group, classes.index("anger")]).numpy()
print("weights of (anger, sadness, happiness) with primary anger:", custom_weights.round(3))
if len(group) == 3:  # the result file: the same row as the readings above
    record.add_metrics(name="your own wheel: anger next to sadness",
                       d_anger_sadness=float(custom[a, s]),
                       d_anger_happiness=float(custom[a, h]),
                       a_sadness=custom_weights[1], a_happiness=custom_weights[2],
                       anger_nearer_sadness=int(custom[a, s] < custom[a, h]))
try:
    distance_matrix(classes, np.ones((len(classes), len(classes))))
except ValueError as err:
    print("a bad matrix is refused:", err)

# %% [markdown]
# ## Summary
#
# - The wheel turns "these emotions are similar" into distances, and Eq. 3 turns
#   distances into mixing weights.
# - The paper's own example does not match Plutchik's wheel; the layout is therefore a
#   parameter (`wheel_layout` in training; notebooks 03 and 04 take it as a parameter).
#   No notebook compares the layouts' accuracy yet.
#
# Next in the series: **03 · MixFeature synthesis**, which uses these weights to build
# new training samples.

# %% [markdown]
# ## The result file
#
# With `output_dir` set, the last cell writes `output_dir/result.json`: the parameters of
# this run, the classes used, and one row per reading of the ambiguity table of section 4
# (plus the wheel of section 5): the two distances from anger, the weights sadness and
# happiness receive, and whether anger ends up nearer sadness (1) or not (0). A parameter
# sweep gathers these files into one table; `fer_utils.runs.record.read_result` reads
# one. The file is written last, and in one step, so a run that stopped early leaves
# none.

# %%
written = record.write(output_dir)
if written:
    print(f"result file: {written}")
