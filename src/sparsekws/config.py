"""Load and validate the workflow configuration; look up models and boards by name."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sparsekws.errors import ConfigError
from sparsekws.sweep import expand_sweep

REPO_ROOT = Path(__file__).resolve().parents[2]
SCHEMA_PATH = REPO_ROOT / "workflow" / "schemas" / "config.schema.yaml"
BOARDS_DIR = REPO_ROOT / "config" / "boards"


def _with_defaults(validator_class):
    validate_properties = validator_class.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in properties.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(validator_class, {"properties": set_defaults})


_Validator = _with_defaults(jsonschema.Draft7Validator)


def validate_config(config: dict[str, Any], schema_path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """Check ``config`` against the schema, fill in defaults (in place) and return it.

    Raises ``ConfigError`` naming the key path and the problem, e.g.
    ``config key 'models.sparse.weight_density': 1.5 is greater than the maximum of 1``.
    The sparsity sweep's variants are added to ``models`` (``sparsekws.sweep``).
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid configuration:\n" + "\n".join(_describe(e) for e in errors))
    for board in config["compile"]["boards"]:
        board_file(board)  # raises ConfigError for an unknown board
    return expand_sweep(config)


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    return f"  config key '{key}': {error.message}"


def load_config(path: str | Path, schema_path: str | Path = SCHEMA_PATH) -> dict[str, Any]:
    """Read a YAML config file and validate it."""
    path = Path(path)
    try:
        config = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML: {exc}") from None
    if not isinstance(config, dict):
        raise ConfigError(f"config file {path} must hold a mapping of keys, not {type(config).__name__}")
    return validate_config(config, schema_path)


#: model keys that only the compile and measure stages read: a change to them does not retrain
HARDWARE_KEYS = ("hardware", "sparse_hw")


def training_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A model's config entry without the keys that do not change its training."""
    return {key: value for key, value in entry.items() if key not in HARDWARE_KEYS}


def model_config(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The config entry of model ``name``."""
    try:
        return config["models"][name]
    except KeyError:
        known = ", ".join(sorted(config["models"]))
        raise ConfigError(f"unknown model '{name}'; the config defines: {known}") from None


def known_boards() -> list[str]:
    return sorted(p.stem for p in BOARDS_DIR.glob("*.yaml"))


def board_file(name: str) -> Path:
    """The board description file ``config/boards/<name>.yaml``."""
    path = BOARDS_DIR / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown board '{name}' in config key 'compile.boards'; "
                          f"known boards: {', '.join(known_boards())} (add one as config/boards/<name>.yaml)")
    return path


def load_board(name: str) -> dict[str, Any]:
    """A board's description: part, clock, resource totals, shell."""
    return yaml.safe_load(board_file(name).read_text())
