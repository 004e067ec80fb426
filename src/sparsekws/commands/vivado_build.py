"""Stitched IP, synthesis, bitstream and deployment package of a compile folder (needs Vivado)."""

from __future__ import annotations

import argparse
from pathlib import Path

from sparsekws.core.config import load_board
from sparsekws.finn.vivado import vivado_build


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compile-dir", required=True, type=Path,
                        help="the compile stage's folder (estimate.json, folding_config.json, finn/onnx/)")
    parser.add_argument("--board-file", required=True, type=Path, help="board description (config/boards/<board>.yaml)")
    parser.add_argument("--out-dir", required=True, type=Path, help="output folder (replaced atomically)")
    parser.add_argument("--clock-mhz", type=float, default=None, help="synthesis clock (default: the board's)")


def run(args: argparse.Namespace) -> None:
    vivado_build(args.compile_dir, load_board(args.board_file), args.out_dir, args.clock_mhz)
