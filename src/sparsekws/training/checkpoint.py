"""Per-epoch training checkpoints: what ``state_dict`` misses (Brevitas' runtime statistics and their
step counters, the random generators), and saving and loading a checkpoint that belongs to one
training run (its fingerprint). With the optimizer, scheduler, k-WTA duty cycles and boost (buffers
of the ``state_dict``) and the per-epoch seeded data order, a resumed run is bit-identical to an
uninterrupted one."""

from __future__ import annotations

import logging
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sparsekws.core.files import write_torch

log = logging.getLogger(__name__)


def _runtime_scaling_modules(model: nn.Module) -> dict[str, nn.Module]:
    """Brevitas scale modules that collect runtime statistics during the first training steps.

    Their ``state_dict`` folds the statistics into the learned value and marks collection as done
    when loaded, which is right for a finished model but would change the training trajectory of
    a resumed run; checkpoints therefore store their raw state as well.
    """
    return {name: module for name, module in model.named_modules()
            if hasattr(module, "collect_stats_steps") and hasattr(module, "counter")
            and isinstance(getattr(module, "buffer", None), torch.Tensor)
            and isinstance(getattr(module, "value", None), torch.Tensor)}


def runtime_state(model: nn.Module) -> dict[str, dict[str, Any]]:
    """The raw runtime-statistics state of every such module (counter, buffer, value)."""
    return {name: {"counter": int(m.counter), "buffer": m.buffer.detach().cpu().clone(),
                   "value": m.value.detach().cpu().clone()}
            for name, m in _runtime_scaling_modules(model).items()}


@torch.no_grad()
def restore_runtime_state(model: nn.Module, state: dict[str, dict[str, Any]]) -> None:
    """Put back what ``runtime_state`` saved."""
    for name, module in _runtime_scaling_modules(model).items():
        saved = state[name]
        module.counter = saved["counter"]
        module.buffer.copy_(saved["buffer"])
        module.value.copy_(saved["value"])


def rng_state() -> dict[str, Any]:
    """The state of every random generator training draws from (torch's, CUDA's where present, numpy's, Python's)."""
    numpy_state = np.random.get_state(legacy=False)
    return {"torch": torch.get_rng_state(), "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "numpy": {**numpy_state, "state": {"key": numpy_state["state"]["key"].tolist(),
                                               "pos": numpy_state["state"]["pos"]}},
            "python": random.getstate()}


def restore_rng_state(state: dict[str, Any]) -> None:
    """Put back what ``rng_state`` saved."""
    torch.set_rng_state(state["torch"])
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
    numpy_state = state["numpy"]
    np.random.set_state({**numpy_state, "state": {**numpy_state["state"],
                                                  "key": np.asarray(numpy_state["state"]["key"], dtype=np.uint32)}})
    random.setstate(state["python"])


def state_to_cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a ``state_dict``."""
    return {k: v.detach().cpu().clone() for k, v in state.items()}


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically."""
    write_torch(path, state)


def load_checkpoint(path: Path, fingerprint: str, required: tuple[str, ...] = ()) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it belongs to this run and holds the ``required`` keys, else None
    (it is then ignored)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged checkpoint only costs the time to retrain
        log.warning("ignoring unreadable checkpoint %s (%s); training from the start", path, exc)
        return None
    if not isinstance(ckpt, dict) or ckpt.get("fingerprint") != fingerprint or not set(required) <= set(ckpt):
        log.warning("ignoring checkpoint %s: it belongs to another config or features file; "
                    "training from the start", path)
        return None
    return ckpt
