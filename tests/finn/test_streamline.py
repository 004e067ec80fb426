"""Moving the quantiser scale past k-WTA: exact, for scalar and per-channel positive scales only."""

from __future__ import annotations

import numpy as np
import pytest
from onnx import TensorProto, helper

from sparsekws.finn.streamline import MoveScaleMulPastKWinners
from sparsekws.finn.ops.names import KWINNERS_DOMAIN


def _graph(shape, scale, k=5, mode="global"):
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_shapes import InferShapes

    channels = shape[1]
    boost = np.exp(np.linspace(-0.4, 0.4, channels)).astype(np.float32).tolist()
    nodes = [helper.make_node("Mul", ["x", "s"], ["scaled"], name="Mul_0"),
             helper.make_node("KWinners", ["scaled"], ["y"], domain=KWINNERS_DOMAIN, name="KW_0", k=k, mode=mode,
                              boost=boost)]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    model = ModelWrapper(helper.make_model(graph))
    model.set_initializer("s", np.asarray(scale, dtype=np.float32))
    model.set_tensor_datatype("x", DataType["UINT4"])
    return model.transform(InferShapes())


def _run(model, x):
    from qonnx.core.onnx_exec import execute_onnx

    return execute_onnx(model, {"x": x})["y"]


@pytest.mark.parametrize("shape, scale, mode", [
    ([1, 24], 0.0731, "global"), ([1, 24], np.linspace(0.05, 0.2, 24).reshape(1, 24), "global"),
    ([1, 6, 4, 4], 0.31, "global"), ([1, 6, 4, 4], np.linspace(0.1, 0.6, 6).reshape(1, 6, 1, 1), "local")])
def test_move_is_exact(shape, scale, mode):
    import sparsekws.finn.ops  # noqa: F401  (registers the op domain)

    reference = _graph(shape, scale, k=3 if mode == "local" else 7, mode=mode)
    moved = reference.transform(MoveScaleMulPastKWinners())
    ops = [n.op_type for n in moved.graph.node]
    assert "KWinners" not in ops and ops[-1] == "Mul" and "KWinnersHW" in ops
    if len(shape) == 4:
        assert ops == ["Transpose", "KWinnersHW", "Transpose", "Mul"]
    rng = np.random.default_rng(3)
    for _ in range(10):
        x = rng.integers(0, 16, size=shape).astype(np.float32)
        np.testing.assert_array_equal(_run(moved, x), _run(reference, x))


@pytest.mark.parametrize("scale", [-0.5, 0.0, np.linspace(-1, 1, 24).reshape(1, 24)])
def test_non_positive_scales_stay(scale):
    moved = _graph([1, 24], scale).transform(MoveScaleMulPastKWinners())
    assert [n.op_type for n in moved.graph.node] == ["Mul", "KWinners"]


def test_float_input_is_not_moved():
    from qonnx.core.datatype import DataType

    model = _graph([1, 24], 0.5)
    model.set_tensor_datatype("x", DataType["FLOAT32"])
    assert [n.op_type for n in model.transform(MoveScaleMulPastKWinners()).graph.node] == ["Mul", "KWinners"]
