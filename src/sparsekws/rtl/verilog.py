"""Verilog-2005 generators for the streaming units (Verilator- and Yosys-clean).

Every unit has the same ports: ``clk``, ``rst_n`` (synchronous, active low), an input stream
``in_data/in_valid/in_ready`` and an output stream ``out_data/out_valid/out_ready``
(AXI-Stream handshake: a beat moves when valid and ready are both high). Lane ``i`` of a beat
sits at bits ``[i*W +: W]``. FINN folding: ``PE`` output rows in parallel, ``SIMD`` products
per row per cycle; output beat ``nf`` carries rows ``nf*PE .. nf*PE+PE-1``.

Weights and thresholds are baked in as initialised read-only memories with a registered read
port (on-chip memory: Yosys maps them to BRAM, LUTRAM or LUT logic by size).

Units:
- ``dense_mvu``: rows x cols matrix, input beat = SIMD activations; the first neuron fold
  consumes the input while computing and keeps it for the other folds (as FINN's MVAU).
- ``sparse_mvu``: fixed fan-in F, the banked schedule of ``units.schedule`` (the FINN op's
  ``sparse_weights`` mode): input lane ``s`` fills bank ``s`` of a ping-pong input buffer (the
  inputs ``i mod SIMD = s``; load overlaps compute); per row only its non-zero weights are
  stored, each with the word address of its input in the bank of its SIMD lane, padded to
  ``bank_depth`` words per row (the fullest bank); zero padding is multiplied like any weight.
- ``sparse_sparse_mvu``: input beat = SIMD (index, value) pairs of the K active inputs; each
  pair is scattered over all rows (column-major weights, one memory copy per SIMD lane),
  accumulators per row; outputs stream during the frame's last input beat.
- ``sparse_sparse_scatter_mvu``: the same input for sparse rows (the FINN op's ``sparse_sparse``
  mode below its dense limit): each pair walks the ``bank_depth`` steps of its row's non-zeros
  (banked by output ``j mod PE``, stored with the output word), scattering into lane-private
  ping-pong accumulators; a frame's outputs drain (SIMD sum, thresholds) while the next accumulates.

The k-WTA unit (rank ROM, 1-D and 2-D) is ``kwta_ranked.ranked_kwta``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsekws.rtl.text import Text, const, pack_lanes
from sparsekws.units import golden
from sparsekws.units.bits import clog2
from sparsekws.units.schedule import sparse_sparse_image, sparse_weights_image


@dataclass(frozen=True)
class MvuShape:
    """Shape, folding and bit widths of a matrix-vector unit.

    ``fan_in``: non-zero weights per row (sparse); ``bank_depth``: schedule words per row of the
    sparse unit (``golden.bank_depth``); ``active``: active inputs per frame (sparse-sparse).
    """

    rows: int
    cols: int
    pe: int
    simd: int
    wbits: int
    abits: int
    obits: int
    in_signed: bool = False
    fan_in: int = 0
    active: int = 0
    bank_depth: int = 0

    @property
    def nf(self) -> int:
        return self.rows // self.pe

    @property
    def terms(self) -> int:
        """Products summed per row."""
        return self.active or self.fan_in or self.cols

    @property
    def acc_bits(self) -> int:
        """Signed accumulator width with one spare bit (so clipped thresholds stay exact)."""
        amax = (1 << (self.abits - 1)) if self.in_signed else (1 << self.abits) - 1
        bound = self.terms * (1 << (self.wbits - 1)) * amax
        return bound.bit_length() + 2

    def check(self, kind: str) -> None:
        if self.rows % self.pe:
            raise ValueError(f"{kind}: PE={self.pe} must divide rows={self.rows}")
        streamed = self.active or self.cols  # values per frame on the input stream
        if streamed % self.simd:
            raise ValueError(f"{kind}: SIMD={self.simd} must divide the {streamed} input values per frame")


def activation(expr: str, abits: int, signed: bool) -> str:
    return expr if signed else f"{{1'b0, {expr}}}"


def threshold_words(shape: MvuShape, thresholds: np.ndarray, pe: int) -> list[int]:
    """Per neuron fold, PE ``pe``'s thresholds clipped to the accumulator range."""
    bits = shape.acc_bits
    lo, hi = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
    rows = np.clip(np.asarray(thresholds, dtype=np.int64), lo, hi)
    return [pack_lanes(rows[nf * shape.pe + pe], bits) for nf in range(shape.nf)]


