"""Regenerate rows of ``results/table2.csv``: baseline vs MixFeature (paper A, Table 2).

Runs one protocol for each method and training seed with the dataset's preset, then
writes one aggregated row per (dataset, method, protocol) into the results table,
replacing an older row with the same key and keeping the others. The per-fold rows go
to ``results/table2_runs/<dataset>_<protocol>.csv``. Examples::

    python scripts/run_table2.py --dataset synthetic --protocol official --seeds 0 1 2
    FER_DATA_DIR=/data python scripts/run_table2.py --dataset jaffe --protocol kfold \\
        --image-size 64 --seeds 0 1 2 --checkpoint-dir runs/ckpt

With ``--checkpoint-dir`` a killed run resumes fold by fold where it stopped. Settings
that depart from the preset (``--epochs``, ``--image-size``, ``--lr``, ``--stem``) are
written into the row's ``deviations`` column. ``--protocol holdout45`` takes
``--group-by`` (``docs/replication.md`` D5; the row's protocol is then e.g. ``holdout45_sample``).

Next to the results table (in the folder of ``--out``) the script also writes, drawn
with :mod:`fer_utils.viz.results`: ``figures/table2_<dataset>_<protocol>_curves.png``
(mean training curves +-1 std, paper A's Fig. 6), ``..._confusion.png`` (row-normalised
confusion matrices summed over runs, Fig. 4) and ``..._per_class.png``, plus
``table2_runs/<dataset>_<protocol>_histories.csv`` (every run's per-epoch history) and
``table2_runs/<dataset>_<protocol>_per_class.csv`` (per-class accuracy, %).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from fer_utils.data import FERDataset, load_dataset
from fer_utils.metrics import mean_and_std
from fer_utils.mixfeature.presets import PRESETS, preset
from fer_utils.protocols import (
    ProtocolResult,
    holdout_protocol,
    kfold_protocol,
    official_split_protocol,
)
from fer_utils.provenance import REPO_ROOT, run_info
from fer_utils.published import TABLE2_ACCURACY
from fer_utils.runs.results import update_results_table
from fer_utils.viz import results as figures
from fer_utils.viz.common import save_figure

PROTOCOLS = ("kfold", "holdout45", "official")
#: What identifies a row: rows that differ only in their departures from the preset (e.g.
#: another learning rate) are kept side by side.
KEY = ["dataset", "method", "protocol", "deviations"]


class MethodRuns(NamedTuple):
    """What :func:`run_protocol` returns for one method."""

    table: pd.DataFrame  # one row per fold and seed (the per-run results)
    histories: pd.DataFrame  # every run's per-epoch history, with method/train_seed/fold
    confusion: np.ndarray  # test confusion counts summed over every run (rows = true)
    classes: tuple[str, ...]


def _histories(res: ProtocolResult, method: str, seeds: list[int]) -> pd.DataFrame:
    """The histories of a protocol's runs, stacked, labelled by method, seed and fold."""
    frames = []
    for (_, row), run, seed in zip(res.table.iterrows(), res.runs, seeds, strict=True):
        fold = row["fold"] if "fold" in row else pd.NA
        frames.append(run.history.assign(method=method, train_seed=seed, fold=fold))
    out = pd.concat(frames, ignore_index=True)
    first = ["method", "train_seed", "fold"]
    return out[first + [c for c in out.columns if c not in first]]


def run_protocol(args: argparse.Namespace, method: str, dataset: FERDataset) -> MethodRuns:
    """One method under the chosen protocol: its rows (folds x seeds), every run's
    history and the test confusion counts summed over the runs."""
    overrides = {"method": method, "progress": args.progress}
    for name in ("epochs", "image_size", "lr", "stem"):
        if getattr(args, name) is not None:
            overrides[name] = getattr(args, name)
    if args.checkpoint_dir:
        overrides["checkpoint_dir"] = args.checkpoint_dir
    base = preset(args.dataset if args.dataset in PRESETS else "synthetic", **overrides)
    done: list[tuple[ProtocolResult, list[int]]] = []  # each result with its runs' seeds
    if args.protocol == "kfold":
        for s in args.seeds:
            res = kfold_protocol(base.replace(seed=s), dataset, n_folds=args.folds,
                                 seed=args.split_seed)
            done.append((res, [s] * len(res.runs)))
    elif args.protocol == "holdout45":
        res = holdout_protocol(base, dataset, seed=args.split_seed, train_seeds=args.seeds,
                               group_by=args.group_by)
        done.append((res, [int(s) for s in res.table["train_seed"]]))
    else:
        res = official_split_protocol(base, dataset, train_seeds=args.seeds)
        done.append((res, [int(s) for s in res.table["train_seed"]]))
    table = pd.concat(
        [res.table.assign(train_seed=seeds) for res, seeds in done], ignore_index=True
    ).assign(method=method, config=json.dumps(base.flat(), sort_keys=True))
    histories = pd.concat([_histories(res, method, seeds) for res, seeds in done],
                          ignore_index=True)
    confusion = np.sum([res.confusion_matrix() for res, _ in done], axis=0)
    return MethodRuns(table, histories, confusion, tuple(done[0][0].runs[0].classes))


