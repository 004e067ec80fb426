"""Fixed fan-in weight sparsity: every output unit keeps the same number of non-zero inputs.

The mask is drawn once, at construction, from a seeded generator and stored as a buffer (so it
is saved with the model). ``rezero()`` multiplies the weights by the mask; call it after every
optimizer step (``rezero_weights(model)``) so masked weights stay exactly zero, and therefore
stay zero after quantisation and in the exported graph.

Bank-balanced placement (``banks`` B > 1): the project's sparse matrix unit
(``units.cost``) reads its inputs from ``SIMD`` column banks (bank ``s``
holds the inputs ``i`` with ``i mod SIMD = s``) and pads its schedule to the fullest bank, so a
uniformly random mask costs up to a few times the cycles of a balanced one. With B > 1 each
output's F non-zeros are spread over the residue classes ``i mod G`` (``G = gcd(B, fan-in
size)``) as evenly as possible: every class gets ``F // G`` or ``F // G + 1`` of them (the
classes with one more form a cyclic run at a random offset), chosen at random within the class.
Then for every SIMD dividing G, each bank holds at most ``ceil(F / SIMD)`` non-zeros of each
output: the padding vanishes. ``i`` is the index in the order the hardware reads the fan-in,
channels fastest: FINN's im2col orders a conv window as (kh, kw, c_in) while torch's weight is
(c_out, c_in, kh, kw), and FINN's ``RemoveCNVtoFCFlatten`` makes a linear layer after a conv
read its input as (h, w, c) while torch flattens it as (c, h, w) (``channels_last_order``).
B = 1 keeps the uniformly random placement (the same masks as ever, draw for draw).

Complementary kernels (``kernels`` N > 1, Numenta's Complementary Sparsity): the outputs form
``out/N`` packs of N, pack ``g`` holding the outputs ``g, g + out/N, ...``; the N kernels of a
pack have disjoint non-zeros, so they pack into one kernel in which every input belongs to at
most one output. A scatter unit that banks its outputs by ``o mod PE`` (``units.scatter_conv``)
then finds at most ``out/(N*PE)`` non-zeros of an input row in each bank: with PE = out/N,
one, the fewest schedule steps per active input. Bank balancing still holds: within each
residue class the pack's N kernels take consecutive runs of one random order of the class.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sparsekws.core.errors import ConfigError

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


def channels_last_order(fan_in_shape: tuple[int, ...]) -> torch.Tensor:
    """For a fan-in that torch flattens from ``(C, *spatial)``, the torch flat index of each
    position in the channels-last order ``(*spatial, C)`` that FINN's hardware reads.

    A 1-D shape ``(n,)`` gives the identity. Conv filter ``(c_in, kh, kw)``: position
    ``(kh_i * kw + kw_i) * c_in + c`` holds torch index ``c * kh * kw + kh_i * kw + kw_i``.
    """
    return torch.arange(math.prod(fan_in_shape)).reshape(fan_in_shape).movedim(0, -1).flatten()


def balanced_fan_in_mask(out_features: int, in_features: int, fan_in: int, banks: int,
                         generator: torch.Generator) -> torch.Tensor:
    """A {0,1} float mask (out, in) with exactly ``fan_in`` ones per row, bank-balanced.

    With ``G = gcd(banks, in_features)`` the ones of each row fall ``fan_in // G`` or one more
    into each residue class ``i mod G``; the classes with one more are a cyclic run starting at
    a random class, so for every divisor ``d`` of ``G`` each class ``i mod d`` holds at most
    ``ceil(fan_in / d)`` ones. Within a class the ones sit at random. Indices ``i`` are in the
    order the hardware reads (see ``channels_last_order``).
    """
    if banks < 1:
        raise ConfigError(f"weight_banks must be >= 1, got {banks}")
    groups = math.gcd(banks, in_features)
    base, extra = divmod(fan_in, groups)
    offset = torch.randint(groups, (out_features, 1), generator=generator)
    residue = torch.arange(groups)
    quota = base + ((residue - offset) % groups < extra).long()  # (out, G): ones per class
    scores = torch.rand(out_features, in_features // groups, groups, generator=generator)
    rank = scores.argsort(dim=1).argsort(dim=1)  # rank of each input within its class
    return (rank < quota[:, None, :]).float().reshape(out_features, in_features)


def complementary_fan_in_mask(out_features: int, in_features: int, fan_in: int, banks: int, kernels: int,
                               generator: torch.Generator) -> torch.Tensor:
    """A {0,1} float mask (out, in), ``fan_in`` ones per row, bank-balanced as in
    ``balanced_fan_in_mask`` (``banks`` = 1: no balancing), whose packs of ``kernels`` outputs
    (``g, g + out/kernels, ...``) have disjoint ones (module docstring)."""
    if kernels < 1 or out_features % kernels:
        raise ConfigError(f"complementary_kernels = {kernels} must divide the layer's {out_features} outputs")
    groups = math.gcd(banks, in_features)
    base, extra = divmod(fan_in, groups)
    offset = torch.randint(groups, (out_features, 1), generator=generator)
    quota = base + ((torch.arange(groups) - offset) % groups < extra).long()  # (out, G): ones per class
    packs = out_features // kernels
    quota = quota.reshape(kernels, packs, groups)  # output j * packs + g is kernel j of pack g
    end = quota.cumsum(dim=0)
    per_class = in_features // groups
    if int(end[-1].max()) > per_class:
        raise ConfigError(f"{kernels} complementary kernels of fan-in {fan_in} need {int(end[-1].max())} of the "
                          f"{per_class} inputs per bank class: lower complementary_kernels or the density")
    scores = torch.rand(packs, per_class, groups, generator=generator)
    rank = scores.argsort(dim=1).argsort(dim=1)[None]  # (1, pack, input within class, class)
    keep = (rank >= (end - quota)[:, :, None, :]) & (rank < end[:, :, None, :])
    return keep.float().reshape(out_features, in_features)


class SparseWeights(nn.Module):
    """Wrap a linear-like layer (``.weight`` of shape (out, in, ...)) with a fixed fan-in mask.

    For conv weights the fan-in counts over (in_channels x kernel) of each filter.
    ``density`` is the fraction of weights kept; ``seed`` fixes the mask. ``banks`` > 1 balances
    each output's non-zeros over the hardware's input banks (module docstring); ``fan_in_shape``
    is the ``(C, *spatial)`` shape torch flattens the fan-in from, which fixes the hardware's
    channels-last input order (default: the weight's ``shape[1:]``, i.e. ``(c_in, kh, kw)`` for
    a conv, ``(in,)`` for a linear layer; give ``(C, H, W)`` for a linear layer after a flatten
    of conv features). ``kernels`` > 1 makes packs of that many outputs complementary (disjoint
    non-zeros; module docstring).
    """

    def __init__(self, module: nn.Module, density: float, seed: int, banks: int = 1,
                 fan_in_shape: tuple[int, ...] | None = None, kernels: int = 1):
        super().__init__()
        self.module = module
        self.density = density
        weight = module.weight
        out_features = weight.shape[0]
        in_features = math.prod(weight.shape[1:])
        self.in_features = in_features
        self.fan_in = fan_in_for_density(in_features, density)
        self.banks = banks
        self.kernels = kernels
        generator = torch.Generator().manual_seed(seed)
        if banks == 1 and kernels == 1:
            mask = fixed_fan_in_mask(out_features, in_features, self.fan_in, generator)
        else:
            shape = tuple(fan_in_shape or weight.shape[1:])
            if math.prod(shape) != in_features:
                raise ConfigError(f"fan_in_shape {shape} has {math.prod(shape)} inputs but the layer has "
                                  f"{in_features}; give the (C, *spatial) shape the layer's input is flattened from")
            if kernels == 1:
                in_hardware_order = balanced_fan_in_mask(out_features, in_features, self.fan_in, banks, generator)
            else:
                in_hardware_order = complementary_fan_in_mask(out_features, in_features, self.fan_in, banks, kernels,
                                                              generator)
            mask = torch.empty_like(in_hardware_order)
            mask[:, channels_last_order(shape)] = in_hardware_order
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
        banks = f", banks={self.banks}" if self.banks > 1 else ""
        kernels = f", complementary_kernels={self.kernels}" if self.kernels > 1 else ""
        return f"density={self.density}, fan_in={self.fan_in}{banks}{kernels}"


def rezero_weights(model: nn.Module) -> None:
    """Re-apply every ``SparseWeights`` mask in ``model`` (call after each optimizer step)."""
    for module in model.modules():
        if isinstance(module, SparseWeights):
            module.rezero()


def weight_layers(model: nn.Module) -> list[tuple[str, nn.Module, SparseWeights | None]]:
    """The weight layers (conv and linear) in forward order: ``(name, layer, sparse_wrapper)``.

    ``name`` is the module path of the layer (``"0.module"`` inside a sparse wrapper, ``"0"``
    otherwise); ``sparse_wrapper`` is the ``SparseWeights`` holding its mask, or ``None`` for a
    dense layer. Works for every model family.
    """
    wrapped = {id(m.module): m for m in model.modules() if isinstance(m, SparseWeights)}
    return [(name, module, wrapped.get(id(module)))
            for name, module in model.named_modules() if isinstance(module, WEIGHT_LAYER_TYPES)]
