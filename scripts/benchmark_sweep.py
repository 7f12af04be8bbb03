"""Benchmark of the parameter sweeps: prints figures, asserts nothing.

1. **Per-cell overhead.** One small training run (the package's ``train`` on synthetic
   faces) called directly in this process, against the same training run as a one-cell
   sweep of a notebook that does nothing else. The difference is what a sweep cell adds:
   starting the cell's process, papermill, the kernel, the imports, writing the executed
   notebook and the result file.
2. **Speed-up of 2 workers over 1** on a grid of ``--cells`` such cells (seeds 0, 1, ...),
   once with one torch thread per cell in both runs and once with the default threads
   (the machine's cores shared among the workers: 2 threads for 1 worker, 1 each for 2 on
   a 2-core machine). Target from the issue: >= 1.7x on 2 cores.

The training notebook is written to a temporary folder; nothing is left in the
repository. Figures depend on the machine and on its load: run it on an idle machine.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

from fer_utils.provenance import run_info
from fer_utils.runs.sweep import sweep

TRAIN_CODE = """\
from fer_utils.data import load_dataset
from fer_utils.mixfeature.presets import preset
from fer_utils.training.loop import train


def small_run(seed, epochs, n):
    ds = load_dataset("synthetic", n=n, image_size=32, seed=0)
    parts = [ds.subset(ds.split_indices(s)) for s in ("train", "val", "test")]
    config = preset("synthetic", image_size=32, epochs=epochs, batch_size=32, seed=seed,
                    progress=False, precise_bn_images=0, method="mixfeature")
    return train(config, *parts).summary()
"""


def write_notebook(folder: Path) -> Path:
    """A notebook that runs :data:`TRAIN_CODE` once and writes its result file."""
    nb = new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                 "language": "python"}
    params = new_code_cell("seeds = [0]\nepochs = 2\nn = 600\noutput_dir = None",
                           metadata={"tags": ["parameters"]})
    check = new_code_cell('from fer_utils.runs.record import RunRecord\n\n'
                          'record = RunRecord("benchmark", dict(seeds=seeds, epochs=epochs, n=n))')
    run = new_code_cell(TRAIN_CODE + "\nfor s in seeds:\n"
                        "    summary = small_run(s, epochs, n)\n"
                        '    record.add_metrics(seed=s, test_accuracy=summary["test_accuracy"])\n'
                        "record.write(output_dir)")
    nb.cells = [params, check, run]
    path = folder / "benchmark_sweep.ipynb"
    nbformat.write(nb, path)
    return path


def direct(epochs: int, n: int) -> float:
    """Seconds of the training run called in this process (imports already done)."""
    namespace: dict = {}
    exec(TRAIN_CODE, namespace)
    namespace["small_run"](0, 1, 200)  # warm-up: imports, first data generation
    start = time.perf_counter()
    namespace["small_run"](0, epochs, n)
    return time.perf_counter() - start


def timed_sweep(notebook: Path, out: Path, cells: int, workers: int, threads: int | None,
                epochs: int, n: int) -> float:
    """Wall seconds of a fresh sweep of ``cells`` seeds."""
    start = time.perf_counter()
    table = sweep(notebook, {"seeds": [[s] for s in range(cells)]}, out,
                  fixed={"epochs": epochs, "n": n}, workers=workers, threads=threads,
                  progress=False)
    seconds = time.perf_counter() - start
    if not (table["status"] == "ok").all():
        raise RuntimeError(f"a benchmark cell failed: see {out}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cells", type=int, default=8, help="cells of part 2; 0 skips it")
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--n", type=int, default=1000, help="synthetic images per run")
    args = parser.parse_args()
    info = run_info()
    print(f"device {info['device']}, commit {info['git_commit']}, {os.cpu_count()} cores",
          flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        notebook = write_notebook(root)
        os.environ["OMP_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)
        t_direct = direct(args.epochs, args.n)
        t_cell = timed_sweep(notebook, root / "one", 1, 1, 1, args.epochs, args.n)
        print(f"\n1. one training run, 1 thread: called directly {t_direct:.1f} s, "
              f"as a sweep cell {t_cell:.1f} s: overhead {t_cell - t_direct:.1f} s per cell",
              flush=True)
        if args.cells:
            print(f"\n2. {args.cells} cells, wall time:", flush=True)
        for threads in (1, None) if args.cells else ():
            one = timed_sweep(notebook, root / f"w1_{threads}", args.cells, 1, threads,
                              args.epochs, args.n)
            two = timed_sweep(notebook, root / f"w2_{threads}", args.cells, 2, threads,
                              args.epochs, args.n)
            label = "1 thread per cell" if threads else "default threads (cores / workers)"
            print(f"   {label}: 1 worker {one:.1f} s, 2 workers {two:.1f} s, "
                  f"speed-up {one / two:.2f}x", flush=True)


if __name__ == "__main__":
    main()
