"""Generated Verilog: Verilator -Wall lint, Yosys parse, shape checks."""

import os
import subprocess

import numpy as np
import pytest

from sparsekws.rtl import cases, cycles
from sparsekws.rtl.tools import ToolMissing, verilator_env, yosys_path
from sparsekws.rtl.verilog import MvuShape, dense_mvu, sparse_mvu

SHAPE = MvuShape(rows=8, cols=12, pe=2, simd=3, wbits=3, abits=3, obits=2)


def small_cases():
    rng = np.random.default_rng(0)
    return [cases.mvu_case("dense", SHAPE, rng, 3),
            cases.mvu_case("sparse", MvuShape(8, 12, 2, 3, 3, 3, 2, fan_in=4), rng, 3),
            cases.mvu_case("sparse_sparse", MvuShape(8, 12, 2, 2, 3, 3, 2, active=4), rng, 3),
            cases.mvu_case("dense", MvuShape(4, 6, 4, 6, 4, 8, 1, in_signed=True), rng, 3)]  # NF = SF = 1


def _verilator():
    try:
        env = verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    return env


@pytest.mark.parametrize("case", small_cases(), ids=lambda c: c.name)
def test_verilator_lint_wall_is_clean(case, tmp_path):
    env = _verilator()
    source = tmp_path / f"{case.name}.v"
    source.write_text(case.verilog)
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(source)], capture_output=True, text=True,
                          env=os.environ | env)
    assert proc.returncode == 0, proc.stderr
    assert "%Warning" not in proc.stderr


@pytest.mark.parametrize("case", small_cases(), ids=lambda c: c.name)
def test_yosys_reads_without_warnings(case, tmp_path):
    try:
        yosys = yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    source = tmp_path / f"{case.name}.v"
    source.write_text(case.verilog)
    proc = subprocess.run([yosys, "-p", f"read_verilog {source}; hierarchy -check -top {case.name}; proc"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "Warning" not in proc.stdout


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="PE=3 must divide rows=8"):
        dense_mvu("x", MvuShape(8, 12, 3, 3, 3, 3, 2), np.zeros((8, 12)), np.zeros((8, 3)))
    with pytest.raises(ValueError, match="thresholds must have shape"):
        dense_mvu("x", SHAPE, np.zeros((8, 12)), np.zeros((8, 2)))


def test_weights_are_baked_into_the_rom():
    weights = np.zeros((8, 12), dtype=int)
    weights[5, 7] = -3  # PE 1, fold 2, synapse fold 2, lane 1 -> word 2*4+2 of wmem1, bits [3 +: 3]
    text = dense_mvu("t", SHAPE, weights, np.zeros((8, 3), dtype=int))
    assert "wmem1[10] = 9'h28;" in text  # -3 as 3-bit two's complement = 5, shifted by 3


def test_sparse_rom_holds_word_addresses_in_the_lane_bank():
    weights = np.zeros((2, 4), dtype=int)
    weights[0, 3] = 1  # input 3: bank 1 (3 mod 2), word 1; row 1 keeps one weight in bank 0
    weights[1, 2] = -1
    shape = MvuShape(2, 4, 1, 2, 2, 2, 1, fan_in=1, bank_depth=1)
    text = sparse_mvu("s", shape, weights, np.zeros((2, 1), dtype=int))
    # lane = (word 1 bit, weight 2 bits); row 0: lane 0 padding 0, lane 1 = (1 << 2) | 1 = 5 -> 0x28
    assert "wmem0[0] = 6'h28;" in text and "wmem0[1] = 6'h7;" in text  # row 1: lane 0 = (1 << 2) | 3
    with pytest.raises(ValueError, match="bank_depth >= 1"):
        sparse_mvu("s", MvuShape(2, 4, 1, 2, 2, 2, 1, fan_in=1), weights, np.zeros((2, 1), dtype=int))


def test_cycle_formulas():
    assert cycles.dense_mvu(SHAPE) == 4 * 4
    assert cycles.sparse_mvu(MvuShape(8, 12, 2, 3, 3, 3, 2, fan_in=4, bank_depth=2)) == 8
    assert cycles.sparse_mvu(MvuShape(8, 12, 8, 1, 3, 3, 2, fan_in=2, bank_depth=2)) == 12  # load-bound
    assert cycles.sparse_sparse_mvu(MvuShape(8, 12, 2, 2, 3, 3, 2, active=4)) == 8
