"""Numenta's GSC CNN in Brevitas: topology, shapes, sparse layers, k-WTA placement."""

from __future__ import annotations

import pytest
import torch
from brevitas.nn import QuantConv2d, QuantLinear, QuantReLU
from torch import nn

from support.fixtures import cnn_config

from sparsekws.core.errors import UserError
from sparsekws.models.zoo import build_model as build_cnn
from sparsekws.models.kwinners import KWinners, kwinners_layers
from sparsekws.models.sparse_weights import SparseWeights, weight_layers


def test_full_size_sparse_topology_and_shapes():
    cfg = cnn_config(conv_channels=[64, 64], linear_units=1000)
    model = build_cnn(cfg, (1, 32, 32), 12, seed=1)
    kinds = [type(m) for m in model]
    conv_block = [SparseWeights, nn.BatchNorm2d, QuantReLU, nn.MaxPool2d, KWinners]
    assert kinds == conv_block * 2 + [nn.Flatten, SparseWeights, nn.BatchNorm1d, QuantReLU, KWinners, QuantLinear]
    shapes = [tuple(layer.weight.shape) for _, layer, _ in weight_layers(model)]
    assert shapes == [(64, 1, 5, 5), (64, 64, 5, 5), (1000, 1600), (12, 1000)]
    assert [s.fan_in if s else None for _, _, s in weight_layers(model)] == [12, 320, 160, None]
    assert [type(layer) for _, layer, _ in weight_layers(model)] == [QuantConv2d, QuantConv2d, QuantLinear, QuantLinear]
    k_layers = [m for _, m in kwinners_layers(model)]
    assert [(m.channels, m.k_fraction, m.mode) for m in k_layers] == [
        (64, 0.095, "global"), (64, 0.125, "global"), (1000, 0.1, "global")]
    model.eval()
    x = torch.randint(-128, 128, (2, 1, 32, 32)).float()
    assert model(x).shape == (2, 12)
    assert [k.k(torch.zeros(1, 64, 14, 14), training=True) for k in k_layers[:1]] == [1192]


def test_dense_variant_has_no_masks_and_no_kwinners():
    cfg = cnn_config(conv_weight_density=[1.0, 1.0], linear_weight_density=1.0, kwinners=False)
    model = build_cnn(cfg, (1, 32, 32), 12, seed=1)
    assert all(s is None for _, _, s in weight_layers(model))
    assert kwinners_layers(model) == []
    # activation density 1.0 also means no k-WTA module
    model = build_cnn(cnn_config(conv_activation_density=[1.0, 0.5], linear_activation_density=1.0),
                      (1, 32, 32), 12, seed=1)
    assert [m.channels for _, m in kwinners_layers(model)] == [8]


def test_relu_comes_before_maxpool_for_finn():
    model = build_cnn(cnn_config(), (1, 32, 32), 12, seed=1)
    kinds = [type(m).__name__ for m in model]
    assert kinds.index("QuantReLU") < kinds.index("MaxPool2d")


def test_local_mode_and_seeded_masks():
    a = build_cnn(cnn_config(kwinners_mode="local"), (1, 32, 32), 12, seed=3)
    b = build_cnn(cnn_config(kwinners_mode="local"), (1, 32, 32), 12, seed=3)
    c = build_cnn(cnn_config(kwinners_mode="local"), (1, 32, 32), 12, seed=4)
    modes = [m.mode for _, m in kwinners_layers(a)]
    assert modes == ["local", "local", "global"]  # the 1-D layer has only one group
    masks = lambda m: [s.mask for _, _, s in weight_layers(m) if s is not None]  # noqa: E731
    assert all(torch.equal(x, y) for x, y in zip(masks(a), masks(b)))
    assert not torch.equal(masks(a)[0], masks(c)[0])


def test_activations_after_kwinners_are_sparse_and_quantised():
    torch.manual_seed(0)
    model = build_cnn(cnn_config(), (1, 32, 32), 12, seed=1).eval()
    outputs = {}
    for name, module in kwinners_layers(model):
        module.register_forward_hook(lambda m, i, o, name=name: outputs.__setitem__(name, o))
    model(torch.randint(-128, 128, (4, 1, 32, 32)).float())
    first = outputs["4"]
    k = round(0.095 * 1.5 * 8 * 14 * 14)
    assert ((first != 0).flatten(1).sum(1) <= k).all()
    assert outputs["14"].shape == (4, 32) and ((outputs["14"] != 0).sum(1) <= round(0.15 * 32)).all()


def test_errors_name_the_key():
    with pytest.raises(UserError, match="conv_weight_density"):
        build_cnn(cnn_config(conv_weight_density=[0.5]), (1, 32, 32), 12, seed=1)
    with pytest.raises(UserError, match="too small"):
        build_cnn(cnn_config(), (1, 10, 49), 12, seed=1)


def test_batchnorm_affine_and_weight_scaling_options():
    plain = build_cnn(cnn_config(batchnorm_affine=False), (1, 32, 32), 12, seed=1)
    norms = [m for m in plain.modules() if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d))]
    assert len(norms) == 3 and all(m.weight is None and m.bias is None for m in norms)
    for scaling, channels in (("per_tensor", 1), ("per_channel", 8), ("per_channel_mse", 8)):
        model = build_cnn(cnn_config(weight_scaling=scaling), (1, 32, 32), 12, seed=1).eval()
        _, conv, _ = weight_layers(model)[0]
        assert conv.quant_weight().scale.numel() == channels


def test_kwinners_before_pool_is_nupic_order():
    model = build_cnn(cnn_config(kwinners_placement="before_pool"), (1, 32, 32), 12, seed=1)
    kinds = [type(m).__name__ for m in model]
    assert kinds[:5] == ["SparseWeights", "BatchNorm2d", "QuantReLU", "KWinners", "MaxPool2d"]
    outputs = {}
    first = kwinners_layers(model)[0][1]
    first.register_forward_hook(lambda m, i, o: outputs.__setitem__("k", o))
    model.eval()(torch.randint(-128, 128, (2, 1, 32, 32)).float())
    assert outputs["k"].shape == (2, 8, 28, 28)
    assert ((outputs["k"] != 0).flatten(1).sum(1) <= round(0.095 * 1.5 * 8 * 28 * 28)).all()
