"""Our sparse-aware CPU path vs ONNX Runtime dense, batch 1 and batch 64 (a script, not a test).

Networks: the zoo's sparse CNN (``sparse-cnn``) and super-sparse CNN (``super-sparse-cnn``) of
config/zoo.yaml against its dense CNN (``dense-cnn``), and the sparse MLP of config/config.yaml
against its dense MLP. Every model is randomly initialised from its config entry (batch-norm
statistics and k-WTA duty cycles from a few training-mode passes on random int8 inputs): speed
does not depend on trained weight values, and the weight and activation sparsity (fixed fan-in
masks, k-WTA's k) are the configured ones.

Contenders, all on 1 thread, the process pinned to one core: the sparse-aware path
(``sparse_fast``: numba kernels, JIT-compiled before timing), ONNX Runtime float32 (QCDQ, basic
optimisations) and int8 (all optimisations: QDQ fused to int8 kernels) on the *dense* model, and
ONNX Runtime on the sparse model where it can run it (the MLP; the CNNs' k-WTA has no ONNX
Runtime kernel). The baseline is the faster ONNX Runtime dense model. Timing is interleaved
(rounds of A, B, C, ... in rotating order, each contender for at least ``--duration`` s per
round) because the CPU is shared; per contender the median words/s over rounds, its IQR, and
the median thread CPU time per word. The sparse path's outputs are checked against the numpy
engine (bit for bit) and the torch model. Writes results/benchmarks/inference.json and .csv
(or --out) and prints the ratios, whatever they are.
"""

from __future__ import annotations

import argparse
import csv
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from workflow_config import REPO_ROOT, load as load_config  # noqa: E402  (puts src/ on the path)

from sparsekws.core.files import atomic_path, write_json  # noqa: E402
from sparsekws.measure.backends.onnxruntime_cpu import make_session, to_onnxruntime_model  # noqa: E402
from sparsekws.measure.records import BackendUnavailable  # noqa: E402
from sparsekws.cpu_engine.reference import compile_network  # noqa: E402
from sparsekws.cpu_engine.fast import FastSparseNetwork  # noqa: E402
from sparsekws.measure.timing import cpu_description, has_vnni, make_batches, pinned_threads, time_repeats  # noqa: E402
from sparsekws.core.provenance import package_versions, stamp, utc_now  # noqa: E402
from sparsekws.core.agreement import compare_outputs  # noqa: E402

log = logging.getLogger("bench_inference")
PAIRS = {"mlp": ("config/config.yaml", "dense", "sparse", (490,)),
         "cnn": ("config/zoo.yaml", "dense-cnn", "sparse-cnn", (1, 32, 32)),
         "super-sparse-cnn": ("config/zoo.yaml", "dense-cnn", "super-sparse-cnn", (1, 32, 32))}
SPARSE_PATH = "sparse-path"
CSV_FIELDS = ["sparse_model", "dense_model", "batch_size", "contender", "throughput_words_per_s",
              "throughput_iqr_words_per_s", "cpu_us_per_word", "latency_p50_ms", "rounds", "threads",
              "speedup_sparse_path_over_best_onnxruntime_dense", "baseline", "cpu"]


def random_model(cfg: dict, shape: tuple, seed: int):
    from sparsekws.models.zoo import build_model

    torch.manual_seed(seed)
    model = build_model(cfg, shape, 12, seed)
    generator = torch.Generator().manual_seed(seed + 1)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randint(-128, 128, (32, *shape), generator=generator).float())
    return model.eval()


