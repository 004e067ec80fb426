"""Verilog of the k-WTA with a pairs output: the rank-ROM unit (``rtl.kwta_ranked``) and the pairs
packer behind it (``units.kwta_pairs``), one module to the outside.

Packer, per input beat (``PE`` values, losers zero): lane ``s`` holds a non-zero when its value is
not 0; a prefix count over the lanes gives each non-zero its ring position (write pointer +
non-zeros of the lower lanes), the ring bank ``position mod banks`` and the bank's row (the
pointer's row, or the next one below the pointer's bank). Every bank has one write and one read
port. The non-zero count of each finished frame goes to a small FIFO (``FRAME_COUNTS``).

Per output beat (``SIMD`` pairs): while the frame's count is unknown (the frame still loads) the
reader sends ``SIMD`` pairs once the ring holds them; once it is known, the rest of the frame's
non-zeros, then zero pairs to the frame's last beat. Each bank is read at its row with a registered read, and
output lane ``j`` takes bank ``(read pointer + j) mod banks``. The input waits when the ring has
under ``PE`` free positions or the count FIFO is full at a frame's last beat.
"""

from __future__ import annotations

import numpy as np

from sparsekws.rtl.kwta_ranked import RAM_STYLE_ATTRIBUTE, ranked_kwta
from sparsekws.rtl.text import Text, const, zext
from sparsekws.units.bits import clog2
from sparsekws.units.kwta import RankedKwtaShape, placement
from sparsekws.units.kwta_pairs import FRAME_COUNTS, PairsShape, pair_layout


def kwta_pairs(name: str, shape: RankedKwtaShape, rank_table: np.ndarray, pairs: PairsShape) -> str:
    """The k-WTA unit with its packer as module ``name`` (submodules ``<name>_values``, ``<name>_pack``)."""
    pairs.check()
    if (pairs.channels, pairs.pe, pairs.k, pairs.bits) != (shape.channels, shape.simd, shape.k, shape.bits):
        raise ValueError(f"k-WTA pairs: packer {pairs} does not match the k-WTA unit {shape}")
    values = ranked_kwta(f"{name}_values", shape, rank_table)
    packer = pairs_packer(f"{name}_pack", pairs, shape.ram_style)
    t = Text()
    t.header(name, f"ranked k-WTA with a pairs output: {pairs.simd} (y, x, c, value) pairs per beat, "
             f"{pairs.out_beats} beats per frame", shape.simd * shape.bits, pairs.simd * pairs.pair_bits,
             out_reg=False)
    t.add(f"  wire [{shape.simd * shape.bits - 1}:0] v_data;", "  wire v_valid, v_ready;",
          f"  {name}_values u_values (.clk(clk), .rst_n(rst_n), .in_data(in_data), .in_valid(in_valid),"
          " .in_ready(in_ready), .out_data(v_data), .out_valid(v_valid), .out_ready(v_ready));",
          f"  {name}_pack u_pack (.clk(clk), .rst_n(rst_n), .in_data(v_data), .in_valid(v_valid),"
          " .in_ready(v_ready), .out_data(out_data), .out_valid(out_valid), .out_ready(out_ready));")
    t.footer()
    return values + packer + t.text()


