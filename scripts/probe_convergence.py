"""Why the compact CNN does not fit JAFFE at 128-256 px: a convergence probe (issue 10).

Trains paper A's JAFFE preset (cnn3, batch 16) on the 45-image sample-level hold-out
(replication notes D5) under a list of named variants, each changing one thing from a
reference (128x128, lr 0.01, basic augmentation, precise batch-norm on): the augmentation,
precise batch-norm, the batch size, the input size, and the depth (receptive field) of
the network. For every run it records the training cross-entropy averaged over the last
10 % of the epochs, how much it still fell over those epochs (relative to the 10 % before),
the accuracy of the selected model on every image outside the test split (training and
validation parts: how well it fits), and the test accuracy.

``--dataset synthetic`` probes the built-in faces instead (600 faces, wheel-shaped
secondary emotions, as the ablations' ``synthetic_wheel``), with the variants of
:data:`SYNTHETIC_VARIANTS` over the synthetic preset: its 15 epochs, and longer
schedules, for the baseline and MixFeature, to choose the synthetic CPU budget.

Rows go to ``--out`` (default ``results/convergence/<dataset>_probe.csv``), one per variant
and seed, merged under a lock with provenance (commit, device, duration, command); a
variant and seed already in the file is skipped, so a killed probe resumes. JAFFE must be
under ``$FER_DATA_DIR/jaffe``. Asserts nothing; read the table.
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time
from pathlib import Path

import pandas as pd

from fer_utils.data import load_dataset
from fer_utils.mixfeature.presets import preset
from fer_utils.protocols import holdout_indices, holdout_protocol
from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.results import update_results_table
from fer_utils.training.convergence import late_change
from fer_utils.training.evaluate import predict_proba

#: One change from the reference each (flat TrainConfig fields).
REFERENCE = {"image_size": 128, "lr": 0.01, "augment": "basic", "precise_bn_images": 4096,
             "batch_size": 16, "model_options": {"pool": 2}}
BUDGET48 = {"image_size": 48, "model_options": {"pool": 2, "widths": [16, 32, 64, 64]},
            "schedule": "step", "step_after": 30, "step_every": 1, "gamma": 0.9}
VARIANTS: dict[str, dict] = {
    "reference_128": {},
    "no_augment_128": {"augment": "none"},
    "no_precise_bn_128": {"precise_bn_images": 0},
    "batch64_128": {"batch_size": 64},
    "size64": {"image_size": 64},
    "size256": {"image_size": 256},
    "five_blocks_128": {"model_options": {"pool": 2, "widths": [32, 64, 128, 128, 128]}},
    "five_blocks_256": {"image_size": 256,
                        "model_options": {"pool": 2, "widths": [32, 64, 128, 128, 128]}},
    "five_blocks_128_lr0.001": {"lr": 0.001,
                                "model_options": {"pool": 2, "widths": [32, 64, 128, 128, 128]}},
    # Candidate CPU budgets for the ablations: 48 px, four narrower blocks (receptive
    # field 46 px, the whole face), and a decaying rate so that the loss settles.
    "size48": {"image_size": 48},
    "four_blocks_48": {"image_size": 48,
                       "model_options": {"pool": 2, "widths": [16, 32, 64, 64]}},
    "budget48": {**BUDGET48},
    "budget48_mixfeature": {**BUDGET48, "method": "mixfeature"},
    "budget48_lr0.05": {**BUDGET48, "lr": 0.05, "step_after": 20},
    "wide48": {**BUDGET48, "model_options": {"pool": 2, "widths": [32, 64, 128, 128]}},
    "budget48_100": {**BUDGET48, "step_after": 50},
    "budget48_100_mixfeature": {**BUDGET48, "step_after": 50, "method": "mixfeature"},
}
#: The synthetic preset (15 epochs, lr 0.01 decayed x0.8 per epoch after epoch 5) and
#: longer schedules; each trained as the baseline and with MixFeature. ``--epochs`` is
#: ignored for these: each names its own.
_LONG = {"schedule": "step", "step_every": 1, "gamma": 0.9}
SYNTHETIC_VARIANTS: dict[str, dict] = {
    "preset15": {"epochs": 15},
    "preset15_mixfeature": {"epochs": 15, "method": "mixfeature"},
    "long60": {"epochs": 60, "step_after": 30, **_LONG},
    "long60_mixfeature": {"epochs": 60, "step_after": 30, **_LONG, "method": "mixfeature"},
    "long100": {"epochs": 100, "step_after": 50, **_LONG},
    "long100_mixfeature": {"epochs": 100, "step_after": 50, **_LONG, "method": "mixfeature"},
    # half the epochs, decayed faster to about the same final rate (0.01 x 0.85^30)
    "fast50": {"epochs": 50, "step_after": 20, **_LONG, "gamma": 0.85},
    "fast50_mixfeature": {"epochs": 50, "step_after": 20, **_LONG, "gamma": 0.85,
                          "method": "mixfeature"},
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", choices=("jaffe", "synthetic"), default="jaffe")
    parser.add_argument("--variants", nargs="+", default=None,
                        choices=[*VARIANTS, *SYNTHETIC_VARIANTS],
                        help="default: every variant of the dataset")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--epochs", type=int, default=100)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args(argv)
    table = VARIANTS if args.dataset == "jaffe" else SYNTHETIC_VARIANTS
    args.variants = args.variants or list(table)
    wrong = [v for v in args.variants if v not in table]
    if wrong:
        parser.error(f"argument --variants: {wrong} are not variants of --dataset "
                     f"{args.dataset}; expected some of {list(table)}")
    args.out = args.out or REPO_ROOT / "results" / "convergence" / f"{args.dataset}_probe.csv"
    command = shlex.join(["python", "scripts/probe_convergence.py", *(argv or sys.argv[1:])])
    if args.dataset == "jaffe":
        ds, reference = load_dataset("jaffe", root=args.data_root), REFERENCE
    else:
        ds, reference = load_dataset("synthetic", n=600, seed=0), {}
    done = pd.read_csv(args.out) if args.out.exists() else pd.DataFrame(
        columns=["variant", "seed", "epochs"])
    for name in args.variants:
        for seed in args.seeds:
            want = table[name].get("epochs", args.epochs)
            if ((done["variant"] == name) & (done["seed"] == seed)
                    & (done["epochs"] == want)).any():
                print(f"{name} seed {seed}: in {args.out} already", flush=True)
                continue
            flat = {**reference, "epochs": args.epochs, **table[name], "progress": False}
            config = preset(args.dataset, **flat)
            epochs = config.optim.epochs
            start = time.perf_counter()
            result = holdout_protocol(config, ds, test_size=45, seed=0, group_by="sample",
                                      train_seeds=[seed], keep_models=True)
            run = result.runs[0]
            ce_last, ce_drop = late_change(run.history)
            rest = ds.subset(holdout_indices(ds, 45, seed=0, group_by="sample")[0])
            fit = float((predict_proba(run.model, rest, config).argmax(1)
                         == rest.labels.numpy()).mean())
            row = {
                "variant": name, "seed": seed, "epochs": epochs,
                "changes": "; ".join(f"{k}={v}" for k, v in table[name].items()) or "none",
                "train_ce_last10pct": ce_last, "train_ce_drop_last10pct": ce_drop,
                "best_epoch": run.summary()["best_epoch"],
                "val_accuracy": run.summary().get("val_accuracy"),
                "test_accuracy": run.summary()["test_accuracy"],
                "fit_accuracy": fit,  # on every image outside the test split
                "n_test": int(result.table["n_test"].iloc[0]),
                "seconds": round(time.perf_counter() - start, 1),
                "git_commit": result.provenance.get("git_commit"),
                "device": result.table["device"].iloc[0], "command": command,
            }
            update_results_table(args.out, pd.DataFrame([row]), key=["variant", "seed", "epochs"])
            print(f"{name} seed {seed}: train CE {ce_last:.3f} (still falling by {ce_drop:.3f}),"
                  f" test {row['test_accuracy']:.3f}, {row['seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
