"""Model layers for the RTL report, and integer weights read from a QONNX graph."""

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from sparsekws.core.errors import UserError
from sparsekws.models.spec import model_spec
from sparsekws.rtl import layers as rtl_layers
from sparsekws.rtl.layers import trained_kwta, trained_weights

MLP = {"family": "mlp", "hidden_units": [64, 64], "weight_density": 0.25}
CNN = {"family": "cnn", "conv_channels": [64, 64], "kernel_size": 5, "linear_units": 1000,
       "conv_weight_density": [0.5, 0.2], "linear_weight_density": 0.1, "kwinners": True,
       "conv_activation_density": [0.095, 0.125], "linear_activation_density": 0.1, "k_inference_factor": 1.5,
       "kwinners_mode": "global", "kwinners_placement": "after_pool"}


def model_layers(entry):
    """The RTL layers of a model entry on the default front ends (MFCC 49x10, log-mel 32x32), 12 classes."""
    shape = (490,) if entry["family"] == "mlp" else (1, 32, 32)
    return rtl_layers.model_layers(model_spec(entry, shape, 12))


def test_mlp_layers_reuse_the_calibration_folding_rule():
    layers = model_layers(MLP)
    assert [(item.name, item.layer.rows, item.layer.cols) for item in layers] == [
        ("mlp_in", 64, 490), ("mlp_hidden", 64, 64), ("mlp_out", 12, 64)]
    assert layers[0].layer.pe == 8 and layers[0].layer.simd == 7 and layers[0].layer.in_signed
    assert all(item.density == 0.25 for item in layers)


def test_cnn_layers_have_kwta_and_sparse_sparse_input():
    layers = model_layers(CNN)
    assert [item.name for item in layers] == ["cnn_conv1", "cnn_kwta_conv1", "cnn_conv2", "cnn_kwta_conv2",
                                              "cnn_fc", "cnn_kwta_fc", "cnn_out"]
    assert layers[1].kwta == ("cnn_kwta_conv1", 64, 1788) and layers[1].positions == 14 * 14
    assert layers[3].kwta == ("cnn_kwta_conv2", 64, 300) and layers[3].positions == 5 * 5
    assert layers[5].kwta == ("cnn_kwta_fc", 1000, 150) and layers[5].positions == 1
    assert layers[0].positions == 28 * 28 and layers[2].positions == 10 * 10
    assert layers[-1].active_inputs == 150 and layers[-1].density == 1.0
    dense = model_layers(CNN | {"kwinners": False})
    assert [item.name for item in dense] == ["cnn_conv1", "cnn_conv2", "cnn_fc", "cnn_out"]
    small = model_layers(CNN | {"kernel_size": 3})  # a shape the table lacks takes its base layer's folding rule
    assert (small[0].layer.rows, small[0].layer.cols, small[0].layer.simd) == (64, 9, 3)


def test_trained_weights_are_integers_rows_first(tmp_path):
    w = np.array([[0.5, -0.25, 0.0], [0.75, 0.0, -0.5]], dtype=np.float32)  # (in=2, out=3) as MatMul stores it
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(np.float32(0.25), "s"),
             numpy_helper.from_array(np.float32(0.0), "z"), numpy_helper.from_array(np.float32(3.0), "b")]
    nodes = [helper.make_node("Quant", ["w", "s", "z", "b"], ["wq"], domain="qonnx.custom_op.general"),
             helper.make_node("MatMul", ["x", "wq"], ["y"])]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3])], inits)
    path = tmp_path / "m.onnx"
    onnx.save(helper.make_model(graph), str(path))
    (weights,) = trained_weights(path)
    np.testing.assert_array_equal(weights, [[2, 3], [-1, 0], [0, -2]])


def test_hardware_columns_follow_finns_channels_last_stream():
    fc = next(item for item in model_layers(CNN) if item.name == "cnn_fc")
    c, h, w = fc.input_chw
    weights = np.arange(2 * c * h * w).reshape(2, -1)  # column = PyTorch's flat (c, h, w) index
    reordered = fc.hardware_columns(weights)
    # hardware column (y, x, ch) holds PyTorch's column ch*h*w + y*w + x
    assert reordered[0, (1 * w + 2) * c + 3] == 3 * h * w + 1 * w + 2
    conv = model_layers(CNN)[0]
    assert conv.hardware_columns(weights) is weights


def _kwta_graph(path, boost, signed=0):
    """Relu -> unsigned 4-bit Quant (scale 0.25) -> MaxPool -> KWinners, as the CNN's export has it."""
    inits = [numpy_helper.from_array(np.float32(v), n) for n, v in (("s", 0.25), ("z", 0.0), ("b", 4.0))]
    nodes = [helper.make_node("Relu", ["x"], ["r"]),
             helper.make_node("Quant", ["r", "s", "z", "b"], ["q"], domain="qonnx.custom_op.general", signed=signed,
                              narrow=0, rounding_mode="ROUND"),
             helper.make_node("MaxPool", ["q"], ["p"], kernel_shape=[2, 2], strides=[2, 2]),
             helper.make_node("KWinners", ["p"], ["y"], domain="sparsekws.custom_op", k=5, mode="global",
                              boost=list(boost))]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 4, 6])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 3, 2, 3])], inits,
                              value_info=[helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 3, 2, 3])])
    onnx.save(helper.make_model(graph), str(path))
    return path


def test_trained_kwta_ranks_the_levels_by_boost_and_activation_scale(tmp_path):
    boost = [1.0, 1.5, 0.5]
    (node,) = trained_kwta(_kwta_graph(tmp_path / "m.onnx", boost))
    assert (node.channels, node.positions, node.k, node.mode) == (3, 2 * 3, 5, "global")
    assert node.rank_table.shape == (3, 16)
    scores = np.arange(16) * 0.25 * np.array(boost)[:, None]  # level x scale x boost
    # equal scores share a rank, and ranks order like the scores
    expected = np.unique(scores, return_inverse=True)[1].reshape(scores.shape)
    np.testing.assert_array_equal(node.rank_table, expected)
    assert node.rank_table[1, 2] == node.rank_table[0, 3] == node.rank_table[2, 6]  # 0.75 each
    with pytest.raises(UserError, match="signed inputs"):
        trained_kwta(_kwta_graph(tmp_path / "s.onnx", boost, signed=1))


def test_a_damaged_qonnx_file_is_named(tmp_path):
    (tmp_path / "m.onnx").write_bytes(b"\x12\x34 not onnx" * 20)
    with pytest.raises(UserError, match="m.onnx is damaged"):
        trained_weights(tmp_path / "m.onnx")
