"""The rank-ROM k-WTA unit as plain data: its shape, memories, rank codes and output semantics.

The Verilog of the unit is ``rtl.kwta_ranked``; the compile stage's cost model
(``cost.KWinnersUnit``) counts its cycles and these memories. Frames of ``positions`` x
``channels`` values stream in channels-last, ``simd`` per beat; winners are decided on ranks
(``ranking``), ties admitted in the reference's channel-major order.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparsekws.units import constants as K
from sparsekws.units.bits import clog2
from sparsekws.units.ranking import select_winners


def slot_bits(simd: int) -> int:
    """Bits of a counter slot within a histogram word of ``simd`` counters."""
    return clog2(simd) if simd > 1 else 0


FRAME_BUFFERS = 3
HISTOGRAM_SETS = 2
#: Where the unit's larger memories go (FINN's ``ram_style`` names: BRAM, LUTRAM, URAM), and
#: ``split``: the first rank-histogram set in URAM, the rest as ``block`` (both kinds of RAM in use).
RAM_STYLES = ("block", "distributed", "ultra", "split")


@dataclass(frozen=True)
class RankedKwtaShape:
    """k-WTA over frames of ``positions`` x ``channels`` values (channels last), ``simd`` per beat.

    ``bins``: distinct ranks of the rank ROM (``rank_table.max() + 1``); 0 means ``2^bits``.
    ``ram_style``: where memories over ``KWTA_LUTRAM_MAX_BITS`` go (``placement``).
    """

    channels: int
    positions: int
    k: int
    simd: int
    bits: int
    signed: bool = False
    bins: int = 0
    ram_style: str = "block"

    @property
    def values(self) -> int:
        return self.channels * self.positions

    @property
    def levels(self) -> int:
        return 1 << self.bits

    @property
    def rank_bins(self) -> int:
        return self.bins or self.levels

    @property
    def beats(self) -> int:
        """N: beats per frame."""
        return self.values // self.simd

    @property
    def channel_beats(self) -> int:
        """C/PE: beats per position."""
        return self.channels // self.simd

    @property
    def scan_words(self) -> int:
        """S: histogram words per lane, scanned one per cycle."""
        return math.ceil(self.rank_bins / self.simd)

    @property
    def tie_words(self) -> int:
        """T: tie-pass cycles (2-D only)."""
        return self.channel_beats if self.positions > 1 else 0

    @property
    def decide_cycles(self) -> int:
        """D: cycles of the decide unit per frame."""
        return self.scan_words + self.tie_words + 1

    @property
    def frame_depth(self) -> int:
        """Frame buffer words: ``FRAME_BUFFERS`` frames of N beats."""
        return FRAME_BUFFERS * self.beats

    @property
    def rank_code_bits(self) -> int:
        """Bits of a rank code: histogram word above counter slot (``rank_codes``)."""
        return clog2(self.scan_words) + slot_bits(self.simd)

    @property
    def rank_count_bits(self) -> int:
        """Bits of one lane's count of one rank."""
        return clog2(self.beats + 1)

    @property
    def level_count_bits(self) -> int:
        """Bits of one channel's count of one level (2-D)."""
        return clog2(self.positions + 1)

    @property
    def frame_count_bits(self) -> int:
        """Bits of a count over the frame."""
        return clog2(self.values + 1)

    def check(self) -> None:
        if self.channels < 1 or self.positions < 1 or self.simd < 1 or self.bits < 1:
            raise ValueError(f"ranked_kwta: channels, positions, simd and bits must be >= 1, got {self}")
        if self.channels % self.simd:
            raise ValueError(f"ranked_kwta: SIMD={self.simd} must divide the channel count {self.channels}")
        if not 1 <= self.k <= self.values:
            raise ValueError(f"ranked_kwta: k={self.k} must be in 1..{self.values}")
        if self.ram_style not in RAM_STYLES:
            raise ValueError(f"ranked_kwta: ram_style must be one of {RAM_STYLES}, got {self.ram_style!r}")


