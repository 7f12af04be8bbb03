"""Benchmark of the training step: prints figures, asserts nothing.

For each case (a model at a dataset's input size, with that preset's augmentation and
batch size) it trains on synthetic faces with the real training code
(:func:`fer_utils.training.loop.train_one_epoch`), baseline and MixFeature alternately, and prints:

- **images/s**: training images per second of wall time over whole epochs (median of
  ``--repeats`` epochs), and MixFeature's rate as a share of the baseline's;
- **time per phase** of a step, in percent of the step: ``index`` (drawing the batch
  from the uint8 tensor on the device), ``augment``, ``forward`` (backbone and head, for
  MixFeature also the head on the mixed features), ``mix`` (MixFeature synthesis),
  ``loss``, ``backward`` (including zeroing the gradients) and ``optimizer`` (the update);
- **outside f+b**: the share of the step spent outside the model's forward and backward
  and outside the optimizer update, i.e. index + augment + mix + loss. The optimizer step
  is part of training the model and is listed on its own, not counted as overhead.

Targets from the issue: MixFeature keeps >= 95 % of the baseline's rate; outside f+b
<= 10 %. Cases (defaults; ``--cases`` picks some):

- ``cnn3@64``: paper A's JAFFE model at the CPU-friendly 64x64, batch 16, basic aug.
- ``resnet18-small@48``: the FER+ preset (CIFAR-style stem, 48x48, batch 64, FER+ aug).
- ``resnet18@64``: the CK+ model at a CPU-friendly 64x64, batch 32, basic aug.

Figures depend on the machine and on its load; the script prints the device, the
threads and the precision it used. On a shared 2-core machine the images/s ratio of two
runs varied by about +-6 %, while the phase shares were stable to a few tenths of a
percent: read MixFeature's cost from its ``mix`` and ``loss`` shares.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass

import pandas as pd
import torch

from fer_utils.data import load_dataset
from fer_utils.mixfeature.presets import preset
from fer_utils.provenance import run_info
from fer_utils.training.config import TrainConfig
from fer_utils.training.data import prepare_data
from fer_utils.training.loop import new_run_state, train_one_epoch
from fer_utils.training.runtime import PhaseTimer, make_context

PHASES = ("index", "augment", "forward", "mix", "loss", "backward", "optimizer")


@dataclass
class Case:
    """One benchmark case: a name and the config overrides of a preset."""

    name: str
    dataset: str
    overrides: dict


CASES = {
    "cnn3@64": Case("cnn3@64", "jaffe", {"image_size": 64}),
    "resnet18-small@48": Case("resnet18-small@48", "ferplus", {}),
    "resnet18@64": Case("resnet18@64", "ckplus", {"image_size": 64}),
}


def setup(config: TrainConfig, n: int) -> tuple:
    """Model, optimizer, device data and step context for ``config`` on ``n`` faces."""
    data_set = load_dataset("synthetic", n=n, image_size=config.network.image_size, seed=1)
    ctx = make_context(config, data_set.classes)
    state = new_run_state(config, data_set.num_classes, ctx)
    return state.model, state.optimizer, prepare_data(data_set, config, ctx.device), ctx


def measure(case: Case, steps: int, repeats: int) -> list[dict]:
    """Rows of per-method figures for one case (methods alternate, epochs repeat)."""
    base = preset(case.dataset, progress=False, **case.overrides)
    n = base.optim.batch_size * steps
    runs = {}
    for method in ("baseline", "mixfeature"):
        cfg = base.replace(method=method)
        runs[method] = setup(cfg, n)
    rates: dict[str, list[float]] = {m: [] for m in runs}
    phases: dict[str, dict[str, float]] = {m: dict.fromkeys(PHASES, 0.0) for m in runs}
    for epoch in range(repeats + 1):  # epoch 0 warms up and is not counted
        for method, (model, opt, data, ctx) in runs.items():
            timer = ctx.timer = PhaseTimer(ctx.device)
            start = time.perf_counter()
            train_one_epoch(model, opt, data, ctx, epoch)
            seconds = time.perf_counter() - start
            if epoch == 0:
                continue
            rates[method].append(len(data) / seconds)
            for k, v in timer.seconds.items():
                phases[method][k] += v
    rows = []
    base_rate = statistics.median(rates["baseline"])
    for method in runs:
        total = sum(phases[method].values())
        share = {k: 100 * v / total for k, v in phases[method].items()}
        rate = statistics.median(rates[method])
        ctx = runs[method][3]
        rows.append(
            {
                "case": case.name,
                "method": method,
                "batch": base.optim.batch_size,
                "precision": str(ctx.amp_dtype or "float32").replace("torch.", ""),
                "images/s": round(rate, 1),
                "vs baseline %": round(100 * rate / base_rate, 1),
                **{f"{k} %": round(v, 1) for k, v in share.items()},
                "outside f+b %": round(
                    sum(share[k] for k in ("index", "augment", "mix", "loss")), 1
                ),
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--steps", type=int, default=20, help="batches per epoch")
    parser.add_argument("--repeats", type=int, default=3, help="timed epochs per method")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    info = run_info()
    print(f"device: {info['device']}  torch {info['torch']}  commit {info['git_commit']}")
    rows = []
    for name in args.cases:
        rows.extend(measure(CASES[name], args.steps, args.repeats))
        print(pd.DataFrame(rows[-2:]).to_string(index=False), flush=True)
    pd.set_option("display.width", 200)
    print("\nall cases:")
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
