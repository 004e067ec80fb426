"""``measure-cpu``: the old command line of the CPU measurement, kept for existing scripts.

Same as ``sparsekws measure --platform cpu``; the checkpoint defaults to the ``model.pt`` beside
the QONNX model (the export stage's layout) and the lowered ONNX model goes to ``--onnx-out``.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from sparsekws.config import load_config
from sparsekws.fileio import write_csv
from sparsekws.measure.command import load_workload, measure_platform


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="workflow config (YAML)")
    parser.add_argument("--model", required=True, help="model name in the config")
    parser.add_argument("--qonnx", required=True, help="exported QONNX model")
    parser.add_argument("--features", required=True, help="features npz (its test split is measured)")
    parser.add_argument("--checkpoint", help="model.pt (default: beside the QONNX model)")
    parser.add_argument("--onnx-out", required=True, help="where to write the ONNX Runtime (QCDQ) model")
    parser.add_argument("--out", required=True, help="output CSV of measurement records")
    parser.add_argument("--skipped-out", help="output CSV of skipped backends")


def run(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    checkpoint = Path(args.checkpoint) if args.checkpoint else Path(args.qonnx).with_name("model.pt")
    with tempfile.TemporaryDirectory() as tmp:
        workload = load_workload(config, args.model, Path(args.features), checkpoint, Path(args.qonnx), Path(tmp))
        records, skipped = measure_platform(workload, "cpu", config["measure"]["cpu"])
        lowered = Path(tmp) / f"{args.model}.qcdq.onnx"
        if lowered.exists():
            Path(args.onnx_out).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(lowered, args.onnx_out)
    write_csv(args.out, records)
    if args.skipped_out:
        write_csv(args.skipped_out, skipped)
