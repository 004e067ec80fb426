"""Verilog of the scatter convolution (``units.scatter_conv``): k-WTA winners in, thresholded pixels out.

Input beat: ``SIMD`` pairs, each ``{y, x, c, value}`` (value in the low bits); ``active / SIMD``
beats per frame. Output beat: ``PE`` thresholded channels of one output pixel; pixels row by
row, ``M / PE`` beats each (channels last, as FINN streams a feature map).

Pipeline per SIMD lane: a held beat issues ``bank_depth`` steps; each step reads word
``c * bank_depth + step`` of every kernel offset's row ROM and, from tables indexed by ``y`` and
``x``, every position bank's offset, bounds check and output block (registered); one cycle later
each position bank ``(by, bx)`` takes the row word of its offset through two ``K``:1 selects
(``dx`` then ``dy``: the rotation) and adds its ``PE`` products into its accumulators at the
output block's word (single-cycle read-modify-write; ``_accumulators``). When a frame's last step
is in, the drain walks the output pixels of that copy: it reads the pixel's position bank of every
SIMD lane, marks it empty, sums the lanes and thresholds (``verilog.output_stage``); the next frame
scatters into the other copy meanwhile. After reset every word is marked empty once (``acc_words``
cycles). Cycles per frame: ``ScatterConvShape.cycles()``.
"""

from __future__ import annotations

import numpy as np

from sparsekws.rtl.text import Text, const, pack_lanes
from sparsekws.rtl.verilog import activation, output_stage, row_address, scatter_control, threshold_words
from sparsekws.units.bits import clog2, index_bits
from sparsekws.units.kwta_pairs import pack_pair as pack_layout
from sparsekws.units.kwta_pairs import pair_layout
from sparsekws.units.scatter_conv import ScatterConvShape, bank_depth, row_image


def pair_fields(shape: ScatterConvShape) -> list[tuple[str, int, int]]:
    """``(field, low bit, width)`` of one input pair: value, channel, column, row (``units.kwta_pairs``)."""
    return pair_layout(shape.height, shape.width, shape.channels, shape.abits)


def pair_bits(shape: ScatterConvShape) -> int:
    return sum(width for _, _, width in pair_fields(shape))


def pack_pair(shape: ScatterConvShape, y: int, x: int, c: int, value: int) -> int:
    return pack_layout(pair_fields(shape), y, x, c, value)


