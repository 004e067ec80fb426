"""Verilog-2005 k-WTA unit that decides on ranks from a ROM (boost, per-channel scale), 1-D or 2-D global.

The hardware of the FINN op ``KWinnersHW`` (``finn/ops/kwinners_hw.py``): a frame of
``L = P*C`` values streams in channels-last, ``PE`` per beat (beat ``j`` lane ``s`` holds stream
index ``j*PE+s``, channel ``(j*PE+s) mod C``, so lane ``s`` only sees channels ``= s mod PE``).
Same ports as ``rtl.verilog`` (clk, rst_n synchronous active low, AXI-Stream in/out).

Pipeline (three units, each working on its own frame):

- load: per lane, ROM ``rom<s>[cb][level]`` gives the value's rank code; value and rank code go
  to the frame buffer (``fbuf``, 3 frames); the rank histogram (one per lane, ``S = ceil(bins/PE)``
  words of ``PE`` counters, read-modify-write with one cycle of forwarding) counts the ranks;
  2-D also counts per (channel, level) (``lcnt``, per lane ``C/PE`` words of ``2^bits``
  counters). Two histogram sets: the next frame loads while this one is decided.
- decide (``S + T + 1`` cycles, ``T = C/PE`` for 2-D, 0 for 1-D): the scan reads one word per
  lane per cycle from the top rank down, sums the lanes, finds the threshold rank ``t`` (largest
  with ``count(rank >= t) >= k``) and ``gt = count(rank > t)``, and clears each word it read.
  2-D: the tie pass reads ``PE`` channels per cycle (their level counts and their row of the rank
  ROM, ``row<s>``), tie count per channel = count of its levels whose rank is ``t``, and with a
  running sum in channel order the channel's quota ``allowed[c] = clamp(k - gt - ties of lower
  channels, 0, ties_c)``; it clears the level counts.
- emit: winners are ``rank > t`` and the admitted ties: 1-D in stream order (``taken`` count),
  2-D in channel-major order (per-channel ``seen`` counter below ``allowed[c]``); losers are 0.

After reset the histograms are swept to zero (``max(S, C/PE)`` cycles, input not ready); from then
on the scan and the tie pass leave every word they read at zero. Rank codes are
``(rank // PE) << clog2(PE) | rank % PE`` (histogram word and counter), ordered like the ranks.
Steady-state cycles per frame (input always valid, output always ready):
``max(N, D, (N + D + 2) / 2)`` with ``N = L/PE`` and ``D = S + T + 1`` (``cycles.ranked_kwta``):
the ``2`` is the load pipeline (ROM, histogram read) before a loaded frame can be scanned.
"""

from __future__ import annotations

import numpy as np

from sparsekws.rtl.text import Text, const, with_memory_attribute, zext
from sparsekws.units.bits import clog2
from sparsekws.units.kwta import (HISTOGRAM_SETS, RankedKwtaShape, check_rank_table, memories, placement, rank_codes,
                                  slot_bits)

#: Synthesis attribute value (Vivado and Yosys ``ram_style``) of each ``units.kwta.placement``.
RAM_STYLE_ATTRIBUTE = {"lutram": "distributed", "bram": "block", "uram": "ultra"}


class _Unit:
    """Widths and text pieces of one generated unit."""

    def __init__(self, shape: RankedKwtaShape, table: np.ndarray):
        self.shape, self.table, self.t = shape, table, Text()
        self.pe, self.b, self.lv = shape.simd, shape.bits, shape.levels
        self.cb, self.n, self.s = shape.channel_beats, shape.beats, shape.scan_words
        self.two_d = shape.positions > 1
        self.depth = shape.frame_depth
        self.cbb, self.nb, self.ab = clog2(self.cb), clog2(self.n), clog2(self.depth)
        self.wb, self.sb = clog2(self.s), slot_bits(self.pe)
        self.rb = shape.rank_code_bits
        self.hw = shape.rank_count_bits      # one lane's count of one rank
        self.cw = shape.level_count_bits     # one channel's count of one level
        self.kw = shape.frame_count_bits     # counts over the frame
        self.last = self.s + shape.tie_words  # decide counter at the last cycle
        self.dcb = clog2(self.last + 1)
        self.clear_words = max(self.s, self.cb if self.two_d else 1)
        self.clb = clog2(self.clear_words)
        self.lane = self.rb + self.b         # frame buffer bits per lane: rank code above value

    def add(self, *lines: str) -> None:
        self.t.add(*lines)

    def cbi(self, sig: str) -> str:
        """``[sig]`` index into a per-channel-beat array, empty when there is one channel beat."""
        return f"[{sig}]" if self.cb > 1 else ""

    def next3(self, sig: str) -> str:
        return f"{sig} <= ({sig} == 2'd2) ? 2'd0 : {sig} + 2'd1;"

    def level(self, expr: str) -> str:
        """Level index (level - min level) of a ``bits``-wide value."""
        return f"({expr} ^ {const(self.b, 1 << (self.b - 1))})" if self.shape.signed else expr


