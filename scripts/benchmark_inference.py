"""Inference time per image of a single ResNet-18 and of MF-JLE: prints figures, asserts nothing.

Paper B reports a running time per image for its single ResNet-18 and for MF-JLE on a
GTX 1060 (:data:`fer_utils.published.MFJLE_INFERENCE_MS`); this script measures ours.

**What is timed.** One forward pass of a batch, in eval mode under
``torch.inference_mode()``, in float32, on random inputs already on the device:

- ``resnet18``: paper B's baseline, one ResNet-18 built as the trainer builds it
  (:func:`fer_utils.training.loop.init_model` with paper B's preset and ``model="resnet18"``:
  RGB, ImageNet input normalisation inside the model, six labels as on RAF-ML), on
  ``N x 3 x S x S`` images;
- ``mfjle``: the six-module ensemble (:class:`fer_utils.mfjle.model.MFJLE`), on the
  ``N x 3 x S x S`` images and their ``N x 5 x 3 x S x S`` local crops: at paper B's
  settings the crops enter their modules at the global size (``local_size = S``).

``ms_per_image`` is the batch's wall time over the batch size, in milliseconds: the median
and the minimum over ``--repeats`` timed passes after ``--warmup`` untimed ones. On a GPU
the device is synchronised before and after each pass, so the figure includes the
kernels' run time, not just their launch. Not included: reading and decoding the image,
face and landmark detection (MTCNN in paper B) and the crop extraction, which has its own
column for MF-JLE (``crop_ms_per_image_median``: the five crops cut by
:func:`fer_utils.mfjle.crops.local_crops` from uint8 images of ``S x S``, resized to
``S x S``, on the same device).

**How to read it.** Batch 1 is the latency of one face; batch 128 (paper B's batch size)
is the throughput cost per face when faces arrive in bulk. Six ResNet-18s do six times the
arithmetic of one, so on a saturated device MF-JLE should cost about six times the single
network per image; paper B prints the same figure for both, which only a device that the
single network leaves mostly idle (or a measurement dominated by something other than the
forward pass) would give. CPU figures depend strongly on the number of threads and on
other load on the machine; both the threads and the device are recorded with each row.
cuDNN's autotuner is left at torch's default (off).

**Output.** A table on the console, beside paper B's figures; with ``--out`` the rows are
merged into a CSV (default ``results/mfjle_timing.csv``), one row per (device, device
name, model, size, batch): rows of other devices, models, sizes or batches already in the
file are kept, rows with the same key are replaced. Example:

    python scripts/benchmark_inference.py --device cpu --threads 2 --out
    python scripts/benchmark_inference.py --device cuda --repeats 50 --out
"""

from __future__ import annotations

import argparse
import platform
import shlex
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from fer_utils.files import atomic_write_text
from fer_utils.mfjle.crops import local_crops
from fer_utils.mfjle.model import NUM_LOCAL
from fer_utils.mfjle.presets import mfjle_preset
from fer_utils.provenance import REPO_ROOT, run_info
from fer_utils.published import MFJLE_INFERENCE_HARDWARE, MFJLE_INFERENCE_MS
from fer_utils.training.loop import init_model

#: The models this script times, in the order they are printed.
MODELS: tuple[str, ...] = ("resnet18", "mfjle")

#: Number of labels of the models' heads: RAF-ML's six emotions (paper B's main dataset).
NUM_LABELS: int = 6

#: The CSV's key columns: a row is replaced only by a new row with the same key.
KEY: list[str] = ["device", "device_name", "model", "size", "batch"]

#: The CSV's columns, in order.
COLUMNS: list[str] = [
    *KEY, "local_size", "ms_per_image_median", "ms_per_image_min",
    "crop_ms_per_image_median", "warmup", "repeats", "threads", "torch", "git_commit",
    "time_utc", "command",
]

DEFAULT_OUT: Path = REPO_ROOT / "results" / "mfjle_timing.csv"


def cpu_name() -> str:
    """The CPU's model name from ``/proc/cpuinfo``, else what :mod:`platform` says."""
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.lower().startswith("model name") and ":" in line:
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown CPU"


