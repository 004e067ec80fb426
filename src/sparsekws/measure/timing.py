"""The timing method shared by every measured backend.

Method: ``warmup_runs`` untimed batches, then ``repeats`` timed repeats; each repeat runs the
batches in turn for at least ``duration_s`` seconds, and the first repeat at least once through
every measured word (so slow backends need not pass over every word in every repeat). Per repeat, throughput = words / wall time of the repeat; the record gives the median
throughput over repeats and its inter-quartile range, and latency percentiles over every timed
batch of every repeat. The outputs of the first timed pass over the words are returned, so that
correctness is checked on what was timed.
"""

from __future__ import annotations

import contextlib
import os
import platform as _platform
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import numpy as np


@dataclass
class Timing:
    """Results of ``time_repeats``: first-pass outputs, per-repeat throughputs, all latencies (s)."""

    outputs: list
    throughputs: np.ndarray
    latencies_s: np.ndarray

    def summary(self) -> dict[str, float]:
        """Median throughput, its IQR, and latency percentiles (ms)."""
        q25, q50, q75 = np.percentile(self.throughputs, [25, 50, 75])
        p50, p95, p99 = np.percentile(self.latencies_s, [50, 95, 99]) * 1e3
        return {"throughput_words_per_s": float(q50), "throughput_iqr_words_per_s": float(q75 - q25),
                "latency_p50_ms": float(p50), "latency_p95_ms": float(p95), "latency_p99_ms": float(p99),
                "repeats": int(len(self.throughputs))}


def make_batches(inputs: np.ndarray, batch_size: int) -> list[np.ndarray]:
    """Every word once, in order, in batches of ``batch_size``; the last batch is filled by cycling."""
    n = -(-len(inputs) // batch_size) * batch_size
    order = np.arange(n) % len(inputs)
    return [np.ascontiguousarray(inputs[order[i:i + batch_size]]) for i in range(0, n, batch_size)]


def time_repeats(run: Callable, batches: list, warmup_runs: int, repeats: int, duration_s: float,
                 words_per_batch: int, on_repeat: Callable[[int, float, float], None] | None = None) -> Timing:
    """Time ``run(batch)`` by the module's method; ``on_repeat(i, start, end)`` sees each repeat's clock."""
    for i in range(warmup_runs):
        run(batches[i % len(batches)])
    first_pass, latencies, throughputs = [], [], []
    for repeat in range(repeats):
        count = 0
        began = time.perf_counter()
        least = len(batches) if repeat == 0 else 1
        while count < least or time.perf_counter() - began < duration_s:
            t0 = time.perf_counter()
            out = run(batches[count % len(batches)])
            latencies.append(time.perf_counter() - t0)
            if repeat == 0 and count < len(batches):
                first_pass.append(out)
            count += 1
        ended = time.perf_counter()
        throughputs.append(count * words_per_batch / (ended - began))
        if on_repeat is not None:
            on_repeat(repeat, began, ended)
    return Timing(first_pass, np.array(throughputs), np.array(latencies))


def cpu_description() -> str:
    """The CPU model name and logical core count, e.g. ``AMD EPYC 9R14 (2 logical cores)``."""
    name = _platform.processor() or _platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                name = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{name} ({os.cpu_count()} logical cores)"


def cpu_flags() -> set[str]:
    """The CPU feature flags (``/proc/cpuinfo``), empty where unreadable."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def has_vnni() -> bool:
    """Whether the CPU has the int8 dot-product instructions ONNX Runtime's int8 kernels use (VNNI)."""
    return bool(cpu_flags() & {"avx512_vnni", "avx_vnni", "asimddp"})


@contextlib.contextmanager
def pinned_threads(threads: int, pin: bool = True) -> Iterator[str]:
    """Limit BLAS/OpenMP pools to ``threads`` and pin the process to ``threads`` cores.

    Yields a description (``"1 thread pinned to cores [0]"``). Affinity uses
    ``os.sched_setaffinity`` where the OS has it; the previous affinity and pools are restored.
    """
    from threadpoolctl import threadpool_limits

    previous = os.sched_getaffinity(0) if hasattr(os, "sched_setaffinity") else None
    text = f"{threads} thread{'s' if threads != 1 else ''}"
    try:
        if pin and previous is not None:
            cores = sorted(previous)[:threads]
            os.sched_setaffinity(0, cores)
            text += f" pinned to cores {cores}"
        else:
            text += " (not pinned: no sched_setaffinity)" if pin else " (not pinned)"
        with threadpool_limits(limits=threads):
            yield text
    finally:
        if pin and previous is not None:
            os.sched_setaffinity(0, previous)
