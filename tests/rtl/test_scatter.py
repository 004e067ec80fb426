"""Sparse-sparse scatter unit (sparse rows): exact outputs under back-pressure, cycles per frame equal
to the cycle formula and to the cost model, the row memory image, Verilator lint and Yosys synthesis."""

import os
import subprocess

import numpy as np
import pytest

from sparsekws.units.cost import MatrixUnit
from sparsekws.finn.ops.sparse_mvau import bank_depths
from sparsekws.units.schedule import weight_structure
from sparsekws.rtl import cases, cycles, synth
from sparsekws.units import golden
from sparsekws.rtl.tools import ToolMissing, verilator_env, yosys_path
from sparsekws.rtl.verilog import MvuShape, sparse_sparse_scatter_mvu
from support.rtl_sim import simulate_or_skip

FRAMES = 5


def _cost_unit(shape: MvuShape, weights: np.ndarray) -> MatrixUnit:
    """The unit as ``SparseMVAU.cost_unit`` describes it (bank depth measured from the weights)."""
    stored = weights.T  # [MW, MH], FINN's layout
    structure = weight_structure(stored)
    return MatrixUnit(mw=shape.cols, mh=shape.rows, pe=shape.pe, simd=shape.simd, weight_bits=shape.wbits,
                      input_bits=shape.abits, input_signed=shape.in_signed, mode="sparse_sparse",
                      fan_in=structure["fan_in"], row_nnz=structure["row_nnz"], active_inputs=shape.active,
                      bank_depth=bank_depths(stored, "sparse_sparse")[shape.pe])


@pytest.mark.parametrize("shape", [
    MvuShape(16, 64, 4, 2, 4, 4, 2, fan_in=8, active=8),                  # scatter-bound: 4 beats x depth > NF = 4
    MvuShape(16, 64, 1, 4, 4, 4, 2, fan_in=8, active=8),                  # drain-bound: 2 beats x depth < NF = 16
    MvuShape(8, 24, 8, 3, 3, 3, 1, fan_in=5, active=6, in_signed=True),   # NF = 1, signed inputs
], ids=["pe4_simd2", "pe1_simd4", "nf1_signed"])
def test_scatter_unit_is_exact_at_the_modelled_cycles(shape, tmp_path):
    rng = np.random.default_rng(shape.pe * 10 + shape.simd)
    weights = golden.random_fixed_fan_in(shape.rows, shape.cols, shape.fan_in, shape.wbits, rng)
    unit = _cost_unit(shape, weights)
    assert not unit.dense_limit and not unit.lockstep  # rows are sparse: the scatter mode
    case = cases.mvu_case("sparse_sparse_scatter", shape, rng, FRAMES, weights=weights)
    assert case.shape.bank_depth == unit.words == golden.bank_depth(weights.T, shape.pe)
    result = simulate_or_skip(case, tmp_path, seed=shape.pe)
    assert result.passed, result.first_mismatch
    assert result.beats_checked == 2 * FRAMES * shape.nf
    assert result.cycles_per_frame_sim == case.cycles_per_frame == unit.cycles()
    assert case.cycles_per_frame == max(shape.active // shape.simd * case.shape.bank_depth, shape.nf)


def _one_per_row(rows: int, cols: int, rng: np.random.Generator) -> np.ndarray:
    """Input ``i`` feeds output ``i mod rows`` only (bank depth 1 at any PE)."""
    weights = np.zeros((rows, cols), dtype=np.int64)
    weights[np.arange(cols) % rows, np.arange(cols)] = rng.choice([-3, -2, -1, 1, 2, 3], size=cols)
    return weights


@pytest.mark.parametrize("active, simd, depth", [(7, 1, 1), (8, 2, 2), (9, 1, 1)],
                         ids=["nf_minus_1", "nf", "nf_plus_1"])
def test_frame_turnover_keeps_the_rate_when_scatter_and_drain_balance(active, simd, depth, tmp_path):
    """A copy takes the next frame in the cycle its drain reads the last word: per frame max(scatter, NF)."""
    shape = MvuShape(16, 32, 2, simd, 4, 4, 2, active=active, bank_depth=depth)  # NF = 8, padded bank depth
    rng = np.random.default_rng(active)
    case = cases.mvu_case("sparse_sparse_scatter", shape, rng, FRAMES, weights=_one_per_row(16, 32, rng))
    result = simulate_or_skip(case, tmp_path, seed=active)
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == case.cycles_per_frame == max(active // simd * depth, 8)


def test_row_memory_holds_output_words_banked_by_pe():
    weights = np.zeros((4, 2), dtype=int)  # 4 outputs, 2 inputs; PE = 2 -> NF = 2, 1-bit output word
    weights[2, 0] = 1  # input 0: output 2 = bank 0, word 1
    weights[1, 1] = -1  # input 1: outputs 1 and 3 = bank 1, words 0 and 1 -> bank depth 2
    weights[3, 1] = -2
    shape = MvuShape(4, 2, 2, 1, 2, 2, 1, active=1, bank_depth=2)
    text = sparse_sparse_scatter_mvu("s", shape, weights, np.zeros((4, 1), dtype=int))
    # lane p at bits [3p +: 3] = (word << 2) | weight; address = input * bank_depth + step
    assert "rmem0[0] = 6'h5;" in text and "rmem0[1] = 6'h0;" in text
    assert "rmem0[2] = 6'h18;" in text and "rmem0[3] = 6'h30;" in text  # -1 = 3, (1 << 2) | (-2 = 2) = 6
    with pytest.raises(ValueError, match="bank_depth >= 2"):
        sparse_sparse_scatter_mvu("s", MvuShape(4, 2, 2, 1, 2, 2, 1, active=1, bank_depth=1), weights,
                                  np.zeros((4, 1), dtype=int))
    with pytest.raises(ValueError, match="shape.active"):
        sparse_sparse_scatter_mvu("s", MvuShape(4, 2, 2, 1, 2, 2, 1, bank_depth=2), weights, np.zeros((4, 1)))


def test_cycle_formula():
    assert cycles.sparse_sparse_scatter_mvu(MvuShape(16, 64, 4, 2, 4, 4, 2, active=8, bank_depth=3)) == 12
    assert cycles.sparse_sparse_scatter_mvu(MvuShape(16, 64, 1, 4, 4, 4, 2, active=8, bank_depth=5)) == 16


def _small_case():
    rng = np.random.default_rng(3)
    return cases.mvu_case("sparse_sparse_scatter", MvuShape(8, 16, 2, 2, 3, 3, 1, fan_in=3, active=4), rng, 3)


def test_verilator_lint_and_yosys_read_are_clean(tmp_path):
    case = _small_case()
    source = tmp_path / f"{case.name}.v"
    source.write_text(case.verilog)
    try:
        env = verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(source)], capture_output=True, text=True,
                          env=os.environ | env)
    assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr
    try:
        yosys = yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    proc = subprocess.run([yosys, "-p", f"read_verilog {source}; hierarchy -check -top {case.name}; proc"],
                          capture_output=True, text=True)
    assert proc.returncode == 0 and "Warning" not in proc.stdout, proc.stderr


def test_small_scatter_unit_synthesises_with_lutram_accumulators(tmp_path):
    try:
        yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    case = _small_case()
    result = synth.synthesize(case.verilog, case.name, tmp_path)
    # 2 copies x SIMD 2 x PE 2 accumulator memories of NF = 4 words map to distributed RAM
    assert result.lut_mem > 0 and result.lut_logic > 0 and result.ff > 0
    assert result.bram18 == 0 and result.dsp == 0
