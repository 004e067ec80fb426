"""The KWS MLP: topology, sparse layers, seeding."""

from __future__ import annotations

import pytest
import torch
from brevitas.nn import QuantLinear, QuantReLU
from torch import nn

from sparsekws.models.mlp import input_datatype
from sparsekws.models.sparse_weights import weight_layers
from sparsekws.models.zoo import build_model
from sparsekws.models.sparse_weights import SparseWeights

CFG = {"family": "mlp", "frontend": "mfcc", "hidden_units": [32, 24], "weight_bits": 3,
       "activation_bits": 3, "input_bits": 8, "weight_density": 1.0, "weight_scaling": "per_tensor"}


def test_dense_topology():
    model = build_model(CFG, (490,), 12, seed=1)
    kinds = [type(m) for m in model]
    assert kinds == [QuantLinear, nn.BatchNorm1d, QuantReLU, QuantLinear, nn.BatchNorm1d, QuantReLU, QuantLinear]
    assert [lin.weight.shape for _, lin, _ in weight_layers(model)] == [(32, 490), (24, 32), (12, 24)]
    assert all(lin.bias is None for _, lin, _ in weight_layers(model))
    assert all(sparse is None for _, _, sparse in weight_layers(model))
    model.eval()
    assert model(torch.randint(-128, 128, (5, 490)).float()).shape == (5, 12)


def test_sparse_layers_have_fan_in_masks():
    model = build_model({**CFG, "weight_density": 0.1}, (490,), 12, seed=1)
    layers = weight_layers(model)
    assert [name for name, _, _ in layers] == ["0.module", "3.module", "6.module"]
    assert [sparse.fan_in for _, _, sparse in layers] == [49, 3, 2]
    for _, linear, sparse in layers:
        assert isinstance(sparse, SparseWeights)
        assert ((linear.weight != 0).sum(dim=1) == sparse.fan_in).all()
        assert ((linear.quant_weight().value != 0).sum(dim=1) <= sparse.fan_in).all()


def test_masks_depend_on_seed_and_layer():
    a = build_model({**CFG, "hidden_units": [16, 16], "weight_density": 0.25}, (16,), 16, seed=1)
    b = build_model({**CFG, "hidden_units": [16, 16], "weight_density": 0.25}, (16,), 16, seed=1)
    c = build_model({**CFG, "hidden_units": [16, 16], "weight_density": 0.25}, (16,), 16, seed=2)
    masks = lambda m: [s.mask for _, _, s in weight_layers(m)]  # noqa: E731
    assert all(torch.equal(x, y) for x, y in zip(masks(a), masks(b)))
    assert not torch.equal(masks(a)[0], masks(c)[0])
    assert not torch.equal(masks(a)[0], masks(a)[1])  # same shape, different layer seed


@pytest.mark.parametrize("bits", [2, 3, 4])
def test_weights_quantise_to_bit_width(bits):
    model = build_model({**CFG, "weight_bits": bits}, (490,), 12, seed=1)
    for _, linear, _ in weight_layers(model):
        ints = linear.quant_weight().int()
        assert ints.abs().max() <= 2 ** (bits - 1) - 1


def test_input_datatype():
    assert input_datatype(8) == "INT8"
