"""Power readings during a timed run: missing (NaN) where no sensor can be read, never 0.

- ``RaplEnergy``: the CPU package energy counter (``/sys/class/powercap/intel-rapl:0``); average
  power over an interval = energy difference / time. Absent or unreadable -> NaN.
- ``PowerSampler``: a background thread calling a ``read_w()`` function (NVML, XRT) every
  ``interval_s`` seconds; ``mean_w(start, end)`` averages the samples taken in a window.
"""

from __future__ import annotations

import math
import threading
import time
from pathlib import Path
from typing import Callable

import numpy as np

NAN = float("nan")
RAPL_DIR = Path("/sys/class/powercap/intel-rapl:0")


class RaplEnergy:
    """CPU package power from the RAPL energy counter; ``available`` False where it cannot be read."""

    def __init__(self, folder: Path = RAPL_DIR):
        self.counter = folder / "energy_uj"
        self.range = folder / "max_energy_range_uj"
        try:
            self.wrap = int(self.range.read_text())
            int(self.counter.read_text())
            self.available = True
            self.reason = ""
        except (OSError, ValueError) as exc:
            self.available = False
            self.reason = f"no readable RAPL counter at {self.counter} ({type(exc).__name__})"

    def read_j(self) -> float:
        return int(self.counter.read_text()) * 1e-6 if self.available else NAN

    def power_w(self, start_j: float, end_j: float, seconds: float) -> float:
        """Average power between two ``read_j`` values ``seconds`` apart (counter wrap handled)."""
        if not self.available or math.isnan(start_j) or seconds <= 0:
            return NAN
        delta = end_j - start_j
        if delta < 0:
            delta += self.wrap * 1e-6
        return delta / seconds


class PowerSampler:
    """Sample ``read_w()`` in a background thread while a ``with`` block runs."""

    def __init__(self, read_w: Callable[[], float], interval_s: float = 0.05):
        self.read_w = read_w
        self.interval_s = interval_s
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                value = float(self.read_w())
            except Exception:  # a failed reading is missing, not zero
                value = NAN
            self.samples.append((time.perf_counter(), value))
            self._stop.wait(self.interval_s)

    def __enter__(self) -> "PowerSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join()

    def mean_w(self, start: float = -math.inf, end: float = math.inf) -> float:
        """Mean of the valid samples taken in ``[start, end]``; NaN if there are none."""
        values = [v for t, v in self.samples if start <= t <= end and not math.isnan(v)]
        return float(np.mean(values)) if values else NAN


def energy_per_word_j(power_w: float, throughput_words_per_s: float) -> float:
    """Energy per word = power / throughput; NaN where either is missing or throughput is 0."""
    if power_w is None or math.isnan(power_w) or not throughput_words_per_s or math.isnan(throughput_words_per_s):
        return NAN
    return power_w / throughput_words_per_s
