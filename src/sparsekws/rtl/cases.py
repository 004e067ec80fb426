"""A unit under test: its Verilog, input beats, expected output beats (from ``golden``) and the
cycle formula's cycles per frame."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from sparsekws.rtl import cycles
from sparsekws.rtl.constant_mvu import constant_mvu
from sparsekws.rtl.kwta_pairs import kwta_pairs
from sparsekws.rtl.kwta_ranked import ranked_kwta
from sparsekws.rtl.scatter_conv import pack_pair, pair_bits, scatter_conv
from sparsekws.rtl.text import pack_lanes
from sparsekws.rtl.verilog import MvuShape, dense_mvu, sparse_mvu, sparse_sparse_mvu, sparse_sparse_scatter_mvu
from sparsekws.units import golden
from sparsekws.units.bits import clog2
from sparsekws.units.kwta import RankedKwtaShape
from sparsekws.units.kwta import reference as ranked_reference
from sparsekws.units import kwta_pairs as pairs_model
from sparsekws.units.scatter_conv import ScatterConvShape, pairs_of


@dataclass
class Case:
    """Everything a simulation needs; beats are integers (lane 0 in the low bits)."""

    name: str
    verilog: str
    in_beats: list[int]
    out_beats: list[int]
    frames: int
    cycles_per_frame: int  # from the cycle formula
    shape: MvuShape | RankedKwtaShape | ScatterConvShape | pairs_model.PairsShape | None = None


def pack_frames(frames: np.ndarray, lanes: int, width: int) -> list[int]:
    """Stream beats of ``frames`` (one row per frame), ``lanes`` values of ``width`` bits per beat."""
    flat = np.asarray(frames, dtype=np.int64).reshape(len(frames), -1, lanes)
    return [pack_lanes(beat, width) for frame in flat for beat in frame]


def _thresholds(weights: np.ndarray, x: np.ndarray, obits: int, rng: np.random.Generator) -> np.ndarray:
    """Thresholds spread over the accumulators these inputs actually reach (so every output level occurs)."""
    acc = x @ weights.T
    return golden.random_thresholds(int(acc.min()), int(acc.max()) + 1, weights.shape[0], obits, rng)


def _activations(shape: MvuShape, frames: int, rng: np.random.Generator) -> np.ndarray:
    lo, hi = (-(1 << (shape.abits - 1)), (1 << (shape.abits - 1)) - 1) if shape.in_signed \
        else (0, (1 << shape.abits) - 1)
    return rng.integers(lo, hi, size=(frames, shape.cols), endpoint=True)


def mvu_case(kind: str, shape: MvuShape, rng: np.random.Generator, frames: int,
             weights: np.ndarray | None = None, thresholds: np.ndarray | None = None) -> Case:
    """A dense, constant-coefficient, sparse, sparse-sparse or sparse-sparse scatter MVU case; random fixed fan-in weights
    unless given (the scatter unit wants sparse rows: pass them, e.g. a transposed fixed fan-in matrix)."""
    if weights is None:
        weights = golden.random_fixed_fan_in(shape.rows, shape.cols, shape.fan_in or shape.cols,
                                             shape.wbits, rng)
    x = _activations(shape, frames, rng)
    if kind in ("sparse_sparse", "sparse_sparse_scatter"):
        x = golden.kwta(x, shape.active)  # inputs as a k-WTA delivers them
    if thresholds is None:
        thresholds = _thresholds(weights, x, shape.obits, rng)
    y = golden.mvu(x, weights, thresholds)
    name = f"{kind}_mvu_{shape.rows}x{shape.cols}"
    if kind in ("dense", "constant"):
        generator = dense_mvu if kind == "dense" else constant_mvu
        text, beats = generator(name, shape, weights, thresholds), pack_frames(x, shape.simd, shape.abits)
        model = cycles.dense_mvu(shape)
    elif kind == "sparse":
        indices, values = golden.to_fixed_fan_in(weights, shape.fan_in)
        if not np.array_equal(golden.sparse_mvu(x, indices, values, thresholds), y):
            raise AssertionError("sparse golden model disagrees with the dense one")
        if not shape.bank_depth:
            shape = replace(shape, bank_depth=golden.bank_depth(weights, shape.simd))
        text = sparse_mvu(name, shape, weights, thresholds)
        beats = pack_frames(x, shape.simd, shape.abits)
        model = cycles.sparse_mvu(shape)
    elif kind in ("sparse_sparse", "sparse_sparse_scatter"):
        indices, values = golden.active_pairs(x, shape.active)
        if not np.array_equal(golden.sparse_sparse_mvu(indices, values, weights, thresholds), y):
            raise AssertionError("sparse-sparse golden model disagrees with the dense one")
        pairs = (indices << shape.abits) | (values & ((1 << shape.abits) - 1))
        beats = pack_frames(pairs, shape.simd, clog2(shape.cols) + shape.abits)
        if kind == "sparse_sparse":
            text, model = sparse_sparse_mvu(name, shape, weights, thresholds), cycles.sparse_sparse_mvu(shape)
        else:
            if not shape.bank_depth:  # rows banked by output j mod PE
                shape = replace(shape, bank_depth=golden.bank_depth(weights.T, shape.pe))
            text = sparse_sparse_scatter_mvu(name, shape, weights, thresholds)
            model = cycles.sparse_sparse_scatter_mvu(shape)
    else:
        raise ValueError(f"unknown MVU kind {kind!r}: dense, constant, sparse, sparse_sparse or sparse_sparse_scatter")
    return Case(name, text, beats, pack_frames(y, shape.pe, shape.obits), frames, model, shape)


def kwta_inputs(shape: RankedKwtaShape, rng: np.random.Generator, frames: int, levels: int = 0) -> np.ndarray:
    """Random k-WTA input frames ``[frames, P*C]`` (the lowest ``levels`` levels only when given, so
    that ties are common)."""
    lo = -(1 << (shape.bits - 1)) if shape.signed else 0
    return lo + rng.integers(0, levels or shape.levels, size=(frames, shape.values))


def ranked_kwta_case(shape: RankedKwtaShape, rank_table: np.ndarray, rng: np.random.Generator, frames: int,
                     x: np.ndarray | None = None, levels: int = 0) -> Case:
    """A rank-ROM k-WTA case over ``frames`` frames (``x`` [frames, P*C], channels last, or ``kwta_inputs``)."""
    x = kwta_inputs(shape, rng, frames, levels) if x is None else x
    y = ranked_reference(x, shape, rank_table)
    name = f"ranked_kwta_{shape.positions}x{shape.channels}_k{shape.k}"
    return Case(name, ranked_kwta(name, shape, rank_table), pack_frames(x, shape.simd, shape.bits),
                pack_frames(y, shape.simd, shape.bits), frames, cycles.ranked_kwta(shape), shape)


def kwta_pairs_case(shape: RankedKwtaShape, rank_table: np.ndarray, pairs: pairs_model.PairsShape,
                    rng: np.random.Generator, frames: int, x: np.ndarray | None = None, levels: int = 0) -> Case:
    """A k-WTA with the pairs output (``rtl.kwta_pairs``): inputs as ``ranked_kwta_case``, outputs the
    winners' pairs (``units.kwta_pairs.reference``), ``pairs.simd`` per beat."""
    x = kwta_inputs(shape, rng, frames, levels) if x is None else x
    winners = pairs_model.reference(ranked_reference(x, shape, rank_table), pairs)
    layout = pairs_model.pair_layout(pairs.height, pairs.width, pairs.channels, pairs.bits)
    packed = np.array([[pairs_model.pack_pair(layout, *pair) for pair in frame] for frame in winners])
    name = f"kwta_pairs_{shape.positions}x{shape.channels}_k{shape.k}_s{pairs.simd}"
    return Case(name, kwta_pairs(name, shape, rank_table, pairs), pack_frames(x, shape.simd, shape.bits),
                pack_frames(packed, pairs.simd, pairs.pair_bits), len(x),
                pairs_model.cycles(pairs, cycles.ranked_kwta(shape)), pairs)


