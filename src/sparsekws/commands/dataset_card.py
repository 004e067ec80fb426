"""The dataset card: samples per split and class of the task, usable and rejected files (config
sections ``seed``, ``task``)."""

from __future__ import annotations

import argparse

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.core.files import write_csv
from sparsekws.data.card import dataset_card


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_settings_arguments(parser)
    parser.add_argument("--dataset-dir", required=True, help="dataset folder in the GSC layout")
    parser.add_argument("--csv", required=True, help="output CSV (section, split, class, count)")


def run(args: argparse.Namespace) -> None:
    write_csv(args.csv, dataset_card(settings(args), args.dataset_dir))
