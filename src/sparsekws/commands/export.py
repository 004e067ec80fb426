"""Export a trained model to QONNX and check it against the torch model (config sections ``seed``,
``models.<model>``, ``train.threads``)."""

from __future__ import annotations

import argparse

import torch

from sparsekws.commands.common import add_model_arguments, settings
from sparsekws.export.qonnx import DEFAULT_SAMPLES, export_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, checkpoint=True, features=True)
    parser.add_argument("--out", required=True, help="QONNX model to write (e.g. model.qonnx.onnx)")
    parser.add_argument("--check-out", help="write the verification record (JSON) here")
    parser.add_argument("--reference-out", help="write reference inputs/torch logits (npz) here")
    parser.add_argument("--samples", type=int, default=DEFAULT_SAMPLES,
                        help="test samples to compare (default %(default)s)")


def run(args: argparse.Namespace) -> None:
    cfg = settings(args)
    torch.set_num_threads(cfg["train"]["threads"])
    export_model(cfg, args.model, args.checkpoint, args.features, args.out, check_out=args.check_out,
                 reference_out=args.reference_out, samples=args.samples)
