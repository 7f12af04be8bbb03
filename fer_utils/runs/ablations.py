"""Paper A's ablations as sweeps of the experiment cell, and the tables made from them.

Introduced in notebook 07 (ablations); driven by ``scripts/run_ablations.py``. An
*experiment* is one dataset under one protocol (:data:`EXPERIMENTS`); its cells are
runs of ``notebooks/experiments/protocol_run`` (one method, one set of MixFeature knobs,
one seed, every fold), grouped in two *parts*:

* ``table4``: the nine methods of paper A's Table 4 (:data:`TABLE4_METHODS`) with the
  MixFeature knobs at their defaults;
* ``fig7``: MixFeature with one knob changed at a time (:data:`FIG7_KNOBS`), the
  others at :data:`KNOB_DEFAULTS` (so the default point is Table 4's MixFeature cell).

:func:`write_tables` turns the finished cells of every experiment into the committed
tables: per experiment one row per cell, seed and fold (with its recorded command,
commit, device and duration) and the training curves per cell (:func:`pool_curves`
makes them per method); across experiments
``table4.csv`` (accuracy per method), ``table5.csv`` (every method against MixFeature
on the same folds and seeds, :func:`fer_utils.metrics.compare_methods`) and ``fig7.csv``
(accuracy per knob value). Every summary is recomputed on each call from the cells'
rows; rows already committed for cells whose folders are gone (a fresh checkout) are
kept, and those cells are not run again (:func:`committed_cells`).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from fer_utils.baselines.config import BASELINE_METHODS
from fer_utils.files import atomic_write_text
from fer_utils.metrics import compare_methods
from fer_utils.published import TABLE2_ACCURACY, TABLE4_ACCURACY, TABLE5_P_VALUES
from fer_utils.runs.record import RESULT_FILE, read_result
from fer_utils.runs.sweep import CELLS_DIR, gather
from fer_utils.training.config import METHODS
from fer_utils.training.convergence import is_flat

#: The methods of paper A's Table 4, MixFeature's comparison first.
TABLE4_METHODS: tuple[str, ...] = METHODS
#: The knobs of MixFeature at their defaults (the experiment cell's defaults).
KNOB_DEFAULTS: dict[str, Any] = {"mix_k": 3, "mix_lambda": 0.5, "mix_beta": "sample",
                                 "mix_primary": "member", "wheel_layout": "plutchik"}
#: The values tried for each knob in part ``fig7`` besides the default: Fig. 7's K, the
#: weight lambda of Eq. 8 (1.0: cross-entropy only), Eq. 7's beta per batch, the primary
#: emotion per distinct label, and the wheel layouts (``docs/replication.md`` D11).
FIG7_KNOBS: dict[str, list[Any]] = {
    "mix_k": [2, 4, 5, 6],
    "mix_lambda": [0.1, 0.2, 0.3, 0.4, 0.6, 0.7, 0.8, 0.9, 1.0],
    "mix_beta": ["batch"],
    "mix_primary": ["label"],
    "wheel_layout": ["ring", "uniform", "shuffled"],
}
PARTS: tuple[str, ...] = ("table4", "fig7")
BUDGETS: tuple[str, ...] = ("cpu", "paper")
#: Experiment name -> the experiment cell's fixed parameters. CK+ folds are grouped by
#: subject (frames of one sequence never straddle a fold); JAFFE is run both ways; the
#: synthetic faces with wheel-shaped and with random secondary emotions (D25), 5 folds.
EXPERIMENTS: dict[str, dict[str, Any]] = {
    "jaffe_kfold_sample": {"dataset": "jaffe", "protocol": "kfold_sample", "folds": 10},
    "jaffe_kfold": {"dataset": "jaffe", "protocol": "kfold", "folds": 10},
    "ckplus_kfold": {"dataset": "ckplus", "protocol": "kfold", "folds": 10},
    "synthetic_wheel": {"dataset": "synthetic", "synthetic_secondary": "wheel",
                        "protocol": "kfold_sample", "folds": 5},
    "synthetic_random": {"dataset": "synthetic", "synthetic_secondary": "random",
                         "protocol": "kfold_sample", "folds": 5},
    "ferplus_official": {"dataset": "ferplus", "protocol": "official"},
}
#: Columns that identify a row of an experiment table (with the run's seed and fold).
CELL_COLUMNS: tuple[str, ...] = ("method", *KNOB_DEFAULTS)
#: The experiment cell's settings that are the method or its knobs, not the budget.
_METHOD_FIELDS = ("method", "mix_", "wheel_layout", *(f"{m}_" for m in BASELINE_METHODS))
COMMAND_FILE = "commands.txt"
CELL_COMMANDS_FILE = "cell_commands.json"


def experiment_folder(runs_dir: str | Path, experiment: str, budget: str) -> Path:
    """The sweep folder of ``experiment`` under ``budget``: ``runs_dir/<experiment>_<budget>``."""
    return Path(runs_dir) / f"{experiment}_{budget}"


def check_plan(experiment: str, experiments: Iterable[str], parts: Iterable[str],
               all_parts: tuple[str, ...], budget: str, budgets: tuple[str, ...]) -> None:
    """Raise ``ValueError`` naming what is wrong when ``experiment``, ``parts`` or
    ``budget`` is not one of those a driver's plan knows."""
    experiments, parts = list(experiments), list(parts)
    if experiment not in experiments:
        raise ValueError(f"unknown experiment {experiment!r}; expected one of "
                         f"{', '.join(experiments)}")
    if not parts or any(p not in all_parts for p in parts):
        raise ValueError(f"parts must be some of {all_parts}, got {parts}")
    if budget not in budgets:
        raise ValueError(f"budget must be one of {budgets}, got {budget!r}")


