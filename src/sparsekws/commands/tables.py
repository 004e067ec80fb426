"""Write one table (CSV, and HTML for the report) from result files: ``sparsekws tables <table> ...``."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sparsekws.commands.common import add_settings_arguments, settings
from sparsekws.core.files import read_json, write_csv
from sparsekws.core.provenance import git_revision
from sparsekws.figures import comparison, designs, headline, race, results, table1
from sparsekws.figures.ablation import ABLATION_NOTE, ablation_table
from sparsekws.figures.compile_table import COMPILE_NOTE, compile_table
from sparsekws.figures.provenance import provenance_table
from sparsekws.figures.style import footer, write_table_html
from sparsekws.models.ablation import ablation_variants


def race_table(args):
    best = comparison.best_configuration(results.configurations(args.throughput, args.estimates))
    pairs, _ = results.hardware_pairs(settings(args)["models"])
    write_csv(args.csv, race.race_table(best, pairs, args.head_start_s))


def accuracy_table(args):
    write_csv(args.csv, results.accuracy(args.metrics, args.evaluations, settings(args)["models"]))


def blog_table1(args):
    configs = results.configurations(args.throughput, args.estimates)
    pairs, note = results.hardware_pairs(settings(args)["models"])
    stock = designs.stock_designs(read_json(p) for p in args.estimates)
    table = table1.table1(configs, designs.first_fpga_pair(configs, pairs), stock)
    write_csv(args.csv, table)
    write_table_html(table, args.html, "Table 1: throughput per FPGA design, platform and configuration",
                     [note, f"Numenta's rows: {headline.NUMENTA}", footer(args.config_hash, git_revision())])


def headline_table(args):
    configs = results.configurations(args.throughput, args.estimates)
    pairs, note = results.hardware_pairs(settings(args)["models"])
    accuracy = pd.read_csv(args.accuracy)
    table = headline.headline_table(configs, comparison.best_configuration(configs), pairs,
                                    results.accuracy_summaries(accuracy), args.head_start_s,
                                    dict(zip(accuracy["model"], accuracy["nonzero_weights"])),
                                    designs.stock_designs(read_json(p) for p in args.estimates))
    write_csv(args.csv, table)
    write_table_html(table, args.html, "Headline numbers: ours next to the blog's",
                     [note, f"blog: {headline.BLOG}", footer(args.config_hash, git_revision())])


def compile_results(args):
    table = compile_table(read_json(p) for p in args.estimates)
    write_csv(args.csv, table)
    write_table_html(table, args.html, "FPGA compile results per model and board (estimated)",
                     [COMPILE_NOTE, footer(args.config_hash, git_revision())])


def ablation(args):
    metrics = {m["model"]: m for m in map(read_json, args.metrics)}
    table = ablation_table(ablation_variants(settings(args)), metrics)
    write_csv(args.csv, table)
    write_table_html(table, args.html, "Training-recipe ablation: each change against its base, over seeds",
                     [ABLATION_NOTE, footer(args.config_hash, git_revision())])


def provenance(args):
    write_csv(args.csv, provenance_table(args.config_hash))


TABLES = {
    "race": (race_table, "the race per dense/sparse pair and platform",
             ("throughput", "estimates", "settings", "head-start-s")),
    "accuracy": (accuracy_table, "accuracy, sparsity and MACs per model", ("metrics", "evaluations", "settings")),
    "table1": (blog_table1, "Table 1 in the blog's rows: throughput per FPGA design, platform and configuration",
               ("throughput", "estimates", "settings", "config-hash", "html")),
    "headline": (headline_table, "our headline numbers next to the blog's",
                 ("throughput", "estimates", "accuracy", "settings", "head-start-s", "config-hash", "html")),
    "compile": (compile_results, "the compile stage's results per model and board", ("estimates", "config-hash", "html")),
    "ablation": (ablation, "each change of the training recipe against its base model, over seeds",
                 ("metrics", "settings", "config-hash", "html")),
    "provenance": (provenance, "config hash, revision and package versions", ("config-hash",)),
}
INPUTS = {
    "throughput": dict(required=True, help="combined measurement table (throughput.csv)"),
    "estimates": dict(nargs="*", default=[], help="estimate.json of every (model, board)"),
    "accuracy": dict(required=True, help="accuracy table (accuracy.csv)"),
    "metrics": dict(nargs="+", required=True, help="metrics.json of every model"),
    "evaluations": dict(nargs="*", default=[], help="evaluation.json of every model"),
    "head-start-s": dict(type=float, default=race.HEAD_START_S,
                         help="the dense network's head start in the race (default: the blog's 5 minutes)"),
    "config-hash": dict(required=True, help="hash of the run's config (the footer)"),
    "html": dict(required=True, type=Path, help="the table as an HTML page"),
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    tables = parser.add_subparsers(dest="table", metavar="TABLE", required=True)
    for name, (_, help_text, inputs) in TABLES.items():
        sub = tables.add_parser(name, help=help_text, description=help_text)
        for key in inputs:
            if key == "settings":
                add_settings_arguments(sub)  # the config's models (hardware flags, families: the pairs)
            else:
                sub.add_argument(f"--{key}", **INPUTS[key])
        sub.add_argument("--csv", required=True, type=Path, help="the table as CSV")


def run(args: argparse.Namespace) -> None:
    TABLES[args.table][0](args)
