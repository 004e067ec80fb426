"""Build any model of the zoo from its config entry, and list its weight layers.

A model is a ``models.<name>`` config entry; ``family`` picks the builder:
``mlp`` (the FINN KWS MLP, flat input) or ``cnn`` (Numenta's GSC CNN, input ``[1, H, W]``).
"""

from __future__ import annotations

import math
from typing import Any, Sequence

from torch import nn

from sparsekws.errors import UserError
from sparsekws.models.cnn import build_cnn
from sparsekws.models.mlp import build_mlp
from sparsekws.models.sparse_weights import weight_layers

FAMILIES = ("mlp", "cnn")
__all__ = ["FAMILIES", "build_model", "model_input_shape", "weight_layers"]


def model_input_shape(model_cfg: dict[str, Any], feature_shape: Sequence[int]) -> tuple[int, ...]:
    """The per-sample input shape the model takes, given the per-sample feature shape.

    ``mlp``: the features flattened, e.g. (49, 10) -> (490,); ``cnn``: a channel dimension added,
    e.g. (32, 32) -> (1, 32, 32).
    """
    family = model_cfg["family"]
    feature_shape = tuple(int(d) for d in feature_shape)
    if family == "mlp":
        return (math.prod(feature_shape),)
    if family == "cnn":
        if len(feature_shape) != 2:
            raise UserError(f"a cnn model needs 2-D features per sample (e.g. 32x32 log-mel), got shape "
                            f"{feature_shape}; set the model's 'frontend' to logmel")
        return (1, *feature_shape)
    raise UserError(f"unknown model family '{family}' (known: {', '.join(FAMILIES)})")


def build_model(model_cfg: dict[str, Any], input_shape: Sequence[int], num_classes: int, seed: int) -> nn.Module:
    """Build the network of a ``models.<name>`` entry for per-sample ``input_shape``."""
    family = model_cfg["family"]
    input_shape = tuple(int(d) for d in input_shape)
    if family == "mlp":
        return build_mlp(model_cfg, math.prod(input_shape), num_classes, seed)
    if family == "cnn":
        if len(input_shape) != 3:
            raise UserError(f"a cnn model takes inputs [channels, height, width], got {input_shape}")
        return build_cnn(model_cfg, input_shape, num_classes, seed)
    raise UserError(f"unknown model family '{family}' (known: {', '.join(FAMILIES)})")