def ablation_grids(
    experiment: str, parts: list[str] | tuple[str, ...], seeds: list[int], budget: str = "cpu",
    checkpoint_dir: str | Path | None = None, methods: list[str] | None = None,
) -> tuple[list[dict[str, list[Any]]], dict[str, Any]]:
    """The sweep of ``experiment``: a list of grids (seed by seed, Table 4 first) and the
    fixed parameters, for :func:`fer_utils.runs.sweep.sweep`.

    Every grid names every knob (the default as a one-value list), so the default
    MixFeature cell of ``fig7`` is the same cell as Table 4's and runs once. ``methods``
    keeps Table 4 to some of its methods (in :data:`TABLE4_METHODS` order; default all):
    the cells are the same as in the full table, so a later full sweep skips them.
    """
    check_plan(experiment, EXPERIMENTS, parts, PARTS, budget, BUDGETS)
    unknown = sorted(set(methods or ()) - set(TABLE4_METHODS))
    if unknown:
        raise ValueError(f"methods: unknown Table 4 method(s) {unknown}; expected some of "
                         f"{list(TABLE4_METHODS)}")
    table4 = [m for m in TABLE4_METHODS if methods is None or m in methods]
    defaults = {k: [v] for k, v in KNOB_DEFAULTS.items()}
    grids: list[dict[str, list[Any]]] = []
    if "table4" in parts:
        grids += [{"method": table4, **defaults, "seed": [s]} for s in seeds]
    if "fig7" in parts:
        for s in seeds:
            grids += [{"method": ["mixfeature"], **defaults, knob: values, "seed": [s]}
                      for knob, values in FIG7_KNOBS.items()]
    fixed = {**EXPERIMENTS[experiment], "budget": budget}
    if checkpoint_dir is not None:
        fixed["checkpoint_dir"] = str(checkpoint_dir)
    return grids, fixed


def record_command(folder: str | Path, command: str, cells: Iterable[str] = ()) -> None:
    """Record ``command`` as the one that runs ``cells`` (parameter hashes) of the
    experiment folder: appended to ``commands.txt`` (every command that ran there), and
    each cell not finished yet mapped to it in ``cell_commands.json``, so that every
    result row names the command that made it (:func:`cell_command`)."""
    folder = Path(folder)
    path = folder / COMMAND_FILE
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    if command not in old.splitlines():
        atomic_write_text(old + command + "\n", path)
    mapping = _cell_commands(folder)
    finished = {p.parent.name.rsplit("__", 1)[-1]
                for p in folder.glob(f"{CELLS_DIR}/*/{RESULT_FILE}")}
    new = {c: command for c in cells if c not in finished}
    if new:
        atomic_write_text(json.dumps({**mapping, **new}, indent=1, sort_keys=True) + "\n",
                          folder / CELL_COMMANDS_FILE)


