"""Simulate a model's hardware layers in RTL and tabulate dense vs sparse cycles and resources,
the compile stage's model beside simulation and Yosys.

For every matrix layer: the dense unit and, where the layer is sparse, the fixed fan-in unit at
the model's weight density with the same PE and SIMD (banked schedule; bank depth from the
trained weights when given), plus the sparse-sparse unit where the input comes from a k-WTA with
fixed k, the unit the model config's ``sparse_hw`` mode names where it is ``constant`` (the
fully parallel constant-coefficient unit, simulated on a 4-row slice) or ``scatter_conv`` (the
scatter convolution at PE ``SCATTER_PE``, bank depth from the weights, simulated on a slice of
PE output channels with every input channel, kernel offset and the layer's k), and every k-WTA layer as the rank-ROM unit (``kwta_ranked``, global mode, PE
``calibration.KWTA_PE``), with, where it feeds a scatter convolution, the whole unit again with its
pairs packer (``kwta_pairs``: ``SCATTER_SIMD`` pairs per beat; resources of the packer alone). Simulation (cocotb + Verilator) runs on a two-fold slice of each matrix
unit (PE=2, 4 rows, the layer's real columns, fan-in and SIMD) with the trained weights of the
QONNX export when given (random fixed fan-in weights otherwise), and on the whole k-WTA unit
with the trained layer's rank ROM (its boost and activation scale, ``layers.trained_kwta``) when
given (the calibration grid's seeded boost, ``calibration.kwta_rank_table``, otherwise); random
inputs and random output back-pressure; every output is compared with the golden model
(``units.kwta.reference`` for the k-WTA), and the measured cycles per vector (k-WTA: per frame)
with the compile stage's cycle model (``units.cost``) of the same unit or slice.
Resources: the compile stage's model (``calibration.model_counts``: LUT/FF with the Yosys
calibration in force) beside the Yosys counts of the calibration table
(``scripts/rtl_calibrate.py``) at the layer's shape.

The ``rtl`` command writes the rows as ``rtl_report.csv``, ``rtl_report.json`` (with provenance)
and ``rtl_report.html`` (the report's view). Missing tools are reported in the table, not as a
failure.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sparsekws.core.errors import UserError
from sparsekws.models.spec import ModelSpec
from sparsekws.rtl import cases
from sparsekws.rtl.calibration import describe, kwta_entry, model_counts, sparse_shape
from sparsekws.units.kwta_pairs import pairs_shape
from sparsekws.rtl.layers import ModelLayer, TrainedKwta, model_layers, trained_kwta, trained_weights
from sparsekws.rtl.sim import simulate as run_sim
from sparsekws.rtl.tools import missing_tools
from sparsekws.rtl.verilog import MvuShape
from sparsekws.units import golden
from sparsekws.units.calibration import source as calibration_source
from sparsekws.units.constant import csd_terms
from sparsekws.units.kwta import RankedKwtaShape
from sparsekws.units.scatter_conv import ScatterConvShape, bank_depth

log = logging.getLogger(__name__)
SLICE_PE = 2
SCATTER_PE = 16  # output banks of the scatter convolution (one step per winner with packs of M/16 kernels)
SCATTER_SIMD = 1  # pairs per beat into the scatter convolution (and out of the k-WTA's packer)
RESOURCES = ("lut", "ff", "bram18", "dsp")


def units(item: ModelLayer, weights: np.ndarray | None = None,
          feeds: ModelLayer | None = None) -> list[tuple[str, object]]:
    """(unit kind, full-size shape) pairs to report for one model layer; ``weights``: the matrix
    layer's weights in hardware column order, or the k-WTA layer's rank ROM; ``feeds``: the layer
    after it (a k-WTA before a scatter convolution streams pairs: its packer is reported too)."""
    if item.kwta:
        name, channels, k = item.kwta
        shape = kwta_entry(name, channels, item.positions, k, weights)["shape"]
        out = [("kwta", shape)]
        if feeds is not None and feeds.hw_mode == "scatter_conv" and feeds.conv is not None:
            _, height, width, _, _ = feeds.conv
            out.append(("kwta_pairs", pairs_shape(shape, height, width, SCATTER_SIMD)))
        return out
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
    fan_in = int((weights != 0).sum(axis=1).max()) if weights is not None else golden.fan_in_for_density(
        layer.cols, item.density)
    if item.hw_mode == "constant":
        out.append(("constant", layer.shape(pe=layer.rows, simd=layer.cols, fan_in=fan_in)))
    if item.hw_mode == "scatter_conv" and item.conv is not None:
        channels, height, width, kernel, k = item.conv
        pe = math.gcd(SCATTER_PE, layer.rows)
        depth = bank_depth(conv_weights(weights, item.conv), pe) if weights is not None else 1
        out.append(("scatter_conv", ScatterConvShape(
            channels=channels, height=height, width=width, kernel=kernel, outputs=layer.rows, active=k,
            pe=pe, simd=SCATTER_SIMD, wbits=layer.wbits, abits=layer.abits, obits=layer.obits, fan_in=fan_in,
            bank_depth=depth)))
    return out


def conv_weights(weights: np.ndarray, conv: tuple) -> np.ndarray:
    """A conv's weights in hardware column order ``[M, K*K*C]`` as torch's ``[M, C, K, K]``."""
    channels, _, _, kernel, _ = conv
    return np.asarray(weights).reshape(len(weights), kernel, kernel, channels).transpose(0, 3, 1, 2)


def slice_case(kind: str, shape, weights: np.ndarray | None, rng: np.random.Generator, frames: int) -> cases.Case:
    """The simulated slice of a unit (the whole unit for a k-WTA, ``weights`` = its rank ROM; see the
    module docstring); ``case.shape`` is the slice's shape."""
    if kind == "kwta":
        return cases.ranked_kwta_case(shape, weights, rng, frames)
    if kind == "kwta_pairs":  # the whole k-WTA with its packer
        ranked = RankedKwtaShape(shape.channels, shape.height * shape.width, shape.k, shape.pe, shape.bits,
                                 bins=int(weights.max()) + 1)
        return cases.kwta_pairs_case(ranked, weights, shape, rng, frames)
    if kind == "scatter_conv":  # one output word per bank: every bank, offset and input channel
        if weights is None:
            weights = golden.random_fixed_fan_in(shape.pe, shape.channels * shape.offsets, shape.fan_in, shape.wbits, rng)
        torch_layout = conv_weights(weights[: shape.pe], (shape.channels, 0, 0, shape.kernel, 0))
        part = dataclasses.replace(shape, outputs=shape.pe, bank_depth=bank_depth(torch_layout, shape.pe))
        return cases.scatter_conv_case(part, torch_layout, rng, frames)
    if kind == "constant":
        part = dataclasses.replace(shape, pe=2 * SLICE_PE, rows=2 * SLICE_PE)
        return cases.mvu_case(kind, part, rng, frames, weights=None if weights is None else weights[: part.rows])
    part: MvuShape = dataclasses.replace(shape, pe=SLICE_PE, rows=2 * SLICE_PE, bank_depth=0)
    rows = None if weights is None else weights[: part.rows]
    return cases.mvu_case(kind, part, rng, frames, weights=rows)


