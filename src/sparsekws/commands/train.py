"""Train one model with Brevitas quantisation-aware training (config sections ``seed``,
``models.<model>``, ``train``, ``augment``, ``features``)."""

from __future__ import annotations

import argparse

from sparsekws.commands.common import add_model_arguments, settings
from sparsekws.training.trainer import train_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, features=True)
    parser.add_argument("--out-dir", required=True, help="folder for model.pt, history.csv, metrics.json")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="where to train (auto: CUDA when available; default %(default)s)")
    parser.add_argument("--augmented", help="<frontend>_augmented.npz of the augment rule (needed when augment.enabled)")
    parser.add_argument("--held-out", help="features (x, y) of samples kept out of training, e.g. a voice family: "
                        "every seed is tested on them too (held_out_accuracy in metrics.json)")
    parser.add_argument("--seed-index", type=int, help="train only this seed (0 = the first) into <out-dir>/runs/; "
                        "the call without it trains what is missing and writes the model's files")


def run(args: argparse.Namespace) -> None:
    train_model(settings(args), args.model, args.features, args.out_dir, device=args.device,
                augmented=args.augmented, seed_index=args.seed_index,
                held_out=args.held_out)
