"""Verilog text helpers (``rtl.text``)."""

from __future__ import annotations

from sparsekws.rtl.text import const, with_memory_attribute


def test_memory_attribute_goes_before_the_named_memories_only():
    verilog = "\n".join(["  reg [7:0] wmem0 [0:15];", "  reg [7:0] wmem12_3 [0:3];", "  reg [7:0] thr0 [0:3];",
                         "  reg [7:0] wmem0_q;"])
    out = with_memory_attribute(verilog, r"wmem\d+(_\d+)?", '(* rom_style = "block" *)').split("\n")
    assert out[0] == '  (* rom_style = "block" *) reg [7:0] wmem0 [0:15];'
    assert out[1] == '  (* rom_style = "block" *) reg [7:0] wmem12_3 [0:3];'
    assert out[2:] == ["  reg [7:0] thr0 [0:3];", "  reg [7:0] wmem0_q;"]  # another memory, a register


def test_constants_are_sized_hex_literals_in_twos_complement():
    assert const(4, 5) == "4'h5" and const(4, -1) == "4'hf"
