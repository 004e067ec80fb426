"""convert_to_sparse_hw on a small k-WTA network taken through FINN the way the compile stage does."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from sparsekws.core.errors import ConfigError, UserError
from sparsekws.finn.convert import convert_to_sparse_hw, layer_densities
from sparsekws.finn.ops.analysis import is_hw_node, layer_cycles, layer_resources
from sparsekws.finn.convert import SparseConversionError

PART = "xczu7ev-ffvc1156-2-e"
CFG = {"family": "mlp", "frontend": "mfcc", "hidden_units": [32, 24], "weight_bits": 4, "activation_bits": 4,
       "input_bits": 8, "weight_density": 0.5, "weight_scaling": "per_tensor"}


def _network():
    """40 -> 32 -> k-WTA -> 24 -> k-WTA -> 12, W4A4, fixed fan-in 0.5, boosted k-WTA (eval k 10 and 9)."""
    from brevitas.nn import QuantLinear, QuantReLU
    from brevitas.quant import Int8WeightPerTensorFloat
    from support.fixtures import warmed_up
    from torch import nn

    from sparsekws.models.kwinners import KWinners
    from sparsekws.models.sparse_weights import SparseWeights

    torch.manual_seed(0)

    def linear(n_in, n_out, seed):
        layer = QuantLinear(n_in, n_out, bias=False, weight_quant=Int8WeightPerTensorFloat, weight_bit_width=4)
        return SparseWeights(layer, 0.5, seed=seed)

    model = nn.Sequential(linear(40, 32, 1), nn.BatchNorm1d(32), QuantReLU(bit_width=4), KWinners(32, 0.2),
                          linear(32, 24, 2), nn.BatchNorm1d(24), QuantReLU(bit_width=4), KWinners(24, 0.25),
                          linear(24, 12, 3))
    return warmed_up(model, (40,))


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    """(QONNX model, FINN graph with HW layers, test inputs, QONNX outputs)."""
    from sparsekws.export.qonnx import execute_graph as run_qonnx
    from sparsekws.export.qonnx import export_qonnx_model
    from sparsekws.finn import build as finn_build
    from sparsekws.finn.streamline import streamline_with_kwinners

    folder = tmp_path_factory.mktemp("sparse_flow")
    qonnx = export_qonnx_model(_network(), 40, 8, folder / "model.onnx")
    inputs = torch.randint(-128, 128, (6, 40), generator=torch.Generator().manual_seed(4)).float().numpy()
    finn_build.use_finn_build_dir(folder / "finn")
    model = finn_build._tidy_up(finn_build._qonnx_to_finn(qonnx))
    streamlined = streamline_with_kwinners(model)
    return qonnx, finn_build._convert_to_hw(streamlined), inputs, run_qonnx(qonnx, inputs), model, folder


def _ops(model):
    return [(n.op_type, n.domain.rsplit(".", 1)[-1]) for n in model.graph.node]


def test_single_partition_equals_qonnx(flow):
    from qonnx.custom_op.registry import getCustomOp

    from sparsekws.finn import build as finn_build

    _, hw, inputs, want, _, folder = flow
    assert [op for op, _ in _ops(hw)] == ["MVAU", "KWinnersHW", "MVAU", "KWinnersHW", "MVAU", "Mul"]
    sparse = convert_to_sparse_hw(hw, CFG)
    assert _ops(sparse)[:5] == [("SparseMVAU", "sparsekws"), ("KWinnersHW", "sparsekws")] * 2 + [
        ("SparseMVAU", "sparsekws")]
    modes = [getCustomOp(n).get_nodeattr("sparse_mode") for n in sparse.get_nodes_by_op_type("SparseMVAU")]
    assert modes == ["sparse_weights", "sparse_sparse", "sparse_sparse"]
    assert [getCustomOp(n).get_nodeattr("output_format") for n in sparse.get_nodes_by_op_type("KWinnersHW")] == [
        "pairs", "pairs"]
    second = getCustomOp(sparse.get_nodes_by_op_type("SparseMVAU")[1])
    assert second.get_nodeattr("active_inputs") == 10  # k of the first k-WTA: round(0.2 * 1.5 * 32)
    for mode in ("sparse_weights", "sparse_sparse"):  # a folding search may switch the mode
        second.set_nodeattr("sparse_mode", mode)
        assert second.cost_unit().bank_depth > 0 and second.get_exp_cycles() > 0
    assert [n.op_type for n in sparse.graph.node if not is_hw_node(n)] == ["Mul"]
    parent, dataflow, on_host = finn_build._create_partition(sparse, folder / "partition")
    assert [n.op_type for n in parent.graph.node] == ["StreamingDataflowPartition", "Mul"]
    np.testing.assert_allclose(finn_build.execute_graph(parent, inputs), want, rtol=0, atol=1e-5)
    cycles, resources = layer_cycles(dataflow), layer_resources(dataflow, PART)
    assert set(cycles) == set(resources) == {n.name for n in dataflow.graph.node}
    assert all(r["model"] == "sparsekws-model" and r["LUT"] > 0 for r in resources.values())


def test_layer_and_mode_selection(flow):
    from qonnx.custom_op.registry import getCustomOp

    _, hw, inputs, want, _, _ = flow
    untouched = convert_to_sparse_hw(hw, CFG, layers="none")
    assert [op for op, _ in _ops(untouched)].count("MVAU") == 3
    weights_only = convert_to_sparse_hw(hw, {**CFG, "sparse_hw": {"layers": [1], "mode": "sparse_weights"}})
    sparse_nodes = weights_only.get_nodes_by_op_type("SparseMVAU")
    assert len(sparse_nodes) == 1 and getCustomOp(sparse_nodes[0]).get_nodeattr("sparse_mode") == "sparse_weights"
    from sparsekws.finn import build as finn_build

    np.testing.assert_allclose(finn_build.execute_graph(weights_only, inputs), want, rtol=0, atol=1e-5)
    with pytest.raises(SparseConversionError, match="cannot run sparse_sparse: its input vector"):
        convert_to_sparse_hw(hw, CFG, mode={0: "sparse_sparse"})
    for key in (1, "1"):  # a layer index from YAML, or from the workflow's JSON params
        chosen = convert_to_sparse_hw(hw, {**CFG, "sparse_hw": {"mode": {key: "sparse_weights"}}})
        modes = [getCustomOp(n).get_nodeattr("sparse_mode") for n in chosen.get_nodes_by_op_type("SparseMVAU")]
        assert modes[1] == "sparse_weights" and modes[2] == "sparse_sparse"
    with pytest.raises(ConfigError, match="out of range"):
        convert_to_sparse_hw(hw, CFG, layers=[5])
    with pytest.raises(ConfigError, match="unknown"):
        convert_to_sparse_hw(hw, CFG, mode="fast")
    with pytest.raises(SparseConversionError, match="3 MVAU nodes"):
        convert_to_sparse_hw(hw, {**CFG, "hidden_units": [32]})


def test_unmoved_scale_is_reported(flow):
    from finn.transformation.streamline import Streamline

    from sparsekws.finn import build as finn_build

    plain = finn_build._convert_to_hw(flow[4].transform(Streamline()))
    with pytest.raises(SparseConversionError, match="streamline_with_kwinners"):
        convert_to_sparse_hw(plain, CFG)


def test_layer_densities_are_the_models_spec_at_the_graphs_shapes(flow):
    qonnx = flow[0]
    assert layer_densities(qonnx, CFG) == [0.5, 0.5, 0.5]  # 40 inputs, 32, 24, 12 classes
    with pytest.raises(UserError, match="family"):
        layer_densities(qonnx, {**CFG, "family": "rnn"})


def test_separate_thresholding_is_absorbed_into_the_sparse_unit():
    from finn.transformation.fpgadataflow.convert_to_hw.quantized_matrix_vector_activation import (
        InferQuantizedMatrixVectorActivation,
    )
    from finn.transformation.fpgadataflow.convert_to_hw.thresholding import InferThresholdingLayer
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from support.fixtures import matmul_layer

    reference = matmul_layer(32, 8, 0.25)
    hw = reference.transform(InferDataTypes()).transform(InferThresholdingLayer())
    hw = hw.transform(InferQuantizedMatrixVectorActivation())
    assert [n.op_type for n in hw.graph.node] == ["MVAU", "Thresholding"]
    sparse = convert_to_sparse_hw(hw, {"family": "mlp", "hidden_units": [], "weight_density": 0.25})
    assert [n.op_type for n in sparse.graph.node] == ["SparseMVAU"] and len(sparse.graph.node[0].input) == 3
    x = np.random.default_rng(5).integers(0, 16, size=(1, 32)).astype(np.float32)
    got = execute_onnx(sparse, {"x": x})[sparse.graph.output[0].name]
    np.testing.assert_array_equal(got, execute_onnx(reference, {"x": x})["y"])