def _cell_commands(folder: Path) -> dict[str, str]:
    path = folder / CELL_COMMANDS_FILE
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def cell_command(folder: str | Path, cell: str) -> str:
    """The command that ran ``cell`` (a folder name or parameter hash) of an experiment
    folder (:func:`record_command`); for cells run before commands were kept per cell,
    the folder's last recorded command."""
    folder = Path(folder)
    found = _cell_commands(folder).get(cell_digest(cell))
    if found is not None:
        return found
    path = folder / COMMAND_FILE
    commands = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return commands[-1] if commands else ""


def split_deviations(deviations: str) -> tuple[str, str]:
    """A cell's ``deviations`` text split into the training budget's part (e.g.
    ``"image_size=48; lr=0.01; ..."``) and the method's own settings (MixFeature's knobs,
    a Table 4 method's hyper-parameters such as ``"mixup_alpha=1.0"``); ``"none"`` when
    empty. The seed is neither."""
    parts = [d for d in deviations.split("; ") if d and not d.startswith("seed=")]
    method = [d for d in parts if d.startswith(_METHOD_FIELDS)]
    budget = [d for d in parts if d not in method]
    return "; ".join(budget) or "none", "; ".join(method) or "none"


def finished_rows(folder: str | Path,
                  describe: Callable[[dict[str, Any]], dict[str, Any]]) -> pd.DataFrame:
    """The metrics rows of the finished cells of a sweep folder (unfinished and failed
    cells are left out; the sweep's own ``sweep.csv`` lists them), each joined with
    ``describe(result)`` of its cell's ``result.json`` (read once per cell), plus the
    ``experiment`` (the folder name without its budget), the ``command`` that ran the
    cell (:func:`cell_command`), the ``sweep_cell`` path and the ``software`` it ran
    with (torch, numpy and Python versions: the same commit and seed repeat a number
    digit for digit only on the same software and processor, which ``device`` names).
    The row builders of the three drivers' tables start here."""
    folder = Path(folder)
    table = gather(folder, write=False)
    if table.empty or "status" not in table:
        return pd.DataFrame()
    table = table[table["status"] == "ok"].copy()
    if table.empty:
        return pd.DataFrame()
    per_cell = {}
    for cell in table["cell"].unique():
        result = read_result(folder / CELLS_DIR / cell / RESULT_FILE)
        versions = result.get("provenance", {})
        software = ", ".join(f"{k} {versions[k]}" for k in ("torch", "numpy", "python")
                             if k in versions)
        per_cell[cell] = {**describe(result), "software": software}
    extra = pd.DataFrame([per_cell[c] for c in table["cell"]], index=table.index)
    table = pd.concat([table.drop(columns=[c for c in extra if c in table]), extra], axis=1)
    table["experiment"] = folder.name.rsplit("_", 1)[0]
    table["command"] = [cell_command(folder, c) for c in table["cell"]]
    table["sweep_cell"] = [f"{folder.name}/{CELLS_DIR}/{c}" for c in table["cell"]]
    return table


def experiment_rows(folder: str | Path) -> pd.DataFrame:
    """One row per finished cell, seed and fold of an experiment folder, with provenance.

    Unfinished and failed cells are left out (the sweep's own ``sweep.csv`` lists them).
    """
    def describe(result: dict[str, Any]) -> dict[str, Any]:
        params, config = result["parameters"], result["config"]
        return {**{k: params[k] for k in ("dataset", "protocol", "folds", "budget",
                                          "data_seed", *KNOB_DEFAULTS)},
                "synthetic_secondary": params["synthetic_secondary"]
                if params["dataset"] == "synthetic" else "",
                **dict(zip(("deviations", "method_settings"),
                           split_deviations(config.get("deviations", "")), strict=True)),
                "finished_utc": result["finished_utc"]}

    table = finished_rows(folder, describe)
    if table.empty:
        return table
    columns = ["experiment", "dataset", "synthetic_secondary", "protocol", "folds", "budget",
               "deviations", *CELL_COLUMNS, "method_settings", "seed", "fold", "test_accuracy",
               "test_mean_class_accuracy", "test_kl", "best_epoch", "epochs_trained",
               "n_train", "n_test", "train_ce_last", "train_ce_drop", "train_seconds",
               "data_seed", "git_commit", "device", "software", "duration_s", "finished_utc",
               "sweep_cell", "command"]
    return table[[c for c in columns if c in table]].reset_index(drop=True)