def calibrated(table: pd.DataFrame, layer: str, kind: str, density: float, columns: dict | None = None) -> dict:
    """Yosys counts of the table row for (layer, unit, density), or NaNs with a note; a k-WTA row
    must describe the ranked unit (column ``bins``) at the unit's ``columns`` (channels, positions, k)."""
    if table.empty:
        return {f"{m}_yosys": np.nan for m in RESOURCES} | {"depth_yosys": np.nan,
                                                             "yosys_method": "no calibration table"}
    match = table[(table.layer == layer) & (table.kind == kind)]
    if kind in ("sparse", "dense", "constant", "scatter_conv"):
        match = match[np.isclose(match.density, 1.0 if kind == "dense" else density)]
    if kind == "scatter_conv":
        match = match[match.pe == (columns or {}).get("pe")]
    if kind == "kwta":
        match = _ranked_kwta_rows(match, columns or {})
    if kind == "kwta_pairs":
        match = match[(match.pe == (columns or {}).get("pe")) & (match.simd == (columns or {}).get("simd"))]
    if match.empty:
        return {f"{m}_yosys": np.nan for m in RESOURCES} | {
            "depth_yosys": np.nan, "yosys_method": "not in calibration table (run scripts/rtl_calibrate.py)"}
    row = match.iloc[0]
    return {f"{m}_yosys": row[m] for m in RESOURCES} | {"depth_yosys": row["depth"],
                                                         "yosys_method": f"yosys {row['method']}"}


def _ranked_kwta_rows(match: pd.DataFrame, columns: dict) -> pd.DataFrame:
    """The rows of the ranked k-WTA unit (tables written before it have no ``bins``) at the unit's
    channels (``rows``), ``positions`` and k (``active``)."""
    if "bins" not in match or "positions" not in match:
        return match.iloc[:0]
    same = match.bins.gt(0)
    for key in ("rows", "positions", "active"):
        same &= match[key] == columns.get(key)
    return match[same]


