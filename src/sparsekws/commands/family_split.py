"""A features file split for one held-out voice family (``features.family_split``): the features
(and augmented copies) without the family, and the family's own samples."""

from __future__ import annotations

import argparse
import logging

from sparsekws.core.files import read_npz, write_npz
from sparsekws.data.voices import FAMILIES
from sparsekws.features.family_split import only_family, speaker_families, without_family

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset-dir", required=True, help="synthetic dataset folder (its dataset_info.json)")
    parser.add_argument("--features", required=True, help="features .npz of the dataset")
    parser.add_argument("--augmented", help="its augmented train copies (<frontend>_augmented.npz), if training uses them")
    parser.add_argument("--held-out", required=True, choices=FAMILIES, help="the voice family to hold out")
    parser.add_argument("--without", required=True, help="output: features .npz without the family")
    parser.add_argument("--without-augmented", help="output: augmented copies without the family (with --augmented)")
    parser.add_argument("--only", required=True, help="output: .npz of the family's samples (x, y, files, classes)")


def run(args: argparse.Namespace) -> None:
    families = speaker_families(args.dataset_dir)
    arrays = dict(read_npz(args.features, ("classes",), "features file"))
    without, kept_train = without_family(arrays, families, args.held_out)
    write_npz(args.without, without)
    if args.augmented:
        augmented = read_npz(args.augmented, ("x", "y", "files"), "augmented features file")
        write_npz(args.without_augmented, {"x": augmented["x"][:, kept_train], "y": augmented["y"][kept_train],
                                           "files": augmented["files"][kept_train]})
    only = only_family(arrays, families, args.held_out)
    write_npz(args.only, only)
    log.info("held out %s: %d train samples kept of %d; %d samples of the family", args.held_out,
             int(kept_train.sum()), len(kept_train), len(only["y"]))