def _position_table(size: int, out_size: int, kernel: int, bank: int) -> list[tuple[int, int, int]]:
    """Per input coordinate: (in bounds, offset ``(coord - bank) mod K``, output block ``(coord - offset) // K``)."""
    rows = []
    for coord in range(size):
        offset = (coord - bank) % kernel
        out = coord - offset
        rows.append((int(0 <= out < out_size), offset, max(out, 0) // kernel))
    return rows


def _select(t: Text, name: str, width: int, sel: str, options: list[str]) -> None:
    """``name`` = ``options[sel]`` (a combinational multiplexer)."""
    if len(options) == 1:
        t.add(f"  wire [{width - 1}:0] {name} = {options[0]};")
        return
    t.add(f"  reg [{width - 1}:0] {name};", f"  always @* case ({sel})")
    t.add(*(f"    {i}: {name} = {option};" for i, option in enumerate(options[:-1])))
    t.add(f"    default: {name} = {options[-1]};", "  endcase")


def scatter_conv(name: str, shape: ScatterConvShape, weights: np.ndarray, thresholds: np.ndarray) -> str:
    """The unit for torch-layout ``weights`` ``[M, C, K, K]`` and ``thresholds`` ``[M, 2^obits - 1]``."""
    weights = np.asarray(weights, dtype=np.int64)
    expected = (shape.outputs, shape.channels, shape.kernel, shape.kernel)
    if weights.shape != expected:
        raise ValueError(f"weights must have shape {expected}, got {weights.shape}")
    if np.shape(thresholds) != (shape.outputs, (1 << shape.obits) - 1):
        raise ValueError(f"thresholds must have shape {(shape.outputs, (1 << shape.obits) - 1)}, got {np.shape(thresholds)}")
    need = bank_depth(weights, shape.pe)
    if need > shape.bank_depth:
        raise ValueError(f"scatter_conv: the weights need bank_depth >= {need} at PE={shape.pe}, "
                         f"the shape has {shape.bank_depth}")
    kk, simd, pe, nf, steps = shape.kernel, shape.simd, shape.pe, shape.nf, shape.bank_depth
    ab, wb, accb, words = shape.abits, shape.wbits, shape.acc_bits, shape.acc_words
    owb = index_bits(nf)
    lane = owb + wb
    block_rows, block_cols = shape.blocks
    fields = {field: (low, width) for field, low, width in pair_fields(shape)}
    word, value = row_image(weights, pe, steps)  # [K*K, C, steps, PE]
    kb, qyb, qxb = clog2(kk), clog2(block_rows), clog2(block_cols)
    nfb, awb = clog2(nf), clog2(words)
    oyb, oxb, rab = clog2(shape.out_height), clog2(shape.out_width), clog2(shape.channels * steps)
    t = Text()
    t.header(name, f"scatter conv {shape.height}x{shape.width}x{shape.channels} -> {shape.out_height}x"
             f"{shape.out_width}x{shape.outputs} K={kk} k={shape.active} bank depth {steps} PE={pe} SIMD={simd} "
             f"W{wb}A{ab}->{shape.obits}, products in {shape.res_type.upper()}s", simd * pair_bits(shape),
             pe * shape.obits, attributes='(* use_dsp = "no" *)' if shape.res_type == "lut" else "")
    scatter_control(t, shape.bank_depth, shape.beats)
    _drain_counters(t, shape, nfb, kb, qyb, qxb, oyb, oxb, awb)
    for s in range(simd):
        t.add(*(f"  reg [{fields[f][1] - 1}:0] i{f}{s};" for f in ("y", "x", "c", "v")), f"  reg [{ab - 1}:0] sv{s};")
        row_address(t, f"ra{s}", rab, f"ic{s}", steps, "d")
    t.add("  always @(posedge clk) if (load) begin "
          + " ".join(f"i{f}{s} <= in_data[{s * pair_bits(shape) + fields[f][0]} +: {fields[f][1]}];"
                     for s in range(simd) for f in ("y", "x", "c", "v")) + " end",
          "  always @(posedge clk) if (go) begin s_sel <= isel; s_last <= d_last && kc_last; "
          + " ".join(f"sv{s} <= iv{s};" for s in range(simd)) + " end")
    for s in range(simd):
        rows = []
        for offset in range(kk * kk):
            image = [pack_lanes([(int(word[offset, c, step, p]) << wb) | (int(value[offset, c, step, p]) & ((1 << wb) - 1))
                                 for p in range(pe)], lane)
                     for c in range(shape.channels) for step in range(steps)]
            rows.append(t.rom(f"rom{s}_{offset}", pe * lane, image, f"ra{s}", "go"))
        for axis, size, out_size, qb in (("y", shape.height, shape.out_height, qyb), ("x", shape.width, shape.out_width, qxb)):
            for bank in range(kk):
                table = [(ok << (kb + qb)) | (off << qb) | q for ok, off, q in _position_table(size, out_size, kk, bank)]
                t.rom(f"t{axis}{s}_{bank}", 1 + kb + qb, table, f"i{axis}{s}", "go")
        for dy in range(kk):  # rotation, stage 1: per kernel row dy and bank column bx, the offset dx
            for bx in range(kk):
                _select(t, f"rx{s}_{dy}_{bx}", pe * lane, f"tx{s}_{bx}_q[{qxb} +: {kb}]",
                        [rows[dy * kk + dx] for dx in range(kk)])
        for by in range(kk):
            for bx in range(kk):
                bank = f"{s}_{by}_{bx}"
                _select(t, f"rw{bank}", pe * lane, f"ty{s}_{by}_q[{qyb} +: {kb}]",
                        [f"rx{s}_{dy}_{bx}" for dy in range(kk)])
                ok = f"ty{s}_{by}_q[{kb + qyb}] && tx{s}_{bx}_q[{kb + qxb}]"
                t.add(f"  wire ok{bank} = {ok};",
                      "  /* verilator lint_off WIDTHEXPAND */",
                      f"  wire [{awb - 1}:0] base{bank} = (ty{s}_{by}_q[0 +: {qyb}] * {const(awb, block_cols)}"
                      f" + tx{s}_{bx}_q[0 +: {qxb}]) * {const(awb, nf)};",
                      "  /* verilator lint_on WIDTHEXPAND */")
                act = activation(f"sv{s}", ab, shape.in_signed)
                for p in range(0, pe, 2):
                    if shape.res_type == "dsp" and p + 1 < pe:  # two products in one DSP slice
                        packed_products(t, f"pr{bank}_{p}", f"pr{bank}_{p + 1}", accb, f"rw{bank}[{p * lane} +: {wb}]",
                                        f"rw{bank}[{(p + 1) * lane} +: {wb}]", act, wb, ab)
                    else:
                        for q in range(p, min(p + 2, pe)):
                            t.dot(f"pr{bank}_{q}", accb, [(f"rw{bank}[{q * lane} +: {wb}]", act)])
                for p in range(pe):
                    address = f"base{bank} + rw{bank}[{p * lane + wb} +: {owb}]" if owb else f"base{bank}"
                    t.add("  /* verilator lint_off WIDTHEXPAND */",
                          f"  wire [{awb - 1}:0] aw{bank}_{p} = {address};",
                          "  /* verilator lint_on WIDTHEXPAND */")
                    _accumulators(t, f"acc{bank}_{p}", accb, words, f"ok{bank}", f"at_{by}_{bx}", f"aw{bank}_{p}",
                                  f"pr{bank}_{p}")
    totals = []
    for p in range(pe):  # the drained pixel's word of every SIMD lane, then one adder per PE lane
        for s in range(simd):
            for c in range(2):
                _select(t, f"dr{c}_{s}_{p}", accb, "dbank",
                        [f"acc{s}_{by}_{bx}_{p}_q{c}" for by in range(kk) for bx in range(kk)])
        t.add(f"  reg signed [{accb - 1}:0] tot{p};",
              f"  always @(posedge clk) if (dfire) tot{p} <= "
              + " + ".join(f"$signed(dsel ? dr1_{s}_{p} : dr0_{s}_{p})" for s in range(simd)) + ";")
        totals.append(f"tot{p}")
    output_stage(t, shape, "1'b1", totals, [threshold_words(shape, thresholds, p) for p in range(pe)], "dnf")
    t.footer()
    return t.text()


def packed_products(t: Text, low: str, high: str, acc_bits: int, w_low: str, w_high: str, x: str, wbits: int,
                    abits: int) -> None:
    """``low`` = ``w_low * x`` and ``high`` = ``w_high * x`` (signed weights, ``x`` the activation as a
    signed ``abits + 1``-bit expression) from one multiplier: ``x * (w_high * 2^S + w_low)`` with
    ``S = packed_shift`` bits for each product; the low product is the low ``S`` bits (signed),
    the high one the bits above plus the low one's sign (the borrow)."""
    shift = packed_shift(wbits, abits)
    width = wbits + shift + 1
    product = width + abits + 1
    t.add("  /* verilator lint_off WIDTHEXPAND */",
          f"  wire signed [{width - 1}:0] {low}_pk = ($signed({w_high}) <<< {shift}) + $signed({w_low});",
          f"  wire signed [{product - 1}:0] {low}_pp = {low}_pk * $signed({x});",
          f"  wire signed [{shift - 1}:0] {low}_lo = {low}_pp[{shift - 1}:0];",
          f"  wire signed [{product - shift - 1}:0] {low}_hi = {low}_pp[{product - 1}:{shift}];",
          f"  wire signed [{acc_bits - 1}:0] {low} = {low}_lo;",
          f"  wire signed [{acc_bits - 1}:0] {high} = {low}_hi + $signed({{1'b0, {low}_lo[{shift - 1}]}});",
          "  /* verilator lint_on WIDTHEXPAND */")


def packed_shift(wbits: int, abits: int) -> int:
    """Bits one packed product takes: a signed ``wbits`` weight times a signed ``abits + 1`` activation."""
    return wbits + abits + 1


def _accumulators(t: Text, name: str, acc_bits: int, words: int, ok: str, drained: str, word: str,
                  product: str) -> None:
    """The two ping-pong copies of one accumulator memory (``words`` deep, asynchronous read).

    Each word has a valid bit: a scatter adds ``product`` to the word (an invalid word reads as
    0) and marks it valid; the drain and the clearing after reset only mark words invalid, so the
    data memories need no zeroing path and both copies share one adder (the scattering copy's word
    is the one added to). ``<name>_q<c>``: copy ``c``'s word at the drain address, 0 if invalid.
    """
    awb = clog2(words)

    def at(c: int) -> str:
        return "[0]" if words == 1 else f"[{name}_a{c}]"

    for c in range(2):
        t.add(f"  wire {name}_w{c} = sc{c} && {ok};",
              f"  reg signed [{acc_bits - 1}:0] {name}_m{c} [0:{words - 1}];", f"  reg {name}_v{c} [0:{words - 1}];",
              f"  wire [{awb - 1}:0] {name}_a{c} = {name}_w{c} ? {word} : da;",
              f"  wire signed [{acc_bits - 1}:0] {name}_q{c} = {name}_v{c}{at(c)} ? {name}_m{c}{at(c)} : {acc_bits}'sd0;")
    t.add(f"  wire signed [{acc_bits - 1}:0] {name}_sum = (s_sel ? {name}_q1 : {name}_q0) + {product};")
    for c in range(2):
        t.add(f"  always @(posedge clk) if ({name}_w{c}) {name}_m{c}{at(c)} <= {name}_sum;",
              f"  always @(posedge clk) if ({name}_w{c} || (dc{c} && {drained}) || clearing) "
              f"{name}_v{c}{at(c)} <= {name}_w{c};")


def _drain_counters(t: Text, shape: ScatterConvShape, nfb: int, kb: int, qyb: int, qxb: int, oyb: int, oxb: int,
                    awb: int) -> None:
    """Drained pixel (row ``doy`` = ``dqy*K + dby``, column ``dox`` likewise), channel word ``dnf``; the
    accumulator word ``da`` (the clearing counter while clearing) and ``at_<by>_<bx>`` (the drained bank)."""
    kk, nf = shape.kernel, shape.nf
    block_cols = shape.blocks[1]
    t.add(f"  reg [{nfb - 1}:0] dnf;", f"  reg [{oyb - 1}:0] doy;", f"  reg [{oxb - 1}:0] dox;",
          f"  reg [{kb - 1}:0] dby, dbx;", f"  reg [{qyb - 1}:0] dqy;", f"  reg [{qxb - 1}:0] dqx;",
          f"  reg [{awb - 1}:0] cn;",
          f"  wire dnf_last = (dnf == {const(nfb, nf - 1)});",
          f"  wire dox_last = (dox == {const(oxb, shape.out_width - 1)});",
          f"  wire doy_last = (doy == {const(oyb, shape.out_height - 1)});",
          "  assign dn_last = dnf_last && dox_last && doy_last;",
          f"  assign clear_last = (cn == {const(awb, shape.acc_words - 1)});",
          "  /* verilator lint_off WIDTHEXPAND */",
          f"  wire [{awb - 1}:0] da = clearing ? cn : (dqy * {const(awb, block_cols)} + dqx) * {const(awb, nf)} + dnf;",
          f"  wire [{2 * kb - 1}:0] dbank = dby * {const(2 * kb, kk)} + dbx;",
          "  /* verilator lint_on WIDTHEXPAND */",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) begin dnf <= {nfb}'d0; doy <= {oyb}'d0; dox <= {oxb}'d0; dby <= {kb}'d0; dbx <= {kb}'d0;"
          f" dqy <= {qyb}'d0; dqx <= {qxb}'d0; cn <= {awb}'d0; end",
          "    else begin",
          f"      if (clearing) cn <= cn + 1'b1;",
          "      if (dfire) begin",
          f"        dnf <= dnf_last ? {nfb}'d0 : dnf + 1'b1;",
          "        if (dnf_last && dox_last) begin",
          f"          dox <= {oxb}'d0; dbx <= {kb}'d0; dqx <= {qxb}'d0;",
          f"          doy <= doy_last ? {oyb}'d0 : doy + 1'b1;",
          f"          if (doy_last) begin dby <= {kb}'d0; dqy <= {qyb}'d0; end",
          f"          else if (dby == {const(kb, kk - 1)}) begin dby <= {kb}'d0; dqy <= dqy + 1'b1; end",
          "          else dby <= dby + 1'b1;",
          "        end else if (dnf_last) begin",
          "          dox <= dox + 1'b1;",
          f"          if (dbx == {const(kb, kk - 1)}) begin dbx <= {kb}'d0; dqx <= dqx + 1'b1; end",
          "          else dbx <= dbx + 1'b1;",
          "        end",
          "      end",
          "    end",
          "  end")
    t.add(*(f"  wire at_{by}_{bx} = (dby == {const(kb, by)}) && (dbx == {const(kb, bx)});"
            for by in range(kk) for bx in range(kk)))
