"""Multiply-accumulates (MACs) per inference of a zoo model, counted three ways.

For each weight layer (conv and linear, in forward order; BatchNorm, pooling and activations
are not counted):

- ``dense``: every weight used at every output position: ``weights x positions``;
- ``weight_sparse``: only the non-zero *quantised* weights: ``non-zero weights x positions``
  (what a zero-skipping implementation multiplies; counted from the model);
- ``weight_and_activation_sparse``: also skipping zero inputs.
  ``count_macs`` *estimates* it as ``weight_sparse x input density`` of the layer (the
  fraction of non-zero values entering the layer, given by the caller, e.g. measured on the
  test set with ``measure_input_densities``), which assumes zeros fall independently of
  the weight mask; ``measure_sparse_macs`` *measures* it exactly on a batch: it counts the
  products whose input and quantised weight are both non-zero, averaged per sample.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import torch
from torch import nn

from sparsekws.models.sparse_weights import weight_layers


def quantised_weight(layer: nn.Module) -> torch.Tensor:
    """The weight a layer computes with: Brevitas' quantised weight, else ``.weight``."""
    if hasattr(layer, "quant_weight"):
        return layer.quant_weight().value.detach()
    return layer.weight.detach()


@torch.no_grad()
def _trace_layers(model: nn.Module, x: torch.Tensor) -> dict[str, dict[str, torch.Tensor]]:
    """Run ``model`` in eval mode on ``x`` and capture each weight layer's input and output."""
    captured: dict[str, dict[str, torch.Tensor]] = {}
    hooks = []
    for name, layer, _ in weight_layers(model):
        def hook(module, inputs, output, name=name):
            captured[name] = {"input": inputs[0].detach(), "output": output.detach()}
        hooks.append(layer.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        model(x)
    finally:
        model.train(was_training)
        for handle in hooks:
            handle.remove()
    return captured


def _positions(output: torch.Tensor) -> int:
    """Output positions per sample: H x W of a conv output, 1 for a linear output."""
    return int(output[0].numel() // output.shape[1])


@torch.no_grad()
def count_macs(model: nn.Module, input_shape: Sequence[int],
               input_densities: Mapping[str, float] | None = None) -> dict[str, Any]:
    """Count MACs per inference of ``model`` for per-sample ``input_shape``.

    ``input_densities`` maps a weight layer's name (as in ``weight_layers``) to the fraction of
    non-zero values in its input; layers not given count as 1.0 (dense input). Returns per-layer
    records and totals under ``dense``, ``weight_sparse``, ``weight_and_activation_sparse``.
    """
    input_densities = dict(input_densities or {})
    device = next(model.parameters()).device
    trace = _trace_layers(model, torch.zeros(1, *input_shape, device=device))
    unknown = set(input_densities) - set(trace)
    if unknown:
        raise ValueError(f"input_densities names unknown layers {sorted(unknown)}; layers are {list(trace)}")
    layers = []
    for name, layer, sparse in weight_layers(model):
        weight = quantised_weight(layer)
        positions = _positions(trace[name]["output"])
        density = float(input_densities.get(name, 1.0))
        weight_sparse = int(torch.count_nonzero(weight)) * positions
        layers.append({
            "name": name,
            "kind": "conv" if weight.dim() > 2 else "linear",
            "weight_shape": list(weight.shape),
            "output_positions": positions,
            "mask_density": sparse.mask_density if sparse is not None else 1.0,
            "input_density": density,
            "dense": weight.numel() * positions,
            "weight_sparse": weight_sparse,
            "weight_and_activation_sparse": weight_sparse * density,
        })
    return {
        "layers": layers,
        "dense": sum(layer["dense"] for layer in layers),
        "weight_sparse": sum(layer["weight_sparse"] for layer in layers),
        "weight_and_activation_sparse": sum(layer["weight_and_activation_sparse"] for layer in layers),
        "provenance": {
            "dense": "counted from the layer shapes",
            "weight_sparse": "counted: non-zero quantised weights x output positions",
            "weight_and_activation_sparse": "estimated: weight_sparse x the given input density per layer "
                                            "(zeros assumed independent of the weight mask)",
        },
    }


@torch.no_grad()
def measure_input_densities(model: nn.Module, x: torch.Tensor) -> dict[str, float]:
    """Fraction of non-zero values entering each weight layer, measured on batch ``x`` (eval mode)."""
    trace = _trace_layers(model, x)
    return {name: float(torch.count_nonzero(t["input"])) / t["input"].numel() for name, t in trace.items()}


@torch.no_grad()
def measure_sparse_macs(model: nn.Module, x: torch.Tensor) -> dict[str, Any]:
    """Exact MACs per sample that skip both zero weights and zero inputs, measured on batch ``x``.

    A product counts when its input value and its quantised weight are both non-zero; the
    count is averaged over the samples of ``x`` (eval mode). Per layer and in total.
    """
    trace = _trace_layers(model, x)
    per_layer = {}
    for name, layer, _ in weight_layers(model):
        active = (trace[name]["input"] != 0).double()
        used = (quantised_weight(layer) != 0).double()
        if isinstance(layer, nn.Conv2d):
            counts = nn.functional.conv2d(active, used, stride=layer.stride, padding=layer.padding,
                                          dilation=layer.dilation, groups=layer.groups)
        else:
            counts = active @ used.T
        per_layer[name] = float(counts.sum()) / len(x)
    return {"layers": per_layer, "weight_and_activation_sparse": sum(per_layer.values()), "samples": len(x),
            "provenance": "measured: products with non-zero input and non-zero quantised weight, mean per sample"}
