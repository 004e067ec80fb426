"""Check the environment: every stage's imports work, and say which optional tools exist."""

from __future__ import annotations

import argparse
import importlib
import os
import shutil
import tempfile

from sparsekws.errors import UserError
from sparsekws.provenance import package_versions

# The third-party modules each stage imports.
STAGE_IMPORTS = {
    "dataset": ["numpy", "scipy.signal", "tqdm"],
    "features": ["numpy", "scipy.fft"],
    "train": ["torch", "brevitas.nn", "brevitas.quant"],
    "export": ["brevitas.export", "qonnx.core.modelwrapper", "qonnx.core.onnx_exec", "onnxruntime"],
    "compile": ["finn.util.settings", "finn.transformation.streamline",
                "finn.transformation.fpgadataflow.convert_to_hw",
                "finn.analysis.fpgadataflow.res_estimation"],
    "measure": ["onnxruntime", "pandas"],
    "figures": ["matplotlib", "seaborn", "pandas"],
    "workflow": ["snakemake", "pygments"],
}

SYSTEM_TOOLS = {"espeak-ng": "needed by the synthetic dataset (apt-get install espeak-ng)",
                "vivado": "needed for bitstreams only; without it the compile stage stops at estimates"}


def import_all() -> dict[str, str]:
    """Import every stage's modules; return {module: error} for those that fail."""
    os.environ.setdefault("FINN_BUILD_DIR", tempfile.mkdtemp(prefix="sparsekws-finn-"))
    failures = {}
    for modules in STAGE_IMPORTS.values():
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception as exc:  # noqa: BLE001 - report every kind of import failure
                failures[name] = f"{type(exc).__name__}: {exc}"
    return failures


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", action="store_true", help="print only failures")


def run(args: argparse.Namespace) -> None:
    failures = import_all()
    if not args.quiet:
        for name, version in package_versions().items():
            print(f"{name:12s} {version}")
        for tool, why in SYSTEM_TOOLS.items():
            print(f"{tool:12s} {'found' if shutil.which(tool) else 'missing'} ({why})")
    if failures:
        raise UserError("imports failed:\n" + "\n".join(f"  {m}: {e}" for m, e in failures.items()))
    print("check-env: every stage's imports work")
