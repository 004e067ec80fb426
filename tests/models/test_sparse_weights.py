"""Fixed fan-in weight masks: exact fan-in, density mapping, zeros that survive training, bank balance."""

from __future__ import annotations

import math

import pytest
import torch
from brevitas.nn import QuantLinear
from torch import nn

from sparsekws.core.errors import ConfigError
from sparsekws.models.sparse_weights import (SparseWeights, balanced_fan_in_mask, channels_last_order,
                                             complementary_fan_in_mask, fan_in_for_density, fixed_fan_in_mask,
                                             rezero_weights)


@pytest.mark.parametrize("in_features, density, fan_in", [
    (490, 0.1, 49), (256, 0.1, 26), (256, 0.5, 128), (16, 0.25, 4), (490, 0.25, 122),
    (10, 0.01, 1), (10, 1.0, 10),
])
def test_density_maps_to_fan_in(in_features, density, fan_in):
    assert fan_in_for_density(in_features, density) == fan_in


@pytest.mark.parametrize("density", [0.0, -0.1, 1.5])
def test_density_out_of_range_is_rejected(density):
    with pytest.raises(ValueError):
        fan_in_for_density(10, density)


def test_mask_has_exact_fan_in_per_row_and_is_seeded():
    mask = fixed_fan_in_mask(64, 100, 7, torch.Generator().manual_seed(3))
    assert mask.shape == (64, 100)
    assert set(mask.unique().tolist()) == {0.0, 1.0}
    assert (mask.sum(dim=1) == 7).all()
    again = fixed_fan_in_mask(64, 100, 7, torch.Generator().manual_seed(3))
    other = fixed_fan_in_mask(64, 100, 7, torch.Generator().manual_seed(4))
    assert torch.equal(mask, again) and not torch.equal(mask, other)


def test_wrapper_zeroes_weights_at_construction():
    layer = SparseWeights(nn.Linear(50, 20, bias=False), density=0.2, seed=1)
    assert layer.fan_in == 10 and layer.mask_density == pytest.approx(0.2)
    assert ((layer.module.weight != 0).sum(dim=1) == 10).all()
    assert torch.equal(layer.module.weight != 0, layer.mask.bool())
    assert "mask" in layer.state_dict()


def _net(seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(
        SparseWeights(QuantLinear(40, 32, bias=False, weight_bit_width=3), density=0.25, seed=1),
        nn.ReLU(),
        SparseWeights(nn.Linear(32, 5, bias=False), density=0.5, seed=2),
    )


@pytest.mark.parametrize("make_optimizer", [
    lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=1e-3),
    lambda p: torch.optim.Adam(p, lr=0.01, weight_decay=1e-2),
    lambda p: torch.optim.AdamW(p, lr=0.01, weight_decay=1e-2),
], ids=["sgd-momentum", "adam-weight-decay", "adamw"])
def test_masked_weights_stay_exactly_zero_through_training(make_optimizer):
    net = _net()
    masks = [m.mask.clone() for m in net.modules() if isinstance(m, SparseWeights)]
    optimizer = make_optimizer(net.parameters())
    x, y = torch.randn(64, 40), torch.randint(0, 5, (64,))
    for _ in range(200):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
        rezero_weights(net)
    wrappers = [m for m in net.modules() if isinstance(m, SparseWeights)]
    for wrapper, mask in zip(wrappers, masks):
        weight = wrapper.module.weight
        assert torch.equal(wrapper.mask, mask)  # the mask is fixed
        assert (weight[mask == 0] == 0).all()  # exact zeros, not just small
        assert ((weight != 0).sum(dim=1) == wrapper.fan_in).all()  # kept weights did train
    quantised = wrappers[0].module.quant_weight().value
    assert (quantised[masks[0] == 0] == 0).all()


def test_without_rezero_momentum_revives_masked_weights():
    """Why rezero after every step matters: weight decay / momentum move masked weights."""
    net = _net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    x, y = torch.randn(64, 40), torch.randint(0, 5, (64,))
    for _ in range(5):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
    wrapper = net[0]
    assert (wrapper.module.weight[wrapper.mask == 0] != 0).any()
    rezero_weights(net)
    assert (wrapper.module.weight[wrapper.mask == 0] == 0).all()


def test_conv_mask_fan_in_counts_over_in_channels_and_kernel():
    from brevitas.nn import QuantConv2d

    conv = SparseWeights(QuantConv2d(16, 8, 5, bias=False, weight_bit_width=4), density=0.2, seed=3)
    assert conv.in_features == 16 * 25 and conv.fan_in == 80
    assert conv.mask.shape == (8, 16, 5, 5)
    per_filter = (conv.module.weight != 0).flatten(1).sum(dim=1)
    assert (per_filter == 80).all()
    assert (conv.mask.flatten(1).sum(dim=1) == 80).all()
    # the kept inputs differ between filters (independent random subsets)
    assert not torch.equal(conv.mask[0], conv.mask[1])
    out = conv(torch.randn(2, 16, 9, 9))
    assert out.shape == (2, 8, 5, 5)


