"""The k-WTA's pairs output: the winners of a frame as (y, x, c, value) pairs, ``simd`` per beat.

A scatter convolution (``units.scatter_conv``) takes only the winners of the k-WTA before it. The
k-WTA unit (``units.kwta``) streams its frame ``PE`` values per beat with the losers zeroed; the
pairs packer behind it (Verilog ``rtl.kwta_pairs``) compacts each beat's non-zeros into a ring of
``banks`` memories (a beat's non-zeros go to consecutive ring positions, so to distinct banks) and
reads ``simd`` consecutive positions per output beat. A frame leaves as exactly ``ceil(k / simd)``
beats: its non-zeros in stream order, then zero pairs (y = x = c = value = 0) to the last beat's end. A winner
of value 0 adds nothing to a convolution, so it travels as padding.

How many non-zeros a beat holds depends on the data; the ring absorbs the bursts. With the
default capacity (``ring_capacity``) neither side waits on the other for lack of ring space or
pairs at steady state: the unit then takes ``max(values unit cycles, ceil(k / simd))`` cycles per frame
(``cycles``), whatever the data; the simulation measures every frame's interval over the test
frames (mean, worst) to show it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparsekws.units.bits import clog2
from sparsekws.units.kwta import Memory, RankedKwtaShape

FRAME_COUNTS = 4  # frames whose non-zero count the packer holds (written, not yet read out)


def pair_layout(height: int, width: int, channels: int, abits: int) -> list[tuple[str, int, int]]:
    """``(field, low bit, width)`` of one pair: value, channel, column, row (value in the low bits); a
    1-D frame (1 x 1 x C) has no column or row: its pairs are ``index << abits | value``."""
    fields, low = [], 0
    for name, size in (("v", 1 << abits), ("c", channels), ("x", width), ("y", height)):
        if size > 1 or name == "v":
            fields.append((name, low, clog2(size)))
            low += clog2(size)
    return fields


def pack_pair(layout: list[tuple[str, int, int]], y: int, x: int, c: int, value: int) -> int:
    fields = {"y": y, "x": x, "c": c, "v": value}  # a field the layout lacks is 0
    return sum((int(fields[name]) & ((1 << bits) - 1)) << low for name, low, bits in layout)


@dataclass(frozen=True)
class PairsShape:
    """Packer of frames ``height x width x channels`` (channels last, ``pe`` values of ``bits`` per
    input beat, at most ``k`` non-zero) into ``simd`` pairs per output beat; ``capacity``: ring
    positions (0: ``ring_capacity``)."""

    height: int
    width: int
    channels: int
    pe: int
    simd: int
    k: int
    bits: int
    capacity: int = 0

    def check(self) -> None:
        if self.channels % self.pe:
            raise ValueError(f"k-WTA pairs: PE={self.pe} must divide the channel count {self.channels}")
        if self.simd < 1:
            raise ValueError(f"k-WTA pairs: pairs per beat must be >= 1, got {self.simd}")
        if not 1 <= self.k <= self.values:
            raise ValueError(f"k-WTA pairs: k={self.k} must be in 1..{self.values}")
        if self.positions < self.banks + self.pe:
            raise ValueError(f"k-WTA pairs: a ring of {self.positions} positions is under banks + PE = "
                             f"{self.banks + self.pe}")

    @property
    def values(self) -> int:
        return self.height * self.width * self.channels

    @property
    def beats(self) -> int:
        """Input beats per frame."""
        return self.values // self.pe

    @property
    def out_beats(self) -> int:
        """Output beats per frame: k pairs, padded to whole beats."""
        return math.ceil(self.k / self.simd)

    @property
    def banks(self) -> int:
        """Ring memories: a beat writes up to PE of them, an output beat reads SIMD."""
        return max(self.pe, self.simd)

    @property
    def depth(self) -> int:
        """Words per bank."""
        return math.ceil((self.capacity or ring_capacity(self)) / self.banks)

    @property
    def positions(self) -> int:
        return self.depth * self.banks

    @property
    def pair_bits(self) -> int:
        return sum(bits for _, _, bits in pair_layout(self.height, self.width, self.channels, self.bits))

    def memories(self) -> list[Memory]:
        return [Memory("ring<b>", self.depth, self.pair_bits, self.banks)]


def pairs_shape(shape: RankedKwtaShape, height: int, width: int, simd: int, capacity: int = 0) -> PairsShape:
    """The packer behind the k-WTA unit ``shape`` (its ``positions`` = ``height x width``)."""
    if height * width != shape.positions:
        raise ValueError(f"k-WTA pairs: {height}x{width} positions, the k-WTA has {shape.positions}")
    return PairsShape(height=height, width=width, channels=shape.channels, pe=shape.simd, simd=simd, k=shape.k,
                      bits=shape.bits, capacity=capacity)


def ring_capacity(shape: PairsShape) -> int:
    """Ring positions that keep both sides going at steady state: the reader never waits through a
    frame without non-zeros (``simd x beats`` pairs in the ring when they are the bottleneck), the
    writer never waits through two frames' worth of non-zeros in a burst (``2k``); plus a beat of
    slack on each side."""
    return max(shape.simd * shape.beats, 2 * shape.k) + 2 * shape.banks


def cycles(shape: PairsShape, values_cycles: int) -> int:
    """Cycles per frame at steady state behind a values unit of ``values_cycles`` per frame."""
    return max(values_cycles, shape.out_beats)


def reference(frames: np.ndarray, shape: PairsShape) -> np.ndarray:
    """The pairs ``[n, out_beats x simd, 4]`` = (y, x, c, value) the packer sends for ``frames``
    ``[n, H*W*C]`` (channels last, losers zero): the non-zeros in stream order, then zero pairs."""
    frames = np.asarray(frames, dtype=np.int64).reshape(-1, shape.values)
    out = np.zeros((len(frames), shape.out_beats * shape.simd, 4), dtype=np.int64)
    for f, frame in enumerate(frames):
        index = np.flatnonzero(frame)
        if index.size > shape.k:
            raise ValueError(f"k-WTA pairs: frame {f} has {index.size} non-zeros, more than k = {shape.k}")
        pixel, c = np.divmod(index, shape.channels)
        y, x = np.divmod(pixel, shape.width)
        out[f, : index.size] = np.stack([y, x, c, frame[index]], axis=1)
    return out
