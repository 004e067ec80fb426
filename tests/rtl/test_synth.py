"""Yosys synthesis: cell counting, depth parsing, and one small unit synthesised for real."""

import numpy as np
import pytest

from sparsekws.rtl import synth
from sparsekws.rtl.kwta_ranked import RankedKwtaShape, ranked_kwta
from sparsekws.rtl.tools import ToolMissing, yosys_path


def test_count_cells_uses_vivado_categories():
    counts = synth.count_cells({"LUT6": 10, "LUT2": 3, "RAM64M": 2, "SRLC32E": 1, "FDRE": 7, "FDSE": 1,
                                "RAMB36E2": 2, "RAMB18E2": 1, "DSP48E2": 4, "CARRY4": 5, "MUXF7": 9})
    assert counts == {"lut": 22, "lut_logic": 13, "lut_mem": 9, "ff": 8, "bram18": 5, "uram": 0, "dsp": 4,
                      "carry": 5}


def test_parse_depth():
    assert synth.parse_depth("x\nLongest topological path in top (length=17):\n 0: a") == 17
    with pytest.raises(RuntimeError):
        synth.parse_depth("nothing")


def test_small_kwta_synthesises(tmp_path):
    try:
        yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    shape = RankedKwtaShape(channels=4, positions=1, k=2, simd=2, bits=2)
    result = synth.synthesize(ranked_kwta("kwta_small", shape, np.tile(np.arange(4), (4, 1))), "kwta_small", tmp_path)
    assert result.lut > 0 and result.ff >= 2 * 2  # the registered 2 x 2-bit input beat at least
    assert result.bram18 == 0 and result.dsp == 0 and result.depth > 1


@pytest.mark.parametrize("style, in_bram", [("distributed", False), ("block", True)])
def test_a_rom_goes_where_its_vivado_rom_style_says(tmp_path, style, in_bram):
    """Vivado's rom_style "distributed" is Yosys' "logic": the ROM becomes LUTs, not block RAM."""
    try:
        yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    words = "\n".join(f"    m[{i}] = 16'h{(i * 7919) % 65536:04x};" for i in range(1024))
    verilog = (f'module rom(input clk, input [9:0] a, output reg [15:0] q);\n'
               f'  (* rom_style = "{style}" *) reg [15:0] m [0:1023];\n  initial begin\n{words}\n  end\n'
               "  always @(posedge clk) q <= m[a];\nendmodule\n")
    result = synth.synthesize(verilog, "rom", tmp_path)
    assert (result.bram18 > 0) == in_bram and (result.lut > 50) != in_bram
