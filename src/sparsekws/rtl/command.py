"""Simulate a model's hardware layers in RTL and tabulate dense vs sparse cycles and resources,
the compile stage's model beside simulation and Yosys.

For every matrix layer: the dense unit and, where the layer is sparse, the fixed fan-in unit at
the model's weight density with the same PE and SIMD (banked schedule; bank depth from the
trained weights when given), plus the sparse-sparse unit where the input comes from a k-WTA with
fixed k, and every k-WTA layer. Simulation (cocotb + Verilator) runs on a two-fold slice of each
unit (PE=2, 4 rows, the layer's real columns, fan-in and SIMD) with the trained weights of the
QONNX export when given (random fixed fan-in weights otherwise), random inputs and random output
back-pressure; every output is compared with the golden model, and the slice's measured cycles
per vector with the compile stage's cycle model (``sparse_ops.cost``) of the same slice.
Resources: the compile stage's model (``calibration.model_counts``: LUT/FF with the Yosys
calibration in force) beside the Yosys counts of the calibration table
(``scripts/rtl_calibrate.py``) at the layer's shape.

Outputs in --out-dir: ``rtl_report.csv`` (one row per layer and unit), ``rtl_report.json``
(the same rows with provenance) and ``rtl_report.html`` (the report's view). Missing tools are
reported in the table, not as a failure.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from sparsekws.config import load_config, model_config
from sparsekws.errors import UserError
from sparsekws.fileio import write_csv, write_json
from sparsekws.provenance import stamp
from sparsekws.rtl import cases, golden
from sparsekws.rtl.calibration import CALIBRATION_CSV, describe, model_counts, sparse_shape
from sparsekws.rtl.layers import ModelLayer, model_layers, trained_weights
from sparsekws.rtl.tools import missing_tools
from sparsekws.rtl.verilog import KwtaShape, MvuShape

log = logging.getLogger(__name__)
SLICE_PE = 2
RESOURCES = ("lut", "ff", "bram18", "dsp")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, type=Path, help="workflow config (YAML)")
    parser.add_argument("--model", required=True, help="model name (a key of 'models' in the config)")
    parser.add_argument("--out-dir", required=True, type=Path, help="folder for rtl_report.csv/.json")
    parser.add_argument("--qonnx", type=Path, default=None,
                        help="exported QONNX model: its trained integer weights are simulated")
    parser.add_argument("--calibration", type=Path, default=CALIBRATION_CSV,
                        help="Yosys calibration table (default: the one in the package)")
    parser.add_argument("--no-sim", action="store_true", help="skip the simulations (table lookups only)")
    parser.add_argument("--frames", type=int, default=3, help="frames per simulation pass (>= 3)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random inputs")


def units(item: ModelLayer, weights: np.ndarray | None = None) -> list[tuple[str, object]]:
    """(unit kind, full-size shape) pairs to report for one model layer."""
    if item.kwta:
        _, group, k = item.kwta
        return [("kwta", KwtaShape(group, k, 8, 4))]
    layer = item.layer
    out = [("dense", layer.shape())]
    if item.density < 1.0:
        shape = sparse_shape(layer, item.density)
        if weights is not None:
            shape = dataclasses.replace(shape, fan_in=int((weights != 0).sum(axis=1).max()),
                                        bank_depth=golden.bank_depth(weights, layer.simd))
        out.append(("sparse", shape))
    if item.active_inputs:
        active = math.ceil(item.active_inputs / layer.simd) * layer.simd
        out.append(("sparse_sparse", layer.shape(active=active)))
    return out


def slice_case(kind: str, shape, weights: np.ndarray | None, rng: np.random.Generator, frames: int) -> cases.Case:
    """The simulated slice of a unit (see the module docstring); ``case.shape`` is the slice's shape."""
    if kind == "kwta":
        return cases.kwta_case(shape, 1, rng, frames)
    part: MvuShape = dataclasses.replace(shape, pe=SLICE_PE, rows=2 * SLICE_PE, bank_depth=0)
    rows = None if weights is None else weights[: part.rows]
    return cases.mvu_case(kind, part, rng, frames, weights=rows)