def ranked_kwta(name: str, shape: RankedKwtaShape, rank_table) -> str:
    """The unit's Verilog; ``rank_table[c, level - min]`` = rank (``KWinnersHW.rank_table()``)."""
    shape.check()
    u = _Unit(shape, check_rank_table(shape, rank_table))
    kind = f"2-D {shape.positions}x{shape.channels}" if u.two_d else f"1-D {shape.channels}"
    u.t.header(name, f"ranked k-WTA {kind} k={shape.k} SIMD={u.pe} {u.b}-bit "
               f"{'signed' if shape.signed else 'unsigned'}, {shape.rank_bins} rank bins",
               u.pe * u.b, u.pe * u.b, out_reg=False)
    _declarations(u)
    _load(u)
    _histograms(u)
    _scan(u)
    if u.two_d:
        _tie_pass(u)
    _emit(u)
    _control(u)
    u.t.footer()
    return ram_style_attributes(u.t.text(), shape)


def ram_style_attributes(verilog: str, shape: RankedKwtaShape) -> str:
    """``verilog`` with each memory of ``units.kwta.memories`` declared where ``placement`` puts it
    (``(* ram_style = ... *)``; a ROM only when it goes to BRAM, ``(* rom_style = "block" *)``: in
    LUTs a ROM is logic, which synthesis chooses by itself), so that synthesis maps it where the
    cost model counts it."""
    for memory in memories(shape):
        kind = placement(memory, shape.ram_style)
        if memory.rom and kind == "lutram":
            continue
        attribute = '(* rom_style = "block" *)' if memory.rom else f'(* ram_style = "{RAM_STYLE_ATTRIBUTE[kind]}" *)'
        verilog = with_memory_attribute(verilog, memory.name.replace("<s>", r"\d+").replace("<h>", r"\d+"), attribute)
    return verilog


def _declarations(u: _Unit) -> None:
    """Control state shared by the units (declared first: Verilog-2005 needs names before use)."""
    u.add("  // control: frame buffers (3) and histogram sets (2), each unit walks them in order",
          "  reg clearing;", f"  reg [{u.clb - 1}:0] clr_a;",
          "  reg [1:0] lb, db, eb;", "  reg [2:0] held, loaded, ready;", "  reg [1:0] hbusy;", "  reg hl, hd;",
          f"  reg [{u.nb - 1}:0] lc, ec;", f"  reg [{u.cbb - 1}:0] lcb, ecb;", f"  reg [{u.ab - 1}:0] la, ea;",
          "  reg ev;", "  wire adv = !ev || out_ready;", "  wire issue = adv && ready[eb];",
          f"  wire ec_last = (ec == {const(u.nb, u.n - 1)});",
          f"  wire lc_first = (lc == {const(u.nb, 0)});", f"  wire lc_last = (lc == {const(u.nb, u.n - 1)});",
          "  assign in_ready = !clearing && (!lc_first || (!held[lb] && !hbusy[hl]));",
          "  wire load = in_valid && in_ready;",
          "  reg dec;", f"  reg [{u.dcb - 1}:0] dc;", "  wire go = !dec && !clearing && loaded[db];",
          f"  wire fin = dec && (dc == {const(u.dcb, u.last)});",
          (f"  wire sdv = dec && (dc <= {const(u.dcb, u.s)});  // scan data (dc >= 1 while dec)" if u.two_d
           else "  wire sdv = dec;  // scan data (dc >= 1 while dec)"),
          f"  reg [{u.wb - 1}:0] sr, sa_q;  // scan word read now, read last cycle")
    if u.two_d:
        u.add(f"  wire tdv = dec && (dc > {const(u.dcb, u.s)});  // tie-pass data",
              f"  reg [{u.cbb - 1}:0] tr, ta_q;  // tie-pass word read now, read last cycle")


