"""Regenerate rows of ``results/mfjle.csv``: single ResNet-18 vs MF-JLE (paper B, Tables 1-2).

For each model, one run per seed on a fresh seeded 60 / 20 / 20 split
(:func:`fer_utils.protocols.random_split_protocol`), with the MF-JLE preset chosen by
``--preset`` (``auto``: the paper's on a CUDA device, the CPU-sized one otherwise).
Examples::

    python scripts/run_mfjle.py --dataset synthetic --seeds 0 1 2
    FER_DATA_DIR=/data python scripts/run_mfjle.py --dataset jaffe --seeds 0 1 2 \\
        --checkpoint-dir runs/ckpt

**Checked first.** Every argument is checked before any data is loaded or any model
trained: dataset, model and preset names, the settings that depart from the preset
(``--image-size`` and ``--local-size`` at least 32, ...), the seeds, ``--device``
(``auto``, or a device this machine has) and the output files (not a folder, in a
writable folder, and an existing file must hold the same kind of table). A bad one
stops the script with a one-line error naming the argument (exit status 2).

**What is written**, next to ``--out``, as soon as each model finishes (so a later
failure loses nothing already computed):

* ``mfjle_runs/<tag>.csv``: one row per run (dataset, preset, model, deviations, setup
  and seed; the seed draws the split and seeds the training). These rows are the source
  of truth, merged into the file under a lock
  (:func:`fer_utils.runs.results.update_results_table`): other models or seeds run
  side by side keep their rows, and a rerun of the same run replaces only its own row.
* ``--out`` (``results/mfjle.csv``): one row per (dataset, model, preset, deviations,
  setup), recomputed from ALL the per-run rows of that key in the detail file: mean and
  std (ddof=1; ``nan`` for a single run) of the nine multi-label metrics, ``n_runs``
  and ``seeds``. Its provenance columns (``landmarks``, ``device``, ``git_commit``,
  ``duration_s``, ``time_utc``, ``command``) describe the command that last updated it.
* ``figures/mfjle_<tag>_metrics.png``: every metric of the models of that setting,
  next to paper B's.

``<tag>`` is ``<dataset>_<preset>``, then the deviations, then the setup (e.g.
``synthetic_cpu_epochs10``): the same settings always give the same files, other
settings other files. Settings that depart from the preset (``--epochs``,
``--image-size``, ``--local-size``, ``--lr``, ``--batch-size``) are the ``deviations``
column; ``--n-synthetic`` and ``--group-by`` when they differ from this script's
defaults the ``setup`` column (``none`` for the defaults, which older rows without the
column are read as).

JAFFE's labels are its mean ratings above 3 over the six rated emotions
(``docs/replication.md``, paper B's settings); its landmarks come from MTCNN (cached), and
how many faces fell back to the fallback rule is recorded in the row. With
``--checkpoint-dir`` a killed run resumes where it stopped: rerun the same command. For
every run the console says whether it resumed (from which epoch) or started fresh.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from fer_utils.data import load_dataset  # noqa: E402
from fer_utils.metrics import MULTILABEL_METRICS, mean_and_std  # noqa: E402
from fer_utils.mfjle.labels import multilabel_view  # noqa: E402
from fer_utils.mfjle.landmarks import dataset_landmarks  # noqa: E402
from fer_utils.mfjle.presets import MFJLE_PRESETS, mfjle_preset  # noqa: E402
from fer_utils.protocols import random_split_protocol  # noqa: E402
from fer_utils.provenance import REPO_ROOT, run_info  # noqa: E402
from fer_utils.published import MFJLE_TABLES  # noqa: E402
from fer_utils.runs.results import (
    adopt_older_rows,
    file_suffix,
    resume_line,
    rows_matching,
    settings_text,
    table_problem,
    update_results_table,
)  # noqa: E402
from fer_utils.training.config import TrainConfig  # noqa: E402
from fer_utils.training.runtime import resolve_device  # noqa: E402
from fer_utils.viz import results as figures  # noqa: E402
from fer_utils.viz.common import save_figure  # noqa: E402

DATASETS = ("synthetic", "jaffe", "rafml")
MODELS = ("resnet18", "mfjle")
OVERRIDABLE = ("epochs", "image_size", "local_size", "lr", "batch_size")
#: This script's defaults of the data and split settings (the ``setup`` column).
SETUP_DEFAULTS = {"group_by": "sample", "n_synthetic": 1500}
#: What identifies a summary row.
KEY = ["dataset", "model", "preset", "deviations", "setup"]
#: What identifies a per-run row of the detail file (the seed draws the split).
RUN_KEY = [*KEY, "seed"]
#: The columns of a summary row, in order (see :func:`aggregate`).
SUMMARY_COLUMNS = [
    "dataset", "model", "preset", "epochs", "n_runs", "seeds",
    *[f"{name}_{s}" for name in MULTILABEL_METRICS for s in ("mean", "std")],
    "split", "labels", "landmarks", "deviations", "setup", "config", "device", "git_commit",
    "duration_s", "time_utc", "command",
]
#: The columns of a per-run row that every version of this script has written.
RUN_COLUMNS = [
    *RUN_KEY, "grouped_by", "n_train", "n_val", "n_test", "best_epoch", "selected_by",
    "epochs", "duration_s", "val_loss", *[f"test_{name}" for name in MULTILABEL_METRICS],
    "test_loss", "git_commit", "device", "run_name", "resumed_from_epoch", "config",
]
LABEL_RULES = {
    "jaffe": "mean rating > 3, six emotions",
    "synthetic": "true distribution >= 0.25 (plus the dominant class)",
    "rafml": "distribution >= loader threshold",
}


# ---------------------------------------------------------------------------------------
# What identifies a run, and where its files go
# ---------------------------------------------------------------------------------------


def deviations_text(args: argparse.Namespace) -> str:
    """The settings that depart from the preset, e.g. ``"epochs=10"``, or ``"none"``."""
    found = [(k, getattr(args, k)) for k in OVERRIDABLE if getattr(args, k) is not None]
    return settings_text(found)


def setup_text(args: argparse.Namespace) -> str:
    """``--group-by`` and (for the synthetic faces) ``--n-synthetic`` where they differ
    from :data:`SETUP_DEFAULTS`, or ``"none"``."""
    used = {"group_by": True, "n_synthetic": args.dataset == "synthetic"}
    found = [(name, getattr(args, name)) for name in sorted(used)
             if used[name] and getattr(args, name) != SETUP_DEFAULTS[name]]
    return settings_text(found)


def identity(args: argparse.Namespace) -> dict[str, str]:
    """The key columns shared by every row of this command, except the model."""
    return {"dataset": args.dataset, "preset": args.preset_name,
            "deviations": deviations_text(args), "setup": setup_text(args)}


def file_tag(args: argparse.Namespace) -> str:
    """``<dataset>_<preset>``, plus deviations and setup, for the detail and figure files."""
    extra = file_suffix(deviations_text(args)) + file_suffix(setup_text(args))
    return f"{args.dataset}_{args.preset_name}{extra}"


def output_paths(args: argparse.Namespace) -> dict[str, Path]:
    """The detail file and the figure of this command's settings."""
    tag, folder = file_tag(args), args.out.parent
    return {"runs": folder / "mfjle_runs" / f"{tag}.csv",
            "figure": folder / "figures" / f"mfjle_{tag}_metrics.png"}


