"""Per-epoch training checkpoints: what ``state_dict`` misses (Brevitas' runtime statistics), and
saving and loading a checkpoint that belongs to one training run (its fingerprint)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import torch
from torch import nn

from sparsekws.core.files import atomic_path

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


def state_to_cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a ``state_dict``."""
    return {k: v.detach().cpu().clone() for k, v in state.items()}


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a checkpoint atomically."""
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it belongs to this run, else None (it is then ignored)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged checkpoint only costs the time to retrain
        log.warning("ignoring unreadable checkpoint %s (%s); training from the start", path, exc)
        return None
    if not isinstance(ckpt, dict) or ckpt.get("fingerprint") != fingerprint:
        log.warning("ignoring checkpoint %s: it belongs to another config or features file; "
                    "training from the start", path)
        return None
    return ckpt