def rank_codes(ranks: np.ndarray, simd: int) -> np.ndarray:
    """Rank code of the hardware: histogram word ``rank // simd`` above counter ``rank % simd``."""
    ranks = np.asarray(ranks, dtype=np.int64)
    return ((ranks // simd) << slot_bits(simd)) | (ranks % simd)


def check_rank_table(shape: RankedKwtaShape, rank_table) -> np.ndarray:
    """The rank ROM ``[C, 2^bits]`` as int64 (level index = level - min level), checked against ``shape``."""
    table = np.asarray(rank_table, dtype=np.int64)
    if table.shape != (shape.channels, shape.levels):
        raise ValueError(f"ranked_kwta: rank_table must have shape {(shape.channels, shape.levels)} "
                         f"(channels x 2^bits levels, index = level - min level), got {table.shape}")
    if table.min() < 0 or table.max() >= shape.rank_bins:
        raise ValueError(f"ranked_kwta: ranks must lie in 0..{shape.rank_bins - 1} (shape.bins), "
                         f"got {table.min()}..{table.max()}")
    return table


def reference(x: np.ndarray, shape: RankedKwtaShape, rank_table) -> np.ndarray:
    """What the unit outputs for frames ``x`` ``[n, P*C]`` (channels last): the ``KWinnersHW`` semantics,
    winners by rank (``select_winners``), ties admitted in channel-major order, losers 0."""
    table = check_rank_table(shape, rank_table)
    x = np.asarray(x, dtype=np.int64).reshape(-1, shape.positions, shape.channels)
    low = -(1 << (shape.bits - 1)) if shape.signed else 0
    ranks = table[np.arange(shape.channels), x - low]
    channel_major = ranks.transpose(0, 2, 1).reshape(len(x), -1)
    mask = select_winners(channel_major, shape.k).reshape(len(x), shape.channels, shape.positions)
    return np.where(mask.transpose(0, 2, 1), x, 0).reshape(len(x), -1)


@dataclass(frozen=True)
class Memory:
    """One memory of the unit: ``copies`` memories of ``depth`` words x ``width`` bits (names ``name``)."""

    name: str
    depth: int
    width: int
    copies: int
    rom: bool = False


def placement(memory: Memory, ram_style: str) -> str:
    """Where ``memory`` goes: ``lutram`` up to ``KWTA_LUTRAM_MAX_BITS`` bits or with ``ram_style``
    distributed; else ``uram`` with ram_style ultra (ROMs excepted: URAM has no initial contents) or,
    with ``split``, for the first histogram set; else ``bram``."""
    if ram_style == "distributed" or memory.depth * memory.width <= K.KWTA_LUTRAM_MAX_BITS:
        return "lutram"
    if memory.rom:
        return "bram"
    return "uram" if ram_style == "ultra" or (ram_style == "split" and memory.name.startswith("hist0")) else "bram"


def memories(shape: RankedKwtaShape) -> list[Memory]:
    """The unit's memories (for the resource model); ``<s>`` = lane, ``<h>`` = histogram set."""
    pe, cb, lv, rb = shape.simd, shape.channel_beats, shape.levels, shape.rank_code_bits
    out = [Memory("rom<s>", cb * lv, rb, pe, rom=True),
           Memory("fbuf", shape.frame_depth, pe * (rb + shape.bits), 1),
           *(Memory(f"hist{h}_<s>", shape.scan_words, pe * shape.rank_count_bits, pe) for h in range(HISTOGRAM_SETS)),
           Memory("thr", FRAME_BUFFERS, rb, 1)]
    if shape.positions > 1:
        cw = shape.level_count_bits
        out += [Memory("row<s>", cb, lv * rb, pe, rom=True),
                Memory("lcnt<h>_<s>", cb, lv * cw, HISTOGRAM_SETS * pe),
                Memory("allow<s>", FRAME_BUFFERS << clog2(cb), cw, pe),
                Memory("seen<s>", cb, cw, pe)]
    else:
        out.append(Memory("take", FRAME_BUFFERS, shape.frame_count_bits, 1))
    return out
