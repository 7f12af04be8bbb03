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
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/fer-replication/fer-replication/blob/main/notebooks/03_mixfeature_synthesis.ipynb)

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
# # 03 · MixFeature synthesis, step by step
#
# A single-label dataset tells us "this face is anger" even when the face also shows some
# sadness. MixFeature (Algorithm 1 of the paper) makes *extra* training samples that carry
# a whole label **distribution**, without new images: inside each mini-batch it mixes the
# **feature vectors** of a few images, weighting each by how close its emotion is to a
# chosen primary emotion on the emotion wheel (notebook 02), and mixes their one-hot
# labels with the same weights.
#
# For a mini-batch of p images with features v_i and labels y_i:
#
# 1. shuffle the batch and cut it into m = ⌊p/K⌋ groups of K different images;
# 2. in each group pick a primary emotion e: the label of a random member;
# 3. weights a_i = softmax(-d(y_i, e)) over the group, from the wheel distances;
# 4. mixed feature v = Σ a_i v_i, target distribution t = Σ a_i onehot(y_i).
#
# The classifier head then predicts q = softmax(head(v)), and the training loss adds
# β · KL(t ‖ q) with β the entropy of t to the usual cross-entropy (notebook 04).
#
# We run it on features from a briefly trained network, on faces of the chosen dataset
# (the built-in synthetic faces by default).

# %% tags=["parameters"]
dataset = "synthetic"  # "synthetic", "jaffe", "ckplus", "ferplus" or "rafml"
data_root = None  # None: $FER_DATA_DIR/<dataset> if set, else data/<dataset>
n_synthetic = None  # synthetic images to generate; None: 1500, or 300 in quick mode
pretrain_epochs = None  # epochs of the brief baseline training; None: 5, or 1 in quick mode
image_size = 48  # network input side in pixels
batch_p = 12  # size of the example mini-batch
k = 3  # group size K
layout = "plutchik"  # wheel layout: "plutchik", "ring", "uniform" or "shuffled"
k_values = None  # group sizes in section 4; None: [2, 3, 4, 5, 6], or [2, 3, 4] in quick mode
quick = False  # True: a small, fast setting (used by the tests)
seed = 0
output_dir = None  # a folder to save figures and tables into, or None

# %% [markdown]
# The next cell checks the parameters, fills in those left at `None` (their defaults
# depend on `quick`; a value you pass yourself is kept) and records the values this run
# uses. Group sizes K run from 2 to the batch they are drawn from.

# %%
from IPython.display import display

from fer_utils.data import DATASETS
from fer_utils.mixfeature.wheel import LAYOUTS
from fer_utils.runs.params import (
    ParameterError,
    check_choice,
    check_flag,
    check_folder,
    check_int,
    pick,
)
from fer_utils.runs.record import RunRecord

check_flag("quick", quick)
n_synthetic = pick(n_synthetic, 1500, 300, quick)
pretrain_epochs = pick(pretrain_epochs, 5, 1, quick)
k_values = pick(k_values, [2, 3, 4, 5, 6], [2, 3, 4], quick)
check_choice("dataset", dataset, DATASETS)
check_folder("data_root", data_root)
check_folder("output_dir", output_dir)
check_int("n_synthetic", n_synthetic, 100)
check_int("pretrain_epochs", pretrain_epochs, 1)
check_int("image_size", image_size, 32)
check_int("k", k, 2)
check_int("batch_p", batch_p, k)  # at least one group of K images
check_choice("layout", layout, LAYOUTS)
if not isinstance(k_values, list | tuple) or not k_values:
    raise ParameterError(f"parameter k_values must be a non-empty list, got {k_values!r}")
for i, kk in enumerate(k_values):
    check_int(f"k_values[{i}]", kk, 2, 64)  # section 4 draws batches of at most 64
if list(k_values) != sorted(set(k_values)):
    raise ParameterError(f"parameter k_values must list increasing group sizes, got {k_values!r}")
