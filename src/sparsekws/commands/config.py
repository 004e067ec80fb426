"""Write the effective configuration the workflow runs with (YAML), from its JSON (``--settings``)."""

from __future__ import annotations

import argparse

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.core.files import write_yaml


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_settings_arguments(parser)
    parser.add_argument("--out", required=True, help="the YAML file to write")


def run(args: argparse.Namespace) -> None:
    write_yaml(args.out, settings(args))
