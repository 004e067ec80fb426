"""Measure one model on one platform with every backend of it (config sections ``models.<model>``,
``measure``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sparsekws.commands.common import add_model_arguments, settings
from sparsekws.core.files import write_csv
from sparsekws.measure.backends import BACKENDS
from sparsekws.measure.workload import load_workload, measure_platform


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, checkpoint=True, features=True)
    parser.add_argument("--platform", required=True, choices=list(BACKENDS), help="platform to measure on")
    parser.add_argument("--qonnx", help="exported QONNX model (for ONNX Runtime)")
    parser.add_argument("--work-dir", required=True, help="folder for intermediate files (lowered ONNX models)")
    parser.add_argument("--out", required=True, help="output CSV of measurement records")
    parser.add_argument("--skipped-out", required=True, help="output CSV of skipped backends and why")


def run(args: argparse.Namespace) -> None:
    config = settings(args)
    workload = load_workload(config, args.model, Path(args.features), Path(args.checkpoint),
                             Path(args.qonnx) if args.qonnx else None, Path(args.work_dir))
    records, skipped = measure_platform(workload, args.platform, config["measure"][args.platform])
    write_csv(args.out, records)
    write_csv(args.skipped_out, skipped)
