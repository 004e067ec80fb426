"""FINN dataflow build (estimates) of one model for one board, with the folding search (config
sections ``models.<model>``, ``compile``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sparsekws.commands.common import add_model_arguments, settings
from sparsekws.core.config import load_board, model_config
from sparsekws.finn.compile import compile_model
from sparsekws.units import calibration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--board-file", required=True, type=Path, help="board description (config/boards/<board>.yaml)")
    parser.add_argument("--calibration", type=Path, default=None,
                        help="LUT/FF calibration factors of the sparse units (config/calibration/factors.json); "
                             "without it their estimates are the raw model")
    parser.add_argument("--qonnx", required=True, type=Path, help="exported QONNX model (model.qonnx.onnx)")
    parser.add_argument("--reference-io", required=True, type=Path,
                        help="reference inputs/outputs (reference_io.npz) for the Python-execution check")
    parser.add_argument("--out-dir", required=True, type=Path, help="output folder (replaced atomically)")
    parser.add_argument("--folding-config", type=Path, default=None,
                        help="FINN folding config (JSON) to apply instead of the folding search")


def run(args: argparse.Namespace) -> None:
    cfg = settings(args)
    if args.calibration is not None:
        calibration.use_file(args.calibration)
    compile_model(args.model, model_config(cfg, args.model), cfg["compile"], load_board(args.board_file), args.qonnx,
                  args.reference_io, args.out_dir, folding_config=args.folding_config)
