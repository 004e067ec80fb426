"""The dataset card: samples per split and class of the task, usable and rejected files, voice
families, SNR and level (config sections ``seed``, ``task``), and its header with the content hash."""

from __future__ import annotations

import argparse

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.core.files import write_csv, write_json
from sparsekws.data.card import card_summary, dataset_card


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_settings_arguments(parser)
    parser.add_argument("--dataset-dir", required=True, help="dataset folder in the GSC layout")
    parser.add_argument("--csv", required=True, help="output CSV (section, split, class, count)")
    parser.add_argument("--json", required=True, help="output: the card's header (content hash, families, SNR, level)")


def run(args: argparse.Namespace) -> None:
    write_csv(args.csv, dataset_card(settings(args), args.dataset_dir))
    write_json(args.json, card_summary(args.dataset_dir))
