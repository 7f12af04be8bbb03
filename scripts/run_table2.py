"""Regenerate rows of ``results/table2.csv``: baseline vs MixFeature (paper A, Table 2).

Runs one protocol for each method and training seed with the dataset's preset. Examples::

    python scripts/run_table2.py --dataset synthetic --protocol official --seeds 0 1 2
    FER_DATA_DIR=/data python scripts/run_table2.py --dataset jaffe --protocol kfold \\
        --image-size 64 --seeds 0 1 2 --checkpoint-dir runs/ckpt

**Checked first.** Every argument is checked before any data is loaded or any model
trained: method and dataset names, the protocol (``official`` needs a dataset with its
own split), the settings that depart from the preset (``--image-size`` at least 32,
...), the seeds, ``--device`` (``auto``, or a device this machine has) and the output
files (not a folder, in a writable folder, and an existing file must hold the same
kind of table). A bad one stops the script with a one-line error naming the argument
(exit status 2).

**What is written**, next to ``--out``, as soon as each method finishes (so a later
failure loses nothing already computed):

* ``table2_runs/<stem>.csv``: one row per run (dataset, protocol, method, deviations,
  setup, training seed and fold), with the run's test confusion matrix as JSON
  (``test_confusion``). These rows are the source of truth: they are merged into the
  file under a lock (:func:`fer_utils.runs.results.update_results_table`), so two
  processes running other methods or seeds side by side both keep their rows, and a
  rerun of the same run replaces only its own row.
* ``--out`` (``results/table2.csv``): one row per (dataset, method, protocol,
  deviations, setup), recomputed from ALL the per-run rows of that key in the detail
  file: mean and std (ddof=1; ``nan`` for a single run) over every fold and seed,
  ``n_runs`` and ``seeds``. Its provenance columns (``device``, ``git_commit``,
  ``duration_s``, ``time_utc``, ``command``) describe the command that last updated it.
* ``table2_runs/<stem>_histories.csv``: every run's per-epoch history, merged the same
  way (keyed also by epoch), and ``table2_runs/<stem>_per_class.csv``: per-class test
  accuracy (%) from the confusion matrices of every run in the detail file.
* ``figures/table2_<stem>_curves.png`` (mean training curves +-1 std, paper A's Fig. 6),
  ``..._confusion.png`` (row-normalised confusion matrices summed over runs, Fig. 4)
  and ``..._per_class.png``, drawn with :mod:`fer_utils.viz.results` from all runs
  present. Rows from older detail files carry no confusion matrix; they are left out
  of the confusion and per-class figures, and a printed line says how many.

``<stem>`` is ``<dataset>_<protocol>``, then the deviations, then the setup, e.g.
``jaffe_kfold_image_size64``: the same settings always give the same files (a rerun
updates them), other settings other files. Settings that depart from the preset
(``--epochs``, ``--image-size``, ``--lr``, ``--stem``) are the ``deviations`` column;
data and split settings that differ from this script's defaults (``--split-seed`` where
it matters, ``--folds`` for kfold, ``--n-synthetic``) the ``setup`` column (``none``
for the defaults, which older rows without the column are read as). ``--protocol
holdout45`` takes ``--group-by`` (``docs/replication.md`` D5; the protocol column then
reads e.g. ``holdout45_sample``), and so does ``--protocol kfold``: ``subject`` (the
default, protocol ``kfold``) or ``sample`` (folds over single images, stratified by
class; protocol ``kfold_sample``).

**Resuming.** With ``--checkpoint-dir`` every run writes a checkpoint after each epoch;
rerunning the same command after a kill resumes every run where it stopped (finished
runs are read back, not retrained). For every run the console says whether it resumed
(from which epoch) or started fresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_utils.data import DATASETS, FERDataset, load_dataset
from fer_utils.files import atomic_write_text
from fer_utils.metrics import mean_and_std
from fer_utils.mixfeature.presets import PRESETS, preset
from fer_utils.protocols import (
    GROUPINGS,
    ProtocolResult,
    holdout_protocol,
    kfold_protocol,
    official_split_protocol,
)
from fer_utils.provenance import REPO_ROOT, run_info
from fer_utils.published import TABLE2_ACCURACY
from fer_utils.runs.results import (
    adopt_older_rows,
    file_suffix,
    resume_line,
    rows_matching,
    settings_text,
    table_problem,
    update_results_table,
)
from fer_utils.training.config import METHODS, TrainConfig
from fer_utils.training.loop import HISTORY_COLUMNS
from fer_utils.training.runtime import resolve_device
from fer_utils.viz import results as figures
from fer_utils.viz.common import save_figure

PROTOCOLS = ("kfold", "holdout45", "official")
#: Datasets without a split of their own, so ``--protocol official`` cannot run on them.
NO_OWN_SPLIT = ("jaffe", "ckplus")
#: Settings that may depart from the preset (the ``deviations`` column).
DEVIATIONS = ("epochs", "image_size", "lr", "stem")
#: This script's defaults of the data and split settings (the ``setup`` column).
SETUP_DEFAULTS = {"split_seed": 0, "folds": 10, "n_synthetic": 3000}
#: What identifies a summary row: rows that differ only in their departures from the
#: preset (e.g. another learning rate) or in their setup are kept side by side.
KEY = ["dataset", "method", "protocol", "deviations", "setup"]
#: What identifies a per-run row of the detail file.
RUN_KEY = [*KEY, "train_seed", "fold"]
#: What identifies a row of the histories file.
HISTORY_KEY = [*RUN_KEY, "epoch"]
#: The columns of a summary row, in order (see :func:`aggregate`).
SUMMARY_COLUMNS = [
    "dataset", "method", "protocol", "epochs", "n_runs", "seeds", "accuracy_mean",
    "accuracy_std", "mean_class_accuracy_mean", "mean_class_accuracy_std", "kl_mean",
    "paper_accuracy", "image_size", "deviations", "setup", "device", "git_commit",
    "duration_s", "time_utc", "command",
]
#: The columns of a per-run row that every version of this script has written.
RUN_COLUMNS = [
    *RUN_KEY, "n_train", "n_val", "n_test", "best_epoch", "selected_by", "epochs",
    "duration_s", "val_accuracy", "test_accuracy", "test_mean_class_accuracy", "test_ce",
    "test_kl", "git_commit", "device", "run_name", "resumed_from_epoch", "test_confusion",
    "config",
]
HISTORY_TABLE_COLUMNS = [*RUN_KEY, *HISTORY_COLUMNS]
FIGURES = ("curves", "confusion", "per_class")


# ---------------------------------------------------------------------------------------
# What identifies a run, and where its files go
# ---------------------------------------------------------------------------------------


def protocol_name(args: argparse.Namespace) -> str:
    """The protocol column: ``holdout45`` carries its grouping (``docs/replication.md`` D5),
    ``kfold`` its grouping when that is not the default ``subject``."""
    if args.protocol == "holdout45":
        return f"holdout45_{args.group_by}"
    if args.protocol == "kfold" and args.group_by == "sample":
        return "kfold_sample"
    return args.protocol


def deviations_text(args: argparse.Namespace) -> str:
    """The settings that depart from the preset, e.g. ``"image_size=64; lr=0.01"``."""
    found = [(name, getattr(args, name)) for name in DEVIATIONS
             if getattr(args, name) is not None]
    return settings_text(found)


def setup_text(args: argparse.Namespace) -> str:
    """The data and split settings that differ from :data:`SETUP_DEFAULTS`, or ``"none"``.

    Only those that change the runs count: the split seed draws the folds, the hold-out
    split and the synthetic faces, but not FER+'s own split; ``--folds`` counts for
    kfold and ``--n-synthetic`` for the synthetic faces only.
    """
    used = {
        "folds": args.protocol == "kfold",
        "n_synthetic": args.dataset == "synthetic",
        "split_seed": args.protocol != "official" or args.dataset == "synthetic",
    }
    found = [(name, getattr(args, name)) for name in sorted(used)
             if used[name] and getattr(args, name) != SETUP_DEFAULTS[name]]
    return settings_text(found)


def identity(args: argparse.Namespace) -> dict[str, str]:
    """The key columns shared by every row of this command, except the method."""
    return {"dataset": args.dataset, "protocol": protocol_name(args),
            "deviations": deviations_text(args), "setup": setup_text(args)}


def file_stem(args: argparse.Namespace) -> str:
    """``<dataset>_<protocol>``, plus deviations and setup, for the detail and figure files."""
    extra = file_suffix(deviations_text(args)) + file_suffix(setup_text(args))
    return f"{args.dataset}_{protocol_name(args)}{extra}"


def output_paths(args: argparse.Namespace) -> dict[str, Path]:
    """Every file this command writes besides ``--out``, by role."""
    stem, folder = file_stem(args), args.out.parent
    paths = {
        "runs": folder / "table2_runs" / f"{stem}.csv",
        "histories": folder / "table2_runs" / f"{stem}_histories.csv",
        "per_class": folder / "table2_runs" / f"{stem}_per_class.csv",
    }
    paths.update({f"figure_{name}": folder / "figures" / f"table2_{stem}_{name}.png"
                  for name in FIGURES})
    return paths


# ---------------------------------------------------------------------------------------
# Checks before anything is loaded or trained
# ---------------------------------------------------------------------------------------


def check_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> TrainConfig:
    """Refuse a bad argument with ``parser.error`` (exit status 2) before anything runs.

    Returns the preset with the command's settings (method and seed still to be set).
    """
    def refuse(option: str, message: str) -> None:
        parser.error(f"argument {option}: {message}")

    for option, values in (("--methods", args.methods), ("--seeds", args.seeds)):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            refuse(option, f"{', '.join(map(str, twice))} given more than once")
    if args.protocol == "official" and args.dataset in NO_OWN_SPLIT:
        refuse("--protocol", f"{args.dataset} has no split of its own; choose kfold or "
               "holdout45 (allowed for it: kfold, holdout45)")
    if args.group_by is None:
        args.group_by = "subject_expression" if args.protocol == "holdout45" else "subject"
    if args.protocol == "kfold" and args.group_by not in ("subject", "sample"):
        refuse("--group-by", f"kfold folds are grouped by subject or sample, got "
               f"{args.group_by}")
    if args.folds < 2:
        refuse("--folds", f"must be an integer >= 2, got {args.folds}")
    if args.split_seed < 0:
        refuse("--split-seed", f"must be an integer >= 0, got {args.split_seed}")
    if args.dataset == "synthetic" and args.n_synthetic < 1:
        refuse("--n-synthetic", f"must be an integer >= 1, got {args.n_synthetic}")
    try:
        resolve_device(args.device)
    except RuntimeError:  # torch does not know the name at all
        refuse("--device", f"{args.device!r} is not a device name; allowed: auto, cpu, cuda, "
               "cuda:N, mps")
    except ValueError as err:  # a device this machine does not have
        refuse("--device", f"{err} (or auto)")
    name = args.dataset if args.dataset in PRESETS else "synthetic"
    overrides: dict = {"progress": args.progress}
    if args.device != "auto":
        overrides["device"] = args.device
    if args.checkpoint_dir:
        if Path(args.checkpoint_dir).exists() and not Path(args.checkpoint_dir).is_dir():
            refuse("--checkpoint-dir", f"{args.checkpoint_dir} is not a folder")
        overrides["checkpoint_dir"] = args.checkpoint_dir
    for field in DEVIATIONS:
        value = getattr(args, field)
        if value is None:
            continue
        try:
            preset(name, **{field: value})
        except ValueError as err:
            refuse("--" + field.replace("_", "-"), str(err))
        overrides[field] = value
    base = preset(name, **overrides)
    for seed in args.seeds:
        try:
            base.replace(seed=seed)
        except ValueError as err:
            refuse("--seeds", str(err))
    paths = output_paths(args)
    checks = [
        (args.out, SUMMARY_COLUMNS, ["dataset", "method", "protocol", "accuracy_mean"]),
        (paths["runs"], RUN_COLUMNS, ["method", "train_seed", "test_accuracy"]),
        (paths["histories"], HISTORY_TABLE_COLUMNS, ["method", "train_seed", "epoch"]),
        *[(paths[n], (), ()) for n in ("per_class", *(f"figure_{f}" for f in FIGURES))],
    ]
    for path, columns, required in checks:
        problem = table_problem(path, columns, required)
        if problem:
            refuse("--out", problem)
    return base


# ---------------------------------------------------------------------------------------
# Training and the per-run rows
# ---------------------------------------------------------------------------------------


def run_method(args: argparse.Namespace, method: str, dataset: FERDataset,
               base: TrainConfig) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One method under the chosen protocol: its per-run rows and their histories."""
    config = base.replace(method=method)
    done: list[tuple[ProtocolResult, list[int]]] = []  # each result with its runs' seeds
    if args.protocol == "kfold":
        for s in args.seeds:
            res = kfold_protocol(config.replace(seed=s), dataset, n_folds=args.folds,
                                 seed=args.split_seed, group_by=args.group_by)
            done.append((res, [s] * len(res.runs)))
    elif args.protocol == "holdout45":
        res = holdout_protocol(config, dataset, seed=args.split_seed, train_seeds=args.seeds,
                               group_by=args.group_by)
        done.append((res, [int(s) for s in res.table["train_seed"]]))
    else:
        res = official_split_protocol(config, dataset, train_seeds=args.seeds)
        done.append((res, [int(s) for s in res.table["train_seed"]]))
    rows, histories = [], []
    for res, seeds in done:
        for (_, row), run, seed in zip(res.table.iterrows(), res.runs, seeds, strict=True):
            fold = int(row["fold"]) if "fold" in row else "none"
            key = {**identity(args), "method": method, "train_seed": seed, "fold": fold}
            label = f"{method} seed {seed}" + ("" if fold == "none" else f" fold {fold}")
            print(resume_line(run, label), flush=True)
            confusion = (run.test_metrics or {}).get("confusion_matrix")
            rows.append({
                **key,
                **row.drop(["fold", "train_seed"], errors="ignore").to_dict(),
                "run_name": run.run_name,
                "resumed_from_epoch": run.resumed_from_epoch,
                "test_confusion": None if confusion is None else json.dumps(
                    np.asarray(confusion).astype(int).tolist()),
                "config": json.dumps(run.config.flat(), sort_keys=True),
            })
            histories.append(run.history.assign(**key)[HISTORY_TABLE_COLUMNS])
    return pd.DataFrame(rows), pd.concat(histories, ignore_index=True)


