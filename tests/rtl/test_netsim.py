"""A toy network (window generator, dense unit, max pool, last layer) stitched, built with the C++
testbench and run: logits exact, FIFOs sized, cycles per word measured."""

import numpy as np
import pytest

from sparsekws.rtl import netsim
from sparsekws.rtl.netsim import Stage, depths, stitch, timing
from sparsekws.rtl.tools import ToolMissing, apply_verilator_env
from sparsekws.rtl.verilog import MvuShape, dense_mvu
from sparsekws.rtl.window import WindowShape, conv_window, max_pool
from sparsekws.units import golden


def _windows(x, k, s):
    frames, height, width, _ = x.shape
    return np.stack([x[:, oy:oy + k, ox:ox + k, :].reshape(frames, -1)
                     for oy in range(0, height - k + 1, s) for ox in range(0, width - k + 1, s)], 1)


def toy(words: int = 40):
    """Stages of a 8x8x2 conv (3x3, 4 maps, 2-bit thresholds) -> 2x2 max pool -> 3 logits, inputs, logits."""
    rng = np.random.default_rng(1)
    x = rng.integers(-8, 8, size=(words, 8, 8, 2))
    conv = MvuShape(rows=4, cols=18, pe=2, simd=6, wbits=3, abits=4, obits=2, in_signed=True)
    w1 = rng.integers(-3, 4, size=(4, 18))
    acc = _windows(x, 3, 1) @ w1.T
    t1 = golden.random_thresholds(int(acc.min()), int(acc.max()) + 1, 4, 2, rng)
    maps = golden.threshold(acc.reshape(-1, 4), t1).reshape(words, 6, 6, 4)
    pooled = _windows(maps, 2, 2).reshape(words, 9, 4, 4).max(axis=2).reshape(words, -1)
    last = MvuShape(rows=3, cols=36, pe=1, simd=4, wbits=3, abits=2, obits=2)
    w2 = rng.integers(-3, 4, size=(3, 36))
    stages = [Stage("win", conv_window("win", WindowShape(8, 8, 2, 3, 1, 2, 6, 4, signed=True, in_words=1)), 2, 4, 6, 4),
              Stage("conv", dense_mvu("conv", conv, w1, t1), 6, 4, 2, 2),
              Stage("pool", max_pool("pool", WindowShape(6, 6, 4, 2, 2, 2, 2, 2)), 2, 2, 2, 2),
              Stage("fc", dense_mvu("fc", last, w2, None), 4, 2, 1, last.acc_bits)]
    return stages, x.reshape(words, -1), pooled @ w2.T


def test_toy_network_is_exact_and_timed(tmp_path):
    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    stages, inputs, logits = toy()
    network = stitch(stages)
    sizing, measured = netsim.simulate(network, inputs, 3, model_cycles=200, cache=tmp_path / "cache",
                                       work=tmp_path / "work")
    assert measured.complete and np.array_equal(measured.values.reshape(logits.shape), logits)
    assert set(sizing.peaks) == set(network.fifos) and measured.limits == depths(sizing.peaks)
    found = timing(measured.cycles, 3)
    # the conv unit is the bottleneck: 36 positions x NF 2 x SF 3 cycles per word
    assert found["cycles_per_word_mean"] == 216 and found["words_timed"] == 38
    assert found["first_word_latency"] > found["cycles_per_word_mean"]
    # a FIFO limited below its peak still gives the same logits (back-pressure, not loss)
    tight = netsim.run(netsim.build(network, tmp_path / "cache"), network, inputs, 3, tmp_path / "tight",
                       limits={name: 2 for name in network.fifos})
    assert np.array_equal(tight.values.reshape(logits.shape), logits)
    # a run cut off by its cycle budget is incomplete, its words missing, never made up
    short = netsim.run(netsim.build(network, tmp_path / "cache"), network, inputs, 3, tmp_path / "short",
                       max_cycles=2_000)
    assert not short.complete and 0 < len(short.values) < logits.size
    assert np.array_equal(short.values, logits.reshape(-1)[:len(short.values)])
    assert len(list((tmp_path / "cache").iterdir())) == 1  # built once


def test_jobs_building_the_same_network_at_once_do_not_meet(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    stages, inputs, logits = toy(words=6)
    network = stitch(stages)
    with ThreadPoolExecutor(2) as pool:
        binaries = list(pool.map(lambda _: netsim.build(network, tmp_path / "cache", jobs=1), range(2)))
    assert binaries[0] == binaries[1] and binaries[0].is_file()
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [network.digest]  # no build folder left behind
    run = netsim.run(binaries[0], network, inputs, 3, tmp_path / "run")
    assert run.complete and np.array_equal(run.values.reshape(logits.shape), logits)


def test_the_cycle_budget_follows_a_deeply_folded_networks_cycles():
    from sparsekws.rtl.netsim import cycle_budget

    assert cycle_budget(40, 128) == 100 * 1128 * 48  # fast network: from its input beats
    # 10.24 M cycles per word (the dense CNN fully folded): every word of the run fits, with room
    assert cycle_budget(1000, 1024, cycles_per_word=10_240_000) >= 1000 * 10_240_000 * 2
    assert cycle_budget(10, 1024, throttle=5_000_000) == cycle_budget(10, 1024, cycles_per_word=5_000_000)


def test_stitch_checks_value_widths_and_inserts_converters():
    stages, _, _ = toy(3)
    network = stitch(stages)
    assert list(network.fifos) == ["fifo_win", "fifo_conv", "fifo_pool", "fifo_fc"]
    assert "module net_wc0" in network.verilog and network.in_bits == 4 and network.out_bits == stages[-1].out_bits
    bad = [stages[0], Stage("conv", stages[1].verilog, 6, 3, 2, 2)]
    with pytest.raises(ValueError, match="conv takes 3-bit values, win gives 4-bit values"):
        stitch(bad)


def test_timing_and_depths():
    cycles = np.array([9, 10, 19, 20, 29, 30, 41, 42])  # 2 outputs per word
    found = timing(cycles, 2)
    assert found["first_word_latency"] == 11 and found["cycles_per_word_mean"] == 11.0
    assert found["cycles_per_word_max"] == 12 and found["words_timed"] == 2
    assert depths({"a": 0, "b": 7}) == {"a": 2, "b": 8}
