"""The layer specification: what every stage reads of a model's layers, checked against the torch models."""

import pytest
import torch

from sparsekws.core.errors import UserError
from sparsekws.models.kwinners import KWinners
from sparsekws.models.sparse_weights import weight_layers
from sparsekws.models.spec import FAMILIES, KwtaLayer, k_winners_count, model_input_shape, model_spec
from sparsekws.models.zoo import build_model
from support.fixtures import cnn_config, mlp_config, warmed_up


def test_mlp_layers():
    spec = model_spec(mlp_config(0.25, hidden=(32, 24)), (490,), 12)
    assert [(w.name, w.in_features, w.out_features, w.density) for w in spec.weight_layers] == [
        ("in", 490, 32, 0.25), ("hidden1", 32, 24, 0.25), ("out", 24, 12, 0.25)]
    assert spec.kwta_layers == [] and spec.has_sparse_layers
    assert not model_spec(mlp_config(1.0), (490,), 12).has_sparse_layers


def test_cnn_layers_shapes_positions_and_k():
    spec = model_spec(cnn_config(), (1, 32, 32), 12)
    assert [item.name for item in spec.layers] == ["conv1", "kwta_conv1", "conv2", "kwta_conv2", "fc", "kwta_fc",
                                                   "out"]
    conv1, conv2, fc, out = spec.weight_layers
    assert (conv1.in_features, conv1.positions, conv1.input_chw) == (25, 28 * 28, (1, 32, 32))
    assert (conv2.in_features, conv2.positions, conv2.input_chw) == (8 * 25, 10 * 10, (8, 14, 14))
    assert (fc.in_features, fc.input_chw, out.density) == (8 * 5 * 5, (8, 5, 5), 1.0)
    assert spec.densities == [0.5, 0.2, 0.1, 1.0]
    kwta1, kwta2, kwta_fc = spec.kwta_layers
    assert (kwta1.channels, kwta1.positions, kwta2.positions, kwta_fc.positions) == (8, 14 * 14, 25, 1)
    assert kwta1.k_train == round(0.095 * 8 * 196) and kwta1.k_inference == round(0.095 * 1.5 * 8 * 196)
    assert spec.kwta_feeding(out) is kwta_fc and spec.kwta_feeding(conv2) is None


def test_dense_cnn_has_no_kwta():
    spec = model_spec(cnn_config(conv_weight_density=[1.0, 1.0], linear_weight_density=1.0, kwinners=False),
                      (1, 32, 32), 12)
    assert spec.kwta_layers == [] and not spec.has_sparse_layers


def test_spec_matches_the_built_torch_model():
    cfg = cnn_config()
    spec = model_spec(cfg, (1, 32, 32), 12)
    model = warmed_up(build_model(cfg, (1, 32, 32), 12, seed=1), (1, 32, 32))
    layers = weight_layers(model)
    assert [tuple(layer.weight.shape[:2]) for _, layer, _ in layers] == [
        (w.out_features, w.in_features // (w.kernel * w.kernel)) for w in spec.weight_layers]
    assert [(sparse.density if sparse else 1.0) for _, _, sparse in layers] == spec.densities
    kwta = [m for m in model.modules() if isinstance(m, KWinners)]
    x = torch.zeros(1, 1, 32, 32)
    sizes = []
    for module in model:
        x = module(x)
        if isinstance(module, KWinners):
            sizes.append(module.k(x, training=False))
    assert sizes == [item.k_inference for item in spec.kwta_layers] and len(kwta) == 3


def test_local_kwta_competes_per_position():
    layer = KwtaLayer("k", channels=64, positions=25, density=0.1, k_inference_factor=1.5, mode="local")
    assert layer.units == 64 and layer.k_inference == k_winners_count(64, 0.15)


def test_input_shapes_and_errors():
    assert model_input_shape(mlp_config(1.0), (49, 10)) == (490,)
    assert model_input_shape(cnn_config(), (32, 32)) == (1, 32, 32)
    with pytest.raises(UserError, match="frontend' to logmel"):
        model_input_shape(cnn_config(), (490,))
    with pytest.raises(UserError, match="unknown model family 'rnn'"):
        model_spec({"family": "rnn"}, (1,), 12)
    with pytest.raises(UserError, match="too small"):
        model_spec(cnn_config(), (1, 10, 10), 12)
    with pytest.raises(UserError, match="one value per conv layer"):
        model_spec(cnn_config(conv_weight_density=[0.5]), (1, 32, 32), 12)


def test_families_name_their_density_keys():
    assert FAMILIES["mlp"].weight_density_keys == ("weight_density",)
    assert FAMILIES["cnn"].activation_density_keys == ("conv_activation_density", "linear_activation_density")