def test_conv_masked_weights_stay_zero_through_training_and_quantisation():
    from brevitas.nn import QuantConv2d

    torch.manual_seed(0)
    net = nn.Sequential(SparseWeights(QuantConv2d(4, 6, 3, bias=False, weight_bit_width=3), 0.3, seed=1),
                        nn.ReLU(), nn.Flatten(), nn.Linear(6 * 6 * 6, 3))
    mask = net[0].mask.clone()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-3)
    x, y = torch.randn(16, 4, 8, 8), torch.randint(0, 3, (16,))
    for _ in range(100):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
        rezero_weights(net)
    weight = net[0].module.weight
    assert torch.equal(net[0].mask, mask)
    assert (weight[mask == 0] == 0).all()
    assert ((weight != 0).flatten(1).sum(dim=1) == net[0].fan_in).all()
    assert (net[0].module.quant_weight().value[mask == 0] == 0).all()


def test_weight_layers_lists_conv_and_linear_with_masks():
    from sparsekws.models.sparse_weights import weight_layers

    net = nn.Sequential(SparseWeights(nn.Conv2d(1, 2, 3), 0.5, seed=1), nn.Flatten(), nn.Linear(8, 2))
    layers = weight_layers(net)
    assert [(name, type(layer).__name__, sparse is not None) for name, layer, sparse in layers] == [
        ("0.module", "Conv2d", True), ("2", "Linear", False)]


# ---- bank-balanced placement ------------------------------------------------------------------

def _bank_counts(mask: torch.Tensor, banks: int) -> torch.Tensor:
    """Non-zeros of each row per input class ``i mod banks``: shape (out, banks)."""
    return mask.reshape(mask.shape[0], -1, banks).sum(dim=1)


@pytest.mark.parametrize("out_features, in_features, fan_in, banks", [
    (1000, 1600, 160, 32), (64, 1600, 320, 64), (50, 200, 40, 8), (40, 60, 17, 12), (30, 36, 35, 6),
])
def test_balanced_mask_fills_every_bank_of_every_divisor_evenly(out_features, in_features, fan_in, banks):
    mask = balanced_fan_in_mask(out_features, in_features, fan_in, banks, torch.Generator().manual_seed(5))
    assert mask.shape == (out_features, in_features) and set(mask.unique().tolist()) <= {0.0, 1.0}
    assert (mask.sum(dim=1) == fan_in).all()
    for simd in (d for d in range(1, banks + 1) if banks % d == 0):
        counts = _bank_counts(mask, simd)
        assert counts.max() == math.ceil(fan_in / simd), simd
        assert counts.min() == fan_in // simd, simd
    # random within a class: rows and seeds differ
    assert not torch.equal(mask[0], mask[1])
    again = balanced_fan_in_mask(out_features, in_features, fan_in, banks, torch.Generator().manual_seed(5))
    other = balanced_fan_in_mask(out_features, in_features, fan_in, banks, torch.Generator().manual_seed(6))
    assert torch.equal(mask, again) and not torch.equal(mask, other)


def test_a_random_mask_is_not_balanced():
    """Why the option exists: uniform placement overfills some bank (1600 x 1000 at 0.1, 32 banks)."""
    mask = fixed_fan_in_mask(1000, 1600, 160, torch.Generator().manual_seed(5))
    assert _bank_counts(mask, 32).max() >= 2 * math.ceil(160 / 32)


def test_banks_not_dividing_the_fan_in_balance_over_the_common_divisor():
    # 490 inputs, 32 banks: gcd 2, so only the two classes i mod 2 are balanced
    mask = balanced_fan_in_mask(20, 490, 49, 32, torch.Generator().manual_seed(1))
    assert (mask.sum(dim=1) == 49).all()
    assert _bank_counts(mask, 2).max() == 25
    # a fan-in close to the input count still fits in every class
    full = balanced_fan_in_mask(8, 48, 47, 16, torch.Generator().manual_seed(1))
    assert (full.sum(dim=1) == 47).all() and _bank_counts(full, 16).min() == 2


def test_one_bank_keeps_the_random_masks_draw_for_draw():
    layer = SparseWeights(nn.Linear(100, 64, bias=False), density=0.07, seed=3, banks=1)
    assert torch.equal(layer.mask, fixed_fan_in_mask(64, 100, 7, torch.Generator().manual_seed(3)))
    assert torch.equal(layer.mask, SparseWeights(nn.Linear(100, 64, bias=False), density=0.07, seed=3).mask)


def test_channels_last_order_is_the_im2col_order():
    """Position ``(kh_i * kw + kw_i) * c_in + c`` of FINN's lowered conv holds torch's weight[:, c, kh_i, kw_i]."""
    weight = torch.randn(4, 3, 2, 5)
    im2col = weight.permute(0, 2, 3, 1).reshape(4, -1)  # (c_out, kh, kw, c_in), as FINN lowers it
    assert torch.equal(weight.reshape(4, -1)[:, channels_last_order((3, 2, 5))], im2col)
    assert torch.equal(channels_last_order((7,)), torch.arange(7))


