import numpy as np

from sparsekws.core.agreement import compare_outputs


def test_equal_outputs_pass():
    want = np.array([[1.0, 2.0, 0.5], [3.0, -1.0, 0.0]])
    result = compare_outputs(want + 1e-7, want)
    assert result["passed"] and result["argmax_agreement"] == 1.0 and result["samples"] == 2


def test_exact_ties_may_break_either_way():
    want = np.array([[1.0, 1.0, 0.0]])
    result = compare_outputs(np.array([[1.0, 1.0 - 1e-7, 0.0]]) + [[0, 2e-7, 0]], want)
    assert result["passed"]
    assert result["argmax_exact_agreement"] == 0.0


def test_large_difference_or_other_class_fails():
    want = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert not compare_outputs(want + 0.01, want)["passed"]
    swapped = compare_outputs(want[:, ::-1], want)
    assert not swapped["passed"] and swapped["argmax_agreement"] == 0.0


def test_shape_mismatch_fails_with_a_reason():
    result = compare_outputs(np.zeros((2, 3)), np.zeros((2, 4)))
    assert not result["passed"] and "shape" in result["error"]


def test_a_rare_boundary_flip_passes_but_a_systematic_difference_fails():
    rng = np.random.default_rng(0)
    want = rng.normal(size=(64, 12))
    want[:, 0] += 10  # a clear top class
    flipped = want.copy()
    flipped[5, 3] += 0.07  # one sample moved by a quantisation step, same top class
    result = compare_outputs(flipped, want)
    assert result["passed"] and result["samples_beyond_tolerance"] == 1
    several = want.copy()
    several[:8, 3] += 0.07  # an eighth of the samples: not a rare flip
    result = compare_outputs(several, want)
    assert not result["passed"] and result["samples_beyond_tolerance"] == 8
    one_sample = compare_outputs(want[:1] + 0.07, want[:1])
    assert not one_sample["passed"]  # with few samples no deviation is allowed