def experiment_curves(folder: str | Path, rows: pd.DataFrame) -> pd.DataFrame:
    """Per Table 4 cell (knobs at their defaults) and epoch: the mean, std and count over
    the cell's folds of the training cross-entropy and the validation accuracy (from the
    cell's ``histories.csv``). Kept per cell so that the committed curves of cells whose
    folders are gone can be merged with new ones; :func:`pool_curves` makes the
    per-method curves."""
    folder = Path(folder)
    defaults = at_defaults(rows)
    parts = []
    for sweep_cell, method in defaults[["sweep_cell", "method"]].drop_duplicates().itertuples(
            index=False):
        path = folder.parent / sweep_cell / "histories.csv"
        if path.exists():
            parts.append(pd.read_csv(path).assign(sweep_cell=sweep_cell, method=method))
    if not parts:
        return pd.DataFrame()
    hist = pd.concat(parts, ignore_index=True)
    grouped = hist.groupby(["sweep_cell", "method", "epoch"], sort=False)[
        ["train_ce", "val_accuracy"]]
    out = grouped.agg(["mean", "std", "count"])
    out.columns = [f"{a}_{b}" for a, b in out.columns]
    out = out.drop(columns="val_accuracy_count").rename(columns={"train_ce_count": "n_runs"})
    return out.reset_index()


def pool_curves(curves: pd.DataFrame) -> pd.DataFrame:
    """Per method and epoch, the mean and std over every run of the per-cell curves of
    :func:`experiment_curves` (exact pooling of groups from their counts, means and
    stds): one line per method for the convergence figure of notebook 07."""
    if curves.empty:
        return curves
    out = []
    for (method, epoch), g in curves.groupby(["method", "epoch"], sort=False):
        n = g["n_runs"].to_numpy(dtype=float)
        row: dict[str, Any] = {"method": method, "epoch": epoch, "n_runs": int(n.sum())}
        for metric in ("train_ce", "val_accuracy"):
            mean = g[f"{metric}_mean"].to_numpy(dtype=float)
            std = g[f"{metric}_std"].fillna(0.0).to_numpy(dtype=float)
            total = (n * mean).sum() / n.sum()
            # within-group plus between-group sums of squares
            ss = ((n - 1) * std**2).sum() + (n * (mean - total) ** 2).sum()
            row[f"{metric}_mean"] = total
            row[f"{metric}_std"] = math.sqrt(ss / (n.sum() - 1)) if n.sum() > 1 else math.nan
        out.append(row)
    return pd.DataFrame(out)


def cell_digest(sweep_cell: str) -> str:
    """The parameter hash that ends a sweep cell's folder name (``.../<name>__<hash>``),
    stable when the readable part of the name changes with the grid."""
    return str(sweep_cell).rsplit("__", 1)[-1]


def committed_cells(results: str | Path, folder_name: str) -> set[str]:
    """The parameter hashes of the cells of experiment folder ``folder_name`` whose rows
    are already in ``results/ablations/<folder_name>.csv``: finished, even where their
    run folders are gone (:func:`fer_utils.runs.sweep.sweep`'s ``skip``)."""
    return cells_in_table(Path(results) / "ablations" / f"{folder_name}.csv")


def cells_in_table(path: str | Path) -> set[str]:
    """The parameter hashes of the cells whose rows a committed table (a CSV with a
    ``sweep_cell`` column) holds; empty when the file does not exist."""
    path = Path(path)
    if not path.exists():
        return set()
    return {cell_digest(c) for c in pd.read_csv(path, usecols=["sweep_cell"])["sweep_cell"]}


def merge_committed(new: pd.DataFrame, path: Path) -> pd.DataFrame:
    """``new`` rows plus the rows already committed at ``path`` of cells ``new`` does not
    hold (cells whose folders are gone), committed rows first."""
    if not path.exists():
        return new
    old = pd.read_csv(path, keep_default_na=False, na_values=[""])
    fresh = {cell_digest(c) for c in new["sweep_cell"]}
    kept = old[[cell_digest(c) not in fresh for c in old["sweep_cell"]]]
    return pd.concat([kept, new], ignore_index=True) if not kept.empty else new


