"""Augmented copies of the train split's features (config sections ``seed``, ``task``, ``features``,
``augment``): ``<frontend>_augmented.npz`` beside the features file, which it must match."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

import numpy as np

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.core.errors import UserError
from sparsekws.core.files import read_npz, write_npz
from sparsekws.data.task import load_audio, task_of
from sparsekws.features.augment import augmented_copies
from sparsekws.features.frontends import FRONTENDS, make_frontend

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_settings_arguments(parser)
    parser.add_argument("--dataset-dir", required=True, help="dataset folder in the GSC layout")
    parser.add_argument("--features", required=True, help="the front end's features .npz (its train split and scale)")
    parser.add_argument("--frontend", required=True, choices=sorted(FRONTENDS), help="feature front end")
    parser.add_argument("--out", required=True, help="output .npz (x [copies, N, ...] int8, y, files)")
    parser.add_argument("--workers", type=int, default=1, help="processes making copies (default %(default)s; "
                        "the same arrays for any number)")


def augmented_arrays(config: dict, dataset_dir: str | Path, features_path: str | Path, frontend: str,
                     workers: int = 1) -> dict:
    """The augmented train copies of a dataset, in the order and on the int8 grid of its features file."""
    features = read_npz(features_path, ("y_train", "files_train", "scale"), "features file")
    samples, noise, _ = task_of(config, dataset_dir)
    train = samples["train"]
    if [s.source for s in train] != [str(f) for f in features["files_train"]]:
        raise UserError(f"{features_path} was not made from {dataset_dir} with this task (rebuild it: "
                        "snakemake --cores all -R features)")
    audio = load_audio(Path(dataset_dir), train, noise)
    x = augmented_copies(audio, [noise[k] for k in sorted(noise)], config["augment"], config["seed"],
                         make_frontend(frontend, config["features"]), float(features["scale"]), workers)
    return {"x": x, "y": features["y_train"], "files": features["files_train"]}


def run(args: argparse.Namespace) -> None:
    arrays = augmented_arrays(settings(args), args.dataset_dir, args.features, args.frontend, args.workers)
    write_npz(args.out, arrays)
    log.info("wrote %s: %d augmented copies of %d train clips", args.out, *arrays["x"].shape[:2])
