"""MAC counts: dense, weight-sparse (non-zero quantised weights), weight-and-activation-sparse."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from support.fixtures import cnn_config, mlp_config, warmed_up

from sparsekws.models.macs import count_macs, measure_input_densities, measure_sparse_macs, quantised_weight
from sparsekws.models.sparse_weights import weight_layers
from sparsekws.models.zoo import build_model


def test_dense_cnn_macs_match_numenta_topology():
    cfg = cnn_config(conv_channels=[64, 64], linear_units=1000, conv_weight_density=[1.0, 1.0],
                     linear_weight_density=1.0, kwinners=False)
    macs = count_macs(build_model(cfg, (1, 32, 32), 12, seed=1), (1, 32, 32))
    expected = [64 * 25 * 28 * 28, 64 * 64 * 25 * 10 * 10, 1600 * 1000, 1000 * 12]
    assert [layer["dense"] for layer in macs["layers"]] == expected
    assert macs["dense"] == sum(expected) == 13_106_400  # about 13.1 M multiply-accumulates per dense inference
    assert [layer["output_positions"] for layer in macs["layers"]] == [784, 100, 1, 1]


def test_weight_sparse_counts_nonzero_quantised_weights():
    model = build_model(cnn_config(), (1, 32, 32), 12, seed=1)
    macs = count_macs(model, (1, 32, 32))
    for layer, (_, module, _) in zip(macs["layers"], weight_layers(model)):
        nonzero = int(torch.count_nonzero(quantised_weight(module)))
        assert layer["weight_sparse"] == nonzero * layer["output_positions"]
    conv1 = macs["layers"][0]
    assert conv1["weight_sparse"] <= 8 * 12 * 784  # fan-in 12 of 25
    assert macs["weight_sparse"] < macs["dense"]
    assert macs["weight_and_activation_sparse"] == macs["weight_sparse"]  # no densities given: dense input


def test_activation_densities_scale_the_estimate():
    model = build_model(mlp_config(0.5, hidden=(16, 16)), (490,), 12, seed=1)
    base = count_macs(model, (490,))
    macs = count_macs(model, (490,), {"3.module": 0.25, "6.module": 0.5})
    layers = macs["layers"]
    assert layers[0]["weight_and_activation_sparse"] == layers[0]["weight_sparse"]
    assert layers[1]["weight_and_activation_sparse"] == pytest.approx(0.25 * layers[1]["weight_sparse"])
    assert layers[2]["weight_and_activation_sparse"] == pytest.approx(0.5 * layers[2]["weight_sparse"])
    assert macs["dense"] == base["dense"] == 490 * 16 + 16 * 16 + 16 * 12
    assert "estimated" in macs["provenance"]["weight_and_activation_sparse"]
    with pytest.raises(ValueError, match="unknown layers"):
        count_macs(model, (490,), {"7": 0.5})


def test_measured_sparse_macs_equal_a_brute_force_count():
    torch.manual_seed(0)
    model = warmed_up(build_model(cnn_config(), (1, 32, 32), 12, seed=1), (1, 32, 32))
    x = torch.randint(-128, 128, (3, 1, 32, 32)).float()
    x[0, 0, :10] = 0  # some zero inputs in the first layer
    measured = measure_sparse_macs(model, x)
    densities = measure_input_densities(model, x)
    inputs = {}
    hooks = [layer.register_forward_pre_hook(lambda m, i, name=name: inputs.__setitem__(name, i[0]))
             for name, layer, _ in weight_layers(model)]
    with torch.no_grad():
        model(x)
    for hook in hooks:
        hook.remove()
    for name, layer, _ in weight_layers(model):
        inp, w = inputs[name] != 0, quantised_weight(layer) != 0
        if w.dim() == 4:  # brute force over unfolded patches
            patches = nn.functional.unfold(inp.float(), w.shape[2:])  # [N, C*k*k, L]
            count = torch.einsum("ncl,oc->", patches.double(), w.flatten(1).double())
        else:
            count = (inp.double() @ w.double().T).sum()
        assert measured["layers"][name] == pytest.approx(float(count) / len(x))
        assert densities[name] == pytest.approx(float(inp.float().mean()))
    assert densities["0.module"] < 1.0 and densities["15"] <= 0.15 + 1e-9
    estimate = count_macs(model, (1, 32, 32), densities)
    assert measured["weight_and_activation_sparse"] < estimate["weight_sparse"]
