"""Save the train split's raw audio for on-the-fly augmentation (config sections ``seed``, ``task``)."""

from __future__ import annotations

import argparse
import logging

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.core.files import write_npz
from sparsekws.features.augment import train_audio_arrays

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_settings_arguments(parser)
    parser.add_argument("--dataset-dir", required=True, help="dataset folder in the GSC layout")
    parser.add_argument("--out", required=True, help="output .npz (audio, y, files, noise_<i>)")


def run(args: argparse.Namespace) -> None:
    arrays = train_audio_arrays(settings(args), args.dataset_dir)
    write_npz(args.out, arrays)
    log.info("wrote %s: %d train clips for on-the-fly augmentation", args.out, len(arrays["audio"]))
