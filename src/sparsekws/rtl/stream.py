"""Verilog of the stream plumbing between the units of a stitched network: a FIFO whose occupancy
limit is set at run time and which reports its peak occupancy, and a width converter between
streams of different lane counts.

Both have the units' ports (``rtl.verilog``: ``clk``, ``rst_n``, ``in_*``, ``out_*``); neither has
a combinational path from ``out_ready`` to ``in_ready`` (a FIFO between two units breaks the ready
chain).
"""

from __future__ import annotations

import math

from sparsekws.rtl.text import Text
from sparsekws.units.bits import clog2

#: ``$display`` line of a FIFO at the end of a simulation: ``FIFO <name> peak <n> limit <n>``
FIFO_REPORT = "FIFO {name} peak {peak} limit {limit}"


def fifo(name: str, width: int, capacity: int) -> str:
    """A first-word-fall-through FIFO of ``capacity`` words; in simulation the plusarg ``+<name>=<n>``
    limits it to ``n`` words (the depth under test), and at the end (``final``) it prints its peak
    occupancy (``FIFO_REPORT``); synthesis (``SYNTHESIS`` defined) sees a plain FIFO of ``capacity``."""
    if capacity < 2:
        raise ValueError(f"FIFO {name}: capacity must be >= 2, got {capacity}")
    ab, cb = clog2(capacity), clog2(capacity + 1)
    t = Text()
    t.header(name, f"FIFO {capacity} x {width} bits, occupancy limit +{name}=<n> (default {capacity})",
             width, width, out_reg=False)
    t.add(f"  reg [{width - 1}:0] mem [0:{capacity - 1}];",
          f"  reg [{ab - 1}:0] rd, wr;", f"  reg [{cb - 1}:0] count, peak;",
          "`ifdef SYNTHESIS",  # defined by Yosys: a FIFO of its capacity
          f"  wire [31:0] limit = 32'd{capacity};",
          "`else",
          "  integer limit;",
          "  initial begin",
          f"    limit = {capacity};",
          f"    if ($value$plusargs(\"{name}=%d\", limit)) begin end",
          f"    if (limit < 1 || limit > {capacity}) limit = {capacity};",
          "  end",
          "`endif",
          f"  wire [31:0] count_wide = {{{32 - cb}'d0, count}};",
          "  assign in_ready = (count_wide < limit);",
          f"  assign out_valid = (count != {cb}'d0);",
          "  assign out_data = mem[rd];",
          "  wire push = in_valid && in_ready;", "  wire pop = out_valid && out_ready;",
          f"  wire [{cb - 1}:0] next = count + {{{cb - 1}'d0, push}} - {{{cb - 1}'d0, pop}};",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) begin rd <= {ab}'d0; wr <= {ab}'d0; count <= {cb}'d0; peak <= {cb}'d0; end",
          "    else begin",
          f"      if (push) begin mem[wr] <= in_data; wr <= (wr == {ab}'d{capacity - 1}) ? {ab}'d0 : wr + 1'b1; end",
          f"      if (pop) rd <= (rd == {ab}'d{capacity - 1}) ? {ab}'d0 : rd + 1'b1;",
          "      count <= next;",
          "      if (next > peak) peak <= next;",
          "    end",
          "  end",
          "`ifndef SYNTHESIS",
          "  final $display(\"" + FIFO_REPORT.format(name=name, peak="%0d", limit="%0d") + "\", peak, limit);",
          "`endif")
    t.footer()
    return t.text()


def width_converter(name: str, lane_bits: int, lanes_in: int, lanes_out: int) -> str:
    """Re-beat a stream of ``lanes_in`` lanes of ``lane_bits`` into ``lanes_out`` lanes (lane 0 first);
    one of the two counts must divide the other (``converters`` chains two otherwise)."""
    if lanes_in % lanes_out and lanes_out % lanes_in:
        raise ValueError(f"{name}: {lanes_in} -> {lanes_out} lanes: one count must divide the other")
    iw, ow = lanes_in * lane_bits, lanes_out * lane_bits
    t = Text()
    t.header(name, f"width converter {lanes_in} -> {lanes_out} lanes of {lane_bits} bits", iw, ow, out_reg=False)
    if lanes_in == lanes_out:
        t.add("  assign out_data = in_data;", "  assign out_valid = in_valid;", "  assign in_ready = out_ready;")
    elif lanes_in > lanes_out:  # one wide beat out as n narrow ones
        n = lanes_in // lanes_out
        ib = clog2(n)
        t.add(f"  reg [{iw - 1}:0] held;", "  reg full;", f"  reg [{ib - 1}:0] part;",
              f"  wire last = (part == {ib}'d{n - 1});",
              "  assign out_valid = full;", f"  assign out_data = held[part * {ow} +: {ow}];",
              "  assign in_ready = !full || (out_ready && last);",
              "  always @(posedge clk) begin",
              f"    if (!rst_n) begin full <= 1'b0; part <= {ib}'d0; end",
              f"    else if (in_valid && in_ready) begin held <= in_data; full <= 1'b1; part <= {ib}'d0; end",
              "    else if (full && out_ready) begin",
              "      if (last) full <= 1'b0;",
              "      else part <= part + 1'b1;",
              "    end",
              "  end")
    else:  # n narrow beats in, one wide beat out
        n = lanes_out // lanes_in
        ib = clog2(n)
        t.add(f"  reg [{ow - 1}:0] held;", "  reg full;", f"  reg [{ib - 1}:0] part;",
              f"  wire last = (part == {ib}'d{n - 1});",
              "  assign out_valid = full;", "  assign out_data = held;",
              "  assign in_ready = !full || out_ready;",
              "  always @(posedge clk) begin",
              f"    if (!rst_n) begin full <= 1'b0; part <= {ib}'d0; end",
              "    else begin",
              "      if (full && out_ready) full <= 1'b0;",
              "      if (in_valid && in_ready) begin",
              f"        held[part * {iw} +: {iw}] <= in_data;",
              f"        part <= last ? {ib}'d0 : part + 1'b1;",
              "        if (last) full <= 1'b1;",
              "      end",
              "    end",
              "  end")
    t.footer()
    return t.text()


def converter_lanes(lanes_in: int, lanes_out: int) -> list[tuple[int, int]]:
    """The ``(lanes in, lanes out)`` of the width converters from ``lanes_in`` to ``lanes_out`` lanes:
    none when equal, one when a count divides the other, else two through their common divisor."""
    if lanes_in == lanes_out:
        return []
    if lanes_in % lanes_out == 0 or lanes_out % lanes_in == 0:
        return [(lanes_in, lanes_out)]
    g = math.gcd(lanes_in, lanes_out)
    return [(lanes_in, g), (g, lanes_out)]
