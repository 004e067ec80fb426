"""Cycle formulas of the generated units: steady-state cycles per frame, input always valid,
output always ready (one frame = one input vector, or ``groups`` k-WTA groups).

- dense MVU:         NF * SF            with NF = rows/PE, SF = cols/SIMD
- sparse MVU:        max(NF * F/SIMD, cols/in_simd)   (ping-pong input buffer: load overlaps compute)
- sparse-sparse MVU: NF * K/SIMD        (K active inputs per frame, SIMD pairs per beat)
- k-WTA:             groups * (2 * group/SIMD + 1)    (load, one scan cycle, emit; no overlap)

The pipelines add a fixed latency (2 cycles for the MVUs) that does not change the rate.
"""

from __future__ import annotations

from sparsekws.rtl.verilog import KwtaShape, MvuShape


def dense_mvu(shape: MvuShape) -> int:
    return shape.nf * (shape.cols // shape.simd)


def sparse_mvu(shape: MvuShape) -> int:
    return max(shape.nf * (shape.fan_in // shape.simd), shape.cols // (shape.in_simd or shape.simd))


def sparse_sparse_mvu(shape: MvuShape) -> int:
    return shape.nf * (shape.active // shape.simd)


def kwta(shape: KwtaShape, groups: int = 1) -> int:
    return groups * (2 * (shape.group // shape.simd) + 1)
