"""Draw one figure (PNG and SVG) from result files: ``sparsekws figures <figure> ...``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.core.errors import UserError
from sparsekws.core.files import read_json, write_text
from sparsekws.core.provenance import git_revision
from sparsekws.figures import accuracy, designs, graphs, results, training
from sparsekws.figures.ablation import plot_ablation
from sparsekws.figures.answer import answer_rst, landing_rst, plot_answer
from sparsekws.figures.class_balance import plot_class_balance
from sparsekws.figures.style import footer, plot_table


def _footer(args: argparse.Namespace, dataset: str | None = None) -> str:
    return footer(args.config_hash, git_revision(), dataset)


def _per_model(paths: list[str], models: list[str], what: str) -> dict[str, pd.DataFrame]:
    if len(paths) != len(models):
        raise UserError(f"--{what} got {len(paths)} files for {len(models)} models; give one per model, in order")
    return {model: pd.read_csv(path) for model, path in zip(models, paths)}


def _fpga_designs(args) -> tuple[pd.DataFrame, dict, tuple[str, str] | None]:
    """The configurations, the stock FINN designs and the pair Graphs 1 and 3 draw."""
    configs = results.configurations(args.throughput, args.estimates)
    pairs, _ = results.hardware_pairs(settings(args)["models"])
    return configs, designs.stock_designs(read_json(p) for p in args.estimates), designs.first_fpga_pair(configs, pairs)


def throughput(args):
    graphs.plot_throughput(*_fpga_designs(args), args.out, _footer(args))


def host_throughput(args):
    graphs.plot_host_throughput(results.configurations(args.throughput, args.estimates), args.out, _footer(args))


def race(args):
    graphs.plot_race(pd.read_csv(args.race), args.out, _footer(args))


def full_chip(args):
    graphs.plot_full_chip(*_fpga_designs(args), args.out, _footer(args))


def energy(args):
    graphs.plot_energy(results.configurations(args.throughput, args.estimates), args.out, _footer(args))


def answer(args):
    headline = pd.read_csv(args.headline)
    plot_answer(headline, args.out, _footer(args))
    write_text(args.caption, answer_rst(headline))
    write_text(args.landing, landing_rst(headline))


def accuracy_vs_macs(args):
    accuracy.plot_accuracy_vs_macs(pd.read_csv(args.accuracy), args.out, _footer(args))


def cross_voice(args):
    accuracy.plot_cross_voice(pd.read_csv(args.cross_voice), args.out, _footer(args))


def ablation(args):
    plot_ablation(pd.read_csv(args.ablation), args.out, _footer(args))


def accuracy_table(args):
    table = pd.read_csv(args.accuracy)[results.ACCURACY_SHOWN]
    plot_table(table, args.out, _footer(args), "Accuracy on the test split, sparsity and MACs")


def training_curves(args):
    training.plot_training_curves(_per_model(args.history, args.models, "history"), args.out, _footer(args))


def confusion(args):
    training.plot_confusions(_per_model(args.confusion, args.models, "confusion"), args.out, _footer(args))


def noise_robustness(args):
    noise = pd.concat([table.assign(model=model) for model, table in
                       _per_model(args.noise, args.models, "noise").items()], ignore_index=True)
    training.plot_noise(noise, args.out, _footer(args))


def class_balance(args):
    plot_class_balance(pd.read_csv(args.card), args.out, _footer(args, args.dataset),
                       f"Class balance of dataset '{args.dataset}' ({args.source})")


FIGURES = {
    "answer": (answer, "the headline: sparse over each dense baseline, next to Numenta's own ratios, and its caption "
                         "(the answer in three sentences) and the report's landing page", ("headline", "caption", "landing")),
    "throughput": (throughput, "Graph 1: one network's words/s per FPGA board, stock and tuned dense vs sparse",
                   ("throughput", "estimates", "settings")),
    "host-throughput": (host_throughput, "one network's words/s on the host platforms, per backend and batch",
                        ("throughput", "estimates")),
    "race": (race, "Graph 2: the race, dense with a head start vs sparse", ("race",)),
    "full-chip": (full_chip, "Graph 3: a full chip's words/s per FPGA board, stock and tuned dense vs sparse",
                  ("throughput", "estimates", "settings")),
    "energy": (energy, "Graph 4: energy per word where power was read", ("throughput", "estimates")),
    "accuracy-vs-macs": (accuracy_vs_macs, "test accuracy vs MACs per inference", ("accuracy",)),
    "cross-voice": (cross_voice, "leave-one-voice-family-out accuracy", ("cross_voice",)),
    "accuracy": (accuracy_table, "the accuracy table as a figure", ("accuracy",)),
    "ablation": (ablation, "each change of the training recipe against its base, over seeds", ("ablation",)),
    "training-curves": (training_curves, "loss and accuracy per epoch", ("models", "history")),
    "confusion": (confusion, "test-split confusion matrices", ("models", "confusion")),
    "noise-robustness": (noise_robustness, "accuracy vs white-noise level", ("models", "noise")),
    "class-balance": (class_balance, "samples per class of the dataset card", ("card", "dataset", "source")),
}
INPUTS = {
    "throughput": dict(required=True, help="combined measurement table (throughput.csv)"),
    "estimates": dict(nargs="*", default=[], help="estimate.json of every (model, board): fit and networks per chip"),
    "race": dict(required=True, help="race table (race.csv)"),
    "headline": dict(required=True, help="headline table (headline.csv)"),
    "caption": dict(required=True, help="where to write the figure's caption (reStructuredText)"),
    "landing": dict(required=True, help="where to write the report's landing page: the answer and the headline in "
                                        "short (reStructuredText)"),
    "accuracy": dict(required=True, help="accuracy table (accuracy.csv)"),
    "cross_voice": dict(required=True, help="leave-one-family-out table (cross_voice.csv)"),
    "ablation": dict(required=True, help="ablation table (ablation.csv)"),
    "models": dict(nargs="+", required=True, help="model names, in the order of the files"),
    "history": dict(nargs="+", required=True, help="history.csv of every model"),
    "confusion": dict(nargs="+", required=True, help="confusion.csv of every model"),
    "noise": dict(nargs="+", required=True, help="noise_robustness.csv of every model"),
    "card": dict(required=True, help="dataset card (dataset_card.csv)"),
    "dataset": dict(required=True, help="dataset name"),
    "source": dict(required=True, help="dataset source (synthetic or gsc)"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    figures = parser.add_subparsers(dest="figure", metavar="FIGURE", required=True)
    for name, (_, help_text, inputs) in FIGURES.items():
        sub = figures.add_parser(name, help=help_text, description=help_text)
        for key in inputs:
            if key == "settings":
                add_settings_arguments(sub)  # the config's models: the dense/sparse pairs
            else:
                sub.add_argument(f"--{key.replace('_', '-')}", dest=key, **INPUTS[key])
        sub.add_argument("--config-hash", required=True, help="hash of the run's config (the figure's footer)")
        sub.add_argument("--out", required=True, type=Path, help="figure path without suffix (writes .png and .svg)")


def run(args: argparse.Namespace) -> None:
    FIGURES[args.figure][0](args)
