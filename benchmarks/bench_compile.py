"""Compile time (FINN estimate flow with the folding search) of every (model, board) pair of a config.

Times ``sparsekws.finn.compile.compile_model`` per model and board (MLPs and CNNs), the FINN
import once separately, and records the time of each flow step (the folding search is
``set_folding``) with the resulting stock and tuned throughput. Inputs are the exported models
under ``--models-dir`` (``<model>/model.qonnx.onnx`` and ``<model>/reference_io.npz``) or,
without it, untrained models of the config's topology (random weights, batch-norm statistics and
k-WTA duty cycles from random int8 batches) exported to QONNX: FINN's flow and the search do
not depend on the weight values, except that zero weights (the sparse masks) are kept.
Writes results/benchmarks/compile.json (or --out).
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from workflow_config import REPO_ROOT, load as load_config  # noqa: E402  (puts src/ on the path)

from sparsekws.core.files import write_json  # noqa: E402
from sparsekws.core.provenance import package_versions, stamp, utc_now  # noqa: E402

log = logging.getLogger("bench_compile")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO_ROOT / "config" / "config.yaml"), help="config YAML")
    parser.add_argument("--models-dir", help="folder with <model>/model.qonnx.onnx and <model>/reference_io.npz "
                                             "(default: export untrained models of the config's topology)")
    parser.add_argument("--models", nargs="*", help="models to compile (default: all in the config)")
    parser.add_argument("--boards", nargs="*", help="boards (default: the config's compile.boards)")
    parser.add_argument("--mlp-input", type=int, nargs="+", default=[49, 10],
                        help="per-sample feature shape of MLP models (default %(default)s: MFCC)")
    parser.add_argument("--cnn-input", type=int, nargs="+", default=[32, 32],
                        help="per-sample feature shape of CNN models (default %(default)s: log-mel)")
    parser.add_argument("--repeats", type=int, default=1, help="timed compiles per pair (default %(default)s)")
    parser.add_argument("--out", default=str(REPO_ROOT / "results" / "benchmarks" / "compile.json"))
    return parser.parse_args(argv)


def export_untrained(cfg: dict, name: str, feature_shape: list[int], folder: Path) -> tuple[Path, Path]:
    """Export an untrained model of ``name``'s topology plus reference I/O (torch logits)."""
    import torch

    from sparsekws.export.qonnx import export_qonnx_model
    from sparsekws.models.spec import model_input_shape
    from sparsekws.models.zoo import build_model

    mcfg = cfg["models"][name]
    shape = model_input_shape(mcfg, feature_shape)
    torch.manual_seed(cfg["seed"])
    model = build_model(mcfg, shape, len(cfg["task"]["words"]) + 2, seed=cfg["seed"])
    generator = torch.Generator().manual_seed(cfg["seed"])
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randint(-128, 128, (32, *shape), generator=generator).float())
    model.eval()
    inputs = torch.randint(-128, 128, (4, *shape), generator=generator).float()
    with torch.no_grad():
        outputs = model(inputs)
    folder.mkdir(parents=True, exist_ok=True)
    qonnx, ref = folder / "model.qonnx.onnx", folder / "reference_io.npz"
    export_qonnx_model(model, shape if len(shape) > 1 else shape[0], mcfg["input_bits"], qonnx)
    np.savez(ref, inputs=inputs.numpy(), outputs=outputs.numpy().astype(np.float32))
    return qonnx, ref


def result_row(name: str, board: str, times: list[float], est: dict) -> dict:
    """One benchmark row: compile times, and what the compile produced (estimates, tagged)."""
    row = {"model": name, "board": board, "seconds": min(times), "all_seconds": times, "status": est["status"]}
    if est["status"] != "estimated":
        return {**row, "reason": est.get("reason")}
    row["step_seconds"] = {s["step"]: s["seconds"] for s in est["steps"]}
    row["estimator"] = est["estimator"]
    for section in ("stock", "tuned"):
        part = est.get(section) or {}
        row[section] = {key: part.get(key) for key in ("max_cycles", "fps", "fits", "binding_resource",
                                                       "networks_per_chip", "full_chip_fps")}
    return row


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    cfg = load_config(args.config)
    models = args.models or list(cfg["models"])
    boards = args.boards or list(cfg["compile"]["boards"])

    start = time.perf_counter()
    from sparsekws.core.config import load_board  # noqa: E402
    from sparsekws.finn import build as finn_build  # noqa: E402
    from sparsekws.finn import compile as finn_compile  # noqa: E402
    from sparsekws.units import calibration  # noqa: E402

    finn_build.use_finn_build_dir(Path(tempfile.gettempdir()) / "sparsekws_finn_bench")
    calibration.use_file(REPO_ROOT / "config" / "calibration" / "factors.json")
    import finn.transformation.fpgadataflow.specialize_layers  # noqa: F401,E402  (FINN's import cost)
    import_seconds = time.perf_counter() - start

    results = []
    with tempfile.TemporaryDirectory(prefix="bench_compile_") as tmp:
        tmp = Path(tmp)
        for name in models:
            if args.models_dir:
                qonnx = Path(args.models_dir) / name / "model.qonnx.onnx"
                ref = Path(args.models_dir) / name / "reference_io.npz"
            else:
                features = args.cnn_input if cfg["models"][name]["family"] == "cnn" else args.mlp_input
                qonnx, ref = export_untrained(cfg, name, features, tmp / "in" / name)
            for board in boards:
                times = []
                for repeat in range(args.repeats):
                    t0 = time.perf_counter()
                    est = finn_compile.compile_model(name, cfg["models"][name], cfg["compile"],
                                                     load_board(REPO_ROOT / "config" / "boards" / f"{board}.yaml"),
                                                     qonnx, ref, tmp / "out" / name / board)
                    times.append(time.perf_counter() - t0)
                results.append(result_row(name, board, times, est))
                log.info("%s on %s: %.2f s (min of %d)", name, board, min(times), args.repeats)
    write_json(args.out, {
        "benchmark": "compile",
        "what": "wall time of one compile (FINN flow, Python checks, stock and tuned folding search, HLS code "
                "generation, writing); the stock/tuned numbers are estimates (sparsekws-model search on "
                "finn-estimate / sparsekws-model layer estimates)",
        "inputs": args.models_dir or "untrained models exported to QONNX",
        "finn_import_seconds": import_seconds,
        "results": results,
        "machine": {"platform": platform.platform(), "processor": platform.processor(),
                    "python": platform.python_version()},
        "packages": package_versions(),
        "created": utc_now(),
        "provenance": stamp({"models": {m: cfg["models"][m] for m in models}, "compile": cfg["compile"],
                             "boards": boards}),
    })
    log.info("wrote %s", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
