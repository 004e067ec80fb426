"""The environment: every stage's third-party imports, the optional system tools, Vivado and a CUDA driver."""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any


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


def tool_status() -> dict[str, tuple[bool, str]]:
    """``{tool: (found, what it is needed for)}`` of the optional system tools."""
    return {tool: (shutil.which(tool) is not None, why) for tool, why in SYSTEM_TOOLS.items()}


NO_VIVADO_MESSAGE = "XILINX_VIVADO not set: stopping at estimates; no bitstream produced"
VIVADO_HANDOFF_MESSAGE = ("XILINX_VIVADO not set: stitched IP, synthesis, bitstream and deployment package are "
                          "skipped; hand the compile folder (finn/codegen, finn/onnx, folding_config.json) to a "
                          "machine with Vivado (docs/vivado-handoff.md)")


def vivado_status() -> dict[str, Any]:
    """Whether Vivado is at hand (``XILINX_VIVADO`` or ``vivado`` on PATH), and what that means."""
    root = os.environ.get("XILINX_VIVADO")
    exe = shutil.which("vivado")
    if root or exe:
        return {"available": True, "path": root or exe,
                "reason": "Vivado found; this stage stops at estimates and HLS code generation "
                          "(IP generation, synthesis and bitstream are not run here)"}
    return {"available": False, "path": None, "reason": NO_VIVADO_MESSAGE}


def cuda_driver_present() -> bool:
    """Whether an NVIDIA driver is installed (its control device or ``nvidia-smi``)."""
    return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None
