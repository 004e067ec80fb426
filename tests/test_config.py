import copy

import pytest
import yaml

from sparsekws.config import (ConfigError, REPO_ROOT, board_file, known_boards, load_board, load_config,
                              model_config, validate_config)

DEFAULT = REPO_ROOT / "config" / "config.yaml"


def default_config():
    return yaml.safe_load(DEFAULT.read_text())


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml"])
def test_shipped_configs_are_valid(name):
    config = load_config(REPO_ROOT / "config" / name)
    assert config["task"]["words"][:2] == ["yes", "no"]  # not YAML booleans
    assert set(config["models"]) >= {"dense", "sparse"}


def test_defaults_are_filled_in_nested_sections():
    config = default_config()
    del config["measure"]
    del config["dataset"]["synthetic"]["workers"]
    validate_config(config)
    assert config["measure"]["cpu"]["batch_sizes"] == [1, 64]
    assert config["dataset"]["synthetic"]["workers"] == 2


@pytest.mark.parametrize("path, value, expected", [
    (("models", "sparse", "weight_density"), 1.5, "models.sparse.weight_density"),
    (("train", "epochs"), "ten", "train.epochs"),
    (("dataset", "source"), "internet", "dataset.source"),
    (("task", "words"), [True, "up"], "task.words.0"),
    (("train", "optimiser"), "adam", "'optimiser' was unexpected"),
])
def test_invalid_values_name_the_key(path, value, expected):
    config = default_config()
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        validate_config(config)


def test_unknown_board_is_named_with_the_known_ones():
    config = default_config()
    config["compile"]["boards"] = ["zcu104", "vcu118"]
    with pytest.raises(ConfigError, match="unknown board 'vcu118'.*known boards: .*zcu104"):
        validate_config(config)


def test_unknown_model_lists_the_defined_ones():
    with pytest.raises(ConfigError, match="unknown model 'tiny'.*dense, dense-cnn, sparse, sparse-cnn"):
        model_config(load_config(DEFAULT), "tiny")


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad)
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad)


def test_validation_does_not_change_a_valid_config_twice():
    config = validate_config(default_config())
    again = validate_config(copy.deepcopy(config))
    assert again == config


def test_board_files_have_the_fields_the_compile_stage_needs():
    assert {"u250", "zcu104", "ultra96", "pynq-z1"} <= set(known_boards())
    for name in known_boards():
        board = load_board(name)
        assert board["name"] == name == board_file(name).stem
        assert board["clock_mhz"] > 0
        assert set(board["resources"]) == {"LUT", "FF", "BRAM36", "URAM", "DSP"}
    assert load_board("u250")["part"] == "xcu250-figd2104-2L-e"
