"""Paper B's ablations as sweeps of the MF-JLE experiment cell, and the tables made from them.

Introduced in notebook 07 (ablations, paper B section); driven by
``scripts/run_mfjle_ablations.py``. An *experiment* is one dataset under one kind of
60/20/20 split (:data:`MFJLE_EXPERIMENTS`); its cells are runs of
``notebooks/experiments/mfjle_run`` (one variant, one seed), grouped in *parts*
(:data:`VARIANTS`):

* ``fig5``: the single ResNet-18, MF-JLE with binary cross-entropy (paper B) and MF-JLE
  with multi-class cross-entropy (paper B's Fig. 5);
* ``fig6``: all five lambda_i at 0, 0.001, 0.005, 0.015 (0.01 is the ``mfjle`` cell);
* ``fig7``: one lambda_j at 0.005 or 0.015, the other four at 0.01 (paper B's Fig. 7);
* ``mix``: MixFeature inside MF-JLE (replication notes D27), an experiment neither paper
  ran.

The ``mfjle`` cell also scores its trained modules with the five weights fitted on the
validation part (module ``fitted``, our extension), each module alone, and every lambda
of Figs. 6 and 7 by re-weighting its trained modules (modules ``reweighted:<variant>``,
replication notes D28): the parts ``fig6`` and ``fig7`` train each lambda instead, as
paper B did, and show how far the two agree.
:func:`write_mfjle_tables` turns the finished cells into the committed tables:
``results/mfjle_ablations.csv`` (one row per experiment, variant, module and seed, with
the nine metrics, the configuration and provenance), ``results/mfjle_ablations_curves.csv``
(per-epoch training loss and validation micro-F1 of every run, for Fig. 5) and
``results/mfjle_ablations_summary.csv`` (mean and std over the seeds). Rows already
committed for cells whose folders are gone are kept, and those cells are not run again.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from fer_utils.data.dataset import LANDMARK_NAMES
from fer_utils.metrics import MULTILABEL_METRICS
from fer_utils.mfjle.model import NUM_LOCAL
from fer_utils.runs.ablations import (
    cells_in_table,
    check_plan,
    finished_rows,
    merge_committed,
    write_csv,
)
from fer_utils.runs.sweep import CELLS_DIR
from fer_utils.training.convergence import is_flat

#: Epochs of the CPU budget: the CPU preset (30 epochs) trained longer, until the
#: training loss is flat (replication notes D28: ResNet-18 on JAFFE, seed 0, flat at 100).
CPU_EPOCHS = 100
#: Experiment name -> the MF-JLE cell's fixed parameters: JAFFE split over images (as
#: paper B appears to) and over subjects (no person in two parts), and 300 built-in
#: faces (about JAFFE's size, so that a run costs about the same).
MFJLE_EXPERIMENTS: dict[str, dict[str, Any]] = {
    "jaffe_split_sample": {"dataset": "jaffe", "split": "sample"},
    "jaffe_split_subject": {"dataset": "jaffe", "split": "subject"},
    "synthetic_split_sample": {"dataset": "synthetic", "split": "sample", "n_synthetic": 300},
}
#: Paper B's lambda_i.
PAPER_LAMBDA = 0.01
#: The cell's variant-defining parameters at paper B's settings (the ``mfjle`` cell).
DEFAULT_CELL: dict[str, Any] = {"model": "mfjle", "multilabel_loss": "bce",
                                "local_weights": [PAPER_LAMBDA] * NUM_LOCAL,
                                "mfjle_mix": "none"}
#: Fig. 6's values of all five lambda_i besides paper B's 0.01 (0: the global module alone).
FIG6_LAMBDAS: tuple[float, ...] = (0.0, 0.001, 0.005, 0.015)
#: Fig. 7's values of one lambda_j, the other four at 0.01.
FIG7_LAMBDAS: tuple[float, ...] = (0.005, 0.015)


def _one_lambda(j: int, value: float) -> list[float]:
    weights = [PAPER_LAMBDA] * NUM_LOCAL
    weights[j] = value
    return weights


#: Variant name -> (part, the cell parameters that differ from :data:`DEFAULT_CELL`).
VARIANTS: dict[str, tuple[str, dict[str, Any]]] = {
    "resnet18": ("fig5", {"model": "resnet18"}),
    "mfjle": ("fig5", {}),
    "mfjle_ce": ("fig5", {"multilabel_loss": "ce"}),
    **{f"lambda={v:g}": ("fig6", {"local_weights": [v] * NUM_LOCAL}) for v in FIG6_LAMBDAS},
    **{f"lambda_{name}={v:g}": ("fig7", {"local_weights": _one_lambda(j, v)})
       for j, name in enumerate(LANDMARK_NAMES) for v in FIG7_LAMBDAS},
    "mfjle_mixfeature": ("mix", {"mfjle_mix": "mixfeature"}),
}
PARTS: tuple[str, ...] = ("fig5", "fig6", "fig7", "mix")
BUDGETS: tuple[str, ...] = ("cpu", "paper")
#: The committed tables, under ``results/``.
DETAIL_FILE = "mfjle_ablations.csv"
CURVES_FILE = "mfjle_ablations_curves.csv"
SUMMARY_FILE = "mfjle_ablations_summary.csv"


def mfjle_grids(
    experiment: str, parts: list[str] | tuple[str, ...], seeds: list[int],
    budget: str = "cpu", checkpoint_dir: str | Path | None = None,
) -> tuple[list[dict[str, list[Any]]], dict[str, Any]]:
    """The sweep of ``experiment``: a list of grids (seed by seed, the parts in order, one
    grid per variant) and the fixed parameters, for :func:`fer_utils.runs.sweep.sweep`.

    Every grid names every variant-defining parameter, so the ``mfjle`` cell shared by
    Figs. 5, 6 and 7 runs once.
    """
    check_plan(experiment, MFJLE_EXPERIMENTS, parts, PARTS, budget, BUDGETS)
    grids = []
    for s in seeds:
        for part in parts:
            for _, (p, changes) in VARIANTS.items():
                if p == part or (part in ("fig6", "fig7") and not changes):
                    cell = {**DEFAULT_CELL, **changes}
                    grids.append({**{k: [v] for k, v in cell.items()}, "seed": [s]})
    fixed = {**MFJLE_EXPERIMENTS[experiment], "budget": budget}
    if budget == "cpu":
        fixed["epochs"] = CPU_EPOCHS
    if checkpoint_dir is not None:
        fixed["checkpoint_dir"] = str(checkpoint_dir)
    return grids, fixed


def variant_name(parameters: dict[str, Any]) -> str:
    """The :data:`VARIANTS` name of a cell's parameters (``"other"`` when none matches)."""
    cell = {k: parameters.get(k, v) for k, v in DEFAULT_CELL.items()}
    if isinstance(cell["local_weights"], str):
        cell["local_weights"] = json.loads(cell["local_weights"])
    cell["local_weights"] = [float(w) for w in cell["local_weights"]]
    for name, (_, changes) in VARIANTS.items():
        want = {**DEFAULT_CELL, **changes}
        if want["model"] == "resnet18" == cell["model"]:
            return name  # the single network ignores the ensemble's settings
        if cell == want:
            return name
    return "other"


