"""Benchmark of the data layer: prints figures, asserts nothing (``make benchmark``).

- synthetic generator throughput (images/s) at 48x48 and 256x256;
- FER+ first load (decoding every PNG, no cache) and cached load, in seconds, when a FER+
  copy is found under ``$FER_DATA_DIR/ferplus`` (or ``--ferplus ROOT``).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import torch

from fer_utils.data import load_dataset
from fer_utils.data.synthetic import generate_faces
from fer_utils.provenance import run_info


def synthetic_rate(n: int, image_size: int, repeats: int) -> float:
    """Best-of-``repeats`` images/s of :func:`generate_faces`."""
    best = float("inf")
    for r in range(repeats):
        start = time.perf_counter()
        generate_faces(n=n, image_size=image_size, seed=r)
        best = min(best, time.perf_counter() - start)
    return n / best


def ferplus_load_times(root: Path) -> tuple[float, float, int]:
    """(first load s, cached load s, images) for FER+ with a fresh, temporary cache."""
    with tempfile.TemporaryDirectory() as cache_dir:
        start = time.perf_counter()
        ds = load_dataset("ferplus", root=root, cache_dir=cache_dir)
        first = time.perf_counter() - start
        start = time.perf_counter()
        load_dataset("ferplus", root=root, cache_dir=cache_dir)
        cached = time.perf_counter() - start
    return first, cached, len(ds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--ferplus", type=Path, default=None, help="FER+ root folder")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()

    info = run_info()
    print(f"device: {info['device']} | torch threads: {torch.get_num_threads()}")
    print(f"commit: {info['git_commit']}")
    for size, n in ((48, 5000), (256, 500)):
        rate = synthetic_rate(n, size, args.repeats)
        print(f"synthetic generator {size}x{size}: {rate:,.0f} images/s (n={n}, best of "
              f"{args.repeats})")

    root = args.ferplus
    if root is None and os.environ.get("FER_DATA_DIR"):
        root = Path(os.environ["FER_DATA_DIR"]) / "ferplus"
    if root is None or not root.exists():
        print("FER+ not found (set FER_DATA_DIR or pass --ferplus): load times skipped")
        return
    first, cached, n = ferplus_load_times(root)
    print(f"FER+ first load (decode {n} kept images, write cache): {first:.1f} s")
    print(f"FER+ cached load: {cached:.2f} s")


if __name__ == "__main__":
    main()