def _load(u: _Unit) -> None:
    """Stage 0: ROM read; stage 1: frame buffer write, histogram read; stage 2: histogram write."""
    pe, b, cb = u.pe, u.b, u.cb
    u.add("  // load stage 0 -> 1: rank codes from the ROM (lane s holds channels cb*PE + s)")
    for s in range(pe):
        addr = f"{{lcb, lx{s}}}" if cb > 1 else f"lx{s}"
        u.add(f"  wire [{b - 1}:0] lx{s} = {u.level(f'in_data[{s * b} +: {b}]')};")
        words = [int(code) for c in range(s, u.shape.channels, pe) for code in rank_codes(u.table[c], pe)]
        u.t.rom(f"rom{s}", u.rb, words, addr, "1'b1")
    u.add("  reg v1, hl1, last1;", "  reg [1:0] buf1;", f"  reg [{u.ab - 1}:0] la1;",
          f"  reg [{pe * b - 1}:0] x1;",
          "  always @(posedge clk) begin if (!rst_n) v1 <= 1'b0; else v1 <= load; end",
          "  always @(posedge clk) if (load) begin hl1 <= hl; last1 <= lc_last; buf1 <= lb; la1 <= la;"
          " x1 <= in_data; end")
    if u.two_d and cb > 1:
        u.add(f"  reg [{u.cbb - 1}:0] cb1, cb2;", "  always @(posedge clk) if (load) cb1 <= lcb;",
              "  always @(posedge clk) cb2 <= cb1;")
    fields = ", ".join(f"rom{s}_q, x1[{s * b} +: {b}]" for s in reversed(range(pe)))
    u.add(f"  reg [{pe * u.lane - 1}:0] fbuf [0:{u.depth - 1}];", f"  reg [{pe * u.lane - 1}:0] bq;",
          f"  always @(posedge clk) if (v1) fbuf[la1] <= {{{fields}}};",
          "  always @(posedge clk) if (issue) bq <= fbuf[ea];",
          "  // stage 2: read-modify-write of the histograms",
          "  reg v2, hl2, last2;", "  reg [1:0] buf2;",
          "  always @(posedge clk) begin if (!rst_n) v2 <= 1'b0; else v2 <= v1; end",
          "  always @(posedge clk) begin hl2 <= hl1; last2 <= last1; buf2 <= buf1; end")
    for s in range(pe):
        word = [f"  reg [{u.wb - 1}:0] w2_{s};", f"  always @(posedge clk) w2_{s} <= rom{s}_q[{u.rb - 1}:{u.sb}];"]
        if u.s == 1:  # one histogram word: the word address is always 0
            word = ["  /* verilator lint_off UNUSEDSIGNAL */", *word, "  /* verilator lint_on UNUSEDSIGNAL */"]
        u.add(*word)
        if u.sb:
            u.add(f"  reg [{u.sb - 1}:0] sl2_{s};", f"  always @(posedge clk) sl2_{s} <= rom{s}_q[{u.sb - 1}:0];")
        if u.two_d:
            u.add(f"  reg [{b - 1}:0] lv2_{s};",
                  f"  always @(posedge clk) lv2_{s} <= {u.level(f'x1[{s * b} +: {b}]')};")