def onnxruntime_contenders(model, shape, tmp: Path, name: str, label: str) -> dict:
    """ONNX Runtime float32 and int8 sessions (1 thread) of ``model``, as callables."""
    from sparsekws.export.qonnx import export_qonnx_model

    qonnx, lowered = tmp / f"{name}.qonnx.onnx", tmp / f"{name}.qcdq.onnx"
    export_qonnx_model(model, shape if len(shape) > 1 else shape[0], 8, qonnx)
    to_onnxruntime_model(qonnx, lowered)
    out = {}
    for level, kind in (("basic", "float32"), ("all", "int8")):
        session = make_session(lowered, 1, level)
        input_name = session.get_inputs()[0].name
        out[f"onnxruntime-{kind} ({label})"] = (lambda s, n: lambda b: s.run(None, {n: b})[0])(session, input_name)
    return out


def interleaved(contenders: dict, inputs: np.ndarray, batch: int, args) -> dict:
    """Rounds of every contender in rotating order; per contender the medians over rounds."""
    batches = make_batches(inputs, batch)
    names = list(contenders)
    throughputs = {n: [] for n in names}
    cpu = {n: [] for n in names}
    latencies = {n: [] for n in names}
    for round_ in range(args.rounds):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            began = time.thread_time()
            timing = time_repeats(contenders[name], batches, args.warmup if round_ == 0 else 0, 1, args.duration, batch)
            words = len(timing.latencies_s) * batch
            throughputs[name].append(float(timing.throughputs[0]))
            cpu[name].append((time.thread_time() - began) / words * 1e6)
            latencies[name].extend(timing.latencies_s)
    summary = {}
    for name in names:
        q25, q50, q75 = np.percentile(throughputs[name], [25, 50, 75])
        summary[name] = {"throughput_words_per_s": float(q50), "throughput_iqr_words_per_s": float(q75 - q25),
                         "cpu_us_per_word": float(np.median(cpu[name])),
                         "latency_p50_ms": float(np.median(latencies[name]) * 1e3), "rounds": args.rounds,
                         "per_round_words_per_s": throughputs[name]}
    return summary


def bench_pair(config_path: str, dense: str, sparse: str, shape: tuple, args, tmp: Path) -> dict | None:
    config = load_config(REPO_ROOT / config_path)
    if dense not in config["models"] or sparse not in config["models"]:
        log.info("%s lacks %s or %s: skipped", config_path, dense, sparse)
        return None
    inputs = np.random.default_rng(args.seed).integers(-128, 128, (args.words, *shape)).astype(np.float32)
    dense_model = random_model(config["models"][dense], shape, args.seed)
    sparse_model = random_model(config["models"][sparse], shape, args.seed)
    engine = compile_network(sparse_model, shape)
    network = FastSparseNetwork(engine)
    began = time.perf_counter()
    network.warm_up(shape)
    jit_s = time.perf_counter() - began
    contenders = {SPARSE_PATH: network, **onnxruntime_contenders(dense_model, shape, tmp, dense, dense)}
    skipped = None
    try:
        contenders.update(onnxruntime_contenders(sparse_model, shape, tmp, sparse, sparse))
    except BackendUnavailable as exc:
        skipped = str(exc)
    with torch.no_grad():
        reference = sparse_model(torch.from_numpy(inputs)).numpy()
    got = network(inputs)
    result = {"config": config_path, "dense_model": dense, "sparse_model": sparse, "sparse_path": network.describe(),
              "sparse_path_compiled": network.compiled, "jit_warm_up_s (not timed)": jit_s,
              "sparse_path_bit_identical_to_numpy_engine": bool(np.array_equal(got, engine(inputs))),
              "sparse_path_outputs_match_model": compare_outputs(got, reference)["passed"],
              "onnxruntime_sparse_model": skipped or "timed",
              "provenance": stamp({dense: config["models"][dense], sparse: config["models"][sparse]}), "batches": {}}
    for batch in args.batch_sizes:
        row = interleaved(contenders, inputs, batch, args)
        dense_rows = {k: v for k, v in row.items() if k.startswith("onnxruntime") and k.endswith(f"({dense})")}
        best_label, best = max(dense_rows.items(), key=lambda kv: kv[1]["throughput_words_per_s"])
        ratio = row[SPARSE_PATH]["throughput_words_per_s"] / best["throughput_words_per_s"]
        per_round = np.array(row[SPARSE_PATH]["per_round_words_per_s"]) / np.max(
            [v["per_round_words_per_s"] for v in dense_rows.values()], axis=0)
        result["batches"][str(batch)] = {"contenders": row, "baseline": best_label,
                                         "speedup_sparse_path_over_best_onnxruntime_dense": ratio,
                                         "speedup_per_round_median": float(np.median(per_round)),
                                         "speedup_per_round_min_max": [float(per_round.min()), float(per_round.max())]}
        log.info("%s batch %d: sparse path %.0f words/s (%.1f us CPU/word), best ONNX Runtime dense (%s) %.0f "
                 "words/s (%.1f us CPU/word): x%.2f", sparse, batch, row[SPARSE_PATH]["throughput_words_per_s"],
                 row[SPARSE_PATH]["cpu_us_per_word"], best_label, best["throughput_words_per_s"],
                 best["cpu_us_per_word"], ratio)
    return result


