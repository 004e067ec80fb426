"""SparseMVAU: Python execution from the compressed storage is bit-exact with MatMul (+ MultiThreshold)."""

from __future__ import annotations

import numpy as np
import pytest

from sparsekws.finn.convert import make_sparse
from sparsekws.finn.ops.sparse_mvau import SparseActivityError
from sparsekws.units.schedule import bank_depths, compress_columns, compress_rows, weight_structure
from support.fixtures import matmul_layer, to_hw_layers


def _run(model, x):
    from qonnx.core.onnx_exec import execute_onnx

    return execute_onnx(model, {model.graph.input[0].name: x})[model.graph.output[0].name]


@pytest.mark.parametrize("vectors, thresholds", [((1,), True), ((1,), False), ((1, 3, 3), True)])
def test_sparse_weights_mode_is_bit_exact(vectors, thresholds):
    reference = matmul_layer(48, 16, 0.25, vectors, thresholds)
    hw = to_hw_layers(matmul_layer(48, 16, 0.25, vectors, thresholds))
    node = hw.graph.node[0]
    assert node.op_type == "MVAU"
    inst = make_sparse(hw, node)
    assert inst.get_nodeattr("fan_in") == 12 and any("valid" in m for m in inst.verify_node())
    rng = np.random.default_rng(1)
    for _ in range(5):
        x = rng.integers(0, 16, size=list(vectors) + [48]).astype(np.float32)
        np.testing.assert_array_equal(_run(hw, x), _run(reference, x))


def test_sparse_sparse_mode_is_bit_exact_and_checks_activity():
    reference = matmul_layer(64, 24, 0.2)
    hw = to_hw_layers(matmul_layer(64, 24, 0.2))
    inst = make_sparse(hw, hw.graph.node[0], "sparse_sparse", active_inputs=10)
    rng = np.random.default_rng(2)
    for _ in range(5):
        x = np.zeros((1, 64), dtype=np.float32)
        x[0, rng.permutation(64)[:10]] = rng.integers(1, 16, size=10)
        np.testing.assert_array_equal(_run(hw, x), _run(reference, x))
    assert inst.get_exp_cycles() < 64 * 24
    with pytest.raises(SparseActivityError, match="more than active_inputs"):
        _run(hw, np.ones((1, 64), dtype=np.float32))


def test_compression_keeps_only_nonzeros_in_index_order():
    weights = np.array([[0, 2], [3, 0], [0, 0], [4, 5]], dtype=np.float32)  # [MW=4, MH=2]
    index, value = compress_columns(weights, 2)
    np.testing.assert_array_equal(index, [[1, 3], [0, 3]])
    np.testing.assert_array_equal(value, [[3, 4], [2, 5]])
    rows_index, rows_value = compress_rows(weights, 2)
    np.testing.assert_array_equal(rows_index, [[1, 0], [0, 0], [0, 0], [0, 1]])
    np.testing.assert_array_equal(rows_value, [[2, 0], [3, 0], [0, 0], [4, 5]])
    assert weight_structure(weights) == {"fan_in": 2, "row_nnz": 2}
    assert bank_depths(weights, "sparse_weights") == {1: 2, 2: 2, 4: 1}  # inputs 1 and 3 share bank 1 of 2
    with pytest.raises(ValueError, match="more than fan_in"):
        compress_columns(weights, 1)


def test_estimates_and_counts_reflect_sparsity():
    dense_hw = to_hw_layers(matmul_layer(64, 16, 1.0))
    sparse_hw = to_hw_layers(matmul_layer(64, 16, 0.125))
    dense, sparse = make_sparse(dense_hw, dense_hw.graph.node[0]), make_sparse(sparse_hw, sparse_hw.graph.node[0])
    for inst in (dense, sparse):
        inst.set_nodeattr("PE", 4)
        inst.set_nodeattr("SIMD", 8)
    assert dense.cost_unit().dense_limit and not sparse.cost_unit().dense_limit
    assert sparse.get_exp_cycles() < dense.get_exp_cycles() == 4 * 8
    counts = sparse.get_op_and_param_counts()
    assert counts["param_weight_4b"] < 64 * 16 and any(key.startswith("param_address") for key in counts)
    assert sparse.node_res_estimation("xczu7ev-ffvc1156-2-e")["FF"] > 0