def unit_columns(kind: str, shape, layer: str, weights: np.ndarray | None = None) -> dict:
    """The calibration table's description of a unit (what ``calibration.model_counts`` reads); a
    constant-coefficient unit's terms come from its ``weights`` (its rows; the fan-in's worst case
    without them)."""
    entry = {"layer": layer, "kind": kind, "density": 1.0, "shape": shape}
    if kind == "constant":
        entry["terms"] = (csd_terms(weights[: shape.rows]) if weights is not None
                          else 2 * shape.rows * (shape.fan_in or shape.cols))
    return describe(entry)


def modelled(columns: dict, yosys_dsp: float) -> dict:
    """The compile stage's cycles per vector and resources of a unit (multipliers in DSPs where Yosys put them)."""
    counts = model_counts(columns | {"dsp": 0 if np.isnan(yosys_dsp) else yosys_dsp})
    return {"cycles_model_vector": counts.pop("cycles")} | {f"{m}_model": counts[m] for m in RESOURCES}


def rank_tables(kwta_layers: list[ModelLayer], trained: list[TrainedKwta], qonnx: Path | None) -> list[np.ndarray]:
    """The rank ROM of each k-WTA layer: the trained one (checked against the config's shape and k,
    global mode), or the calibration grid's seeded boost (``calibration.kwta_rank_table``)."""
    if qonnx is None:
        return [kwta_entry(item.kwta[0], item.kwta[1], item.positions, item.kwta[2])["rank_table"]
                for item in kwta_layers]
    if len(trained) != len(kwta_layers):
        raise UserError(f"{qonnx} has {len(trained)} k-WTA nodes but the model config has {len(kwta_layers)}; "
                        "export the model again")
    for item, node in zip(kwta_layers, trained):
        _, channels, k = item.kwta
        if (node.channels, node.positions or item.positions, node.k) != (channels, item.positions, k):
            raise UserError(f"{qonnx}: k-WTA node of {node.channels} channels x {node.positions} positions, "
                            f"k={node.k}, but layer {item.name} has {channels} x {item.positions}, k={k}; "
                            "export the model again")
        if node.mode != "global":
            raise UserError(f"{qonnx}: k-WTA layer {item.name} has mode {node.mode!r}; the RTL unit is global")
    return [node.rank_table for node in trained]


def report(spec: ModelSpec, model: str, qonnx: Path | None, yosys_table: Path, simulate: bool, frames: int,
           seed: int, work_dir: Path, modes: dict | None = None) -> pd.DataFrame:
    """One row per (layer, unit) of ``model`` (specification ``spec``; ``modes``: its config's
    ``sparse_hw.mode``); ``yosys_table``: the Yosys calibration table (``rtl.calibration``), read where it exists."""
    layers = model_layers(spec, modes)
    weights = trained_weights(qonnx) if qonnx is not None else []
    matrices = [item for item in layers if item.layer]
    if weights and len(weights) != len(matrices):
        raise UserError(f"{qonnx} has {len(weights)} weight tensors but model {model!r} has "
                        f"{len(matrices)} matrix layers; export the model again")
    kwta_layers = [item for item in layers if item.kwta]
    tables = iter(rank_tables(kwta_layers, trained_kwta(qonnx) if qonnx is not None and kwta_layers else [], qonnx))
    table = pd.read_csv(yosys_table) if yosys_table.is_file() else pd.DataFrame()
    missing = missing_tools() if simulate else []
    if missing:
        log.warning("rtl: simulation skipped: %s", "; ".join(missing))
    rng = np.random.default_rng(seed)
    rows, index = [], 0
    for position, item in enumerate(layers):
        if item.layer:
            layer_weights = item.hardware_columns(weights[index]) if weights else None
            index += 1
        else:  # a k-WTA layer: its rank ROM
            layer_weights = next(tables)
        for kind, shape in units(item, layer_weights, layers[position + 1] if position + 1 < len(layers) else None):
            columns = unit_columns(kind, shape, item.name, layer_weights if item.layer else None)
            row = {"model": model, "layer": item.name, "unit": kind, "density": item.density}
            row |= {key: columns.get(key, 0)
                    for key in ("rows", "cols", "pe", "simd", "fan_in", "bank_depth", "active", "bins")}
            row["positions"] = item.positions
            yosys = calibrated(table, item.name, kind, item.density, columns)
            row |= modelled(columns, yosys["dsp_yosys"])
            per_frame = kind in ("kwta", "kwta_pairs", "scatter_conv")  # their model counts a whole frame
            row["cycles_model_frame"] = row["cycles_model_vector"] * (1 if per_frame else item.positions)
            row |= yosys | {"resource_model": f"sparsekws.units.cost; {calibration_note()}"}
            row |= _simulate(kind, shape, item.name, layer_weights, qonnx is not None, rng, frames,
                             work_dir / f"{item.name}_{kind}_{len(rows)}", run_sim,
                             "; ".join(missing) if missing else ("--no-sim" if not simulate else ""))
            rows.append(row)
            log.info("rtl: %s %s: %s", item.name, kind, row["sim_status"])
    return pd.DataFrame(rows)


