"""Paper B's ablations: the sweep plan, the tables made from finished cells, the claims."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from fer_utils.data.dataset import LANDMARK_NAMES
from fer_utils.metrics import MULTILABEL_METRICS
from fer_utils.runs.claims import FAILED, HELD, OPEN
from fer_utils.runs.grid import build_cells
from fer_utils.runs.mfjle_ablations import (
    DEFAULT_CELL,
    VARIANTS,
    committed_mfjle_cells,
    mfjle_grids,
    mfjle_summary,
    variant_name,
    write_mfjle_tables,
)
from fer_utils.runs.mfjle_claims import (
    BCE,
    ENSEMBLE,
    FITTED,
    LAMBDA,
    MIXED,
    NOT_SHOWN,
    SAME,
    check_mfjle_claims,
    paired_difference,
)
from fer_utils.runs.sweep import sweep

MFJLE_RUN = Path(__file__).resolve().parents[1] / "notebooks" / "experiments" / \
    "mfjle_run.ipynb"


def test_the_plan_runs_every_variant_once_per_seed_with_the_shared_cell_once() -> None:
    grids, fixed = mfjle_grids("jaffe_split_subject", ["fig5", "fig6", "fig7", "mix"], [0, 1])
    assert fixed == {"dataset": "jaffe", "split": "subject", "budget": "cpu", "epochs": 100}
    assert "epochs" not in mfjle_grids("jaffe_split_subject", ["fig5"], [0], "paper")[1]
    cells = build_cells(MFJLE_RUN, grids, fixed, check=False)
    assert len(cells) == 2 * len(VARIANTS)  # the mfjle cell of Figs. 5-7 once per seed
    names = {variant_name(c.parameters) for c in cells}
    assert names == set(VARIANTS)
    assert [c.parameters["seeds"] for c in cells[:3]] == [[0]] * 3  # seed by seed
    with pytest.raises(ValueError, match="unknown experiment"):
        mfjle_grids("ckplus", ["fig5"], [0])
    with pytest.raises(ValueError, match="parts must be"):
        mfjle_grids("jaffe_split_sample", ["fig9"], [0])


def test_variant_names_are_read_back_from_cell_parameters() -> None:
    assert variant_name(DEFAULT_CELL) == "mfjle"
    assert variant_name({**DEFAULT_CELL, "model": "resnet18", "multilabel_loss": "ce"}) \
        == "resnet18"
    assert variant_name({**DEFAULT_CELL, "local_weights": "[0.0, 0.0, 0.0, 0.0, 0.0]"}) \
        == "lambda=0"
    assert variant_name({**DEFAULT_CELL, "local_weights": [0.01, 0.015, 0.01, 0.01, 0.01]}) \
        == "lambda_right_eye=0.015"
    assert variant_name({**DEFAULT_CELL, "local_weights": [0.02] * 5}) == "other"


def _rows(variant: str, module: str, f1: list[float], experiment: str = "e") -> pd.DataFrame:
    n = len(f1)
    return pd.DataFrame({"experiment": experiment, "dataset": "jaffe", "split": "sample",
                         "budget": "cpu", "deviations": "none", "variant": variant,
                         "module": module, "seed": range(n), "micro_f1": f1,
                         **{m: 0.5 for m in MULTILABEL_METRICS if m != "micro_f1"},
                         "train_loss_last": 0.1, "train_loss_drop": 0.0,
                         "train_seconds": 1.0, "git_commit": "abc", "device": "cpu",
                         "sweep_cell": f"x/cells/{variant}__{variant}",
                         "command": "c"})


def test_paired_difference_is_the_mean_of_per_seed_differences_with_a_t_interval() -> None:
    a = pd.DataFrame({"seed": [0, 1, 2], "micro_f1": [0.7, 0.8, 0.9]})
    b = pd.DataFrame({"seed": [2, 1, 0, 5], "micro_f1": [0.8, 0.6, 0.6, 0.1]})
    mean, low, high, n = paired_difference(a, b)
    d = np.array([0.1, 0.2, 0.1])  # seeds 0, 1, 2; seed 5 has no partner
    half = 4.302652729911275 * d.std(ddof=1) / np.sqrt(3)  # t(0.975, 2)
    assert n == 3 and mean == pytest.approx(d.mean())
    assert (low, high) == pytest.approx((d.mean() - half, d.mean() + half))
    assert np.isnan(paired_difference(a.iloc[:1], b)[1])


def test_claims_are_computed_from_the_rows_for_both_outcomes() -> None:
    rows = pd.concat([
        _rows("mfjle", "ensemble", [0.80, 0.82, 0.81]),
        _rows("mfjle", "fitted", [0.80, 0.83, 0.80]),
        _rows("resnet18", "single", [0.70, 0.71, 0.72]),
        _rows("mfjle_ce", "ensemble", [0.85, 0.86, 0.87]),
    ], ignore_index=True)
    claims = check_mfjle_claims(rows).set_index("claim")
    assert claims.loc[ENSEMBLE, "verdict"] == HELD
    assert "+0.100" in claims.loc[ENSEMBLE, "ours"]
    assert claims.loc[BCE, "verdict"] == FAILED
    assert claims.loc[LAMBDA, "verdict"] == OPEN
    assert claims.loc[FITTED, "verdict"] == SAME
    assert claims.loc[MIXED, "verdict"] == OPEN
    lambdas = pd.concat([rows] + [_rows(f"lambda={v:g}", "ensemble", [0.80, 0.81, 0.82])
                                  for v in (0.0, 0.001, 0.005, 0.015)], ignore_index=True)
    claim = check_mfjle_claims(lambdas).set_index("claim").loc[LAMBDA]
    assert claim["verdict"] == NOT_SHOWN and "best 0.01" in claim["ours"]
    assert claim["ours"].startswith("each lambda trained")
    # without the trained lambdas: the modules trained at 0.01, re-weighted (D28)
    again = pd.concat([rows] + [_rows("mfjle", f"reweighted:lambda={v:g}", [0.90, 0.91, 0.92])
                                for v in (0.0, 0.001, 0.005, 0.015)], ignore_index=True)
    claim = check_mfjle_claims(again).set_index("claim").loc[LAMBDA]
    assert claim["ours"].startswith("the modules trained at 0.01, re-weighted")
    assert claim["verdict"] == FAILED  # 0.01 is clearly behind the others here
    assert check_mfjle_claims(pd.DataFrame()).empty
    # a variant with fewer seeds: the sentence's means are those of the paired seeds
    one = pd.concat([rows, _rows("mfjle_mixfeature", "ensemble", [0.95])], ignore_index=True)
    mixed = check_mfjle_claims(one).set_index("claim").loc[MIXED, "ours"]
    first_mfjle = float(rows.loc[(rows["variant"] == "mfjle") & (rows["module"] == "ensemble")
                                 & (rows["seed"] == 0), "micro_f1"].iloc[0])
    assert mixed.startswith(f"with MixFeature 0.950 vs without {first_mfjle:.3f} micro-F1: "
                            f"{0.95 - first_mfjle:+.3f} (1 seed)")


def test_the_summary_names_the_modules_beside_each_variant() -> None:
    # rows in the order their cell folders sort in; the summary follows VARIANTS
    rows = pd.concat([_rows("mfjle_mixfeature", "global", [0.5, 0.6]),
                      _rows("mfjle", "global", [0.7, 0.7]), _rows("mfjle", "ensemble", [0.8, 0.9]),
                      _rows("mfjle_mixfeature", "ensemble", [0.5, 0.5]),
                      _rows("resnet18", "single", [0.6, 0.8])], ignore_index=True)
    summary = mfjle_summary(rows).set_index("name")
    assert list(summary.index) == ["resnet18", "mfjle", "mfjle/global", "mfjle_mixfeature",
                                   "mfjle_mixfeature/global"]
    assert summary.loc["mfjle", "micro_f1_mean"] == pytest.approx(0.85)
    assert summary.loc["resnet18", "micro_f1_std"] == pytest.approx(np.std([0.6, 0.8], ddof=1))
    assert summary.loc["mfjle", "runs_flat"] == 2 and summary.loc["mfjle", "seeds"] == "0 1"


def test_a_tiny_mfjle_sweep_becomes_the_committed_tables(tmp_path: Path) -> None:
    grids, fixed = mfjle_grids("synthetic_split_sample", ["fig5"], [0])
    grids = [g for g in grids if variant_name({k: v[0] for k, v in g.items()})
             in ("resnet18", "mfjle")]
    fixed = {k: v for k, v in fixed.items() if k not in ("epochs", "n_synthetic")}  # tiny
    out = tmp_path / "runs" / "synthetic_split_sample_cpu"
    table = sweep(MFJLE_RUN, grids, out, fixed={**fixed, "quick": True}, workers=2,
                  progress=False)
    assert (table["status"] == "ok").all(), table.get("error")
    summary = write_mfjle_tables(tmp_path / "runs", tmp_path / "results")
    detail = pd.read_csv(tmp_path / "results" / "mfjle_ablations.csv")
    assert set(detail["variant"]) == {"resnet18", "mfjle"}
    modules = set(detail.loc[detail["variant"] == "mfjle", "module"])
    reweighted = {f"reweighted:{n}" for n, (part, _) in VARIANTS.items()
                  if part in ("fig6", "fig7")}
    assert modules == {"ensemble", "fitted", "global", *LANDMARK_NAMES, *reweighted}
    # lambda = 0 re-weighted is the global module alone (D28)
    mf = detail[detail["variant"] == "mfjle"].set_index("module")
    assert mf.loc["reweighted:lambda=0", "micro_f1"] == mf.loc["global", "micro_f1"]
    fitted = detail[detail["module"] == "fitted"].filter(like="weight_")
    assert fitted.shape[1] == 5 and (fitted.to_numpy() >= 0).all()
    assert detail["git_commit"].notna().all() and detail["sweep_cell"].str.len().gt(0).all()
    assert {"mfjle", "mfjle/fitted", "resnet18"} <= set(summary["name"])
    curves = pd.read_csv(tmp_path / "results" / "mfjle_ablations_curves.csv")
    assert set(curves["variant"]) == {"resnet18", "mfjle"} and "val_micro_f1" in curves

    # a fresh checkout: the run folders are gone, the committed rows stay and are not rerun
    shutil.rmtree(tmp_path / "runs")
    done = committed_mfjle_cells(tmp_path / "results")
    assert len(done) == 2
    again = sweep(MFJLE_RUN, grids, out, fixed={**fixed, "quick": True}, workers=1,
                  progress=False, skip=done)
    assert again.empty
    write_mfjle_tables(tmp_path / "runs", tmp_path / "results")
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / "results" / "mfjle_ablations.csv"),
                                  detail)


def test_the_figures_draw_one_line_per_model_and_landmark() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fer_utils.viz.mfjle_ablations import fig5_curves, lambda_panels

    curves = pd.DataFrame({"experiment": "e", "variant": ["mfjle"] * 4 + ["resnet18"] * 4,
                           "seed": [0, 0, 1, 1] * 2, "epoch": [1, 2] * 4,
                           "train_loss": 0.5, "val_loss": 0.5,
                           "val_micro_f1": [0.1, 0.2, 0.3, 0.4, 0.1, 0.1, 0.1, 0.1]})
    fig = fig5_curves(curves, "e")
    assert len(fig.axes[0].lines) == 2
    resnet, mfjle = fig.axes[0].lines  # in Fig. 5's order
    assert list(resnet.get_ydata()) == pytest.approx([0.1, 0.1])
    assert list(mfjle.get_ydata()) == pytest.approx([0.2, 0.3])  # mean over the 2 seeds
    with pytest.raises(ValueError, match="no Fig. 5 curves"):
        fig5_curves(curves, "other")
    rows = pd.concat([_rows("mfjle", "ensemble", [0.8, 0.8]),
                      _rows("lambda=0", "ensemble", [0.6, 0.6]),
                      _rows("lambda_nose_tip=0.005", "ensemble", [0.7, 0.7])], ignore_index=True)
    fig = lambda_panels(mfjle_summary(rows), "e")
    assert list(fig.axes[0].lines[0].get_xdata()) == [0.0, 0.01]
    assert [t.get_text() for t in fig.axes[1].get_legend().get_texts()] == ["nose_tip"]
    assert not fig.axes[0].texts  # every trained point has 2 seeds: nothing to say
    rows = pd.concat([_rows("mfjle", "ensemble", [0.8, 0.8]),
                      _rows("lambda=0", "ensemble", [0.6])], ignore_index=True)
    fig = lambda_panels(mfjle_summary(rows), "e")  # a trained point with fewer seeds
    assert [t.get_text() for t in fig.axes[0].texts] == ["1 seed", "2 seeds"]
    plt.close("all")


def _driver(name: str):
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_drivers_list_their_cells_and_refuse_bad_arguments_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    common = ["--seeds", "0", "--runs-dir", str(tmp_path / "runs"), "--results",
              str(tmp_path / "results"), "--dry-run"]
    mfjle = _driver("run_mfjle_ablations")
    assert mfjle.main(["--experiments", "jaffe_split_sample", "--parts", "fig5", *common]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("jaffe_split_sample: 3 cells, 0 committed") and len(lines) == 4
    ablations = _driver("run_ablations")
    assert ablations.main(["--experiments", "synthetic_wheel", "--parts", "table4",
                           *common]) == 0
    assert capsys.readouterr().out.startswith("synthetic_wheel: 9 cells, 0 committed")
    assert not (tmp_path / "runs").exists()  # a dry run writes nothing
    for script, argv, named in ((mfjle, ["--seeds", "1", "1"], "--seeds"),
                                (ablations, ["--workers", "0"], "--workers"),
                                (mfjle, [], "--experiments")):
        experiments = ["--experiments", "jaffe_split_sample" if script is mfjle
                       else "synthetic_wheel"] if argv else []
        with pytest.raises(SystemExit) as exit_info:
            script.main([*experiments, *argv])
        err = capsys.readouterr().err.strip()
        assert exit_info.value.code == 2 and len(err.splitlines()) == 1
        assert f"argument {named}" in err


def test_a_relative_runs_dir_is_taken_from_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The cells run in the notebook's folder: a relative ``--runs-dir`` must reach them
    as an absolute path, or their checkpoints land beside the notebook."""
    from fer_utils.runs.driver import driver_parser, parse_driver_args

    monkeypatch.chdir(tmp_path)
    parser = driver_parser("x.py", "x", ["e"], "x", ["cpu"], "")
    args = parse_driver_args(parser, ["--experiments", "e", "--runs-dir", "runs/b",
                                      "--results", "res"])
    assert args.runs_dir == tmp_path.resolve() / "runs" / "b"
    assert args.results == tmp_path.resolve() / "res"
    assert "--runs-dir runs/b" in args.command  # the command is recorded as typed