check_int("seed", seed, 0)
record = RunRecord("03_mixfeature_synthesis", dict(
    dataset=dataset, data_root=data_root, n_synthetic=n_synthetic,
    pretrain_epochs=pretrain_epochs, image_size=image_size, batch_p=batch_p, k=k,
    layout=layout, k_values=k_values, quick=quick, seed=seed, output_dir=output_dir,
))
display(record.parameters_table())

# %%
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import torch
from IPython.display import Markdown

from fer_utils.augment import match_channels, to_model_input
from fer_utils.data import load_dataset
from fer_utils.data.splits import dataset_parts
from fer_utils.metrics import entropy
from fer_utils.mixfeature.loss import kl_from_logits, mixfeature_loss
from fer_utils.mixfeature.presets import PRESETS, preset
from fer_utils.mixfeature.synthesis import synthesize
from fer_utils.mixfeature.wheel import distance_matrix
from fer_utils.training.data import data_fingerprint
from fer_utils.training.loop import train
from fer_utils.viz.common import save_figure

if output_dir:
    Path(output_dir).mkdir(parents=True, exist_ok=True)
torch.manual_seed(seed)

options = {"n": n_synthetic, "seed": seed} if dataset == "synthetic" else {}
ds = load_dataset(dataset, root=data_root, **options)
parts = dataset_parts(ds, (0.7, 0.15, 0.15), seed=seed)
train_set, val_set = parts["train"], parts["val"]
print(ds.summary())
print(f"train {len(train_set)} / val {len(val_set)} images")
# the example batch and section 4's batches are drawn from the validation images
check_int("batch_p", batch_p, k, len(val_set))
check_int("largest of k_values", k_values[-1], 2, min(64, len(val_set)))

# %% [markdown]
# ## 1. A briefly trained backbone
#
# MixFeature mixes *features*, so we need a network that produces meaningful ones. A few
# epochs of plain cross-entropy training are enough to illustrate the mechanics (notebook
# 04 trains properly). Model selection uses the validation split only.

# %%
base = dataset if dataset in PRESETS else "synthetic"
config = preset(base, epochs=pretrain_epochs, image_size=image_size, seed=seed,
                checkpoint_dir=None)
display(config.describe())
result = train(config, train_set, val_set)
model = result.model.eval()
record.add_config(preset=base, train_config=config.to_dict(), classes=list(ds.classes),
                  images={name: len(part) for name, part in parts.items()},
                  data_fingerprint=data_fingerprint(train_set, val_set))
backbone = result.summary()  # the result file: the backbone's selected epoch
record.add_metrics(seed=seed, part="backbone", val_accuracy=backbone.get("val_accuracy"),
                   best_epoch=backbone["best_epoch"], epochs_trained=backbone["epochs"],
                   train_seconds=backbone["duration_s"])
result.history[["epoch", "train_ce", "val_ce", "val_accuracy"]].round(3)

# %% [markdown]
# ## 2. One mini-batch through Algorithm 1
#
# We take p = `batch_p` validation images, compute their feature vectors, and synthesize
# m = ⌊p/K⌋ new samples. The generator is seeded, so the groups are the same every run.

# %%
classes = ds.classes
rng = np.random.default_rng(seed)
chosen = rng.choice(len(val_set), size=batch_p, replace=False)
images = val_set.images[chosen]
labels = val_set.labels[chosen]
x = to_model_input(match_channels(images, config.network.in_channels),
                   config.network.image_size)
with torch.no_grad():
    features = model.features(x)
distances = distance_matrix(classes, layout)
generator = torch.Generator().manual_seed(seed)
mixed = synthesize(features, labels, k, distances, generator)
print(f"p = {batch_p} images, K = {k}: m = {len(mixed.groups)} synthesized samples; "
      f"feature size {features.shape[1]}")


def primary_alone_on_top(targets, primary, tol=1e-6):
    """Per group: does the primary emotion have the largest target weight, without a tie?"""
    top2 = targets.topk(2, dim=1).values
    at_primary = targets.gather(1, primary[:, None])[:, 0]
    return (at_primary >= top2[:, 0] - tol) & (top2[:, 1] < top2[:, 0] - tol)


