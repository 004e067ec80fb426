"""Time MFCC extraction (clips/s) on synthetic 1 s clips and write a JSON record.

Usage: .venv/bin/python benchmarks/bench_features.py [--clips N] [--repeats R] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from sparsekws.features import BATCH, Mfcc  # noqa: E402
from sparsekws.fileio import write_json  # noqa: E402


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2048, help="number of 1 s clips (default 2048)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions; the best is reported")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"clips per vectorised batch (default {BATCH})")
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "features.json"))
    args = parser.parse_args(argv)

    rng = np.random.default_rng(0)
    audio = (rng.standard_normal((args.clips, 16000)) * 3000).astype(np.int16)
    mfcc = Mfcc()
    mfcc(audio[:2])  # warm-up
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        for b in range(0, args.clips, args.batch):
            mfcc(audio[b: b + args.batch])
        times.append(time.perf_counter() - start)
    best = min(times)
    result = {
        "benchmark": "mfcc_features",
        "clips": args.clips,
        "batch": args.batch,
        "repeats": args.repeats,
        "seconds_best": best,
        "seconds_all": times,
        "clips_per_s": args.clips / best,
        "frontend": {"window_ms": mfcc.window_ms, "stride_ms": mfcc.stride_ms, "num_filters": mfcc.num_filters,
                     "num_coefficients": mfcc.num_coefficients, "n_fft": mfcc.n_fft},
        "provenance": {"measured": "host CPU, wall clock (time.perf_counter)", "machine": platform.machine(),
                       "processor": platform.processor(), "python": platform.python_version(),
                       "numpy": np.__version__},
    }
    write_json(args.out, result)
    print(json.dumps({k: result[k] for k in ("clips", "seconds_best", "clips_per_s")}))
    return result


if __name__ == "__main__":
    main()
