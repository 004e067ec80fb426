"""KWinnersHW: the hardware algorithm (rank ROM, histogram threshold, tie quota) equals the QONNX reference."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from sparsekws.custom_op.kwinners import kwinners_reference
from sparsekws.finn.ops import DOMAIN
from sparsekws.finn.ops.kwinners_hw import score_ranks, select_winners
from sparsekws.finn.streamline import kwinners_hw_node


def _model(shape, k, mode="global", boost=(), scale=(1.0,), datatype="UINT4"):
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    node = kwinners_hw_node("kw", "x", "y", list(shape), datatype, k, mode, list(boost), list(scale))
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    model = ModelWrapper(helper.make_model(graph))
    model.set_tensor_datatype("x", DataType[datatype])
    return model


def _run(model, x):
    from qonnx.core.onnx_exec import execute_onnx

    return execute_onnx(model, {"x": x})["y"]


@pytest.mark.parametrize("shape, k, mode, per_channel_scale", [
    ((1, 40), 7, "global", False), ((1, 40), 7, "global", True), ((1, 5, 5, 8), 19, "global", False),
    ((1, 5, 5, 8), 19, "global", True), ((1, 5, 5, 8), 2, "local", True), ((1, 3, 3, 16), 16, "local", False)])
def test_equals_reference_on_the_scaled_activations_ties_included(shape, k, mode, per_channel_scale):
    rng = np.random.default_rng(k)
    channels = shape[-1]
    boost = np.exp(rng.uniform(-0.5, 0.5, size=channels)).astype(np.float32)
    scale = (rng.uniform(0.05, 0.3, size=channels) if per_channel_scale else [0.1734]) * np.ones(1)
    model = _model(shape, k, mode, boost.tolist(), scale.tolist())
    for trial in range(20):
        levels = rng.integers(0, 4 if trial % 2 else 16, size=shape).astype(np.float32)  # few levels: many ties
        got = _run(model, levels)
        nchw = levels if len(shape) == 2 else levels.transpose(0, 3, 1, 2)
        factors = np.asarray(scale, dtype=np.float32)
        scaled = nchw * (factors.reshape(1, -1) if len(shape) == 2 else factors.reshape(1, -1, 1, 1))
        want = kwinners_reference(scaled.astype(np.float32), k, mode, boost.tolist())
        want_levels = np.where(want != 0, nchw, 0)
        if len(shape) == 4:
            want_levels = want_levels.transpose(0, 2, 3, 1)
        np.testing.assert_array_equal(got, want_levels)
        winners = np.count_nonzero(select_winners(np.zeros((1, np.prod(shape[1:]) if mode == "global"
                                                            else channels), dtype=int), k))
        assert winners == min(k, np.prod(shape[1:]) if mode == "global" else channels)


def test_rank_table_orders_like_float_scores():
    levels = np.arange(16)
    scale = np.array([0.5, 0.25], dtype=np.float32)
    boost = np.array([1.0, 2.0], dtype=np.float32)
    ranks = score_ranks(levels, scale, boost)
    assert ranks.shape == (2, 16)
    np.testing.assert_array_equal(ranks[0], ranks[1])  # 0.5 * 1 == 0.25 * 2: equal scores, equal ranks
    assert np.all(np.diff(ranks[0]) > 0)


def test_select_winners_breaks_ties_by_lower_index():
    ranks = np.array([[3, 5, 5, 1, 5]])
    np.testing.assert_array_equal(select_winners(ranks, 2), [[False, True, True, False, False]])
    np.testing.assert_array_equal(select_winners(ranks, 9), [[True] * 5])


def test_attributes_estimates_and_validation():
    from qonnx.custom_op.registry import getCustomOp

    model = _model((1, 32), 4, boost=[1.0] * 32)
    inst = getCustomOp(model.graph.node[0])
    assert model.graph.node[0].domain == DOMAIN and inst.verify_node() == ["KWinnersHW node is valid"]
    assert not inst.needs_rank_table() and inst.get_exp_cycles() == 32  # 32 values, one per cycle (load-bound: the 16-bin scan hides behind the load)
    res = inst.node_res_estimation("xczu7ev-ffvc1156-2-e")
    assert res["LUT"] > 0 and res["FF"] > 0 and res["DSP"] == 0
    boosted = getCustomOp(_model((1, 32), 4, boost=list(np.linspace(0.5, 2, 32))).graph.node[0])
    assert boosted.needs_rank_table() and boosted.lut_estimation("") > inst.lut_estimation("")
    values_luts = inst.lut_estimation("")
    inst.set_nodeattr("output_format", "pairs")  # the packer behind the unit: k/2 beats of 2 (index, value) pairs
    inst.set_nodeattr("pairs_per_beat", 2)
    assert inst.get_outstream_width() == 2 * (4 + 5) and inst.get_folded_output_shape() == (1, 2, 2)
    assert inst.lut_estimation("") > values_luts and inst.get_exp_cycles() == 32
    assert [kind for kind, _, _ in inst.cost_unit().parts()] == ["kwta", "kwta_pairs"]
    bad = getCustomOp(_model((1, 32), 4, scale=[-1.0]).graph.node[0])
    assert any("positive" in m for m in bad.verify_node())
    with pytest.raises(ValueError, match="integer inputs"):
        getCustomOp(_model((1, 4), 1, datatype="FLOAT32").graph.node[0]).rank_table()