def test_conv_wrapper_balances_in_the_hardware_order():
    conv = SparseWeights(nn.Conv2d(16, 8, 5, bias=False), density=0.2, seed=3, banks=16)
    assert conv.fan_in == 80 and "banks=16" in repr(conv)
    hardware = conv.mask.permute(0, 2, 3, 1).reshape(8, -1)  # (kh, kw, c_in): channels fastest
    assert (hardware.sum(dim=1) == 80).all()
    assert (_bank_counts(hardware, 16) == 5).all()
    assert torch.equal(conv.module.weight != 0, conv.mask.bool())
    # torch's own (c_in, kh, kw) order would put whole kernels of one channel into a bank
    assert _bank_counts(conv.mask.reshape(8, -1), 16).max() > 5


def test_linear_after_flatten_balances_in_channels_last_order():
    layer = SparseWeights(nn.Linear(8 * 5 * 5, 12, bias=False), density=0.1, seed=2, banks=8,
                          fan_in_shape=(8, 5, 5))
    hardware = layer.mask.reshape(12, 8, 5, 5).permute(0, 2, 3, 1).reshape(12, -1)  # (h, w, c)
    assert (_bank_counts(hardware, 8) <= math.ceil(20 / 8)).all()
    assert (layer.mask.sum(dim=1) == 20).all()


@pytest.mark.parametrize("kwargs, message", [
    ({"banks": 0}, "weight_banks must be >= 1"),
    ({"banks": 4, "fan_in_shape": (3, 3)}, "fan_in_shape"),
])
def test_bad_bank_options_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        SparseWeights(nn.Linear(10, 4), density=0.5, seed=1, **kwargs)


def test_balanced_masks_stay_fixed_and_exact_through_training():
    torch.manual_seed(0)
    net = nn.Sequential(SparseWeights(QuantLinear(64, 16, bias=False, weight_bit_width=3), 0.25, seed=1, banks=8),
                        nn.ReLU(), nn.Linear(16, 3))
    mask = net[0].mask.clone()
    optimizer = torch.optim.Adam(net.parameters(), lr=0.01, weight_decay=1e-2)
    x, y = torch.randn(32, 64), torch.randint(0, 3, (32,))
    for _ in range(20):
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(x), y).backward()
        optimizer.step()
        rezero_weights(net)
    assert torch.equal(net[0].mask, mask) and "mask" in net[0].state_dict()
    assert torch.equal(net[0].module.weight != 0, mask.bool())
    assert (net[0].module.quant_weight().value[mask == 0] == 0).all()


@pytest.mark.parametrize("out_features, in_features, fan_in, banks, kernels", [
    (64, 1600, 320, 64, 4), (60, 1600, 320, 1, 5), (12, 30, 6, 3, 4), (8, 20, 5, 1, 2),
])
def test_complementary_packs_have_disjoint_balanced_kernels(out_features, in_features, fan_in, banks, kernels):
    mask = complementary_fan_in_mask(out_features, in_features, fan_in, banks, kernels, torch.Generator().manual_seed(2))
    assert (mask.sum(dim=1) == fan_in).all() and set(mask.unique().tolist()) <= {0.0, 1.0}
    packs = out_features // kernels
    per_pack = mask.reshape(kernels, packs, in_features).sum(dim=0)  # pack g: outputs g, g + packs, ...
    assert per_pack.max() == 1  # every input belongs to at most one kernel of a pack
    groups = math.gcd(banks, in_features)
    if groups > 1:
        assert _bank_counts(mask, groups).max() == math.ceil(fan_in / groups)
    # input rows hold at most one non-zero per output bank o mod packs: the scatter unit's bank depth 1
    assert mask.T.reshape(in_features, kernels, packs).sum(dim=1).max() == 1
    again = complementary_fan_in_mask(out_features, in_features, fan_in, banks, kernels, torch.Generator().manual_seed(2))
    assert torch.equal(mask, again)


def test_random_masks_are_not_complementary():
    mask = balanced_fan_in_mask(64, 1600, 320, 64, torch.Generator().manual_seed(2))
    assert mask.reshape(4, 16, 1600).sum(dim=0).max() > 1


@pytest.mark.parametrize("kernels, message", [(3, "must divide"), (6, "need 30 of the 25 inputs")])
def test_impossible_complementary_packs_are_rejected(kernels, message):
    with pytest.raises(ConfigError, match=message):
        SparseWeights(nn.Conv2d(64, 60 if kernels == 6 else 64, 5, bias=False), density=0.2, seed=1, banks=64,
                      kernels=kernels)


def test_conv_wrapper_packs_kernels_in_the_hardware_order():
    conv = SparseWeights(nn.Conv2d(64, 64, 5, bias=False), density=0.2, seed=3, banks=64, kernels=4)
    assert "complementary_kernels=4" in repr(conv)
    rows = conv.mask.permute(2, 3, 1, 0).reshape(-1, 64)  # (kh, kw, c_in) rows x outputs
    assert rows.reshape(-1, 4, 16).sum(dim=1).max() == 1