def _counter_memory(u: _Unit, m: str, h: int, s: int, depth: int, width: int, read: tuple[str, str, str],
                    write: tuple[str, str, str, str]) -> None:
    """One histogram memory ``m<h>_<s>`` of ``depth`` words, registered read ``m<h>q_<s>``, one write
    port shared by the load increment, the decide clear and the sweep after reset.

    ``read`` = (decide uses this set, decide address, load address); ``write`` = (load address,
    decide clear enable, decide clear address, sweep enable).
    """
    mem, q, aw = f"{m}{h}_{s}", f"{m}{h}q_{s}", clog2(depth)
    dec_on, dec_addr, load_addr = read
    waddr, clear_on, clear_addr, sweep = write
    at = (lambda a: f"[{a}]") if depth > 1 else (lambda a: "[0]")
    lw = f"(v2 && hl2 == 1'b{h})"
    u.add(f"  reg [{width - 1}:0] {mem} [0:{depth - 1}];", f"  reg [{width - 1}:0] {q};",
          f"  wire {mem}_we = {lw} || ({clear_on}) || ({sweep});",
          f"  wire [{width - 1}:0] {mem}_wd = {lw} ? {m}_new{s} : {const(width, 0)};")
    if depth > 1:
        sweep_addr = f"clr_a[{aw - 1}:0]" if u.clb > aw else "clr_a"
        u.add(f"  wire [{aw - 1}:0] {mem}_ra = ({dec_on}) ? {dec_addr} : {load_addr};",
              f"  wire [{aw - 1}:0] {mem}_wa = {lw} ? {waddr} : (({clear_on}) ? {clear_addr} : {sweep_addr});")
    u.add(f"  always @(posedge clk) {q} <= {mem}{at(mem + '_ra')};",
          f"  always @(posedge clk) if ({mem}_we) {mem}{at(mem + '_wa')} <= {mem}_wd;")


def _increment(fields: int, width: int, word: str, slot: str) -> str:
    """``word`` (``fields`` counters of ``width`` bits) with counter ``slot`` incremented."""
    parts = []
    for g in reversed(range(fields)):
        hit = f"({slot} == {const(clog2(fields), g)})" if fields > 1 else "1'b1"
        one = f"{{{const(width - 1, 0)}, {hit}}}" if width > 1 else hit
        parts.append(f"{word}[{g * width} +: {width}] + {one}")
    return f"{{{', '.join(parts)}}}"


def _histograms(u: _Unit) -> None:
    """Rank histograms (per set and lane) and, for 2-D, the (channel, level) counts.

    The load reads a word in stage 1 and writes it back incremented in stage 2; a read in the
    cycle of a write to the same word returns the old word, so stage 2 takes the word written in
    the previous cycle instead (``_fd``) when the addresses match.
    """
    kinds = [("hist", u.s, u.pe, u.hw, "w2_{s}", "sl2_{s}" if u.sb else "", "sr",
              f"rom{{s}}_q[{u.rb - 1}:{u.sb}]", "sdv", "sa_q")]
    if u.two_d:
        kinds.append(("lcnt", u.cb, u.lv, u.cw, "cb2", "lv2_{s}", "tr", "cb1", "tdv", "ta_q"))
    for m, depth, fields, width, waddr, slot, dec_addr, load_addr, clear_on, clear_addr in kinds:
        aw, ww = clog2(depth), fields * width
        sweep = f"clearing && clr_a < {const(u.clb, depth)}" if depth < (1 << u.clb) else "clearing"
        u.add(f"  // {m}: {HISTOGRAM_SETS} sets x {u.pe} lanes x {depth} words of {fields} x {width}-bit counters",
              f"  reg {m}_fv, {m}_fs;",
              f"  always @(posedge clk) begin if (!rst_n) {m}_fv <= 1'b0; else {m}_fv <= v2; {m}_fs <= hl2; end")
        for s in range(u.pe):
            wa = waddr.format(s=s)
            hit = f"{m}_fv && {m}_fs == hl2"
            if depth > 1:
                u.add(f"  reg [{aw - 1}:0] {m}_fa{s};", f"  always @(posedge clk) {m}_fa{s} <= {wa};")
                hit += f" && {m}_fa{s} == {wa}"
            u.add(f"  reg [{ww - 1}:0] {m}_fd{s};",
                  f"  wire [{ww - 1}:0] {m}_cur{s} = ({hit}) ? {m}_fd{s} : (hl2 ? {m}1q_{s} : {m}0q_{s});",
                  f"  wire [{ww - 1}:0] {m}_new{s} = {_increment(fields, width, f'{m}_cur{s}', slot.format(s=s))};",
                  f"  always @(posedge clk) {m}_fd{s} <= {m}_new{s};")
            for h in range(HISTOGRAM_SETS):
                _counter_memory(u, m, h, s, depth, ww,
                                (f"(dec || go) && hd == 1'b{h}", dec_addr, load_addr.format(s=s)),
                                (wa, f"{clear_on} && hd == 1'b{h}", clear_addr, sweep))


