"""Each weight_scaling names a Brevitas quantiser with the documented scale granularity."""

import torch
from brevitas.nn import QuantLinear

from sparsekws.models.quantizers import WEIGHT_QUANTIZERS, weight_quantizer


def test_scales_per_tensor_or_per_output_channel():
    torch.manual_seed(0)
    for name, scales in (("per_tensor", 1), ("per_channel", 6), ("per_channel_mse", 6)):
        layer = QuantLinear(10, 6, bias=False, weight_quant=weight_quantizer(name), weight_bit_width=4)
        quant = layer.quant_weight()
        assert quant.scale.numel() == scales
        levels = quant.value / quant.scale
        assert torch.allclose(levels, levels.round()) and levels.abs().max() <= 8
    assert set(WEIGHT_QUANTIZERS) == {"per_tensor", "per_channel", "per_channel_mse"}


def test_mse_scale_clips_so_fewer_small_weights_round_to_zero():
    torch.manual_seed(0)
    weights = torch.randn(16, 64)
    weights[:, 0] = 20.0  # one outlier per channel sets the max-based scale
    zeros = {}
    for name in ("per_channel", "per_channel_mse"):
        layer = QuantLinear(64, 16, bias=False, weight_quant=weight_quantizer(name), weight_bit_width=4)
        layer.weight.data.copy_(weights)
        zeros[name] = int((layer.quant_weight().value == 0).sum())
    assert zeros["per_channel_mse"] < zeros["per_channel"]
