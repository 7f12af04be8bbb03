"""Benchmark of MF-JLE: prints figures, asserts nothing.

1. **Step time ratio.** One training step of MF-JLE (six ResNet-18s) over one step of a
   single ResNet-18, on the same batch, with the real training step
   (:func:`fer_utils.training.step.multilabel_step`: augmentation, forward, loss, backward, Adam).
   The issue's target: six modules cost no more than 6.5 times one. Cases:

   - ``equal@S``: every module at S x S (paper B feeds the crops at the global size;
     the default S is 64 on a CPU, 224 on a GPU);
   - ``cpu-preset``: the CPU preset, global 64 and local 32.

   The median over ``--repeats`` timed steps after ``--warmup`` untimed ones.
2. **Crop extraction** (:func:`fer_utils.mfjle.crops.local_crops`): seconds per 1,000 images
   for the five crops, uint8 input, at the sizes of both presets.

The figures depend on the machine and on its load; the device, threads and precision are
printed with them. Run ``python scripts/benchmark_mfjle.py`` (or ``make benchmark``).
"""

from __future__ import annotations

import argparse
import statistics
import time

import pandas as pd
import torch

from fer_utils.data import load_dataset
from fer_utils.mfjle.crops import local_crops
from fer_utils.mfjle.labels import multilabel_view
from fer_utils.mfjle.presets import mfjle_preset
from fer_utils.provenance import run_info
from fer_utils.training.config import TrainConfig
from fer_utils.training.data import prepare_data
from fer_utils.training.loop import new_run_state
from fer_utils.training.runtime import epoch_generators, make_context
from fer_utils.training.step import multilabel_step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def step_seconds(config: TrainConfig, batch: int, warmup: int, repeats: int) -> float:
    """Median wall time of one training step of ``config`` on a batch of ``batch`` faces."""
    size = config.network.image_size
    ds = multilabel_view(load_dataset("synthetic", n=batch, image_size=size, seed=1))
    ctx = make_context(config, ds.classes)
    state = new_run_state(config, ds.num_classes, ctx)
    data = prepare_data(ds, config, ctx.device)
    gens = epoch_generators(config.runtime.seed, 0)
    times = []
    for i in range(warmup + repeats):
        _sync(ctx.device)
        start = time.perf_counter()
        multilabel_step(state.model, state.optimizer, data.images, data.targets, ctx, gens,
                        local_images=data.local_images)
        _sync(ctx.device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def crop_seconds_per_1000(size: int, out: int, channels: int, device: torch.device) -> float:
    """Seconds to cut the five crops of 1,000 uint8 images of ``size`` into ``out`` pixels."""
    images = torch.randint(0, 256, (1000, channels, size, size), dtype=torch.uint8, device=device)
    base = torch.tensor([[0.375, 0.45], [0.625, 0.45], [0.5, 0.6], [0.4, 0.72], [0.6, 0.72]])
    landmarks = (base * (size - 1)).expand(1000, 5, 2).contiguous().to(device)
    local_crops(images[:10], landmarks[:10], out)  # warm-up
    _sync(device)
    start = time.perf_counter()
    local_crops(images, landmarks, out)
    _sync(device)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--size", type=int, default=None,
                        help="module input size of the equal-size case (default 64 on a "
                             "CPU, 224 on a GPU)")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    info = run_info()
    gpu = torch.cuda.is_available()
    size = args.size or (224 if gpu else 64)
    print(f"device {info['device']}, torch {torch.__version__}, threads "
          f"{torch.get_num_threads()}, batch {args.batch}")

    rows = []
    cases = {f"equal@{size}": {"image_size": size, "local_size": size},
             "cpu-preset": {"image_size": 64, "local_size": 32}}
    for name, sizes in cases.items():
        cfg = mfjle_preset("cpu", amp="auto" if gpu else "off", batch_size=args.batch,
                           progress=False, **sizes)[0]
        single = step_seconds(cfg.replace(model="resnet18"),
                              args.batch, args.warmup, args.repeats)
        ensemble = step_seconds(cfg, args.batch, args.warmup, args.repeats)
        rows.append({"case": name, "global": sizes["image_size"], "local": sizes["local_size"],
                     "resnet18 step s": round(single, 4), "mfjle step s": round(ensemble, 4),
                     "ratio": round(ensemble / single, 2), "target": "<= 6.5"})
    print("\nTraining step, MF-JLE over one ResNet-18 (same batch)")
    print(pd.DataFrame(rows).to_string(index=False))

    device = torch.device("cuda" if gpu else "cpu")
    crop_rows = []
    for size_in, out in ((64, 32), (256, 64), (256, 224)):
        for channels in (1, 3):
            secs = crop_seconds_per_1000(size_in, out, channels, device)
            crop_rows.append({"input": size_in, "crop": out, "channels": channels,
                              "s per 1000 images": round(secs, 3),
                              "crops/s": round(5000 / secs)})
    print(f"\nFive-crop extraction on {device} (local_crops, one grid_sample call)")
    print(pd.DataFrame(crop_rows).to_string(index=False))


if __name__ == "__main__":
    main()