def _check_thresholds(shape: MvuShape, thresholds: np.ndarray) -> None:
    expected = (shape.rows, (1 << shape.obits) - 1)
    if np.shape(thresholds) != expected:
        raise ValueError(f"thresholds must have shape {expected}, got {np.shape(thresholds)}")


def output_stage(t: Text, shape: MvuShape, last: str, totals: list[str], thr_words: list[list[int]] | None,
                  thr_addr: str) -> None:
    """Thresholds per PE (registered read at ``thr_addr``) and the output register; without
    threshold words (``None``) the accumulators themselves are the outputs."""
    outs = [] if thr_words is not None else list(totals)
    for pe, total in enumerate(totals if thr_words is not None else []):
        thr = t.rom(f"thr{pe}", ((1 << shape.obits) - 1) * shape.acc_bits, thr_words[pe], thr_addr, "adv")
        t.thresholds(f"q{pe}", total, thr, shape.acc_bits, shape.obits)
        outs.append(f"q{pe}")
    t.add("  always @(posedge clk) begin",
          "    if (!rst_n) out_valid <= 1'b0;",
          f"    else if (adv) out_valid <= v_q && {last};",
          "  end",
          f"  always @(posedge clk) if (adv && v_q && {last}) out_data <= {{{', '.join(reversed(outs))}}};")


def _fold_counters(t: Text, shape: MvuShape, sf_count: int, fire: str) -> None:
    """Counters ``nf`` (neuron fold), ``sf`` (synapse fold) and ``waddr`` = nf*SF+sf, advanced on ``fire``."""
    nfb, sfb, awb = clog2(shape.nf), clog2(sf_count), clog2(shape.nf * sf_count)
    t.add(f"  reg [{nfb - 1}:0] nf;", f"  reg [{sfb - 1}:0] sf;", f"  reg [{awb - 1}:0] waddr;",
          f"  wire sf_last = (sf == {const(sfb, sf_count - 1)});",
          f"  wire nf_last = (nf == {const(nfb, shape.nf - 1)});",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) begin nf <= {nfb}'d0; sf <= {sfb}'d0; waddr <= {awb}'d0; end",
          f"    else if ({fire}) begin",
          f"      sf <= sf_last ? {sfb}'d0 : sf + 1'b1;",
          f"      if (sf_last) nf <= nf_last ? {nfb}'d0 : nf + 1'b1;",
          f"      waddr <= (sf_last && nf_last) ? {awb}'d0 : waddr + 1'b1;",
          "    end", "  end")


def out_bits(shape: MvuShape, thresholds: np.ndarray | None) -> int:
    """Bits per output lane: the threshold levels' width, or the accumulator's without thresholds."""
    return shape.acc_bits if thresholds is None else shape.obits


def dense_mvu(name: str, shape: MvuShape, weights: np.ndarray, thresholds: np.ndarray | None) -> str:
    """Dense matrix-vector-threshold unit; cycles per frame NF*SF (``cycles.dense_mvu``); without
    ``thresholds`` (a last layer) it outputs the signed accumulators (``out_bits``)."""
    shape.check("dense_mvu")
    weights = np.asarray(weights, dtype=np.int64)
    if weights.shape != (shape.rows, shape.cols):
        raise ValueError(f"weights must have shape {(shape.rows, shape.cols)}, got {weights.shape}")
    if thresholds is not None:
        _check_thresholds(shape, thresholds)
    sf_count, ab, wb, simd = shape.cols // shape.simd, shape.abits, shape.wbits, shape.simd
    t = Text()
    t.header(name, f"dense MVU {shape.rows}x{shape.cols} PE={shape.pe} SIMD={simd} W{wb}A{ab}->{shape.obits}",
             simd * ab, shape.pe * out_bits(shape, thresholds))
    t.add("  wire adv = !out_valid || out_ready;", "  wire fetch;")
    _fold_counters(t, shape, sf_count, "fetch")
    first = "(nf == 0)" if shape.nf > 1 else "1'b1"
    t.add(f"  wire first = {first};",
          "  assign fetch = adv && (!first || in_valid);",
          "  assign in_ready = adv && first;")
    xin = "in_data"
    if shape.nf > 1:
        depth = f" [0:{sf_count - 1}]" if sf_count > 1 else ""
        slot = "[sf]" if sf_count > 1 else ""
        t.add(f"  reg [{simd * ab - 1}:0] ibuf{depth};",
              f"  always @(posedge clk) if (fetch && first) ibuf{slot} <= in_data;")
        xin = f"(first ? in_data : ibuf{slot})"
    t.add(f"  reg [{simd * ab - 1}:0] x_q;", "  reg v_q, last_q;",
          "  always @(posedge clk) begin",
          "    if (!rst_n) v_q <= 1'b0;", "    else if (adv) v_q <= fetch;", "  end",
          f"  always @(posedge clk) if (fetch) begin x_q <= {xin}; last_q <= sf_last; end")
    products = []
    for pe in range(shape.pe):
        words = [pack_lanes(weights[nf * shape.pe + pe, sf * simd:(sf + 1) * simd], wb)
                 for nf in range(shape.nf) for sf in range(sf_count)]
        w = t.rom(f"wmem{pe}", simd * wb, words, "waddr", "adv")
        products.append([(f"{w}[{s * wb} +: {wb}]", activation(f"x_q[{s * ab} +: {ab}]", ab, shape.in_signed))
                         for s in range(simd)])
    return _fold_datapath(t, shape, thresholds, products)


