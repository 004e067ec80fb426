"""The banked schedules compute the layer exactly, in the cycles the cost model counts."""

from __future__ import annotations

import numpy as np
import pytest

from sparsekws.units.cost import MatrixUnit
from sparsekws.units.schedule import run_sparse_sparse, run_sparse_weights, sparse_sparse_image, sparse_weights_image
from sparsekws.finn.ops.sparse_mvau import bank_depths
from sparsekws.units.schedule import weight_structure


def _weights(mw, mh, density, seed=0):
    rng = np.random.default_rng(seed)
    weights = rng.integers(1, 8, size=(mw, mh)) * rng.choice([-1, 1], size=(mw, mh))
    fan_in = max(1, round(density * mw))
    for column in range(mh):
        weights[rng.permutation(mw)[fan_in:], column] = 0
    return weights.astype(np.float64)


@pytest.mark.parametrize("pe, simd, density", [(1, 1, 0.25), (4, 8, 0.25), (8, 4, 0.1), (2, 16, 1.0)])
def test_sparse_weights_schedule(pe, simd, density):
    weights = _weights(64, 16, density)
    image = sparse_weights_image(weights, pe, simd)
    assert image[0].shape[:1] + image[0].shape[2:] == (16 // pe, pe, simd)
    x = np.random.default_rng(1).integers(0, 16, size=64).astype(np.float64)
    got, cycles = run_sparse_weights(image, x)
    np.testing.assert_array_equal(got, x @ weights)
    depth = bank_depths(weights, "sparse_weights")[simd]
    assert image[0].shape[1] == depth
    unit = MatrixUnit(mw=64, mh=16, pe=pe, simd=simd, weight_bits=4, input_bits=4, mode="sparse_weights",
                      fan_in=weight_structure(weights)["fan_in"], bank_depth=depth)
    assert cycles == unit.cycles()


@pytest.mark.parametrize("pe, simd", [(1, 1), (4, 2), (8, 3)])
def test_sparse_sparse_schedule(pe, simd):
    weights = _weights(48, 16, 0.3, seed=2)
    image = sparse_sparse_image(weights, pe)
    rng = np.random.default_rng(3)
    x = np.zeros(48)
    x[rng.permutation(48)[:7]] = rng.integers(1, 16, size=7)
    got, cycles = run_sparse_sparse(image, x, simd, 16)
    np.testing.assert_array_equal(got, x @ weights)
    structure = weight_structure(weights)
    unit = MatrixUnit(mw=48, mh=16, pe=pe, simd=simd, weight_bits=4, input_bits=4,
                      mode="sparse_sparse", fan_in=structure["fan_in"], row_nnz=structure["row_nnz"],
                      active_inputs=7, bank_depth=bank_depths(weights, "sparse_sparse")[pe])
    assert cycles == unit.cycles()
