"""Weight statistics of a trained model: per-layer sparsity of the quantised weights and MAC counts."""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

from sparsekws.models.macs import count_macs
from sparsekws.models.sparse_weights import weight_layers


@torch.no_grad()
def weight_stats(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, Any]:
    """Per-layer weight statistics and MAC counts per inference (counted, not timed).

    ``mask_density`` is the fixed fan-in over the layer's inputs (1.0 for dense layers);
    ``nonzero_fraction`` is measured on the *quantised* weights (so it also counts weights that
    quantise to zero); ``kept_weights`` are those the mask keeps and ``kept_zero_fraction`` the
    share of them that quantisation rounds to zero (weights the model loses to its weight scale). MACs count the weight layers only (BatchNorm, pooling, activations
    excluded), times the output positions of a convolution: ``macs_dense`` all weights,
    ``macs_mask`` the kept fan-in, ``macs_weight_sparse`` the non-zero quantised weights (what a
    zero-skipping implementation multiplies).
    """
    positions = {layer["name"]: layer["output_positions"] for layer in count_macs(model, input_shape)["layers"]}
    was_training = model.training
    model.eval()
    layers = []
    for name, layer, sparse in weight_layers(model):
        qweight = layer.quant_weight().value
        nonzero = int(torch.count_nonzero(qweight))
        total = qweight.numel()
        fan_in_total = int(math.prod(qweight.shape[1:]))
        fan_in = int(getattr(sparse, "fan_in", fan_in_total)) if sparse is not None else fan_in_total
        layers.append({
            "name": name,
            "kind": type(layer).__name__,
            "shape": list(qweight.shape),
            "output_positions": positions.get(name, 1),
            "fan_in": fan_in,
            "mask_density": fan_in / fan_in_total,
            "nonzero_weights": nonzero,
            "total_weights": total,
            "nonzero_fraction": nonzero / total,
            "kept_weights": fan_in * qweight.shape[0],
            "kept_zero_fraction": 1.0 - nonzero / (fan_in * qweight.shape[0]),
        })
    model.train(was_training)
    return {
        "layers": layers,
        "nonzero_weights": sum(layer["nonzero_weights"] for layer in layers),
        "total_weights": sum(layer["total_weights"] for layer in layers),
        "kept_weights": sum(layer["kept_weights"] for layer in layers),
        "kept_zero_fraction": 1.0 - (sum(layer["nonzero_weights"] for layer in layers)
                                     / sum(layer["kept_weights"] for layer in layers)),
        "nonzero_parameters": int(sum(torch.count_nonzero(p) for p in model.parameters())),
        "total_parameters": int(sum(p.numel() for p in model.parameters())),
        "macs_dense": sum(layer["total_weights"] * layer["output_positions"] for layer in layers),
        "macs_mask": sum(layer["fan_in"] * layer["shape"][0] * layer["output_positions"] for layer in layers),
        "macs_weight_sparse": sum(layer["nonzero_weights"] * layer["output_positions"] for layer in layers),
    }
