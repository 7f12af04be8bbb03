"""The inference-time benchmark (``scripts/benchmark_inference.py``), issue 12 item 4.

Runs the script in-process at 32x32 with one repeat, into ``tmp_path``; checks the CSV's
columns and keys, that rows of another device are merged in rather than overwritten, and
that bad arguments are refused with an error naming the argument.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from fer_utils.provenance import REPO_ROOT
from fer_utils.published import MFJLE_INFERENCE_HARDWARE, MFJLE_INFERENCE_MS

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = ["--device", "cpu", "--sizes", "32", "--batches", "1", "2", "--repeats", "1",
        "--warmup", "0"]


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = REPO_ROOT / "scripts" / "benchmark_inference.py"
    spec = importlib.util.spec_from_file_location("_benchmark_inference", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tiny_run(bench: ModuleType, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """One tiny run written to a CSV; the CSV's path and the console output."""
    out = tmp_path_factory.mktemp("timing") / "timing.csv"
    buffer = io.StringIO()
    with contextlib.redirect_stdout(buffer):
        bench.main([*TINY, "--out", str(out)])
    return out, buffer.getvalue()


def test_published_figures_are_there() -> None:
    assert set(MFJLE_INFERENCE_MS) == {"resnet18", "mfjle"}
    assert all(ms > 0 for ms in MFJLE_INFERENCE_MS.values())
    assert "1060" in MFJLE_INFERENCE_HARDWARE


def test_run_writes_one_row_per_key(bench: ModuleType, tiny_run: tuple[Path, str]) -> None:
    out, console = tiny_run
    rows = pd.read_csv(out)
    assert list(rows.columns) == bench.COLUMNS
    keys = set(rows[["device", "model", "size", "batch"]].itertuples(index=False, name=None))
    assert keys == {("cpu", m, 32, b) for m in ("resnet18", "mfjle") for b in (1, 2)}
    assert not rows.duplicated(bench.KEY).any()
    assert (rows.ms_per_image_median >= rows.ms_per_image_min).all()
    assert (rows.ms_per_image_min > 0).all()
    assert (rows.repeats == 1).all() and (rows.threads == 1).all()
    mfjle = rows[rows.model == "mfjle"]
    assert (mfjle.crop_ms_per_image_median > 0).all() and (mfjle.local_size == 32).all()
    assert rows[rows.model == "resnet18"].crop_ms_per_image_median.isna().all()
    assert rows.command.str.contains("--sizes 32").all()
    assert rows.git_commit.notna().all() and rows.device_name.notna().all()
    assert "GTX 1060" in console and "10.52" in console


def test_rows_of_another_device_are_merged_not_overwritten(
    bench: ModuleType, tiny_run: tuple[Path, str], tmp_path: Path
) -> None:
    out = tmp_path / "timing.csv"
    out.write_bytes(tiny_run[0].read_bytes())
    first = pd.read_csv(out)
    gpu = first.copy()
    gpu["device"], gpu["device_name"] = "cuda", "Fake GPU"
    gpu["ms_per_image_median"] = 0.5
    bench.write_csv(gpu, out)
    both = pd.read_csv(out)
    assert len(both) == 2 * len(first)
    assert set(both.device) == {"cpu", "cuda"}
    cpu = both[both.device == "cpu"].sort_values(bench.KEY, ignore_index=True)
    pd.testing.assert_frame_equal(cpu, first.sort_values(bench.KEY, ignore_index=True))

    # Same key: the new row replaces the old one, nothing else changes.
    again = gpu.iloc[:1].copy()
    again["ms_per_image_median"] = 0.25
    bench.write_csv(again, out)
    final = pd.read_csv(out)
    assert len(final) == len(both)
    key = tuple(again.iloc[0][bench.KEY])
    hit = final[[tuple(r) == key for r in final[bench.KEY].itertuples(index=False)]]
    assert hit.ms_per_image_median.tolist() == [0.25]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--sizes", "0"], "--sizes"),
        (["--batches", "two"], "--batches"),
        (["--repeats", "0"], "--repeats"),
        (["--warmup", "-1"], "--warmup"),
        (["--threads", "0"], "--threads"),
        (["--models", "vgg"], "--models"),
        (["--device", "tpu"], "--device"),
    ],
)
def test_bad_arguments_are_refused(
    bench: ModuleType, argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        bench.main(argv)
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "error: argument" in err and named in err


def test_out_alone_means_the_results_file_and_a_foreign_csv_is_refused(
    bench: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert bench.build_parser().parse_args(["--out"]).out == bench.DEFAULT_OUT
    assert bench.DEFAULT_OUT == REPO_ROOT / "results" / "mfjle_timing.csv"
    foreign = tmp_path / "other.csv"
    foreign.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(SystemExit):
        bench.main([*TINY, "--out", str(foreign)])  # refused before anything is measured
    assert "error: argument --out" in capsys.readouterr().err
    assert foreign.read_text(encoding="utf-8") == "a,b\n1,2\n"


def test_cuda_is_refused_without_a_gpu(
    bench: ModuleType, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(bench.torch.cuda, "is_available", lambda: False)
    with pytest.raises(SystemExit):
        bench.main(["--device", "cuda"])
    assert "error: argument --device" in capsys.readouterr().err