def _scan(u: _Unit) -> None:
    """Scan data: the lanes' counters of one word summed per rank, suffix sums from the top rank down."""
    pe, kw, k = u.pe, u.kw, u.shape.k
    u.add("  // scan: threshold rank t = largest with count(rank >= t) >= k; gt = count(rank > t)",
          f"  reg [{kw - 1}:0] acc, gt_c;", "  reg found;", f"  reg [{u.rb - 1}:0] thr_c;")
    for s in range(pe):
        u.add(f"  wire [{pe * u.hw - 1}:0] sq{s} = hd ? hist1q_{s} : hist0q_{s};")
    u.add(f"  wire [{kw - 1}:0] ge{pe} = acc;")
    for g in reversed(range(pe)):
        terms = " + ".join(zext(f"sq{s}[{g * u.hw} +: {u.hw}]", u.hw, kw) for s in range(pe))
        u.add(f"  wire [{kw - 1}:0] ge{g} = ge{g + 1} + {terms};")
    u.add(f"  reg [{max(u.sb, 1) - 1}:0] t_slot;", f"  reg [{kw - 1}:0] t_gt;", "  always @* begin",
          f"    t_slot = {const(max(u.sb, 1), 0)}; t_gt = ge1;")
    u.add(*(f"    if (ge{g} >= {const(kw, k)}) begin t_slot = {const(max(u.sb, 1), g)}; t_gt = ge{g + 1}; end"
            for g in range(1, pe)))
    u.add("  end")
    code = f"{{sa_q, t_slot}}" if u.sb else "sa_q"
    if not u.sb:
        u.add("  /* verilator lint_off UNUSEDSIGNAL */", "  wire unused_slot = t_slot[0];",
              "  /* verilator lint_on UNUSEDSIGNAL */")
    u.add(f"  wire scan_hit = sdv && !found && (ge0 >= {const(kw, k)});",
          f"  wire [{u.rb - 1}:0] t_now = scan_hit ? {code} : thr_c;",
          f"  wire [{kw - 1}:0] gt_now = scan_hit ? t_gt : gt_c;",
          "  always @(posedge clk) begin",
          f"    if (go) begin acc <= {const(kw, 0)}; found <= 1'b0; end",
          "    else if (sdv) begin",
          "      acc <= ge0;",
          "      if (scan_hit) begin found <= 1'b1; thr_c <= t_now; gt_c <= gt_now; end",
          "    end",
          "  end")


def _tie_pass(u: _Unit) -> None:
    """2-D: per channel (PE per cycle) its ties at t and its quota, in channel order."""
    pe, kw, cw, rb, lv = u.pe, u.kw, u.cw, u.rb, u.lv
    u.add("  // tie pass: allowed[c] = clamp(k - gt - ties of lower channels, 0, ties of c)",
          f"  wire [{kw - 1}:0] take_c = {const(kw, u.shape.k)} - gt_c;", f"  reg [{kw - 1}:0] run;",
          f"  wire [{kw - 1}:0] before0 = run;")
    for s in range(pe):
        rows = [rank_codes(u.table[c], pe) for c in range(s, u.shape.channels, pe)]
        words = [sum(int(code) << (rb * lvl) for lvl, code in enumerate(row)) for row in rows]
        row = u.t.rom(f"row{s}", lv * rb, words, "tr", "1'b1")
        u.add(f"  wire [{lv * cw - 1}:0] cq{s} = hd ? lcnt1q_{s} : lcnt0q_{s};")
        terms = " + ".join(f"(({row}[{lvl * rb} +: {rb}] == thr_c) ? cq{s}[{lvl * cw} +: {cw}] : {const(cw, 0)})"
                           for lvl in range(lv))
        u.add(f"  wire [{cw - 1}:0] tie{s} = {terms};",
              f"  wire [{kw - 1}:0] before{s + 1} = before{s} + {zext(f'tie{s}', cw, kw)};",
              f"  wire [{kw - 1}:0] rem{s} = take_c - before{s};",
              f"  wire [{cw - 1}:0] allowed{s} = (before{s} >= take_c) ? {const(cw, 0)} :"
              f" ((rem{s} < {zext(f'tie{s}', cw, kw)}) ? rem{s}[{cw - 1}:0] : tie{s});")
        if kw > cw:
            u.add("  /* verilator lint_off UNUSEDSIGNAL */", f"  wire unused_rem{s} = |rem{s}[{kw - 1}:{cw}];",
                  "  /* verilator lint_on UNUSEDSIGNAL */")
        u.add(f"  reg [{cw - 1}:0] allow{s} [0:{(3 << u.cbb) - 1}];",
              f"  always @(posedge clk) if (tdv) allow{s}[{{db, ta_q}}] <= allowed{s};")
    u.add("  always @(posedge clk) begin",
          f"    if (go) run <= {const(kw, 0)};", f"    else if (tdv) run <= before{pe};", "  end")


