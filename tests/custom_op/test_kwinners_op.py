"""The KWinners custom op: numpy reference equals torch, QONNX finds and executes it."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
import torch
from onnx import TensorProto, helper

from sparsekws.custom_op import KWinnersOp, custom_op, kwinners_reference
from sparsekws.models.kwinners import ONNX_DOMAIN, kwinners


@pytest.mark.parametrize("shape, k, mode", [((6, 40), 7, "global"), ((3, 8, 5, 5), 19, "global"),
                                            ((3, 8, 5, 5), 2, "local")])
def test_reference_equals_torch_including_ties_and_boost(shape, k, mode):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, size=shape).astype(np.float32) * np.float32(0.37)  # quantised: many ties
    boost = np.exp(rng.uniform(-0.5, 0.5, size=shape[1])).astype(np.float32)
    want = kwinners(torch.from_numpy(x), torch.from_numpy(boost), k, mode).numpy()
    got = kwinners_reference(x, k, mode, boost.tolist())
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(kwinners_reference(x, k, mode),
                                  kwinners(torch.from_numpy(x), torch.ones(shape[1]), k, mode).numpy())


def _graph(k=2, mode="global", boost=None):
    attributes = {"k": k, "mode": mode} if boost is None else {"k": k, "mode": mode, "boost": list(boost)}
    node = helper.make_node("KWinners", ["x"], ["y"], domain=ONNX_DOMAIN, **attributes)
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13), helper.make_opsetid(ONNX_DOMAIN, 1)])


def test_qonnx_registry_resolves_the_domain_and_executes():
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.custom_op.registry import getCustomOp
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.util.cleanup import cleanup_model

    assert custom_op == {"KWinners": KWinnersOp}
    wrapper = ModelWrapper(_graph(k=2, boost=[1.0, 1.0, 1.0, 5.0]))
    op = getCustomOp(wrapper.graph.node[0])
    assert isinstance(op, KWinnersOp) and op.verify_node() == ["KWinners node is valid"]
    wrapper = cleanup_model(wrapper)  # shape inference through the custom op
    x, y = wrapper.graph.input[0].name, wrapper.graph.output[0].name  # cleanup renames them
    wrapper.set_tensor_datatype(x, DataType["UINT4"])
    wrapper = wrapper.transform(InferDataTypes())
    assert wrapper.get_tensor_shape(y) == [1, 4]
    assert wrapper.get_tensor_datatype(y) == DataType["UINT4"]
    out = execute_onnx(wrapper, {x: np.array([[3.0, 2.0, 1.0, 1.0]], dtype=np.float32)})[y]
    assert out.tolist() == [[3.0, 0.0, 0.0, 1.0]]  # boost 5 lets the last unit win


def test_invalid_nodes_are_reported():
    wrapper_node = _graph(k=0).graph.node[0]
    assert any("k must be" in m for m in KWinnersOp(wrapper_node).verify_node())
    with pytest.raises(ValueError):
        kwinners_reference(np.zeros((2, 3, 4)), 1)
    onnx.checker.check_model(_graph())  # a well-formed model with the project's domain