# ---------------------------------------------------------------------------------------
# Checks before anything is loaded or trained
# ---------------------------------------------------------------------------------------


def check_arguments(parser: argparse.ArgumentParser,
                    args: argparse.Namespace) -> dict[str, TrainConfig]:
    """Refuse a bad argument with ``parser.error`` (exit status 2) before anything runs.

    Sets ``args.preset_name`` (``auto`` resolved for ``--device``) and returns each
    model's configuration (seed still to be set).
    """
    def refuse(option: str, message: str) -> None:
        parser.error(f"argument {option}: {message}")

    for option, values in (("--models", args.models), ("--seeds", args.seeds)):
        twice = sorted({v for v in values if values.count(v) > 1})
        if twice:
            refuse(option, f"{', '.join(map(str, twice))} given more than once")
    if args.dataset == "synthetic" and args.n_synthetic < 1:
        refuse("--n-synthetic", f"must be an integer >= 1, got {args.n_synthetic}")
    try:
        device = resolve_device(args.device)
    except RuntimeError:  # torch does not know the name at all
        refuse("--device", f"{args.device!r} is not a device name; allowed: auto, cpu, cuda, "
               "cuda:N, mps")
    except ValueError as err:  # a device this machine does not have
        refuse("--device", f"{err} (or auto)")
    args.preset_name = args.preset
    if args.preset == "auto":
        args.preset_name = "paper" if device.type == "cuda" else "cpu"
    overrides: dict = {"progress": args.progress, "checkpoint_dir": args.checkpoint_dir}
    if args.device != "auto":
        overrides["device"] = args.device
    if args.checkpoint_dir and Path(args.checkpoint_dir).exists() \
            and not Path(args.checkpoint_dir).is_dir():
        refuse("--checkpoint-dir", f"{args.checkpoint_dir} is not a folder")
    for field in OVERRIDABLE:
        value = getattr(args, field)
        if value is None:
            continue
        try:
            MFJLE_PRESETS[args.preset_name].replace(**{field: value})
        except ValueError as err:
            refuse("--" + field.replace("_", "-"), str(err))
        overrides[field] = value
    configs = {m: mfjle_preset(args.preset_name, model=m, **overrides)[0] for m in args.models}
    for seed in args.seeds:
        try:
            next(iter(configs.values())).replace(seed=seed)
        except ValueError as err:
            refuse("--seeds", str(err))
    paths = output_paths(args)
    checks = [
        (args.out, SUMMARY_COLUMNS, ["dataset", "model", "preset", "hamming_loss_mean"]),
        (paths["runs"], RUN_COLUMNS, ["model", "seed", "test_hamming_loss"]),
        (paths["figure"], (), ()),
    ]
    for path, columns, required in checks:
        problem = table_problem(path, columns, required)
        if problem:
            refuse("--out", problem)
    return configs