def _fold_datapath(t: Text, shape: MvuShape, thresholds: np.ndarray | None, products: list, acc_words: int = 1) -> str:
    """Per PE the dot product of its (weight, activation) ``products``, the accumulator(s) (see
    ``_accumulate``) and the thresholds; then the output stage. Returns the module's text."""
    for pe, pairs in enumerate(products):
        t.dot(f"dot{pe}", shape.acc_bits, pairs)
        _accumulate(t, pe, shape.acc_bits, acc_words)
    thr_words = None if thresholds is None else [threshold_words(shape, thresholds, pe) for pe in range(shape.pe)]
    output_stage(t, shape, "last_q", [f"tot{pe}" for pe in range(shape.pe)], thr_words, "nf")
    t.footer()
    return t.text()


def _accumulate(t: Text, pe: int, acc_bits: int, words: int = 1) -> None:
    """Accumulator ``acc<pe>`` over the synapse folds of one row; ``tot<pe>`` = acc + dot. With
    ``words`` > 1, one accumulator per neuron fold, addressed by ``nf_q`` (outputs walked in lockstep)."""
    if words == 1:
        t.add(f"  reg signed [{acc_bits - 1}:0] acc{pe};",
              f"  wire signed [{acc_bits - 1}:0] tot{pe} = acc{pe} + dot{pe};",
              "  always @(posedge clk) begin",
              f"    if (!rst_n) acc{pe} <= {acc_bits}'sd0;",
              f"    else if (adv && v_q) acc{pe} <= last_q ? {acc_bits}'sd0 : tot{pe};",
              "  end")
        return
    t.add(f"  reg signed [{acc_bits - 1}:0] acc{pe} [0:{words - 1}];",
          f"  wire signed [{acc_bits - 1}:0] tot{pe} = acc{pe}[nf_q] + dot{pe};",
          f"  integer i{pe};",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) for (i{pe} = 0; i{pe} < {words}; i{pe} = i{pe} + 1) acc{pe}[i{pe}] <= {acc_bits}'sd0;",
          f"    else if (adv && v_q) acc{pe}[nf_q] <= last_q ? {acc_bits}'sd0 : tot{pe};",
          "  end")