def csv_rows(results: list[dict], cpu: str) -> list[dict]:
    rows = []
    for entry in results:
        for batch, row in entry["batches"].items():
            for name, stats in row["contenders"].items():
                rows.append({"sparse_model": entry["sparse_model"], "dense_model": entry["dense_model"],
                             "batch_size": int(batch), "contender": name, "threads": 1, "cpu": cpu,
                             "baseline": row["baseline"],
                             "speedup_sparse_path_over_best_onnxruntime_dense":
                                 row["speedup_sparse_path_over_best_onnxruntime_dense"] if name == SPARSE_PATH else "",
                             **{k: stats[k] for k in CSV_FIELDS if k in stats}})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "results" / "benchmarks" / "inference.json"),
                        help="JSON output; the CSV goes beside it (default %(default)s)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--words", type=int, default=256, help="distinct input words (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=20, help="untimed batches per contender before round 1")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default %(default)s)")
    parser.add_argument("--duration", type=float, default=0.5, help="minimum seconds per contender and round")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=sorted(PAIRS), nargs="+", help="benchmark these pairs only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    for noisy in ("onnxscript", "onnx_ir", "brevitas"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    torch.set_num_threads(1)
    results = []
    with tempfile.TemporaryDirectory() as tmp, pinned_threads(1) as pinning:
        for key in args.only or list(PAIRS):
            entry = bench_pair(*PAIRS[key], args, Path(tmp))
            if entry is not None:
                results.append(entry)
    device = f"{cpu_description()}, {pinning}, VNNI {'present' if has_vnni() else 'absent'}"
    write_json(args.out, {"what": __doc__.splitlines()[0], "source": "measured", "device": device, "threads": 1,
                          "timestamp": utc_now(),
                          "method": f"{args.rounds} interleaved rounds (rotating order) of >= {args.duration} s per "
                          f"contender, {args.warmup} warm-up batches each before round 1, JIT compilation before "
                          f"timing; median words/s over rounds, IQR, median thread CPU time per word; "
                          f"{args.words} seeded random int8 words; 1 thread, process pinned",
                          "results": results,
                          "target": "sparse path >= 5x the faster ONNX Runtime dense model at batch 1 on the "
                                    "sparse CNN",
                          "packages": package_versions()})
    csv_path = Path(args.out).with_suffix(".csv")
    with atomic_path(csv_path, suffix=".csv") as tmp_csv, open(tmp_csv, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_FIELDS)
        writer.writeheader()
        writer.writerows(csv_rows(results, device))
    for entry in results:
        for batch, row in entry["batches"].items():
            print(f"{entry['sparse_model']} batch {batch}: sparse path / {row['baseline']} = "
                  f"x{row['speedup_sparse_path_over_best_onnxruntime_dense']:.2f}")
    print(f"wrote {args.out} and {csv_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