rows = []
for g, (members, primary, weights, target) in enumerate(
        zip(mixed.groups, mixed.primary, mixed.weights, mixed.targets, strict=True)):
    rows.append({
        "group": g,
        "member labels": ", ".join(classes[int(labels[i])] for i in members),
        "primary": classes[int(primary)],
        "distances": ", ".join(
            f"{distances[labels[i], primary]:g}" for i in members),
        "weights a": ", ".join(f"{w:.3f}" for w in weights.tolist()),
        "target t": ", ".join(f"{classes[c][:3]} {p:.2f}"
                              for c, p in enumerate(target.tolist()) if p > 0),
        "entropy β": round(float(entropy(target[None])[0]), 3),
        "primary alone on top of t": primary_alone_on_top(target[None], primary[None]).item(),
    })
groups_table = pd.DataFrame(rows).set_index("group")
if output_dir:
    groups_table.to_csv(Path(output_dir) / "groups.csv")
display(groups_table)

n_groups = len(groups_table)
n_primary_top = int(groups_table["primary alone on top of t"].sum())
n_one_hot = int((groups_table["entropy β"] == 0).sum())
record.add_metrics(seed=seed, part="example batch", groups=n_groups,
                   primary_alone_on_top=n_primary_top, one_hot_targets=n_one_hot)
display(Markdown(
    f"In {n_primary_top} of these {n_groups} groups the primary emotion alone has the "
    f"largest target weight, in {n_groups - n_primary_top} it does not; {n_one_hot} of "
    f"the {n_groups} targets are one-hot (β = 0)."
))

# %% [markdown]
# Each row is one synthesized sample. A member whose label equals the primary emotion
# has distance 0, so no member gets a larger weight a. The *target* t adds up the weights
# per label, though, so the primary emotion need not have the largest target weight: two
# members that share a label near the primary emotion can together outweigh the one
# member carrying it (for example, on Plutchik's wheel, two anger images and one contempt
# image with primary contempt: contempt gets 0.45, anger 0.55). The last column of the
# table says in which groups shown here the primary emotion alone has the largest target
# weight (a tie with another emotion does not count). A group whose members share one
# label gets a one-hot target with entropy β = 0: its KL term is multiplied by 0, so it
# adds nothing to the loss (it is an ordinary, if blurred, single-label sample).
#
# Below, the faces of the first groups with their weights, and the target distribution
# each group produces.

# %%
show = min(3, len(mixed.groups))
fig, axes = plt.subplots(show, k + 1, figsize=(2.0 * (k + 1), 2.2 * show), squeeze=False)
for r in range(show):
    for c, i in enumerate(mixed.groups[r].tolist()):
        axes[r, c].imshow(images[i, 0], cmap="gray", vmin=0, vmax=255)
        axes[r, c].set_title(f"{classes[int(labels[i])]}\na = {mixed.weights[r, c]:.2f}",
                             fontsize=8)
        axes[r, c].axis("off")
    ax = axes[r, k]
    ax.bar(range(len(classes)), mixed.targets[r].numpy(), color="tab:orange")
    ax.set_xticks(range(len(classes)), [c[:3] for c in classes], rotation=90, fontsize=7)
    ax.set_ylim(0, 1)
    ax.set_title(f"target t (primary {classes[int(mixed.primary[r])]})", fontsize=8)
fig.tight_layout()
save_figure(fig, output_dir, "groups")
plt.show()

# %% [markdown]
# ## 3. What the head predicts for a mixed feature, and the loss
#
# The classifier head has only seen features of single images so far. For each
# synthesized feature we compare its prediction q with the target t. KL(t ‖ q) measures
# how far q is from t; the loss weights it by β, so a one-hot target (β = 0) adds nothing
# and the more evenly a target spreads, the more its KL counts. The full loss is
# L = λ · L_CE + (1 − λ) · L_KL, with L_CE the cross-entropy of the original images and
# L_KL = mean_i β_i · KL(t_i ‖ q_i) the **β-weighted KL term**, and λ = 0.5 by default
# (the paper does not give λ:
# [replication notes, D2](../docs/replication.md#d2-lambda-and-the-batch-size-are-not-given)).
# The paper's Eq. 6 prints the KL term with a leading minus sign; that is a misprint
# ([replication notes, D3](../docs/replication.md#d3-two-misprints-in-the-loss-and-in-algorithm-1)),
# since minimising a negative KL would push q *away* from t.
#
# `mixfeature_loss` returns the β-weighted term under the key `"kl"`; the table below
# names it L_KL and shows the plain mean KL, mean_i KL(t_i ‖ q_i), separately.