def sparse_mvu(name: str, shape: MvuShape, weights: np.ndarray, thresholds: np.ndarray) -> str:
    """Fixed fan-in unit, banked schedule; cycles per frame max(NF*bank_depth, cols/SIMD) (``cycles.sparse_mvu``)."""
    shape.check("sparse_mvu")
    weights = np.asarray(weights, dtype=np.int64)
    if weights.shape != (shape.rows, shape.cols):
        raise ValueError(f"weights must have shape {(shape.rows, shape.cols)}, got {weights.shape}")
    depth = golden.bank_depth(weights, shape.simd)
    if not shape.bank_depth or depth > shape.bank_depth:
        raise ValueError(f"sparse_mvu: the weights need bank_depth >= {depth} at SIMD={shape.simd}, "
                         f"the shape has {shape.bank_depth}")
    _check_thresholds(shape, thresholds)
    ab, wb, simd, cols, steps = shape.abits, shape.wbits, shape.simd, shape.cols, shape.bank_depth
    loads = cols // simd
    word, value = sparse_weights_image(weights.T, shape.pe, simd)  # [NF, depth, PE, SIMD]
    pad = ((0, 0), (0, steps - word.shape[1]), (0, 0), (0, 0))
    word, value = np.pad(word, pad), np.pad(value, pad)
    lcb, wdb = clog2(loads), (clog2(loads) if loads > 1 else 0)
    lane = wdb + wb
    t = Text()
    t.header(name, f"sparse MVU {shape.rows}x{cols} fan-in {shape.fan_in} bank depth {steps} PE={shape.pe} "
             f"SIMD={simd} W{wb}A{ab}->{shape.obits}", simd * ab, shape.pe * shape.obits)
    t.add("  wire adv = !out_valid || out_ready;", "  wire fetch;",
          "  // ping-pong input buffer, one memory per input lane (bank): bank set lb loads while cb computes",
          "  reg lb, cb, cb_q;", "  reg [1:0] full;", f"  reg [{lcb - 1}:0] lc;",
          "  wire release_bank;",
          "  // a buffer may be refilled in the cycle its last product is taken (the gather reads before the edge)",
          "  assign in_ready = !full[lb] || (release_bank && (cb_q == lb));",
          "  wire load = in_valid && in_ready;",
          f"  wire load_last = (lc == {const(lcb, loads - 1)});")
    depth_decl, slot = (f" [0:{loads - 1}]", "[lc]") if loads > 1 else ("", "")
    for i in range(simd):
        t.add(f"  reg [{ab - 1}:0] xb0_{i}{depth_decl};", f"  reg [{ab - 1}:0] xb1_{i}{depth_decl};",
              f"  always @(posedge clk) if (load) begin if (lb) xb1_{i}{slot} <= in_data[{i * ab} +: {ab}];"
              f" else xb0_{i}{slot} <= in_data[{i * ab} +: {ab}]; end")
    _fold_counters(t, shape, steps, "fetch")
    t.add("  assign fetch = adv && full[cb];",
          "  reg v_q, last_q, flast_q;",
          "  assign release_bank = adv && v_q && flast_q;",
          "  always @(posedge clk) begin",
          "    if (!rst_n) begin lb <= 1'b0; cb <= 1'b0; full <= 2'b00; v_q <= 1'b0;"
          f" lc <= {lcb}'d0; end",
          "    else begin",
          "      if (load) begin",
          f"        lc <= load_last ? {lcb}'d0 : lc + 1'b1;",
          "        if (load_last) lb <= !lb;",
          "      end",
          "      full[0] <= (full[0] && !(release_bank && !cb_q)) || (load && load_last && !lb);",
          "      full[1] <= (full[1] && !(release_bank && cb_q)) || (load && load_last && lb);",
          "      if (fetch && sf_last && nf_last) cb <= !cb;",
          "      if (adv) v_q <= fetch;",
          "    end",
          "  end",
          "  always @(posedge clk) if (fetch) begin"
          " last_q <= sf_last; flast_q <= sf_last && nf_last; cb_q <= cb; end")
    products = []
    for pe in range(shape.pe):
        words = [pack_lanes([(int(word[nf, step, pe, s]) << wb) | (int(value[nf, step, pe, s]) & ((1 << wb) - 1))
                             for s in range(simd)], lane)
                 for nf in range(shape.nf) for step in range(steps)]
        w = t.rom(f"wmem{pe}", simd * lane, words, "waddr", "adv")
        pairs = []
        for s in range(simd):
            at = ""
            if wdb:
                t.add(f"  wire [{wdb - 1}:0] gw{pe}_{s} = {w}[{s * lane + wb} +: {wdb}];")
                at = f"[gw{pe}_{s}]"
            t.add(f"  wire [{ab - 1}:0] g{pe}_{s} = cb_q ? xb1_{s}{at} : xb0_{s}{at};")
            pairs.append((f"{w}[{s * lane} +: {wb}]", activation(f"g{pe}_{s}", ab, shape.in_signed)))
        products.append(pairs)
    return _fold_datapath(t, shape, thresholds, products)


def row_address(t: Text, name: str, width: int, index: str, words: int, step: str) -> None:
    """``name = index * words + step``: word ``step`` of input row ``index`` in a row-major memory."""
    if words == 1:
        t.add(f"  wire [{width - 1}:0] {name} = {index};")
    else:
        t.add("  /* verilator lint_off WIDTHEXPAND */",
              f"  wire [{width - 1}:0] {name} = {index} * {const(width, words)} + {step};",
              "  /* verilator lint_on WIDTHEXPAND */")


