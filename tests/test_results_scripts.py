"""The results scripts (``scripts/run_table2.py``, ``scripts/run_mfjle.py``), issue 14.

Arguments are checked before any data is loaded or any model trained; per-run rows are
merged, never overwritten by another run, and the summaries are recomputed from all of
them; each finished method's rows are written at once; the console says, per run,
whether it resumed or started fresh. Everything runs on tiny synthetic data and writes
into ``tmp_path`` (``--out``), never into ``results/``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from fer_utils.provenance import REPO_ROOT

pytestmark = pytest.mark.usefixtures("one_thread")

#: Tiny settings: 200 synthetic faces (140 training), one epoch at 32x32.
TABLE2 = ["--dataset", "synthetic", "--n-synthetic", "200", "--epochs", "1",
          "--image-size", "32"]
TABLE2_STEM = "synthetic_official_epochs1_image_size32_n_synthetic200"
MFJLE = ["--dataset", "synthetic", "--n-synthetic", "100", "--epochs", "1",
         "--image-size", "32", "--models", "resnet18"]
MFJLE_TAG = "synthetic_cpu_epochs1_image_size32_n_synthetic100"


def _load(name: str) -> ModuleType:
    path = REPO_ROOT / "scripts" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"_results_script_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def table2() -> ModuleType:
    return _load("run_table2")


@pytest.fixture(scope="module")
def mfjle() -> ModuleType:
    return _load("run_mfjle")


def _files(folder: Path) -> set[str]:
    """Every file under ``folder`` but the lock files, relative to it."""
    return {str(p.relative_to(folder)) for p in folder.rglob("*")
            if p.is_file() and p.suffix != ".lock"}


def _forbid(monkeypatch: pytest.MonkeyPatch, module: ModuleType, *names: str) -> None:
    """Make the named functions of a script fail the test if they are called at all."""
    def called(*args, **kwargs):
        raise AssertionError("called before the arguments were checked")

    for name in names:
        monkeypatch.setattr(module, name, called)


def _quick_figures(monkeypatch: pytest.MonkeyPatch, module: ModuleType) -> None:
    """Write an empty file instead of rendering each PNG (most of a tiny run's time); the
    tests that look at the figures render them."""
    def touch(fig, output_dir, name):
        path = Path(output_dir) / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch()
        return path

    monkeypatch.setattr(module, "save_figure", touch)


# ---------------------------------------------------------------------------------------
# run_table2.py
# ---------------------------------------------------------------------------------------


def test_table2_two_processes_keep_both_methods(table2: ModuleType, tmp_path: Path) -> None:
    out = tmp_path / "table2.csv"
    assert table2.main([*TABLE2, "--methods", "baseline", "--seeds", "0",
                        "--out", str(out)]) == 0
    assert table2.main([*TABLE2, "--methods", "mixfeature", "--seeds", "0",
                        "--out", str(out)]) == 0
    summary = pd.read_csv(out)
    assert sorted(summary["method"]) == ["baseline", "mixfeature"]
    assert list(summary["n_runs"]) == [1, 1]
    runs = pd.read_csv(tmp_path / "table2_runs" / f"{TABLE2_STEM}.csv")
    assert sorted(runs["method"]) == ["baseline", "mixfeature"]
    assert runs["test_confusion"].notna().all()
    histories = pd.read_csv(tmp_path / "table2_runs" / f"{TABLE2_STEM}_histories.csv")
    assert sorted(histories["method"]) == ["baseline", "mixfeature"]
    per_class = pd.read_csv(tmp_path / "table2_runs" / f"{TABLE2_STEM}_per_class.csv")
    assert list(per_class.columns) == ["class", "baseline", "mixfeature"]
    for name in ("curves", "confusion", "per_class"):
        assert (tmp_path / "figures" / f"table2_{TABLE2_STEM}_{name}.png").is_file()


def test_table2_another_seed_adds_to_the_summary(
    table2: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _quick_figures(monkeypatch, table2)
    out = tmp_path / "table2.csv"
    common = [*TABLE2, "--methods", "baseline", "--out", str(out)]
    table2.main([*common, "--seeds", "0"])
    first = _files(tmp_path)
    table2.main([*common, "--seeds", "1"])
    assert _files(tmp_path) == first  # same settings, same files: updated, not added to
    summary = pd.read_csv(out, dtype={"seeds": str})
    assert len(summary) == 1
    assert summary.loc[0, "n_runs"] == 2
    assert summary.loc[0, "seeds"] == "0 1"
    runs = pd.read_csv(tmp_path / "table2_runs" / f"{TABLE2_STEM}.csv")
    assert sorted(runs["train_seed"]) == [0, 1]
    assert summary.loc[0, "accuracy_mean"] == pytest.approx(
        100 * runs["test_accuracy"].mean(), abs=0.01)


def test_table2_other_settings_get_other_files(
    table2: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _quick_figures(monkeypatch, table2)
    out = tmp_path / "table2.csv"
    common = [*TABLE2, "--methods", "baseline", "--seeds", "0", "--out", str(out)]
    table2.main(common)
    table2.main([*common, "--split-seed", "1"])
    summary = pd.read_csv(out)
    assert sorted(summary["setup"]) == ["n_synthetic=200", "n_synthetic=200; split_seed=1"]
    assert (tmp_path / "table2_runs" / f"{TABLE2_STEM}.csv").is_file()
    assert (tmp_path / "table2_runs" / f"{TABLE2_STEM}_split_seed1.csv").is_file()


def _other_table(tmp_path: Path) -> Path:
    path = tmp_path / "other.csv"
    shutil.copyfile(REPO_ROOT / "results" / "mfjle.csv", path)
    return path


@pytest.mark.parametrize(
    ("extra", "argument", "says"),
    [
        (["--methods", "baseline", "foo"], "--methods", "invalid choice: 'foo'"),
        (["--out", "{tmp}"], "--out", "is a folder"),
        (["--out", "{other}"], "--out", "holds another table"),
        (["--device", "cuda:9"], "--device", "not on this machine"),
        (["--image-size", "16"], "--image-size", ">= 32"),
        (["--dataset", "jaffe", "--protocol", "official"], "--protocol", "no split of its own"),
        (["--dataset", "nope"], "--dataset", "invalid choice"),
        (["--protocol", "kfold", "--group-by", "subject_expression"], "--group-by",
         "grouped by subject or sample"),
    ],
    ids=["method", "out-folder", "out-other-table", "device", "image-size", "protocol",
         "dataset", "kfold-group-by"],
)
def test_table2_refuses_bad_arguments_before_training(
    table2: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], extra: list[str], argument: str, says: str,
) -> None:
    _forbid(monkeypatch, table2, "load_dataset", "official_split_protocol", "kfold_protocol",
            "holdout_protocol")
    other = _other_table(tmp_path)
    before = other.read_bytes()
    extra = [e.format(tmp=tmp_path, other=other) for e in extra]
    argv = [*TABLE2, "--seeds", "0", "--out", str(tmp_path / "table2.csv"), *extra]
    with pytest.raises(SystemExit) as stop:
        table2.main(argv)
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {argument}" in err
    assert says in err
    assert _files(tmp_path) == {"other.csv"}
    assert other.read_bytes() == before


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0,
                    reason="needs file permissions that apply (not root)")
def test_table2_refuses_a_read_only_folder(
    table2: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _forbid(monkeypatch, table2, "load_dataset", "official_split_protocol")
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(SystemExit) as stop:
            table2.main([*TABLE2, "--out", str(folder / "table2.csv")])
    finally:
        folder.chmod(0o700)
    assert stop.value.code == 2


def test_table2_keeps_a_finished_method_when_the_next_one_fails(
    table2: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _quick_figures(monkeypatch, table2)
    real = table2.official_split_protocol

    def second_fails(config, *args, **kwargs):
        if config.method == "mixfeature":
            raise RuntimeError("killed in the second method")
        return real(config, *args, **kwargs)

    monkeypatch.setattr(table2, "official_split_protocol", second_fails)
    out = tmp_path / "table2.csv"
    with pytest.raises(RuntimeError, match="second method"):
        table2.main([*TABLE2, "--methods", "baseline", "mixfeature", "--seeds", "0",
                     "--out", str(out)])
    assert list(pd.read_csv(out)["method"]) == ["baseline"]
    runs = pd.read_csv(tmp_path / "table2_runs" / f"{TABLE2_STEM}.csv")
    assert list(runs["method"]) == ["baseline"]


def test_table2_says_fresh_or_resumed_per_run(
    table2: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _quick_figures(monkeypatch, table2)
    argv = [*TABLE2, "--methods", "baseline", "--out", str(tmp_path / "table2.csv"),
            "--checkpoint-dir", str(tmp_path / "ckpt")]
    table2.main([*argv, "--seeds", "0"])
    first = capsys.readouterr().out
    assert "baseline seed 0: started fresh" in first
    table2.main([*argv, "--seeds", "0", "1"])
    second = capsys.readouterr().out
    assert "baseline seed 0: resumed from epoch 1 of 1" in second
    assert "baseline seed 1: started fresh" in second
    runs = pd.read_csv(tmp_path / "table2_runs" / f"{TABLE2_STEM}.csv")
    assert dict(zip(runs["train_seed"], runs["resumed_from_epoch"], strict=True)) == {0: 1, 1: 0}


def test_table2_reads_detail_files_of_the_older_format(
    table2: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A committed-format detail file (no identifying columns, no confusion matrices)
    joins the merge: its rows count in the summary and are left out of the figures."""
    _quick_figures(monkeypatch, table2)
    committed = pd.read_csv(REPO_ROOT / "results" / "table2_runs" / "synthetic_official.csv")
    old = committed[committed["method"] == "baseline"].head(1).assign(
        train_seed=0, n_train=140, n_val=30, n_test=30, epochs=1, test_accuracy=0.5,
        test_mean_class_accuracy=0.5)
    detail = tmp_path / "table2_runs" / f"{TABLE2_STEM}.csv"
    detail.parent.mkdir()
    old.to_csv(detail, index=False)
    table2.main([*TABLE2, "--methods", "baseline", "--seeds", "1",
                 "--out", str(tmp_path / "table2.csv")])
    assert "1 of 2 runs" in capsys.readouterr().out
    summary = pd.read_csv(tmp_path / "table2.csv", dtype={"seeds": str})
    assert (summary.loc[0, "n_runs"], summary.loc[0, "seeds"]) == (2, "0 1")
    runs = pd.read_csv(detail)
    assert set(runs["protocol"]) == {"official"}
    assert list(runs["fold"]) == ["none", "none"]


# ---------------------------------------------------------------------------------------
# run_mfjle.py
# ---------------------------------------------------------------------------------------


def test_mfjle_merges_seeds_and_says_fresh_or_resumed(
    mfjle: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _quick_figures(monkeypatch, mfjle)
    out = tmp_path / "mfjle.csv"
    argv = [*MFJLE, "--out", str(out), "--checkpoint-dir", str(tmp_path / "ckpt")]
    mfjle.main([*argv, "--seeds", "0"])
    assert "resnet18 seed 0: started fresh" in capsys.readouterr().out
    mfjle.main([*argv, "--seeds", "1", "0"])
    console = capsys.readouterr().out
    assert "resnet18 seed 1: started fresh" in console
    assert "resnet18 seed 0: resumed from epoch 1 of 1" in console
    summary = pd.read_csv(out, dtype={"seeds": str})
    assert (len(summary), summary.loc[0, "n_runs"], summary.loc[0, "seeds"]) == (1, 2, "0 1")
    runs = pd.read_csv(tmp_path / "mfjle_runs" / f"{MFJLE_TAG}.csv")
    assert sorted(runs["seed"]) == [0, 1]
    assert (tmp_path / "figures" / f"mfjle_{MFJLE_TAG}_metrics.png").is_file()


def test_mfjle_other_deviations_get_other_rows_and_files(
    mfjle: ModuleType, tmp_path: Path,
) -> None:
    out = tmp_path / "mfjle.csv"
    mfjle.main([*MFJLE, "--seeds", "0", "--out", str(out)])
    mfjle.main([*MFJLE, "--seeds", "0", "--lr", "0.01", "--out", str(out)])
    summary = pd.read_csv(out)
    assert sorted(summary["deviations"]) == ["epochs=1; image_size=32",
                                             "epochs=1; image_size=32; lr=0.01"]
    assert list(summary["n_runs"]) == [1, 1]
    for tag in (MFJLE_TAG, MFJLE_TAG.replace("size32", "size32_lr0.01")):
        assert len(pd.read_csv(tmp_path / "mfjle_runs" / f"{tag}.csv")) == 1
        assert (tmp_path / "figures" / f"mfjle_{tag}_metrics.png").is_file()


@pytest.mark.parametrize(
    ("extra", "argument", "says"),
    [
        (["--models", "resnet18", "foo"], "--models", "invalid choice: 'foo'"),
        (["--out", "{tmp}"], "--out", "is a folder"),
        (["--out", "{other}"], "--out", "holds another table"),
        (["--device", "cuda:9"], "--device", "not on this machine"),
        (["--local-size", "16"], "--local-size", ">= 32"),
    ],
    ids=["model", "out-folder", "out-other-table", "device", "local-size"],
)
def test_mfjle_refuses_bad_arguments_before_training(
    mfjle: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str], extra: list[str], argument: str, says: str,
) -> None:
    _forbid(monkeypatch, mfjle, "load_dataset", "dataset_landmarks", "random_split_protocol")
    other = tmp_path / "other.csv"
    shutil.copyfile(REPO_ROOT / "results" / "table2.csv", other)
    extra = [e.format(tmp=tmp_path, other=other) for e in extra]
    with pytest.raises(SystemExit) as stop:
        mfjle.main([*MFJLE, "--seeds", "0", "--out", str(tmp_path / "mfjle.csv"), *extra])
    assert stop.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert f"argument {argument}" in err
    assert says in err
    assert _files(tmp_path) == {"other.csv"}


def test_mfjle_keeps_a_finished_model_when_the_next_one_fails(
    mfjle: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    _quick_figures(monkeypatch, mfjle)
    real = mfjle.random_split_protocol

    def second_fails(config, *args, **kwargs):
        if config.network.model == "mfjle":
            raise RuntimeError("killed in the second model")
        return real(config, *args, **kwargs)

    monkeypatch.setattr(mfjle, "random_split_protocol", second_fails)
    out = tmp_path / "mfjle.csv"
    argv = [*MFJLE[:-1], "resnet18", "mfjle", "--seeds", "0", "--out", str(out)]
    with pytest.raises(RuntimeError, match="second model"):
        mfjle.main(argv)
    assert list(pd.read_csv(out)["model"]) == ["resnet18"]
    assert list(pd.read_csv(tmp_path / "mfjle_runs" / f"{MFJLE_TAG}.csv")["model"]) == [
        "resnet18"]


def test_mfjle_does_not_adopt_older_rows_of_other_settings(
    mfjle: ModuleType, tmp_path: Path,
) -> None:
    """The committed ``synthetic_cpu.csv`` (10 epochs, 300 faces) was named as if it held
    the preset's settings; its rows must not join a run of the preset's settings."""
    args = mfjle.build_parser().parse_args(["--dataset", "synthetic", "--preset", "cpu"])
    args.preset_name = "cpu"
    committed = REPO_ROOT / "results" / "mfjle_runs" / "synthetic_cpu.csv"
    assert mfjle.older_identity(committed, args, epochs=30) == {
        "deviations": "unknown", "setup": "unknown"}
    args = mfjle.build_parser().parse_args(["--dataset", "jaffe", "--preset", "cpu"])
    args.preset_name = "cpu"
    committed = REPO_ROOT / "results" / "mfjle_runs" / "jaffe_cpu.csv"
    assert mfjle.older_identity(committed, args, epochs=30) == {
        "deviations": "none", "setup": "none"}


def test_table2_image_level_kfold_is_its_own_protocol(
    table2: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _quick_figures(monkeypatch, table2)
    out = tmp_path / "table2.csv"
    assert table2.main([*TABLE2, "--protocol", "kfold", "--group-by", "sample", "--folds", "2",
                        "--methods", "baseline", "--seeds", "0", "--out", str(out)]) == 0
    summary = pd.read_csv(out)
    assert summary["protocol"].tolist() == ["kfold_sample"]
    files = sorted(p.name for p in (tmp_path / "table2_runs").glob("*.csv"))
    assert files and all(name.startswith("synthetic_kfold_sample") for name in files)
    runs = pd.read_csv(tmp_path / "table2_runs" / f"{files[0]}")
    assert len(runs) == 2  # two folds


def test_replicate_plans_the_papers_rows_for_the_datasets_present(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    replicate = _load("replicate_paper")
    (tmp_path / "jaffe").mkdir()
    (tmp_path / "ferplus").mkdir()
    monkeypatch.setenv("FER_DATA_DIR", str(tmp_path))
    assert replicate.main(["--dry-run", "--seeds", "0"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert [ln.split("--methods")[0].split("run_table2.py ")[1].strip() for ln in lines] == [
        "--dataset jaffe --protocol kfold --group-by sample", "--dataset jaffe --protocol kfold",
        "--dataset ferplus --protocol official"]
    assert all("--epochs" not in ln and "--image-size" not in ln for ln in lines)
    monkeypatch.setattr("torch.cuda.is_available", lambda: False)
    assert replicate.main([]) == 2
    assert "no CUDA device here" in capsys.readouterr().err
    assert replicate.main(["--datasets", "ckplus", "--dry-run"]) == 2
    assert "no ckplus under" in capsys.readouterr().err
