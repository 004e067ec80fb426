"""Bank-balanced fixed fan-in masks in the sparse matrix unit: no bank padding, fewer cycles.

The masks are balanced in the order the hardware reads a fan-in (channels fastest); these tests
take the weights through FINN's own lowering (im2col, CNN-to-FC flatten) and the project's cost
model (``sparsekws.hw.sparse_ops``), at the real sparse-CNN layer shapes and in the build flow.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from onnx import TensorProto, helper
from torch import nn

from support.fixtures import cnn_config
from sparsekws.units.cost import MatrixUnit
from sparsekws.finn.ops.sparse_mvau import bank_depths, divisors
from sparsekws.units.schedule import weight_structure
from sparsekws.models.sparse_weights import SparseWeights, fan_in_for_density
from support import validated


def _lowered_conv(weight: np.ndarray, height: int) -> np.ndarray:
    """The ``[MW, MH]`` matrix of a conv after qonnx's ``LowerConvsToMatMul`` (im2col order)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_shapes import InferShapes
    from qonnx.transformation.lower_convs_to_matmul import LowerConvsToMatMul

    c_out, c_in, k, _ = weight.shape
    out = height - k + 1
    node = helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[k, k], pads=[0, 0, 0, 0], strides=[1, 1],
                            group=1, dilations=[1, 1])
    x = helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, c_in, height, height])
    y = helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, c_out, out, out])
    graph = helper.make_graph([node], "conv", [x], [y])
    model = ModelWrapper(helper.make_model(graph))
    model.set_initializer("w", weight.astype(np.float32))
    model = model.transform(InferShapes()).transform(LowerConvsToMatMul())
    matmul = model.get_nodes_by_op_type("MatMul")[0]
    return model.get_initializer(matmul.input[1])


def _unit(weights: np.ndarray, pe: int, simd: int, vectors: int) -> MatrixUnit:
    return MatrixUnit(mw=weights.shape[0], mh=weights.shape[1], pe=pe, simd=simd, weight_bits=4, input_bits=4,
                      n_vectors=vectors, mode="sparse_weights", fan_in=weight_structure(weights)["fan_in"],
                      bank_depth=bank_depths(weights, "sparse_weights")[simd], output_bits=4)


def _conv2(banks: int) -> np.ndarray:
    """Hidden conv of the sparse CNN (64 -> 64, 5x5, density 0.2, on 14x14) as FINN lowers it."""
    conv = SparseWeights(nn.Conv2d(64, 64, 5, bias=False), 0.2, seed=1001, banks=banks)
    return _lowered_conv(conv.mask.numpy(), 14)


def _linear(banks: int) -> np.ndarray:
    """Hidden linear layer (1600 -> 1000, density 0.1) reading the (h, w, c) stream after the convs.

    FINN's ``RemoveCNVtoFCFlatten`` permutes the ``[MW, MH]`` rows from torch's (c, h, w) flatten
    to (h, w, c); the flow test below checks the same in the real build.
    """
    layer = SparseWeights(nn.Linear(1600, 1000, bias=False), 0.1, seed=1002, banks=banks, fan_in_shape=(64, 5, 5))
    return layer.mask.numpy().T.reshape(64, 5, 5, 1000).transpose(1, 2, 0, 3).reshape(1600, 1000)


@pytest.mark.parametrize("layer, banks, fan_in, pe, vectors", [
    (_conv2, 32, 320, 4, 100), (_conv2, 64, 320, 4, 100), (_linear, 32, 160, 20, 1), (_linear, 64, 160, 20, 1),
], ids=["conv2-B32", "conv2-B64", "linear-B32", "linear-B64"])
def test_balanced_mask_needs_no_bank_padding_and_fewer_cycles(layer, banks, fan_in, pe, vectors):
    balanced, random = layer(banks), layer(1)
    assert weight_structure(balanced)["fan_in"] == weight_structure(random)["fan_in"] == fan_in
    assert (balanced != 0).sum() == (random != 0).sum()  # same density
    depths = bank_depths(balanced, "sparse_weights")
    for simd in divisors(banks):
        assert depths[simd] == math.ceil(fan_in / simd), simd
        assert _unit(balanced, pe, simd, vectors).words == math.ceil(fan_in / simd)
    for simd in (8, 16, 32):
        assert _unit(balanced, pe, simd, vectors).cycles() < _unit(random, pe, simd, vectors).cycles(), simd
        assert bank_depths(random, "sparse_weights")[simd] > depths[simd]


