"""Time feature extraction (clips/s) of both front ends on 1 s clips and write a JSON record.

Measured on the host CPU (wall clock, best of ``--repeats``), on random int16 clips in
batches as the features stage runs them (the content of a clip does not change the work).

Usage: .venv/bin/python benchmarks/bench_features.py [--clips N] [--repeats R] [--out FILE]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import time

import numpy as np

from workflow_config import REPO_ROOT as ROOT, load as load_config  # noqa: E402  (puts src/ on the path)

from sparsekws.features.extract import BATCH  # noqa: E402
from sparsekws.features.frontends import FRONTENDS, make_frontend  # noqa: E402
from sparsekws.core.files import write_json  # noqa: E402


def time_frontend(frontend, audio: np.ndarray, batch: int, repeats: int) -> list[float]:
    frontend(audio[:2])  # warm-up
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        for b in range(0, len(audio), batch):
            frontend(audio[b: b + batch])
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=2048, help="number of 1 s clips (default 2048)")
    parser.add_argument("--repeats", type=int, default=3, help="timed repetitions; the best is reported")
    parser.add_argument("--batch", type=int, default=BATCH, help=f"clips per vectorised batch (default {BATCH})")
    parser.add_argument("--config", default=str(ROOT / "config" / "config.yaml"), help="front-end parameters")
    parser.add_argument("--frontends", nargs="+", default=sorted(FRONTENDS), choices=sorted(FRONTENDS))
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "features.json"))
    args = parser.parse_args(argv)

    features_cfg = load_config(args.config).get("features", {})
    audio = (np.random.default_rng(0).standard_normal((args.clips, 16000)) * 3000).astype(np.int16)
    results = {}
    for name in args.frontends:
        frontend = make_frontend(name, features_cfg)
        times = time_frontend(frontend, audio, args.batch, args.repeats)
        results[name] = {"clips_per_s": args.clips / min(times), "seconds_best": min(times), "seconds_all": times,
                         "shape": list(frontend.shape),
                         "parameters": {k: v for k, v in dataclasses.asdict(frontend).items()}}
    record = {
        "benchmark": "feature_extraction",
        "clips": args.clips,
        "batch": args.batch,
        "repeats": args.repeats,
        "frontends": results,
        "provenance": {"measured": "host CPU, wall clock (time.perf_counter), best of the repeats",
                       "machine": platform.machine(), "processor": platform.processor(),
                       "cpus": os.cpu_count(), "python": platform.python_version(), "numpy": np.__version__},
    }
    write_json(args.out, record)
    print(json.dumps({name: round(r["clips_per_s"]) for name, r in results.items()}))
    return record


if __name__ == "__main__":
    main()
