"""Yosys over a compile folder's generated Verilog, beside its estimate (``rtl.handoff_synth``)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from support import CONFIG_DIR

from sparsekws.core.errors import UserError
from sparsekws.rtl.calibration import dense_scale
from sparsekws.rtl.handoff_synth import handoff_layers, synth_handoff
from sparsekws.rtl.kwta_ranked import ranked_kwta
from sparsekws.rtl.tools import ToolMissing, yosys_path
from sparsekws.units.cost import KWinnersUnit
from sparsekws.units.kwta import RankedKwtaShape


TABLE = CONFIG_DIR / "calibration" / "yosys_units.csv"


def _compile_folder(tmp_path):
    """A compile folder with one generated k-WTA (split memories) and one FINN layer without Verilog."""
    model = KWinnersUnit(channels=64, positions=1, pe=2, input_bits=4, k=10, score_bins=1024, rank_table=True,
                         ram_style="split")
    table = np.random.default_rng(3).permutation(64 * 16).reshape(64, 16)
    shape = RankedKwtaShape(64, 1, 10, 2, 4, bins=1024, ram_style="split")
    folder = tmp_path / "u250"
    (folder / "finn" / "codegen" / "KWinnersHW_0").mkdir(parents=True)
    (folder / "finn" / "codegen" / "KWinnersHW_0" / "KWinnersHW_0.v").write_text(ranked_kwta("KWinnersHW_0", shape, table))
    layers = [{"name": "MVAU_rtl_0", "op_type": "MVAU_rtl", "PE": 1, "SIMD": 2, "cycles": 10, "LUT": 0.0,
               "BRAM_18K": 1.0, "URAM": 0.0, "DSP": 2.0},
              {"name": "KWinnersHW_0", "op_type": "KWinnersHW", "PE": 2, "SIMD": None, "cycles": model.cycles(),
               "LUT": 100.0, "BRAM_18K": float(model.bram18()), "URAM": float(model.uram()), "DSP": 0.0}]
    (folder / "estimate.json").write_text(json.dumps({"layers": layers}))
    return folder


def test_only_layers_with_generated_verilog_are_taken(tmp_path):
    assert [layer["name"] for layer in handoff_layers(_compile_folder(tmp_path))] == ["KWinnersHW_0"]


def test_the_placed_memories_are_what_yosys_infers(tmp_path):
    try:
        yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    table = synth_handoff(_compile_folder(tmp_path), tmp_path / "work", TABLE, log=lambda msg: None)
    row = table.iloc[0]
    assert list(table.layer) == ["KWinnersHW_0"]
    assert row.uram_estimate == row.uram_yosys == 2 and row.bram18_estimate == row.bram18_yosys == 4
    assert row.lut_yosys_finn_scale == round(row.lut_yosys / dense_scale(pd.read_csv(TABLE))["LUT"])
    assert row.lut_yosys > row.lut_yosys_finn_scale > 0 and row.yosys_seconds > 0


def test_a_folder_without_an_estimate_or_verilog_is_named(tmp_path):
    with pytest.raises(UserError, match="estimate.json not found"):
        handoff_layers(tmp_path)
    folder = _compile_folder(tmp_path)
    with pytest.raises(UserError, match="no generated Verilog.*'Nope'"):
        synth_handoff(folder, tmp_path / "work", TABLE, only="Nope", log=lambda msg: None)
