"""Bit widths of counters and addresses."""

from __future__ import annotations

import math


def index_bits(n: int) -> int:
    """Bits of an index into ``n`` items (0 for a single item)."""
    return math.ceil(math.log2(n)) if n > 1 else 0


def clog2(n: int) -> int:
    """Bits of a register that counts 0 .. n-1 (at least 1, as Verilog wants a width)."""
    return max(1, math.ceil(math.log2(n))) if n > 1 else 1
