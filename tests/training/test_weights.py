"""Weight statistics count the mask's kept weights, the non-zero quantised ones and MACs."""

import torch

from support.fixtures import cnn_config, dense_cnn_config

from sparsekws.models.sparse_weights import rezero_weights, weight_layers
from sparsekws.models.zoo import build_model
from sparsekws.training.weights import weight_stats


def test_kept_weights_that_round_to_zero_are_counted():
    torch.manual_seed(0)
    model = build_model(cnn_config(), (1, 32, 32), 12, seed=1)
    _, layer, sparse = weight_layers(model)[1]  # conv2 at density 0.2
    with torch.no_grad():
        layer.weight.mul_(1e-4)
        kept = sparse.mask.reshape(layer.weight.shape[0], -1)[0].nonzero()[0, 0]
        layer.weight.view(layer.weight.shape[0], -1)[0, kept] = 1.0  # one large weight: the others round to 0
        rezero_weights(model)
    stats = weight_stats(model, (1, 32, 32))
    conv2 = stats["layers"][1]
    assert conv2["kept_weights"] == sparse.fan_in * 8 == round(0.2 * 8 * 25) * 8
    assert conv2["nonzero_weights"] == 1 and conv2["kept_zero_fraction"] > 0.9
    assert stats["kept_weights"] == sum(layer["kept_weights"] for layer in stats["layers"])
    assert 0 < stats["kept_zero_fraction"] < 1
    assert stats["macs_weight_sparse"] <= stats["macs_mask"] < stats["macs_dense"]


def test_dense_model_keeps_every_weight():
    stats = weight_stats(build_model(dense_cnn_config(), (1, 32, 32), 12, seed=1), (1, 32, 32))
    assert stats["kept_weights"] == stats["total_weights"]
    assert all(layer["mask_density"] == 1.0 for layer in stats["layers"])
    assert stats["macs_mask"] == stats["macs_dense"]