def _pair_unit_weights(unit: str, shape: MvuShape, weights: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Checks shared by the units fed (index, value) pairs; the weights as int64."""
    shape.check(unit)
    if not shape.active:
        raise ValueError(f"{unit}: shape.active (K active inputs per frame) must be set")
    weights = np.asarray(weights, dtype=np.int64)
    if weights.shape != (shape.rows, shape.cols):
        raise ValueError(f"weights must have shape {(shape.rows, shape.cols)}, got {weights.shape}")
    _check_thresholds(shape, thresholds)
    return weights


def sparse_sparse_mvu(name: str, shape: MvuShape, weights: np.ndarray, thresholds: np.ndarray) -> str:
    """Sparse-sparse unit over K active (index, value) pairs; cycles per frame NF*K/SIMD."""
    weights = _pair_unit_weights("sparse_sparse_mvu", shape, weights, thresholds)
    ab, wb, simd, nf_count = shape.abits, shape.wbits, shape.simd, shape.nf
    beats, ixb, pair = shape.active // simd, clog2(shape.cols), clog2(shape.cols) + ab
    kcb, nfb = clog2(beats), clog2(nf_count)
    depth = shape.cols * nf_count
    awb = clog2(depth)
    t = Text()
    t.header(name, f"sparse-sparse MVU {shape.rows}x{shape.cols} K={shape.active} PE={shape.pe} "
             f"SIMD={simd} W{wb}A{ab}->{shape.obits}", simd * pair, shape.pe * shape.obits)
    t.add("  wire adv = !out_valid || out_ready;",
          f"  reg [{nfb - 1}:0] nf;", f"  reg [{kcb - 1}:0] kc;",
          f"  wire nf_last = (nf == {const(nfb, nf_count - 1)});",
          f"  wire kc_last = (kc == {const(kcb, beats - 1)});",
          "  wire fetch = adv && in_valid;",
          "  assign in_ready = adv && nf_last;",
          "  reg v_q, last_q;", f"  reg [{nfb - 1}:0] nf_q;", f"  reg [{simd * ab - 1}:0] x_q;",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) begin nf <= {nfb}'d0; kc <= {kcb}'d0; v_q <= 1'b0; end",
          "    else if (adv) begin",
          "      v_q <= fetch;",
          "      if (fetch) begin",
          f"        nf <= nf_last ? {nfb}'d0 : nf + 1'b1;",
          f"        if (nf_last) kc <= kc_last ? {kcb}'d0 : kc + 1'b1;",
          "      end",
          "    end",
          "  end",
          "  always @(posedge clk) if (fetch) begin last_q <= kc_last; nf_q <= nf;"
          f" x_q <= {{{', '.join(f'in_data[{s * pair} +: {ab}]' for s in reversed(range(simd)))}}}; end")
    for s in range(simd):
        row_address(t, f"a{s}", awb, f"in_data[{s * pair + ab} +: {ixb}]", nf_count, "nf")
    products = []
    for pe in range(shape.pe):
        pairs = []
        for s in range(simd):
            words = [int(weights[nf * shape.pe + pe, j]) for j in range(shape.cols) for nf in range(nf_count)]
            w = t.rom(f"wmem{pe}_{s}", wb, words, f"a{s}", "fetch")
            pairs.append((w, activation(f"x_q[{s * ab} +: {ab}]", ab, shape.in_signed)))
        products.append(pairs)
    return _fold_datapath(t, shape, thresholds, products, acc_words=nf_count)


def sparse_sparse_scatter_mvu(name: str, shape: MvuShape, weights: np.ndarray, thresholds: np.ndarray) -> str:
    """Sparse-sparse unit with sparse rows (input-stationary scatter); cycles per frame
    max(K/SIMD * bank_depth, NF) (``cycles.sparse_sparse_scatter_mvu``).

    Row memory (one copy per SIMD lane): input row ``i``, step ``d`` at word ``i*bank_depth + d``
    holds PE (output word, weight) pairs, the non-zeros of the row banked by output (PE lane
    ``p`` takes the outputs ``j mod PE = p``; ``schedule.sparse_sparse_image``), padded with
    weight 0 at word 0. Each issue cycle every SIMD lane reads one step of its pair's row; one
    cycle later it adds the PE products into its own accumulators: per SIMD lane and PE lane two
    ping-pong copies of NF words (asynchronous read, one write port, a single-cycle
    read-modify-write, so repeated words need no forwarding). When a frame's last products are
    in, the drain walks its copy: it reads word ``nf`` of every SIMD lane, writes it back as
    zero, registers the SIMD sum per PE lane; the threshold stage follows (two-stage output, it
    stalls on ``out_ready``). The next frame accumulates into the other copy meanwhile; a copy
    takes a new frame from the cycle its drain reads its last word. After reset the drain
    counter sweeps all words to zero once (NF cycles).
    """
    weights = _pair_unit_weights("sparse_sparse_scatter_mvu", shape, weights, thresholds)
    depth = golden.bank_depth(weights.T, shape.pe)
    if not shape.bank_depth or depth > shape.bank_depth:
        raise ValueError(f"sparse_sparse_scatter_mvu: the weights need bank_depth >= {depth} at PE={shape.pe}, "
                         f"the shape has {shape.bank_depth}")
    ab, wb, simd, pe, nf, steps = shape.abits, shape.wbits, shape.simd, shape.pe, shape.nf, shape.bank_depth
    accb, beats, ixb = shape.acc_bits, shape.active // simd, clog2(shape.cols)
    pair = ixb + ab
    owb = clog2(nf) if nf > 1 else 0  # output word address
    lane = owb + wb
    word, value = sparse_sparse_image(weights.T, pe)  # [cols, depth, PE]
    pad = ((0, 0), (0, steps - word.shape[1]), (0, 0))
    word, value = np.pad(word, pad), np.pad(value, pad)
    nfb, rab = clog2(nf), clog2(shape.cols * steps)
    t = Text()
    t.header(name, f"sparse-sparse scatter MVU {shape.rows}x{shape.cols} K={shape.active} bank depth {steps} "
             f"PE={pe} SIMD={simd} W{wb}A{ab}->{shape.obits}", simd * pair, pe * shape.obits)
    scatter_control(t, steps, beats)
    t.add(f"  reg [{nfb - 1}:0] dn;", f"  assign dn_last = (dn == {const(nfb, nf - 1)});", "  assign clear_last = dn_last;",
          "  always @(posedge clk) begin",
          f"    if (!rst_n) dn <= {nfb}'d0;",
          f"    else if (clearing || dfire) dn <= dn_last ? {nfb}'d0 : dn + 1'b1;",
          "  end")
    for s in range(simd):
        t.add(f"  reg [{ixb - 1}:0] ix{s};", f"  reg [{ab - 1}:0] xv{s}, sv{s};")
        row_address(t, f"ra{s}", rab, f"ix{s}", steps, "d")
    t.add("  always @(posedge clk) if (load) begin "
          + " ".join(f"ix{s} <= in_data[{s * pair + ab} +: {ixb}]; xv{s} <= in_data[{s * pair} +: {ab}];"
                     for s in range(simd)) + " end",
          "  always @(posedge clk) if (go) begin s_sel <= isel; s_last <= d_last && kc_last; "
          + " ".join(f"sv{s} <= xv{s};" for s in range(simd)) + " end")
    for s in range(simd):
        words = [pack_lanes([(int(word[i, step, p]) << wb) | (int(value[i, step, p]) & ((1 << wb) - 1))
                             for p in range(pe)], lane)
                 for i in range(shape.cols) for step in range(steps)]
        rom = t.rom(f"rmem{s}", pe * lane, words, f"ra{s}", "go")
        for p in range(pe):
            t.dot(f"pr{s}_{p}", accb, [(f"{rom}[{p * lane} +: {wb}]", activation(f"sv{s}", ab, shape.in_signed))])
            for c in range(2):
                scatter_accumulator(t, f"acc{c}_{s}_{p}", accb, nf, f"sc{c}", f"dc{c}",
                                     f"{rom}[{p * lane + wb} +: {owb}]" if owb else "", f"pr{s}_{p}")
    totals = []
    for p in range(pe):  # the drained copy's word of every SIMD lane, then one adder tree per PE lane
        t.add(*(f"  wire signed [{accb - 1}:0] dr{s}_{p} = dsel ? acc1_{s}_{p}_r : acc0_{s}_{p}_r;"
                for s in range(simd)),
              f"  reg signed [{accb - 1}:0] tot{p};",
              f"  always @(posedge clk) if (dfire) tot{p} <= {' + '.join(f'dr{s}_{p}' for s in range(simd))};")
        totals.append(f"tot{p}")
    output_stage(t, shape, "1'b1", totals, [threshold_words(shape, thresholds, p) for p in range(pe)], "dn")
    t.footer()
    return t.text()


def scatter_control(t: Text, steps: int, beats: int) -> None:
    """Issue and drain handshake of a scatter unit's two accumulator copies (``adv``, ``go``,
    ``load``, ``dfire``, ``sc<c>``/``dc<c>``: copy ``c`` scattered / drained this cycle). A held beat
    issues ``steps`` steps into copy ``isel`` once that copy is free (or freed this cycle); a copy
    whose frame (``beats`` beats) is in is drained, one word per ``dfire``. The caller assigns
    ``dn_last`` (the drain's last word) and ``clear_last`` (the last word of the sweep after reset)."""
    dcb, kcb = clog2(steps), clog2(beats)
    t.add("  wire adv = !out_valid || out_ready;",
          "  reg have, isel, dsel, clearing, s_v, s_sel, s_last, v_q;", "  reg [1:0] full;",
          f"  reg [{dcb - 1}:0] d;", f"  reg [{kcb - 1}:0] kc;",
          f"  wire d_last = (d == {const(dcb, steps - 1)});",
          f"  wire kc_last = (kc == {const(kcb, beats - 1)});",
          "  wire dn_last, clear_last;",
          "  // drain: read (and empty) the next word of copy dsel once its frame is complete",
          "  wire dfire = adv && !clearing && full[dsel];",
          "  wire release0 = dfire && dn_last && !dsel;", "  wire release1 = dfire && dn_last && dsel;",
          "  // scatter: issue step d of the held beat into copy isel (free, or freed this cycle)",
          "  wire go = have && !clearing && (isel ? (!full[1] || release1) : (!full[0] || release0));",
          "  assign in_ready = !have || (go && d_last);",
          "  wire load = in_valid && in_ready;",
          "  always @(posedge clk) begin",
          "    if (!rst_n) begin have <= 1'b0; isel <= 1'b0; dsel <= 1'b0; clearing <= 1'b1; full <= 2'b00;"
          f" s_v <= 1'b0; v_q <= 1'b0; d <= {dcb}'d0; kc <= {kcb}'d0; end",
          "    else begin",
          "      if (load) have <= 1'b1; else if (go && d_last) have <= 1'b0;",
          "      if (go) begin",
          f"        d <= d_last ? {dcb}'d0 : d + 1'b1;",
          "        if (d_last) begin",
          f"          kc <= kc_last ? {kcb}'d0 : kc + 1'b1;",
          "          if (kc_last) isel <= !isel;",
          "        end",
          "      end",
          "      s_v <= go;",
          "      if (clearing && clear_last) clearing <= 1'b0;",
          "      if (dfire && dn_last) dsel <= !dsel;",
          "      full[0] <= (full[0] && !release0) || (s_v && s_last && !s_sel);",
          "      full[1] <= (full[1] && !release1) || (s_v && s_last && s_sel);",
          "      if (adv) v_q <= dfire;",
          "    end",
          "  end",
          "  wire sc0 = s_v && !s_sel, sc1 = s_v && s_sel, dc0 = dfire && !dsel, dc1 = dfire && dsel;")


def scatter_accumulator(t: Text, name: str, acc_bits: int, words: int, scatter: str, drain: str, word: str,
                        product: str, drain_word: str = "dn") -> None:
    """Accumulator memory ``name`` (``words`` deep, asynchronous read ``<name>_r``): adds ``product`` at
    ``word`` when ``scatter``; writes zero at ``drain_word`` when ``drain`` or ``clearing``."""
    data = f"{scatter} ? {name}_r + {product} : {acc_bits}'sd0"
    enable = f"{scatter} || {drain} || clearing"
    if words == 1:
        t.add(f"  reg signed [{acc_bits - 1}:0] {name}_r;",
              f"  always @(posedge clk) if ({enable}) {name}_r <= {data};")
        return
    t.add(f"  reg signed [{acc_bits - 1}:0] {name} [0:{words - 1}];",
          f"  wire [{clog2(words) - 1}:0] {name}_a = {scatter} ? {word} : {drain_word};",
          f"  wire signed [{acc_bits - 1}:0] {name}_r = {name}[{name}_a];",
          f"  always @(posedge clk) if ({enable}) {name}[{name}_a] <= {data};")
