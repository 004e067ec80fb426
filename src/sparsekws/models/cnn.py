"""Numenta's Google Speech Commands CNN ("How Can We Be So Dense?") in Brevitas, dense or sparse.

Topology for an input ``[N, 1, 32, 32]`` (integer log-mel; no input quantiser, the export
annotates the input datatype like the MLP's):

    per conv block: QuantConv2d 5x5 (no padding, no bias) -> BatchNorm2d -> QuantReLU
                    -> MaxPool2d(2) -> k-WTA (2-D)
    flatten (64 x 5 x 5 = 1600) -> QuantLinear (no bias) -> BatchNorm1d -> QuantReLU -> k-WTA (1-D)
    -> QuantLinear (no bias) -> logits

ReLU before max-pool (Numenta pools first) computes the same function, since ReLU is monotonic,
and is the order FINN maps (its streamlining cannot absorb a BatchNorm before a MaxPool). Weight layers get fixed fan-in masks when their
density is below 1 (conv fan-in over in_channels x 5 x 5); the mask seed derives from the model
seed and the layer index; ``weight_banks`` > 1 balances the masks over the sparse unit's input
banks in FINN's channels-last input order (``sparse_weights`` module docstring);
``complementary_kernels`` ``{layer index: N}`` makes packs of N output kernels of that layer
disjoint (Complementary Sparsity, for the scatter convolution ``units.scatter_conv``). A k-WTA module
is added where ``kwinners`` is true and the activation density is below 1: the dense CNN has
densities 1 and no k-WTA. ``batchnorm_affine: false`` drops the BatchNorms' learned gain and bias
(nupic.torch's choice before a k-WTA); ``weight_scaling`` picks the weight quantiser's scale
(``models.quantizers``). The layers come from the model's specification (``models.spec``).
"""

from __future__ import annotations

from typing import Any

from brevitas.nn import QuantConv2d, QuantLinear, QuantReLU
from torch import nn

from sparsekws.models.kwinners import KWinners
from sparsekws.models.quantizers import weight_quantizer
from sparsekws.models.sparse_weights import SparseWeights
from sparsekws.models.spec import POOL, KwtaLayer, ModelSpec, WeightLayer


def _maybe_sparse(module: nn.Module, layer: WeightLayer, seed: int, model_cfg: dict[str, Any],
                  fan_in_shape: tuple[int, ...] | None = None) -> nn.Module:
    if not layer.sparse:
        return module
    kernels = {int(k): v for k, v in (model_cfg.get("complementary_kernels") or {}).items()}.get(layer.index, 1)
    return SparseWeights(module, layer.density, seed=seed * 1000 + layer.index, banks=model_cfg.get("weight_banks", 1),
                         fan_in_shape=fan_in_shape, kernels=kernels)


def _kwinners(cfg: dict[str, Any], layer: KwtaLayer) -> KWinners:
    return KWinners(layer.channels, layer.density, k_inference_factor=cfg["k_inference_factor"],
                    boost_strength=cfg["boost_strength"], boost_strength_factor=cfg["boost_strength_factor"],
                    duty_cycle_period=cfg["duty_cycle_period"], duty_cycle_counts=cfg["duty_cycle_counts"],
                    mode=layer.mode)


def build_cnn(model_cfg: dict[str, Any], spec: ModelSpec, seed: int) -> nn.Sequential:
    """Build the CNN of a ``models.<name>`` config entry (schema defaults filled in) from its specification."""
    weight_bits, act_bits = model_cfg["weight_bits"], model_cfg["activation_bits"]
    quant = {"bias": False, "weight_quant": weight_quantizer(model_cfg["weight_scaling"]), "weight_bit_width": weight_bits}
    affine = model_cfg["batchnorm_affine"]
    out = spec.weight_layers[-1]
    layers: list[nn.Module] = []
    for item in spec.layers:
        if isinstance(item, KwtaLayer) and item.before_pool:  # between the activation and the max-pool
            layers.insert(len(layers) - 1, _kwinners(model_cfg, item))
        elif isinstance(item, KwtaLayer):
            layers.append(_kwinners(model_cfg, item))
        elif item.kind == "conv":
            conv = QuantConv2d(item.input_chw[0], item.out_features, item.kernel, padding=0, **quant)
            layers += [_maybe_sparse(conv, item, seed, model_cfg), nn.BatchNorm2d(item.out_features, affine=affine),
                       QuantReLU(bit_width=act_bits), nn.MaxPool2d(POOL)]
        elif item is out:
            layers.append(QuantLinear(item.in_features, item.out_features, **quant))
        else:  # the hidden linear layer on the flattened feature map
            linear = QuantLinear(item.in_features, item.out_features, **quant)
            layers += [nn.Flatten(), _maybe_sparse(linear, item, seed, model_cfg, fan_in_shape=item.input_chw),
                       nn.BatchNorm1d(item.out_features, affine=affine), QuantReLU(bit_width=act_bits)]
    return nn.Sequential(*layers)
