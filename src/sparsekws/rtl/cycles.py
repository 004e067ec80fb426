"""Cycle formulas of the generated units: steady-state cycles per frame, input always valid,
output always ready (one frame = one input vector, or one k-WTA frame of positions x channels values).

- dense MVU:         NF * SF            with NF = rows/PE, SF = cols/SIMD
- sparse MVU:        max(NF * bank_depth, cols/SIMD)  (ping-pong input buffer: load overlaps compute)
- sparse-sparse MVU: NF * K/SIMD        (K active inputs per frame, SIMD pairs per beat)
- sparse-sparse scatter MVU: max(K/SIMD * bank_depth, NF)  (sparse rows; the drain of a frame
                     overlaps the next frame's scatter)
- rank-ROM k-WTA:    max(N, D, (N + D + 2)/2)  with N = L/PE, D = ceil(bins/PE) + T + 1, T = C/PE (2-D) or 0

The pipelines add a fixed latency (2 cycles for the MVUs) that does not change the rate.
"""

from __future__ import annotations

from sparsekws.rtl.verilog import MvuShape


def dense_mvu(shape: MvuShape) -> int:
    return shape.nf * (shape.cols // shape.simd)


def sparse_mvu(shape: MvuShape) -> int:
    return max(shape.nf * shape.bank_depth, shape.cols // shape.simd)


def sparse_sparse_mvu(shape: MvuShape) -> int:
    return shape.nf * (shape.active // shape.simd)


def sparse_sparse_scatter_mvu(shape: MvuShape) -> int:
    return max((shape.active // shape.simd) * shape.bank_depth, shape.nf)


def ranked_kwta(shape, frames: int = 1) -> float:
    """Rank-ROM k-WTA (``kwta_ranked``): ``max(N, D, (N + D + 2) / 2)`` per frame, N = beats per
    frame, D = S + T + 1 decide cycles (S histogram words, T = C/PE tie-pass words for 2-D, else 0).

    Load-bound (N >= D + 2): N; decide-bound (D >= N + 2): D; in between the two histogram sets
    alternate and the mean is (N + D + 2) / 2 (a half cycle when N + D is odd).
    """
    n, d = shape.beats, shape.decide_cycles
    per_frame = max(n, d, (n + d + 2) / 2)
    total = frames * per_frame
    return int(total) if total == int(total) else total
