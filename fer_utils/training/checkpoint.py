"""Checkpoints: written atomically after every epoch, resumed only by the run that wrote them.

Part of :func:`fer_utils.training.loop.train` (notebook 04). With ``checkpoint_dir`` set,
the state after every epoch (model, optimiser, scheduler, history, best model so far) is
written atomically to ``checkpoint_dir/run_name/checkpoint.pt``. Calling
:func:`fer_utils.training.loop.train` again with the same configuration, data and
``run_name`` continues from there and, on the CPU, ends with exactly the numbers of an
uninterrupted run. A checkpoint written with another configuration or other data is refused
with an error, never mixed in.
"""

from __future__ import annotations

import _pickle
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from torch import nn

from fer_utils.files import atomic_write, atomic_write_text
from fer_utils.training.config import TrainConfig

CHECKPOINT_FILE = "checkpoint.pt"
CHECKPOINT_FORMAT = 1
#: What ``torch.load`` raises for a file that is not a pickle (two classes in CPython).
UNPICKLING_ERRORS: tuple[type[Exception], ...] = (pickle.UnpicklingError, _pickle.UnpicklingError)


def atomic_torch_save(obj: Any, path: Path) -> None:
    """``torch.save`` ``obj`` to ``path`` atomically (:func:`fer_utils.files.atomic_write`).

    A run killed mid-write leaves the previous checkpoint intact.
    """
    atomic_write(path, lambda fh: torch.save(obj, fh))


def cpu_state(model: nn.Module) -> dict[str, torch.Tensor]:
    """A detached CPU copy of ``model``'s state dict (a snapshot, safe to keep)."""
    return {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}


def config_differences(saved: Mapping[str, Any], wanted: Mapping[str, Any]) -> list[str]:
    """``"field: saved != wanted"`` for every field that differs."""
    keys = sorted(set(saved) | set(wanted))
    return [
        f"{k}: {saved.get(k)!r} != {wanted.get(k)!r}" for k in keys if saved.get(k) != wanted.get(k)
    ]


def load_checkpoint(path: Path, config: TrainConfig, fingerprint: str) -> dict[str, Any]:
    """Read a checkpoint and check that it belongs to this config and data.

    Raises ``ValueError`` listing the differing fields when the
    checkpoint was written by another configuration, or when its data differ.
    """
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (EOFError, OSError, RuntimeError, *UNPICKLING_ERRORS) as err:
        reason = (str(err).strip().splitlines() or [""])[0][:120]
        raise ValueError(
            f"{path} cannot be read as a checkpoint ({type(err).__name__}: {reason}); it is "
            f"truncated or not a checkpoint. To start this run fresh, delete {path.parent}; "
            "to keep it, pass another run_name."
        ) from err
    if state.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path}: unknown checkpoint format {state.get('format')!r}")
    diffs = config_differences(state["config"], config.identity())
    if diffs:
        raise ValueError(
            f"{path} was written by a different configuration; refusing to resume it "
            f"(checkpoint != requested: {'; '.join(diffs)}). Use another run_name or "
            "delete that folder."
        )
    if state["data_fingerprint"] != fingerprint:
        raise ValueError(
            f"{path} was written for different data (fingerprint {state['data_fingerprint']} "
            f"!= {fingerprint}); refusing to resume it. Use another run_name."
        )
    return state


def checkpoint_path(
    config: TrainConfig, run_name: str | None, fingerprint: str
) -> tuple[Path | None, str | None]:
    """Where a run's checkpoint lives, and the run name (derived when ``None``).

    The derived name is ``<model>_<method>_seed<seed>_`` plus
    the config key and the start of the data fingerprint, so different runs never share
    a folder by accident. Without ``checkpoint_dir``: ``(None, run_name)``.
    """
    if config.runtime.checkpoint_dir is None:
        return None, run_name
    if run_name is None:
        net, seed = config.network.model, config.runtime.seed
        run_name = f"{net}_{config.method}_seed{seed}_{config.key()}"
        run_name += f"_{fingerprint[:6]}"
    return Path(config.runtime.checkpoint_dir) / run_name / CHECKPOINT_FILE, run_name


def save_checkpoint(path: Path, checkpoint: dict[str, Any], history: list[dict]) -> None:
    """Write ``checkpoint`` atomically to ``path``, and ``history`` as ``history.csv`` beside it.
    """
    atomic_torch_save(checkpoint, path)
    atomic_write_text(pd.DataFrame(history).to_csv(index=False), path.with_name("history.csv"))
