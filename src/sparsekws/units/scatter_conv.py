"""Scatter convolution: a convolution that consumes only the k-WTA winners of its input map.

A k-WTA before a convolution leaves ``k`` of the ``H x W x C`` input values non-zero (k fixed by
design). The unit takes them as (row ``y``, column ``x``, channel ``c``, value) pairs, ``SIMD``
per beat, ``k / SIMD`` beats per frame, and scatters each into the output accumulators it
touches: for every kernel offset ``(dy, dx)`` the output ``(y - dy, x - dx)`` (where it exists)
of every output channel ``o`` with a non-zero ``W[o, c, dy, dx]``. Its cycles are set by ``k``,
not by the input size; the whole frame of output accumulators is drained afterwards.

Layout (what the RTL ``rtl.scatter_conv`` builds and ``run`` executes step by step):

- **row memories**, one per kernel offset: the non-zeros of the input row ``(dy, dx, c)`` banked
  by output channel (PE lane ``p`` takes the outputs ``o mod PE = p``), each stored with its
  output word ``o // PE``, padded to the fullest bank: ``bank_depth`` steps per pair. With
  complementary kernels (``models.sparse_weights``, packs of ``M / PE`` outputs with disjoint
  non-zeros) a row has at most one non-zero per bank: one step.
- **accumulators**, banked by output position ``(oy mod K, ox mod K)``: the ``K x K`` offsets of
  one pair land in ``K x K`` different position banks, so a pair updates all its offsets in one
  step; position bank ``(by, bx)`` takes offset ``((y - by) mod K, (x - bx) mod K)`` (a rotation
  of the row words by ``y mod K`` and ``x mod K``). Per SIMD lane, position bank and PE lane two
  ping-pong copies of ``ceil(OH/K) * ceil(OW/K) * M/PE`` words (lane-private, so lanes never
  collide; summed at the drain).
- **drain**: outputs leave pixel by pixel (channels last, ``PE`` channels per beat, thresholded),
  ``OH * OW * M / PE`` beats, while the next frame scatters into the other copy.

Cycles per frame: ``max(k/SIMD * bank_depth, OH * OW * M/PE)``; the static schedule assumes the
worst case (every pair's rows fill ``bank_depth`` steps; winners on the border skip offsets
without saving cycles). The resource model counts the unit's primitives (``constants``);
``units.calibration`` holds its Yosys factor (kind ``scatter_conv``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparsekws.units import constants as K
from sparsekws.units.bits import index_bits
from sparsekws.units.cost import lut_multiplier_luts, lutram_luts, mux_luts
from sparsekws.units.schedule import sparse_sparse_image


@dataclass(frozen=True)
class ScatterConvShape:
    """Shape, folding and bit widths of a scatter convolution (input map ``height x width x channels``).

    ``active``: pairs per frame (the k-WTA's k, a multiple of ``simd``); ``fan_in``: most non-zero
    weights of one output channel (bounds the accumulator); ``bank_depth``: steps per pair;
    ``res_type``: the products in DSP slices, two per slice (``dsp``), or in LUTs (``lut``).
    """

    channels: int
    height: int
    width: int
    kernel: int
    outputs: int
    active: int
    pe: int
    simd: int
    wbits: int
    abits: int
    obits: int
    fan_in: int
    bank_depth: int = 1
    in_signed: bool = False
    res_type: str = "dsp"

    def __post_init__(self):
        if self.res_type not in ("dsp", "lut"):
            raise ValueError(f"scatter conv: res_type must be dsp or lut, got {self.res_type!r}")
        if self.outputs % self.pe:
            raise ValueError(f"scatter conv: PE={self.pe} must divide the {self.outputs} output channels")
        if self.active % self.simd:
            raise ValueError(f"scatter conv: SIMD={self.simd} must divide the {self.active} active inputs per frame")
        if self.kernel > min(self.height, self.width):
            raise ValueError(f"scatter conv: kernel {self.kernel} larger than the {self.height}x{self.width} input")

    @property
    def out_height(self) -> int:
        return self.height - self.kernel + 1

    @property
    def out_width(self) -> int:
        return self.width - self.kernel + 1

    @property
    def nf(self) -> int:
        """Output words per pixel (``M / PE``)."""
        return self.outputs // self.pe

    @property
    def offsets(self) -> int:
        return self.kernel * self.kernel

    @property
    def blocks(self) -> tuple[int, int]:
        """Output positions per position bank along rows and columns (``ceil(OH/K)``, ``ceil(OW/K)``)."""
        return math.ceil(self.out_height / self.kernel), math.ceil(self.out_width / self.kernel)

    @property
    def acc_words(self) -> int:
        """Words of one accumulator copy (per SIMD lane, position bank and PE lane)."""
        rows, cols = self.blocks
        return rows * cols * self.nf

    @property
    def beats(self) -> int:
        return self.active // self.simd

    @property
    def drain_beats(self) -> int:
        return self.out_height * self.out_width * self.nf

    @property
    def acc_bits(self) -> int:
        """Signed accumulator width with one spare bit (as ``rtl.verilog.MvuShape``)."""
        amax = (1 << (self.abits - 1)) if self.in_signed else (1 << self.abits) - 1
        return (self.fan_in * (1 << (self.wbits - 1)) * amax).bit_length() + 2

    @property
    def word_bits(self) -> int:
        """Bits of one PE lane of a row word: the output word address and the weight."""
        return index_bits(self.nf) + self.wbits

    def cycles(self) -> int:
        """Cycles per frame at steady state (input always valid, output always ready)."""
        return max(self.beats * self.bank_depth, self.drain_beats)

    # -- resources (first-principles primitive counts; calibrated in ``units.calibration``) ----------
    @property
    def calibration_kind(self) -> str:
        """The DSP and the LUT-multiplier units are calibrated apart (each on its own Yosys rows)."""
        return "scatter_conv" if self.res_type == "dsp" else "scatter_conv_lut"

    def luts(self) -> int:
        """Row ROMs, rotation, per lane the shared adder, the copy select and two copies of data and
        valid LUTRAM with their address select, the drain's bank select, lane sum and thresholds."""
        acc, lanes = self.acc_bits, self.simd * self.offsets * self.pe
        words = self.acc_words
        per_lane = acc + acc + K.SPARSE_SCATTER_BUFFERS * (lutram_luts(words, acc) + lutram_luts(words, 1) + index_bits(words))
        rom = self.simd * self.offsets * lutram_luts(self.channels * self.bank_depth, self.pe * self.word_bits)
        rotate = self.simd * 2 * self.offsets * self.pe * self.word_bits * mux_luts(self.kernel)
        positions = self.simd * self.offsets * K.SCATTER_POSITION_LUTS
        levels = (1 << self.obits) - 1
        drain = (self.simd * self.pe * acc * (K.SPARSE_SCATTER_BUFFERS * mux_luts(self.offsets) + 1)
                 + self.pe * acc * (self.simd - 1) + self.pe * (levels * acc // 2 + lutram_luts(self.nf, levels * acc)))
        return int(K.FINN_LUT_BASE + lanes * per_lane + rom + rotate + positions + drain + self.product_luts())

    @property
    def packed_pairs(self) -> int:
        """Pairs of PE lanes whose two products share one DSP slice (``rtl.scatter_conv.packed_products``)."""
        return self.simd * self.offsets * (self.pe // 2) if self.res_type == "dsp" else 0

    def product_luts(self) -> int:
        """LUT multipliers (``lut``), or per packed pair the weight packing and the high product's borrow."""
        if self.res_type == "lut":
            return self.simd * self.offsets * self.pe * lut_multiplier_luts(self.wbits, self.abits)
        shift = self.wbits + self.abits + 1
        return self.packed_pairs * ((self.wbits + shift + 1) + (self.wbits + self.abits + 2))

    def ffs(self) -> int:
        """Registered row words and position tables per lane, the held pair, the drain's sums and output."""
        pair = index_bits(self.height) + index_bits(self.width) + index_bits(self.channels) + self.abits
        rows = self.simd * self.offsets * self.pe * self.word_bits
        tables = self.simd * 2 * self.kernel * (1 + index_bits(self.kernel) + index_bits(max(self.blocks)))
        drain = self.pe * (self.acc_bits + self.obits)
        return int(K.FF_BASE + self.simd * 2 * pair + rows + tables + drain)

    def bram18(self) -> int:
        return 0  # row ROMs and accumulators are LUT memories (shallow: at most C x bank_depth words)

    def uram(self) -> int:
        return 0

    def dsps(self) -> int:
        """One DSP slice per two PE lanes (two products packed, one left over at an odd PE); none in LUTs."""
        return self.simd * self.offsets * math.ceil(self.pe / 2) if self.res_type == "dsp" else 0

    def resources(self) -> dict[str, int | str]:
        return {"LUT": self.luts(), "FF": self.ffs(), "BRAM_18K": self.bram18(), "URAM": self.uram(),
                "DSP": self.dsps(), "model": "sparsekws-model"}


def conv_rows(weights: np.ndarray) -> np.ndarray:
    """Torch-layout weights ``[M, C, K, K]`` as input rows ``[K, K, C, M]`` (row ``(dy, dx, c)``)."""
    return np.asarray(weights).transpose(2, 3, 1, 0)


def bank_depth(weights: np.ndarray, pe: int) -> int:
    """Steps per pair: the most non-zeros of one input row among the outputs ``o mod PE = p``."""
    rows = conv_rows(weights)
    nonzero = (rows != 0).reshape(-1, rows.shape[-1] // pe, pe).sum(axis=1)
    return int(max(1, nonzero.max(initial=0)))


def row_image(weights: np.ndarray, pe: int, depth: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Row memories: ``(output word, weight)``, each ``[K*K, C, depth, PE]`` (offset ``dy*K + dx``),
    padded with word 0, weight 0 to ``depth`` steps (default: the weights' own bank depth)."""
    rows = conv_rows(weights)
    k, _, channels, outputs = rows.shape
    word, value = sparse_sparse_image(rows.reshape(-1, outputs), pe)  # [K*K*C, steps, PE]
    steps = max(depth, word.shape[1])
    pad = ((0, 0), (0, steps - word.shape[1]), (0, 0))
    shape = (k * k, channels, steps, pe)
    return np.pad(word, pad).reshape(shape), np.pad(value, pad).reshape(shape)


def pairs_of(frames: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` pairs per frame ``[N, k, 4]`` = (y, x, c, value) of maps ``[N, H, W, C]`` (channels
    last) with at most ``k`` non-zeros each: non-zeros in stream order, padded with zero values."""
    frames = np.asarray(frames, dtype=np.int64)
    n, height, width, channels = frames.shape
    flat = frames.reshape(n, -1)
    out = np.zeros((n, k, 4), dtype=np.int64)
    for f, frame in enumerate(flat):
        index = np.flatnonzero(frame)
        if index.size > k:
            raise ValueError(f"frame {f} has {index.size} non-zeros, more than k = {k}")
        index = np.concatenate([index, np.setdiff1d(np.arange(frame.size), index)[: k - index.size]])
        index.sort()
        y, rest = np.divmod(index, width * channels)
        out[f] = np.stack([y, rest // channels, rest % channels, frame[index]], axis=1)
    return out


def run(image: tuple[np.ndarray, np.ndarray], shape: ScatterConvShape, pairs: np.ndarray) -> tuple[np.ndarray, int]:
    """Execute the schedule on one frame's pairs ``[k, 4]``: (accumulators ``[OH, OW, M]``, cycles).

    Follows the hardware: per beat and step, every SIMD lane's pair updates each position bank
    ``(by, bx)`` through offset ``((y - by) mod K, (x - bx) mod K)``, into lane-private accumulators.
    """
    word, value = image
    kk, pe, s = shape.kernel, shape.pe, shape.simd
    rows, cols = shape.blocks
    lanes = np.zeros((s, kk, kk, rows * cols * shape.nf, pe), dtype=np.int64)  # [lane, by, bx, address, PE]
    steps = word.shape[2]
    cycles = 0
    for beat in range(shape.beats):
        for step in range(steps):
            for lane, (y, x, c, v) in enumerate(pairs[beat * s:(beat + 1) * s]):
                for by in range(kk):
                    dy = (y - by) % kk
                    oy = y - dy
                    for bx in range(kk):
                        dx = (x - bx) % kk
                        ox = x - dx
                        if not (0 <= oy < shape.out_height and 0 <= ox < shape.out_width):
                            continue
                        offset = dy * kk + dx
                        address = ((oy // kk) * cols + ox // kk) * shape.nf + word[offset, c, step]
                        lanes[lane, by, bx, address, np.arange(pe)] += v * value[offset, c, step]
            cycles += 1
    total = lanes.sum(axis=0)
    acc = np.zeros((shape.out_height, shape.out_width, shape.outputs), dtype=np.int64)
    for oy in range(shape.out_height):
        for ox in range(shape.out_width):
            base = ((oy // kk) * cols + ox // kk) * shape.nf
            acc[oy, ox] = total[oy % kk, ox % kk, base:base + shape.nf].reshape(-1)  # o = word*PE + p
    return acc, max(cycles, shape.drain_beats)
