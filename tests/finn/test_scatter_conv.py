"""The both-sparsities design of the tiny CNN: conv1 as a constant-coefficient SparseMVAU, conv2 as a
ScatterConv after its global 2-D k-WTA: conversion, execution, folding and estimates."""

from __future__ import annotations

import numpy as np
import pytest
from support.fixtures import ZCU104, cnn_config, write_cnn_fixture

from sparsekws.finn.convert import SparseConversionError

SCATTER = cnn_config(complementary_kernels={1: 2},
                     sparse_hw={"mode": {0: "constant", 1: "scatter_conv", 2: "sparse_weights"}})


@pytest.fixture(scope="module")
def flow(tmp_path_factory):
    from sparsekws.finn.build import estimate_dataflow

    root = tmp_path_factory.mktemp("scatter")
    qonnx, ref = write_cnn_fixture(root / "in", SCATTER)
    return estimate_dataflow(qonnx, ref, ZCU104, root / "finn", model_cfg=SCATTER), root / "finn"


def test_the_second_conv_becomes_one_scatter_unit_that_computes_the_same(flow):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    result, folder = flow
    assert all(check["passed"] for check in result["python_checks"])  # same logits as torch, in Python
    model = ModelWrapper(str(folder / "onnx" / "dataflow_model.onnx"))
    ops = [n.op_type for n in model.graph.node]
    at = ops.index("ScatterConv")
    assert ops[at - 1].startswith("KWinnersHW") and not ops[at - 2].startswith("ConvolutionInputGenerator")
    assert ops.count("ScatterConv") == 1
    unit = getCustomOp(model.graph.node[at])
    kwta = getCustomOp(model.graph.node[at - 1])
    assert kwta.get_nodeattr("output_format") == "pairs"
    assert kwta.get_nodeattr("pairs_per_beat") == unit.get_nodeattr("SIMD")  # the consumer's SIMD
    slowest, pe = max(result["layer_cycles"].values()), kwta.get_nodeattr("PE")
    if pe > 1:  # folded to the smallest PE that keeps up (its pairs per beat known while folding)
        smaller = max(d for d in range(1, pe) if kwta.get_nodeattr("NumChannels") % d == 0)
        kwta.set_nodeattr("PE", smaller)
        assert kwta.get_exp_cycles() > slowest
    assert unit.get_nodeattr("active_inputs") == kwta.get_nodeattr("k") == round(0.095 * 1.5 * 8 * 14 * 14)
    shape = unit.cost_unit()
    assert (shape.height, shape.channels, shape.kernel, shape.outputs) == (14, 8, 5, 8)
    assert shape.bank_depth == 8 // (2 * shape.pe) or shape.pe == 8  # packs of 2: one non-zero per bank at PE 4
    assert result["layer_cycles"][unit.onnx_node.name] == shape.cycles()
    assert result["layer_estimators"][unit.onnx_node.name] == "sparsekws-model"
    assert result["codegen"]["sparse_rtl"][unit.onnx_node.name] == "generated"


def test_complementary_packs_give_one_step_per_pair(flow):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    model = ModelWrapper(str(flow[1] / "onnx" / "dataflow_model.onnx"))
    unit = getCustomOp(model.get_nodes_by_op_type("ScatterConv")[0])
    assert unit.get_nodeattr("pe_bank_depth") == [4, 2, 1, 1]  # PE 1, 2, 4, 8: 8 outputs in packs of 2


def test_scatter_conv_needs_a_kwta_before_the_convolution(tmp_path):
    from sparsekws.finn.build import NotMappableError, estimate_dataflow

    cfg = {**SCATTER, "sparse_hw": {"mode": {0: "scatter_conv"}}}
    qonnx, ref = write_cnn_fixture(tmp_path / "in", cfg)
    with pytest.raises(NotMappableError, match="layer 0 cannot run scatter_conv") as refused:
        estimate_dataflow(qonnx, ref, ZCU104, tmp_path / "finn", model_cfg=cfg)
    assert isinstance(refused.value.__cause__, SparseConversionError)


def test_more_winners_than_k_are_refused(flow):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from sparsekws.finn.ops.sparse_mvau import SparseActivityError

    model = ModelWrapper(str(flow[1] / "onnx" / "dataflow_model.onnx"))
    node = model.get_nodes_by_op_type("ScatterConv")[0]
    inst = getCustomOp(node)
    context = {name: model.get_initializer(name) for name in node.input[1:]}
    context[node.input[0]] = np.ones(inst.get_normal_input_shape(), dtype=np.float32)
    context[node.output[0]] = np.zeros(inst.get_normal_output_shape(), dtype=np.float32)
    with pytest.raises(SparseActivityError, match="more than active_inputs"):
        inst.execute_node(context, model.graph)


def test_fold_to_takes_the_cheapest_folding_that_meets_the_target(flow):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from sparsekws.units.schedule import divisors

    model = ModelWrapper(str(flow[1] / "onnx" / "dataflow_model.onnx"))
    inst = getCustomOp(model.get_nodes_by_op_type("ScatterConv")[0])
    k, outputs = inst.get_nodeattr("active_inputs"), inst.get_nodeattr("OFMChannels")

    def unit(pe, simd):
        inst.set_nodeattr("PE", pe)
        inst.set_nodeattr("SIMD", simd)
        return inst.cost_unit()

    every = [unit(pe, simd) for pe in divisors(outputs) for simd in divisors(k)]
    for target in (k * 4, k, k // 2):
        inst.fold_to(target)
        chosen = inst.cost_unit()
        meeting = [u for u in every if u.cycles() <= target]
        assert chosen.cycles() <= target and chosen.luts() == min(u.luts() for u in meeting)
    inst.fold_to(1)  # out of reach: the fastest folding
    assert inst.cost_unit().cycles() == min(u.cycles() for u in every)


def test_conv1_is_a_constant_unit_at_one_window_per_cycle(flow):
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from sparsekws.units.constant import csd_terms

    result, folder = flow
    model = ModelWrapper(str(folder / "onnx" / "dataflow_model.onnx"))
    node = model.get_nodes_by_op_type("SparseMVAU")[0]
    inst = getCustomOp(node)
    assert inst.get_nodeattr("sparse_mode") == "constant"
    assert (inst.get_nodeattr("PE"), inst.get_nodeattr("SIMD")) == (8, 25)  # kept by the folding search
    assert inst.get_nodeattr("constant_terms") == csd_terms(model.get_initializer(node.input[1])) > 0
    unit = inst.cost_unit()
    assert result["layer_cycles"][node.name] == unit.cycles() == 28 * 28
    assert result["layer_resources"][node.name]["DSP"] == result["layer_resources"][node.name]["BRAM_18K"] == 0
    assert result["codegen"]["sparse_rtl"][node.name] == "generated"