def older_setup(path: Path, args: argparse.Namespace) -> str:
    """The ``setup`` to give the rows of an older detail file at ``path`` (see
    :func:`adopt_older_rows`): this command's, unless the rows show another.

    An older file was written whole by one command, so one row that cannot be of this
    setup (synthetic faces whose split sizes do not add up to ``--n-synthetic``) makes
    the whole file ``"unknown"``: its rows then stay in the file, out of every summary.
    """
    if not path.exists():
        return setup_text(args)
    table = pd.read_csv(path)
    sizes = [c for c in ("n_train", "n_val", "n_test") if c in table.columns]
    if "setup" not in table.columns and args.dataset == "synthetic" and len(sizes) == 3:
        if (table[sizes].sum(axis=1) != args.n_synthetic).any():
            return "unknown"
    return setup_text(args)


def aggregate(runs: pd.DataFrame, args: argparse.Namespace, method: str,
              seconds: float) -> dict:
    """One summary row: mean and std (ddof=1) over every per-run row of its key."""
    info = run_info()
    acc_mean, acc_std = mean_and_std(100 * runs["test_accuracy"].astype(float))
    mca_mean, mca_std = mean_and_std(100 * runs["test_mean_class_accuracy"].astype(float))
    kl = runs["test_kl"].astype(float) if "test_kl" in runs else pd.Series(dtype=float)
    row = {
        **identity(args),
        "method": method,
        "epochs": int(runs["epochs"].max()),
        "n_runs": len(runs),
        "seeds": " ".join(str(s) for s in sorted({int(s) for s in runs["train_seed"]})),
        "accuracy_mean": round(acc_mean, 2),
        "accuracy_std": round(acc_std, 2),  # nan (no spread) for a single run
        "mean_class_accuracy_mean": round(mca_mean, 2),
        "mean_class_accuracy_std": round(mca_std, 2),
        "kl_mean": round(kl.mean(), 4) if kl.notna().any() else np.nan,
        "paper_accuracy": TABLE2_ACCURACY.get(args.dataset, {}).get(method, np.nan),
        "image_size": args.image_size if args.image_size else "preset",
        "device": info["device"],
        "git_commit": info["git_commit"],
        "duration_s": round(seconds, 1),
        "time_utc": info["time_utc"],
        "command": " ".join(["scripts/run_table2.py", *args.argv]),
    }
    return {c: row[c] for c in SUMMARY_COLUMNS}


