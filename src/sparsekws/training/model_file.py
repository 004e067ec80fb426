"""The trained model file ``model.pt``: what the train stage writes and every later stage loads.

It holds the selected weights (``state_dict``), the model's name and config entry, the feature
and input shapes, the class names, the seed the masks were drawn with and the selected epoch.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from sparsekws.core.config import training_entry
from sparsekws.core.errors import UserError
from sparsekws.core.files import atomic_path
from sparsekws.models.zoo import build_model


def save_model_file(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Write ``record`` (see the module docstring) as ``model.pt``, atomically."""
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(record, tmp)


def load_trained_model(checkpoint: str | os.PathLike, mcfg: dict[str, Any] | None = None) -> tuple[nn.Module, dict]:
    """Rebuild the model of a ``model.pt`` in eval mode; check its config entry matches ``mcfg``."""
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"checkpoint not found: {checkpoint}") from None
    if mcfg is not None and training_entry(saved["model_config"]) != training_entry(mcfg):
        raise UserError(f"checkpoint {checkpoint} was trained with model config {saved['model_config']}, "
                        f"but the config now says {mcfg}; retrain it")
    model = build_model(saved["model_config"], saved_input_shape(saved), len(saved["classes"]), saved["seed"])
    model.load_state_dict(saved["state_dict"])
    model.eval()
    return model, saved


def saved_input_shape(saved: dict[str, Any]) -> tuple[int, ...]:
    """The per-sample model input shape of a ``model.pt``: ``input_shape``, else ``(in_features,)``."""
    if saved.get("input_shape") is not None:
        return tuple(int(d) for d in saved["input_shape"])
    return (int(saved["in_features"]),)
