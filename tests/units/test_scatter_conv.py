"""The scatter convolution's schedule computes the convolution exactly, in the cycles its model counts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsekws.models.sparse_weights import SparseWeights
from sparsekws.units import golden
from sparsekws.units import scatter_conv as sc


def _weights(outputs, channels, kernel, density, seed, kernels=1):
    """Trained-like 4-bit weights on the model's own masks (complementary packs when ``kernels`` > 1)."""
    conv = SparseWeights(torch.nn.Conv2d(channels, outputs, kernel, bias=False), density, seed=seed,
                         banks=channels, kernels=kernels)
    rng = np.random.default_rng(seed)
    values = rng.integers(-8, 8, size=conv.mask.shape)
    values[values == 0] = 1
    return values * conv.mask.numpy().astype(np.int64)


def _maps(frames, height, width, channels, k, rng, abits=4):
    """k-WTA-like maps: exactly ``k`` non-zero values per frame (some winners may be 0 after quantisation)."""
    x = np.zeros((frames, height * width * channels), dtype=np.int64)
    for frame in x:
        frame[rng.choice(frame.size, size=k, replace=False)] = rng.integers(0, 1 << abits, size=k)
    return x.reshape(frames, height, width, channels)


def _shape(weights, height, width, k, pe, simd):
    outputs, channels, kernel, _ = weights.shape
    fan_in = int((weights != 0).reshape(outputs, -1).sum(axis=1).max())
    return sc.ScatterConvShape(channels=channels, height=height, width=width, kernel=kernel, outputs=outputs,
                               active=k, pe=pe, simd=simd, wbits=4, abits=4, obits=4, fan_in=fan_in,
                               bank_depth=sc.bank_depth(weights, pe))


@pytest.mark.parametrize("height, width, kernel, pe, simd, kernels", [
    (9, 8, 3, 4, 1, 2), (7, 7, 3, 2, 2, 1), (8, 6, 5, 8, 1, 1), (6, 6, 2, 4, 3, 2),
])
def test_schedule_computes_the_convolution(height, width, kernel, pe, simd, kernels):
    rng = np.random.default_rng(height + pe)
    weights = _weights(8, 4, kernel, 0.25, seed=pe, kernels=kernels)
    k = 12
    shape = _shape(weights, height, width, k, pe, simd)
    image = sc.row_image(weights, pe)
    assert image[0].shape == (kernel * kernel, 4, shape.bank_depth, pe)
    maps = _maps(3, height, width, 4, k, rng)
    expected = golden.conv2d(maps, weights)
    for frame, pairs in zip(range(3), sc.pairs_of(maps, k)):
        acc, cycles = sc.run(image, shape, pairs)
        np.testing.assert_array_equal(acc, expected[frame])
        assert cycles == shape.cycles() == max(k // simd * shape.bank_depth, shape.drain_beats)


def test_golden_conv_is_torchs():
    rng = np.random.default_rng(0)
    maps = rng.integers(0, 16, size=(2, 7, 6, 3))
    weights = rng.integers(-8, 8, size=(5, 3, 3, 3))
    torch_out = torch.nn.functional.conv2d(torch.tensor(maps).permute(0, 3, 1, 2).double(),
                                           torch.tensor(weights).double()).permute(0, 2, 3, 1)
    np.testing.assert_array_equal(golden.conv2d(maps, weights), torch_out.numpy().astype(np.int64))


def test_complementary_kernels_need_one_step_per_pair():
    """conv2 of the sparse CNN: packs of 4 disjoint kernels give bank depth 1 at PE = 16."""
    packed = _weights(64, 64, 5, 0.2, seed=1, kernels=4)
    plain = _weights(64, 64, 5, 0.2, seed=1)
    assert sc.bank_depth(packed, 16) == 1 and sc.bank_depth(packed, 8) == 2
    assert sc.bank_depth(plain, 16) >= 3


def test_conv2_cycles_are_set_by_k():
    shape = sc.ScatterConvShape(channels=64, height=14, width=14, kernel=5, outputs=64, active=1788, pe=16, simd=1,
                                wbits=4, abits=4, obits=4, fan_in=320)
    assert (shape.out_height, shape.nf, shape.blocks, shape.acc_words) == (10, 4, (2, 2), 16)
    assert shape.cycles() == 1788  # k pairs, one step each; the drain (400 beats) overlaps
    assert sc.ScatterConvShape(**{**shape.__dict__, "simd": 2, "active": 1788}).cycles() == 894
    assert shape.resources()["LUT"] > 0 and shape.calibration_kind == "scatter_conv"
    lut = sc.ScatterConvShape(**{**shape.__dict__, "res_type": "lut"})
    assert lut.dsps() == 0 and shape.dsps() == 25 * 8 and lut.cycles() == shape.cycles()  # two products per DSP
    assert lut.product_luts() == 25 * 16 * 24  # a 4 x 4-bit product in LUTs: 24 (FINN's estimate)
    assert shape.packed_pairs == 25 * 8 and sc.ScatterConvShape(**{**shape.__dict__, "pe": 1, "outputs": 63}).dsps() == 25
    assert lut.calibration_kind == "scatter_conv_lut"


def test_pairs_of_pads_and_rejects_too_many_winners():
    maps = np.zeros((1, 2, 2, 3), dtype=np.int64)
    maps[0, 1, 0, 2] = 5
    pairs = sc.pairs_of(maps, 2)
    assert pairs[0].tolist() == [[0, 0, 0, 0], [1, 0, 2, 5]]
    with pytest.raises(ValueError, match="more than k"):
        sc.pairs_of(maps + 1, 2)


@pytest.mark.parametrize("kwargs, message", [({"pe": 3}, "PE=3"), ({"active": 7, "simd": 2}, "SIMD=2"),
                                             ({"kernel": 9}, "kernel 9"), ({"res_type": "dsp48"}, "res_type")])
def test_bad_shapes_are_rejected(kwargs, message):
    base = dict(channels=4, height=8, width=8, kernel=3, outputs=8, active=8, pe=4, simd=1, wbits=4, abits=4,
                obits=2, fan_in=9)
    with pytest.raises(ValueError, match=message):
        sc.ScatterConvShape(**{**base, **kwargs})