def _emit(u: _Unit) -> None:
    """Emission: one beat per cycle from the frame buffer, losers zeroed."""
    pe, b, rb, kw, cw = u.pe, u.b, u.rb, u.kw, u.cw
    u.add("  // emit: win = rank > t, or rank == t and admitted",
          f"  reg [{rb - 1}:0] thr [0:2];", f"  reg [{rb - 1}:0] thr_e;",
          "  always @(posedge clk) if (fin) thr[db] <= t_now;",
          "  always @(posedge clk) if (issue) thr_e <= thr[eb];")
    for s in range(pe):
        u.add(f"  wire [{rb - 1}:0] rk{s} = bq[{s * u.lane + b} +: {rb}];",
              f"  wire [{b - 1}:0] vl{s} = bq[{s * u.lane} +: {b}];",
              f"  wire tie_e{s} = (rk{s} == thr_e);")
    if u.two_d:
        u.add("  reg first_e;", "  always @(posedge clk) if (issue) first_e <= (ec < "
              f"{const(u.nb, u.cb)});")
        if u.cb > 1:
            u.add(f"  reg [{u.cbb - 1}:0] ecb_e;", "  always @(posedge clk) if (issue) ecb_e <= ecb;")
        for s in range(pe):
            depth = f" [0:{u.cb - 1}]" if u.cb > 1 else ""
            at = u.cbi("ecb_e")
            u.add(f"  reg [{cw - 1}:0] al{s};", f"  always @(posedge clk) if (issue) al{s} <= allow{s}[{{eb, ecb}}];",
                  f"  reg [{cw - 1}:0] seen{s}{depth};",
                  f"  wire [{cw - 1}:0] sn{s} = first_e ? {const(cw, 0)} : seen{s}{at};",
                  f"  wire win{s} = (rk{s} > thr_e) || (tie_e{s} && (sn{s} < al{s}));",
                  f"  always @(posedge clk) if (ev && out_ready) seen{s}{at} <= sn{s} + "
                  f"{zext(f'tie_e{s}', 1, cw)};")
    else:
        u.add(f"  reg [{kw - 1}:0] take [0:2];", f"  reg [{kw - 1}:0] take_e, taken;", "  reg last_e;",
              f"  always @(posedge clk) if (fin) take[db] <= {const(kw, u.shape.k)} - gt_now;",
              "  always @(posedge clk) if (issue) begin take_e <= take[eb]; last_e <= ec_last; end")
        ties = []
        for s in range(pe):
            before = " + ".join(["taken"] + ties)
            u.add(f"  wire [{kw - 1}:0] tb{s} = {before};",
                  f"  wire win{s} = (rk{s} > thr_e) || (tie_e{s} && (tb{s} < take_e));")
            ties.append(zext(f"tie_e{s}", 1, kw))
        u.add("  always @(posedge clk) begin",
              f"    if (!rst_n) taken <= {const(kw, 0)};",
              f"    else if (ev && out_ready) taken <= last_e ? {const(kw, 0)} : {' + '.join(['taken'] + ties)};",
              "  end")
    lanes = ", ".join(f"(win{s} ? vl{s} : {const(b, 0)})" for s in reversed(range(pe)))
    u.add(f"  assign out_data = {{{lanes}}};", "  assign out_valid = ev;")


