"""Vectorised stand-ins for two FINN/QONNX helpers that loop over values in Python.

- ``array2hexstring`` (``finn.util.data_packing``): FINN packs every weight word of an HLS
  layer into a hex string with one ``bitstring.BitArray`` per value, about 50 s of the dense
  CNN's code generation per board. This one gives the same strings from numpy bit arithmetic;
  float data types, bit widths that are not whole hex digits and values the data type does not
  allow go to FINN's own function (whose assertion then names the problem).
- ``sanitize_quant_values`` (``qonnx.util.basic``, called before and after every node of a
  QONNX execution): the same rounding of integer-annotated tensors and the same checks, but the
  largest rounding error taken by numpy instead of Python's ``max`` over every value (about 16 s
  of a dense CNN compile's graph executions).

``install()`` puts both in place (callers look the functions up at call time); the tests check
them against the originals.
"""

from __future__ import annotations

import warnings

import numpy as np

HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_finn_array2hexstring = None
_qonnx_sanitize = None


def array2hexstring(array, dtype, pad_to_nbits, prefix="0x", reverse=False):
    """``array2hexstring`` of FINN, vectorised for integer, binary, bipolar and fixed-point types."""
    pad_to_nbits = max(pad_to_nbits, 4)
    values = np.asarray(array, dtype=np.float32)
    name = dtype.name
    if values.ndim != 1 or pad_to_nbits % 4 or not (dtype.is_integer() or dtype.is_fixed_point()):
        return _finn_array2hexstring(array, dtype, pad_to_nbits, prefix=prefix, reverse=reverse)
    if name == "BIPOLAR":
        values = (values + 1) / 2
    if dtype.is_fixed_point():
        values = values / dtype.scale_factor()
    bits = dtype.bitwidth()
    low, high = (0, 1) if name == "BIPOLAR" else (dtype.min(), dtype.max())
    if dtype.is_fixed_point():
        low, high = -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    if np.any(values != np.round(values)) or np.any(values < low) or np.any(values > high):
        return _finn_array2hexstring(array, dtype, pad_to_nbits, prefix=prefix, reverse=reverse)
    if len(values) * bits > pad_to_nbits:
        raise Exception("Number of bits is greater than pad_to_nbits")
    if reverse:
        values = values[::-1]
    words = values.astype(np.int64) & ((1 << bits) - 1)  # two's complement of the signed types
    value_bits = (words[:, None] >> np.arange(bits - 1, -1, -1)) & 1
    padded = np.concatenate([np.zeros(pad_to_nbits - value_bits.size, dtype=np.int64), value_bits.ravel()])
    nibbles = padded.reshape(-1, 4) @ np.array([8, 4, 2, 1])
    return prefix + HEX_DIGITS[nibbles].tobytes().decode("ascii")


def sanitize_quant_values(model, node_tensors, execution_context, check_values=False):
    """``qonnx.util.basic.sanitize_quant_values`` with the largest rounding error taken by numpy."""
    from qonnx.util.basic import get_execution_error_thresh

    for name in node_tensors:
        dtype = model.get_tensor_datatype(name)
        if not dtype.is_integer():
            continue
        values = execution_context[name]
        updated = values
        if not np.all(dtype.allowed(values)):
            updated = np.round(values)
            warnings.warn(f"The values of tensor {name} can't be represented with the set datatype annotation "
                          f"({dtype.name}), they will be rounded to match the datatype annotation.")
        error = float(np.max(np.abs(values - updated))) if np.size(values) else 0.0
        if not error <= get_execution_error_thresh():  # NaN fails too, as in QONNX
            raise Exception(f"Rounding error is too high to match set QONNX datatype ({dtype}) for input {name}")
        if check_values and not np.all(dtype.allowed(updated)):
            raise Exception(f"Values can't be represented with set finn datatype ({dtype}) for input {name}")
        execution_context[name] = updated
    return execution_context


def install() -> None:
    """Use ``array2hexstring`` for FINN's weight and threshold packing and ``sanitize_quant_values``
    for QONNX's execution (idempotent)."""
    global _finn_array2hexstring, _qonnx_sanitize
    from finn.util import data_packing
    from qonnx.core import onnx_exec

    if _finn_array2hexstring is None:
        _finn_array2hexstring = data_packing.array2hexstring
        _qonnx_sanitize = onnx_exec.sanitize_quant_values
    data_packing.array2hexstring = array2hexstring
    onnx_exec.sanitize_quant_values = sanitize_quant_values