def device_label(device: torch.device) -> str:
    """The name of ``device``: the GPU's name from torch, or the CPU model."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return cpu_name()


def build(model: str, size: int, device: torch.device) -> nn.Module:
    """``model`` (``"resnet18"`` or ``"mfjle"``) as paper B's preset builds it, at ``size``."""
    config = mfjle_preset("paper", image_size=size, local_size=size)[0]
    if model == "resnet18":
        config = config.replace(model="resnet18")
    return init_model(config, NUM_LABELS).to(device).eval()


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], Any], device: torch.device, warmup: int,
              repeats: int) -> list[float]:
    """Wall times (seconds) of ``repeats`` calls of ``fn`` after ``warmup`` untimed ones."""
    times = []
    for i in range(warmup + repeats):
        _sync(device)
        start = time.perf_counter()
        fn()
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def measure(net: nn.Module, model: str, size: int, batch: int, device: torch.device,
            warmup: int, repeats: int) -> dict[str, Any]:
    """The timing columns of ``net`` (``model`` built by :func:`build` at ``size``)."""
    gen = torch.Generator().manual_seed(0)
    images = torch.rand(batch, 3, size, size, generator=gen).to(device)
    if model == "mfjle":
        crops = torch.rand(batch, NUM_LOCAL, 3, size, size, generator=gen).to(device)
        args: tuple[torch.Tensor, ...] = (images, crops)
    else:
        args = (images,)
    with torch.inference_mode():
        times = time_call(lambda: net(*args), device, warmup, repeats)
    row: dict[str, Any] = {
        "model": model, "size": size, "batch": batch,
        "local_size": size if model == "mfjle" else None,
        "ms_per_image_median": 1000 * statistics.median(times) / batch,
        "ms_per_image_min": 1000 * min(times) / batch,
        "crop_ms_per_image_median": None,
    }
    if model == "mfjle":
        row["crop_ms_per_image_median"] = crop_ms_per_image(size, batch, device, warmup, repeats)
    return row


def crop_ms_per_image(size: int, batch: int, device: torch.device, warmup: int,
                      repeats: int) -> float:
    """Median milliseconds per image to cut the five ``size`` crops from uint8 ``size`` images."""
    gen = torch.Generator().manual_seed(1)
    images = torch.randint(0, 256, (batch, 3, size, size), dtype=torch.uint8, generator=gen)
    base = torch.tensor([[0.375, 0.45], [0.625, 0.45], [0.5, 0.6], [0.4, 0.72], [0.6, 0.72]])
    landmarks = (base * (size - 1)).expand(batch, NUM_LOCAL, 2).contiguous()
    images, landmarks = images.to(device), landmarks.to(device)
    with torch.inference_mode():
        times = time_call(lambda: local_crops(images, landmarks, size), device, warmup, repeats)
    return 1000 * statistics.median(times) / batch


def merge_rows(old: pd.DataFrame | None, new: pd.DataFrame) -> pd.DataFrame:
    """``old`` with the rows of ``new`` put in: same key (:data:`KEY`) replaced, others kept.

    The result is sorted by the key; columns that only ``old`` has are kept after
    :data:`COLUMNS`.
    """
    if old is None or old.empty:
        merged = new.copy()
    else:
        missing = [k for k in KEY if k not in old.columns]
        if missing:
            raise ValueError(f"the existing timing file lacks the key columns {missing}")
        new_keys = set(new[KEY].astype(str).itertuples(index=False, name=None))
        keep = [k not in new_keys for k in old[KEY].astype(str).itertuples(index=False, name=None)]
        merged = pd.concat([old[keep], new], ignore_index=True)
    extra = [c for c in merged.columns if c not in COLUMNS]
    merged = merged.reindex(columns=[*COLUMNS, *extra])
    merged["local_size"] = pd.to_numeric(merged["local_size"]).astype("Int64")
    return merged.sort_values(KEY, kind="stable", ignore_index=True)


def write_csv(rows: pd.DataFrame, path: Path) -> pd.DataFrame:
    """Merge ``rows`` into the CSV at ``path`` (created if absent), atomically; the result."""
    old = pd.read_csv(path) if path.exists() and path.stat().st_size > 0 else None
    merged = merge_rows(old, rows)
    atomic_write_text(merged.to_csv(index=False, float_format="%.4f"), path)
    return merged


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _non_negative(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}")
    return value


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", nargs="+", choices=MODELS, default=list(MODELS))
    parser.add_argument("--sizes", nargs="+", type=_positive, default=[224],
                        help="input sizes S (global and local), default 224")
    parser.add_argument("--batches", nargs="+", type=_positive, default=[1, 128],
                        help="batch sizes, default 1 and 128")
    parser.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                        help="auto: cuda when available, else cpu")
    parser.add_argument("--threads", type=_positive, default=None,
                        help="torch CPU threads (default: torch's own choice)")
    parser.add_argument("--warmup", type=_non_negative, default=3)
    parser.add_argument("--repeats", type=_positive, default=10)
    parser.add_argument("--out", type=Path, nargs="?", const=DEFAULT_OUT, default=None,
                        help="merge the rows into this CSV (--out alone: "
                             "results/mfjle_timing.csv); without --out nothing is written")
    return parser


