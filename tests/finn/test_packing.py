"""The vectorised hex packing gives FINN's strings, and FINN's errors, for every data type it handles."""

import numpy as np
import pytest

pytest.importorskip("finn")
from finn.util import data_packing  # noqa: E402
from qonnx.core.datatype import DataType  # noqa: E402

from sparsekws.finn import packing  # noqa: E402

packing.install()
FINN = packing._finn_array2hexstring


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
                    packing.array2hexstring(values, dtype, pad, reverse=reverse)
                continue
            expected = FINN(values, dtype, pad, reverse=reverse)
            assert packing.array2hexstring(values, dtype, pad, reverse=reverse) == expected


def test_docstring_examples():
    assert packing.array2hexstring([1, 1, 1, 0], DataType["BINARY"], 4) == "0xe"
    assert packing.array2hexstring([1, 1, 1, 0], DataType["BINARY"], 8) == "0x0e"
    assert packing.array2hexstring([1, 1, 0, 1], DataType["BINARY"], 4, reverse=True) == "0xb"
    assert packing.array2hexstring([1, 1, 1, 0], DataType["BINARY"], 8, reverse=True, prefix="") == "07"


def test_values_the_type_forbids_fail_as_in_finn():
    with pytest.raises(AssertionError, match="not permitted"):
        packing.array2hexstring([8.0], DataType["INT4"], 4)
    with pytest.raises(AssertionError, match="not permitted"):
        packing.array2hexstring([0.5], DataType["INT4"], 4)


def test_installed_for_innermost_packing():
    weights = np.random.default_rng(1).integers(-8, 8, size=(3, 5, 7)).astype(np.float32)
    packed = data_packing.pack_innermost_dim_as_hex_string(weights, DataType["INT4"], 28)
    expected = np.array([[FINN(row, DataType["INT4"], 28) for row in block] for block in weights])
    assert data_packing.array2hexstring is packing.array2hexstring
    assert (packed == expected).all()
