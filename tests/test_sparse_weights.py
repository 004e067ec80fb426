"""Fixed fan-in weight masks: exact fan-in, density mapping, zeros that survive training."""

from __future__ import annotations

import pytest
import torch
from brevitas.nn import QuantLinear
from torch import nn

from sparsekws.models.sparse_weights import (SparseWeights, fan_in_for_density, fixed_fan_in_mask,
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