def _device(parser: argparse.ArgumentParser, name: str) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        parser.error("argument --device: cuda was asked for, but torch sees no CUDA GPU")
    return torch.device(name)


def _check_out(parser: argparse.ArgumentParser, path: Path | None) -> None:
    """Refuse an ``--out`` that cannot be merged into, before anything is measured."""
    if path is None:
        return
    if path.is_dir():
        parser.error(f"argument --out: {path} is a folder; give a CSV file")
    if path.exists() and path.stat().st_size > 0:
        try:
            columns = pd.read_csv(path, nrows=0).columns
        except (OSError, ValueError) as err:
            parser.error(f"argument --out: {path} cannot be read as a CSV: {err}")
        missing = [k for k in KEY if k not in columns]
        if missing:
            parser.error(f"argument --out: {path} lacks the key columns {missing}")


def _print_table(rows: pd.DataFrame) -> None:
    """The rows on the console, with MF-JLE's cost over ResNet-18's and paper B's figures."""
    table = rows[["model", "size", "batch", "ms_per_image_median", "ms_per_image_min",
                  "crop_ms_per_image_median"]].copy()
    single = rows[rows.model == "resnet18"].set_index(["size", "batch"]).ms_per_image_median
    table["x resnet18"] = [
        round(r.ms_per_image_median / single[(r.size, r.batch)], 2)
        if (r.size, r.batch) in single.index else float("nan")
        for r in rows.itertuples()
    ]
    table["paper B ms"] = [MFJLE_INFERENCE_MS[m] if s == 224 else float("nan")
                           for m, s in zip(rows.model, rows["size"], strict=True)]
    print(table.round(3).to_string(index=False, na_rep="-"))
    figures = ", ".join(f"{m} {ms} ms" for m, ms in MFJLE_INFERENCE_MS.items())
    print(f"\nPaper B, per image at 224x224 on a {MFJLE_INFERENCE_HARDWARE} (batch not "
          f"stated): {figures}.")


def main(argv: Sequence[str] | None = None) -> pd.DataFrame:
    """Run the benchmark; the measured rows (all columns of :data:`COLUMNS`)."""
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser.parse_args(argv)
    device = _device(parser, args.device)
    _check_out(parser, args.out)
    threads_before = torch.get_num_threads()
    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        info = run_info()
        common = {
            "device": device.type, "device_name": device_label(device),
            "warmup": args.warmup, "repeats": args.repeats,
            "threads": torch.get_num_threads(), "torch": torch.__version__,
            "git_commit": info["git_commit"], "time_utc": info["time_utc"],
            "command": shlex.join(["python", "scripts/benchmark_inference.py", *argv]),
        }
        print(f"{common['device']} ({common['device_name']}), torch {common['torch']}, "
              f"{common['threads']} threads, float32, warmup {args.warmup}, "
              f"repeats {args.repeats}", flush=True)
        measured = []
        for size in dict.fromkeys(args.sizes):
            for model in (m for m in MODELS if m in args.models):
                net = build(model, size, device)
                for batch in dict.fromkeys(args.batches):
                    row = measure(net, model, size, batch, device, args.warmup, args.repeats)
                    print(f"  {model} {size}x{size} batch {batch}: "
                          f"{row['ms_per_image_median']:.3f} ms/image", flush=True)
                    measured.append({**common, **row})
    finally:
        torch.set_num_threads(threads_before)
    rows = pd.DataFrame(measured).reindex(columns=COLUMNS)
    rows["local_size"] = rows["local_size"].astype("Int64")
    print()
    _print_table(rows)
    if args.out is not None:
        merged = write_csv(rows, args.out)
        print(f"\n{len(rows)} rows merged into {args.out} ({len(merged)} rows in all)")
    return rows


if __name__ == "__main__":
    main()
