"""The Table 3 experiment cell (``notebooks/experiments/ldl_run``): shallow LDL methods on
LBP or CNN features, on the folds of ``kfold_protocol``, run by a sweep."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

import fer_utils.protocols as protocols
from fer_utils.data import load_dataset
from fer_utils.data.splits import stratified_kfold
from fer_utils.mixfeature.presets import preset
from fer_utils.provenance import REPO_ROOT
from fer_utils.runs.grid import GridError
from fer_utils.runs.record import read_result
from fer_utils.runs.sweep import count_cells, sweep

EXPERIMENTS = REPO_ROOT / "notebooks" / "experiments"
LDL_RUN = EXPERIMENTS / "ldl_run.ipynb"
MEASURES = ("chebyshev", "clark", "canberra", "kl_divergence", "cosine", "intersection")


@pytest.fixture(autouse=True)
def _quiet_kernels(monkeypatch: pytest.MonkeyPatch) -> None:
    """The kernels the sweeps start inherit this environment: no progress bars."""
    monkeypatch.setenv("TQDM_DISABLE", "1")
    monkeypatch.setenv("OMP_NUM_THREADS", "1")


def _run(grid: dict[str, list[Any]], out: Path, **fixed: Any) -> Any:
    """A one-worker, one-thread quick sweep of ldl_run; its table."""
    return sweep(LDL_RUN, grid, out, fixed={"quick": True, **fixed}, workers=1, threads=1,
                 progress=False)


def _result(out: Path) -> dict[str, Any]:
    """The result.json of the only cell of the sweep in ``out``."""
    (path,) = (out / "cells").glob("*/result.json")
    return read_result(path)


def _check_rows(table: Any, methods: list[str], folds: int) -> None:
    """One ok row per method and fold, accuracies in [0, 1], finite measures."""
    assert count_cells(table) == {"ok": 1}
    assert sorted(table.groupby(["method", "fold"]).size().items()) == sorted(
        ((m, k), 1) for m in methods for k in range(folds))
    assert table["test_accuracy"].between(0, 1).all()
    assert np.isfinite(table[list(MEASURES)].to_numpy(dtype=float)).all()
    assert (table["n_train"] > 0).all() and (table["n_test"] > 0).all()


def test_lbp_features_give_a_row_per_method_and_fold(tmp_path: Path) -> None:
    table = _run({"features": ["lbp"]}, tmp_path, methods=["aa_knn", "sa_bfgs"])
    _check_rows(table, ["aa_knn", "sa_bfgs"], folds=2)
    # every image tested once: the two folds' test parts add up to the 160 quick faces
    assert table.groupby("method")["n_test"].sum().eq(160).all()
    config = _result(tmp_path)["config"]
    assert config["n_neutral_dropped"] == 0 and len(config["classes"]) == 8
    assert config["feature_dim"] == 4 * 4 * 59  # 4 x 4 cells of LBP^u2_(8,2): 59 codes each
    assert config["lbp_operator"] == {"points": 8, "radius": 2, "method": "nri_uniform"}


def test_jaffe_neutral_faces_are_left_out(tmp_path: Path, jaffe_fixture: Any) -> None:
    _, written = jaffe_fixture
    ds = load_dataset("jaffe", root=written.root)
    neutral = int((ds.labels == ds.classes.index("neutral")).sum())
    assert neutral > 0
    table = _run({"dataset": ["jaffe"]}, tmp_path, data_root=str(written.root),
                 features="cnn_mixfeature", methods=["aa_knn"])
    # MixFeature's own CNN (trained on all seven classes) is scored on the six
    _check_rows(table, ["aa_knn", "cnn_mixfeature"], folds=2)
    assert table.groupby("method")["n_test"].sum().eq(len(ds) - neutral).all()
    assert (table["n_train"] + table["n_test"]).eq(len(ds) - neutral).all()
    config = _result(tmp_path)["config"]
    assert config["n_neutral_dropped"] == neutral
    assert config["cnn_method"] == "mixfeature"
    assert config["train_config"]["method"] == "mixfeature"
    assert config["classes"] == [c for c in ds.classes if c != "neutral"]


def _check_namespace(notebook: Path, **parameters: Any) -> dict[str, Any]:
    """The namespace a notebook's parameters cell plus ``parameters`` plus check cell leave."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    (at,) = [i for i, c in enumerate(cells) if "parameters" in c["metadata"].get("tags", [])]
    check = next(c for c in cells[at + 1:] if c["cell_type"] == "code")
    namespace: dict[str, Any] = {}
    exec("".join(cells[at]["source"]), namespace)
    namespace.update(parameters)
    exec("".join(check["source"]), namespace)
    return namespace


