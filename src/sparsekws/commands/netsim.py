"""Simulate a compiled network as a whole in RTL (Verilator): every layer from the project's Verilog,
stitched by FIFOs, run on many words; logits compared with the QONNX model's, cycles per word measured."""

from __future__ import annotations

import argparse
import logging
import tempfile
from pathlib import Path

from sparsekws.core.config import load_board
from sparsekws.core.errors import UserError
from sparsekws.core.files import write_json

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--compile-dir", required=True, type=Path,
                        help="the compile stage's folder of one model and board (estimate.json, finn/onnx/)")
    parser.add_argument("--qonnx", required=True, type=Path, help="the exported QONNX model (the expected logits)")
    parser.add_argument("--features", required=True, type=Path, help="features file (the words: test split first)")
    parser.add_argument("--board-file", type=Path, default=None,
                        help="the board's file (config/boards/<board>.yaml): the fit with FIFOs and converters counted")
    parser.add_argument("--words", type=int, default=1000, help="words to simulate (>= 3)")
    parser.add_argument("--design", choices=("fastest", "full_chip"), default="fastest",
                        help="the compile stage's fastest network, or its full-chip design (folding_config_full_chip.json)")
    parser.add_argument("--out", required=True, type=Path, help="the record (JSON) to write")
    parser.add_argument("--cache-dir", required=True, type=Path,
                        help="Verilator builds, one per network Verilog (reused when the network is unchanged)")
    parser.add_argument("--work-dir", type=Path, default=None,
                        help="keep the simulator's inputs, outputs and logs here (default: a temporary folder)")


def run(args: argparse.Namespace) -> None:
    from sparsekws.finn.netsim import network_words, simulate_compiled
    from sparsekws.rtl.tools import apply_verilator_env

    if args.words < 3:
        raise UserError("--words must be at least 3 (cycles per word need a steady state)")
    for path, stage in ((args.compile_dir / "finn" / "onnx" / "dataflow_model.onnx", "compile"),
                        (args.qonnx, "export"), (args.features, "features")):
        if not path.is_file():
            raise UserError(f"{path} not found: run the {stage} stage first")
    apply_verilator_env()  # a missing Verilator is named before minutes of work
    data = network_words(args.features, args.qonnx, args.words)
    with tempfile.TemporaryDirectory(prefix="sparsekws_netsim_") as tmp:
        record = simulate_compiled(args.compile_dir, data, args.work_dir or Path(tmp), args.cache_dir,
                                   load_board(args.board_file) if args.board_file else None, args.design)
    write_json(args.out, record)
    if not record["simulated"]:
        log.warning("%s on %s, %s design: %s", record["model"], record["board"], args.design, record["reason"])
        return
    log.info("%s on %s, %s design: %d words, %d off the QONNX logits (%d off FINN's integer graph), %.1f "
             "cycles/word (model %d), %.0f words/s", record["model"], record["board"], args.design, record["words"],
             record["words_mismatching"], record["words_mismatching_finn_graph"], record["cycles_per_word_mean"],
             record["modelled_cycles_per_word"], record["words_per_second"])
    if not record["passed"]:
        raise UserError(f"the simulated network disagrees with the model ({record['words_mismatching_finn_graph']} of "
                        f"{record['words']} words differ from FINN's integer graph too; "
                        f"{record['first_mismatch'] or 'incomplete run'}); record written to {args.out}")
