import copy

import pytest
import yaml

from support import REPO_ROOT
from sparsekws.core.errors import ConfigError
from sparsekws.models.sweep import variant_name
from support import validated


def _config(**sweep):
    config = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
    zoo = yaml.safe_load((REPO_ROOT / "config" / "zoo.yaml").read_text())
    config["models"].update({name: zoo["models"][name] for name in ("dense", "sparse")})  # the MLP pair
    config["sweep"] = sweep
    config["train"]["per_model"] = {"sparse-cnn": {"epochs": 3}}
    return config


def test_grid_scales_every_density_and_skips_the_base_point():
    config = validated(_config(base="sparse-cnn", weight_density_scale=[2.0, 1.0, 0.5],
                                     activation_density_scale=[1.0, 2.0]))
    base = config["models"]["sparse-cnn"]
    names = [variant_name("sparse-cnn", w, a) for w in (2.0, 1.0, 0.5) for a in (1.0, 2.0) if (w, a) != (1.0, 1.0)]
    assert all(name in config["models"] for name in names) and len(names) == 5
    assert "sparse-cnn-w0.5x-a2x" in names
    half = config["models"]["sparse-cnn-w0.5x-a1x"]
    assert half["linear_weight_density"] == pytest.approx(base["linear_weight_density"] / 2)
    assert half["conv_weight_density"] == pytest.approx([d / 2 for d in base["conv_weight_density"]])
    assert half["linear_activation_density"] == base["linear_activation_density"]
    double = config["models"]["sparse-cnn-w2x-a2x"]
    assert double["conv_weight_density"] == pytest.approx([1.0, 0.4])  # capped at 1
    assert double["linear_activation_density"] == pytest.approx(2 * base["linear_activation_density"])
    assert all(not config["models"][n]["hardware"] for n in names) and base.get("hardware", True)
    assert config["train"]["per_model"]["sparse-cnn-w2x-a1x"] == {"epochs": 3}


def test_complementary_packs_shrink_to_what_a_denser_layer_leaves_room_for():
    config = validated(_config(base="sparse-cnn", weight_density_scale=[2.0, 0.5]))
    packs = {name: {int(k): v for k, v in entry["complementary_kernels"].items()}
             for name, entry in config["models"].items() if name.startswith("sparse-cnn")}
    assert packs["sparse-cnn"] == {1: 4}  # conv2 at density 0.2
    assert packs["sparse-cnn-w2x-a1x"] == {1: 2}  # 0.4: two disjoint kernels fit, four do not
    assert packs["sparse-cnn-w0.5x-a1x"] == {1: 4}


def test_expansion_is_idempotent():
    config = validated(_config(base="sparse-cnn", weight_density_scale=[1.0, 0.5]))
    again = validated(copy.deepcopy(config))
    assert again == config


def test_bad_sweeps_are_refused_with_the_key_named():
    with pytest.raises(ConfigError, match="sweep.base.*unknown model 'nope'"):
        validated(_config(base="nope"))
    with pytest.raises(ConfigError, match="activation_density_scale.*'dense'"):
        validated(_config(base="dense", activation_density_scale=[1.0, 2.0]))
    with pytest.raises(ConfigError, match="sweep.weight_density_scale"):
        validated(_config(base="sparse-cnn", weight_density_scale=[0]))
    clash = _config(base="sparse-cnn", weight_density_scale=[0.5])
    clash["models"]["sparse-cnn-w0.5x-a1x"] = copy.deepcopy(clash["models"]["dense-cnn"])
    with pytest.raises(ConfigError, match="clashes with a sweep variant"):
        validated(clash)


def test_mlp_sweep_scales_its_weight_density():
    config = validated(_config(base="sparse", weight_density_scale=[0.5]))
    assert config["models"]["sparse-w0.5x-a1x"]["weight_density"] == pytest.approx(0.05)
