"""Parameter sweeps: grids checked before running, the same table from a process pool and a
Dask LocalCluster, failures recorded, a killed driver resumed, the SLURM job script."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd
import pytest

from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.cell import cell_environment
from fer_utils.runs.grid import GridError, build_cells, cell_name, load_grid, parse_value
from fer_utils.runs.record import RESULT_FILE
from fer_utils.runs.sweep import count_cells, gather, slurm_cluster, sweep
from fer_utils.sweep import main

PROBE = REPO_ROOT / "tests" / "fixtures" / "sweep_probe.ipynb"
WHEEL = REPO_ROOT / "notebooks" / "02_emotion_wheel.ipynb"
#: Columns that differ between two runs of the same cell (time, machine, commit).
RUN_COLUMNS = ["papermill_duration_s", "duration_s", "device", "git_commit"]


def results(out: Path) -> dict[str, float]:
    """Modification time of every result file under a sweep folder, by cell."""
    return {p.parent.name: p.stat().st_mtime for p in (out / "cells").glob(f"*/{RESULT_FILE}")}


# --- grids -----------------------------------------------------------------------------


def test_grid_is_the_product_of_the_values_and_names_its_cells() -> None:
    cells = build_cells(PROBE, {"x": [1, 2], "label": ["a", "b c"]}, fixed={"sleep": 0.0})
    assert [c.parameters for c in cells] == [
        {"x": 1, "label": "a", "sleep": 0.0}, {"x": 1, "label": "b c", "sleep": 0.0},
        {"x": 2, "label": "a", "sleep": 0.0}, {"x": 2, "label": "b c", "sleep": 0.0},
    ]
    assert cells[1].name.startswith("x=1_label=b-c__")
    assert len({c.name for c in cells}) == 4
    # a fixed value takes part in the identity of the cell, though not in its readable name
    assert cell_name({"x": 1, "sleep": 0.0}, ["x"]) != cell_name({"x": 1, "sleep": 1.0}, ["x"])
    # where the cell keeps its files does not: not in the hash, not in the name
    here = cell_name({"x": 1, "checkpoint_dir": "/home/a/fer/runs/ck"}, ["x", "checkpoint_dir"])
    assert here == cell_name({"x": 1, "checkpoint_dir": "/scratch/b/runs/ck"},
                             ["x", "checkpoint_dir"]) == cell_name({"x": 1}, ["x"])
    assert here.startswith("x=1__")


def test_seed_on_a_notebook_with_seeds_runs_one_seed_per_cell() -> None:
    cells = build_cells(PROBE, {"seed": [0, 1]})
    assert [c.parameters for c in cells] == [{"seeds": [0]}, {"seeds": [1]}]


def test_grid_files_and_command_line_values(tmp_path: Path) -> None:
    (tmp_path / "g.yaml").write_text("x: [1, 2]\nlabel: b\n")
    (tmp_path / "g.json").write_text('{"x": [1, 2], "label": "b"}')
    assert load_grid(tmp_path / "g.yaml") == load_grid(tmp_path / "g.json") == {
        "x": [1, 2], "label": ["b"]}
    assert [parse_value(v) for v in ("3", "0.5", "[0, 1]", "None", "True", "ring")] == [
        3, 0.5, [0, 1], None, True, "ring"]


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"mix_k": [2, 3]}, "has no parameter 'mix_k'; it accepts: fail, label, quick, seeds"),
        ({"x": []}, "parameter x has an empty list of values"),
        ({"x": [1, "two"]}, "parameter x must be an integer >= 0, got 'two'"),
        ({"seeds": [0]}, "parameter seeds must be a non-empty list, got 0"),
        ({"output_dir": ["/tmp"]}, "output_dir is set by the sweep"),
        ({"x": [1, 1]}, "parameter x repeats a value"),
    ],
)
def test_bad_grid_input_is_refused_before_anything_runs(
    tmp_path: Path, grid: dict, message: str
) -> None:
    with pytest.raises(GridError, match=message.replace("[", r"\[").replace("]", r"\]")):
        sweep(PROBE, grid, tmp_path / "sweep", progress=False)
    assert not (tmp_path / "sweep").exists()


def test_command_line_refuses_bad_input_with_exit_code_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(PROBE), "-p", "x", "-p", "label", "a", "--out", str(tmp_path)]) == 2
    assert "parameter x has an empty list of values" in capsys.readouterr().err
    assert main(["notebooks/nope.ipynb", "-p", "x", "1", "--out", str(tmp_path)]) == 2
    assert "nope.ipynb does not exist" in capsys.readouterr().err
    assert main([str(PROBE), "-p", "x", "1", "--scheduler", "yarn",
                 "--out", str(tmp_path / "s")]) == 2
    assert "scheduler must be 'local', 'dask', 'slurm' or a Dask address" in (
        capsys.readouterr().err)


def test_a_folder_holding_another_notebooks_sweep_is_refused(tmp_path: Path) -> None:
    (tmp_path / "sweep.json").write_text(json.dumps({"notebook": "04_training.ipynb"}))
    with pytest.raises(GridError, match="holds a sweep of 04_training.ipynb"):
        sweep(PROBE, {"x": [1]}, tmp_path, progress=False)


def test_cell_environment_sets_threads_and_one_device() -> None:
    env = cell_environment(3, "1")
    assert env["OMP_NUM_THREADS"] == env["MKL_NUM_THREADS"] == "3"
    assert env["CUDA_VISIBLE_DEVICES"] == "1" and env["TQDM_DISABLE"] == "1"
    assert cell_environment(1, None).get("CUDA_VISIBLE_DEVICES") == os.environ.get(
        "CUDA_VISIBLE_DEVICES")


# --- running ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def wheel_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """Notebook 02 in quick mode on a 2 x 2 grid, on 2 local workers and on Dask."""
    root = tmp_path_factory.mktemp("wheel")
    grid = {"layout": ["plutchik", "ring"], "seed": [0, 1]}
    tables = {}
    for scheduler in ("local", "dask"):
        tables[scheduler] = sweep(WHEEL, grid, root / scheduler, fixed={"quick": True},
                                  workers=2, scheduler=scheduler, progress=False)
    return tables


def test_a_real_notebook_grid_gives_one_tidy_table(wheel_tables: dict) -> None:
    table = wheel_tables["local"]
    assert count_cells(table) == {"ok": 4}
    assert set(table.groupby(["layout", "seed"]).size().index) == {
        ("plutchik", 0), ("plutchik", 1), ("ring", 0), ("ring", 1)}
    numbers = table.select_dtypes("number").drop(columns=["seed", "papermill_duration_s",
                                                          "duration_s"], errors="ignore")
    assert numbers.shape[1] >= 1 and numbers.notna().any(axis=1).all()  # a number per row
    assert (table["papermill_duration_s"] > 0).all() and not table["papermill_exception"].any()


def test_local_pool_and_dask_give_the_same_table(wheel_tables: dict) -> None:
    local, dask = (wheel_tables[k].drop(columns=RUN_COLUMNS) for k in ("local", "dask"))
    pd.testing.assert_frame_equal(local, dask)


def test_each_cell_gets_the_threads_and_device_it_was_given(tmp_path: Path) -> None:
    with ThreadPoolExecutor(2) as pool:  # any concurrent.futures executor will do
        table = sweep(PROBE, {"x": [1, 2, 3]}, tmp_path, workers=2, threads=1,
                      executor=pool, devices=["0", "1"], progress=False)
    assert (table["threads"] == 1).all()
    assert set(table["gpu"]) <= {0, 1}


def test_a_failing_cell_is_recorded_and_the_others_finish(tmp_path: Path) -> None:
    table = sweep(PROBE, {"x": [1, 2], "fail": [False, True]}, tmp_path, workers=2,
                  progress=False)
    assert count_cells(table) == {"ok": 2, "failed": 2}
    failed = table[table["status"] == "failed"]
    assert failed["error"].str.contains(r"RuntimeError: asked to fail \(x=[12]\)").all()
    assert table.loc[table["status"] == "ok", "score"].tolist() == [10, 20]
    assert pd.read_csv(tmp_path / "sweep.csv")["status"].tolist() == table["status"].tolist()
    # running it again runs the failed cells again and skips the finished ones
    before = results(tmp_path)
    again = sweep(PROBE, {"x": [1, 2], "fail": [False, True]}, tmp_path, progress=False)
    assert results(tmp_path) == before and count_cells(again) == {"ok": 2, "failed": 2}


def test_a_killed_driver_loses_nothing_and_the_rerun_runs_only_the_rest(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "fer_utils.sweep", str(PROBE), "-p", "x", "1", "2", "3",
               "-p", "sleep", "3.0", "--workers", "1", "--out", str(out), "--no-progress"]
    driver = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while not results(out) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert results(out), "no cell finished within 4 minutes"
    os.kill(driver.pid, signal.SIGKILL)
    driver.wait()
    time.sleep(8)  # the orphaned pool worker stops its cell instead of finishing it
    finished = results(out)
    time.sleep(5)
    assert results(out) == finished and 1 <= len(finished) < 3
    assert not list(out.rglob("*.tmp")), "a half-written file was left behind"
    table = gather(out, write=False)
    assert count_cells(table).get("ok") == len(finished)

    rerun = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    assert f"3 cells, {len(finished)} already finished, {3 - len(finished)} to run" in (
        rerun.stdout)
    assert {k: v for k, v in results(out).items() if k in finished} == finished
    assert count_cells(pd.read_csv(out / "sweep.csv")) == {"ok": 3}


def test_slurm_job_script_runs_one_cell_per_job_in_the_repository() -> None:
    pytest.importorskip("dask_jobqueue")
    cluster = slurm_cluster(threads=4, memory="8GB", walltime="01:30:00", gpus=1,
                            queue="gpu", account="fer")
    try:
        script = cluster.job_script()
    finally:
        cluster.close()
    for line in ("#SBATCH --cpus-per-task=4", "#SBATCH -t 01:30:00", "#SBATCH -p gpu",
                 "#SBATCH -A fer", "#SBATCH --gres=gpu:1", f"cd {REPO_ROOT}",
                 sys.executable, "--resources cell=1"):
        assert line in script, f"{line!r} missing from the job script:\n{script}"
    assert "#SBATCH --mem=" in script


def test_ctrl_c_stops_the_running_cells_and_keeps_the_finished_ones(tmp_path: Path) -> None:
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "fer_utils.sweep", str(PROBE), "-p", "sleep", "0.0",
               "60.0", "-p", "x", "1", "2", "--workers", "2", "--out", str(out),
               "--no-progress"]
    # SIGINT to the driver alone, as Jupyter's interrupt does (a terminal's Ctrl-C also
    # reaches the workers and cells, which is the easier case)
    driver = subprocess.Popen(command, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, start_new_session=True)
    deadline = time.monotonic() + 240
    def finished() -> int:  # cells the driver has counted (it rewrites the table after each)
        table = out / "sweep.csv"
        return count_cells(pd.read_csv(table)).get("ok", 0) if table.exists() else 0

    while finished() < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert finished() == 2, "the two quick cells did not finish within 4 minutes"
    time.sleep(3)  # the two 60-second cells are running now
    start = time.monotonic()
    driver.send_signal(signal.SIGINT)
    _, err = driver.communicate(timeout=60)
    assert driver.returncode == 130 and time.monotonic() - start < 30
    assert "interrupted: 2 cell(s) finished this time and are kept" in err
    table = pd.read_csv(out / "sweep.csv")
    assert count_cells(table) == {"ok": 2, "unfinished": 2}
    assert not (out / "STOP").exists()


def test_gpus_a_scheduler_chose_are_the_ones_handed_out(monkeypatch: pytest.MonkeyPatch) -> None:
    from fer_utils.runs.sweep import local_gpus

    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2, 3")
    assert local_gpus() == ["2", "3"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert local_gpus() == []


def test_a_list_of_grids_runs_the_union_and_a_shared_cell_once() -> None:
    one_at_a_time = [{"x": [1, 2], "label": ["a"]}, {"x": [1], "label": ["a", "b"]}]
    cells = build_cells(PROBE, one_at_a_time, fixed={"sleep": 0.0})
    assert [(c.parameters["x"], c.parameters["label"]) for c in cells] == [
        (1, "a"), (2, "a"), (1, "b")]
    assert len({c.digest for c in cells}) == 3
    # a grid that leaves out a parameter another names: named by what it has
    partial = build_cells(PROBE, [{"x": [1, 2]}, {"label": ["b"]}], fixed={"sleep": 0.0})
    assert [c.name.split("__")[0] for c in partial] == ["x=1", "x=2", "label=b"]
    with pytest.raises(GridError, match="at least one dict"):
        build_cells(PROBE, [])
