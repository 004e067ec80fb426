"""Measure a model's throughput and latency on the host CPU with ONNX Runtime.

The exported QONNX graph is lowered to QCDQ (QuantizeLinear / Clip / DequantizeLinear, the
standard ONNX form of a quantised network), so ONNX Runtime runs the same quantised network.
Sessions use ONNX Runtime's *basic* graph optimisations: its extended level fuses QDQ
patterns into int8 kernels that change the results (seen on the default models: logits off by
up to 0.85 and 3 % of predictions changed), so they would no longer measure this network. Method: warm-up runs, then repeated
batches for a fixed duration; latency percentiles per batch; throughput = words / wall time.
The outputs of the timed run are checked: accuracy on the measured words and agreement with
the reference (torch) outputs. CPU power is recorded as missing where the machine exposes no
power sensor (RAPL), never as zero.
"""

from __future__ import annotations

import argparse
import logging
import os
import platform as _platform
import time
from pathlib import Path

import numpy as np
import pandas as pd

from sparsekws.config import load_config
from sparsekws.errors import UserError
from sparsekws.fileio import atomic_path, write_csv
from sparsekws.measure import RECORD_COLUMNS
from sparsekws.provenance import stamp, utc_now
from sparsekws.verify import compare_outputs

log = logging.getLogger(__name__)

RAPL_DIR = Path("/sys/class/powercap/intel-rapl:0")


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


def to_onnxruntime_model(qonnx_path: str | Path, out_path: str | Path) -> None:
    """Lower a QONNX graph to QCDQ with a free batch dimension, for ONNX Runtime."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.qonnx_to_qcdq import QuantToQCDQ

    model = ModelWrapper(str(qonnx_path)).transform(QuantToQCDQ())
    graph = model.graph
    del graph.value_info[:]
    for tensor in list(graph.input) + list(graph.output):
        tensor.type.tensor_type.shape.dim[0].dim_param = "batch"
    with atomic_path(out_path, suffix=".onnx") as tmp:
        model.save(str(tmp))


def make_session(onnx_path: str | Path, threads: int):
    """An ONNX Runtime CPU session with a fixed number of threads."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def time_batches(run, batches: list[np.ndarray], warmup_runs: int, duration_s: float) -> tuple[list, np.ndarray, float]:
    """Time ``run(batch)``: warm-up runs, then batches in turn for at least ``duration_s``.

    Every batch is timed at least once. Returns (the outputs of the first timed pass, the
    per-batch latencies in s, the total timed seconds).
    """
    for i in range(warmup_runs):
        run(batches[i % len(batches)])
    first_pass, latencies = [], []
    began = time.perf_counter()
    while len(latencies) < len(batches) or time.perf_counter() - began < duration_s:
        t0 = time.perf_counter()
        out = run(batches[len(latencies) % len(batches)])
        latencies.append(time.perf_counter() - t0)
        if len(first_pass) < len(batches):
            first_pass.append(out)
    return first_pass, np.array(latencies), time.perf_counter() - began


def read_cpu_power_w() -> float:
    """CPU package power is not readable without RAPL: return NaN (missing), never 0."""
    return float("nan")


def measure_model(onnx_path: Path, inputs: np.ndarray, labels: np.ndarray, reference: np.ndarray | None,
                  batch_sizes: list[int], warmup_runs: int, duration_s: float, threads: int) -> list[dict]:
    """Measure one ONNX model at each batch size; one record (dict) per batch size.

    The timed outputs are checked: their accuracy against ``labels`` is recorded, and the
    outputs for the words covered by ``reference`` (torch outputs of the first words) must
    agree with it (``sparsekws.verify``). Inputs are cycled to fill the last batch; accuracy
    counts each word once.
    """
    session = make_session(onnx_path, threads)
    name = session.get_inputs()[0].name
    records = []
    for batch_size in batch_sizes:
        n = -(-len(inputs) // batch_size) * batch_size  # every word, the last batch filled by cycling
        order = np.arange(n) % len(inputs)
        batches = [inputs[order[i:i + batch_size]] for i in range(0, n, batch_size)]
        outputs, latencies, seconds = time_batches(lambda b: session.run(None, {name: b})[0], batches,
                                                   warmup_runs, duration_s)
        logits = np.concatenate(outputs)[:len(inputs)]
        accuracy = float((logits.argmax(1) == labels).mean())
        if reference is not None:
            check = compare_outputs(logits[:len(reference)], reference)
            if not check["passed"]:
                raise UserError(f"{onnx_path}: ONNX Runtime outputs differ from the reference (max |diff| "
                                f"{check['max_abs_diff']:.3g}, tolerance {check['tolerance']:.3g}, argmax "
                                f"agreement {check['argmax_agreement']:.3f})")
        words = len(latencies) * batch_size
        records.append({
            "batch_size": batch_size,
            "throughput_words_per_s": words / seconds,
            "latency_p50_ms": float(np.percentile(latencies, 50) * 1e3),
            "latency_p95_ms": float(np.percentile(latencies, 95) * 1e3),
            "accuracy_on_measured": accuracy,
            "n_measured": len(inputs),
            "power_w": read_cpu_power_w(),
        })
        log.info("batch %d: %.0f words/s, p50 %.3f ms, accuracy on measured words %.3f",
                 batch_size, words / seconds, records[-1]["latency_p50_ms"], accuracy)
    return records


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="workflow config (YAML)")
    parser.add_argument("--model", required=True, help="model name in the config")
    parser.add_argument("--qonnx", required=True, help="exported QONNX model")
    parser.add_argument("--features", required=True, help="features npz (its test split is measured)")
    parser.add_argument("--reference-io", help="reference_io.npz from export, to check the outputs")
    parser.add_argument("--onnx-out", required=True, help="where to write the ONNX Runtime (QCDQ) model")
    parser.add_argument("--out", required=True, help="output CSV of measurement records")


def run(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    settings = config["measure"]["cpu"]
    data = np.load(args.features)
    inputs = data["x_test"].reshape(len(data["x_test"]), -1).astype(np.float32)
    labels = data["y_test"]
    reference = None
    if args.reference_io:
        ref = np.load(args.reference_io)
        if not np.array_equal(ref["inputs"], inputs[:len(ref["inputs"])]):
            raise UserError(f"{args.reference_io} does not hold the first test words of {args.features}")
        reference = ref["outputs"]
    to_onnxruntime_model(args.qonnx, args.onnx_out)
    records = measure_model(Path(args.onnx_out), inputs, labels, reference, settings["batch_sizes"],
                            settings["warmup_runs"], settings["duration_s"], settings["threads"])
    common = {"model": args.model, "platform": "cpu",
              "device": f"{cpu_description()}, {settings['threads']} ONNX Runtime thread(s)",
              "scope": "single network", "networks": 1, "energy_per_word_j": float("nan"),
              "source": "measured", "method": "onnxruntime CPU, QCDQ graph, basic optimisations, wall clock",
              "timestamp": utc_now(), **stamp(config["models"][args.model])}
    frame = pd.DataFrame([{**common, **r} for r in records], columns=RECORD_COLUMNS)
    write_csv(args.out, frame)