def pairs_packer(name: str, p: PairsShape, ram_style: str = "block") -> str:
    """The packer alone: values in (``PE`` per beat, losers zero), pairs out (see the module docstring);
    the ring declared where ``units.kwta.placement`` puts it under ``ram_style``."""
    p.check()
    t = Text()
    ring_style = RAM_STYLE_ATTRIBUTE[placement(p.memories()[0], ram_style)]
    b, pe, nb, simd, pw = p.bits, p.pe, p.banks, p.simd, p.pair_bits
    cbeats = p.channels // pe
    layout = [name for name, _, _ in pair_layout(p.height, p.width, p.channels, p.bits)]
    cb_b, xb, yb, cw = clog2(cbeats), clog2(p.width), clog2(p.height), clog2(p.channels)
    rb, bb, tb = clog2(p.depth), clog2(nb), clog2(2 * nb)
    per_frame = p.out_beats * simd  # pairs out per frame (k, padded to whole beats)
    kb, cntb, lb, sb = clog2(per_frame + 1), clog2(p.positions + 1), clog2(pe + 1), clog2(simd + 1)
    fb, nfb = clog2(FRAME_COUNTS), clog2(FRAME_COUNTS + 1)
    t.header(name, f"pairs packer {p.height}x{p.width}x{p.channels} PE={pe} -> {simd} pairs/beat, k={p.k}, "
             f"ring {nb} banks x {p.depth}", pe * b, simd * pw, out_reg=False)

    def wrap(sig: str, width: int, top: int) -> str:
        return f"(({sig} == {const(width, top - 1)}) ? {const(width, 0)} : {sig} + 1'b1)"

    t.add("  // write side: stream position (channel beat, column, row), ring pointer, counts",
          f"  reg [{cb_b - 1}:0] wcb;", f"  reg [{cw - 1}:0] wc0;", f"  reg [{xb - 1}:0] wx;", f"  reg [{yb - 1}:0] wy;",
          f"  reg [{rb - 1}:0] wrow, rrow;", f"  reg [{bb - 1}:0] wbank, rbank;", f"  reg [{cntb - 1}:0] count;",
          f"  reg [{kb - 1}:0] fcnt;", f"  reg [{kb - 1}:0] cf [0:{FRAME_COUNTS - 1}];",
          f"  reg [{fb - 1}:0] cf_w, cf_r;", f"  reg [{nfb - 1}:0] cf_n;",
          f"  wire last_beat = (wcb == {const(cb_b, cbeats - 1)}) && (wx == {const(xb, p.width - 1)})"
          f" && (wy == {const(yb, p.height - 1)});",
          f"  wire cf_full = (cf_n == {const(nfb, FRAME_COUNTS)});",
          f"  assign in_ready = (count <= {const(cntb, p.positions - pe)}) && !(last_beat && cf_full);",
          "  wire load = in_valid && in_ready;",
          f"  wire [{lb - 1}:0] pre0 = {const(lb, 0)};",
          f"  wire [{rb - 1}:0] wrow_n = {wrap('wrow', rb, p.depth)};",
          f"  wire [{rb - 1}:0] rrow_n = {wrap('rrow', rb, p.depth)};")
    for s in range(pe):
        value = f"in_data[{s * b} +: {b}]"
        fields = {"v": value, "c": f"wc{s}_", "x": "wx", "y": "wy"}
        t.add(f"  wire nz{s} = |{value};", f"  wire [{lb - 1}:0] pre{s + 1} = pre{s} + {{{const(lb - 1, 0)}, nz{s}}};"
              if lb > 1 else f"  wire [0:0] pre{s + 1} = pre{s} + nz{s};",
              f"  wire [{cw - 1}:0] wc{s}_ = wc0 + {const(cw, s)};",
              f"  wire [{pw - 1}:0] pr{s} = {{{', '.join(fields[name] for name in reversed(layout))}}};",
              f"  wire [{tb - 1}:0] ts{s} = {zext('wbank', bb, tb)} + {zext(f'pre{s}', lb, tb)};",
              f"  wire [{tb - 1}:0] tg{s} = (ts{s} >= {const(tb, nb)}) ? ts{s} - {const(tb, nb)} : ts{s};")
    t.add(f"  wire [{lb - 1}:0] wn = pre{pe};")
    t.add("  // read side: SIMD pairs per beat; the frame's non-zeros, then zero pairs to the beat's end",
          f"  reg [{kb - 1}:0] outc;", "  reg ev;", f"  reg [{bb - 1}:0] rbank_q;", f"  reg [{sb - 1}:0] take_q;",
          "  wire known = (cf_n != 0);", f"  wire [{kb - 1}:0] nnz = cf[cf_r];",
          f"  wire [{kb - 1}:0] rem = (nnz > outc) ? nnz - outc : {const(kb, 0)};",
          f"  wire [{sb - 1}:0] take = !known ? {const(sb, simd)} : ((rem < {const(kb, simd)}) ?"
          f" rem[{sb - 1}:0] : {const(sb, simd)});",
          f"  wire frame_end = (outc == {const(kb, per_frame - simd)});",
          f"  wire can = known || (!frame_end && count >= {const(cntb, simd)});",
          "  wire adv = !ev || out_ready;", "  wire issue = adv && can;",
          f"  wire [{tb - 1}:0] wnext = {zext('wbank', bb, tb)} + {zext('wn', lb, tb)};",
          f"  wire [{tb - 1}:0] rnext = {zext('rbank', bb, tb)} + {zext('take', sb, tb)};",
          f"  wire wcarry = (wnext >= {const(tb, nb)}), rcarry = (rnext >= {const(tb, nb)});",
          "  /* verilator lint_off UNUSEDSIGNAL */  // the top bit of a wrapped position is 0",
          f"  wire [{tb - 1}:0] wwrap = wcarry ? wnext - {const(tb, nb)} : wnext;",
          f"  wire [{tb - 1}:0] rwrap = rcarry ? rnext - {const(tb, nb)} : rnext;",
          "  /* verilator lint_on UNUSEDSIGNAL */",
          f"  wire [{cntb - 1}:0] added = load ? {zext('wn', lb, cntb)} : {const(cntb, 0)};",
          f"  wire [{cntb - 1}:0] taken = issue ? {zext('take', sb, cntb)} : {const(cntb, 0)};",
          "  wire push = load && last_beat;", "  wire pop = issue && frame_end;")
    if kb > sb:
        t.add("  /* verilator lint_off UNUSEDSIGNAL */", f"  wire unused_rem = |rem[{kb - 1}:{sb}];",
              "  /* verilator lint_on UNUSEDSIGNAL */")
    for k in range(nb):
        hits = [f"(nz{s} && tg{s} == {const(tb, k)})" for s in range(pe)]
        t.add(f'  (* ram_style = "{ring_style}" *) reg [{pw - 1}:0] ring{k} [0:{p.depth - 1}];', f"  reg [{pw - 1}:0] rq{k};",
              f"  wire we{k} = load && ({' || '.join(hits)});",
              f"  wire [{pw - 1}:0] wd{k} = " + " | ".join(f"({{{pw}{{{h}}}}} & pr{s})" for s, h in enumerate(hits)) + ";",
              f"  wire [{rb - 1}:0] wa{k} = " + (f"(wbank <= {const(bb, k)}) ? wrow : wrow_n;" if k < nb - 1 else "wrow;"),
              f"  wire [{rb - 1}:0] ra{k} = " + (f"(rbank <= {const(bb, k)}) ? rrow : rrow_n;" if k < nb - 1 else "rrow;"),
              f"  always @(posedge clk) if (we{k}) ring{k}[wa{k}] <= wd{k};",
              f"  always @(posedge clk) if (issue) rq{k} <= ring{k}[ra{k}];")
    t.add("  always @(posedge clk) begin",
          "    if (push) cf[cf_w] <= fcnt + " + zext("wn", lb, kb) + ";",
          "    if (issue) begin rbank_q <= rbank; take_q <= take; end",
          "    if (!rst_n) begin",
          f"      wcb <= {const(cb_b, 0)}; wc0 <= {const(cw, 0)}; wx <= {const(xb, 0)}; wy <= {const(yb, 0)};",
          f"      wrow <= {const(rb, 0)}; rrow <= {const(rb, 0)}; wbank <= {const(bb, 0)}; rbank <= {const(bb, 0)};",
          f"      count <= {const(cntb, 0)}; fcnt <= {const(kb, 0)}; cf_w <= {const(fb, 0)}; cf_r <= {const(fb, 0)};",
          f"      cf_n <= {const(nfb, 0)}; outc <= {const(kb, 0)}; ev <= 1'b0;",
          "    end else begin",
          "      count <= count + added - taken;",
          f"      cf_n <= cf_n + {zext('push', 1, nfb)} - {zext('pop', 1, nfb)};",
          "      if (push) cf_w <= cf_w + 1'b1;",
          "      if (pop) cf_r <= cf_r + 1'b1;",
          "      if (load) begin",
          f"        fcnt <= last_beat ? {const(kb, 0)} : fcnt + {zext('wn', lb, kb)};",
          f"        wbank <= wwrap[{bb - 1}:0]; if (wcarry) wrow <= wrow_n;",
          f"        if (wcb == {const(cb_b, cbeats - 1)}) begin",
          f"          wcb <= {const(cb_b, 0)}; wc0 <= {const(cw, 0)};",
          f"          if (wx == {const(xb, p.width - 1)}) begin wx <= {const(xb, 0)};"
          f" wy <= (wy == {const(yb, p.height - 1)}) ? {const(yb, 0)} : wy + 1'b1; end",
          "          else wx <= wx + 1'b1;",
          f"        end else begin wcb <= wcb + 1'b1; wc0 <= wc0 + {const(cw, pe)}; end",
          "      end",
          "      if (adv) ev <= issue;",
          "      if (issue) begin",
          f"        outc <= frame_end ? {const(kb, 0)} : outc + {const(kb, simd)};",
          f"        rbank <= rwrap[{bb - 1}:0]; if (rcarry) rrow <= rrow_n;",
          "      end",
          "    end",
          "  end")
    t.add(f"  wire [{pw - 1}:0] rqa [0:{nb - 1}];", *(f"  assign rqa[{k}] = rq{k};" for k in range(nb)))
    lanes = []
    t.add("  /* verilator lint_off UNUSEDSIGNAL */")
    for j in range(simd):
        t.add(f"  wire [{tb - 1}:0] os{j} = {zext('rbank_q', bb, tb)} + {const(tb, j)};",
              f"  wire [{tb - 1}:0] og{j} = (os{j} >= {const(tb, nb)}) ? os{j} - {const(tb, nb)} : os{j};",
              f"  wire [{pw - 1}:0] ol{j} = (take_q > {const(sb, j)}) ? rqa[og{j}[{bb - 1}:0]] : {const(pw, 0)};")
        lanes.append(f"ol{j}")
    t.add("  /* verilator lint_on UNUSEDSIGNAL */")
    t.add(f"  assign out_data = {{{', '.join(reversed(lanes))}}};", "  assign out_valid = ev;")
    t.footer()
    return t.text()