def calibrated(table: pd.DataFrame, layer: str, kind: str, density: float) -> dict:
    """Yosys counts of the table row for (layer, unit, density), or NaNs with a note."""
    if table.empty:
        return {f"{m}_yosys": np.nan for m in RESOURCES} | {"depth_yosys": np.nan,
                                                             "yosys_method": "no calibration table"}
    match = table[(table.layer == layer) & (table.kind == kind)]
    if kind in ("sparse", "dense"):
        match = match[np.isclose(match.density, 1.0 if kind == "dense" else density)]
    if match.empty:
        return {f"{m}_yosys": np.nan for m in RESOURCES} | {
            "depth_yosys": np.nan, "yosys_method": "not in calibration table (run scripts/rtl_calibrate.py)"}
    row = match.iloc[0]
    return {f"{m}_yosys": row[m] for m in RESOURCES} | {"depth_yosys": row["depth"],
                                                         "yosys_method": f"yosys {row['method']}"}


def unit_columns(kind: str, shape, layer: str) -> dict:
    """The calibration table's description of a unit (what ``calibration.model_counts`` reads)."""
    return describe({"layer": layer, "kind": kind, "density": 1.0, "shape": shape})


def modelled(columns: dict, yosys_dsp: float) -> dict:
    """The compile stage's cycles per vector and resources of a unit (multipliers in DSPs where Yosys put them)."""
    counts = model_counts(columns | {"dsp": 0 if np.isnan(yosys_dsp) else yosys_dsp})
    return {"cycles_model_vector": counts.pop("cycles")} | {f"{m}_model": counts[m] for m in RESOURCES}


def report(cfg: dict, model: str, qonnx: Path | None, calibration: Path, simulate: bool, frames: int,
           seed: int, work_dir: Path) -> pd.DataFrame:
    """One row per (layer, unit) of ``model``."""
    from sparsekws.rtl.sim import simulate as run_sim

    layers = model_layers(model_config(cfg, model))
    weights = trained_weights(qonnx) if qonnx is not None else []
    matrices = [item for item in layers if item.layer]
    if weights and len(weights) != len(matrices):
        raise UserError(f"{qonnx} has {len(weights)} weight tensors but model {model!r} has "
                        f"{len(matrices)} matrix layers; export the model again")
    table = pd.read_csv(calibration) if calibration.is_file() else pd.DataFrame()
    missing = missing_tools() if simulate else []
    if missing:
        log.warning("rtl: simulation skipped: %s", "; ".join(missing))
    rng = np.random.default_rng(seed)
    rows, index = [], 0
    for item in layers:
        layer_weights = None
        if item.layer:
            layer_weights = item.hardware_columns(weights[index]) if weights else None
            index += 1
        for kind, shape in units(item, layer_weights):
            columns = unit_columns(kind, shape, item.name)
            row = {"model": model, "layer": item.name, "unit": kind, "density": item.density}
            row |= {key: columns.get(key, 0) for key in ("rows", "cols", "pe", "simd", "fan_in", "bank_depth", "active")}
            row["positions"] = item.positions
            yosys = calibrated(table, item.name, kind, item.density)
            row |= modelled(columns, yosys["dsp_yosys"])
            row["cycles_model_frame"] = row["cycles_model_vector"] * item.positions
            row |= yosys | {"resource_model": f"sparsekws.hw.sparse_ops.cost; {calibration_note()}"}
            row |= _simulate(kind, shape, item.name, layer_weights, rng, frames,
                             work_dir / f"{item.name}_{kind}_{len(rows)}", run_sim,
                             "; ".join(missing) if missing else ("--no-sim" if not simulate else ""))
            rows.append(row)
            log.info("rtl: %s %s: %s", item.name, kind, row["sim_status"])
    return pd.DataFrame(rows)


def calibration_note() -> str:
    """The resource calibration in force (``sparse_ops.constants``)."""
    from sparsekws.hw.sparse_ops import constants

    return f"LUT/FF: {constants.CALIBRATION}"