def at_defaults(rows: pd.DataFrame, free: str | None = None) -> pd.DataFrame:
    """Rows whose MixFeature knobs are all at :data:`KNOB_DEFAULTS` (Table 4's cells), or
    all but the knob ``free`` (one curve of Fig. 7)."""
    keep = pd.Series(True, index=rows.index)
    for knob, value in KNOB_DEFAULTS.items():
        if knob != free:
            keep &= rows[knob].astype(str) == str(value)
    return rows[keep]


GROUP = ["experiment", "dataset", "protocol", "budget", "deviations"]


def accuracy_summary(g: pd.DataFrame) -> dict[str, Any]:
    """Runs, seeds, mean accuracy (%) over every fold and seed, and its spreads: std over
    the seeds' means (``nan`` for one seed; a method whose seeds change nothing, such as
    AA-kNN, gets 0 rather than float noise) and over all runs."""
    seed_means = g.groupby("seed")["test_accuracy"].mean() * 100
    spread = round(seed_means.std(ddof=1), 9) if len(seed_means) > 1 else math.nan
    return {"n_runs": len(g), "seeds": " ".join(map(str, sorted(g["seed"].unique()))),
            "accuracy_mean": g["test_accuracy"].mean() * 100,
            "accuracy_std_seeds": spread,
            "accuracy_std_runs": g["test_accuracy"].std(ddof=1) * 100}


def table4(rows: pd.DataFrame) -> pd.DataFrame:
    """Accuracy (%) per experiment and method, knobs at their defaults: mean over every
    fold and seed, std over the seeds' means and over all runs, the mean test KL(true ||
    predicted) against the dataset's label distributions (``nan`` where it has none, as
    CK+), the training loss at the end and how many runs ended flat
    (:func:`~fer_utils.training.convergence.is_flat`), and paper A's number where it has
    one."""
    out = []
    for key, g in at_defaults(rows).groupby([*GROUP, "method"], sort=False):
        info = dict(zip([*GROUP, "method"], key, strict=True))
        # the baseline is not in Table 4; its published number is Table 2's
        paper = (TABLE4_ACCURACY.get(info["dataset"], {}) | TABLE2_ACCURACY.get(
            info["dataset"], {})).get(info["method"], math.nan)
        settings = g["method_settings"].iloc[0] if "method_settings" in g else "none"
        out.append({**info, "method_settings": settings, **accuracy_summary(g),
                    "mean_class_accuracy_mean": g["test_mean_class_accuracy"].mean() * 100,
                    "test_kl_mean": g["test_kl"].mean(),
                    "train_ce_last_mean": g["train_ce_last"].mean(),
                    "train_ce_drop_max": g["train_ce_drop"].max(),
                    "runs_flat": sum(is_flat(lv, dr) for lv, dr in
                                     zip(g["train_ce_last"], g["train_ce_drop"], strict=True)),
                    "paper_accuracy": paper,
                    "git_commits": " ".join(sorted(g["git_commit"].astype(str).unique())),
                    "device": " ".join(sorted(g["device"].astype(str).unique())),
                    "train_seconds": g["train_seconds"].sum(),
                    "command": g["command"].iloc[-1]})
    return pd.DataFrame(out)


#: The comparisons with MixFeature, each a family of its own for Holm's correction:
#: Table 5's seven augmentation methods, and the baseline (Table 2's claim).
FAMILIES: dict[str, tuple[str, ...]] = {"table5": tuple(TABLE5_P_VALUES),
                                        "table2": ("baseline",)}


