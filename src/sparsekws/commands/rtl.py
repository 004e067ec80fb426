"""Simulate a model's hardware layers in RTL (Verilator) and tabulate them beside the compile stage's
model and Yosys counts, dense vs sparse (config sections ``models.<model>``, ``features``, ``task``)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from sparsekws.commands.common import add_model_arguments, settings
from sparsekws.core.config import model_config
from sparsekws.core.errors import UserError
from sparsekws.core.files import write_csv, write_json
from sparsekws.core.provenance import stamp
from sparsekws.data.labels import class_names
from sparsekws.features.frontends import frontend_shape
from sparsekws.figures.style import write_table_html
from sparsekws.models.spec import model_input_shape, model_spec
from sparsekws.rtl.report import HTML_COLUMNS, html_notes, provenance, report
from sparsekws.units import calibration


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--out-dir", required=True, type=Path, help="folder for rtl_report.csv/.json/.html")
    parser.add_argument("--qonnx", type=Path, default=None,
                        help="exported QONNX model: its trained integer weights are simulated")
    parser.add_argument("--yosys-table", required=True, type=Path,
                        help="Yosys calibration table (config/calibration/yosys_units.csv)")
    parser.add_argument("--calibration", type=Path, default=None,
                        help="LUT/FF calibration factors (config/calibration/factors.json) for the model columns")
    parser.add_argument("--no-sim", action="store_true", help="skip the simulations (table lookups only)")
    parser.add_argument("--frames", type=int, default=3, help="frames per simulation pass (>= 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs")


def run(args: argparse.Namespace) -> None:
    if args.frames < 3:
        raise UserError("--frames must be at least 3 (the cycle count needs a steady state)")
    if args.qonnx is not None and not args.qonnx.is_file():
        raise UserError(f"QONNX model not found: {args.qonnx}; run the export stage first or omit --qonnx")
    cfg = settings(args)
    if args.calibration is not None:
        calibration.use_file(args.calibration)
    entry = model_config(cfg, args.model)
    shape = model_input_shape(entry, frontend_shape(entry["frontend"], cfg.get("features", {})))
    spec = model_spec(entry, shape, len(class_names(cfg["task"]["words"])))
    with tempfile.TemporaryDirectory(prefix="sparsekws_rtl_") as tmp:
        table = report(spec, args.model, args.qonnx, args.yosys_table, not args.no_sim, args.frames, args.seed,
                       Path(tmp), modes=(entry.get("sparse_hw") or {}).get("mode"))
    write_csv(args.out_dir / "rtl_report.csv", table)
    write_json(args.out_dir / "rtl_report.json", {"provenance": stamp(cfg) | provenance(args.yosys_table),
                                                  "rows": table.replace({np.nan: None}).to_dict("records")})
    write_table_html(table[HTML_COLUMNS], args.out_dir / "rtl_report.html",
                     f"RTL of {args.model}: cycles (model vs simulation), resources (model vs Yosys)",
                     html_notes(args.yosys_table))
    failed = table[table.sim_status.str.startswith("FAILED")]
    if not failed.empty:
        raise UserError(f"RTL simulation failed for {', '.join(failed.layer + '/' + failed.unit)}; "
                        f"see {args.out_dir / 'rtl_report.csv'}")
