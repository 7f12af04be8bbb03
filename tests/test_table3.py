"""Paper A's Table 3: the sweep plan of the LDL cell, the tables made from finished cells,
and the driver ``scripts/run_table3.py``."""

from __future__ import annotations

import importlib.util
import math
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fer_utils.ldl import LDL_METHODS, STAND_INS
from fer_utils.provenance import REPO_ROOT
from fer_utils.published import TABLE2_ACCURACY, TABLE3_ACCURACY
from fer_utils.runs.ablations import (
    EXPERIMENTS,
    ablation_grids,
    experiment_folder,
    record_command,
)
from fer_utils.runs.claims import FAILED, HELD, OPEN
from fer_utils.runs.grid import build_cells
from fer_utils.runs.sweep import sweep
from fer_utils.runs.table3 import (
    CNN_BASELINE,
    CNN_MIXFEATURE,
    FEATURES,
    FERPLUS_IMAGES,
    LDL_EXPERIMENTS,
    MEASURES,
    cnn_checkpoint_dir,
    committed_ldl_cells,
    reuses_ablation_baseline,
    table3_claims,
    table3_grids,
    table3_summary,
    write_table3,
)

LDL_RUN = REPO_ROOT / "notebooks" / "experiments" / "ldl_run.ipynb"


@pytest.fixture(autouse=True)
def _quiet_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels the sweeps start inherit this environment: no progress bars."""
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _script() -> Any:
    """``scripts/run_table3.py`` as a module."""
    spec = importlib.util.spec_from_file_location("run_table3", REPO_ROOT / "scripts" /
                                                  "run_table3.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_plan_runs_lbp_then_cnn_one_seed_per_cell_with_each_experiments_values() -> None:
    expected = {
        "jaffe_kfold_sample": {"dataset": "jaffe", "protocol": "kfold_sample", "folds": 10},
        "jaffe_kfold": {"dataset": "jaffe", "protocol": "kfold", "folds": 10},
        "ferplus_votes": {"dataset": "ferplus", "protocol": "kfold_sample", "folds": 10,
                          "max_images": FERPLUS_IMAGES},
        "synthetic": {"dataset": "synthetic", "protocol": "kfold_sample", "folds": 5},
    }
    assert FERPLUS_IMAGES == 2500 and list(LDL_EXPERIMENTS) == list(expected)
    for name, values in expected.items():
        grids, fixed = table3_grids(name, list(FEATURES), [0, 1, 2], "cpu",
                                    checkpoint_dir="/ckpt")
        assert fixed == {**values, "budget": "cpu"}
        cells = build_cells(LDL_RUN, grids, fixed)  # the cell accepts every one
        assert [(c.parameters["features"], c.parameters["seeds"]) for c in cells] == [
            (f, [s]) for f in ("lbp", "cnn", "cnn_mixfeature") for s in (0, 1, 2)]
        # the checkpoints are the CNN cells' only: an LBP cell's identity has no folder
        assert [c.parameters["checkpoint_dir"] for c in cells] == [None] * 3 + ["/ckpt"] * 6
    _, fixed = table3_grids("ferplus_votes", ["lbp"], [0], max_images=500)
    assert fixed["max_images"] == 500
    with pytest.raises(ValueError, match="unknown experiment"):
        table3_grids("jaffe_by_mood", ["lbp"], [0])
    with pytest.raises(ValueError, match="features"):
        table3_grids("jaffe_kfold", ["hog"], [0])
    with pytest.raises(ValueError, match="seeds"):
        table3_grids("jaffe_kfold", ["lbp"], [1, 1])
    with pytest.raises(ValueError, match="budget"):
        table3_grids("jaffe_kfold", ["lbp"], [0], budget="gpu")
    with pytest.raises(ValueError, match="max_images applies to ferplus_votes"):
        table3_grids("jaffe_kfold", ["lbp"], [0], max_images=100)


def test_the_cnn_checkpoints_are_the_ablation_baselines_where_data_and_folds_are_the_same(
) -> None:
    # the same dataset, protocol, folds and budget as the ablation experiment; that the
    # CNN's configuration (and so its run names) is the ablations' baseline is
    # tests/test_ldl_run.py::test_the_cnn_is_the_ablation_sweeps_baseline
    pairs = {"jaffe_kfold_sample": "jaffe_kfold_sample", "jaffe_kfold": "jaffe_kfold",
             "synthetic": "synthetic_wheel"}
    for ours, theirs in pairs.items():
        assert reuses_ablation_baseline(ours)
        _, fixed = table3_grids(ours, ["cnn"], [0])
        _, abl = ablation_grids(theirs, ["table4"], [0])
        assert {k: abl[k] for k in fixed} == fixed
        assert EXPERIMENTS[theirs].get("synthetic_secondary", "wheel") == "wheel"
        assert cnn_checkpoint_dir(ours, "cpu", "runs/table3", "runs/ablations") == Path(
            f"runs/ablations/{theirs}_cpu/checkpoints")
        assert cnn_checkpoint_dir(ours, "cpu", "runs/table3") == Path(
            f"runs/table3/{ours}_cpu/checkpoints")
    # FER+'s subset is other data: its own folder, one per subset size
    assert not reuses_ablation_baseline("ferplus_votes")
    assert cnn_checkpoint_dir("ferplus_votes", "cpu", "r", "runs/ablations") == Path(
        "r/ferplus_votes_cpu/checkpoints/images2500")
    assert cnn_checkpoint_dir("ferplus_votes", "cpu", "r", max_images=300) == Path(
        "r/ferplus_votes_cpu/checkpoints/images300")


def _rows(dataset: str, scores: dict[str, list[float]], features: str = "lbp") -> pd.DataFrame:
    """Per-run rows of a fake experiment, two seeds of three folds: method -> accuracies."""
    out = []
    for method, values in scores.items():
        for i, (seed, fold) in enumerate((s, f) for s in range(2) for f in range(3)):
            out.append({"experiment": f"{dataset}_kfold_sample", "dataset": dataset,
                        "protocol": "kfold_sample", "features": features, "budget": "cpu",
                        "feature_settings": "lbp_grid=4x4; image_size=64",
                        "images_used": "every image of the dataset", "method": method,
                        "seed": seed, "fold": fold, "test_accuracy": values[i],
                        **dict.fromkeys(MEASURES, 0.1 * (i + 1)), "fit_seconds": 1.0,
                        "cnn_protocol_accuracy": 0.5 if method.startswith("cnn_") else math.nan,
                        "git_commit": "abc", "device": "cpu", "command": "python x"})
    return pd.DataFrame(out)


def test_the_summary_by_hand_with_the_papers_numbers_and_the_stand_in_named() -> None:
    rows = pd.concat([
        _rows("jaffe", {CNN_BASELINE: [0.5] * 6, "ldl_ldml_standin": [0.6] * 6,
                        "aa_knn": [0.8, 0.9, 1.0, 0.6, 0.7, 0.8]}, features="cnn"),
        _rows("jaffe", {CNN_MIXFEATURE: [0.4] * 6}, features="cnn_mixfeature"),
        _rows("jaffe", {"sa_bfgs": [0.5] * 6}),
        _rows("synthetic", {"aa_knn": [0.7] * 6})], ignore_index=True)
    t3 = table3_summary(rows)
    # ordered by experiment, features (LBP first) and Table 3's method order
    assert list(zip(t3["dataset"], t3["features"], t3["method"], strict=True)) == [
        ("jaffe", "lbp", "sa_bfgs"), ("jaffe", "cnn", "aa_knn"),
        ("jaffe", "cnn", "ldl_ldml_standin"), ("jaffe", "cnn", CNN_BASELINE),
        ("jaffe", "cnn_mixfeature", CNN_MIXFEATURE), ("synthetic", "lbp", "aa_knn")]
    aa = t3.iloc[1]
    assert aa["accuracy_mean"] == pytest.approx(80.0)
    assert aa["accuracy_std_seeds"] == pytest.approx(np.std([90, 70], ddof=1))
    assert aa["n_runs"] == 6 and aa["seeds"] == "0 1"
    assert aa["kl_divergence_mean"] == pytest.approx(0.35)
    assert aa["paper_accuracy"] == TABLE3_ACCURACY["jaffe"]["aa_knn"]
    assert aa["paper_source"] == "Table 3" and aa["stand_in"] == ""
    stand_in = t3.iloc[2]
    assert stand_in["paper_name"] == "LDL-LDML (stand-in)"
    assert stand_in["stand_in"] == STAND_INS["ldl_ldml_standin"]
    cnn = t3.iloc[3]
    assert cnn["paper_accuracy"] == TABLE2_ACCURACY["jaffe"]["baseline"]
    assert cnn["paper_source"] == "Table 2 (baseline)"
    assert cnn["cnn_protocol_accuracy_mean"] == pytest.approx(50.0)
    mix = t3.iloc[4]  # MixFeature's own CNN: paper A's MixFeature entry of Table 3
    assert mix["paper_name"] == "MixFeature (CNN)" and mix["accuracy_mean"] == pytest.approx(40)
    assert mix["paper_accuracy"] == TABLE3_ACCURACY["jaffe"]["mixfeature"] == 88.89
    assert mix["paper_source"] == "Table 3"
    assert mix["cnn_protocol_accuracy_mean"] == pytest.approx(50.0)
    assert math.isnan(t3.iloc[5]["paper_accuracy"]) and t3.iloc[5]["paper_column"] == ""
    assert table3_summary(pd.DataFrame()).empty


def test_a_tiny_table3_sweep_becomes_the_committed_tables(tmp_path: Path) -> None:
    methods = list(LDL_METHODS)
    runs, results = tmp_path / "runs", tmp_path / "results"
    out = experiment_folder(runs, "synthetic", "cpu")
    grids, fixed = table3_grids("synthetic", ["lbp", "cnn"], [0],
                                checkpoint_dir=cnn_checkpoint_dir("synthetic", "cpu", runs))
    fixed = {**fixed, "quick": True, "folds": 2}
    record_command(out, "python scripts/run_table3.py --experiments synthetic")
    sweep(LDL_RUN, grids, out, fixed=fixed, workers=2, threads=1, progress=False)
    assert sorted(p.name for p in (out / "checkpoints").iterdir())[0].startswith(
        "kfold-sample-")  # the CNN's checkpoints went to the experiment's folder
    summary = write_table3(runs, results)
    detail_path = results / "ldl" / "synthetic_cpu.csv"
    detail = pd.read_csv(detail_path)
    assert len(detail) == 2 * (2 * len(methods) + 1)  # folds x (lbp + cnn + the CNN itself)
    assert set(detail["fold"]) == {0, 1} and set(detail["seed"]) == {0}
    for column in ("git_commit", "device", "duration_s", "sweep_cell", "command",
                   "protocol", "features", "budget", "data_seed", "test_accuracy",
                   "feature_settings", *MEASURES):
        assert detail[column].notna().all(), column
    assert (detail["command"] == "python scripts/run_table3.py --experiments synthetic").all()
    assert detail["software"].str.startswith("torch ").all()  # the versions it ran with
    assert detail["sweep_cell"].str.startswith("synthetic_cpu/cells/").all()
    assert detail["quick"].all()
    table = pd.read_csv(results / "table3.csv")
    assert list(table["method"]) == [*methods, *methods, CNN_BASELINE]
    assert list(table["features"]) == ["lbp"] * len(methods) + ["cnn"] * (len(methods) + 1)
    for column in ("accuracy_mean", "accuracy_std_seeds", "accuracy_std_runs", "n_runs",
                   "seeds", *(f"{m}_mean" for m in MEASURES), "paper_accuracy",
                   "paper_name", "stand_in", "git_commits", "device", "command"):
        assert column in table, column
    assert (table["n_runs"] == 2).all()
    assert table.loc[table["method"] == "ldl_ldml_standin", "paper_name"].eq(
        "LDL-LDML (stand-in)").all()
    assert (results / "table3.csv").read_text(encoding="utf-8") == summary.to_csv(
        index=False, float_format="%.6g")  # the returned summary is the file

    # a fresh checkout: the run folders are gone, the committed rows are not. The
    # committed cells are not run again; a new cell's rows join them.
    shutil.rmtree(runs)
    done = committed_ldl_cells(results, out.name)
    assert len(done) == 2
    more = [*grids, *table3_grids("synthetic", ["lbp"], [1])[0]]
    again = sweep(LDL_RUN, more, out, fixed=fixed, workers=2, threads=1, progress=False,
                  skip=done)
    assert set(again["seed"]) == {1} and len(again) == 2 * len(methods)  # only the new cell
    write_table3(runs, results)
    merged = pd.read_csv(detail_path)
    assert len(merged) == len(detail) + 2 * len(methods)
    pd.testing.assert_frame_equal(merged.iloc[:len(detail)].reset_index(drop=True), detail,
                                  check_dtype=False)
    lbp = pd.read_csv(results / "table3.csv").query("features == 'lbp'")
    assert (lbp["n_runs"] == 4).all() and (lbp["seeds"] == "0 1").all()


def test_the_driver_lists_its_cells_and_what_is_committed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    script = _script()
    runs, results = tmp_path / "runs", tmp_path / "results"
    args = ["--experiments", "jaffe_kfold", "--seeds", "0", "1", "--runs-dir", str(runs),
            "--results", str(results), "--ablation-runs-dir", str(tmp_path / "abl")]
    grids, fixed = table3_grids("jaffe_kfold", ["lbp", "cnn"], [0, 1], checkpoint_dir=(
        tmp_path / "abl" / "jaffe_kfold_cpu" / "checkpoints"))
    first = build_cells(LDL_RUN, grids, fixed)[0]
    (results / "ldl").mkdir(parents=True)
    pd.DataFrame({"sweep_cell": [f"jaffe_kfold_cpu/cells/{first.name}"]}).to_csv(
        results / "ldl" / "jaffe_kfold_cpu.csv", index=False)
    assert script.main([*args, "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("jaffe_kfold: 6 cells, 1 committed")
    assert str(tmp_path / "abl" / "jaffe_kfold_cpu" / "checkpoints") in lines[1]
    assert "the ablation sweep's" in lines[1]
    assert lines[2] == f"  (committed) {first.name}"
    assert len(lines) == 2 + 6
    assert not runs.exists()  # a dry run writes nothing
    assert script.main([*args, "--own-checkpoints", "--dry-run"]) == 0
    assert str(runs / "jaffe_kfold_cpu" / "checkpoints") in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "named"), [
    ([], "--experiments"),
    (["--experiments", "jaffe"], "--experiments"),
    (["--experiments", "jaffe_kfold", "--seeds", "0", "0"], "--seeds"),
    (["--experiments", "jaffe_kfold", "--seeds", "-1"], "--seeds"),
    (["--experiments", "jaffe_kfold", "--features", "hog"], "--features"),
    (["--experiments", "jaffe_kfold", "--workers", "0"], "--workers"),
    (["--experiments", "jaffe_kfold", "--threads", "0"], "--threads"),
    (["--experiments", "jaffe_kfold", "--budget", "gpu"], "--budget"),
    (["--experiments", "jaffe_kfold", "--max-images", "500"], "--max-images"),
    (["--experiments", "ferplus_votes", "--max-images", "5"], "--max-images"),
])
def test_bad_arguments_are_refused_in_one_line_naming_them(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        _script().main([*argv, "--runs-dir", str(tmp_path), "--dry-run"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and f"argument {named}" in err, err


def test_the_table3_claim_pairs_mixfeature_with_the_best_shallow_method() -> None:
    # experiment a: MixFeature (70 %) against AA-kNN on CNN features (the best shallow
    # method, 71.5 %), paired over two seeds of three folds; b: MixFeature ahead by
    # exactly 2 points on every run; c: MixFeature not run
    rows = pd.concat([
        _rows("jaffe", {"edl": [0.6] * 6}),
        _rows("jaffe", {"aa_knn": [0.70, 0.75, 0.70, 0.72, 0.70, 0.72],
                        CNN_BASELINE: [0.75] * 6}, features="cnn"),
        _rows("jaffe", {CNN_MIXFEATURE: [0.68, 0.72, 0.71, 0.70, 0.69, 0.70]},
              features="cnn_mixfeature"),
        _rows("ckplus", {"edl": [0.50, 0.60, 0.55, 0.52, 0.58, 0.51]}),
        _rows("ckplus", {CNN_MIXFEATURE: [0.52, 0.62, 0.57, 0.54, 0.60, 0.53]},
              features="cnn_mixfeature"),
        _rows("synthetic", {"edl": [0.5] * 6})], ignore_index=True)
    rows["n_train"], rows["n_test"] = 90, 10
    claims = table3_claims(rows).set_index("experiment")
    a, b = claims.loc["jaffe_kfold_sample"], claims.loc["ckplus_kfold_sample"]
    diffs = np.array([-2, -3, 1, -2, -1, -2], dtype=float)  # MixFeature minus AA-kNN
    assert a["best_shallow"] == "AA-kNN" and a["best_shallow_features"] == "cnn"
    assert a["mixfeature_accuracy"] == pytest.approx(70.0)
    assert a["best_shallow_accuracy"] == pytest.approx(71.5)
    assert a["baseline_cnn_accuracy"] == pytest.approx(75.0)
    assert a["n_pairs"] == 6 and a["mean_difference"] == pytest.approx(diffs.mean())
    # Nadeau-Bengio: the variance of the mean difference inflated by n_test / n_train
    se = np.sqrt((1 / 6 + 10 / 90) * diffs.var(ddof=1))
    p = 2 * stats.t.sf(abs(diffs.mean()) / se, df=5)
    assert a["p_corrected"] == pytest.approx(p)
    assert a["verdict"] == FAILED
    assert a["ours"].startswith("MixFeature 70.0 %, 1.5 points below the best shallow "
                                "method (AA-kNN on cnn features, 71.5 %; corrected 95 % CI")
    assert b["mean_difference"] == pytest.approx(2.0)
    assert b["verdict"] == HELD and b["p_corrected"] < 1e-6  # the same 2 points every run
    assert math.isnan(b["baseline_cnn_accuracy"])
    # a side that is ahead by a seed: only the runs both have are paired
    more = pd.concat([rows, _rows("jaffe", {"aa_knn": [0.9] * 6}, features="cnn").assign(
        seed=lambda d: d["seed"] + 2, n_train=90, n_test=10)], ignore_index=True)
    again = table3_claims(more).set_index("experiment").loc["jaffe_kfold_sample"]
    assert again["n_pairs"] == 6 and again["mean_difference"] == pytest.approx(diffs.mean())
    assert again["best_shallow_accuracy"] == pytest.approx(71.5)  # over the paired runs
    apart = rows[~((rows["experiment"] == "ckplus_kfold_sample")
                   & (rows["method"] == CNN_MIXFEATURE) & (rows["seed"] == 0))]
    apart = apart[~((apart["experiment"] == "ckplus_kfold_sample") & (apart["method"] == "edl")
                    & (apart["seed"] == 1))]  # MixFeature seed 1 only, EDL seed 0 only
    lone = table3_claims(apart).set_index("experiment").loc["ckplus_kfold_sample"]
    assert lone["verdict"] == OPEN and lone["ours"].startswith("fewer than 2 runs")
    c = claims.loc["synthetic_kfold_sample"]
    assert c["verdict"] == OPEN and c["ours"] == "MixFeature's CNN not run yet"
