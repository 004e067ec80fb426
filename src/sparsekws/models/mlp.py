"""The FINN keyword-spotting MLP (finn-examples ``kws``) in Brevitas, dense or weight-sparse.

Topology: input (integer-valued features, e.g. 490 = 49 frames x 10 MFCC as int8)
-> [QuantLinear (no bias) -> BatchNorm1d -> QuantReLU] per hidden layer -> QuantLinear -> logits.
The input carries no quantiser: it is already integer, and the exported graph annotates it
(``input_datatype``). Hidden and output layers get fixed fan-in masks when
``weight_density < 1``; the mask seed is derived from the model seed and the layer index;
``weight_banks`` > 1 balances the masks over the sparse unit's input banks. The layers come from
the model's specification (``models.spec``).
"""

from __future__ import annotations

from typing import Any

from brevitas.nn import QuantLinear, QuantReLU
from torch import nn

from sparsekws.models.quantizers import weight_quantizer
from sparsekws.models.sparse_weights import SparseWeights
from sparsekws.models.spec import ModelSpec


def input_datatype(input_bits: int) -> str:
    """The QONNX datatype of the network input (signed integer features)."""
    return f"INT{input_bits}"


def build_mlp(model_cfg: dict[str, Any], spec: ModelSpec, seed: int) -> nn.Sequential:
    """Build the MLP of a ``models.<name>`` config entry from its specification."""
    weight_bits = model_cfg["weight_bits"]
    layers: list[nn.Module] = []
    last = spec.weight_layers[-1]
    for layer in spec.weight_layers:
        linear = QuantLinear(layer.in_features, layer.out_features, bias=False, weight_quant=weight_quantizer(model_cfg["weight_scaling"]),
                             weight_bit_width=weight_bits)
        layers.append(SparseWeights(linear, layer.density, seed=seed * 1000 + layer.index,
                                    banks=model_cfg.get("weight_banks", 1)) if layer.sparse else linear)
        if layer is not last:
            layers.append(nn.BatchNorm1d(layer.out_features))
            layers.append(QuantReLU(bit_width=model_cfg["activation_bits"]))
    return nn.Sequential(*layers)
