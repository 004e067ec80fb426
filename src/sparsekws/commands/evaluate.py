"""Evaluate a trained model on the test split: confusion, noise robustness, sparsity, MACs (config
sections ``seed``, ``models.<model>``, ``features``, ``evaluate``, ``train.threads``)."""

from __future__ import annotations

import argparse

from sparsekws.commands.common import add_model_arguments, settings
from sparsekws.training.evaluation import evaluate_model


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, checkpoint=True, features=True)
    parser.add_argument("--dataset-dir", required=True, help="dataset folder (the test audio, for the noise test)")
    parser.add_argument("--out-dir", required=True,
                        help="folder for evaluation.json, confusion.csv, noise_robustness.csv")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="where to run (auto: CUDA when available; default %(default)s)")


def run(args: argparse.Namespace) -> None:
    evaluate_model(settings(args), args.model, args.checkpoint, args.features, args.dataset_dir, args.out_dir,
                   args.device)
