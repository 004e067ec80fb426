"""Constant-coefficient matrix unit: the trained weights as logic, one input vector per cycle.

Each non-zero weight ``w`` multiplies by shifts and adds: its canonical signed digits (``csd``,
the fewest non-zero digits ``±2^s``) are the terms it adds to its output's sum; a zero weight adds
nothing. Every output is one adder tree over its terms (``terms - 1`` adders of the accumulator's
width) and a comparator per threshold (a constant: about half a LUT per bit). No weight memory,
no multiplier, no DSP. Fully parallel only (PE = outputs, SIMD = inputs): ``n_vectors`` cycles per
frame; the RTL is ``rtl.constant_mvu``. LUT/FF factors: ``units.calibration`` kind ``constant``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sparsekws.units import constants as K


def csd(value: int) -> list[tuple[int, int]]:
    """Canonical signed digits of ``value``: ``[(shift, ±1), ...]`` with ``value = sum(d << s)``."""
    digits, shift = [], 0
    while value:
        if value & 1:
            digit = 2 - (value & 3)  # +1 if value = 1 mod 4, -1 if value = 3 mod 4
            digits.append((shift, digit))
            value -= digit
        value >>= 1
        shift += 1
    return digits


def csd_terms(weights: np.ndarray) -> int:
    """Terms (signed shifted inputs) the layer's weights add up: their non-zero signed digits."""
    return int(sum(len(csd(int(w))) for w in np.asarray(weights, dtype=np.int64).ravel() if w))


@dataclass(frozen=True)
class ConstantUnit:
    """A fully parallel constant-coefficient unit of ``mh`` outputs over ``mw`` inputs (``terms``:
    ``csd_terms`` of its weights; ``acc_bits``: the accumulator width)."""

    mw: int
    mh: int
    weight_bits: int
    input_bits: int
    terms: int
    acc_bits: int
    output_bits: int
    n_vectors: int = 1
    input_signed: bool = False

    mode = "constant"
    dense_limit = False
    calibration_kind = "constant"

    @property
    def pe(self) -> int:
        return self.mh

    @property
    def simd(self) -> int:
        return self.mw

    def cycles(self) -> int:
        return int(self.n_vectors)

    def luts(self) -> int:
        adders = max(0, self.terms - self.mh) * self.acc_bits
        levels = (1 << self.output_bits) - 1 if self.output_bits else 0
        compare = self.mh * levels * math.ceil(self.acc_bits / 2)
        return int(K.FINN_LUT_BASE + adders + compare)

    def ffs(self) -> int:
        return int(K.FF_BASE + self.mw * self.input_bits + self.mh * max(self.output_bits, 1))

    def bram18(self) -> int:
        return 0

    def uram(self) -> int:
        return 0

    def dsps(self) -> int:
        return 0

    def resources(self) -> dict[str, int | str]:
        return {"LUT": self.luts(), "FF": self.ffs(), "BRAM_18K": 0, "URAM": 0, "DSP": 0, "model": "sparsekws-model"}
