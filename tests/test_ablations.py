"""Paper A's ablations: the sweep plan, the tables made from finished cells, the claims."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from fer_utils.published import TABLE4_ACCURACY, TABLE5_P_VALUES
from fer_utils.runs.ablations import (
    FIG7_KNOBS,
    KNOB_DEFAULTS,
    TABLE4_METHODS,
    ablation_grids,
    committed_cells,
    experiment_folder,
    fig7,
    pool_curves,
    table4,
    table5,
    write_tables,
)
from fer_utils.runs.claims import (
    BEST_METHOD,
    CONVERGED,
    FAILED,
    HELD,
    OPEN,
    SIGNIFICANT,
    check_claims,
)
from fer_utils.runs.grid import build_cells
from fer_utils.runs.sweep import sweep
from fer_utils.runs.wheel_control import SECONDARY, SHUFFLED, wheel_control

PROTOCOL_RUN = Path(__file__).resolve().parents[1] / "notebooks" / "experiments" / \
    "protocol_run.ipynb"


def test_the_plan_runs_table4_seed_by_seed_then_each_knob_with_the_default_cell_once() -> None:
    grids, fixed = ablation_grids("jaffe_kfold_sample", ["table4", "fig7"], [0, 1])
    cells = build_cells(PROTOCOL_RUN, grids, fixed)
    n_knob_values = sum(len(v) for v in FIG7_KNOBS.values())
    assert len(cells) == 2 * (len(TABLE4_METHODS) + n_knob_values)
    first = cells[:len(TABLE4_METHODS)]
    assert [c.parameters["method"] for c in first] == list(TABLE4_METHODS)
    assert {tuple(c.parameters["seeds"]) for c in first} == {(0,)}
    assert fixed == {"dataset": "jaffe", "protocol": "kfold_sample", "folds": 10,
                     "budget": "cpu"}
    k_cells = [c for c in cells if c.parameters["method"] == "mixfeature"
               and c.parameters["seeds"] == [0]
               and all(c.parameters[k] == v for k, v in KNOB_DEFAULTS.items() if k != "mix_k")]
    assert sorted(c.parameters["mix_k"] for c in k_cells) == [2, 3, 4, 5, 6]
    assert experiment_folder("runs", "jaffe_kfold", "cpu") == Path("runs/jaffe_kfold_cpu")
    with pytest.raises(ValueError, match="unknown experiment"):
        ablation_grids("jaffe_by_mood", ["table4"], [0])
    with pytest.raises(ValueError, match="parts must be"):
        ablation_grids("jaffe_kfold", ["table6"], [0])


def test_a_cell_is_the_same_cell_from_another_clone_or_runs_folder(tmp_path: Path) -> None:
    # its checkpoints' folder is an absolute path; committed rows must still match it
    here = build_cells(PROTOCOL_RUN, *ablation_grids(
        "ckplus_kfold", ["table4"], [0], checkpoint_dir="/work/main/runs/ablations/x"))
    there = build_cells(PROTOCOL_RUN, *ablation_grids(
        "ckplus_kfold", ["table4"], [0], checkpoint_dir=tmp_path / "checkpoints"))
    assert [c.digest for c in here] == [c.digest for c in there]
    assert [c.parameters["checkpoint_dir"] for c in there] == [str(tmp_path / "checkpoints")] * 9


def test_a_subset_of_table4_methods_gives_the_same_cells_as_the_full_table() -> None:
    full = build_cells(PROTOCOL_RUN, *ablation_grids("jaffe_kfold", ["table4"], [0, 1]))
    some = build_cells(PROTOCOL_RUN, *ablation_grids("jaffe_kfold", ["table4"], [0, 1],
                                                     methods=["mixfeature", "baseline"]))
    assert [c.parameters["method"] for c in some] == ["baseline", "mixfeature"] * 2
    assert {c.digest for c in some} <= {c.digest for c in full}
    with pytest.raises(ValueError, match=r"methods: unknown Table 4 method\(s\) \['stylemix'\]"):
        ablation_grids("jaffe_kfold", ["table4"], [0], methods=["stylemix"])


def _rows(scores: dict[str, list[float]], seeds: int = 2, folds: int = 3,
          knobs: dict[str, object] | None = None) -> pd.DataFrame:
    """Per-run rows of a fake JAFFE experiment: method -> accuracies (seed-major)."""
    out = []
    for method, values in scores.items():
        for i, (seed, fold) in enumerate((s, f) for s in range(seeds) for f in range(folds)):
            out.append({"experiment": "jaffe_kfold_sample", "dataset": "jaffe",
                        "protocol": "kfold_sample", "budget": "cpu", "deviations": "epochs=100",
                        "method": method, **KNOB_DEFAULTS, **(knobs or {}), "seed": seed,
                        "fold": fold, "test_accuracy": values[i], "test_mean_class_accuracy":
                        values[i], "test_kl": np.nan, "n_train": 170.0, "n_test": 22.0,
                        "train_ce_last": 0.3,
                        "train_ce_drop": 0.01, "train_seconds": 50.0, "git_commit": "abc",
                        "device": "cpu", "command": "python scripts/run_ablations.py"})
    return pd.DataFrame(out)


def test_table4_means_spreads_and_paper_numbers_by_hand() -> None:
    rows = _rows({"mixfeature": [0.8, 0.9, 1.0, 0.6, 0.7, 0.8],
                  "mixup": [0.5, 0.5, 0.5, 0.7, 0.7, 0.7]})
    t4 = table4(rows).set_index("method")
    assert t4.loc["mixfeature", "accuracy_mean"] == pytest.approx(80.0)
    # seed means 90 and 70: std (ddof=1) of the two = 14.142
    assert t4.loc["mixfeature", "accuracy_std_seeds"] == pytest.approx(np.std([90, 70], ddof=1))
    assert t4.loc["mixup", "accuracy_std_seeds"] == pytest.approx(np.std([50, 70], ddof=1))
    assert t4.loc["mixup", "paper_accuracy"] == TABLE4_ACCURACY["jaffe"]["mixup"]
    assert (t4["n_runs"] == 6).all() and (t4["seeds"] == "0 1").all()


def test_table5_pairs_on_fold_and_seed_and_carries_the_papers_p_value() -> None:
    mix = [0.8, 0.9, 1.0, 0.6, 0.7, 0.8]
    rows = _rows({"mixfeature": mix, "baseline": [v - 0.1 for v in mix],
                  "cutmix": [0.8, 0.8, 1.0, 0.7, 0.6, 0.8]})
    t5 = table5(rows).set_index("method")
    assert t5.loc["baseline", "mean_difference"] == pytest.approx(10.0)
    assert t5.loc["baseline", "n_pairs"] == 6
    assert t5.loc["cutmix", "paper_p_value"] == TABLE5_P_VALUES["cutmix"]
    assert np.isnan(t5.loc["baseline", "paper_p_value"])
    # Holm runs within a family: the baseline alone is not adjusted
    assert t5.loc["baseline", "family"] == "table2"
    assert t5.loc["baseline", "p_paired_t_holm"] == pytest.approx(t5.loc["baseline",
                                                                          "p_paired_t"])
    # a method with a missing run: its family is compared on the pairs all of it has
    partial = pd.concat([rows, _rows({"gridmask": [0.5] * 3}, seeds=1)], ignore_index=True)
    pairs = table5(partial).set_index("method")["n_pairs"]
    assert pairs.to_dict() == {"baseline": 6, "cutmix": 3, "gridmask": 3}


def test_fig7_takes_one_knob_at_a_time_and_the_default_from_table4() -> None:
    rows = pd.concat([_rows({"mixfeature": [0.8] * 6}),
                      _rows({"mixfeature": [0.6] * 6}, knobs={"mix_k": 5}),
                      _rows({"mixfeature": [0.7] * 6}, knobs={"mix_lambda": 0.9}),
                      # two knobs off their defaults: in no curve
                      _rows({"mixfeature": [0.1] * 6}, knobs={"mix_k": 5, "mix_lambda": 0.9})],
                     ignore_index=True)
    f7 = fig7(rows)
    k = f7[f7["knob"] == "mix_k"].set_index("value")["accuracy_mean"]
    assert k.to_dict() == pytest.approx({"3": 80.0, "5": 60.0})
    lam = f7[f7["knob"] == "mix_lambda"].set_index("value")["accuracy_mean"]
    assert lam.to_dict() == pytest.approx({"0.5": 80.0, "0.9": 70.0})
    assert f7.loc[f7["value"] == "3", "is_default"].all()


def test_fig7_compares_a_knobs_values_on_the_seeds_they_all_have() -> None:
    # the default ran on seeds 0 and 1 (seed means 90 and 70), K = 5 on seed 0 only
    rows = pd.concat([_rows({"mixfeature": [0.9] * 3 + [0.7] * 3}),
                      _rows({"mixfeature": [0.6] * 3}, seeds=1, knobs={"mix_k": 5})],
                     ignore_index=True)
    f7 = fig7(rows).set_index(["knob", "value"])
    assert f7.loc[("mix_k", "3"), "accuracy_mean"] == pytest.approx(90.0)  # seed 0 only
    assert f7.loc[("mix_k", "3"), "seeds"] == f7.loc[("mix_k", "5"), "seeds"] == "0"
    assert np.isnan(f7.loc[("mix_k", "3"), "accuracy_std_seeds"])
    # the K claim waits for every K of Fig. 7 ...
    k_claim = check_claims(pd.DataFrame(), pd.DataFrame(), fig7(rows)).iloc[0]
    assert k_claim["verdict"] == OPEN and "(missing: 2, 4, 6)" in k_claim["ours"]
    # ... and then says that it rests on one seed (paper: K = 3 on JAFFE)
    every_k = pd.concat([rows, *(_rows({"mixfeature": [0.5] * 3}, seeds=1, knobs={"mix_k": k})
                                 for k in (2, 4, 6))], ignore_index=True)
    k_claim = check_claims(pd.DataFrame(), pd.DataFrame(), fig7(every_k)).iloc[0]
    assert k_claim["verdict"] == f"{HELD} (one seed)"
    assert "one seed (0)" in k_claim["ours"] and "K = 2..6 span 40.00 points" in k_claim["ours"]
    # a knob run at its default only keeps every seed
    assert f7.loc[("mix_lambda", "0.5"), "accuracy_mean"] == pytest.approx(80.0)
    assert f7.loc[("mix_lambda", "0.5"), "seeds"] == "0 1"
    # values that share no seed keep their own
    apart = pd.concat([_rows({"mixfeature": [0.9] * 3}, seeds=1),
                       _rows({"mixfeature": [0.6] * 6}, knobs={"mix_k": 5}).query("seed == 1")],
                      ignore_index=True)
    seeds = fig7(apart).query("knob == 'mix_k'").set_index("value")["seeds"]
    assert seeds.to_dict() == {"3": "0", "5": "1"}


def test_claims_are_verdicts_computed_from_the_numbers() -> None:
    mix = [0.8, 0.9, 1.0, 0.6, 0.7, 0.8]
    scores = {m: [v - 0.1 for v in mix] for m in TABLE5_P_VALUES}
    scores.update(mixfeature=mix, baseline=[v - 0.2 for v in mix],
                  mixup=[v + 0.05 for v in mix])
    rows = pd.concat([_rows(scores), *(_rows({"mixfeature": [0.5] * 6}, knobs={"mix_k": k})
                                       for k in (2, 4, 5, 6))], ignore_index=True)
    claims = check_claims(table4(rows), table5(rows), fig7(rows)).set_index("claim")
    assert claims.loc[CONVERGED, "verdict"] == HELD  # every drop is 0.01 (9 methods x 6 runs)
    assert "54 of 54 runs flat" in claims.loc[CONVERGED, "ours"]
    assert claims.loc[BEST_METHOD, "verdict"] == FAILED
    assert "rank 2 of 9" in claims.loc[BEST_METHOD, "ours"]
    assert claims.loc["MixFeature beats the baseline", "verdict"] == HELD
    assert claims.loc[SIGNIFICANT, "verdict"] == FAILED  # mixup is ahead of it
    assert claims.loc["the group size K matters, with a peak", "verdict"] == HELD
    # with only some methods run, the Table 4 and Table 5 claims stay open
    few = _rows({k: scores[k] for k in ("mixfeature", "baseline", "mixup")})
    open_claims = check_claims(table4(few), table5(few), fig7(few)).set_index("claim")
    assert open_claims.loc[BEST_METHOD, "verdict"] == OPEN
    assert "2 of 8 methods run so far" in open_claims.loc[BEST_METHOD, "ours"]
    assert open_claims.loc[SIGNIFICANT, "verdict"] == OPEN
    assert check_claims(pd.DataFrame(), pd.DataFrame(), pd.DataFrame()).empty


def test_a_tiny_ablation_sweep_becomes_the_committed_tables(tmp_path: Path) -> None:
    grids, fixed = ablation_grids("synthetic_wheel", ["table4"], [0])
    grids = [{**grids[0], "method": ["baseline", "mixfeature"]},
             {**grids[0], "method": ["mixfeature"], "mix_k": [2]}]
    out = experiment_folder(tmp_path / "runs", "synthetic_wheel", "cpu")
    sweep(PROTOCOL_RUN, grids, out, fixed={**fixed, "quick": True, "folds": 2}, workers=2,
          progress=False)
    summaries = write_tables(tmp_path / "runs", tmp_path / "results")
    detail = pd.read_csv(tmp_path / "results" / "ablations" / "synthetic_wheel_cpu.csv")
    assert len(detail) == 6 and set(detail["fold"]) == {0, 1}
    assert detail["git_commit"].notna().all() and detail["sweep_cell"].str.len().gt(0).all()
    assert set(summaries["table4"]["method"]) == {"baseline", "mixfeature"}
    assert list(summaries["table5"]["method"]) == ["baseline"]
    k = summaries["fig7"][summaries["fig7"]["knob"] == "mix_k"]
    assert sorted(k["value"]) == ["2", "3"]
    for name in ("table4", "table5", "fig7"):
        assert (tmp_path / "results" / f"{name}.csv").is_file()
    curves_path = tmp_path / "results" / "ablations" / "synthetic_wheel_cpu_curves.csv"
    assert set(pd.read_csv(curves_path)["method"]) == {"baseline", "mixfeature"}

    # a fresh checkout: the run folders are gone, the committed rows are not. The
    # committed cells are not run again; a new cell's rows join them.
    shutil.rmtree(tmp_path / "runs")
    done = committed_cells(tmp_path / "results", out.name)
    assert len(done) == 3
    more = [*grids, {**grids[0], "method": ["mixfeature"], "mix_k": [4]}]
    table = sweep(PROTOCOL_RUN, more, out, fixed={**fixed, "quick": True, "folds": 2},
                  workers=2, progress=False, skip=done)
    assert len(table) == 2  # only the new cell ran (one row per fold)
    write_tables(tmp_path / "runs", tmp_path / "results")
    merged = pd.read_csv(tmp_path / "results" / "ablations" / "synthetic_wheel_cpu.csv")
    assert len(merged) == 8
    pd.testing.assert_frame_equal(merged.iloc[:6].reset_index(drop=True), detail,
                                  check_dtype=False)
    assert sorted(pd.read_csv(tmp_path / "results" / "fig7.csv").query(
        "knob == 'mix_k'")["value"]) == ["2", "3", "4"]
    assert len(pd.read_csv(curves_path)["sweep_cell"].unique()) == 2  # curves: Table 4 cells


def test_pooled_curves_equal_the_mean_and_std_over_every_run() -> None:
    rng = np.random.default_rng(0)
    runs = pd.DataFrame({"sweep_cell": ["a"] * 3 + ["b"] * 4 + ["c"] * 2,
                         "method": ["m"] * 7 + ["n"] * 2, "epoch": 1,
                         "train_ce": rng.normal(size=9), "val_accuracy": rng.random(9)})
    per_cell = runs.groupby(["sweep_cell", "method", "epoch"])[["train_ce", "val_accuracy"]]
    per_cell = per_cell.agg(["mean", "std", "count"])
    per_cell.columns = [f"{a}_{b}" for a, b in per_cell.columns]
    per_cell = per_cell.rename(columns={"train_ce_count": "n_runs"}).reset_index()
    pooled = pool_curves(per_cell).set_index("method")
    for method, g in runs.groupby("method"):
        assert pooled.loc[method, "n_runs"] == len(g)
        for metric in ("train_ce", "val_accuracy"):
            assert pooled.loc[method, f"{metric}_mean"] == pytest.approx(g[metric].mean())
            assert pooled.loc[method, f"{metric}_std"] == pytest.approx(g[metric].std())


def test_the_figures_draw_ours_with_spreads_and_the_papers_marks() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from fer_utils.viz.ablations import knob_panels, mean_curves, table4_bars

    rows = pd.concat([_rows({"mixfeature": [0.8] * 6, "mixup": [0.7] * 6}),
                      _rows({"mixfeature": [0.6] * 6}, knobs={"mix_k": 5}),
                      _rows({"mixfeature": [0.7] * 6}, knobs={"wheel_layout": "shuffled"})],
                     ignore_index=True)
    fig = table4_bars(table4(rows))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["mixfeature", "mixup"]
    assert len(ax.patches) == 2 and len(ax.lines) >= 1  # bars, and the paper's marks
    fig = knob_panels(fig7(rows), "jaffe_kfold_sample")
    assert [a.get_title() for a in fig.axes] == ["group size K (Fig. 7)", "wheel layout"]
    with pytest.raises(ValueError, match="no Fig. 7 rows"):
        knob_panels(fig7(rows), "ckplus_kfold")
    curves = pd.DataFrame({"method": ["baseline"] * 3, "epoch": [1, 2, 3],
                           "train_ce_mean": [2.0, 1.0, 0.5], "train_ce_std": [0.1] * 3,
                           "val_accuracy_mean": [0.3, 0.5, 0.6], "val_accuracy_std": [0.0] * 3,
                           "n_runs": [2] * 3})
    fig = mean_curves(curves, "x")
    assert list(fig.axes[0].lines[0].get_ydata()) == [2.0, 1.0, 0.5]
    plt.close("all")


def test_deviations_split_into_the_budget_and_the_methods_own_settings() -> None:
    from fer_utils.runs.ablations import split_deviations

    text = "image_size=48; lr=0.01; method=mixup; seed=1; mixup_alpha=1.0; mix_k=4"
    assert split_deviations(text) == ("image_size=48; lr=0.01",
                                       "method=mixup; mixup_alpha=1.0; mix_k=4")
    assert split_deviations("") == ("none", "none")


def test_each_row_names_the_command_that_ran_its_cell(tmp_path: Path) -> None:
    from fer_utils.runs.ablations import cell_command, record_command

    finished = tmp_path / "cells" / "method=baseline__aaaa1111"
    finished.mkdir(parents=True)
    (finished / "result.json").write_text("{}")
    record_command(tmp_path, "first", ["aaaa1111", "bbbb2222"])
    assert cell_command(tmp_path, "method=mixup__bbbb2222") == "first"
    record_command(tmp_path, "second", ["aaaa1111", "bbbb2222", "cccc3333"])
    assert cell_command(tmp_path, "bbbb2222") == "second"  # not finished: the rerun ran it
    assert cell_command(tmp_path, "x__cccc3333") == "second"
    # a cell finished before commands were kept per cell: the folder's last command
    assert cell_command(tmp_path, "x__aaaa1111") == "second"
    assert (tmp_path / "commands.txt").read_text().splitlines() == ["first", "second"]
    assert cell_command(tmp_path / "nowhere", "x__dddd4444") == ""


def test_wheel_controls_pair_runs_and_compute_their_verdicts_by_hand() -> None:
    plutchik = [0.8, 0.9, 1.0, 0.6, 0.7, 0.8]
    shuffled = [0.7, 0.85, 0.9, 0.55, 0.6, 0.75]  # differences 10, 5, 10, 5, 10, 5 points
    rows = pd.concat([_rows({"mixfeature": plutchik}),
                      _rows({"mixfeature": shuffled}, knobs={"wheel_layout": "shuffled"}),
                      _rows({"mixfeature": [0.1] * 6}, knobs={"wheel_layout": "ring"}),
                      _rows({"baseline": [0.0] * 6})], ignore_index=True)
    control = wheel_control(rows).set_index("control")
    shuffle = control.loc[SHUFFLED]
    assert shuffle["mean_difference"] == pytest.approx(7.5) and shuffle["n_pairs"] == 6
    # Nadeau-Bengio by hand: variance of the differences 7.5, n = 6, n_test/n_train = 22/170
    t = 7.5 / np.sqrt(7.5 * (1 / 6 + 22 / 170))
    assert shuffle["p_corrected"] == pytest.approx(2 * stats.t.sf(t, df=5))  # t = 5.03
    assert shuffle["p_corrected"] < 0.05 and shuffle["verdict"] == "yes"
    assert "+7.50 points" in shuffle["ours"] and SECONDARY not in control.index
    # the gain with wheel-shaped secondary emotions minus the gain with random ones
    wheel = pd.concat([_rows({"mixfeature": [0.9, 0.8] * 3}), _rows({"baseline": [0.8] * 6})])
    rand = pd.concat([_rows({"mixfeature": [0.8, 0.85] * 3}), _rows({"baseline": [0.8] * 6})])
    both = pd.concat([wheel.assign(experiment="synthetic_wheel"),
                      rand.assign(experiment="synthetic_random")], ignore_index=True)
    secondary = wheel_control(both).set_index("control").loc[SECONDARY]
    assert secondary["mean_difference"] == pytest.approx(2.5)  # gains 10, 0 vs 0, 5
    assert secondary["experiment"] == "synthetic_wheel vs synthetic_random"
    # a shuffled wheel that does better, and runs not made yet
    worse = wheel_control(pd.concat([_rows({"mixfeature": shuffled}), _rows(
        {"mixfeature": plutchik}, knobs={"wheel_layout": "shuffled"})], ignore_index=True))
    assert worse.iloc[0]["verdict"] == "no"
    assert wheel_control(_rows({"mixfeature": plutchik})).empty
    assert wheel_control(pd.DataFrame()).empty


def test_the_two_synthetic_experiments_share_their_folds_so_their_gains_pair() -> None:
    from fer_utils.data import load_dataset
    from fer_utils.protocols import kfold_parts

    wheel, rand = load_dataset("synthetic"), load_dataset("synthetic", secondary="random")
    for a, b in zip(kfold_parts(wheel, 5, 1, group_by="sample"),
                    kfold_parts(rand, 5, 1, group_by="sample"), strict=True):
        assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(wheel.distributions, rand.distributions)


def test_table4_carries_the_mean_test_kl_and_nan_where_a_dataset_has_no_distributions() -> None:
    rows = _rows({"mixfeature": [0.8] * 6, "baseline": [0.7] * 6})
    rows["test_kl"] = [0.2, 0.4, 0.6, 0.2, 0.4, 0.6] + [1.0] * 6
    t4 = table4(rows).set_index("method")
    assert t4.loc["mixfeature", "test_kl_mean"] == pytest.approx(0.4)
    assert t4.loc["baseline", "test_kl_mean"] == pytest.approx(1.0)
    assert np.isnan(table4(rows.assign(test_kl=np.nan))["test_kl_mean"]).all()
