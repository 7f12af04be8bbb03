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
# # Experiment cell: one method under one protocol
#
# This notebook is not part of the numbered course. It is the unit of work of the
# ablation sweeps (paper A's Table 4, Table 5 and Fig. 7): one training method, one set
# of MixFeature knobs, one evaluation protocol, one or more training seeds. A sweep
# (`python -m fer_utils.sweep notebooks/experiments/protocol_run.ipynb -p method ...`,
# README "Parameter sweeps") runs it once per grid cell, and its `result.json` holds one
# metrics row per seed and fold, which is what the significance tests of Table 5 pair on.
#
# Protocols (replication notes D5 and D12): `kfold` (folds by subject), `kfold_sample`
# (folds over images, stratified by class), `holdout45_subject_expression`,
# `holdout45_sample`, and `official` (the dataset's own split). The model is always
# selected on a validation part carved from the training part; each test part is used
# once.

# %% tags=["parameters"]
dataset = "synthetic"  # "synthetic", "jaffe", "ckplus", "ferplus" or "rafml"
data_root = None  # None: $FER_DATA_DIR/<dataset> if set, else data/<dataset>
n_synthetic = None  # synthetic images; None: 600, or 160 in quick mode
synthetic_secondary = "wheel"  # synthetic blends: "wheel" (neighbours on the wheel) or "random" (replication notes D25)
protocol = "kfold"  # "kfold", "kfold_sample", "holdout45_subject_expression", "holdout45_sample" or "official"
folds = None  # folds of the k-fold protocols; None: 10, or 2 in quick mode
method = "mixfeature"  # "baseline", "mixfeature" or a Table 4 method ("mixup", "cutmix", "augmix", "gridmask", "saliencymix", "mixstyle", "tokenmix")
mix_k = 3  # MixFeature's group size K
mix_lambda = 0.5  # weight of the cross-entropy term, Eq. 8 (1.0 trains like the baseline)
mix_beta = "sample"  # Eq. 7's beta: "sample" or "batch" (D11)
mix_primary = "member"  # primary emotion: "member" or "label" (D11)
wheel_layout = "plutchik"  # "plutchik", "ring", "uniform" or "shuffled"
budget = "paper"  # "paper": the dataset's preset (paper A's settings); "cpu": its converged CPU budget (D26)
epochs = None  # None: the preset's (or budget's), or 1 in quick mode
image_size = None  # None: the preset's, or 32 in quick mode
lr = None  # None: the preset's
overrides = {}  # any other TrainConfig field by its flat name, e.g. {"batch_size": 32}
seeds = [0]  # training seeds; each trains every fold again
data_seed = 0  # seeds the synthetic faces, the folds and the hold-out
checkpoint_dir = None  # per-epoch checkpoints: a killed cell resumes fold by fold
quick = False  # True: a tiny setting (used by the tests)
output_dir = None  # where result.json and the per-epoch histories go

# %% [markdown]
# The next cell checks every parameter and builds the training configuration from the
# dataset's preset; a field that does not exist or a value it cannot take stops the
# notebook here with a message naming it.

# %%
from IPython.display import display

from fer_utils.data import DATASETS
from fer_utils.mixfeature.presets import PRESETS, cpu_budget, preset
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
from fer_utils.training.config import METHODS

PROTOCOLS = ("kfold", "kfold_sample", "holdout45_subject_expression", "holdout45_sample",
             "official")
check_flag("quick", quick)
n_synthetic = pick(n_synthetic, 600, 160, quick)
folds = pick(folds, 10, 2, quick)
check_choice("dataset", dataset, DATASETS)
check_folder("data_root", data_root)
check_folder("checkpoint_dir", checkpoint_dir)
check_folder("output_dir", output_dir)
check_int("n_synthetic", n_synthetic, 100)
check_choice("synthetic_secondary", synthetic_secondary, ("wheel", "random"))
check_choice("protocol", protocol, PROTOCOLS)
check_int("folds", folds, 2)
check_choice("method", method, METHODS)
check_choice("budget", budget, ("paper", "cpu"))
check_seeds("seeds", seeds)
check_int("data_seed", data_seed, 0)
if not isinstance(overrides, dict):
    raise ParameterError(f"parameter overrides must be a dict of TrainConfig fields, got "
                         f"{overrides!r}")