def test_flow_keeps_the_balance_in_every_sparse_unit(tmp_path):
    """The tiny sparse CNN (8 channels) with ``weight_banks: 8`` through the FINN estimate flow:
    each SparseMVAU's recorded bank depths are ``ceil(F / SIMD)`` for every SIMD dividing
    ``gcd(8, MW)`` (the first conv, 1 x 5 x 5 = 25 inputs, has gcd 1 and is only checked for F)."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    from sparsekws.finn.build import estimate_dataflow
    from support.fixtures import ZCU104, write_cnn_fixture

    cfg = cnn_config(weight_banks=8)
    qonnx, ref = write_cnn_fixture(tmp_path / "in", cfg)
    result = estimate_dataflow(qonnx, ref, ZCU104, tmp_path / "finn", model_cfg=cfg)
    model = ModelWrapper(str(tmp_path / "finn" / "onnx" / "dataflow_model.onnx"))
    units = [getCustomOp(n) for n in model.graph.node if n.op_type == "SparseMVAU"]
    assert len(units) == 3
    # the compile stage emits every sparse unit's Verilog into codegen/ (IP-generation hooks)
    for unit in units:
        name = unit.onnx_node.name
        assert result["codegen"]["sparse_rtl"][name] == "generated"
        assert (tmp_path / "finn" / "codegen" / name / f"{name}_wrapper.v").is_file()
    densities = [*cfg["conv_weight_density"], cfg["linear_weight_density"]]
    balanced = 0
    for unit, density in zip(units, densities):
        mw, fan_in = unit.get_nodeattr("MW"), unit.get_nodeattr("fan_in")
        mask_fan_in = fan_in_for_density(mw, density)  # a weight that quantises to 0 leaves the mask's count lower
        depths = dict(zip(divisors(mw), unit.get_nodeattr("simd_bank_depth")))
        assert depths[1] == fan_in <= mask_fan_in
        for simd in divisors(math.gcd(8, mw)):
            assert math.ceil(fan_in / simd) <= depths[simd] <= math.ceil(mask_fan_in / simd), (unit.onnx_node.name, simd)
        balanced += math.gcd(8, mw) == 8
    assert balanced == 2  # the second conv (200 inputs) and the hidden linear layer (200 inputs)


def test_weight_banks_is_a_model_key_that_changes_nothing_by_default():
    from sparsekws.core.config import ConfigError
    from sparsekws.models.zoo import build_model
    from support.fixtures import default_config

    config = default_config()
    config["models"]["sparse-cnn"]["weight_banks"] = 32
    validated(config)
    config["models"]["sparse-cnn"]["weight_banks"] = 0
    with pytest.raises(ConfigError, match="weight_banks"):
        validated(config)
    plain = default_config()
    plain["models"]["sparse-cnn"].pop("weight_banks", None)
    validated(plain)
    assert "weight_banks" not in plain["models"]["sparse-cnn"]  # no default filled in: run fingerprints unchanged

    def masks(cfg):
        model = build_model(cfg, (1, 32, 32), 12, seed=3)
        return [m.mask for m in model.modules() if isinstance(m, SparseWeights)]

    base = masks(cnn_config())
    assert all(torch.equal(a, b) for a, b in zip(base, masks(cnn_config(weight_banks=1))))
    assert not all(torch.equal(a, b) for a, b in zip(base, masks(cnn_config(weight_banks=8))))
