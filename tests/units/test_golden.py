"""Golden models of the RTL units: fixed fan-in forms, sparse-sparse, thresholds, k-WTA."""

import numpy as np
import pytest

from sparsekws.custom_op.kwinners import kwinners_reference
from sparsekws.units import golden


def test_fixed_fan_in_forms_agree_with_dense():
    rng = np.random.default_rng(0)
    weights = golden.random_fixed_fan_in(6, 20, 5, 3, rng)
    assert ((weights != 0).sum(axis=1) == 5).all()
    assert weights.min() >= -4 and weights.max() <= 3
    x = rng.integers(0, 8, size=(7, 20))
    thresholds = golden.random_thresholds(-40, 40, 6, 3, rng)
    indices, values = golden.to_fixed_fan_in(weights, 8)  # padded with zero weights
    assert indices.shape == (6, 8) and (np.diff(indices, axis=1) > 0).all()
    np.testing.assert_array_equal(golden.sparse_mvu(x, indices, values, thresholds),
                                  golden.mvu(x, weights, thresholds))
    with pytest.raises(ValueError, match="more than fan-in"):
        golden.to_fixed_fan_in(weights, 4)


def test_sparse_sparse_equals_dense_on_kwta_inputs():
    rng = np.random.default_rng(1)
    weights = golden.random_fixed_fan_in(8, 30, 6, 4, rng)
    x = golden.kwta(rng.integers(0, 16, size=(5, 30)), 7)
    indices, values = golden.active_pairs(x, 7)
    thresholds = golden.random_thresholds(-100, 100, 8, 2, rng)
    np.testing.assert_array_equal(golden.sparse_sparse_mvu(indices, values, weights, thresholds),
                                  golden.mvu(x, weights, thresholds))


def test_threshold_counts_reached_thresholds():
    thresholds = np.array([[-1, 0, 5]])
    np.testing.assert_array_equal(golden.threshold(np.array([[-2], [0], [5], [9]]), thresholds).ravel(),
                                  [0, 2, 3, 3])


@pytest.mark.parametrize("k", [1, 3, 10])
def test_kwta_matches_the_custom_op_reference(k):
    x = np.random.default_rng(k).integers(-3, 4, size=(6, 10))  # many ties
    np.testing.assert_array_equal(golden.kwta(x, k), kwinners_reference(x, k))


def test_fan_in_matches_the_model_convention():
    assert golden.fan_in_for_density(490, 0.1) == 49
    assert golden.fan_in_for_density(256, 0.1) == 26
    with pytest.raises(ValueError):
        golden.fan_in_for_density(10, 0.0)
