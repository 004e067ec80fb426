"""The model zoo: dispatch on family, input shapes, weight-layer listing, config entries and schema."""

from __future__ import annotations

import copy

import pytest
import torch
import yaml
from brevitas.nn import QuantConv2d, QuantLinear

from support.fixtures import cnn_config, mlp_config

from support import REPO_ROOT
from sparsekws.core.config import ConfigError
from sparsekws.core.errors import UserError
from sparsekws.models.kwinners import kwinners_layers
from sparsekws.models.sparse_weights import weight_layers
from sparsekws.models.zoo import build_model, model_input_shape
from support import named_config, validated

DEFAULT = REPO_ROOT / "config" / "config.yaml"


def default_with_mlps() -> dict:
    """The default config as written, with the zoo's MLP pair (dense, sparse) added."""
    config = yaml.safe_load(DEFAULT.read_text())
    zoo = yaml.safe_load((REPO_ROOT / "config" / "zoo.yaml").read_text())
    config["models"].update({name: zoo["models"][name] for name in ("dense", "sparse")})
    return config


def test_input_shapes():
    assert model_input_shape(mlp_config(1.0), (49, 10)) == (490,)
    assert model_input_shape(cnn_config(), (32, 32)) == (1, 32, 32)
    with pytest.raises(UserError, match="logmel"):
        model_input_shape(cnn_config(), (490,))


def test_build_model_dispatches_on_family():
    net = build_model(mlp_config(0.5, hidden=(16, 16)), (490,), 12, seed=1)
    assert [type(layer) for _, layer, _ in weight_layers(net)] == [QuantLinear] * 3
    assert net.eval()(torch.zeros(2, 490)).shape == (2, 12)
    cnn = build_model(cnn_config(), (1, 32, 32), 12, seed=1)
    assert [type(layer) for _, layer, _ in weight_layers(cnn)] == [QuantConv2d, QuantConv2d, QuantLinear, QuantLinear]
    assert cnn.eval()(torch.zeros(2, 1, 32, 32)).shape == (2, 12)
    with pytest.raises(UserError, match="unknown model family"):
        build_model({**cnn_config(), "family": "rnn"}, (1, 32, 32), 12, seed=1)


def test_weight_layers_are_named_by_module_path():
    net = build_model(mlp_config(0.5, hidden=(16, 16)), (490,), 12, seed=1)
    assert [name for name, _, _ in weight_layers(net)] == ["0.module", "3.module", "6.module"]


def test_zoo_config_holds_the_models_and_the_8bit_pair():
    cfg = named_config("zoo.yaml")
    models = cfg["models"]
    assert set(models) == {"dense", "sparse", "dense-cnn", "sparse-cnn", "super-sparse-cnn", "dense-cnn-8bit",
                           "sparse-cnn-8bit"}
    default = named_config("config.yaml")["models"]
    for bits in ("dense-cnn", "sparse-cnn"):  # the 8-bit pair differs from the 4-bit one in its bit widths only
        eight = {k: v for k, v in models[f"{bits}-8bit"].items() if k not in ("hardware", "sparse_hw")}
        four = {k: v for k, v in default[bits].items() if k not in ("hardware", "sparse_hw")}
        assert eight == {**four, "weight_bits": 8, "activation_bits": 8}
        assert models[f"{bits}-8bit"]["hardware"] is False
    assert cfg["dataset"]["name"] != named_config("config.yaml")["dataset"]["name"]
    assert models["sparse-cnn"]["conv_weight_density"] == [0.5, 0.2]
    assert models["sparse-cnn"]["linear_weight_density"] == 0.1
    assert models["sparse-cnn"]["conv_activation_density"] == [0.095, 0.125]
    assert models["super-sparse-cnn"]["linear_units"] == 1500
    assert models["super-sparse-cnn"]["linear_weight_density"] == 0.05
    torch.manual_seed(0)  # a random float32 init draws an exact 0 now and then: count on a fixed draw
    dense = build_model(models["dense-cnn"], (1, 32, 32), 12, seed=1)
    sparse = build_model(models["sparse-cnn"], (1, 32, 32), 12, seed=1)
    assert kwinners_layers(dense) == [] and len(kwinners_layers(sparse)) == 3
    count = lambda m: sum(int((l.weight != 0).sum()) for _, l, _ in weight_layers(m))  # noqa: E731,E741
    assert count(dense) == 64 * 25 + 64 * 64 * 25 + 1600 * 1000 + 1000 * 12
    assert count(sparse) < count(dense) / 8


def test_default_config_has_the_cnns_the_zoo_both_families_and_the_sweep_config_a_sweep_of_the_sparse_cnn():
    assert {m["family"] for m in named_config("config.yaml")["models"].values()} == {"cnn"}
    assert {m["family"] for m in named_config("zoo.yaml")["models"].values()} == {"mlp", "cnn"}
    cfg = named_config("sweep.yaml")
    swept = [name for name in cfg["models"] if name.startswith(cfg["sweep"]["base"] + "-w")]
    assert cfg["models"][cfg["sweep"]["base"]]["kwinners"] and len(swept) >= 5


def test_cnn_defaults_are_filled_in():
    cfg = yaml.safe_load(DEFAULT.read_text())
    cfg["models"] = {"c": {"family": "cnn", "frontend": "logmel"}}
    entry = validated(cfg)["models"]["c"]
    assert entry["conv_channels"] == [64, 64] and entry["kernel_size"] == 5 and entry["linear_units"] == 1000
    assert entry["kwinners"] is False and entry["conv_weight_density"] == [1.0, 1.0]
    assert entry["k_inference_factor"] == 1.5 and entry["kwinners_mode"] == "global"
    assert (entry["kwinners_placement"], entry["duty_cycle_counts"], entry["batchnorm_affine"], entry["weight_scaling"]) \
        == ("after_pool", "positions", True, "per_tensor")
    assert "hidden_units" not in entry and "weight_density" not in entry


@pytest.mark.parametrize("model, key, value, expected", [
    ("sparse-cnn", "hidden_units", [256], "hidden_units"),  # an mlp key on a cnn
    ("sparse", "conv_channels", [64], "conv_channels"),  # a cnn key on an mlp
    ("sparse-cnn", "kwinners_mode", "lateral", "models.sparse-cnn.kwinners_mode"),
    ("sparse-cnn", "linear_weight_density", 1.5, "models.sparse-cnn.linear_weight_density"),
    ("sparse-cnn", "frontend", "mfcc", "models.sparse-cnn.frontend"),
    ("sparse-cnn", "conv_weigth_density", [0.5, 0.2], "conv_weigth_density"),  # a typo
    ("dense", "family", "rnn", "models.dense.family"),
])
def test_wrong_model_keys_are_named(model, key, value, expected):
    cfg = default_with_mlps()
    cfg["models"][model][key] = value
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        validated(copy.deepcopy(cfg))
