"""Build the torch network of any model entry (``family`` picks the builder) from its layer specification."""

from __future__ import annotations

from typing import Any, Sequence

from torch import nn

from sparsekws.models.cnn import build_cnn
from sparsekws.models.mlp import build_mlp
from sparsekws.models.spec import model_input_shape, model_spec

BUILDERS = {"mlp": build_mlp, "cnn": build_cnn}


def build_model(model_cfg: dict[str, Any], input_shape: Sequence[int], num_classes: int, seed: int) -> nn.Module:
    """The network of a ``models.<name>`` entry for per-sample ``input_shape`` (``models.spec``)."""
    spec = model_spec(model_cfg, input_shape, num_classes)
    return BUILDERS[spec.family](model_cfg, spec, seed)


def build_network(mcfg: dict[str, Any], feature_shape: tuple[int, ...], num_classes: int,
                  seed: int) -> tuple[nn.Module, tuple[int, ...]]:
    """The network of a ``models.<name>`` entry and its per-sample input shape, for features of ``feature_shape``."""
    input_shape = model_input_shape(mcfg, feature_shape)
    return build_model(mcfg, input_shape, num_classes, seed), input_shape
