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
banks in FINN's channels-last input order (``sparse_weights`` module docstring). A k-WTA module
is added where ``kwinners`` is true and the activation density is below 1: the dense CNN has
densities 1 and no k-WTA.
"""

from __future__ import annotations

from typing import Any

from brevitas.nn import QuantConv2d, QuantLinear, QuantReLU
from brevitas.quant import Int8WeightPerTensorFloat
from torch import nn

from sparsekws.errors import UserError
from sparsekws.models.kwinners import KWinners
from sparsekws.models.sparse_weights import SparseWeights

POOL = 2


def _maybe_sparse(layer: nn.Module, density: float, seed: int, banks: int = 1,
                  fan_in_shape: tuple[int, ...] | None = None) -> nn.Module:
    if density >= 1.0:
        return layer
    return SparseWeights(layer, density, seed=seed, banks=banks, fan_in_shape=fan_in_shape)


def _kwinners(cfg: dict[str, Any], channels: int, density: float, mode: str) -> list[nn.Module]:
    if not cfg["kwinners"] or density >= 1.0:
        return []
    return [KWinners(channels, density, k_inference_factor=cfg["k_inference_factor"],
                     boost_strength=cfg["boost_strength"], boost_strength_factor=cfg["boost_strength_factor"],
                     duty_cycle_period=cfg["duty_cycle_period"], mode=mode)]


def _per_layer(cfg: dict[str, Any], key: str, layers: int) -> list[float]:
    values = cfg[key]
    if len(values) != layers:
        raise UserError(f"model config key '{key}' has {len(values)} entries but 'conv_channels' has {layers}; "
                        "give one value per conv layer")
    return list(values)


def build_cnn(model_cfg: dict[str, Any], input_shape: tuple[int, int, int], num_classes: int,
              seed: int) -> nn.Sequential:
    """Build the CNN described by a ``models.<name>`` config entry (schema defaults filled in)."""
    channels_in, height, width = input_shape
    conv_channels = list(model_cfg["conv_channels"])
    kernel = model_cfg["kernel_size"]
    conv_density = _per_layer(model_cfg, "conv_weight_density", len(conv_channels))
    conv_act = _per_layer(model_cfg, "conv_activation_density", len(conv_channels))
    weight_bits, act_bits = model_cfg["weight_bits"], model_cfg["activation_bits"]
    banks = model_cfg.get("weight_banks", 1)
    layers: list[nn.Module] = []
    index = 0
    for out_channels, density, act_density in zip(conv_channels, conv_density, conv_act):
        height, width = (height - kernel + 1) // POOL, (width - kernel + 1) // POOL
        if height < 1 or width < 1:
            raise UserError(f"input {tuple(input_shape)} is too small for {len(conv_channels)} conv layers of "
                            f"kernel {kernel} with max-pool {POOL}; use the 32x32 log-mel front end "
                            "(frontend: logmel) or fewer conv layers")
        conv = QuantConv2d(channels_in, out_channels, kernel, padding=0, bias=False,
                           weight_quant=Int8WeightPerTensorFloat, weight_bit_width=weight_bits)
        layers += [_maybe_sparse(conv, density, seed * 1000 + index, banks), nn.BatchNorm2d(out_channels),
                   QuantReLU(bit_width=act_bits), nn.MaxPool2d(POOL)]
        layers += _kwinners(model_cfg, out_channels, act_density, model_cfg["kwinners_mode"])
        channels_in = out_channels
        index += 1
    layers.append(nn.Flatten())
    flat = channels_in * height * width
    units = model_cfg["linear_units"]
    hidden = QuantLinear(flat, units, bias=False, weight_quant=Int8WeightPerTensorFloat,
                         weight_bit_width=weight_bits)
    layers += [_maybe_sparse(hidden, model_cfg["linear_weight_density"], seed * 1000 + index, banks,
                             fan_in_shape=(channels_in, height, width)),
               nn.BatchNorm1d(units), QuantReLU(bit_width=act_bits)]
    layers += _kwinners(model_cfg, units, model_cfg["linear_activation_density"], "global")
    layers.append(QuantLinear(units, num_classes, bias=False, weight_quant=Int8WeightPerTensorFloat,
                              weight_bit_width=weight_bits))
    return nn.Sequential(*layers)