def calibration_note() -> str:
    """The resource calibration in force (``units.calibration``)."""
    return f"LUT/FF: {calibration_source()}"


def _simulate(kind, shape, layer, weights, trained, rng, frames, work, run_sim, skip_reason: str) -> dict:
    source = "trained" if weights is not None else "random fixed fan-in"
    if kind == "scatter_conv":
        source += f", k-WTA-like maps of k = {shape.active} winners"
    if kind in ("kwta", "kwta_pairs"):
        source = ("trained rank ROM (boost, activation scale)" if trained
                  else "seeded boost of the calibration grid (calibration.kwta_boost)") + ", random inputs"
    if skip_reason:
        return {"sim_status": f"skipped: {skip_reason}", "sim_weights": source, "sim_cycles_model": np.nan,
                "sim_cycles": np.nan, "sim_beats_checked": 0, "sim_mismatches": np.nan}
    case = slice_case(kind, shape, weights, rng, frames)
    slice_weights = weights if kind not in ("kwta", "scatter_conv") else None
    if kind == "kwta_pairs":  # the k-WTA and its packer: units.cost.KWinnersUnit with pairs
        model = case.cycles_per_frame
    else:
        model = model_counts(unit_columns(kind, case.shape, layer, slice_weights))["cycles"]  # the model of the slice
    result = run_sim(case, work)
    status = "passed" if result.passed else f"FAILED: {result.first_mismatch}"
    if result.passed and abs(result.cycles_per_frame_sim - model) > 0.05 * model:
        status = f"passed, cycles {result.cycles_per_frame_sim} vs model {model}"
    return {"sim_status": status, "sim_weights": source, "sim_cycles_model": model,
            "sim_cycles": result.cycles_per_frame_sim, "sim_beats_checked": result.beats_checked,
            "sim_mismatches": result.mismatches}


HTML_COLUMNS = ["layer", "unit", "density", "positions", "pe", "simd", "fan_in", "bank_depth", "active", "bins",
                "cycles_model_frame",
                "sim_cycles_model", "sim_cycles", "sim_status", "lut_model", "lut_yosys", "ff_model", "ff_yosys",
                "bram18_model", "bram18_yosys", "dsp_model", "dsp_yosys", "yosys_method"]


def html_notes(yosys_table: Path) -> list[str]:
    """What the columns of the report's view (``HTML_COLUMNS``) mean."""
    return [
        "cycles_model_frame: the compile stage's cycle model for the full layer (all positions of a conv); "
        "sim_cycles vs sim_cycles_model: cycles per vector measured in Verilator on a PE=2, 4-row slice of the "
        "unit (real columns, fan-in, SIMD, trained weights; k-WTA: per frame, the whole unit) vs the same model "
        "of that slice; every output beat compared with the golden model under random back-pressure.",
        f"*_model: sparsekws.units.cost at the unit's shape ({calibration_note()}); *_yosys: Yosys "
        "synth_xilinx (xcup) of the generated unit at the layer's shape with random weights of the same density "
        f"({yosys_table.name}). Yosys maps the baked-in weight ROMs to LUTs or BRAM by size, the "
        "model puts them in BRAM: compare dense with sparse within one method.",
        "k-WTA rows: the rank-ROM unit (rtl.kwta_ranked, global, rows = channels, positions = H x W, active = k, "
        "bins = distinct ranks of its ROM), simulated whole against units.kwta.reference; its ROM holds the "
        "trained layer's ranks (boost, activation scale) with --qonnx, else the calibration grid's seeded boost "
        "(see sim_weights); cycles are per frame.",
        "kwta_pairs rows: the k-WTA before a scatter convolution with its pairs packer (rtl.kwta_pairs: "
        "simd = values per input beat, pe = pairs per output beat), simulated whole against "
        "units.kwta_pairs.reference at max(k-WTA cycles, ceil(k / pairs per beat)) per frame; resources: the "
        "packer alone (units.cost.PairsPackerUnit, calibration kind kwta_pairs)."]


def provenance(yosys_table: Path) -> dict[str, str]:
    """Where the report's cycles and resources come from."""
    return {"cycles": "sparsekws.units.cost (the compile stage's model); "
                      "simulated on a PE=2, 4-row slice (k-WTA: the whole unit)",
            "resources_yosys": f"{yosys_table.name} (Yosys synth_xilinx, xcup)",
            "resources_model": f"sparsekws.units.cost; {calibration_note()}"}
