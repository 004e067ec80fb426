"""Scatter convolution RTL: exact outputs under back-pressure at the modelled cycles, lint and synthesis."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsekws.models.sparse_weights import SparseWeights
from sparsekws.rtl import cases
from sparsekws.rtl.scatter_conv import pack_pair, pair_fields, scatter_conv
from sparsekws.units import scatter_conv as sc
from support.rtl_sim import simulate_or_skip

FRAMES = 4


def _weights(outputs, channels, kernel, density, seed, kernels=1, wbits=4):
    conv = SparseWeights(torch.nn.Conv2d(channels, outputs, kernel, bias=False), density, seed=seed, kernels=kernels)
    rng = np.random.default_rng(seed)
    lo = 1 << (wbits - 1)
    values = rng.integers(-lo, lo, size=conv.mask.shape)
    values[values == 0] = 1
    return values * conv.mask.numpy().astype(np.int64)


def _shape(weights, height, width, active, pe, simd, obits=2, abits=3):
    outputs, channels, kernel, _ = weights.shape
    return sc.ScatterConvShape(channels=channels, height=height, width=width, kernel=kernel, outputs=outputs,
                               active=active, pe=pe, simd=simd, wbits=4, abits=abits, obits=obits,
                               fan_in=int((weights != 0).reshape(outputs, -1).sum(axis=1).max()),
                               bank_depth=sc.bank_depth(weights, pe))


@pytest.mark.parametrize("height, width, kernel, outputs, active, pe, simd, kernels", [
    (7, 6, 3, 8, 12, 4, 1, 2),    # complementary packs: one step per pair; scatter-bound (12 > 4x5x2 / ...)
    (6, 6, 3, 4, 16, 2, 2, 1),    # random masks: bank depth > 1, two lanes
    (8, 7, 5, 4, 6, 4, 1, 1),     # drain-bound (12 output pixels), NF = 1, K = 5 (the CNN's kernel)
], ids=["packed", "two_lanes", "drain_bound"])
def test_scatter_conv_is_exact_at_the_modelled_cycles(height, width, kernel, outputs, active, pe, simd, kernels,
                                                      tmp_path):
    weights = _weights(outputs, 3, kernel, 0.3, seed=height, kernels=kernels)
    shape = _shape(weights, height, width, active, pe, simd)
    case = cases.scatter_conv_case(shape, weights, np.random.default_rng(kernel), FRAMES)
    result = simulate_or_skip(case, tmp_path, seed=pe)
    assert result.passed, result.first_mismatch
    assert result.beats_checked == 2 * FRAMES * shape.drain_beats
    assert result.cycles_per_frame_sim == case.cycles_per_frame == shape.cycles()


def test_packed_products_are_exact_at_the_extreme_weights_and_activations(tmp_path):
    """Two products per DSP: every weight -8 or 7 and 4-bit activations up to 15 (the borrow of a
    negative low product into the high one)."""
    weights = _weights(8, 3, 3, 0.4, seed=11, kernels=2)
    weights = np.where(weights != 0, np.where(weights > 0, 7, -8), 0)
    shape = _shape(weights, 6, 6, 8, 4, 1, abits=4)
    assert '_pk * ' in scatter_conv("unit", shape, weights, np.zeros((8, 3), dtype=int))
    case = cases.scatter_conv_case(shape, weights, np.random.default_rng(11), FRAMES)
    result = simulate_or_skip(case, tmp_path, seed=11)
    assert result.passed, result.first_mismatch


def test_products_in_luts_are_exact_and_marked_for_synthesis(tmp_path):
    weights = _weights(8, 3, 3, 0.3, seed=7, kernels=2)
    shape = _shape(weights, 7, 6, 12, 4, 1)
    lut = sc.ScatterConvShape(**{**shape.__dict__, "res_type": "lut"})
    assert '(* use_dsp = "no" *) module unit (' in scatter_conv("unit", lut, weights, np.zeros((8, 3), dtype=int))
    assert "use_dsp" not in scatter_conv("unit", shape, weights, np.zeros((8, 3), dtype=int))
    case = cases.scatter_conv_case(lut, weights, np.random.default_rng(3), FRAMES)
    result = simulate_or_skip(case, tmp_path, seed=3)
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == lut.cycles() == shape.cycles()


def test_pairs_pack_into_their_fields():
    shape = sc.ScatterConvShape(channels=64, height=14, width=14, kernel=5, outputs=64, active=4, pe=16, simd=1,
                                wbits=4, abits=4, obits=4, fan_in=320)
    assert [(f, w) for f, _, w in pair_fields(shape)] == [("v", 4), ("c", 6), ("x", 4), ("y", 4)]
    assert pack_pair(shape, 13, 2, 63, 9) == 9 | 63 << 4 | 2 << 10 | 13 << 14


def test_too_shallow_a_schedule_is_refused():
    weights = _weights(8, 3, 3, 0.5, seed=1)
    shape = _shape(weights, 6, 6, 4, 2, 1)
    with pytest.raises(ValueError, match="bank_depth"):
        scatter_conv("u", sc.ScatterConvShape(**{**shape.__dict__, "bank_depth": 1}), weights, np.zeros((8, 3)))
