"""Our sparse-aware CPU path vs ONNX Runtime dense, batch 1 and batch 64 (a script, not a test).

Networks: the sparse MLP of config/config.yaml against the dense MLP, and, where config/zoo.yaml
has them, the sparse CNN (``sparse-cnn``) against the dense CNN (``dense-cnn``). Every model is
randomly initialised from its config entry (batch-norm statistics and k-WTA duty cycles from a
few training-mode passes on random int8 inputs): speed does not depend on trained weight values,
and the weight and activation sparsity (fixed fan-in masks, k-WTA's k) are the configured ones.

The dense baseline is the faster of ONNX Runtime float32 (QCDQ, basic optimisations) and int8
(all optimisations) on the *dense* model; where ONNX Runtime can run the sparse model itself
(the MLP: zeros multiplied like any weight) that is timed too. The sparse path's outputs are
checked against its torch model. Same seeded int8 inputs for all, 1 thread pinned, the measure
stage's method (warm-up, repeats, median and IQR). Writes results/benchmarks/inference.json
(or --out) and prints the ratios, whatever they are.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "src"))
sys.path.insert(0, str(REPO_ROOT / "tests"))

from sparsekws.config import load_config  # noqa: E402
from sparsekws.fileio import write_json  # noqa: E402
from sparsekws.measure.backends.onnxruntime_cpu import make_session, to_onnxruntime_model  # noqa: E402
from sparsekws.measure.records import BackendUnavailable  # noqa: E402
from sparsekws.measure.sparse_engine import compile_network  # noqa: E402
from sparsekws.measure.timing import cpu_description, has_vnni, make_batches, pinned_threads, time_repeats  # noqa: E402
from sparsekws.provenance import package_versions, stamp, utc_now  # noqa: E402
from sparsekws.verify import compare_outputs  # noqa: E402

log = logging.getLogger("bench_inference")
PAIRS = [("config/config.yaml", "dense", "sparse", (490,)), ("config/zoo.yaml", "dense-cnn", "sparse-cnn", (1, 32, 32))]


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


def timed(run, inputs: np.ndarray, batch: int, args) -> dict:
    timing = time_repeats(run, make_batches(inputs, batch), args.warmup, args.repeats, args.duration, batch)
    return {**timing.summary(), "outputs": np.concatenate(timing.outputs)[:len(inputs)]}


def onnxruntime_runs(model, shape, inputs, batch, args, tmp: Path, name: str) -> dict:
    from sparsekws.export import export_qonnx_model

    qonnx, lowered = tmp / f"{name}.qonnx.onnx", tmp / f"{name}.qcdq.onnx"
    export_qonnx_model(model, shape if len(shape) > 1 else shape[0], 8, qonnx)
    to_onnxruntime_model(qonnx, lowered)
    out = {}
    for level, label in (("basic", "onnxruntime-float32"), ("all", "onnxruntime-int8")):
        session = make_session(lowered, 1, level)
        input_name = session.get_inputs()[0].name
        result = timed(lambda b: session.run(None, {input_name: b})[0], inputs, batch, args)
        result.pop("outputs")
        out[label] = result
    return out


def bench_pair(config_path: str, dense: str, sparse: str, shape: tuple, args, tmp: Path) -> dict | None:
    path = REPO_ROOT / config_path
    config = load_config(path)
    if dense not in config["models"] or sparse not in config["models"]:
        log.info("%s lacks %s or %s: skipped", config_path, dense, sparse)
        return None
    inputs = np.random.default_rng(args.seed).integers(-128, 128, (args.words, *shape)).astype(np.float32)
    dense_model = random_model(config["models"][dense], shape, args.seed)
    sparse_model = random_model(config["models"][sparse], shape, args.seed)
    network = compile_network(sparse_model, shape)
    with torch.no_grad():
        reference = sparse_model(torch.from_numpy(inputs)).numpy()
    result = {"config": config_path, "dense_model": dense, "sparse_model": sparse, "sparse_path": network.describe(),
              "provenance": stamp({dense: config["models"][dense], sparse: config["models"][sparse]}), "batches": {}}
    for batch in args.batch_sizes:
        row = {"onnxruntime_dense_model": onnxruntime_runs(dense_model, shape, inputs, batch, args, tmp, dense)}
        try:
            row["onnxruntime_sparse_model"] = onnxruntime_runs(sparse_model, shape, inputs, batch, args, tmp, sparse)
        except BackendUnavailable as exc:
            row["onnxruntime_sparse_model"] = {"skipped": str(exc)}
        sparse_run = timed(network, inputs, batch, args)
        check = compare_outputs(sparse_run.pop("outputs"), reference)
        row["sparse_path"] = {**sparse_run, "outputs_match_model": check["passed"]}
        best_label, best = max(row["onnxruntime_dense_model"].items(), key=lambda kv: kv[1]["throughput_words_per_s"])
        row["baseline"] = f"{best_label} on {dense}"
        row["speedup_sparse_path_over_best_onnxruntime_dense"] = (
            sparse_run["throughput_words_per_s"] / best["throughput_words_per_s"])
        log.info("%s batch %d: sparse path %.0f words/s, best ONNX Runtime dense (%s) %.0f words/s: x%.2f",
                 sparse, batch, sparse_run["throughput_words_per_s"], best_label, best["throughput_words_per_s"],
                 row["speedup_sparse_path_over_best_onnxruntime_dense"])
        result["batches"][str(batch)] = row
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(REPO_ROOT / "results" / "benchmarks" / "inference.json"))
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[1, 64])
    parser.add_argument("--words", type=int, default=256, help="distinct input words (default %(default)s)")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--duration", type=float, default=0.5, help="minimum seconds per repeat")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=["mlp", "cnn"], help="benchmark one network family only")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("onnxscript").setLevel(logging.WARNING)
    logging.getLogger("onnx_ir").setLevel(logging.WARNING)
    torch.set_num_threads(1)
    pairs = [p for p in PAIRS if args.only is None or (p[3] == (490,)) == (args.only == "mlp")]
    results = []
    with tempfile.TemporaryDirectory() as tmp, pinned_threads(1) as pinning:
        for pair in pairs:
            entry = bench_pair(*pair, args, Path(tmp))
            if entry is not None:
                results.append(entry)
    write_json(args.out, {"what": __doc__.splitlines()[0], "source": "measured", "device": f"{cpu_description()}, "
                          f"{pinning}, VNNI {'present' if has_vnni() else 'absent'}", "timestamp": utc_now(),
                          "method": f"{args.warmup} warm-up batches, median of {args.repeats} repeats of >= "
                          f"{args.duration} s, {args.words} seeded random int8 words", "results": results,
                          "target": "sparse path >= 5x the faster ONNX Runtime dense model at batch 1 on the sparse CNN",
                          "packages": package_versions()})
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