def mfjle_rows(folder: str | Path) -> pd.DataFrame:
    """One row per finished cell, seed and module of an experiment folder, with the
    variant, the configuration's deviations from the budget and provenance (the command
    that ran each cell: :func:`fer_utils.runs.ablations.cell_command`)."""
    def describe(result: dict[str, Any]) -> dict[str, Any]:
        params, config = result["parameters"], result["config"]
        weights = config["train_config"]["multilabel"]["local_weights"]
        return {"variant": variant_name(params), "dataset": params["dataset"],
                "split": params["split"], "budget": params["budget"],
                "local_weights": " ".join(f"{w:g}" for w in weights),
                "deviations": config.get("deviations", "none"),
                "landmarks": f"{config.get('landmarks')} (fallback "
                             f"{config.get('landmark_fallbacks')})",
                "finished_utc": result["finished_utc"]}

    table = finished_rows(folder, describe)
    if table.empty:
        return table
    weights = [f"weight_{n}" for n in LANDMARK_NAMES]
    columns = ["experiment", "dataset", "split", "budget", "deviations", "variant", "model",
               "multilabel_loss", "local_weights", "mfjle_mix", "seed", "module",
               *MULTILABEL_METRICS, *weights, "best_epoch", "epochs_trained", "n_train",
               "n_val", "n_test", "train_loss_last", "train_loss_drop", "train_seconds",
               "landmarks", "git_commit", "device", "software", "duration_s", "finished_utc",
               "sweep_cell", "command"]
    return table[[c for c in columns if c in table]].reset_index(drop=True)


