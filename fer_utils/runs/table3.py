"""Paper A's Table 3 (shallow LDL baselines) as sweeps of the LDL cell, and its tables.

Introduced in notebook 07 (ablations, Table 3 section); driven by
``scripts/run_table3.py``. An *experiment* is one dataset under one protocol
(:data:`LDL_EXPERIMENTS`); its cells are runs of ``notebooks/experiments/ldl_run`` (one
kind of features, one seed, every fold, every method of :data:`fer_utils.ldl.LDL_METHODS`
and, with CNN features, the CNN's own softmax as ``cnn_baseline`` or ``cnn_mixfeature``).

With CNN features the cell trains its CNN exactly as the ablation sweep trains its
baseline (``cnn``) or its default MixFeature cell (``cnn_mixfeature``; the CNN's own row
is then paper A's MixFeature entry of Table 3): same configuration, folds and run names.
For the experiments of :data:`ABLATION_BASELINES` the data are the same too, so
:func:`cnn_checkpoint_dir` points them at the ablation experiment's checkpoint folder,
where a network already trained is read back instead of trained again.

:func:`write_table3` turns the finished cells into the committed tables, the same way
:func:`fer_utils.runs.ablations.write_tables` does for Table 4: per experiment one row per
cell, seed, fold and method with its provenance (``results/ldl/<experiment>_<budget>.csv``,
:func:`table3_rows`), and across experiments ``results/table3.csv`` (accuracy and the six
LDL measures per method, beside paper A's number, :func:`table3_summary`). Rows already
committed for cells whose folders are gone are kept, and those cells are not run again
(:func:`committed_ldl_cells`).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

from fer_utils.ldl import LDL_METHODS, PAPER_NAMES, STAND_INS
from fer_utils.metrics import LDL_METRICS, compare_methods
from fer_utils.published import TABLE2_ACCURACY, TABLE3_ACCURACY
from fer_utils.runs.ablations import (
    BUDGETS,
    EXPERIMENTS,
    accuracy_summary,
    cells_in_table,
    experiment_folder,
    finished_rows,
    merge_committed,
    split_deviations,
    write_csv,
)
from fer_utils.runs.claims import ALPHA, FAILED, HELD, OPEN
from fer_utils.runs.sweep import CELLS_DIR, SWEEP_FILE

#: The stated FER+ subset: a class-stratified draw of this many images of FER+'s official
#: training part (``ldl_run``'s ``max_images``). GLLE's graph grows with the square of the
#: training set and the CNN trains once per fold and seed, so a few thousand keeps an
#: experiment CPU-sized (hours, not days). 2,500 is about the smallest that leaves every
#: class at least 10 images for 10 stratified folds: FER+'s rarest majority labels,
#: disgust (116 training images) and contempt (120), get 11 and 12 (2,000 left 9).
#: ``scripts/run_table3.py --max-images`` changes it.
FERPLUS_IMAGES = 2500
#: Experiment name -> the LDL cell's fixed parameters. JAFFE is run both ways, 10 folds
#: (``jaffe_kfold``: by subject, one poser per fold); ``ferplus_votes`` fits the FER+
#: annotators' vote distributions (the closest runnable analogue of paper A's
#: FER+_argument column, whose features need OpenFace action units) on a stated subset;
#: ``synthetic`` is the built-in faces, whose true distributions are known, 5 folds as in
#: the ablations' ``synthetic_wheel``.
LDL_EXPERIMENTS: dict[str, dict[str, Any]] = {
    "jaffe_kfold_sample": {"dataset": "jaffe", "protocol": "kfold_sample", "folds": 10},
    "jaffe_kfold": {"dataset": "jaffe", "protocol": "kfold", "folds": 10},
    "ferplus_votes": {"dataset": "ferplus", "protocol": "kfold_sample", "folds": 10,
                      "max_images": FERPLUS_IMAGES},
    "synthetic": {"dataset": "synthetic", "protocol": "kfold_sample", "folds": 5},
}
#: The features of the LDL cell, in the order their cells run (LBP first: it is fast):
#: LBP histograms, and the penultimate features of the baseline CNN and of the CNN
#: trained with MixFeature.
FEATURES: tuple[str, ...] = ("lbp", "cnn", "cnn_mixfeature")
#: Table 3 experiment -> the ablation experiment (:data:`fer_utils.runs.ablations.EXPERIMENTS`)
#: whose baseline CNN is the LDL cell's CNN: same dataset, data, protocol, folds and
#: training configuration, hence the same run names and checkpoints. FER+ is not here:
#: its subset is other data, and the ablations run FER+ on its official split.
ABLATION_BASELINES: dict[str, str] = {
    "jaffe_kfold_sample": "jaffe_kfold_sample",
    "jaffe_kfold": "jaffe_kfold",
    "synthetic": "synthetic_wheel",
}
#: Dataset -> the key of its column in :data:`fer_utils.published.TABLE3_ACCURACY`.
PAPER_COLUMNS: dict[str, str] = {"jaffe": "jaffe", "ferplus": "ferplus_argument"}
#: PyLDL's six LDL measures (:data:`fer_utils.metrics.LDL_METRICS`), as result columns.
MEASURES: tuple[str, ...] = tuple(LDL_METRICS)
#: The CNN's own row of a cell with ``cnn`` features (the baseline CNN's softmax).
CNN_BASELINE = "cnn_baseline"
#: The CNN's own row of a cell with ``cnn_mixfeature`` features: MixFeature's softmax,
#: paper A's own entry of Table 3.
CNN_MIXFEATURE = "cnn_mixfeature"
#: Each CNN's own row -> its name in the tables.
CNN_ROWS: dict[str, str] = {CNN_BASELINE: "CNN (baseline)", CNN_MIXFEATURE: "MixFeature (CNN)"}
#: Where the per-experiment tables go, under the results folder.
DETAIL_DIR = "ldl"
#: The sweep's notebook, as ``sweep.json`` names it.
NOTEBOOK_NAME = "ldl_run.ipynb"


def table3_grids(
    experiment: str, features: list[str] | tuple[str, ...], seeds: list[int],
    budget: str = "cpu", checkpoint_dir: str | Path | None = None,
    max_images: int | None = None,
) -> tuple[list[dict[str, list[Any]]], dict[str, Any]]:
    """The sweep of ``experiment``: a list of grids (one per kind of features and seed, in
    the order of ``features`` and then of ``seeds``) and the fixed parameters, for
    :func:`fer_utils.runs.sweep.sweep` of ``ldl_run``.

    ``checkpoint_dir`` goes into the CNN cells only (the LBP cells get ``None``): LBP
    cells train nothing, so their identity (the hash that :func:`committed_ldl_cells`
    matches) does not depend on where checkpoints are kept. ``max_images`` replaces the
    experiment's stated subset (only for an experiment that has one,
    :data:`FERPLUS_IMAGES`).
    """
    if experiment not in LDL_EXPERIMENTS:
        raise ValueError(f"unknown experiment {experiment!r}; expected one of "
                         f"{', '.join(LDL_EXPERIMENTS)}")
    if not features or any(f not in FEATURES for f in features) \
            or len(set(features)) != len(features):
        raise ValueError(f"features must be distinct values of {FEATURES}, got {list(features)}")
    if not seeds or len(set(seeds)) != len(seeds) or any(
            not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be distinct integers >= 0, got {list(seeds)}")
    if budget not in BUDGETS:
        raise ValueError(f"budget must be one of {BUDGETS}, got {budget!r}")
    fixed = {**LDL_EXPERIMENTS[experiment], "budget": budget}
    if max_images is not None:
        if "max_images" not in fixed:
            subsets = [k for k, v in LDL_EXPERIMENTS.items() if "max_images" in v]
            raise ValueError(f"max_images applies to {', '.join(subsets)} only, "
                             f"not to {experiment!r}")
        if not isinstance(max_images, int) or isinstance(max_images, bool) or max_images < 20:
            raise ValueError(f"max_images must be an integer >= 20, got {max_images!r}")
        fixed["max_images"] = max_images
    grids: list[dict[str, list[Any]]] = []
    for kind in features:
        for s in seeds:
            # every grid names the same parameters (build_cells's union needs it)
            folder = str(checkpoint_dir) if kind != "lbp" and checkpoint_dir is not None \
                else None
            grids.append({"features": [kind], "seed": [s], "checkpoint_dir": [folder]})
    return grids, fixed


def reuses_ablation_baseline(experiment: str) -> bool:
    """Whether ``experiment``'s CNN is an ablation experiment's baseline on the same data
    and folds (:data:`ABLATION_BASELINES`), checked against both experiments' fixed
    parameters: dataset, protocol and folds, and for the synthetic faces the default
    (``"wheel"``) secondary emotions that the LDL cell uses."""
    if experiment not in ABLATION_BASELINES:
        return False
    ours, theirs = LDL_EXPERIMENTS[experiment], EXPERIMENTS[ABLATION_BASELINES[experiment]]
    same = all(ours.get(k) == theirs.get(k) for k in ("dataset", "protocol", "folds"))
    return same and "max_images" not in ours and theirs.get("synthetic_secondary",
                                                            "wheel") == "wheel"


def cnn_checkpoint_dir(
    experiment: str, budget: str, runs_dir: str | Path,
    ablation_runs_dir: str | Path | None = None, max_images: int | None = None,
) -> Path:
    """Where the CNN cells of ``experiment`` keep their checkpoints.

    With ``ablation_runs_dir`` and an experiment that :func:`reuses_ablation_baseline`:
    the checkpoint folder of that ablation experiment under the same budget
    (``<ablation_runs_dir>/<ablation experiment>_<budget>/checkpoints``), so a baseline the
    ablation sweep trained is read back, and one trained here serves the ablations.
    Otherwise the experiment's own, ``<runs_dir>/<experiment>_<budget>/checkpoints``; for
    an experiment on an image subset, one folder per subset size below it
    (``.../checkpoints/images2500``: the training loop refuses a checkpoint of the same
    run name written on other data, and another subset is other data).
    """
    if ablation_runs_dir is not None and reuses_ablation_baseline(experiment):
        return experiment_folder(ablation_runs_dir, ABLATION_BASELINES[experiment],
                                 budget) / "checkpoints"
    folder = experiment_folder(runs_dir, experiment, budget) / "checkpoints"
    subset = LDL_EXPERIMENTS.get(experiment, {}).get("max_images")
    if subset is None:
        return folder
    return folder / f"images{max_images if max_images is not None else subset}"


def committed_ldl_cells(results: str | Path, folder_name: str) -> set[str]:
    """The parameter hashes of the cells of experiment folder ``folder_name`` whose rows
    are already in ``results/ldl/<folder_name>.csv``: finished, even where their run
    folders are gone (:func:`fer_utils.runs.sweep.sweep`'s ``skip``)."""
    return cells_in_table(Path(results) / DETAIL_DIR / f"{folder_name}.csv")


def _feature_settings(params: dict[str, Any], config: dict[str, Any]) -> str:
    """What made a cell's features: the LBP grid and image size, or the CNN's training
    budget (the deviations of its configuration from the dataset's preset)."""
    if params["features"] == "lbp":
        rows, cols = params["lbp_grid"]
        op = config.get("lbp_operator") or {"method": "uniform", "points": 8, "radius": 1}
        return (f"lbp={op['method']}(P={op['points']}, R={op['radius']}); "
                f"lbp_grid={rows}x{cols}; image_size={params['image_size']}")
    return split_deviations(config.get("deviations", ""))[0]


def table3_rows(folder: str | Path) -> pd.DataFrame:
    """One row per finished cell, seed, fold and method of an LDL experiment folder: the
    accuracy (arg-max of the predicted distribution against the posed label) and the six
    LDL measures, with provenance (git commit, device, cell duration, sweep cell, the
    recorded command) and what the numbers depend on (protocol, features and their
    settings, budget, the images used, data seed).

    Unfinished and failed cells are left out (the sweep's own ``sweep.csv`` lists them).
    """
    def describe(result: dict[str, Any]) -> dict[str, Any]:
        params, config = result["parameters"], result["config"]
        return {
            **{k: params[k] for k in ("dataset", "protocol", "folds", "features", "budget",
                                      "data_seed", "max_images", "quick")},
            "feature_settings": _feature_settings(params, config),
            "images_used": config.get("images_used", ""),
            "n_images": config.get("n_images"),
            "n_neutral_dropped": config.get("n_neutral_dropped"),
            "n_classes": len(config.get("classes", [])),
            "finished_utc": result["finished_utc"],
        }

    table = finished_rows(folder, describe)
    if table.empty:
        return table
    columns = ["experiment", "dataset", "protocol", "folds", "features", "budget",
               "feature_settings", "images_used", "n_images", "n_neutral_dropped",
               "n_classes", "quick", "method", "seed", "fold", "test_accuracy", *MEASURES,
               "n_train", "n_test", "fit_seconds", "cnn_protocol_accuracy", "cnn_n_fit",
               "cnn_epochs_read_back", "data_seed", "max_images", "git_commit", "device",
               "software", "duration_s", "finished_utc", "sweep_cell", "command"]
    return table[[c for c in columns if c in table]].reset_index(drop=True)


GROUP = ["experiment", "dataset", "protocol", "features", "budget", "feature_settings",
         "images_used"]


def _paper_number(dataset: str, method: str) -> tuple[str, float, str]:
    """Paper A's column for ``dataset``, its accuracy (%) for ``method`` there, and which
    table the number comes from (the CNN baseline's is Table 2's, the rest Table 3's;
    MixFeature's CNN row is Table 3's MixFeature)."""
    column = PAPER_COLUMNS.get(dataset, "")
    if method == CNN_MIXFEATURE:
        method = "mixfeature"
    if method == CNN_BASELINE:
        number = TABLE2_ACCURACY.get(dataset, {}).get("baseline", math.nan)
        return column, number, "" if math.isnan(number) else "Table 2 (baseline)"
    number = TABLE3_ACCURACY.get(column, {}).get(method, math.nan)
    return column, number, "" if math.isnan(number) else "Table 3"


def _order(values: pd.Series, order: list[str]) -> pd.Series:
    """Each value's place in ``order`` (unknown values last, in their own order)."""
    return values.map({v: i for i, v in enumerate(order)}).fillna(len(order))


def table3_summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per experiment, features and method (and the settings the numbers depend on):
    accuracy (%) as the mean over every fold and seed, its std over the seeds' means and
    over all runs, the number of runs and the seeds, the mean of each of the six LDL
    measures, and paper A's number where it has one (``paper_column``: JAFFE's, or
    FER+_argument's beside ``ferplus_votes``; ``paper_source``). A stand-in method is
    named as one: ``paper_name`` says ``(stand-in)`` and ``stand_in`` holds
    :data:`fer_utils.ldl.STAND_INS`'s account of it. Rows follow
    :data:`LDL_EXPERIMENTS`, :data:`FEATURES` and :data:`fer_utils.ldl.LDL_METHODS`."""
    if rows.empty:
        return pd.DataFrame()
    out = []
    for key, g in rows.groupby([*GROUP, "method"], sort=False, dropna=False):
        info = dict(zip([*GROUP, "method"], key, strict=True))
        method = info["method"]
        paper_name = {**PAPER_NAMES, **CNN_ROWS}.get(method, method)
        if method in STAND_INS:
            paper_name += " (stand-in)"
        column, number, source = _paper_number(info["dataset"], method)
        cnn_acc = g["cnn_protocol_accuracy"].mean() * 100 \
            if "cnn_protocol_accuracy" in g and method in CNN_ROWS else math.nan
        out.append({**info, "paper_name": paper_name, "stand_in": STAND_INS.get(method, ""),
                    **accuracy_summary(g),
                    **{f"{m}_mean": g[m].mean() for m in MEASURES},
                    "cnn_protocol_accuracy_mean": cnn_acc,
                    "fit_seconds_mean": g["fit_seconds"].mean(),
                    "paper_column": column, "paper_accuracy": number, "paper_source": source,
                    "git_commits": " ".join(sorted(g["git_commit"].astype(str).unique())),
                    "device": " ".join(sorted(g["device"].astype(str).unique())),
                    "command": g["command"].iloc[-1]})
    table = pd.DataFrame(out)
    keys = [_order(table["experiment"], list(LDL_EXPERIMENTS)),
            _order(table["features"], list(FEATURES)),
            _order(table["method"], [*LDL_METHODS, *CNN_ROWS])]
    order = pd.DataFrame({"e": keys[0], "f": keys[1], "m": keys[2]}).sort_values(
        ["e", "f", "m"], kind="stable").index
    return table.loc[order].reset_index(drop=True)


def table3_claims(rows: pd.DataFrame) -> pd.DataFrame:
    """Paper A's Table 3 claim, per experiment of the per-run rows (``results/ldl/*.csv``,
    :func:`read_table3_rows`): MixFeature's own CNN (``cnn_mixfeature``) is more accurate
    than every shallow LDL method, whatever their features.

    The shallow method with the best mean accuracy (on any feature set) is paired with
    MixFeature fold by fold and seed by seed (on the seeds and folds both have run), and
    compared as Table 5 compares methods (:func:`fer_utils.metrics.compare_methods`:
    paired t-test and the Nadeau-Bengio corrected one). One row per experiment:
    MixFeature's and the best shallow method's mean accuracy (%) over the paired runs,
    the baseline CNN's over all its runs, the mean difference in points with its
    corrected 95 % interval and corrected p, a sentence with our numbers (``ours``) and
    the verdict: :data:`HELD` when MixFeature is ahead with corrected p < 0.05, "ahead,
    not significant", :data:`FAILED` when it is not ahead, :data:`OPEN` while one side
    has no runs. Introduced in notebook 07 (section 7).
    """
    out = []
    summary = table3_summary(rows)
    for experiment, g in summary.groupby("experiment", sort=False):
        shallow = g[g["method"].isin(LDL_METHODS)]
        base = g[g["method"] == CNN_BASELINE]
        mine = rows[(rows["experiment"] == experiment) & (rows["method"] == CNN_MIXFEATURE)]
        row: dict[str, Any] = {"experiment": experiment,
                               "claim": "MixFeature beats every shallow LDL method"}
        if shallow.empty or mine.empty:
            missing = "MixFeature's CNN" if mine.empty else "the shallow methods"
            out.append({**row, "ours": f"{missing} not run yet", "verdict": OPEN})
            continue
        best = shallow.loc[shallow["accuracy_mean"].idxmax()]
        theirs = rows[(rows["experiment"] == experiment) & (rows["method"] == best["method"])
                      & (rows["features"] == best["features"])]
        # only the seeds and folds both have run (one side may be ahead of the other)
        keys = ["seed", "fold"]
        shared = mine[keys].merge(theirs[keys]).drop_duplicates()
        mine, theirs = (t.merge(shared, on=keys) for t in (mine, theirs))
        if len(shared) < 2:
            out.append({**row, "ours": "fewer than 2 runs on the same seed and fold yet",
                        "verdict": OPEN})
            continue
        pairs = pd.concat([mine.assign(method="mixfeature"), theirs.assign(method="best")])
        pairs = pairs.assign(test_accuracy=pairs["test_accuracy"] * 100)
        test = compare_methods(pairs, "mixfeature", n_train=float(mine["n_train"].mean()),
                               n_test=float(mine["n_test"].mean())).iloc[0]
        diff, p = float(test["mean_difference"]), float(test["p_corrected"])
        verdict = FAILED if diff <= 0 else HELD if p < ALPHA else "ahead, not significant"
        # the accuracies of the paired runs, so that they differ by the mean difference
        acc, best_acc = (float(t["test_accuracy"].mean() * 100) for t in (mine, theirs))
        side = "above" if diff > 0 else "below" if diff < 0 else "level with"
        out.append({**row, "mixfeature_accuracy": acc,
                    "best_shallow": best["paper_name"],
                    "best_shallow_features": best["features"],
                    "best_shallow_accuracy": best_acc,
                    "baseline_cnn_accuracy": float(base["accuracy_mean"].iloc[0])
                    if not base.empty else math.nan,
                    "n_pairs": int(test["n_pairs"]), "mean_difference": diff,
                    "ci_low_corrected": float(test["ci_low_corrected"]),
                    "ci_high_corrected": float(test["ci_high_corrected"]),
                    "p_corrected": p,
                    "ours": f"MixFeature {acc:.1f} %, {abs(diff):.1f} points {side} the "
                            f"best shallow method ({best['paper_name']} on "
                            f"{best['features']} features, {best_acc:.1f} %; "
                            f"corrected 95 % CI {test['ci_low_corrected']:+.1f} to "
                            f"{test['ci_high_corrected']:+.1f}, corrected p = {p:.3g}, "
                            f"{int(test['n_pairs'])} paired runs)",
                    "verdict": verdict})
    return pd.DataFrame(out)


def read_table3_rows(results: str | Path) -> pd.DataFrame:
    """Every committed per-run row of Table 3 (``results/ldl/*.csv``), or an empty table."""
    frames = [pd.read_csv(p, keep_default_na=False, na_values=[""])
              for p in sorted((Path(results) / DETAIL_DIR).glob("*.csv"))]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def _is_ldl_sweep(folder: Path) -> bool:
    """Whether ``folder`` holds a sweep of ``ldl_run`` (not, say, an ablation sweep)."""
    path = folder / SWEEP_FILE
    if not (folder / CELLS_DIR).is_dir() or not path.exists():
        return False
    return json.loads(path.read_text(encoding="utf-8")).get("notebook") == NOTEBOOK_NAME


def write_table3(runs_dir: str | Path, results: str | Path) -> pd.DataFrame:
    """Rewrite the committed Table 3 tables from every LDL experiment folder under
    ``runs_dir``.

    Writes ``results/ldl/<folder>.csv`` (:func:`table3_rows`) per experiment folder with
    finished cells, then ``results/table3.csv`` (:func:`table3_summary`) from all of
    ``results/ldl/*.csv``. Committed rows of cells, and of experiments, whose run folders
    are gone are kept; a cell that is in both is taken from its folder. Folders that are
    not sweeps of ``ldl_run`` are ignored. Returns the summary (empty when nothing has
    finished).
    """
    runs_dir, results = Path(runs_dir), Path(results)
    detail_dir = results / DETAIL_DIR
    for folder in sorted(p for p in runs_dir.glob("*") if _is_ldl_sweep(p)):
        rows = table3_rows(folder)
        if rows.empty:
            continue
        path = detail_dir / f"{folder.name}.csv"
        write_csv(merge_committed(rows, path), path)
    summary = table3_summary(read_table3_rows(results))
    if not summary.empty:
        write_csv(summary, results / "table3.csv")
    return summary