# %%
with torch.no_grad():
    logits = model.head(features)
    mixed_logits = model.head(mixed.features)
    kl = kl_from_logits(mixed.targets, mixed_logits)
    beta = entropy(mixed.targets)
    lam = 0.5
    loss, loss_parts = mixfeature_loss(logits, labels, mixed_logits, mixed.targets, lam=lam)
q = torch.softmax(mixed_logits, dim=1)
compare = pd.DataFrame({
    "primary": [classes[int(p)] for p in mixed.primary],
    "top of t": [classes[int(i)] for i in mixed.targets.argmax(1)],
    "top of q": [classes[int(i)] for i in q.argmax(1)],
    "q at top of t": q.gather(1, mixed.targets.argmax(1, keepdim=True))[:, 0].numpy(),
    "KL(t||q)": kl.numpy(),
    "β": beta.numpy(),
    "β · KL": (beta * kl).numpy(),
}).round(3)
display(compare)

# mixfeature_loss's "kl" is the β-weighted term L_KL, not the plain mean KL
assert np.isclose(loss_parts["kl"], float((beta * kl).mean()), rtol=1e-4, atol=1e-6)
loss_table = pd.Series({
    "L_CE: cross-entropy of the originals": loss_parts["ce"],
    "L_KL: β-weighted KL term, mean_i β_i KL_i": loss_parts["kl"],
    f"L = {lam} · L_CE + {1 - lam} · L_KL": loss_parts["loss"],
    "plain mean KL, mean_i KL_i (not in the loss)": float(kl.mean()),
}, name="value").round(4)
record.add_metrics(seed=seed, part="example batch loss", loss_ce=loss_parts["ce"],
                   loss_kl_weighted=loss_parts["kl"], loss=loss_parts["loss"],
                   mean_kl=float(kl.mean()))
loss_table.to_frame()

# %% [markdown]
# ## 4. How the group size K changes the targets
#
# A larger K mixes more images, so targets spread over more emotions (higher entropy),
# but there are fewer synthesized samples per batch (m = ⌊p/K⌋). The paper found K = 3
# best on JAFFE and FER+ and K = 5 on CK+ (its Fig. 7). Here we draw many random batches
# of 64 validation images and summarise the targets for each K.

# %%
with torch.no_grad():
    all_features = model.features(
        to_model_input(match_channels(val_set.images, config.network.in_channels),
                       config.network.image_size))
all_labels = val_set.labels
p = min(64, len(val_set))
n_batches = 20 if quick else 200
summary = []
for layout_name in ("plutchik", "uniform"):
    d = distance_matrix(classes, layout_name)
    for kk in k_values:
        gen = torch.Generator().manual_seed(seed)
        ent, one_hot, top, primary_top = [], [], [], []
        for _ in range(n_batches):
            idx = torch.randperm(len(val_set), generator=gen)[:p]
            mb = synthesize(all_features[idx], all_labels[idx], kk, d, gen)
            largest = mb.targets.max(1).values
            ent.append(entropy(mb.targets).numpy())
            one_hot.append((largest > 0.999).numpy())
            top.append(largest.numpy())
            primary_top.append(primary_alone_on_top(mb.targets, mb.primary).numpy())
        summary.append({
            "layout": layout_name, "K": kk, "m per batch": p // kk,
            "mean entropy β": np.concatenate(ent).mean(),
            "share one-hot": np.concatenate(one_hot).mean(),
            "mean top probability": np.concatenate(top).mean(),
            "share primary alone on top of t": np.concatenate(primary_top).mean(),
        })
k_table = pd.DataFrame(summary).round(3)
if output_dir:
    k_table.to_csv(Path(output_dir) / "k_effect.csv", index=False)
