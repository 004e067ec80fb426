import math
import os

import numpy as np
import pytest

from sparsekws.measure.power import PowerSampler, RaplEnergy, energy_per_word_j
from sparsekws.measure.timing import cpu_description, make_batches, pinned_threads, time_repeats


def test_batches_cover_every_word_once_and_fill_the_last():
    batches = make_batches(np.arange(10), 4)
    assert [b.tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 0, 1]]


def test_time_repeats_warms_up_covers_words_and_repeats():
    calls = []
    batches = [np.full(2, i) for i in range(3)]
    timing = time_repeats(lambda b: calls.append(int(b[0])) or int(b[0]), batches, warmup_runs=2, repeats=3,
                          duration_s=0.0, words_per_batch=2)
    assert calls[:2] == [0, 1]  # warm-up
    assert timing.outputs == [0, 1, 2]  # the first timed pass over every batch
    assert len(timing.throughputs) == 3 and len(timing.latencies_s) == 3 + 1 + 1
    summary = timing.summary()
    assert summary["repeats"] == 3 and summary["throughput_iqr_words_per_s"] >= 0
    assert summary["latency_p50_ms"] <= summary["latency_p95_ms"] <= summary["latency_p99_ms"]
    windows = []
    time_repeats(lambda b: None, batches, 0, 2, 0.02, 2, on_repeat=lambda i, a, b: windows.append(b - a))
    assert len(windows) == 2 and min(windows) >= 0.02


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="no sched_setaffinity on this OS")
def test_pinning_is_recorded_and_undone():
    before = os.sched_getaffinity(0)
    with pinned_threads(1) as text:
        assert len(os.sched_getaffinity(0)) == 1
        assert text.startswith("1 thread pinned to cores")
    assert os.sched_getaffinity(0) == before
    assert "logical cores" in cpu_description()


def test_unreadable_power_is_missing_not_zero(tmp_path):
    rapl = RaplEnergy(tmp_path / "no-rapl")
    assert not rapl.available and "no readable RAPL counter" in rapl.reason
    assert math.isnan(rapl.power_w(rapl.read_j(), rapl.read_j(), 1.0))
    assert math.isnan(energy_per_word_j(float("nan"), 1000.0))

    def broken():
        raise OSError("sensor gone")
    with PowerSampler(broken, 0.001) as sampler:
        pass
    assert math.isnan(sampler.mean_w())


def test_rapl_counter_and_sampler_average(tmp_path):
    (tmp_path / "energy_uj").write_text("1000000\n")
    (tmp_path / "max_energy_range_uj").write_text("2000000\n")
    rapl = RaplEnergy(tmp_path)
    assert rapl.available and rapl.read_j() == 1.0
    assert rapl.power_w(1.5, 0.5, 2.0) == pytest.approx(0.5)  # wrapped: (0.5 + 2 - 1.5) / 2
    with PowerSampler(lambda: 12.0, 0.001) as sampler:
        import time
        time.sleep(0.01)
    assert sampler.mean_w() == 12.0 and energy_per_word_j(12.0, 1000.0) == pytest.approx(0.012)