def scatter_conv_case(shape: ScatterConvShape, weights: np.ndarray, rng: np.random.Generator, frames: int,
                      maps: np.ndarray | None = None, thresholds: np.ndarray | None = None) -> Case:
    """A scatter-convolution case: ``maps`` ``[frames, H, W, C]`` (channels last) or random levels after a
    k-WTA of ``shape.active``; thresholds spread over the accumulators reached unless given."""
    if maps is None:
        levels = rng.integers(0, 1 << shape.abits, size=(frames, shape.height * shape.width * shape.channels))
        maps = golden.kwta(levels, shape.active).reshape(frames, shape.height, shape.width, shape.channels)
    acc = golden.conv2d(maps, weights)
    if thresholds is None:
        thresholds = golden.random_thresholds(int(acc.min()), int(acc.max()) + 1, shape.outputs, shape.obits, rng)
    y = golden.threshold(acc, thresholds).reshape(len(maps), -1)
    pairs = [[pack_pair(shape, *pair) for pair in frame] for frame in pairs_of(maps, shape.active)]
    name = f"scatter_conv_{shape.height}x{shape.width}x{shape.channels}_k{shape.active}"
    return Case(name, scatter_conv(name, shape, weights, thresholds), pack_frames(np.array(pairs), shape.simd,
                                                                                  pair_bits(shape)),
                pack_frames(y, shape.pe, shape.obits), len(maps), shape.cycles(), shape)