display(k_table)
for row in summary:  # the result file: one row per layout and K (unrounded)
    record.add_metrics(
        seed=seed, wheel=row["layout"], group_size=row["K"], batches=n_batches,
        samples_per_batch=row["m per batch"], mean_entropy=row["mean entropy β"],
        share_one_hot=row["share one-hot"], mean_top_probability=row["mean top probability"],
        share_primary_alone_on_top=row["share primary alone on top of t"],
    )

by_layout = {name: part.set_index("K") for name, part in k_table.groupby("layout")}
rises = all(part["mean entropy β"].is_monotonic_increasing for part in by_layout.values())
ranges = "; ".join(
    f"{name}: {' → '.join(f'{v:.3f}' for v in part['mean entropy β'])}"
    for name, part in by_layout.items())
display(Markdown(
    f"Over {n_batches} batches per K, the mean entropy of the targets "
    f"{'rises with K under both layouts' if rises else 'does not rise with K under every layout'}"
    f" (K = {', '.join(map(str, k_values))}; {ranges} nats)."
))

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for layout_name, part in k_table.groupby("layout"):
    axes[0].plot(part["K"], part["mean entropy β"], "o-", label=layout_name)
    axes[1].plot(part["K"], part["mean top probability"], "o-", label=layout_name)
axes[0].set_ylabel("mean entropy of t (nats)")
axes[1].set_ylabel("mean probability of t's top emotion")
for ax in axes:
    ax.set_xlabel("group size K")
    ax.legend()
fig.tight_layout()
save_figure(fig, output_dir, "k_effect")
plt.show()

# %% [markdown]
# ## 5. Wheel weights versus uniform weights
#
# With uniform weights (a_i = 1/K) every member counts the same, so the target is simply
# the label frequencies of the group and the primary emotion plays no role. The wheel
# gives the members carrying the primary emotion the largest weight and far emotions
# (neutral above all) small ones; whether the primary emotion then also has the largest
# *target* weight depends on the group, as section 2 showed. The numbers below, from the
# batches of section 4, say how often it does under each layout and whether the wheel's
# targets have lower entropy. Whether any of this helps accuracy is an empirical question
# for notebook 04.

# %%
lines = []
for kk in k_values:
    wheel, uniform = by_layout["plutchik"].loc[kk], by_layout["uniform"].loc[kk]
    lower = "lower" if wheel["mean entropy β"] < uniform["mean entropy β"] else "not lower"
    lines.append(
        f"- K = {kk}: the primary emotion alone has the largest target weight in "
        f"{wheel['share primary alone on top of t']:.1%} of the groups with the Plutchik "
        f"wheel and in {uniform['share primary alone on top of t']:.1%} with uniform "
        f"weights; the wheel's mean target entropy is {lower} "
        f"({wheel['mean entropy β']:.3f} against {uniform['mean entropy β']:.3f} nats)."
    )
display(Markdown(
    "With uniform weights the primary emotion is alone on top only when its label is held "
    "by more members of the group than any other label.\n\n" + "\n".join(lines)
))

# %% [markdown]
# ## Summary
#
# - MixFeature creates ⌊p/K⌋ new samples per batch from features, not pixels, so it costs
#   only a few small tensor operations per step.
# - Their targets are distributions weighted by the wheel; whether the primary emotion
#   gets the largest target weight depends on the group (section 5 counts how often).
#   All-same-label groups give one-hot targets and no KL contribution.
# - K trades the number of synthesized samples against how mixed they are.
#
# Next in the series: **04 · training**, baseline versus MixFeature.

# %% [markdown]
# ## The result file
#
# With `output_dir` set, the last cell writes `output_dir/result.json`: the parameters as
# this run resolved them, the backbone's training config and a fingerprint of its data,
# and the numbers: the backbone's selected epoch, the example batch of sections 2-3 (its
# groups and its loss), and one row per wheel layout and group size K from section 4
# (the targets' mean entropy, share one-hot, mean top probability and how often the
# primary emotion alone is on top). A parameter sweep gathers these files into one table;
# `fer_utils.runs.record.read_result` reads one. The file is written last, and in one
# step, so a run that stopped early leaves none.

# %%
written = record.write(output_dir)
if written:
    print(f"result file: {written}")
