"""Ablation rows become variants of their base model with the row's model and training keys."""

import copy

import pytest

from support import named_config, validated
from sparsekws.core.config import train_settings
from sparsekws.core.errors import ConfigError
from sparsekws.models.ablation import ablation_variants, expand_ablation


def _config(**rows):
    config = copy.deepcopy(named_config("config.yaml"))
    config["ablation"] = {"rows": rows}
    return config


def test_rows_become_variants_of_their_base():
    config = validated(_config(
        **{"sparse-cnn-plain": {"base": "sparse-cnn", "change": "no BN gain", "model": {"batchnorm_affine": False}},
           "sparse-cnn-sgd": {"base": "sparse-cnn", "change": "SGD", "train": {"optimizer": "sgd", "batch_size": 16}}}))
    base, plain = config["models"]["sparse-cnn"], config["models"]["sparse-cnn-plain"]
    assert plain == {**base, "batchnorm_affine": False, "hardware": False}
    assert config["models"]["sparse-cnn-sgd"] == {**base, "hardware": False}
    sgd = train_settings(config, "sparse-cnn-sgd")
    assert (sgd["optimizer"], sgd["batch_size"], sgd["epochs"]) == ("sgd", 16, train_settings(config, "sparse-cnn")["epochs"])
    assert ablation_variants(config) == {
        "sparse-cnn-plain": {"base": "sparse-cnn", "change": "no BN gain"},
        "sparse-cnn-sgd": {"base": "sparse-cnn", "change": "SGD"}}
    assert validated(copy.deepcopy(config)) == config  # idempotent
    with pytest.raises(ConfigError, match="clashes"):
        expand_ablation(_config(**{"dense-cnn": {"base": "sparse-cnn", "change": "x"}}))


def test_the_shipped_ablation_config_adds_only_training_variants():
    config = named_config("ablation.yaml")
    default = named_config("config.yaml")
    variants = ablation_variants(config)
    assert variants and all(not config["models"][name]["hardware"] for name in variants)
    assert {name: config["models"][name] for name in default["models"]} == default["models"]
    for name in default["models"]:  # the base models train exactly as in the default run
        assert train_settings(config, name) == train_settings(default, name)


@pytest.mark.parametrize("row, message", [
    ({"base": "nope", "change": "x"}, "unknown model 'nope'"),
    ({"base": "sparse-cnn", "change": "x", "model": {"colour": 1}}, "does not have"),
])
def test_bad_rows_are_named(row, message):
    with pytest.raises(ConfigError, match=message):
        expand_ablation(_config(bad=row))


def test_bad_values_fail_validation_after_expansion():
    with pytest.raises(ConfigError, match="weight_scaling"):
        validated(_config(bad={"base": "sparse-cnn", "change": "x", "model": {"weight_scaling": "per_row"}}))
    with pytest.raises(ConfigError, match="optimizer"):
        validated(_config(bad={"base": "sparse-cnn", "change": "x", "train": {"optimizer": "lbfgs"}}))
