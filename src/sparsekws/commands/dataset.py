"""Build a dataset in the Google Speech Commands layout (config sections ``seed``, ``dataset``, ``task``)."""

from __future__ import annotations

import argparse

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.data.build import build_dataset


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_settings_arguments(parser)
    parser.add_argument("--out", required=True, help="dataset folder to create (replaced when complete)")
    parser.add_argument("--download-dir", default=None,
                        help="where the real GSC archive is downloaded (default: <out>/../.downloads, kept for reruns)")


def run(args: argparse.Namespace) -> None:
    build_dataset(settings(args), args.out, args.download_dir)
