"""The Brevitas weight quantisers a model entry's ``weight_scaling`` names.

- ``per_tensor``: one float scale per layer from the largest magnitude (Brevitas'
  ``Int8WeightPerTensorFloat``; the bit width comes from ``weight_bits``);
- ``per_channel``: one scale per output channel, from each channel's largest magnitude;
- ``per_channel_mse``: one scale per output channel that minimises the squared rounding error
  (clips the largest magnitudes, so fewer small weights round to zero).
"""

from __future__ import annotations

from brevitas.quant import Int8WeightPerChannelFloat, Int8WeightPerChannelFloatMSE, Int8WeightPerTensorFloat

WEIGHT_QUANTIZERS = {"per_tensor": Int8WeightPerTensorFloat, "per_channel": Int8WeightPerChannelFloat,
                     "per_channel_mse": Int8WeightPerChannelFloatMSE}


def weight_quantizer(scaling: str):
    """The Brevitas weight quantiser class of ``weight_scaling``."""
    return WEIGHT_QUANTIZERS[scaling]
