"""The workflow configuration: validation against the schema, and lookups of its parts.

Every file this module reads is named by its caller (the schema, a board file): the library
never looks for files in the checkout.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from sparsekws.core.errors import ConfigError

#: model keys that only the compile and measure stages read: a change to them does not retrain
HARDWARE_KEYS = ("hardware", "sparse_hw")
#: the FPGA resources a board file counts (``resources``, ``floorplan.platform_reserve``) and the fit checks
BOARD_RESOURCES = ("LUT", "FF", "BRAM36", "URAM", "DSP")


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


def validate_config(config: dict[str, Any], schema_path: str | Path,
                    boards_dir: str | Path | None = None) -> dict[str, Any]:
    """Check ``config`` against the schema at ``schema_path``, fill in defaults (in place), return it.

    Raises ``ConfigError`` naming the key path and the problem, e.g.
    ``config key 'models.sparse.weight_density': 1.5 is greater than the maximum of 1``.
    With ``boards_dir``, every board of ``compile.boards`` must have a file ``<boards_dir>/<board>.yaml``.
    """
    schema = yaml.safe_load(Path(schema_path).read_text())
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(e.absolute_path))
    if errors:
        raise ConfigError("invalid configuration:\n" + "\n".join(_describe(e) for e in errors))
    if boards_dir is not None:
        for board in config["compile"]["boards"]:
            board_path(boards_dir, board)  # raises ConfigError for an unknown board
    return config


def _describe(error: jsonschema.ValidationError) -> str:
    key = ".".join(str(p) for p in error.absolute_path) or "<top level>"
    return f"  config key '{key}': {error.message}"


def _read_mapping(path: str | Path, what: str) -> dict[str, Any]:
    """The mapping a YAML file holds (``ConfigError`` naming ``what`` when it is missing or not a mapping)."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError(f"{what} not found: {path}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{what} {path} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{what} {path} must hold a mapping of keys, not {type(data).__name__}")
    return data


def read_config(path: str | Path) -> dict[str, Any]:
    """The mapping of a YAML config file (not validated)."""
    return _read_mapping(path, "config file")


#: The key by which a config names the config it extends (``resolve_inheritance``).
INHERIT = "inherit"


def resolve_inheritance(config: dict[str, Any], root: str | Path) -> dict[str, Any]:
    """``config`` completed by the config file it names under ``inherit`` (a path relative to the
    workflow's folder ``root``, itself resolved the same way): its sections are merged key by key
    over the named file's, so that a key it sets wins and every other key is the named file's. A
    config without ``inherit`` is returned as it is: complete, with the schema's defaults for what
    it leaves out."""
    if INHERIT not in config:
        return config
    name = config[INHERIT]
    base = resolve_inheritance(read_config(Path(root) / name), root)
    return _merged(base, {key: value for key, value in config.items() if key != INHERIT})


def _merged(base: Any, override: Any) -> Any:
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{key: _merged(base.get(key), value) for key, value in override.items()}}
    return copy.deepcopy(override)


def load_config(path: str | Path, schema_path: str | Path, boards_dir: str | Path | None = None,
                root: str | Path | None = None) -> dict[str, Any]:
    """Read a YAML config file (with the file it ``inherit``s, relative to ``root``, default the
    current folder) and validate it (``validate_config``)."""
    return validate_config(resolve_inheritance(read_config(path), root or Path.cwd()), schema_path, boards_dir)


def training_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """A model's config entry without the keys that do not change its training, in its JSON form
    (layer-index keys as strings, whether the entry came from YAML or from the workflow's JSON)."""
    return json.loads(json.dumps({key: value for key, value in entry.items() if key not in HARDWARE_KEYS}))


def model_config(config: dict[str, Any], name: str) -> dict[str, Any]:
    """The config entry of model ``name``."""
    try:
        return config["models"][name]
    except KeyError:
        known = ", ".join(sorted(config["models"]))
        raise ConfigError(f"unknown model '{name}'; the config defines: {known}") from None


def train_settings(config: dict[str, Any], model_name: str) -> dict[str, Any]:
    """The training settings of one model: ``train`` with ``train.per_model.<model>`` applied."""
    per_model = config["train"].get("per_model", {})
    unknown = sorted(set(per_model) - set(config["models"]))
    if unknown:
        raise ConfigError(f"config key 'train.per_model' names unknown models {unknown}; "
                          f"the config defines: {', '.join(sorted(config['models']))}")
    settings = {key: value for key, value in config["train"].items() if key != "per_model"}
    return {**settings, **per_model.get(model_name, {})}


def board_path(boards_dir: str | Path, name: str) -> Path:
    """The board description file ``<boards_dir>/<name>.yaml`` (``ConfigError`` naming the known boards)."""
    path = Path(boards_dir) / f"{name}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in Path(boards_dir).glob("*.yaml")))
        raise ConfigError(f"unknown board '{name}' in config key 'compile.boards'; "
                          f"known boards: {known} (add one as {Path(boards_dir) / '<name>.yaml'})")
    return path


def load_board(path: str | Path) -> dict[str, Any]:
    """A board's description (part, clock, resource totals, shell) from its YAML file."""
    board = _read_mapping(path, "board file")
    if not {"name", "part", "clock_mhz", "resources"} <= set(board):
        raise ConfigError(f"board file {path} must give name, part, clock_mhz and resources")
    _check_floorplan(board.get("floorplan"), path)
    return board


def _check_floorplan(plan: Any, path: str | Path) -> None:
    """A board's ``floorplan`` (``finn.fit``): SLR count, and the platform's reserve with its source."""
    if plan is None:
        return
    slrs = plan.get("slrs", 1) if isinstance(plan, dict) else None
    if not isinstance(slrs, int) or slrs < 1:
        raise ConfigError(f"board file {path}: floorplan must be a mapping with slrs, a positive integer")
    reserve = plan.get("platform_reserve")
    if reserve is None:
        return
    numbers = {k: v for k, v in reserve.items() if k != "slr"} if isinstance(reserve, dict) else {}
    if (not numbers or not set(numbers) <= set(BOARD_RESOURCES)
            or not all(isinstance(v, (int, float)) and v >= 0 for v in numbers.values())):
        raise ConfigError(f"board file {path}: floorplan.platform_reserve gives LUT, FF, BRAM36, URAM and DSP "
                          "as non-negative numbers (and slr)")
    if not isinstance(reserve.get("slr", 0), int) or not 0 <= reserve.get("slr", 0) < slrs:
        raise ConfigError(f"board file {path}: floorplan.platform_reserve.slr must be one of 0..{slrs - 1}")
    if not plan.get("source"):
        raise ConfigError(f"board file {path}: floorplan.source must say where the platform reserve comes from")