# ---------------------------------------------------------------------------------------
# Figures and per-class table from every run present
# ---------------------------------------------------------------------------------------


def confusion_by_method(runs: pd.DataFrame, size: int) -> tuple[dict[str, np.ndarray], int]:
    """The stored test confusion matrices summed per method, and how many rows had none."""
    matrices, skipped = {}, 0
    order = [m for m in METHODS if m in set(runs["method"])]
    for method in order:
        part = runs[runs["method"] == method]
        texts = part["test_confusion"] if "test_confusion" in part else [None] * len(part)
        mats = [np.asarray(json.loads(t)) for t in texts if isinstance(t, str)]
        mats = [m for m in mats if m.shape == (size, size)]
        skipped += len(part) - len(mats)
        if mats:
            matrices[method] = np.sum(mats, axis=0)
    return matrices, skipped


def write_details(args: argparse.Namespace, runs: pd.DataFrame, histories: pd.DataFrame,
                  classes: tuple[str, ...]) -> list[Path]:
    """Per-class table and figures from every run of this command's settings.

    ``runs`` and ``histories`` are the per-run rows and histories of
    :func:`identity` (all methods); returns the paths written.
    """
    paths = output_paths(args)
    title = f"{args.dataset}, {protocol_name(args)}; deviations: {deviations_text(args)}"
    if setup_text(args) != "none":
        title += f"; setup: {setup_text(args)}"
    drawings = {}
    if len(histories):
        drawings["curves"] = lambda: figures.training_curves(histories, title=title)
    matrices, skipped = confusion_by_method(runs, len(classes))
    if skipped:
        print(f"{skipped} of {len(runs)} runs in {paths['runs']} have no stored confusion "
              "matrix (written by an older version of this script); the per-class table and "
              "the confusion and per-class figures leave them out", flush=True)
    written = []
    if matrices:
        per_class = figures.per_class_table(matrices, classes)
        written.append(atomic_write_text(per_class.round(2).to_csv(), paths["per_class"]))
        drawings["confusion"] = lambda: figures.confusion_pair(matrices, classes, title=title)
        drawings["per_class"] = lambda: figures.per_class_bars(per_class, title=title)
    for name, draw in drawings.items():
        fig = draw()
        path = paths[f"figure_{name}"]
        written.append(save_figure(fig, path.parent, path.stem))
        plt.close(fig)
    return written


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", choices=DATASETS, default="synthetic")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="official")
    parser.add_argument("--methods", nargs="+", choices=METHODS, default=["baseline", "mixfeature"],
                        help="default: baseline mixfeature (the others: paper A's Table 4)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--split-seed", type=int, default=SETUP_DEFAULTS["split_seed"])
    parser.add_argument("--folds", type=int, default=SETUP_DEFAULTS["folds"])
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--image-size", type=int, default=None,
                        help="default: the preset's; at least 32")
    parser.add_argument("--lr", type=float, default=None, help="default: the preset's")
    parser.add_argument("--stem", choices=["standard", "small"], default=None,
                        help="ResNet-18 stem; default: the preset's")
    parser.add_argument("--group-by", default=None, choices=GROUPINGS,
                        help="what a test group is (``docs/replication.md`` D5): kfold takes "
                             "subject (default) or sample, holdout45 any (default "
                             "subject_expression)")
    parser.add_argument("--n-synthetic", type=int, default=SETUP_DEFAULTS["n_synthetic"])
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "table2.csv")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    base = check_arguments(parser, args)

    options = {"n": args.n_synthetic, "seed": args.split_seed} if args.dataset == "synthetic" \
        else {}
    try:
        dataset = load_dataset(args.dataset, root=args.data_root, **options)
    except (OSError, ValueError) as err:
        parser.error(f"argument --dataset/--data-root: {args.dataset} cannot be loaded: {err}")
    paths = output_paths(args)
    ident = identity(args)
    older = {**ident, "setup": older_setup(paths["runs"], args), "fold": "none"}
    adopt_older_rows(paths["runs"], older)
    adopt_older_rows(paths["histories"], older)
    for method in args.methods:
        start = time.perf_counter()
        new_runs, new_histories = run_method(args, method, dataset, base)
        runs = rows_matching(update_results_table(paths["runs"], new_runs, RUN_KEY), ident)
        histories = rows_matching(
            update_results_table(paths["histories"], new_histories, HISTORY_KEY), ident)
        row = aggregate(rows_matching(runs, {"method": method}), args, method,
                        time.perf_counter() - start)
        update_results_table(args.out, pd.DataFrame([row]), KEY)
        print(pd.DataFrame([row]).to_string(index=False), flush=True)
        print(f"wrote {args.out}, {paths['runs']} and {paths['histories']}", flush=True)
        for path in write_details(args, runs, histories, dataset.classes):
            print(f"wrote {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
