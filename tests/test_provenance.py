"""Results tables: rows are replaced by key, others kept (fer_utils.provenance)."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pandas as pd
import pytest

import fer_utils.provenance as provenance
from fer_utils.provenance import cpu_model, device_name, git_commit, run_info
from fer_utils.runs.results import update_results_table


def test_update_results_table_replaces_rows_by_key_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "table.csv"
    first = pd.DataFrame({"dataset": ["a", "b"], "method": ["x", "x"], "acc": [1.0, 2.0]})
    update_results_table(path, first, ["dataset", "method"])
    second = pd.DataFrame({"dataset": ["b", "c"], "method": ["x", "x"], "acc": [5.0, 6.0],
                           "note": ["new", "new"]})
    out = update_results_table(path, second, ["dataset", "method"])
    back = pd.read_csv(path)
    assert list(back["dataset"]) == ["a", "b", "c"]
    assert list(back["acc"]) == [1.0, 5.0, 6.0]
    assert back["note"].isna().tolist() == [True, False, False]
    assert out.equals(back)


def test_run_info_records_commit_device_and_time() -> None:
    info = run_info()
    assert {"git_commit", "device", "time_utc", "torch", "numpy"} <= set(info)


def test_the_commit_is_dirty_for_changed_code_not_for_rewritten_result_tables(
    tmp_path: Path,
) -> None:
    def git(*args: str) -> None:
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
                       cwd=tmp_path, check=True, capture_output=True)

    (tmp_path / "results").mkdir()
    (tmp_path / "results" / "table4.csv").write_text("a\n1\n", encoding="utf-8")
    (tmp_path / "code.py").write_text("x = 1\n", encoding="utf-8")
    git("init", "-q")
    git("add", ".")
    git("commit", "-qm", "first")
    clean = git_commit(root=tmp_path)
    assert len(clean) == 40 and "+" not in clean
    (tmp_path / "results" / "table4.csv").write_text("a\n2\n", encoding="utf-8")
    (tmp_path / "new.py").write_text("untracked\n", encoding="utf-8")
    assert git_commit(root=tmp_path) == clean  # a sweep rewrote a table: still clean
    (tmp_path / "code.py").write_text("x = 2\n", encoding="utf-8")
    assert git_commit(root=tmp_path) == clean + "+dirty"
    assert git_commit(root=tmp_path / "nowhere") == "unknown"


def test_the_cpu_is_named_by_its_model_where_proc_cpuinfo_has_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nvendor_id\t: AuthenticAMD\n"
                    "model name\t: AMD  EPYC 7B13\nflags\t: fpu\n", encoding="utf-8")
    real = provenance.Path
    monkeypatch.setattr(provenance, "Path",
                        lambda p: info if p == "/proc/cpuinfo" else real(p))
    assert cpu_model() == "AMD EPYC 7B13"
    assert device_name().startswith("cpu:AMD EPYC 7B13 x") or device_name().startswith("cuda")
    monkeypatch.setattr(provenance, "Path",
                        lambda p: tmp_path / "missing")
    assert cpu_model() == ""


def test_update_results_table_reads_a_missing_key_column_as_none(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    pd.DataFrame({"dataset": ["a"], "acc": [1.0]}).to_csv(path, index=False)
    new = pd.DataFrame({"dataset": ["a", "a"], "deviations": ["none", "lr=0.01"],
                        "acc": [2.0, 3.0]})
    out = update_results_table(path, new, ["dataset", "deviations"])
    assert out["acc"].tolist() == [3.0, 2.0]  # the old "none" row was replaced
