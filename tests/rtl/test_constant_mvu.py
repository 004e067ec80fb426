"""Constant-coefficient unit: exact under back-pressure at one vector per cycle; its shape is refused otherwise."""

from __future__ import annotations

import numpy as np
import pytest

from sparsekws.rtl import cases
from sparsekws.rtl.constant_mvu import constant_mvu
from sparsekws.rtl.tools import ToolMissing
from sparsekws.rtl.verilog import MvuShape
from sparsekws.units import golden
from sparsekws.units.constant import ConstantUnit, csd, csd_terms


@pytest.mark.parametrize("shape", [
    MvuShape(8, 25, 8, 25, 4, 8, 4, in_signed=True, fan_in=12),   # conv1's kind: signed 8-bit input
    MvuShape(6, 10, 6, 10, 3, 4, 2, fan_in=4),                      # unsigned input, 2-bit output
], ids=["signed", "unsigned"])
def test_constant_unit_is_exact_at_one_vector_per_cycle(shape, tmp_path):
    from sparsekws.rtl.sim import simulate
    from sparsekws.rtl.tools import apply_verilator_env

    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    case = cases.mvu_case("constant", shape, np.random.default_rng(shape.rows), frames=6)
    result = simulate(case, tmp_path, seed=1)
    assert result.passed, result.first_mismatch
    assert result.beats_checked == 12 and result.cycles_per_frame_sim == case.cycles_per_frame == 1


def test_csd_digits_rebuild_every_4_bit_weight_with_the_fewest_terms():
    for value in range(-8, 8):
        digits = csd(value)
        assert sum(digit << shift for shift, digit in digits) == value
        assert all(b - a >= 2 for (a, _), (b, _) in zip(digits, digits[1:]))  # no two adjacent digits
    assert [len(csd(v)) for v in (0, 1, 3, 5, 7, -8)] == [0, 1, 2, 2, 2, 1]
    assert csd_terms(np.array([[3, 0], [-8, 1]])) == 4


def test_the_unit_counts_its_terms_and_needs_no_memory():
    unit = ConstantUnit(mw=25, mh=64, weight_bits=4, input_bits=8, terms=1200, acc_bits=16, output_bits=4,
                        n_vectors=784, input_signed=True)
    assert unit.cycles() == 784 and (unit.pe, unit.simd) == (64, 25)
    assert unit.resources()["BRAM_18K"] == unit.dsps() == 0 and unit.luts() > (1200 - 64) * 16


def test_a_folded_shape_is_refused():
    shape = MvuShape(8, 25, 4, 25, 4, 8, 4)
    weights = golden.random_fixed_fan_in(8, 25, 5, 4, np.random.default_rng(0))
    with pytest.raises(ValueError, match="whole vector per cycle"):
        constant_mvu("c", shape, weights, np.zeros((8, 15), dtype=int))