def table5(rows: pd.DataFrame) -> pd.DataFrame:
    """Every Table 4 method against MixFeature, per experiment, paired on fold and seed
    (:func:`fer_utils.metrics.compare_methods`; the corrected test uses the mean training
    and test sizes), on the (fold, seed) pairs that MixFeature and every method of the
    family have. Holm's correction runs within a family (:data:`FAMILIES`: the seven
    augmentation methods of Table 5; the baseline alone); paper A's p-value beside."""
    out = []
    for key, g in at_defaults(rows).groupby(GROUP, sort=False):
        info = dict(zip(GROUP, key, strict=True))
        per_method = {m: set(zip(r["fold"], r["seed"], strict=True))
                      for m, r in g.groupby("method")}
        if "mixfeature" not in per_method:
            continue
        for family, members in FAMILIES.items():
            present = [m for m in members if m in per_method]
            if not present:
                continue
            common = set.intersection(*(per_method[m] for m in ["mixfeature", *present]))
            if len(common) < 2:
                continue
            in_common = [pair in common for pair in zip(g["fold"], g["seed"], strict=True)]
            paired = g[g["method"].isin(["mixfeature", *present]).to_numpy() & in_common]
            stats = compare_methods(paired.assign(test_accuracy=paired["test_accuracy"] * 100),
                                    reference="mixfeature", pair_on=("fold", "seed"),
                                    n_train=float(paired["n_train"].mean()),
                                    n_test=float(paired["n_test"].mean()))
            stats.insert(0, "family", family)
            stats.insert(1, "seeds", " ".join(map(str, sorted({s for _, s in common}))))
            for k, v in reversed(info.items()):
                stats.insert(0, k, v)
            stats["paper_p_value"] = [TABLE5_P_VALUES.get(m, math.nan)
                                      if info["dataset"] == "jaffe" else math.nan
                                      for m in stats["method"]]
            out.append(stats)
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def fig7(rows: pd.DataFrame) -> pd.DataFrame:
    """MixFeature's accuracy (%) per experiment, knob and value, the other knobs at their
    defaults (each knob's default value is the Table 4 MixFeature cell).

    The values of one knob are compared on the same seeds: each is summarised over the
    seeds that every value of that knob has (``seeds``), so a knob run on seed 0 only
    gets its default point from the default cell's seed-0 runs, not from all of Table
    4's seeds. Where the values share no seed, each keeps its own seeds."""
    mix = rows[rows["method"] == "mixfeature"]
    out = []
    for knob, default in KNOB_DEFAULTS.items():
        for key, curve in at_defaults(mix, free=knob).groupby(GROUP, sort=False):
            info = dict(zip(GROUP, key, strict=True))
            common = set.intersection(*(set(g["seed"]) for _, g in curve.groupby(knob)))
            if common:
                curve = curve[curve["seed"].isin(common)]
            for value, g in curve.groupby(knob, sort=False):
                out.append({**info, "knob": knob, "value": str(value),
                            "is_default": str(value) == str(default), **accuracy_summary(g),
                            "train_ce_last_mean": g["train_ce_last"].mean(),
                            "command": g["command"].iloc[-1]})
    return pd.DataFrame(out)


def write_csv(table: pd.DataFrame, path: Path) -> None:
    """Write ``table`` to ``path`` atomically (6 significant digits), making its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(table.to_csv(index=False, float_format="%.6g"), path)


def read_rows(results: str | Path) -> pd.DataFrame:
    """Every committed per-run row of every experiment: ``results/ablations/*.csv`` but
    the curves, in one frame (empty if there are none)."""
    frames = [pd.read_csv(p, keep_default_na=False, na_values=[""])
              for p in sorted((Path(results) / "ablations").glob("*.csv"))
              if not p.stem.endswith("_curves")]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()


def write_tables(runs_dir: str | Path, results: str | Path) -> dict[str, pd.DataFrame]:
    """Rewrite the committed tables from every experiment folder under ``runs_dir``.

    Writes ``results/ablations/<folder>.csv`` and ``<folder>_curves.csv`` per experiment
    folder with finished cells, then ``table4.csv``, ``table5.csv`` and ``fig7.csv`` from
    all of ``results/ablations/*.csv``. Committed rows of cells, and of experiments, whose
    run folders are gone are kept; a cell that is in both is taken from its folder.
    Returns the three summaries.
    """
    runs_dir, results = Path(runs_dir), Path(results)
    detail_dir = results / "ablations"
    for folder in sorted(p for p in runs_dir.glob("*") if (p / CELLS_DIR).is_dir()):
        rows = experiment_rows(folder)
        if rows.empty:
            continue
        write_csv(merge_committed(rows, detail_dir / f"{folder.name}.csv"),
                   detail_dir / f"{folder.name}.csv")
        curves = experiment_curves(folder, rows)
        if not curves.empty:
            path = detail_dir / f"{folder.name}_curves.csv"
            write_csv(merge_committed(curves, path), path)
    rows = read_rows(results)
    if rows.empty:
        return {}
    summaries = {"table4": table4(rows), "table5": table5(rows), "fig7": fig7(rows)}
    for name, table in summaries.items():
        if not table.empty:
            write_csv(table, results / f"{name}.csv")
    return summaries