def mfjle_curves(folder: str | Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Per finished cell, seed and epoch: the training loss, the validation loss and
    micro-F1 (from each cell's ``histories.csv``), labelled with the variant."""
    folder = Path(folder)
    parts = []
    cells = rows[["sweep_cell", "experiment", "variant"]].drop_duplicates()
    for sweep_cell, experiment, variant in cells.itertuples(index=False):
        path = folder.parent / sweep_cell / "histories.csv"
        if path.exists():
            hist = pd.read_csv(path)
            keep = ["seed", "epoch", "train_loss", "val_loss", "val_micro_f1"]
            parts.append(hist[keep].assign(sweep_cell=sweep_cell, experiment=experiment,
                                           variant=variant))
    if not parts:
        return pd.DataFrame()
    out = pd.concat(parts, ignore_index=True)
    first = ["sweep_cell", "experiment", "variant"]
    return out[[*first, *[c for c in out if c not in first]]]


def _label(row: pd.Series) -> str:
    """The summary's name of a row: its variant, with the module where it is not the
    variant's own score (``mfjle/fitted``, ``mfjle/global``, ...)."""
    own = row["module"] in ("single", "ensemble")
    return row["variant"] if own else f"{row['variant']}/{row['module']}"


def mfjle_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Mean and std (ddof=1, over the seeds) of the nine metrics per experiment, budget,
    deviations and variant (and module: ``mfjle/fitted`` etc.), with the runs, seeds,
    how many runs ended flat (:func:`~fer_utils.training.convergence.is_flat` on the
    training loss) and provenance. Rows follow :data:`MFJLE_EXPERIMENTS` and
    :data:`VARIANTS`, each variant's own row first."""
    if rows.empty:
        return pd.DataFrame()
    rank = {"experiment": list(MFJLE_EXPERIMENTS), "variant": [*VARIANTS, "other"]}
    order = pd.DataFrame({k: rows[k].map({v: i for i, v in enumerate(vs)}).fillna(len(vs))
                          for k, vs in rank.items()})
    order["own"] = ~rows["module"].isin(["single", "ensemble"])
    rows = rows.loc[order.sort_values(["experiment", "variant", "own"], kind="stable").index]
    rows = rows.assign(name=[_label(r) for _, r in rows.iterrows()])
    out = []
    keys = ["experiment", "dataset", "split", "budget", "deviations", "name"]
    for key, g in rows.groupby(keys, sort=False):
        row: dict[str, Any] = dict(zip(keys, key, strict=True))
        row["variant"] = g["variant"].iloc[0]
        row["module"] = g["module"].iloc[0]
        row["n_runs"] = len(g)
        row["seeds"] = " ".join(map(str, sorted(g["seed"].astype(int).unique())))
        for metric in MULTILABEL_METRICS:
            values = g[metric].astype(float)
            row[f"{metric}_mean"] = values.mean()
            row[f"{metric}_std"] = values.std(ddof=1) if len(values) > 1 else math.nan
        row["runs_flat"] = sum(is_flat(lv, dr) for lv, dr in
                               zip(g["train_loss_last"], g["train_loss_drop"], strict=True))
        row["train_loss_last_mean"] = g["train_loss_last"].mean()
        row["git_commits"] = " ".join(sorted(g["git_commit"].astype(str).unique()))
        row["device"] = " ".join(sorted(g["device"].astype(str).unique()))
        row["train_seconds"] = g.drop_duplicates(["sweep_cell", "seed"])["train_seconds"].sum()
        row["command"] = g["command"].iloc[-1]
        out.append(row)
    return pd.DataFrame(out)


def write_mfjle_tables(runs_dir: str | Path, results: str | Path) -> pd.DataFrame:
    """Rewrite ``results/mfjle_ablations.csv``, ``..._curves.csv`` and ``..._summary.csv``
    from every experiment folder under ``runs_dir``, keeping committed rows of cells whose
    folders are gone. Returns the summary."""
    runs_dir, results = Path(runs_dir), Path(results)
    rows, curves = [], []
    for folder in sorted(p for p in runs_dir.glob("*") if (p / CELLS_DIR).is_dir()):
        found = mfjle_rows(folder)
        if not found.empty:
            rows.append(found)
            curves.append(mfjle_curves(folder, found))
    detail_path, curves_path = results / DETAIL_FILE, results / CURVES_FILE
    if rows:
        detail = merge_committed(pd.concat(rows, ignore_index=True), detail_path)
        write_csv(detail, detail_path)
        new_curves = pd.concat(curves, ignore_index=True)
        if not new_curves.empty:
            write_csv(merge_committed(new_curves, curves_path), curves_path)
    if not detail_path.exists():
        return pd.DataFrame()
    summary = mfjle_summary(pd.read_csv(detail_path, keep_default_na=False, na_values=[""]))
    write_csv(summary, results / SUMMARY_FILE)
    return summary


def committed_mfjle_cells(results: str | Path) -> set[str]:
    """The parameter hashes of the cells already in ``results/mfjle_ablations.csv``."""
    return cells_in_table(Path(results) / DETAIL_FILE)
