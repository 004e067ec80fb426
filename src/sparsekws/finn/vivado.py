"""The Vivado part of the FINN build for one (model, board), reusing the compile stage's folding.

Input is the compile stage's folder (``results/hw/<dataset>/<model>/<board>/``):
``finn/onnx/hw_layers.onnx`` (the graph after conversion to HW layers, the project's sparse
layers included) and ``folding_config.json`` (the chosen folding: PE/SIMD, weight memory,
arithmetic). FINN's own builder (``build_dataflow_cfg``) runs from
``step_create_dataflow_partition`` with that folding and produces, under ``--out-dir``:
stitched IP, out-of-context synthesis reports, the bitstream, the driver and the deployment
package (``deploy/``: ``bitfile/`` + ``driver/``, what ``measure.pynq.deployment`` expects).
The project's sparse layers enter FINN's RTL domain in ``step_specialize_sparse_layers``
(``finn.specialize``): FINN's IP steps then generate and stitch their Verilog.
``build.json`` records the FINN configuration, the outputs and the synthesis numbers FINN
reports, each tagged ``vivado``.

Vivado (and Vitis HLS) are needed: without ``XILINX_VIVADO`` the command stops with one message
(``core.environment.VIVADO_HANDOFF_MESSAGE``) and the compile folder stays the hand-off artefact (docs/vivado-handoff.md).
FINN's builder is imported only when Vivado is there (its import checks for Vivado).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sparsekws.core.errors import UserError
from sparsekws.core.files import atomic_dir, read_json, write_json
from sparsekws.core.provenance import stamp
from sparsekws.core.environment import VIVADO_HANDOFF_MESSAGE, vivado_status
from sparsekws.finn.build import finn_version

log = logging.getLogger(__name__)

SHELL_FLOWS = {"zynq": "vivado_zynq", "alveo": "vitis_alveo"}
#: FINN steps run by this build, from the HW-layer graph on (FINN's default flow from partitioning).
STEPS = ("step_create_dataflow_partition", "step_specialize_layers", "step_specialize_sparse_layers",
         "step_apply_folding_config",
         "step_minimize_bit_width", "step_generate_estimate_reports", "step_hw_codegen", "step_hw_ipgen",
         "step_set_fifo_depths", "step_create_stitched_ip", "step_out_of_context_synthesis",
         "step_synthesize_bitfile", "step_make_driver", "step_deployment_package")
OUTPUTS = ("stitched_ip", "estimate_reports", "out_of_context_synth", "bitfile", "pynq_driver",
           "deployment_package")
#: FINN's report files whose numbers are copied into build.json (tagged ``vivado``).
REPORTS = ("ooc_synth_and_timing.json", "post_synth_resources.json", "post_route_timing.json")


class VivadoUnavailable(UserError):
    """Vivado is not installed (``XILINX_VIVADO`` not set)."""


def build_config(compile_dir: Path, board: dict[str, Any], out_dir: Path, clock_mhz: float | None = None
                 ) -> dict[str, Any]:
    """The FINN ``DataflowBuildConfig`` fields for this build, as plain data (checked inputs)."""
    compile_dir = Path(compile_dir)
    graph = compile_dir / "finn" / "onnx" / "hw_layers.onnx"
    folding = compile_dir / "folding_config.json"
    for path in (graph, folding):
        if not path.is_file():
            raise UserError(f"{path} not found: run the compile stage for this model and board first")
    estimate = read_json(compile_dir / "estimate.json") if (compile_dir / "estimate.json").is_file() else {}
    if estimate.get("status") == "not-mappable":
        raise UserError(f"{compile_dir}: the model is not mappable ({estimate.get('reason')}); nothing to build")
    if board.get("shell") not in SHELL_FLOWS:
        raise UserError(f"board {board['name']}: shell {board.get('shell')!r} unknown; "
                        f"use one of {sorted(SHELL_FLOWS)}")
    clock = float(clock_mhz or board["clock_mhz"])
    return {"model_filename": str(graph), "output_dir": str(Path(out_dir) / "finn_build"),
            "folding_config_file": str(folding), "board": board["finn_board"], "fpga_part": board["part"],
            "shell_flow_type": SHELL_FLOWS[board["shell"]], "synth_clk_period_ns": 1000.0 / clock,
            "steps": list(STEPS), "generate_outputs": list(OUTPUTS), "auto_fifo_depths": True,
            "save_intermediate_models": True}


def _run_finn(fields: dict[str, Any]) -> int:
    """FINN's builder on ``fields`` (imported here: the import itself needs Vivado)."""
    from finn.builder.build_dataflow import build_dataflow_cfg
    from finn.builder.build_dataflow_config import DataflowBuildConfig

    from sparsekws.finn.specialize import step_specialize_sparse_layers

    own_steps = {"step_specialize_sparse_layers": step_specialize_sparse_layers}  # the project's sparse layers
    fields = fields | {"steps": [own_steps.get(step, step) for step in fields["steps"]]}
    cfg = DataflowBuildConfig(**{k: v for k, v in fields.items() if k != "model_filename"})
    return build_dataflow_cfg(fields["model_filename"], cfg)


def _vivado_numbers(build_dir: Path) -> dict[str, Any]:
    report_dir = build_dir / "report"
    return {name: {"source": "vivado", "values": read_json(report_dir / name)}
            for name in REPORTS if (report_dir / name).is_file()}


def vivado_build(compile_dir: Path, board: dict[str, Any], out_dir: Path, clock_mhz: float | None = None
                 ) -> dict[str, Any]:
    """Run the Vivado part of the FINN build for ``board`` (``core.config.load_board``); write ``out_dir``
    atomically; return ``build.json``'s record."""
    status = vivado_status()
    if not status["available"]:
        raise VivadoUnavailable(VIVADO_HANDOFF_MESSAGE)
    start = time.perf_counter()
    with atomic_dir(out_dir) as staging:
        fields = build_config(compile_dir, board, staging, clock_mhz)
        rc = _run_finn(fields)
        build_dir = staging / "finn_build"
        record = {
            "board": board["name"], "part": board["part"], "status": "built" if rc == 0 else "failed",
            "finn_returncode": rc, "finn_plus_version": finn_version(), "vivado": status["path"],
            "finn_config": {k: v for k, v in fields.items() if k not in ("model_filename", "output_dir")},
            "deployment_package": "finn_build/deploy" if (build_dir / "deploy").is_dir() else None,
            "bitstream": sorted(str(p.relative_to(staging)) for p in build_dir.glob("bitfile/*.bit")) or None,
            "reports": _vivado_numbers(build_dir), "seconds": round(time.perf_counter() - start, 1),
            "provenance": stamp({"board": board, "compile_dir": str(compile_dir)}),
        }
        write_json(staging / "build.json", record)
    if rc != 0:
        raise UserError(f"FINN's Vivado build failed (return code {rc}); see {out_dir}/finn_build/build_dataflow.log")
    return record
