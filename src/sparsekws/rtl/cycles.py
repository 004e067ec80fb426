"""Cycle formulas of the generated units: steady-state cycles per frame, input always valid,
output always ready (one frame = one input vector, or ``groups`` k-WTA groups).

- dense MVU:         NF * SF            with NF = rows/PE, SF = cols/SIMD
- sparse MVU:        max(NF * bank_depth, cols/SIMD)  (ping-pong input buffer: load overlaps compute)
- sparse-sparse MVU: NF * K/SIMD        (K active inputs per frame, SIMD pairs per beat)
- k-WTA:             groups * (group/SIMD + 1)        (load + one scan cycle; emission overlaps the next load)

The pipelines add a fixed latency (2 cycles for the MVUs) that does not change the rate.
"""

from __future__ import annotations

from sparsekws.rtl.verilog import KwtaShape, MvuShape


def dense_mvu(shape: MvuShape) -> int:
    return shape.nf * (shape.cols // shape.simd)


def sparse_mvu(shape: MvuShape) -> int:
    return max(shape.nf * shape.bank_depth, shape.cols // shape.simd)


def sparse_sparse_mvu(shape: MvuShape) -> int:
    return shape.nf * (shape.active // shape.simd)


def kwta(shape: KwtaShape, groups: int = 1) -> int:
    return groups * (shape.group // shape.simd + 1)