# ---------------------------------------------------------------------------------------
# The per-run rows, older detail files, the summary
# ---------------------------------------------------------------------------------------


def older_identity(path: Path, args: argparse.Namespace, epochs: int) -> dict[str, str]:
    """The ``deviations`` and ``setup`` to give the rows of an older detail file.

    Older versions of this script named the file ``<dataset>_<preset>.csv`` whatever the
    deviations and setup, and wrote it whole from one command. When its rows cannot be
    of this command's settings (another number of epochs, or synthetic splits that do not
    add up to ``--n-synthetic``), both are ``"unknown"``: the rows then stay in the file,
    out of every summary.
    """
    own = {"deviations": deviations_text(args), "setup": setup_text(args)}
    if not path.exists():
        return own
    table = pd.read_csv(path)
    if "setup" in table.columns:
        return own
    odd = "epochs" in table.columns and (table["epochs"] != epochs).any()
    sizes = ["n_train", "n_val", "n_test"]
    if args.dataset == "synthetic" and set(sizes) <= set(table.columns):
        odd = odd or bool((table[sizes].sum(axis=1) != args.n_synthetic).any())
    return {"deviations": "unknown", "setup": "unknown"} if odd else own


def aggregate(runs: pd.DataFrame, args: argparse.Namespace, model: str, config: TrainConfig,
              landmark_report: dict, seconds: float) -> dict:
    """One summary row: mean and std (ddof=1) of the nine metrics over every per-run row."""
    info = run_info()
    row: dict = {
        **identity(args),
        "model": model,
        "epochs": int(runs["epochs"].max()),
        "n_runs": len(runs),
        "seeds": " ".join(str(s) for s in sorted({int(s) for s in runs["seed"]})),
    }
    for name in MULTILABEL_METRICS:
        mean, std = mean_and_std(runs[f"test_{name}"].astype(float))
        row[f"{name}_mean"], row[f"{name}_std"] = round(mean, 4), round(std, 4)
    groupings = sorted({str(g) for g in runs["grouped_by"]}) if "grouped_by" in runs else []
    row.update(
        split="60/20/20 by " + " / ".join(groupings),
        labels=LABEL_RULES[args.dataset],
        landmarks=f"{landmark_report['source']} (fallback {landmark_report['n_fallback']} "
        f"of {landmark_report['n_images']})",
        config=json.dumps(config.flat(), sort_keys=True),
        device=info["device"],
        git_commit=info["git_commit"],
        duration_s=round(seconds, 1),
        time_utc=info["time_utc"],
        command=" ".join(["scripts/run_mfjle.py", *args.argv]),
    )
    return {c: row[c] for c in SUMMARY_COLUMNS}


