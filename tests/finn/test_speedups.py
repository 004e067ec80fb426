"""The vectorised stand-ins give FINN's and QONNX's results and errors."""

import numpy as np
import pytest

pytest.importorskip("finn")
from finn.util import data_packing  # noqa: E402
from qonnx.core.datatype import DataType  # noqa: E402

from sparsekws.finn import speedups  # noqa: E402

speedups.install()
FINN = speedups._finn_array2hexstring


@pytest.mark.parametrize("name", ["INT4", "UINT4", "INT8", "UINT2", "INT3", "BINARY", "BIPOLAR", "INT32",
                                  "FIXED<8,4>"])
@pytest.mark.parametrize("reverse", [False, True])
def test_same_strings_as_finn(name, reverse):
    dtype = DataType[name]
    rng = np.random.default_rng(0)
    for length in (1, 3, 16):
        if name == "BIPOLAR":
            values = rng.choice([-1.0, 1.0], size=length)
        elif dtype.is_fixed_point():
            values = rng.integers(-128, 128, size=length) * dtype.scale_factor()
        else:
            values = rng.integers(dtype.min(), dtype.max() + 1, size=length).astype(np.float64)
        for pad in (dtype.bitwidth() * length, dtype.bitwidth() * length + 9, 1):
            pad = -(-max(pad, 4) // 4) * 4
            if pad < dtype.bitwidth() * length:
                with pytest.raises(Exception, match="greater than pad_to_nbits"):
                    speedups.array2hexstring(values, dtype, pad, reverse=reverse)
                continue
            expected = FINN(values, dtype, pad, reverse=reverse)
            assert speedups.array2hexstring(values, dtype, pad, reverse=reverse) == expected


def test_docstring_examples():
    assert speedups.array2hexstring([1, 1, 1, 0], DataType["BINARY"], 4) == "0xe"
    assert speedups.array2hexstring([1, 1, 1, 0], DataType["BINARY"], 8) == "0x0e"
    assert speedups.array2hexstring([1, 1, 0, 1], DataType["BINARY"], 4, reverse=True) == "0xb"
    assert speedups.array2hexstring([1, 1, 1, 0], DataType["BINARY"], 8, reverse=True, prefix="") == "07"


def test_values_the_type_forbids_fail_as_in_finn():
    with pytest.raises(AssertionError, match="not permitted"):
        speedups.array2hexstring([8.0], DataType["INT4"], 4)
    with pytest.raises(AssertionError, match="not permitted"):
        speedups.array2hexstring([0.5], DataType["INT4"], 4)


def test_installed_for_innermost_packing():
    weights = np.random.default_rng(1).integers(-8, 8, size=(3, 5, 7)).astype(np.float32)
    packed = data_packing.pack_innermost_dim_as_hex_string(weights, DataType["INT4"], 28)
    expected = np.array([[FINN(row, DataType["INT4"], 28) for row in block] for block in weights])
    assert data_packing.array2hexstring is speedups.array2hexstring
    assert (packed == expected).all()


def _model(dtype_name):
    from onnx import TensorProto, helper
    from qonnx.core.modelwrapper import ModelWrapper

    node = helper.make_node("Relu", ["x"], ["y"])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [4, 5])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [4, 5])])
    model = ModelWrapper(helper.make_model(graph))
    model.set_tensor_datatype("x", DataType[dtype_name])
    return model


@pytest.mark.parametrize("name", ["INT4", "FLOAT32", "UINT8"])
def test_sanitize_rounds_and_checks_as_qonnx(name):
    rng = np.random.default_rng(0)
    model = _model(name)
    exact = rng.integers(0, 8, size=(4, 5)).astype(np.float32)
    nearly = exact + rng.uniform(-1e-6, 1e-6, size=exact.shape).astype(np.float32)
    for values in (exact, nearly):
        ours = speedups.sanitize_quant_values(model, ["x"], {"x": values.copy()})["x"]
        with pytest.warns(UserWarning) if values is nearly and name != "FLOAT32" else _no_warning():
            theirs = speedups._qonnx_sanitize(model, ["x"], {"x": values.copy()})["x"]
        assert np.array_equal(ours, theirs)
    far = exact + 0.3
    for sanitize in (speedups.sanitize_quant_values, speedups._qonnx_sanitize):
        if name == "FLOAT32":
            assert np.array_equal(sanitize(model, ["x"], {"x": far.copy()})["x"], far)
        else:
            with pytest.raises(Exception, match="Rounding error is too high"):
                sanitize(model, ["x"], {"x": far.copy()})


def _no_warning():
    import contextlib

    return contextlib.nullcontext()
