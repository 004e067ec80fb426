"""Measure one model on one platform with every backend of it (config sections ``models.<model>``,
``measure``)."""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

from sparsekws.commands.common import add_model_arguments, settings
from sparsekws.core.config import model_config
from sparsekws.core.files import write_csv
from sparsekws.core.provenance import stamp
from sparsekws.measure import RECORD_COLUMNS
from sparsekws.measure.backends import BACKENDS, unavailable_platform
from sparsekws.measure.records import skipped_frame, skipped_row


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser, checkpoint=True, features=True)
    parser.add_argument("--platform", required=True, choices=list(BACKENDS), help="platform to measure on")
    parser.add_argument("--qonnx", help="exported QONNX model (for ONNX Runtime)")
    parser.add_argument("--work-dir", required=True, help="folder for intermediate files (lowered ONNX models)")
    parser.add_argument("--out", required=True, help="output CSV of measurement records")
    parser.add_argument("--skipped-out", required=True, help="output CSV of skipped backends and why")


def run(args: argparse.Namespace) -> None:
    config = settings(args)
    reasons = unavailable_platform(args.platform, config["measure"][args.platform])
    if reasons:  # nothing can run here: the skipped rows, without loading the model
        provenance = stamp(model_config(config, args.model))
        write_csv(args.out, pd.DataFrame(columns=RECORD_COLUMNS))
        write_csv(args.skipped_out, skipped_frame([skipped_row(args.model, args.platform, backend, reason, provenance)
                                                   for backend, reason in reasons.items()]))
        return
    from sparsekws.measure.workload import load_workload, measure_platform  # torch, Brevitas: slow to import

    workload = load_workload(config, args.model, Path(args.features), Path(args.checkpoint),
                             Path(args.qonnx) if args.qonnx else None, Path(args.work_dir))
    records, skipped = measure_platform(workload, args.platform, config["measure"][args.platform])
    write_csv(args.out, records)
    write_csv(args.skipped_out, skipped)
