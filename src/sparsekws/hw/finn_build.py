"""FINN (finn-plus) dataflow build of a QONNX network, as far as it goes without Vivado.

``estimate_dataflow`` applies FINN's transformations in the order of FINN's estimate-only
build and returns the estimates as plain data:

1. ``qonnx_to_finn``: QONNX cleanup, ``ConvertQONNXtoFINN`` (quantised activations become
   ``MultiThreshold`` nodes).
2. ``tidy_up``: shape/datatype inference, constant folding, readable names.
3. ``streamline``: move and collapse the float scales and batch-norm affines, absorb them
   into the thresholds. The streamlined graph is executed in Python and compared with the
   reference outputs (``verify_python``).
4. ``convert_to_hw``: ``MatMul`` + ``MultiThreshold`` -> ``MVAU``, leftover thresholds ->
   ``Thresholding``; weight and accumulator widths minimised, thresholds rounded.
5. ``create_dataflow_partition``: exactly one ``StreamingDataflowPartition``; only a few
   cheap node types (``ALLOWED_HOST_OPS``, e.g. the final float scale) may stay on the host.
   The partitioned graph (HW layers, Python execution) is compared with the reference again.
6. ``specialize_layers`` for the board's FPGA part (HLS or RTL variants).
7. ``set_folding``: ``SetFolding`` towards ``target_fps`` at the board clock, capped by
   ``mvau_wwidth_max`` -- or a folding config file applied with ``ApplyConfig``.
8. ``minimize_bit_width`` again after specialisation.
9. ``estimate``: FINN's analytical ``exp_cycles_per_layer``, ``res_estimation``,
   ``dataflow_performance`` and ``op_and_param_counts``.
10. ``hw_codegen``: ``PrepareIP`` writes each layer's HLS C++ / Verilog wrappers, tcl script
   and weight files (no Vivado needed); copied to ``<work_dir>/codegen/<layer>/``.

Everything after code generation (``HLSSynthIP`` and on: IP generation, FIFO sizing by
rtlsim, stitched IP, synthesis, bitstream, driver) needs Vivado/Vitis HLS and is recorded as
not run, with the reason. FINN's estimates ignore the values of the weights: unstructured
sparsity (zero weights) changes neither cycles nor memory; ``estimate_dataflow`` records the
zero-weight fraction per layer so that this stays visible.

FINN is imported lazily (it is slow to import); ``finn.builder.build_dataflow_steps`` is not
imported at all (it checks for Vivado at import time).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from sparsekws.errors import UserError
from sparsekws import verify
from sparsekws.fileio import write_json

log = logging.getLogger(__name__)

#: Node types allowed to stay outside the accelerator, before or after the dataflow partition.
ALLOWED_HOST_OPS = frozenset({"Mul", "Add", "Reshape", "Flatten", "Transpose", "TopK"})

#: Per-layer attributes written to the folding config (FINN's ``ApplyConfig`` format).
FOLDING_ATTRS = ("PE", "SIMD", "ram_style", "resType", "mem_mode", "runtime_writeable_weights")

NO_VIVADO_MESSAGE = "XILINX_VIVADO not set: stopping at estimates; no bitstream produced"

#: FINN steps that need Vivado / Vitis HLS and are therefore not run by this flow.
VIVADO_STEPS = ("hw_ipgen", "set_fifo_depths", "create_stitched_ip", "measure_rtlsim_performance",
                "out_of_context_synthesis", "synthesize_bitfile", "make_driver", "deployment_package")


class FinnBuildError(UserError):
    """The network cannot be mapped to a single FINN dataflow accelerator, or does not verify."""


class NotMappableError(FinnBuildError):
    """FINN has no hardware layer for some node of the network (e.g. the project's k-WTA)."""


@dataclass(frozen=True)
class BuildTarget:
    """What the build is for: FPGA part, clock and folding goal.

    ``folding_config`` (a FINN ``ApplyConfig`` JSON file), when given, replaces ``SetFolding``.
    """

    fpga_part: str
    clock_mhz: float
    target_fps: float
    mvau_wwidth_max: int = 36
    folding_config: Path | None = None

    @property
    def clock_period_ns(self) -> float:
        return 1000.0 / self.clock_mhz

    @property
    def target_cycles_per_frame(self) -> int:
        return max(1, int(self.clock_mhz * 1e6 / self.target_fps))


def finn_version() -> str:
    try:
        return metadata.version("finn-plus")
    except metadata.PackageNotFoundError:
        return "not installed"


def vivado_status() -> dict[str, Any]:
    """Whether Vivado is at hand (``XILINX_VIVADO`` or ``vivado`` on PATH), and what that means."""
    root = os.environ.get("XILINX_VIVADO")
    exe = shutil.which("vivado")
    if root or exe:
        return {"available": True, "path": root or exe,
                "reason": "Vivado found; this stage stops at estimates and HLS code generation "
                          "(IP generation, synthesis and bitstream are not run here)"}
    return {"available": False, "path": None, "reason": NO_VIVADO_MESSAGE}


_SETTINGS_READY = False


def _use_finn_build_dir(build_dir: Path) -> None:
    """Initialise FINN's global settings once and point its scratch folder at ``build_dir``."""
    global _SETTINGS_READY
    build_dir.mkdir(parents=True, exist_ok=True)
    os.environ["FINN_BUILD_DIR"] = str(build_dir)
    from finn.util.settings import get_settings, initialize_dummy_settings

    if not _SETTINGS_READY:
        initialize_dummy_settings()
        _SETTINGS_READY = True
    get_settings().finn_build_dir = build_dir


def _load_reference(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(path) as data:
            return data["inputs"].astype(np.float32), data["outputs"].astype(np.float32)
    except FileNotFoundError:
        raise UserError(f"reference I/O file not found: {path}") from None
    except KeyError as exc:
        raise UserError(f"reference I/O file {path} lacks the array {exc}") from None


def execute_graph(model, inputs: np.ndarray) -> np.ndarray:
    """Run a FINN/QONNX graph in Python, one sample at a time (graph batch size 1)."""
    from finn.core.onnx_exec import execute_onnx

    in_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    shape = list(model.get_tensor_shape(in_name))
    outputs = [execute_onnx(model, {in_name: row.reshape(shape)})[out_name] for row in inputs]
    return np.concatenate([o.reshape(1, -1) for o in outputs])


def compare_outputs(stage: str, got: np.ndarray, want: np.ndarray) -> dict[str, Any]:
    """Python-execution check of one graph stage against the reference logits (``sparsekws.verify``)."""
    return {"stage": stage, **verify.compare_outputs(np.asarray(got).reshape(want.shape), want)}


class _StepTimer:
    """Records which FINN steps ran and how long each took."""

    def __init__(self) -> None:
        self.steps: list[dict[str, Any]] = []

    def run(self, name: str, func, *args):
        start = time.perf_counter()
        try:
            result = func(*args)
        except Exception as exc:
            self.steps.append({"step": name, "status": "failed", "seconds": time.perf_counter() - start,
                               "error": f"{type(exc).__name__}: {exc}"})
            raise
        self.steps.append({"step": name, "status": "ok", "seconds": round(time.perf_counter() - start, 3)})
        return result


# ---- the steps ---------------------------------------------------------------------------

def _qonnx_to_finn(model):
    from finn.transformation.qonnx.convert_qonnx_to_finn import ConvertQONNXtoFINN
    from finn.transformation.qonnx.quant_act_to_multithreshold import default_filter_function_generator
    from qonnx.util.cleanup import cleanup_model

    model = cleanup_model(model)
    return model.transform(ConvertQONNXtoFINN(
        filter_function=default_filter_function_generator(max_multithreshold_bit_width=8)))


def _tidy_up(model):
    from finn.transformation.qonnx.give_unique_node_names_recursive import GiveUniqueNodeNamesRecursive
    from qonnx.transformation.fold_constants import FoldConstants
    from qonnx.transformation.general import GiveReadableTensorNames, RemoveStaticGraphInputs
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    for transform in (InferShapes(), FoldConstants(), GiveUniqueNodeNamesRecursive(),
                      GiveReadableTensorNames(), InferDataTypes(), RemoveStaticGraphInputs()):
        model = model.transform(transform)
    return model


def _streamline(model):
    import finn.transformation.streamline.absorb as absorb
    from finn.transformation.streamline import Streamline
    from qonnx.transformation.general import RemoveUnusedTensors
    from qonnx.transformation.infer_data_layouts import InferDataLayouts

    model = model.transform(absorb.AbsorbScalarBiasIntoMultiThreshold())
    model = model.transform(Streamline())
    model = model.transform(absorb.AbsorbScalarMulAddIntoTopK())
    model = model.transform(InferDataLayouts())
    return model.transform(RemoveUnusedTensors())


def _minimize_bit_width(model):
    from finn.transformation.fpgadataflow.minimize_accumulator_width import MinimizeAccumulatorWidth
    from finn.transformation.fpgadataflow.minimize_weight_bit_width import MinimizeWeightBitWidth
    from finn.transformation.streamline.round_thresholds import RoundAndClipThresholds
    from qonnx.transformation.infer_datatypes import InferDataTypes

    model = model.transform(MinimizeWeightBitWidth())
    model = model.transform(MinimizeAccumulatorWidth())
    model = model.transform(InferDataTypes())
    model = model.transform(RoundAndClipThresholds())
    model = model.transform(InferDataTypes())
    model = model.transform(MinimizeWeightBitWidth())
    return model.transform(InferDataTypes())


def _convert_to_hw(model):
    from finn.transformation.fpgadataflow.convert_to_hw.quantized_matrix_vector_activation import (
        InferQuantizedMatrixVectorActivation,
    )
    from finn.transformation.fpgadataflow.convert_to_hw.thresholding import InferThresholdingLayer
    from finn.transformation.qonnx.give_unique_node_names_recursive import GiveUniqueNodeNamesRecursive
    from qonnx.transformation.infer_data_layouts import InferDataLayouts
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    for transform in (InferQuantizedMatrixVectorActivation(), InferThresholdingLayer(),
                      GiveUniqueNodeNamesRecursive(), InferDataLayouts(), InferDataTypes(), InferShapes()):
        model = model.transform(transform)
    return _minimize_bit_width(model)


def host_nodes(model) -> list[tuple[str, str]]:
    """(name, op_type) of the nodes that are not FINN dataflow (HW) layers."""
    return [(n.name, n.op_type) for n in model.graph.node
            if not n.domain.startswith("finn.custom_op.fpgadataflow")]


def _create_partition(model, partition_dir: Path):
    """One dataflow partition; only ``ALLOWED_HOST_OPS`` may remain on the host (CPU)."""
    from finn.analysis.fpgadataflow.unsupported_layers import unsupported_layers
    from finn.transformation.fpgadataflow.create_dataflow_partition import CreateDataflowPartition
    from qonnx.custom_op.registry import getCustomOp

    on_host = host_nodes(model)
    not_allowed = [f"{name} ({op})" for name, op in on_host if op not in ALLOWED_HOST_OPS]
    if not_allowed:
        raise NotMappableError("FINN could not map these nodes to hardware layers (they would run on the "
                               "CPU): " + ", ".join(not_allowed))
    single, culprit = model.analysis(unsupported_layers)
    if not single:
        raise NotMappableError(f"host node {culprit.name} ({culprit.op_type}) sits between hardware layers: "
                               "the accelerator would split into several partitions")
    partition_dir.mkdir(parents=True, exist_ok=True)
    parent = model.transform(CreateDataflowPartition(partition_model_dir=str(partition_dir)))
    partitions = parent.get_nodes_by_op_type("StreamingDataflowPartition")
    if len(partitions) != 1:
        raise FinnBuildError(f"expected one dataflow partition, FINN made {len(partitions)}")
    from qonnx.core.modelwrapper import ModelWrapper

    dataflow = ModelWrapper(getCustomOp(partitions[0]).get_nodeattr("model"))
    return parent, dataflow, on_host


def _relative_partition_paths(parent, work_dir: Path) -> None:
    """Store the partition model path relative to ``work_dir`` (the folder is moved afterwards)."""
    from qonnx.custom_op.registry import getCustomOp

    for node in parent.get_nodes_by_op_type("StreamingDataflowPartition"):
        inst = getCustomOp(node)
        inst.set_nodeattr("model", os.path.relpath(inst.get_nodeattr("model"), work_dir))


def _specialize(model, part: str):
    from finn.transformation.fpgadataflow.specialize_layers import SpecializeLayers
    from finn.transformation.qonnx.give_unique_node_names_recursive import GiveUniqueNodeNamesRecursive
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    for transform in (SpecializeLayers(part), GiveUniqueNodeNamesRecursive(), InferShapes(), InferDataTypes()):
        model = model.transform(transform)
    return model


def _fold(model, target: BuildTarget):
    from finn.transformation.fpgadataflow.set_folding import SetFolding
    from finn.transformation.general import ApplyConfig
    from finn.transformation.qonnx.give_unique_node_names_recursive import GiveUniqueNodeNamesRecursive

    model = model.transform(GiveUniqueNodeNamesRecursive())
    if target.folding_config is not None:
        if not Path(target.folding_config).is_file():
            raise UserError(f"folding config not found: {target.folding_config}")
        return model.transform(ApplyConfig(str(target.folding_config)))
    model = model.transform(SetFolding(target.target_cycles_per_frame, mvau_wwidth_max=target.mvau_wwidth_max,
                                       two_pass_relaxation=True))
    return model.transform(GiveUniqueNodeNamesRecursive())


def _codegen(model, target: BuildTarget, out_dir: Path, probe_ipgen: bool):
    """HLS/RTL code generation (``PrepareIP``) into ``out_dir/<layer>/``; paths stored relative.

    With ``probe_ipgen`` (no Vivado), also confirm that FINN's IP generation refuses to run and
    return its message as the third value.
    """
    from finn.transformation.fpgadataflow.prepare_ip import PrepareIP
    from qonnx.custom_op.registry import getCustomOp

    model = model.transform(PrepareIP(target.fpga_part, target.clock_period_ns))
    ipgen_error = _probe_ipgen(model, target) if probe_ipgen else None
    layers = {}
    for node in model.graph.node:
        inst = getCustomOp(node)
        src = Path(inst.get_nodeattr("code_gen_dir_ipgen"))
        dst = out_dir / node.name
        shutil.copytree(src, dst)
        inst.set_nodeattr("code_gen_dir_ipgen", f"codegen/{node.name}")
        layers[node.name] = sorted(p.name for p in dst.iterdir())
    return model, {"status": "ok", "dir": "codegen", "files": layers}, ipgen_error


def _probe_ipgen(model, target: BuildTarget) -> str | None:
    """Without Vivado: confirm FINN's IP generation (``HLSSynthIP``) refuses; return its message."""
    from finn.transformation.fpgadataflow.hlssynth_ip import HLSSynthIP

    try:
        model.transform(HLSSynthIP(target.fpga_part))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# ---- estimates ------------------------------------------------------------------------------

def _node_attrs(model, names=FOLDING_ATTRS) -> dict[str, dict[str, Any]]:
    from qonnx.custom_op.registry import getCustomOp

    attrs = {}
    for node in model.graph.node:
        inst = getCustomOp(node)
        known = inst.get_nodeattr_types()
        attrs[node.name] = {"op_type": node.op_type, **{a: inst.get_nodeattr(a) for a in names if a in known}}
    return attrs


def _zero_fractions(model) -> dict[str, float]:
    """Fraction of exactly-zero weights per layer that has a weight initializer (input 1)."""
    fractions = {}
    for node in model.graph.node:
        if len(node.input) > 1 and node.op_type.startswith(("MVAU", "MatrixVectorActivation", "VVAU")):
            weights = model.get_initializer(node.input[1])
            if weights is not None and weights.size:
                fractions[node.name] = float(np.mean(weights == 0))
    return fractions


def _estimates(model, target: BuildTarget) -> dict[str, Any]:
    from finn.analysis.fpgadataflow.dataflow_performance import dataflow_performance
    from finn.analysis.fpgadataflow.exp_cycles_per_layer import exp_cycles_per_layer
    from finn.analysis.fpgadataflow.op_and_param_counts import op_and_param_counts
    from finn.analysis.fpgadataflow.res_estimation import res_estimation
    from finn.transformation.fpgadataflow.annotate_cycles import AnnotateCycles

    cycles = model.analysis(exp_cycles_per_layer)
    resources = model.analysis(partial(res_estimation, fpgapart=target.fpga_part))
    ops = model.analysis(op_and_param_counts)
    annotated = model.transform(AnnotateCycles())
    performance = dict(annotated.analysis(dataflow_performance))
    return {"cycles": cycles, "resources": resources, "ops_and_params": ops, "performance": performance}


def estimate_dataflow(qonnx_path: str | Path, reference_io: str | Path, target: BuildTarget,
                      work_dir: str | Path) -> dict[str, Any]:
    """Run the FINN estimate flow for one target; write FINN's reports and graphs to ``work_dir``.

    ``work_dir`` receives ``report/`` (FINN's own estimate JSON files), ``onnx/`` (the graph
    after each step) and ``codegen/`` (per-layer HLS code). Returns the estimates, the steps
    run, the Python-execution checks and the folding as a dict (see ``sparsekws.hw.compile``).
    Raises ``FinnBuildError`` if the network does not map to one accelerator or if the Python
    execution of the FINN graph differs from the reference outputs.
    """
    qonnx_path, work_dir = Path(qonnx_path), Path(work_dir)
    if not qonnx_path.is_file():
        raise UserError(f"QONNX model not found: {qonnx_path}")
    inputs, outputs = _load_reference(Path(reference_io))
    report_dir, onnx_dir = work_dir / "report", work_dir / "onnx"
    report_dir.mkdir(parents=True, exist_ok=True)
    onnx_dir.mkdir(parents=True, exist_ok=True)

    scratch = Path(tempfile.mkdtemp(prefix="finn_build_", dir=work_dir))
    try:
        _use_finn_build_dir(scratch)
        from qonnx.core.modelwrapper import ModelWrapper

        timer = _StepTimer()
        checks = []
        model = ModelWrapper(str(qonnx_path))
        model = timer.run("qonnx_to_finn", _qonnx_to_finn, model)
        model = timer.run("tidy_up", _tidy_up, model)
        model = timer.run("streamline", _streamline, model)
        model.save(str(onnx_dir / "streamlined.onnx"))
        checks.append(timer.run("verify_streamlined_python", lambda m: compare_outputs(
            "streamlined", execute_graph(m, inputs), outputs), model))
        model = timer.run("convert_to_hw", _convert_to_hw, model)
        model.save(str(onnx_dir / "hw_layers.onnx"))
        parent, dataflow, on_host = timer.run("create_dataflow_partition", _create_partition, model,
                                              work_dir / "partition")
        checks.append(timer.run("verify_dataflow_python", lambda m: compare_outputs(
            "dataflow_partition", execute_graph(m, inputs), outputs), parent))
        failed = [c for c in checks if not c["passed"]]
        if failed:
            worst = max(failed, key=lambda c: c["max_abs_diff"])
            raise FinnBuildError(
                f"Python execution of the FINN graph ({worst['stage']}) differs from the reference outputs: "
                f"max |diff| {worst['max_abs_diff']:.3g} (tolerance {worst['tolerance']:.3g}), argmax agreement "
                f"{worst['argmax_agreement']:.3f}")
        dataflow = timer.run("specialize_layers", _specialize, dataflow, target.fpga_part)
        dataflow = timer.run("set_folding", _fold, dataflow, target)
        dataflow = timer.run("minimize_bit_width", _minimize_bit_width, dataflow)
        estimates = timer.run("generate_estimate_reports", _estimates, dataflow, target)
        folding = _node_attrs(dataflow)
        zero_fraction = _zero_fractions(dataflow)
        vivado = vivado_status()
        ipgen_error = None
        try:
            dataflow, codegen, ipgen_error = timer.run("hw_codegen", _codegen, dataflow, target,
                                                       work_dir / "codegen", not vivado["available"])
        except Exception as exc:  # code generation is a hand-off extra: record, do not fail
            log.warning("FINN HLS code generation failed: %s", exc)
            codegen = {"status": "failed", "error": f"{type(exc).__name__}: {exc}"}
        dataflow.save(str(onnx_dir / "dataflow_model.onnx"))
        _relative_partition_paths(parent, work_dir)
        parent.save(str(onnx_dir / "dataflow_parent.onnx"))
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    perf = estimates["performance"]
    for name, data in (("estimate_layer_cycles.json", estimates["cycles"]),
                       ("estimate_layer_resources.json", estimates["resources"]),
                       ("op_and_param_counts.json", estimates["ops_and_params"]),
                       ("estimate_network_performance.json", perf)):
        write_json(report_dir / name, data)

    if vivado["available"]:
        not_run = [{"step": step, "reason": "not part of the estimate stage"} for step in VIVADO_STEPS]
    else:
        log.warning("%s", NO_VIVADO_MESSAGE)
        not_run = [{"step": VIVADO_STEPS[0], "reason": NO_VIVADO_MESSAGE, "finn_error": ipgen_error}]
        not_run += [{"step": step, "reason": f"needs the output of {VIVADO_STEPS[0]} and Vivado"}
                    for step in VIVADO_STEPS[1:]]
    return {
        "finn_version": finn_version(),
        "layer_cycles": {k: int(v) for k, v in estimates["cycles"].items()},
        "layer_resources": estimates["resources"],
        "ops_and_params": estimates["ops_and_params"],
        "performance": perf,
        "folding": folding,
        "weight_zero_fraction": zero_fraction,
        "host_nodes": [{"name": n, "op_type": op} for n, op in on_host],
        "python_checks": checks,
        "codegen": codegen,
        "steps": timer.steps,
        "steps_not_run": not_run,
        "vivado": vivado,
        "target_cycles_per_frame": target.target_cycles_per_frame if target.folding_config is None else None,
    }
