"""Fixed fan-in weight sparsity: every output unit keeps the same number of non-zero inputs.

The mask is drawn once, at construction, from a seeded generator and stored as a buffer (so it
is saved with the model). ``rezero()`` multiplies the weights by the mask; call it after every
optimizer step (``rezero_weights(model)``) so masked weights stay exactly zero, and therefore
stay zero after quantisation and in the exported graph.
"""

from __future__ import annotations

import math

import torch
from torch import nn

WEIGHT_LAYER_TYPES = (nn.Linear, nn.Conv1d, nn.Conv2d)  # Brevitas QuantLinear/QuantConv2d subclass these


def fan_in_for_density(in_features: int, density: float) -> int:
    """Non-zero inputs per output unit for a target density: ``round(density * in_features)``
    (Python rounding, half to even).

    Clamped to at least 1 and at most ``in_features``; e.g. 490 inputs at density 0.1 -> 49,
    256 inputs at 0.1 -> 26 (so the realised density is 26/256 = 0.1016).
    """
    if not 0.0 < density <= 1.0:
        raise ValueError(f"weight density must be in (0, 1], got {density}")
    return max(1, min(in_features, round(density * in_features)))


def fixed_fan_in_mask(out_features: int, in_features: int, fan_in: int,
                      generator: torch.Generator) -> torch.Tensor:
    """A {0,1} float mask of shape (out, in) with exactly ``fan_in`` ones per row.

    Each row keeps the ``fan_in`` inputs with the smallest uniform random scores, so rows are
    independent uniformly random subsets.
    """
    scores = torch.rand(out_features, in_features, generator=generator)
    keep = scores.argsort(dim=1)[:, :fan_in]
    mask = torch.zeros(out_features, in_features)
    mask.scatter_(1, keep, 1.0)
    return mask


class SparseWeights(nn.Module):
    """Wrap a linear-like layer (``.weight`` of shape (out, in, ...)) with a fixed fan-in mask.

    For conv weights the fan-in counts over (in_channels x kernel) of each filter.
    ``density`` is the fraction of weights kept; ``seed`` fixes the mask.
    """

    def __init__(self, module: nn.Module, density: float, seed: int):
        super().__init__()
        self.module = module
        self.density = density
        weight = module.weight
        out_features = weight.shape[0]
        in_features = math.prod(weight.shape[1:])
        self.in_features = in_features
        self.fan_in = fan_in_for_density(in_features, density)
        generator = torch.Generator().manual_seed(seed)
        mask = fixed_fan_in_mask(out_features, in_features, self.fan_in, generator)
        self.register_buffer("mask", mask.reshape(weight.shape))
        self.rezero()

    @property
    def mask_density(self) -> float:
        """The density the mask actually has: ``fan_in / in_features`` (after rounding)."""
        return self.fan_in / self.in_features

    @torch.no_grad()
    def rezero(self) -> None:
        self.module.weight.mul_(self.mask)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.module(x)

    def extra_repr(self) -> str:
        return f"density={self.density}, fan_in={self.fan_in}"


def rezero_weights(model: nn.Module) -> None:
    """Re-apply every ``SparseWeights`` mask in ``model`` (call after each optimizer step)."""
    for module in model.modules():
        if isinstance(module, SparseWeights):
            module.rezero()


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module, SparseWeights | None]]:
    """The weight layers (conv and linear) in forward order: ``(name, layer, sparse_wrapper)``.

    ``name`` is the module path of the layer (``"0.module"`` inside a sparse wrapper, ``"0"``
    otherwise); ``sparse_wrapper`` is the ``SparseWeights`` holding its mask, or ``None`` for a
    dense layer. Works for every model family (``sparsekws.models.mlp.linear_layers`` is this).
    """
    wrapped = {id(m.module): m for m in model.modules() if isinstance(m, SparseWeights)}
    return [(name, module, wrapped.get(id(module)))
            for name, module in model.named_modules() if isinstance(module, WEIGHT_LAYER_TYPES)]
