"""What every command shares: how it receives its part of the configuration.

The workflow passes each command the config sections it reads as JSON (``--settings``), from the
rule's ``params``; by hand, ``--config`` names a config file, validated against ``--schema``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sparsekws.core.config import load_config
from sparsekws.core.errors import ConfigError
from sparsekws.models.variants import expand_variants

DEFAULT_SCHEMA = Path("workflow/schemas/config.schema.yaml")


def add_settings_arguments(parser: argparse.ArgumentParser) -> None:
    """``--settings JSON`` or ``--config FILE`` (with ``--schema``)."""
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--settings", help="the config sections this command reads, as JSON (the workflow passes "
                                           "them from the rule's params)")
    source.add_argument("--config", type=Path, help="a workflow config file (YAML), validated against --schema")
    parser.add_argument("--schema", type=Path, default=DEFAULT_SCHEMA,
                        help="config schema for --config (default: %(default)s, from the workflow's folder)")


def add_model_arguments(parser: argparse.ArgumentParser, *, checkpoint: bool = False, features: bool = False) -> None:
    """``--model`` (with ``--settings``/``--config``), and where the command reads them the trained
    ``--checkpoint`` and the ``--features`` file of the model's front end."""
    add_settings_arguments(parser)
    parser.add_argument("--model", required=True, help="model name (a key of 'models' in the config)")
    if checkpoint:
        parser.add_argument("--checkpoint", required=True, help="model.pt of the train stage")
    if features:
        parser.add_argument("--features", required=True, help="features .npz of the model's front end")


def settings(args: argparse.Namespace) -> dict[str, Any]:
    """The configuration the command works with: the ``--settings`` sections, or the validated
    ``--config`` file with the sparsity sweep's models added."""
    if args.settings is not None:
        try:
            parsed = json.loads(args.settings)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"--settings is not valid JSON: {exc}") from None
        if not isinstance(parsed, dict):
            raise ConfigError("--settings must be a JSON object of config sections")
        return parsed
    return expand_variants(load_config(args.config, args.schema, root=Path.cwd()), args.schema)
