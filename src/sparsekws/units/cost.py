"""Cycle and resource models of the sparse units, as plain functions of the layer shape and folding.

The HW ops (``SparseMVAU``, ``KWinnersHW``) call these; so can a folding search or a report
without building a graph. Every constant comes from ``constants``; ``calibration`` scales the LUT/FF counts.

Sparse matrix-vector unit (``MatrixUnit``), three modes
-------------------------------------------------------
``dense``: FINN's MVAU (FINN-R model): ``MH/PE * MW/SIMD`` cycles per vector, weights stored as
``MW*MH/(PE*SIMD)`` words of ``PE*SIMD*W`` bits.

``sparse_weights`` (fixed fan-in ``K`` non-zero weights per output, output-stationary gather):
the input vector is buffered as FINN's MVAU buffers it, ``SF = MW/SIMD`` words of ``SIMD``
values, but split into ``SIMD`` column banks (lane ``s`` holds the inputs ``i`` with ``i mod
SIMD = s``), one LUTRAM copy per PE, ping-pong so that the next vector streams in while the
current one is computed. Each PE owns one output at a time; its SIMD lanes walk the output's
non-zero weights, lane ``s`` those whose input lies in bank ``s``, reading ``x[i]`` by a word
address (``ceil(log2 SF)`` bits) stored next to the weight. A random mask fills the banks
unevenly: the schedule is padded to the fullest bank, ``bank_depth = max over outputs and banks``
of the per-bank count (measured from the weights for every SIMD; ``ceil(K/SIMD)`` for a
bank-balanced mask). Cycles per vector: ``max(MH/PE * bank_depth, SF)``. Weight memory:
``MH/PE * bank_depth`` words of ``PE*SIMD*(W + ceil(log2 SF))`` bits; only the non-zero weights
(and padding) are stored and multiplied.

``sparse_sparse`` (a preceding k-WTA delivers only its ``k`` active inputs, as (index, value)
pairs, input-stationary scatter): the weights are stored per input row, the non-zeros of a
row banked by output (PE lane ``p`` holds the outputs ``j`` with ``j mod PE = p``) with the
word address (``ceil(log2 NF)`` bits) of the output, padded to the fullest bank
(``bank_depth``, measured per PE; ``ceil(R/PE)`` when balanced, ``R`` = largest row count).
Each cycle ``SIMD`` active inputs each feed ``PE`` weights of their row into lane-private
accumulators (per SIMD lane and PE bank a LUTRAM of ``NF`` accumulators, ping-pong); at the end
of the vector an adder tree reduces the SIMD copies, ``PE`` outputs per cycle, and thresholds
them. Cycles per vector: ``max(ceil(k/SIMD) * bank_depth, MH/PE)``. The row memory is
replicated once per SIMD lane (each lane reads an arbitrary row). The static schedule assumes
the worst case: every active input's row fills ``bank_depth`` words. With dense rows (``R =
MH``, e.g. a dense layer after a k-WTA) the walk over a row is the walk over the output folds in
order: every lane adds into the same output word in the same cycle, so there is no scatter (no
lane-private accumulators, no drain, no output addresses), only ``NF`` accumulators per PE
(``lockstep``; this is what the RTL unit ``rtl.verilog.sparse_sparse_mvu`` builds).

``operand_style`` chooses the other classic trade: ``replicated`` gives every SIMD lane
(sparse_weights) a full copy of the input vector, or every lane a private copy of all ``MH``
accumulators (sparse_sparse), so the compiler may place any non-zero on any lane: no bank
padding (``ceil(K/SIMD)`` / ``ceil(R/PE)`` words), full-width addresses, ``SIMD`` (sparse_weights)
or ``PE`` (sparse_sparse) times more LUTRAM. ``banked`` (default) is the cheaper memory with the
padded schedule. ``schedule`` builds the banked memory images and runs them cycle by cycle (the
tests check that they compute the layer exactly in the cycles counted here).

Dense limit: with ``K = MW`` (``sparse_weights``) or ``k = MW`` and ``R = MH``
(``sparse_sparse``) the unit needs no index memory, no gather and no scatter (addresses are
sequential): it *is* FINN's MVAU, and every estimate equals FINN's formula (the tests check it
against finn-plus's ``MVAU_hls``). Below the dense limit the extra terms (index bits, gather
copies, scatter accumulators) appear at once: a slightly sparse layer can cost more than the
dense one, which is why the conversion pass lets each layer choose.

Shared terms with FINN: multiplier and adder-tree LUTs per lane, accumulator width from the
dot-product length (FINN's data-type bound, with the sparse fan-in instead of ``MW``),
threshold memories and comparators, DSPs for ``resType=dsp``, BRAM18/URAM counts from the
memory's depth and width (FINN's aspect-ratio rules). FF counts are this project's model in
every mode (FINN has no FF estimate). Not modelled (as in FINN): FIFOs, width converters,
routing.

k-WTA layer (``KWinnersUnit``)
------------------------------
Integer activations stream in, ``PE`` per cycle. The winners are decided on a *rank*: a ROM of
``C x 2^A`` entries maps (channel, level) to the rank of the float score ``level * scale_c *
boost_c`` (``scale`` = the quantiser scale moved past the layer), so the hardware compares
small integers and reproduces the float reference exactly, ties included. Without boost and
with one scale the rank is the level itself (no ROM).

``global`` (1-D, or 2-D over C x H x W) is the RTL unit ``rtl.kwta_ranked`` (simulated against
the op, cycles exact; this model takes its memory list, ``units.kwta.memories``): while a frame
loads into one of three frame buffers (value and rank), each lane counts its ranks in its own
histogram (``ceil(bins/PE)`` words of ``PE`` counters: conflict-free, ``PE`` times the counters of
one shared histogram), 2-D also per (channel, level). A decide unit scans the histograms from the
top rank, ``PE`` bins per cycle (``S = ceil(bins/PE)`` cycles, clearing them), and for 2-D runs a
tie pass over the channels (``T = C/PE`` cycles) that sets each channel's quota of tied winners
(the reference admits ties in channel-major order, the stream is channels-last); the emit unit
streams the frame out with losers zeroed. Two histogram sets alternate, so a frame takes
``max(N, D, ceil((N + D + 2) / 2))`` cycles with ``N = ceil(L/PE)`` and ``D = S + T + 1``. With
boost the ROM can hold up to ``C x 2^A`` distinct ranks: the scan, not the stream, may then set
the pace. Memories of up to ``KWTA_LUTRAM_MAX_BITS`` bits are LUTRAM (ROMs: LUT logic), larger ones
go where ``ram_style`` says (``units.kwta.placement``: BRAM18, LUTRAM or URAM; the folding search
chooses). ``local`` (per position over the C channels): each group of C
values is ranked by a comparator array (``PE x C`` comparators) while the next group streams
in: ``H*W*ceil(C/PE)`` cycles.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from sparsekws.units import constants as K
from sparsekws.units.bits import clog2, index_bits
from sparsekws.units.kwta import RankedKwtaShape, memories, placement
from sparsekws.units.kwta_pairs import FRAME_COUNTS, PairsShape
from sparsekws.units.kwta_pairs import cycles as pairs_cycles

MODES = ("dense", "sparse_weights", "sparse_sparse")


def bram18_count(depth: float, width: int) -> int:
    """RAMB18 count of a ``depth`` x ``width`` memory by FINN's aspect-ratio rule (FINN-R)."""
    if depth <= 0 or width <= 0:
        return 0
    if width == 1:
        return math.ceil(depth / 16384)
    if width == 2:
        return math.ceil(depth / 8192)
    if width <= 4:
        return math.ceil(depth / 4096) * math.ceil(width / 4)
    if width <= 9:
        return math.ceil(depth / 2048) * math.ceil(width / 9)
    if width <= 18 or depth > 512:
        return math.ceil(depth / 1024) * math.ceil(width / 18)
    return math.ceil(depth / 512) * math.ceil(width / 36)