def _control(u: _Unit) -> None:
    """Counters, pointers and the per-frame flags of the three units; the histogram sweep after reset."""
    n, cb = u.n, u.cb
    u.add("  integer f;",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) begin clearing <= 1'b1; clr_a <= {const(u.clb, 0)}; held <= 3'd0; loaded <= 3'd0;"
          " ready <= 3'd0; hbusy <= 2'd0;",
          f"      lb <= 2'd0; db <= 2'd0; eb <= 2'd0; hl <= 1'b0; hd <= 1'b0; lc <= {const(u.nb, 0)};"
          f" ec <= {const(u.nb, 0)}; lcb <= {const(u.cbb, 0)}; ecb <= {const(u.cbb, 0)};"
          f" la <= {const(u.ab, 0)}; ea <= {const(u.ab, 0)}; ev <= 1'b0;",
          f"      dec <= 1'b0; dc <= {const(u.dcb, 0)}; sr <= {const(u.wb, u.s - 1)};"
          + (f" tr <= {const(u.cbb, 0)};" if u.two_d else "") + " end",
          "    else begin",
          "      if (clearing) begin",
          f"        clr_a <= clr_a + 1'b1; if (clr_a == {const(u.clb, u.clear_words - 1)}) clearing <= 1'b0;",
          "      end",
          "      for (f = 0; f < 3; f = f + 1) begin",
          "        held[f] <= (held[f] && !(issue && ec_last && eb == f[1:0])) || (load && lc_first && lb == f[1:0]);",
          "        loaded[f] <= (loaded[f] && !(go && db == f[1:0])) || (v2 && last2 && buf2 == f[1:0]);",
          "        ready[f] <= (ready[f] && !(issue && ec_last && eb == f[1:0])) || (fin && db == f[1:0]);",
          "      end",
          "      hbusy[0] <= (hbusy[0] && !(fin && !hd)) || (load && lc_first && !hl);",
          "      hbusy[1] <= (hbusy[1] && !(fin && hd)) || (load && lc_first && hl);",
          "      if (load) begin",
          f"        lc <= lc_last ? {const(u.nb, 0)} : lc + 1'b1;",
          f"        lcb <= (lcb == {const(u.cbb, cb - 1)}) ? {const(u.cbb, 0)} : lcb + 1'b1;",
          f"        la <= (la == {const(u.ab, u.depth - 1)}) ? {const(u.ab, 0)} : la + 1'b1;",
          f"        if (lc_last) begin {u.next3('lb')} hl <= !hl; end",
          "      end",
          "      if (go) begin dec <= 1'b1; dc <= " + const(u.dcb, 1) + ";"
          + (f" if (sr != {const(u.wb, 0)}) sr <= sr - 1'b1;" if u.s > 1 else "") + " end",
          "      else if (fin) begin dec <= 1'b0; dc <= " + const(u.dcb, 0) + f"; sr <= {const(u.wb, u.s - 1)};"
          + (f" tr <= {const(u.cbb, 0)};" if u.two_d else "") + f" {u.next3('db')} hd <= !hd; end",
          "      else if (dec) begin",
          "        dc <= dc + 1'b1;" + (f" if (sr != {const(u.wb, 0)}) sr <= sr - 1'b1;" if u.s > 1 else ""),
          (f"        if (dc >= {const(u.dcb, u.s)}) tr <= tr + 1'b1;" if u.two_d else ""),
          "      end",
          "      if (adv) ev <= issue;",
          "      if (issue) begin",
          f"        ec <= ec_last ? {const(u.nb, 0)} : ec + 1'b1;",
          f"        ecb <= (ecb == {const(u.cbb, cb - 1)}) ? {const(u.cbb, 0)} : ecb + 1'b1;",
          f"        ea <= (ea == {const(u.ab, u.depth - 1)}) ? {const(u.ab, 0)} : ea + 1'b1;",
          f"        if (ec_last) {u.next3('eb')}",
          "      end",
          "    end",
          "  end",
          "  always @(posedge clk) begin sa_q <= sr;" + (" ta_q <= tr;" if u.two_d else "") + " end")
