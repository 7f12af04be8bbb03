"""Where and how a run executes: device, precision, seeds, determinism, timing, progress.

Introduced in notebook 04 (training). Everything here is plumbing the training step
needs but a reader of the step does not: :class:`StepContext` bundles the resolved
device, autocast precision and memory layout (and MixFeature's wheel distances) so that
:mod:`fer_utils.training.step` can stay short.

**Randomness.** Model initialisation uses ``seed``; everything random in epoch ``e``
(shuffling, augmentation, MixFeature groups, precise batch-norm) comes from fresh
generators seeded from ``(seed, e)`` (:func:`epoch_generators`). An epoch therefore never
depends on how the previous epochs were run, which is what makes resuming exact.

**Determinism.** ``deterministic=True`` (the default) switches on
``torch.use_deterministic_algorithms`` (``warn_only``) for the duration of a run. On the
CPU the same seed then gives bit-identical histories and test numbers (for the same
torch version and thread count). On CUDA runs are close but not guaranteed identical.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from fer_utils.mixfeature.wheel import distance_matrix
from fer_utils.training.config import TrainConfig


def resolve_device(spec: str = "auto") -> torch.device:
    """The torch device for ``spec``: ``"auto"`` picks CUDA, then Apple MPS, then CPU.

    Introduced in notebook 04. A device this machine does not have (``"cuda:7"`` on a
    machine with one GPU, ``"cuda"`` or ``"mps"`` on a CPU-only one) raises ``ValueError``
    listing the devices there are.
    """
    if spec != "auto":
        device = torch.device(spec)
        if device.type not in ("cpu", "meta") and device not in available_devices():
            names = ", ".join(str(d) for d in available_devices())
            raise ValueError(f"device {spec!r} is not on this machine; available: {names}")
        return device
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def available_devices() -> list[torch.device]:
    """The devices torch can use here: ``cpu``, every ``cuda:N`` and ``mps`` when present."""
    found = [torch.device("cpu")]
    found += [torch.device("cuda", i) for i in range(torch.cuda.device_count())]
    if torch.cuda.is_available():
        found.append(torch.device("cuda"))
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        found += [torch.device("mps"), torch.device("mps", 0)]
    return found


def cpu_has_native_bf16() -> bool:
    """Whether this CPU has bfloat16 instructions (Intel AMX or AVX512-BF16).
    """
    cpu = torch.cpu
    checks = ("_is_amx_tile_supported", "_is_avx512_bf16_supported")
    return any(getattr(cpu, name, lambda: False)() for name in checks)


def resolve_amp(amp: str, device: torch.device) -> torch.dtype | None:
    """The autocast dtype for ``amp`` on ``device`` (``None`` = full float32).

    See :class:`TrainConfig` ``amp`` for the ``"auto"`` rule.
    """
    if amp == "off":
        return None
    if amp == "bf16":
        return torch.bfloat16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else None
    if device.type == "cpu":
        return torch.bfloat16 if cpu_has_native_bf16() else None
    return None


def resolve_channels_last(setting: bool | str, amp_dtype: torch.dtype | None) -> bool:
    """Whether to use the channels-last memory layout (``"auto"``: with bf16 autocast)."""
    if setting == "auto":
        return amp_dtype is not None
    return bool(setting)


def derive_seed(*parts: int) -> int:
    """A 63-bit seed mixed from integers with numpy's ``SeedSequence`` (stable everywhere).
    """
    state = np.random.SeedSequence([int(p) for p in parts]).generate_state(2, dtype=np.uint32)
    return (int(state[0]) << 31) ^ int(state[1])


#: The independent random streams of one epoch.
EPOCH_STREAMS: tuple[str, ...] = ("shuffle", "augment", "mix", "bn")


def epoch_generators(seed: int, epoch: int) -> dict[str, torch.Generator]:
    """Fresh CPU generators for epoch ``epoch`` (0-based), one per :data:`EPOCH_STREAMS`.

    Each depends only on ``(seed, epoch, stream)``, so a
    resumed run draws exactly what an uninterrupted run draws, and changing e.g. the
    augmentation does not change the batch order.
    """
    return {
        name: torch.Generator().manual_seed(derive_seed(seed, epoch, i))
        for i, name in enumerate(EPOCH_STREAMS)
    }


@contextlib.contextmanager
def deterministic_algorithms(enabled: bool) -> Iterator[None]:
    """Switch torch's deterministic algorithms on (warn-only) for the ``with`` block.

    The previous setting is restored afterwards.
    """
    before = torch.are_deterministic_algorithms_enabled()
    before_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    before_bench = torch.backends.cudnn.benchmark
    if enabled:
        torch.use_deterministic_algorithms(True, warn_only=True)
        torch.backends.cudnn.benchmark = False
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(before, warn_only=before_warn)
        torch.backends.cudnn.benchmark = before_bench


class PhaseTimer:
    """Adds up wall time per named phase of a training step (used by the benchmark).

    On CUDA it synchronises around each phase so that the
    times are the device's, not the launch times.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.seconds: dict[str, float] = {}

    def _sync(self) -> None:
        if self.device.type == "cuda":
            torch.cuda.synchronize(self.device)

    @contextlib.contextmanager
    def phase(self, name: str) -> Iterator[None]:
        """Time the ``with`` block and add it to ``seconds[name]``."""
        self._sync()
        start = time.perf_counter()
        try:
            yield
        finally:
            self._sync()
            self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start


@dataclass
class StepContext:
    """What every training step of a run needs besides the batch.

    ``timer`` is ``None`` in training; the benchmark sets a :class:`PhaseTimer` to learn
    where a step spends its time (:meth:`phase`).
    """

    config: TrainConfig
    device: torch.device
    amp_dtype: torch.dtype | None
    channels_last: bool
    distances: torch.Tensor | None  # wheel distances (MixFeature only), on the device
    timer: PhaseTimer | None = None

    def phase(self, name: str) -> contextlib.AbstractContextManager[Any]:
        """``timer.phase(name)`` when timing, else a no-op."""
        return contextlib.nullcontext() if self.timer is None else self.timer.phase(name)

    def autocast(self) -> contextlib.AbstractContextManager[Any]:
        """Autocast to ``amp_dtype`` on the device, or a no-op."""
        if self.amp_dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=self.amp_dtype)

    def to_layout(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` in the run's memory layout."""
        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x


def make_context(config: TrainConfig, classes: Sequence[str]) -> StepContext:
    """Resolve device, precision, memory layout and wheel distances for a run.
    """
    device = resolve_device(config.runtime.device)
    amp_dtype = resolve_amp(config.runtime.amp, device)
    channels_last = resolve_channels_last(config.runtime.channels_last, amp_dtype)
    distances = None
    if config.method == "mixfeature" or (
        config.multilabel is not None and config.multilabel.mfjle_mix != "none"
    ):
        distances = distance_matrix(classes, config.mixfeature.wheel_layout).to(device)
    return StepContext(config, device, amp_dtype, channels_last, distances)


def progress_bar(iterable: Any, enabled: bool = True, **kwargs: Any) -> Any:
    """``tqdm.auto`` over ``iterable``: a widget in JupyterLab, text in a terminal.

    ``enabled=False`` shows nothing; so does the environment
    variable ``TQDM_DISABLE=1``, which the notebook runner (``make run``, ``make test``)
    sets so that executed notebooks hold no progress output.
    """
    disable = not enabled or os.environ.get("TQDM_DISABLE", "") not in ("", "0")
    return tqdm(iterable, disable=disable, **kwargs)
