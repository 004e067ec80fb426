"""cocotb + Verilator harness: one small sparse unit simulated for real, and the comparison logic."""

import dataclasses
import os

import numpy as np
import pytest

from sparsekws.rtl import cases, sim
from sparsekws.rtl.tools import ToolMissing, apply_verilator_env
from sparsekws.rtl.verilog import MvuShape


def _case():
    shape = MvuShape(rows=4, cols=8, pe=2, simd=2, wbits=3, abits=2, obits=2, fan_in=4)
    weights = np.zeros((4, 8), dtype=int)
    weights[:, [0, 1, 4, 7]] = [[1, -2, 3, -1], [2, 2, -4, 1], [-3, 1, 1, 3], [1, 1, 1, -1]]  # 2 per bank
    return cases.mvu_case("sparse", shape, np.random.default_rng(3), frames=4, weights=weights)


def test_sparse_unit_simulates_exactly_with_backpressure(tmp_path):
    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    case = _case()
    result = sim.simulate(case, tmp_path)
    assert result.passed, result.first_mismatch
    assert result.beats_checked == 2 * len(case.out_beats)
    assert result.cycles_per_frame_sim == case.cycles_per_frame == 4  # load 8/2, compute NF 2 x depth 2
    # the same build with one expected beat changed must fail
    wrong = dataclasses.replace(case, out_beats=[case.out_beats[0] ^ 1] + case.out_beats[1:])
    assert sim.simulate(wrong, tmp_path).mismatches == 2


def test_compare_counts_mismatches_and_measures_rate():
    case = cases.Case("u", "", [1, 2, 3], out_beats=[5, 6, 7], frames=3, cycles_per_frame=10)
    result = {"outputs": ["5", "6", "7", "5", "0", "7"], "out_cycles": [12, 22, 32, 60, 80, 90], "cycles": 91}
    out = sim.compare(case, result)
    assert out.mismatches == 1 and "beat 4" in out.first_mismatch
    assert out.cycles_per_frame_sim == 10.0 and out.first_frame_latency == 12
    short = sim.compare(case, {"outputs": ["5"], "out_cycles": [12], "cycles": 500})
    assert short.mismatches == 5 and not short.passed and "timeout" in short.first_mismatch


def test_make_variables_reach_the_build_and_the_environment_is_restored(monkeypatch):
    monkeypatch.delenv("MAKEFLAGS", raising=False)
    with sim._make_variables(sim.UNOPTIMISED_BUILD):
        assert os.environ["MAKEFLAGS"] == "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"
    assert "MAKEFLAGS" not in os.environ
    monkeypatch.setenv("MAKEFLAGS", "-j2")  # a parent make's flags are kept
    with sim._make_variables("OPT_FAST=-O0"):
        assert os.environ["MAKEFLAGS"] == "-j2 OPT_FAST=-O0"
    assert os.environ["MAKEFLAGS"] == "-j2"
    with sim._make_variables(""):  # an optimised build: nothing added
        assert os.environ["MAKEFLAGS"] == "-j2"