def run_model(args: argparse.Namespace, model: str, config: TrainConfig, ds) -> pd.DataFrame:
    """One model, one run per seed: its per-run rows."""
    result = random_split_protocol(config, ds, seeds=args.seeds, group_by=args.group_by)
    rows = []
    for (_, row), run in zip(result.table.iterrows(), result.runs, strict=True):
        seed = int(row["seed"])
        print(resume_line(run, f"{model} seed {seed}"), flush=True)
        rows.append({
            **identity(args), "model": model, "seed": seed,
            **row.drop(["seed"]).to_dict(),
            "run_name": run.run_name,
            "resumed_from_epoch": run.resumed_from_epoch,
            "config": json.dumps(run.config.flat(), sort_keys=True),
        })
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dataset", default="synthetic", choices=DATASETS)
    parser.add_argument("--data-root", default=None)
    parser.add_argument("--preset", default="auto", choices=["auto", *MFJLE_PRESETS])
    parser.add_argument("--models", nargs="+", default=list(MODELS), choices=MODELS)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--group-by", default=SETUP_DEFAULTS["group_by"],
                        choices=["sample", "subject"])
    for name in OVERRIDABLE:
        kind = float if name == "lr" else int
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=None,
                            help="default: the preset's")
    parser.add_argument("--n-synthetic", type=int, default=SETUP_DEFAULTS["n_synthetic"])
    parser.add_argument("--device", default="auto",
                        help="auto (CUDA, then MPS, then CPU), cpu, cuda, cuda:N or mps")
    parser.add_argument("--checkpoint-dir", default=None)
    parser.add_argument("--progress", action="store_true")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "results" / "mfjle.csv")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = list(sys.argv[1:] if argv is None else argv)
    configs = check_arguments(parser, args)

    options = {"n": args.n_synthetic, "seed": 0} if args.dataset == "synthetic" else {}
    try:
        ds = multilabel_view(load_dataset(args.dataset, root=args.data_root, **options))
    except (OSError, ValueError) as err:
        parser.error(f"argument --dataset/--data-root: {args.dataset} cannot be loaded: {err}")
    landmarks, report = dataset_landmarks(ds, progress=args.progress)
    ds = replace(ds, landmarks=landmarks)
    print(f"{ds.summary()}\nlandmarks: {report['source']}, {report['n_fallback']} of "
          f"{report['n_images']} faces from the fallback rule", flush=True)

    paths = output_paths(args)
    ident = identity(args)
    epochs = next(iter(configs.values())).optim.epochs
    adopt_older_rows(paths["runs"], {**ident, **older_identity(paths["runs"], args, epochs)})
    for model, config in configs.items():
        start = time.perf_counter()
        new = run_model(args, model, config, ds)
        runs = rows_matching(update_results_table(paths["runs"], new, RUN_KEY), ident)
        row = aggregate(rows_matching(runs, {"model": model}), args, model, config, report,
                        time.perf_counter() - start)
        table = rows_matching(update_results_table(args.out, pd.DataFrame([row]), KEY), ident)
        print(pd.DataFrame([row]).drop(columns=["config"]).T.to_string(), flush=True)
        fig = figures.multilabel_comparison(table, MFJLE_TABLES.get(args.dataset))
        path = save_figure(fig, paths["figure"].parent, paths["figure"].stem)
        plt.close(fig)
        print(f"wrote {args.out}, {paths['runs']} and {path}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
