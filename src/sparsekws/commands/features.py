"""Quantised features of every split of the task for one front end (config sections ``seed``,
``task``, ``features``): the features file and the samples per split and class."""

from __future__ import annotations

import argparse
import logging

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.core.files import write_csv, write_npz
from sparsekws.features.extract import extract_features
from sparsekws.features.frontends import FRONTENDS

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_settings_arguments(parser)
    parser.add_argument("--dataset-dir", required=True, help="dataset folder in the GSC layout")
    parser.add_argument("--frontend", default="mfcc", choices=sorted(FRONTENDS), help="feature front end")
    parser.add_argument("--out", required=True, help="output .npz file")
    parser.add_argument("--counts", required=True, help="output CSV of samples per split and class")


def run(args: argparse.Namespace) -> None:
    arrays, counts = extract_features(settings(args), args.dataset_dir, args.frontend)
    write_npz(args.out, arrays)
    write_csv(args.counts, counts)
    log.info("wrote %s (scale %.6g) and %s", args.out, float(arrays["scale"]), args.counts)
