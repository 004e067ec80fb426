"""Combine measurements, FINN estimates, RTL simulations and skipped backends into the measure stage's two tables."""

from __future__ import annotations

import argparse
from pathlib import Path

from sparsekws.core.files import write_csv
from sparsekws.measure.collect import collect, collect_skipped


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--measurements", nargs="*", default=[], help="measurement CSVs")
    parser.add_argument("--estimates", nargs="*", default=[], help="estimate.json files of the compile stage")
    parser.add_argument("--simulated", nargs="*", default=[], help="records of whole-network RTL simulations (results/netsim/.../<design>.json)")
    parser.add_argument("--skipped", nargs="*", default=[], help="skipped-backend CSVs")
    parser.add_argument("--out", required=True, help="combined throughput CSV")
    parser.add_argument("--skipped-out", required=True, help="combined skipped CSV")


def run(args: argparse.Namespace) -> None:
    estimates = [Path(p) for p in args.estimates]
    write_csv(args.out, collect([Path(p) for p in args.measurements], estimates, [Path(p) for p in args.simulated]))
    write_csv(args.skipped_out, collect_skipped([Path(p) for p in args.skipped], estimates))