def write_details(args: argparse.Namespace, outcome: dict[str, MethodRuns]) -> list[Path]:
    """Figures and per-epoch / per-class tables of every method, next to ``args.out``.

    Writes ``figures/table2_<dataset>_<protocol>_{curves,confusion,per_class}.png`` and
    ``table2_runs/<dataset>_<protocol>_{histories,per_class}.csv``; returns the paths.
    """
    stem = file_stem(args)
    fig_dir = args.out.parent / "figures"
    run_dir = args.out.parent / "table2_runs"
    run_dir.mkdir(parents=True, exist_ok=True)
    histories = pd.concat([o.histories for o in outcome.values()], ignore_index=True)
    matrices = {m: o.confusion for m, o in outcome.items()}
    classes = next(iter(outcome.values())).classes
    per_class = figures.per_class_table(matrices, classes)
    written = [run_dir / f"{stem}_histories.csv", run_dir / f"{stem}_per_class.csv"]
    histories.to_csv(written[0], index=False)
    per_class.round(2).to_csv(written[1])
    title = f"{args.dataset}, {protocol_name(args)}; deviations: {deviations_text(args)}"
    drawings = {
        "curves": lambda: figures.training_curves(histories, title=title),
        "confusion": lambda: figures.confusion_pair(matrices, classes, title=title),
        "per_class": lambda: figures.per_class_bars(per_class, title=title),
    }
    for name, draw in drawings.items():
        fig = draw()
        written.append(save_figure(fig, fig_dir, f"table2_{stem}_{name}"))
        plt.close(fig)
    return written


def protocol_name(args: argparse.Namespace) -> str:
    """The protocol column: ``holdout45`` carries its grouping (``docs/replication.md`` D5)."""
    return f"holdout45_{args.group_by}" if args.protocol == "holdout45" else args.protocol


def deviations_text(args: argparse.Namespace) -> str:
    """The settings that depart from the preset, e.g. ``"image_size=64; lr=0.01"``."""
    found = [
        f"{name}={getattr(args, name)}"
        for name in ("epochs", "image_size", "lr", "stem")
        if getattr(args, name) is not None
    ]
    return "; ".join(found) if found else "none"


def file_stem(args: argparse.Namespace) -> str:
    """``<dataset>_<protocol>``, plus the deviations, for the detail and figure files."""
    text = deviations_text(args)
    extra = "" if text == "none" else "_" + text.replace("; ", "_").replace("=", "")
    return f"{args.dataset}_{protocol_name(args)}{extra}"


def aggregate(runs: pd.DataFrame, args: argparse.Namespace, seconds: float) -> dict:
    """One results row: mean and std (ddof=1) over every fold and seed."""
    info = run_info()
    acc_mean, acc_std = mean_and_std(100 * runs["test_accuracy"])
    mca_mean, mca_std = mean_and_std(100 * runs["test_mean_class_accuracy"])
    kl = runs["test_kl"] if "test_kl" in runs else pd.Series(dtype=float)
    method = runs["method"].iloc[0]
    return {
        "dataset": args.dataset,
        "method": method,
        "protocol": protocol_name(args),
        "epochs": int(runs["epochs"].max()),
        "n_runs": len(runs),
        "seeds": " ".join(str(s) for s in args.seeds),
        "accuracy_mean": round(acc_mean, 2),
        "accuracy_std": round(acc_std, 2),  # nan (no spread) for a single run
        "mean_class_accuracy_mean": round(mca_mean, 2),
        "mean_class_accuracy_std": round(mca_std, 2),
        "kl_mean": round(kl.mean(), 4) if kl.notna().any() else np.nan,
        "paper_accuracy": TABLE2_ACCURACY.get(args.dataset, {}).get(method, np.nan),
        "image_size": args.image_size if args.image_size else "preset",
        "deviations": deviations_text(args),
        "device": info["device"],
        "git_commit": info["git_commit"],
        "duration_s": round(seconds, 1),
        "time_utc": info["time_utc"],
        "command": " ".join(["scripts/run_table2.py", *args.argv]),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="synthetic")
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--protocol", choices=PROTOCOLS, default="official")
    parser.add_argument("--methods", nargs="+", default=["baseline", "mixfeature"])
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--split-seed", type=int, default=0)
    parser.add_argument("--folds", type=int, default=10)
    parser.add_argument("--epochs", type=int, default=None, help="default: the preset's")
    parser.add_argument("--image-size", type=int, default=None, help="default: the preset's")
    parser.add_argument("--lr", type=float, default=None, help="default: the preset's")
    parser.add_argument("--stem", choices=["standard", "small"], default=None,
                        help="ResNet-18 stem; default: the preset's")
    parser.add_argument("--group-by", default="subject_expression",
                        choices=["subject_expression", "subject", "sample"],
                        help="holdout45 only: what a test group is (``docs/replication.md`` D5)")
    parser.add_argument("--n-synthetic", type=int, default=3000)
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "table2.csv")
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)

    options = {"n": args.n_synthetic, "seed": args.split_seed} if args.dataset == "synthetic" \
        else {}
    dataset = load_dataset(args.dataset, root=args.data_root, **options)
    rows, per_run, outcome = [], [], {}
    for method in args.methods:
        start = time.perf_counter()
        outcome[method] = run_protocol(args, method, dataset)
        runs = outcome[method].table
        rows.append(aggregate(runs, args, time.perf_counter() - start))
        per_run.append(runs)
        print(pd.DataFrame([rows[-1]]).to_string(index=False), flush=True)

    new = pd.DataFrame(rows)
    new = update_results_table(args.out, new, KEY)
    detail = args.out.parent / "table2_runs" / f"{file_stem(args)}.csv"
    detail.parent.mkdir(parents=True, exist_ok=True)
    pd.concat(per_run, ignore_index=True).to_csv(detail, index=False)
    print(f"wrote {args.out} and {detail}")
    for path in write_details(args, outcome):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