def uram_count(depth: float, width: int) -> int:
    """URAM288 count of a ``depth`` x ``width`` memory (FINN's rule: 72 bits x 4096 words)."""
    if depth <= 0 or width <= 0:
        return 0
    return math.ceil(width / K.URAM_WIDTH) * math.ceil(depth / K.URAM_DEPTH)


def lut_multiplier_luts(weight_bits: int, input_bits: int) -> int:
    """LUTs of one ``weight_bits`` x ``input_bits`` multiplier in LUTs (FINN's MVAU estimate)."""
    bits = weight_bits + input_bits
    return (2 * math.ceil(bits / 6) - 1) * bits


def lutram_luts(depth: int, width: int) -> int:
    """LUTs of a ``depth`` x ``width`` single-read-port LUTRAM (64-deep RAM64X1S per bit)."""
    return width * math.ceil(depth / K.SPARSE_LUTRAM_DEPTH) if depth > 0 and width > 0 else 0


def mux_luts(ways: int) -> int:
    """LUT6 per bit of a ``ways``:1 multiplexer (a LUT6 selects among 4, a tree of them beyond)."""
    luts, inputs = 0, ways
    while inputs > 1:
        step = math.ceil(inputs / 4)
        luts, inputs = luts + step, step
    return luts


@dataclass(frozen=True)
class MatrixUnit:
    """Shape, folding and implementation choices of one (sparse) matrix-vector unit.

    ``fan_in`` (K): stored non-zero weights per output; ``row_nnz`` (R): stored non-zero
    weights per input row; ``active_inputs`` (k): inputs delivered per vector in
    ``sparse_sparse`` mode; ``bank_depth``: words per bank of the padded schedule at this
    folding (0: a bank-balanced mask, ``ceil(K/SIMD)`` or ``ceil(R/PE)``). Attribute names follow
    FINN's MVAU where one exists.
    """

    mw: int
    mh: int
    pe: int
    simd: int
    weight_bits: int
    input_bits: int
    input_signed: bool = False
    n_vectors: int = 1
    mode: str = "dense"
    fan_in: int = 0
    row_nnz: int = 0
    active_inputs: int = 0
    bank_depth: int = 0
    operand_style: str = "banked"
    acc_bits: int = 32
    output_bits: int = 0          # 0: no thresholds (noActivation)
    res_type: str = "lut"
    mem_mode: str = "internal_decoupled"
    ram_style: str = "auto"
    ram_style_thresholds: str = "auto"

    def __post_init__(self):
        if self.mode not in MODES:
            raise ValueError(f"matrix unit mode must be one of {MODES}, got {self.mode!r}")
        if self.mh % self.pe or self.mw % self.simd:
            raise ValueError(f"PE={self.pe} must divide MH={self.mh} and SIMD={self.simd} must divide MW={self.mw}")

    # -- structure ------------------------------------------------------------------------------
    @property
    def k(self) -> int:
        """Fan-in K (sparse_weights), MW otherwise."""
        return self.fan_in if self.mode == "sparse_weights" and self.fan_in else self.mw

    @property
    def active(self) -> int:
        return self.active_inputs if self.mode == "sparse_sparse" and self.active_inputs else self.mw

    @property
    def rows(self) -> int:
        return self.row_nnz if self.mode == "sparse_sparse" and self.row_nnz else self.mh

    @property
    def dense_limit(self) -> bool:
        """True when the unit degenerates to FINN's MVAU (sequential addresses, no indices)."""
        if self.mode == "sparse_weights":
            return self.k >= self.mw
        if self.mode == "sparse_sparse":
            return self.active >= self.mw and self.rows >= self.mh
        return True

    @property
    def calibration_kind(self) -> str | None:
        """Which synthesis calibration factors apply (``units.calibration``); None in the dense limit (FINN's model)."""
        return None if self.dense_limit else self.mode

    @property
    def lockstep(self) -> bool:
        """sparse_sparse with dense rows: the lanes walk the output folds together (no scatter)."""
        return self.mode == "sparse_sparse" and not self.dense_limit and self.rows >= self.mh

    @property
    def dot_length(self) -> int:
        """Longest dot product per output (bounds the accumulator)."""
        if self.mode == "sparse_sparse":
            return min(self.active, self.fan_in or self.mw)
        return self.k

    @property
    def banked(self) -> bool:
        return self.operand_style != "replicated"

    @property
    def words(self) -> int:
        """Schedule words per output (sparse_weights) or per input row (sparse_sparse)."""
        if self.bank_depth and self.banked:
            return self.bank_depth
        if self.mode == "sparse_weights":
            return math.ceil(self.k / self.simd)
        return math.ceil(self.rows / self.pe)

    @property
    def address_bits(self) -> int:
        """Bits of the stored operand address (input word for sparse_weights, output word for sparse_sparse)."""
        if self.dense_limit or self.lockstep:
            return 0
        if self.mode == "sparse_weights":
            return index_bits(self.mw // self.simd if self.banked else self.mw)
        return index_bits(self.mh // self.pe if self.banked else self.mh)

    def weight_memory(self) -> tuple[float, int, int]:
        """(depth in words, width in bits, copies) of the weight (+ address) memory."""
        w, nf = self.weight_bits + self.address_bits, self.mh // self.pe
        if self.dense_limit:
            return self.mw * self.mh / (self.pe * self.simd), self.pe * self.simd * w, 1
        if self.mode == "sparse_weights":
            return nf * self.words, self.pe * self.simd * w, 1
        return self.mw * self.words, self.pe * w, self.simd

    # -- cycles --------------------------------------------------------------------------------
    def cycles(self) -> int:
        """Cycles per frame (all ``n_vectors`` vectors) at steady state."""
        nf, sf = self.mh // self.pe, self.mw // self.simd
        if self.dense_limit:
            return int(nf * sf * self.n_vectors)
        if self.mode == "sparse_weights":
            per_vector = max(nf * self.words, sf)
        else:
            per_vector = max(math.ceil(self.active / self.simd) * self.words, nf)
        return int(per_vector * self.n_vectors)

    # -- memories ------------------------------------------------------------------------------
    def _weights_in_lutram(self, depth: float) -> bool:
        return ((self.mem_mode == "internal_decoupled" and self.ram_style == "distributed")
                or (self.mem_mode == "internal_embedded" and depth <= K.FINN_EMBEDDED_LUTRAM_MAX_DEPTH))

    def bram18(self) -> int:
        depth, width, copies = self.weight_memory()
        if ((self.mem_mode == "internal_decoupled" and self.ram_style in ("distributed", "ultra"))
                or (self.mem_mode == "internal_embedded" and depth <= K.FINN_EMBEDDED_LUTRAM_MAX_DEPTH)
                or self.mem_mode in ("external", "external_mem")):
            return 0
        return copies * bram18_count(depth, width)

    def stored_bits(self) -> int:
        """Bits the weight (+ index) memories hold: the non-zero weights, padded as stored."""
        depth, width, copies = self.weight_memory()
        return int(math.ceil(depth) * width * copies)

    def uram(self) -> int:
        depth, width, copies = self.weight_memory()
        if ((self.mem_mode == "internal_decoupled" and self.ram_style != "ultra")
                or (self.mem_mode == "internal_embedded" and depth <= K.FINN_EMBEDDED_LUTRAM_MAX_DEPTH)
                or self.mem_mode in ("external", "external_mem")):
            return 0
        return copies * uram_count(depth, width)

    # -- logic ---------------------------------------------------------------------------------
    def accumulator_bits(self) -> int:
        """FINN's data-type bound on the accumulator, capped by the node's accumulator type."""
        w, a = self.weight_bits, self.input_bits
        alpha = math.log2(self.dot_length) + w + a - 1 - int(self.input_signed)
        return int(min(self.acc_bits, math.ceil(alpha + math.log2(1 + 2 ** -alpha) + 1)))

    def luts(self) -> int:
        p, q, w, a = self.pe, self.simd, self.weight_bits, self.input_bits
        mult = 0 if self.res_type == "dsp" else q * lut_multiplier_luts(w, a)
        adder = (w + a) * (2 * q - 1)
        acc = self.accumulator_bits()
        thr = comp = 0
        if self.output_bits and self.ram_style_thresholds == "distributed":
            levels = 2 ** self.output_bits - 1
            thr = levels * acc * math.ceil((self.mh // p) / K.FINN_LUTRAM_DEPTH)
            comp = levels * acc
        depth, width, copies = self.weight_memory()
        weights = copies * width * math.ceil(depth / K.FINN_LUTRAM_DEPTH) if self._weights_in_lutram(depth) else 0
        total = K.FINN_LUT_BASE + K.FINN_LUT_SCALE * p * (mult + adder + acc + thr + comp) + weights
        return int(total + self.sparse_extra_luts())

    def sparse_extra_luts(self) -> int:
        """LUTs the sparse unit adds to FINN's datapath (0 in the dense limit)."""
        if self.dense_limit:
            return 0
        lanes = self.pe * self.simd
        ctrl = self.pe * K.SPARSE_CTRL_LUTS_PER_PE
        if self.mode == "sparse_weights":
            depth = self.mw // self.simd if self.banked else self.mw
            gather = lanes * K.SPARSE_INPUT_BUFFERS * lutram_luts(depth, self.input_bits)
            return gather + ctrl
        acc = self.accumulator_bits()
        if self.lockstep:
            return self.pe * lutram_luts(self.mh // self.pe, acc) + ctrl
        depth = self.mh // self.pe if self.banked else self.mh
        scatter = lanes * K.SPARSE_SCATTER_BUFFERS * lutram_luts(depth, acc)
        drain = self.pe * acc * max(0, self.simd - 1)
        return scatter + drain + ctrl

    def dsps(self) -> int:
        if self.res_type != "dsp":
            return 0
        return int(self.pe * self.simd * math.ceil((self.weight_bits + self.input_bits) / K.FINN_DSP_INPUT_BITS))

    def ffs(self) -> int:
        """Flip-flops (own model): operand and accumulator registers, output, address registers."""
        p, q = self.pe, self.simd
        operands = q * (self.weight_bits + self.input_bits) * K.FF_PER_OPERAND_BIT
        per_pe = operands + self.accumulator_bits() * K.FF_PER_ACC_BIT + max(self.output_bits, 1)
        addresses = p * q * self.address_bits
        return int(K.FF_BASE + p * per_pe + addresses)

    def resources(self) -> dict[str, int | str]:
        return {"LUT": self.luts(), "FF": self.ffs(), "BRAM_18K": self.bram18(), "URAM": self.uram(),
                "DSP": self.dsps(), "model": "finn-estimate" if self.dense_limit else "sparsekws-model"}


@dataclass(frozen=True)
class KWinnersUnit:
    """Shape and folding of one k-WTA layer: ``positions`` x ``channels`` values per frame."""

    channels: int
    positions: int
    pe: int
    input_bits: int
    k: int
    mode: str = "global"
    score_bins: int = 0           # distinct scores (ranks); 0: 2^input_bits (rank = level)
    rank_table: bool = False      # True when boost/per-channel scale need the rank ROM
    ram_style: str = "block"      # where the larger memories go (units.kwta.RAM_STYLES)
    pairs: PairsShape | None = None  # the pairs output's packer (units.kwta_pairs); None: values out

    def __post_init__(self):
        if self.channels % self.pe:
            raise ValueError(f"k-WTA PE={self.pe} must divide the channel count {self.channels}")
        if self.pairs is not None:
            self.pairs.check()

    @property
    def calibration_kind(self) -> str:
        """Which synthesis calibration factors apply (``units.calibration``)."""
        return "kwta"

    @property
    def bins(self) -> int:
        return self.score_bins or 2 ** self.input_bits

    @property
    def values(self) -> int:
        return self.channels * self.positions

    @property
    def rank_bits(self) -> int:
        return index_bits(self.bins)

    def rtl_shape(self):
        """The shape of the rank-ROM unit (``units.kwta``, Verilog ``rtl.kwta_ranked``) of the global mode."""
        return RankedKwtaShape(channels=self.channels, positions=self.positions, k=min(self.k, self.values),
                               simd=self.pe, bits=self.input_bits, bins=self.bins, ram_style=self.ram_style)

    def memories(self) -> list:
        """The global unit's memories (``units.kwta.Memory``: name, depth, width, copies, rom)."""
        return memories(self.rtl_shape())

    @property
    def packer(self) -> PairsPackerUnit | None:
        """The pairs packer behind the unit (a pairs output), placed like the unit's memories."""
        return PairsPackerUnit(self.pairs, self.ram_style) if self.pairs else None

    def cycles(self) -> int:
        if self.mode == "local":
            return self.positions * (self.channels // self.pe)
        shape = self.rtl_shape()
        n, d = shape.beats, shape.decide_cycles
        values = int(max(n, d, math.ceil((n + d + 2) / 2)))
        return pairs_cycles(self.pairs, values) if self.pairs else values

    def parts(self) -> list[tuple[str, int, int]]:
        """``(calibration kind, LUT, FF)`` of the unit's parts: the k-WTA, and the packer on its own."""
        values = replace(self, pairs=None)
        packer = [(self.packer.calibration_kind, self.packer.luts(), self.packer.ffs())] if self.pairs else []
        return [(values.calibration_kind, values.luts(), values.ffs()), *packer]

    def _placed(self, kind: str) -> list:
        """The global unit's memories that ``placement`` puts in ``kind`` (lutram, bram, uram)."""
        return [m for m in self.memories() if placement(m, self.ram_style) == kind]

    def luts(self) -> int:
        compare = K.KWTA_LUTS_PER_COMPARE_BIT * self.rank_bits
        if self.mode == "local":
            rom = lutram_luts(self.channels * 2 ** self.input_bits, self.rank_bits) if self.rank_table else 0
            return int(K.KWTA_LUT_BASE + self.pe * self.channels * compare + rom)
        memories = sum(m.copies * lutram_luts(m.depth, m.width) for m in self._placed("lutram"))
        count_bits = index_bits(self.values + 1)
        scan = self.pe * (self.pe * index_bits(math.ceil(self.values / self.pe) + 1) + 2 * count_bits)
        emit = 2 * self.pe * compare  # rank > t, rank == t per lane
        ties = self.pe * 2 ** self.input_bits * compare if self.positions > 1 else 0
        packer = self.packer.luts() if self.pairs else 0
        return int(K.KWTA_LUT_BASE + memories + scan + emit + ties + packer)

    def bram18(self) -> int:
        if self.mode == "local":
            return 0
        packer = self.packer.bram18() if self.pairs else 0
        return sum(m.copies * bram18_count(m.depth, m.width) for m in self._placed("bram")) + packer

    def ffs(self) -> int:
        per_lane = self.input_bits + self.rank_bits
        if self.mode == "local":
            group = K.KWTA_GROUP_BUFFERS * self.channels * self.input_bits
            return int(K.FF_BASE + self.pe * (per_lane + index_bits(self.channels + 1)) + group)
        reads = sum(m.width * m.copies for m in self.memories())  # registered read ports
        packer = self.packer.ffs() if self.pairs else 0
        return int(K.FF_BASE + 2 * self.pe * per_lane + reads + 3 * index_bits(self.values + 1) + packer)

    def uram(self) -> int:
        if self.mode == "local":
            return 0
        packer = self.packer.uram() if self.pairs else 0
        return sum(m.copies * uram_count(m.depth, m.width) for m in self._placed("uram")) + packer

    def dsps(self) -> int:
        return 0  # comparisons and counters only

    def resources(self) -> dict[str, int | str]:
        return {"LUT": self.luts(), "FF": self.ffs(), "BRAM_18K": self.bram18(), "URAM": self.uram(),
                "DSP": self.dsps(), "model": "sparsekws-model"}


@dataclass(frozen=True)
class PairsPackerUnit:
    """The pairs packer behind a k-WTA (``units.kwta_pairs``, Verilog ``rtl.kwta_pairs``); its ring
    placed by ``units.kwta.placement`` under the k-WTA's ``ram_style``."""

    shape: PairsShape
    ram_style: str = "block"
    calibration_kind = "kwta_pairs"

    def cycles(self) -> int:
        """The packer alone: one input beat per cycle, ``out_beats`` output beats per frame."""
        return max(self.shape.beats, self.shape.out_beats)

    def _placed(self, kind: str) -> list:
        return [m for m in self.shape.memories() if placement(m, self.ram_style) == kind]

    def luts(self) -> int:
        """The lanes' prefix count and ring bank, per bank the lane select (a compare per lane) and the
        AND-OR of the lanes' pairs, the bank rows, per output lane a ``banks``:1 select; the ring's LUTRAM."""
        p = self.shape
        lanes = p.pe * (2 * clog2(p.pe + 1) + 2 * clog2(2 * p.banks))
        select = p.banks * p.pe * math.ceil((clog2(2 * p.banks) + 1) / 6)
        data = p.banks * p.pair_bits * math.ceil(p.pe / 3)
        rows = 2 * p.banks * clog2(p.depth)
        ring = sum(m.copies * lutram_luts(m.depth, m.width) for m in self._placed("lutram"))
        return int(K.KWTA_LUT_BASE + lanes + select + data + rows + p.simd * p.pair_bits * mux_luts(p.banks) + ring)

    def ffs(self) -> int:
        """Registered bank reads, pointers, counts and the frame-count FIFO."""
        p = self.shape
        counts = (FRAME_COUNTS + 2) * clog2(p.k + 1) + clog2(p.positions + 1)
        return int(K.FF_BASE + p.banks * p.pair_bits + 4 * (clog2(p.depth) + clog2(p.banks)) + counts)

    def bram18(self) -> int:
        return sum(m.copies * bram18_count(m.depth, m.width) for m in self._placed("bram"))

    def uram(self) -> int:
        return sum(m.copies * uram_count(m.depth, m.width) for m in self._placed("uram"))

    def dsps(self) -> int:
        return 0

    def resources(self) -> dict[str, int | str]:
        return {"LUT": self.luts(), "FF": self.ffs(), "BRAM_18K": self.bram18(), "URAM": self.uram(),
                "DSP": self.dsps(), "model": "sparsekws-model"}
