"""A vectorised ``finn.util.data_packing.array2hexstring`` for integer data types.

FINN packs every weight word of an HLS layer into a hex string with one ``bitstring.BitArray``
per value: about 50 s of the dense CNN's code generation per board. ``array2hexstring`` here
gives the same strings from numpy bit arithmetic (checked against FINN's in the tests); float
data types and bit widths that are not whole hex digits go to FINN's own function, as do
values the data type does not allow (FINN's assertion then names the problem).
``install()`` puts it in place of FINN's (callers look the function up at call time).
"""

from __future__ import annotations

import numpy as np

HEX_DIGITS = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
_finn_array2hexstring = None


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


def install() -> None:
    """Use ``array2hexstring`` for FINN's weight and threshold packing (idempotent)."""
    global _finn_array2hexstring
    from finn.util import data_packing

    if _finn_array2hexstring is None:
        _finn_array2hexstring = data_packing.array2hexstring
    data_packing.array2hexstring = array2hexstring
