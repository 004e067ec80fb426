"""Compile time (FINN estimate flow) of every (model, board) pair of a config.

Times ``sparsekws.hw.compile.compile_model`` per model and board, the FINN import once
separately. Inputs are the exported models under ``--models-dir`` (``<model>/model.qonnx.onnx``
and ``<model>/reference_io.npz``) or, without it, untrained models of the config's topology
(random weights, batch-norm statistics from random int8 batches) exported to QONNX: FINN's
flow does not depend on the weight values. Writes results/benchmarks/compile.json (or --out).
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

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "src"))

from sparsekws.config import load_config  # noqa: E402
from sparsekws.fileio import write_json  # noqa: E402
from sparsekws.provenance import package_versions, stamp, utc_now  # noqa: E402

log = logging.getLogger("bench_compile")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO_ROOT / "config" / "config.yaml"), help="config YAML")
    parser.add_argument("--models-dir", help="folder with <model>/model.qonnx.onnx and <model>/reference_io.npz "
                                             "(default: export untrained models of the config's topology)")
    parser.add_argument("--models", nargs="*", help="models to compile (default: all in the config)")
    parser.add_argument("--boards", nargs="*", help="boards (default: the config's compile.boards)")
    parser.add_argument("--in-features", type=int, default=490, help="network input size (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=1, help="timed compiles per pair (default %(default)s)")
    parser.add_argument("--out", default=str(REPO_ROOT / "results" / "benchmarks" / "compile.json"))
    return parser.parse_args(argv)


def export_untrained(cfg: dict, name: str, in_features: int, folder: Path) -> tuple[Path, Path]:
    """Export an untrained model of ``name``'s topology plus reference I/O (torch logits)."""
    import torch

    from sparsekws.export import export_qonnx_model
    from sparsekws.models.mlp import build_mlp

    mcfg = cfg["models"][name]
    torch.manual_seed(cfg["seed"])
    model = build_mlp(mcfg, in_features, len(cfg["task"]["words"]) + 2, seed=cfg["seed"])
    generator = torch.Generator().manual_seed(cfg["seed"])
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randint(-128, 128, (64, in_features), generator=generator).float())
    model.eval()
    inputs = torch.randint(-128, 128, (16, in_features), generator=generator).float()
    with torch.no_grad():
        outputs = model(inputs)
    folder.mkdir(parents=True, exist_ok=True)
    qonnx, ref = folder / "model.qonnx.onnx", folder / "reference_io.npz"
    export_qonnx_model(model, in_features, mcfg["input_bits"], qonnx)
    np.savez(ref, inputs=inputs.numpy(), outputs=outputs.numpy().astype(np.float32))
    return qonnx, ref


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    cfg = load_config(args.config)
    models = args.models or list(cfg["models"])
    boards = args.boards or list(cfg["compile"]["boards"])

    start = time.perf_counter()
    from sparsekws.hw import compile as hw_compile  # noqa: E402
    from sparsekws.hw import finn_build  # noqa: E402

    finn_build._use_finn_build_dir(Path(tempfile.gettempdir()) / "sparsekws_finn_bench")
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
                qonnx, ref = export_untrained(cfg, name, args.in_features, tmp / "in" / name)
            for board in boards:
                times = []
                for repeat in range(args.repeats):
                    t0 = time.perf_counter()
                    est = hw_compile.compile_model(cfg, name, board, qonnx, ref, tmp / "out" / name / board)
                    times.append(time.perf_counter() - t0)
                step_seconds = {s["step"]: s["seconds"] for s in est["steps"]}
                results.append({"model": name, "board": board, "seconds": min(times), "all_seconds": times,
                                "step_seconds": step_seconds, "max_cycles": est["max_cycles"],
                                "fps": est["fps"], "networks_per_chip": est["networks_per_chip"]})
                log.info("%s on %s: %.2f s (min of %d)", name, board, min(times), args.repeats)
    write_json(args.out, {
        "benchmark": "compile",
        "what": "wall time of one FINN estimate compile (flow, Python checks, HLS code generation, writing)",
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
