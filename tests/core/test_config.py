import copy

import pytest

from sparsekws.core.config import (ConfigError, board_path, load_board, load_config, model_config,
                                   resolve_inheritance, train_settings, validate_config)
from support import BOARDS_DIR, CONFIG_DIR, REPO_ROOT, SCHEMA
from support.fixtures import default_config

DEFAULT = CONFIG_DIR / "config.yaml"


def validate(config):
    return validate_config(config, SCHEMA, BOARDS_DIR)


@pytest.mark.parametrize("name", ["config.yaml", "smoke.yaml", "gsc.yaml", "gsc-digits.yaml", "zoo.yaml"])
def test_shipped_configs_are_valid(name):
    config = load_config(CONFIG_DIR / name, SCHEMA, BOARDS_DIR, root=REPO_ROOT)
    assert all(isinstance(word, str) for word in config["task"]["words"])  # yes/no/on/off quoted, not YAML booleans
    pairs = {"smoke.yaml": {"dense", "sparse"}}  # the MLP pair; every other config has the CNN pair
    assert set(config["models"]) >= pairs.get(name, {"dense-cnn", "sparse-cnn"})


def test_defaults_are_filled_in_nested_sections():
    config = default_config()
    del config["measure"]
    del config["dataset"]["synthetic"]["workers"]
    validate(config)
    assert config["measure"]["cpu"]["batch_sizes"] == [1, 64]
    assert config["dataset"]["synthetic"]["workers"] == 2


@pytest.mark.parametrize("path, value, expected", [
    (("models", "sparse-cnn", "linear_weight_density"), 1.5, "models.sparse-cnn.linear_weight_density"),
    (("train", "epochs"), "ten", "train.epochs"),
    (("dataset", "source"), "internet", "dataset.source"),
    (("task", "words"), [True, "up"], "task.words.0"),
    (("train", "optimiser"), "adam", "'optimiser' was unexpected"),
    (("compile", "budget"), {"LUTS": 0.5}, "compile.budget"),
    (("compile", "budget"), 1.5, "compile.budget"),
])
def test_invalid_values_name_the_key(path, value, expected):
    config = default_config()
    node = config
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    with pytest.raises(ConfigError, match=expected.replace(".", r"\.")):
        validate(config)


def test_the_default_budget_is_the_fit_checks():
    from sparsekws.finn.fit import DEFAULT_BUDGET

    config = default_config()
    config["compile"].pop("budget", None)
    validate(config)
    assert config["compile"]["budget"] == DEFAULT_BUDGET
    config["compile"]["budget"] = {"LUT": 0.6}
    validate(config)  # a mapping may name some resources only


def test_unknown_board_is_named_with_the_known_ones():
    config = default_config()
    config["compile"]["boards"] = ["zcu104", "vcu118"]
    with pytest.raises(ConfigError, match="unknown board 'vcu118'.*known boards: .*zcu104"):
        validate(config)


def test_unknown_model_lists_the_defined_ones():
    with pytest.raises(ConfigError, match="unknown model 'tiny'.*dense-cnn, sparse-cnn"):
        model_config(load_config(DEFAULT, SCHEMA), "tiny")


def test_missing_and_malformed_files(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.yaml", SCHEMA)
    bad = tmp_path / "bad.yaml"
    bad.write_text("seed: [1,\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(bad, SCHEMA)
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="mapping"):
        load_config(bad, SCHEMA)


def test_validation_does_not_change_a_valid_config_twice():
    config = validate(default_config())
    again = validate(copy.deepcopy(config))
    assert again == config


def test_board_files_have_the_fields_the_compile_stage_needs():
    names = sorted(path.stem for path in BOARDS_DIR.glob("*.yaml"))
    assert {"u250", "zcu104", "ultra96", "pynq-z1"} <= set(names)
    for name in names:
        board = load_board(board_path(BOARDS_DIR, name))
        assert board["name"] == name
        assert board["clock_mhz"] > 0
        assert set(board["resources"]) == {"LUT", "FF", "BRAM36", "URAM", "DSP"}
    assert load_board(BOARDS_DIR / "u250.yaml")["part"] == "xcu250-figd2104-2L-e"


def test_a_bad_board_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="board file not found"):
        load_board(tmp_path / "nope.yaml")
    (tmp_path / "half.yaml").write_text("name: half\n")
    with pytest.raises(ConfigError, match="must give name, part, clock_mhz and resources"):
        load_board(tmp_path / "half.yaml")
    base = "name: b\npart: p\nclock_mhz: 100\nresources: {LUT: 10}\n"
    for plan, message in (("floorplan: {slrs: 0}", "slrs, a positive integer"),
                          ("floorplan: {slrs: 2, platform_reserve: {slr: 2, LUT: 1}, source: s}", "one of 0..1"),
                          ("floorplan: {slrs: 2, platform_reserve: {slr: 0, LUT: -1}, source: s}", "non-negative"),
                          ("floorplan: {slrs: 2, platform_reserve: {slr: 0, LUT: 1}}", "where the platform reserve")):
        (tmp_path / "plan.yaml").write_text(base + plan + "\n")
        with pytest.raises(ConfigError, match=message):
            load_board(tmp_path / "plan.yaml")
    assert load_board(BOARDS_DIR / "u250.yaml")["floorplan"]["slrs"] == 4


def test_train_settings_apply_the_per_model_overrides():
    config = validate(default_config())
    config["train"]["per_model"] = {"sparse-cnn": {"epochs": 3}}
    assert train_settings(config, "sparse-cnn")["epochs"] == 3
    assert "per_model" not in train_settings(config, "dense-cnn")
    config["train"]["per_model"] = {"nope": {"epochs": 3}}
    with pytest.raises(ConfigError, match="train.per_model' names unknown models"):
        train_settings(config, "dense-cnn")


def test_inheritance_merges_key_by_key_and_nests(tmp_path):
    (tmp_path / "base.yaml").write_text("seed: 1\ntrain: {epochs: 8, batch_size: 64}\nmodels: {a: {x: 1}}\n")
    (tmp_path / "middle.yaml").write_text("inherit: base.yaml\ntrain: {epochs: 30}\n")
    merged = resolve_inheritance({"inherit": "middle.yaml", "seed": 2}, tmp_path)
    assert merged == {"seed": 2, "train": {"epochs": 30, "batch_size": 64}, "models": {"a": {"x": 1}}}
    assert resolve_inheritance({"seed": 3}, tmp_path) == {"seed": 3}  # no inherit: complete as it is
    with pytest.raises(ConfigError, match="config file not found"):
        resolve_inheritance({"inherit": "nope.yaml"}, tmp_path)


def test_the_gsc_configs_extend_the_default_and_keep_its_models():
    default = load_config(DEFAULT, SCHEMA, root=REPO_ROOT)
    gsc = load_config(CONFIG_DIR / "gsc.yaml", SCHEMA, root=REPO_ROOT)
    assert gsc["models"] == default["models"] and gsc["dataset"]["source"] == "gsc"