def _simulate(kind, shape, layer, weights, rng, frames, work, run_sim, skip_reason: str) -> dict:
    source = "trained" if weights is not None else "random fixed fan-in"
    if kind == "kwta":
        source = "random inputs"
    if skip_reason:
        return {"sim_status": f"skipped: {skip_reason}", "sim_weights": source, "sim_cycles_model": np.nan,
                "sim_cycles": np.nan, "sim_beats_checked": 0, "sim_mismatches": np.nan}
    case = slice_case(kind, shape, weights, rng, frames)
    model = model_counts(unit_columns(kind, case.shape, layer))["cycles"]  # the compile stage's model of the slice
    result = run_sim(case, work)
    status = "passed" if result.passed else f"FAILED: {result.first_mismatch}"
    if result.passed and abs(result.cycles_per_frame_sim - model) > 0.05 * model:
        status = f"passed, cycles {result.cycles_per_frame_sim} vs model {model}"
    return {"sim_status": status, "sim_weights": source, "sim_cycles_model": model,
            "sim_cycles": result.cycles_per_frame_sim, "sim_beats_checked": result.beats_checked,
            "sim_mismatches": result.mismatches}


HTML_COLUMNS = ["layer", "unit", "density", "pe", "simd", "fan_in", "bank_depth", "active", "cycles_model_frame",
                "sim_cycles_model", "sim_cycles", "sim_status", "lut_model", "lut_yosys", "ff_model", "ff_yosys",
                "bram18_model", "bram18_yosys", "dsp_model", "dsp_yosys", "yosys_method"]


def write_html(table: pd.DataFrame, path: Path, model: str) -> None:
    """The report's view of the table: per layer, dense vs sparse, model vs simulation and Yosys."""
    from sparsekws.plots import write_table_html

    write_table_html(table[HTML_COLUMNS], path, f"RTL of {model}: cycles (model vs simulation), resources (model vs Yosys)", [
        "cycles_model_frame: the compile stage's cycle model for the full layer (all positions of a conv); "
        "sim_cycles vs sim_cycles_model: cycles per vector measured in Verilator on a PE=2, 4-row slice of the "
        "unit (real columns, fan-in, SIMD, trained weights) vs the same model of that slice; every output beat "
        "compared with the golden model under random back-pressure.",
        f"*_model: sparsekws.hw.sparse_ops.cost at the unit's shape ({calibration_note()}); *_yosys: Yosys "
        "synth_xilinx (xcup) of the generated unit at the layer's shape with random weights of the same density "
        "(src/sparsekws/rtl/calibration.csv). Yosys maps the baked-in weight ROMs to LUTs or BRAM by size, the "
        "model puts them in BRAM: compare dense with sparse within one method.",
        "k-WTA rows: the RTL unit ranks the activation levels themselves (no boost, one scale); the trained "
        "models' k-WTA layers with boost rank through a ROM of up to C x 2^A scores, which the compile stage's "
        "model counts but which has no RTL unit yet (their layers are listed as not generated in the compile "
        "stage's codegen.sparse_rtl)."])


def run(args: argparse.Namespace) -> None:
    if args.frames < 3:
        raise UserError("--frames must be at least 3 (the cycle count needs a steady state)")
    if args.qonnx is not None and not args.qonnx.is_file():
        raise UserError(f"QONNX model not found: {args.qonnx}; run the export stage first or omit --qonnx")
    cfg = load_config(args.config)
    with tempfile.TemporaryDirectory(prefix="sparsekws_rtl_") as tmp:
        table = report(cfg, args.model, args.qonnx, args.calibration, not args.no_sim, args.frames, args.seed,
                       Path(tmp))
    write_csv(args.out_dir / "rtl_report.csv", table)
    write_json(args.out_dir / "rtl_report.json", {
        "provenance": stamp(cfg) | {"cycles": "sparsekws.hw.sparse_ops.cost (the compile stage's model); "
                                              "simulated on a PE=2, 4-row slice",
                                    "resources_yosys": f"{args.calibration.name} (Yosys synth_xilinx, xcup)",
                                    "resources_model": f"sparsekws.hw.sparse_ops.cost; {calibration_note()}"},
        "rows": table.replace({np.nan: None}).to_dict("records")})
    write_html(table, args.out_dir / "rtl_report.html", args.model)
    failed = table[table.sim_status.str.startswith("FAILED")]
    if not failed.empty:
        raise UserError(f"RTL simulation failed for {', '.join(failed.layer + '/' + failed.unit)}; "
                        f"see {args.out_dir / 'rtl_report.csv'}")
