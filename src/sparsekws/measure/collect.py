"""Combine CPU measurements and FINN estimates into one tidy throughput table.

Every row keeps its ``source`` (measured / estimated) and ``method``; an estimate is never
turned into a measurement. FPGA rows come from the compile stage's ``estimate.json``: one row
for a single network and, where networks fit the board, one for the full chip.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sparsekws.fileio import read_json, write_csv
from sparsekws.measure import RECORD_COLUMNS

NAN = float("nan")


def estimate_records(estimate: dict) -> list[dict]:
    """Rows for one (model, board) estimate: single network, and full chip where it fits."""
    common = {
        "model": estimate["model"], "platform": estimate["board"],
        "device": f"{estimate['board']} ({estimate['part']}) at {estimate['clock_mhz']:g} MHz",
        "batch_size": 1, "power_w": NAN, "energy_per_word_j": NAN, "source": "estimated",
        "method": f"{estimate['estimator']}: FINN analytic cycle model (no FIFOs, no shell)",
        "accuracy_on_measured": NAN, "n_measured": 0, "timestamp": "",
        **estimate["provenance"],
    }
    latency = {"latency_p50_ms": estimate["latency"]["ms"], "latency_p95_ms": estimate["latency"]["ms"]}
    rows = [{**common, "scope": "single network", "networks": 1,
             "throughput_words_per_s": estimate["fps"], **latency}]
    copies = estimate.get("networks_per_chip", 0)
    if copies:
        rows.append({**common, "scope": "full chip", "networks": copies,
                     "throughput_words_per_s": estimate["full_chip_fps"], **latency})
    return rows


def collect(measurement_csvs: list[Path], estimate_jsons: list[Path]) -> pd.DataFrame:
    """One table of every measurement and estimate, in ``RECORD_COLUMNS`` order."""
    frames = [pd.read_csv(path) for path in measurement_csvs]
    rows = [row for path in estimate_jsons for row in estimate_records(read_json(path))]
    frames.append(pd.DataFrame(rows, columns=RECORD_COLUMNS))
    table = pd.concat([f for f in frames if not f.empty], ignore_index=True)
    return table[RECORD_COLUMNS].sort_values(["platform", "model", "scope", "batch_size"], ignore_index=True)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--measurements", nargs="*", default=[], help="measurement CSVs")
    parser.add_argument("--estimates", nargs="*", default=[], help="estimate.json files of the compile stage")
    parser.add_argument("--out", required=True, help="combined CSV")


def run(args: argparse.Namespace) -> None:
    table = collect([Path(p) for p in args.measurements], [Path(p) for p in args.estimates])
    write_csv(args.out, table)