flat = {"method": method, "mix_k": mix_k, "mix_lambda": mix_lambda, "mix_beta": mix_beta,
        "mix_primary": mix_primary, "wheel_layout": wheel_layout,
        "checkpoint_dir": checkpoint_dir, "progress": False, **overrides}
for name, value, quick_value in (("epochs", epochs, 1), ("image_size", image_size, 32),
                                 ("lr", lr, None)):
    value = pick(value, None, quick_value, quick)
    if value is not None:
        flat[name] = value
if quick:
    flat.setdefault("precise_bn_images", 0)
    flat.setdefault("model_options", {"widths": [8, 8, 8], "pool": 2})
preset_name = dataset if dataset in PRESETS else "synthetic"
try:
    config = (cpu_budget if budget == "cpu" else preset)(preset_name, **flat)
except (TypeError, ValueError) as err:
    raise ParameterError(f"the training configuration refuses these settings: {err}") from None
record = RunRecord("protocol_run", dict(
    dataset=dataset, data_root=data_root, n_synthetic=n_synthetic,
    synthetic_secondary=synthetic_secondary, protocol=protocol, folds=folds, method=method,
    mix_k=mix_k, mix_lambda=mix_lambda, mix_beta=mix_beta, mix_primary=mix_primary,
    wheel_layout=wheel_layout, budget=budget, epochs=epochs, image_size=image_size, lr=lr,
    overrides=overrides, seeds=seeds, data_seed=data_seed, checkpoint_dir=checkpoint_dir,
    quick=quick, output_dir=output_dir,
))
display(record.parameters_table())

# %% [markdown]
# ## The data and the settings

# %%
from pathlib import Path

import pandas as pd

from fer_utils.data import load_dataset
from fer_utils.protocols import holdout_protocol, kfold_protocol, official_split_protocol
from fer_utils.training.convergence import late_change
from fer_utils.training.data import data_fingerprint

options = ({"n": n_synthetic, "seed": data_seed, "secondary": synthetic_secondary}
           if dataset == "synthetic" else {})
ds = load_dataset(dataset, root=data_root, **options)
print(ds.summary())
record.add_config(preset=preset_name, budget=budget,
                  deviations=settings_text(config_deviations(config, PRESETS[preset_name])),
                  train_config=config.to_dict(), classes=list(ds.classes),
                  data_fingerprint=data_fingerprint(ds))
display(config.describe())

# %% [markdown]
# ## Training under the protocol
#
# One run per fold (k-fold) or per seed (hold-out, official split). The table has one row
# per run; `train_ce_last` is the training cross-entropy averaged over the last tenth of
# the epochs and `train_ce_drop` how much it still fell over that tenth (near 0: the run
# has converged; for the mixing methods of Table 4 the training loss is measured on the
# mixed labels, so compare it within a method, not across methods).

# %%
results = []
if protocol.startswith("kfold"):
    group_by = "sample" if protocol == "kfold_sample" else "subject"
    for s in seeds:
        results.append((s, kfold_protocol(config.replace(seed=s), ds, n_folds=folds,
                                          seed=data_seed, group_by=group_by)))
elif protocol.startswith("holdout45"):
    results.append((None, holdout_protocol(config, ds, seed=data_seed,
                                           group_by=protocol.removeprefix("holdout45_"),
                                           train_seeds=seeds)))
else:
    results.append((None, official_split_protocol(config, ds, train_seeds=seeds)))

rows, histories = [], []
for s, res in results:
    for run, row in zip(res.runs, res.table.to_dict("records"), strict=True):
        seed = s if s is not None else int(row["train_seed"])
        fold = int(row.get("fold", 0)) if protocol.startswith("kfold") else 0
        ce_last, ce_drop = late_change(run.history)
        rows.append({"seed": seed, "fold": fold, "test_accuracy": row["test_accuracy"],
                     "test_mean_class_accuracy": row["test_mean_class_accuracy"],
                     "test_kl": row.get("test_kl"), "best_epoch": row["best_epoch"],
                     "epochs_trained": row["epochs"], "n_train": row["n_train"],
                     "n_test": row["n_test"], "train_ce_last": ce_last,
                     "train_ce_drop": ce_drop, "train_seconds": row["duration_s"]})
        histories.append(run.history.assign(seed=seed, fold=fold))
runs = pd.DataFrame(rows)
for row in rows:
    record.add_metrics(method=method, **row)
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
