"""The trained model file ``model.pt``: what the train stage writes and every later stage loads.

It holds the selected weights (``state_dict``), the model's name and config entry, the feature
and input shapes, the class names, the seed the masks were drawn with, the selected epoch and
the sha256 of the features file it was trained on (``features_sha256``). The same training gives
the same bytes. A damaged file, or one trained on other features than the ones given, is a
``UserError`` that names the file and how to make it again.
"""

from __future__ import annotations

import os
from typing import Any

import torch
from torch import nn

from sparsekws.core.config import training_entry
from sparsekws.core.errors import UserError
from sparsekws.core.files import write_torch
from sparsekws.features.store import Features
from sparsekws.models.zoo import build_model


REQUIRED = ("state_dict", "model_config", "classes", "seed")
REBUILD = "rebuild it with: snakemake --cores all --forcerun {path}"


def save_model_file(path: str | os.PathLike, record: dict[str, Any]) -> None:
    """Write ``record`` (see the module docstring) as ``model.pt``, atomically."""
    write_torch(path, record)


def read_model_file(checkpoint: str | os.PathLike) -> dict[str, Any]:
    """The record of a ``model.pt`` (``UserError`` for a missing, damaged or foreign file)."""
    try:
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise UserError(f"checkpoint not found: {checkpoint}; train the model first") from None
    except Exception as exc:  # torch raises many kinds for a truncated or corrupt archive
        raise UserError(f"checkpoint {checkpoint} is damaged ({type(exc).__name__}: {str(exc)[:200]}); "
                        + REBUILD.format(path=checkpoint)) from None
    missing = [key for key in REQUIRED if not isinstance(saved, dict) or key not in saved]
    if missing:
        raise UserError(f"checkpoint {checkpoint} is not a sparsekws model file (no {', '.join(missing)}); "
                        + REBUILD.format(path=checkpoint))
    return saved


def check_features(saved: dict[str, Any], checkpoint: str | os.PathLike, features: Features) -> None:
    """Refuse a features file other than the one the model was trained on (by its sha256)."""
    trained_on = saved.get("features_sha256")
    if trained_on is not None and trained_on != features.sha256:
        raise UserError(f"features file {features.path} is not the one {checkpoint} was trained on (sha256 "
                        f"{features.sha256[:12]} vs {trained_on[:12]}): they come from different datasets or "
                        f"feature settings; retrain the model on these features ({REBUILD.format(path=checkpoint)})")


def load_trained_model(checkpoint: str | os.PathLike, mcfg: dict[str, Any] | None = None) -> tuple[nn.Module, dict]:
    """Rebuild the model of a ``model.pt`` in eval mode; check its config entry matches ``mcfg``."""
    saved = read_model_file(checkpoint)
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
