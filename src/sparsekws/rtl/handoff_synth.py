"""Yosys synthesis of a compiled design's own Verilog, layer by layer, beside the compile stage's estimate.

The compile stage writes each project layer's Verilog at its folding (PE/SIMD, memory placement,
trained weights and rank ROMs) to ``<compile folder>/finn/codegen/<layer>/<layer>.v`` (the Vivado
hand-off, ``finn.ops.hdl``). This check synthesises those files with ``synth_xilinx`` (``rtl.synth``)
and sets the counts beside the layer's row of ``estimate.json``: the memories the search placed
(BRAM, URAM, LUTRAM) and the LUT/DSP it counted, at the real size, not a calibration slice.

Memories and DSPs compare as counts. LUT estimates are on FINN's scale (the calibration factors are
relative to FINN's dense units, ``rtl.calibration``), and Yosys counts FINN's own dense units about
3x larger: ``lut_yosys_finn_scale`` divides the Yosys LUTs by that dense-unit ratio of the
calibration table (``dense_scale``), which makes them comparable with ``lut_estimate``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from sparsekws.core.errors import UserError
from sparsekws.rtl.calibration import dense_scale
from sparsekws.rtl.synth import synthesize

# estimate.json's layer columns and the Yosys counts they are compared with
COLUMNS = {"LUT": "lut", "BRAM_18K": "bram18", "URAM": "uram", "DSP": "dsp"}


def handoff_layers(compile_dir: Path) -> list[dict]:
    """The layers of ``compile_dir/estimate.json`` that have generated Verilog in ``finn/codegen``."""
    estimate = compile_dir / "estimate.json"
    if not estimate.is_file():
        raise UserError(f"{estimate} not found: give a compile stage folder (results/hw/<dataset>/<model>/<board>)")
    layers = json.loads(estimate.read_text())["layers"]
    return [layer for layer in layers if _source(compile_dir, layer["name"]).is_file()]


def synth_handoff(compile_dir: Path, work_dir: Path, yosys_table: Path, only: str | None = None,
                  timeout_s: float = 3600, log=print) -> pd.DataFrame:
    """One row per generated layer (name containing ``only``): its estimate beside Yosys;
    ``yosys_table``: the calibration table (``config/calibration/yosys_units.csv``)."""
    lut_scale = dense_scale(pd.read_csv(yosys_table))["LUT"]
    rows = []
    for layer in handoff_layers(compile_dir):
        name = layer["name"]
        if only and only not in name:
            continue
        log(f"yosys: {name} ...")
        result = synthesize(_source(compile_dir, name).read_text(), name, work_dir / name, timeout_s=timeout_s)
        row = {"layer": name, "op_type": layer["op_type"], "pe": layer.get("PE"), "simd": layer.get("SIMD"),
               "cycles": layer["cycles"]}
        for column, key in COLUMNS.items():
            row[f"{key}_estimate"] = layer[column]
            row[f"{key}_yosys"] = getattr(result, key)
        row |= {"lut_yosys_finn_scale": round(result.lut / lut_scale), "ff_yosys": result.ff,
                "lut_mem_yosys": result.lut_mem, "depth_yosys": result.depth, "yosys_seconds": result.seconds}
        log(f"yosys: {name}: LUT {row['lut_estimate']:g} vs {row['lut_yosys_finn_scale']} on FINN's scale, "
            + ", ".join(f"{key} {row[key + '_estimate']:g} vs {row[key + '_yosys']}" for key in ("bram18", "uram", "dsp")))
        rows.append(row)
    if not rows:
        raise UserError(f"no generated Verilog under {compile_dir / 'finn' / 'codegen'}"
                        + (f" for layers containing {only!r}" if only else ""))
    return pd.DataFrame(rows)


def _source(compile_dir: Path, name: str) -> Path:
    return compile_dir / "finn" / "codegen" / name / f"{name}.v"
