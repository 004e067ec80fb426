"""The FINN keyword-spotting MLP (finn-examples ``kws``) in Brevitas, dense or weight-sparse.

Topology: input (integer-valued features, e.g. 490 = 49 frames x 10 MFCC as int8)
-> [QuantLinear (no bias) -> BatchNorm1d -> QuantReLU] per hidden layer -> QuantLinear -> logits.
The input carries no quantiser: it is already integer, and the exported graph annotates it
(``INPUT_DATATYPE``). Hidden and output layers get fixed fan-in masks when
``weight_density < 1``; the mask seed is derived from the model seed and the layer index;
``weight_banks`` > 1 balances the masks over the sparse unit's input banks.
"""

from __future__ import annotations

from typing import Any

from brevitas.nn import QuantLinear, QuantReLU
from brevitas.quant import Int8WeightPerTensorFloat
from torch import nn

from sparsekws.models.sparse_weights import SparseWeights, weight_layers


def input_datatype(input_bits: int) -> str:
    """The QONNX datatype of the network input (signed integer features)."""
    return f"INT{input_bits}"


def build_mlp(model_cfg: dict[str, Any], in_features: int, num_classes: int, seed: int) -> nn.Sequential:
    """Build the MLP described by a ``models.<name>`` config entry."""
    weight_bits = model_cfg["weight_bits"]
    density = model_cfg["weight_density"]
    layers: list[nn.Module] = []
    width = in_features
    widths = list(model_cfg["hidden_units"]) + [num_classes]
    for index, units in enumerate(widths):
        linear = QuantLinear(width, units, bias=False, weight_quant=Int8WeightPerTensorFloat,
                             weight_bit_width=weight_bits)
        layers.append(SparseWeights(linear, density, seed=seed * 1000 + index,
                                    banks=model_cfg.get("weight_banks", 1)) if density < 1.0 else linear)
        if index < len(widths) - 1:
            layers.append(nn.BatchNorm1d(units))
            layers.append(QuantReLU(bit_width=model_cfg["activation_bits"]))
        width = units
    return nn.Sequential(*layers)


# The weight-layer listing works for every family; the old name stays for existing callers.
linear_layers = weight_layers