@pytest.mark.parametrize(("dataset", "quick"), [("jaffe", False), ("synthetic", True)])
def test_the_cnn_is_the_ablation_sweeps_baseline(dataset: str, quick: bool) -> None:
    keys = {}
    for features, method in (("cnn", "baseline"), ("cnn_mixfeature", "mixfeature")):
        ours = _check_namespace(LDL_RUN, dataset=dataset, features=features, budget="cpu",
                                quick=quick, checkpoint_dir="ckpt")["config"]
        theirs = _check_namespace(EXPERIMENTS / "protocol_run.ipynb", dataset=dataset,
                                  method=method, budget="cpu", quick=quick,
                                  checkpoint_dir="ckpt")["config"]
        assert ours.key() == theirs.key()  # same run names, so the same checkpoints
        assert ours.method == method
        keys[method] = ours.key()
    assert keys["baseline"] != keys["mixfeature"]


def test_cnn_features_and_the_cnn_read_back_from_its_checkpoints(tmp_path: Path) -> None:
    ckpt = tmp_path / "ckpt"
    first = _run({"features": ["cnn"]}, tmp_path / "a", methods=["aa_knn"],
                 checkpoint_dir=str(ckpt))
    _check_rows(first, ["aa_knn", "cnn_baseline"], folds=2)
    runs = sorted(p.name for p in ckpt.iterdir())
    assert len(runs) == 2 and all(r.startswith("kfold-sample-") for r in runs)
    second = _run({"features": ["cnn"]}, tmp_path / "b", methods=["aa_knn"],
                  checkpoint_dir=str(ckpt))
    cnn = [t[t["method"] == "cnn_baseline"].sort_values("fold") for t in (first, second)]
    assert cnn[0]["cnn_epochs_read_back"].eq(0).all()  # trained
    assert cnn[1]["cnn_epochs_read_back"].eq(1).all()  # its one epoch read back
    assert sorted(p.name for p in ckpt.iterdir()) == runs
    cols = ["fold", "method", "test_accuracy", *MEASURES]
    a, b = (t.sort_values(["fold", "method"])[cols].reset_index(drop=True)
            for t in (first, second))
    assert a.equals(b) or np.allclose(a[cols[2:]], b[cols[2:]])
    assert cnn[0]["cnn_protocol_accuracy"].between(0, 1).all()


@pytest.mark.parametrize("group_by", ["sample", "subject"])
def test_kfold_parts_are_the_folds_of_kfold_protocol(
    group_by: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    ds = load_dataset("synthetic", n=200, seed=0)
    given: list[tuple[np.ndarray, ...]] = []

    def fake_run(config: Any, dataset: Any, parts: tuple, name: str, keep: bool) -> Any:
        given.append(parts)
        return SimpleNamespace(summary=lambda: {}, provenance={})

    monkeypatch.setattr(protocols, "_run", fake_run)  # no training: record what it gets
    table = protocols.kfold_protocol(preset("synthetic"), ds, n_folds=4, seed=3,
                                     group_by=group_by).table
    parts = protocols.kfold_parts(ds, n_folds=4, seed=3, group_by=group_by)
    assert len(parts) == len(given) == len(table) == 4
    for k, ((tr, va, te), theirs) in enumerate(zip(parts, given, strict=True)):
        assert all(np.array_equal(a, b) for a, b in zip((tr, va, te), theirs, strict=True))
        assert (len(tr), len(va), len(te)) == tuple(table.loc[k, ["n_train", "n_val", "n_test"]])
        everything = np.concatenate([tr, va, te])
        assert len(np.unique(everything)) == len(everything) == len(ds)  # disjoint, covering
    tests = np.concatenate([te for _, _, te in parts])
    assert np.array_equal(np.sort(tests), np.arange(len(ds)))  # each image tested once
    if group_by == "sample":
        expected = stratified_kfold(ds.labels.numpy(), 4, 3)
        assert all(np.array_equal(te, e) for (_, _, te), (_, e) in zip(parts, expected,
                                                                        strict=True))
    else:
        subjects = np.asarray(ds.subjects)
        for tr, va, te in parts:
            assert not set(subjects[te]) & set(subjects[np.concatenate([tr, va])])
            assert not set(subjects[va]) & set(subjects[tr])


def test_a_bad_parameter_is_refused_before_anything_runs(tmp_path: Path) -> None:
    with pytest.raises(GridError, match="parameter features='hog' is not one of"):
        _run({"features": ["hog"]}, tmp_path)
    with pytest.raises(GridError, match="parameter methods entry='knn' is not one of"):
        _run({"methods": [["aa_knn", "knn"]]}, tmp_path)
    assert not (tmp_path / "cells").exists()


def test_a_subset_too_small_for_stratified_folds_names_max_images(tmp_path: Path) -> None:
    table = _run({"max_images": [20]}, tmp_path, folds=10)  # 20 of 160 faces, 8 classes
    assert count_cells(table) == {"failed": 1}
    error = table["error"].dropna().iloc[0]
    assert "parameter max_images=20 leaves fewer than folds=10 images of" in error
    assert "raise max_images or lower folds" in error
