"""FINN (finn-plus) dataflow build of a QONNX network, as far as it goes without Vivado.

``estimate_dataflow`` applies FINN's transformations in the order of FINN's estimate-only
build and returns the estimates as plain data:

1. ``qonnx_to_finn``: QONNX cleanup, ``ConvertQONNXtoFINN`` (quantised activations become
   ``MultiThreshold`` nodes).
2. ``tidy_up``: shape/datatype inference, constant folding, readable names.
3. ``streamline``: move and collapse the float scales and batch-norm affines, absorb them
   into the thresholds (past k-WTA nodes too: ``finn.streamline``). Convolutions are lowered
   (``_lower_convolutions``): im2col + ``MatMul`` in NHWC, max-pools made NHWC (a pool still before its threshold moved past it
   first), transposes absorbed. The streamlined graph is executed in Python and compared with
   the reference outputs.
4. ``convert_to_hw``: ``MatMul`` + ``MultiThreshold`` -> ``MVAU``, leftover thresholds ->
   ``Thresholding``, ``Im2Col`` -> ``ConvolutionInputGenerator``, max-pool -> window generator
   + ``Pool``; weight and accumulator widths minimised, thresholds rounded.
   ``convert_to_sparse_hw``: the project's sparse HW layers (``finn.convert``:
   k-WTA and sparse matrix units where the model config is sparse).
5. ``create_dataflow_partition``: exactly one ``StreamingDataflowPartition``; only a few
   cheap node types (``ALLOWED_HOST_OPS``) may stay on the host, and none between HW layers.
   For the networks here: the input's NCHW->NHWC ``Transpose`` (CNNs) and the final float
   scale ``Mul``. The partitioned graph (HW layers, Python execution) is compared with the
   reference again. A top-class disagreement stops the build; logits off by a float32
   threshold-rounding level flip with the same top classes are recorded as a failed check
   (``ROUNDING_NOTE``).
6. ``specialize_layers`` for the board's FPGA part (HLS or RTL variants).
7. ``set_folding``: with a board, the folding search of ``finn.folding`` (stock and
   tuned; the tuned folding is applied); without, ``SetFolding`` towards ``target_fps``; or a
   folding config file applied with ``ApplyConfig``.
8. ``minimize_bit_width`` again after specialisation.
9. ``estimate``: every HW layer's own estimate methods (``folding.layer_estimates``, each
   layer tagged ``finn-estimate`` or ``sparsekws-model``), plus FINN's own report files.
10. ``hw_codegen``: ``PrepareIP`` writes each FINN layer's HLS C++ / Verilog wrappers, tcl
   script and weight files (no Vivado needed), ``finn.specialize`` the Verilog of the project's
   sparse layers (``sparse_rtl``: generated, or why not); copied to ``<work_dir>/codegen/<layer>/``.

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
from dataclasses import dataclass, field
from functools import partial
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from sparsekws.core import agreement
from sparsekws.core.environment import NO_VIVADO_MESSAGE, vivado_status
from sparsekws.core.errors import UserError
from sparsekws.core.files import read_npz, read_onnx, write_json
from sparsekws.finn import folding, speedups
from sparsekws.finn.convert import convert_to_sparse_hw
from sparsekws.finn.fit import DEFAULT_BUDGET, Budget
from sparsekws.finn.folding import FOLDING_ATTRS
from sparsekws.finn.specialize import generate_sparse_hdl
from sparsekws.finn.streamline import streamline_with_kwinners

log = logging.getLogger(__name__)

#: Node types allowed to stay outside the accelerator, before or after the dataflow partition.
ALLOWED_HOST_OPS = frozenset({"Mul", "Add", "Reshape", "Flatten", "Transpose", "TopK"})

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

    ``folding_config`` (a FINN ``ApplyConfig`` JSON file), when given, replaces the folding
    step. Otherwise, with a ``board`` (``core.config.load_board``), the folding is searched
    (``finn.folding``: fastest folding that fits within ``budget``, stock and tuned);
    without one, ``SetFolding`` folds towards ``target_fps``.
    """

    fpga_part: str
    clock_mhz: float
    target_fps: float
    mvau_wwidth_max: int = 36
    folding_config: Path | None = None
    board: Mapping[str, Any] | None = field(default=None, compare=False)
    budget: Budget = field(default_factory=lambda: dict(DEFAULT_BUDGET), compare=False)

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


_SETTINGS_READY = False


def use_finn_build_dir(build_dir: Path) -> None:
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
    data = read_npz(path, ("inputs", "outputs"), "reference I/O file")
    return data["inputs"].astype(np.float32), data["outputs"].astype(np.float32)


def execute_graph(model, inputs: np.ndarray) -> np.ndarray:
    """Run a FINN/QONNX graph in Python, one sample at a time (graph batch size 1)."""
    from finn.core.onnx_exec import execute_onnx

    in_name = model.graph.input[0].name
    out_name = model.graph.output[0].name
    shape = list(model.get_tensor_shape(in_name))
    outputs = [execute_onnx(model, {in_name: row.reshape(shape)})[out_name] for row in inputs]
    return np.concatenate([o.reshape(1, -1) for o in outputs])


def compare_outputs(stage: str, got: np.ndarray, want: np.ndarray) -> dict[str, Any]:
    """Python-execution check of one graph stage against the reference logits (``core.agreement``)."""
    return {"stage": stage, **agreement.compare_outputs(np.asarray(got).reshape(want.shape), want)}


ROUNDING_NOTE = ("FINN's QONNX-to-FINN conversion turns each quantised activation into float32 thresholds; a "
                 "pre-activation within float32 rounding of a threshold can land one level apart from the "
                 "reference, and the flip propagates to the logits. Such a check is recorded as not passed "
                 "while every sample's top class agrees; a top-class disagreement stops the build")


def _judge_checks(checks: list[dict[str, Any]]) -> None:
    """Stop on a check whose top classes disagree; warn (recorded as not passed) on logit deviations only."""
    failed = [c for c in checks if not c["passed"]]
    if not failed:
        return
    worst = max(failed, key=lambda c: c["max_abs_diff"])
    message = (f"Python execution of the FINN graph ({worst['stage']}) differs from the reference outputs: "
               f"max |diff| {worst['max_abs_diff']:.3g} (tolerance {worst['tolerance']:.3g}), argmax agreement "
               f"{worst['argmax_agreement']:.3f}")
    if any(c["argmax_agreement"] < 1.0 for c in failed):
        raise FinnBuildError(message)
    for check in failed:
        check["note"] = ROUNDING_NOTE
    log.warning("%s; top classes agree on every sample (%s)", message, ROUNDING_NOTE)


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

    def finn_streamline(m):
        return m.transform(Streamline())

    # with k-WTA: also move the float scales past k-WTA, exactly
    streamline = streamline_with_kwinners if model.get_nodes_by_op_type("KWinners") else finn_streamline
    model = model.transform(absorb.AbsorbScalarBiasIntoMultiThreshold())
    model = streamline(model)
    if model.get_nodes_by_op_type("Conv"):
        model = _lower_convolutions(model)
        model = streamline(model)
    model = model.transform(absorb.AbsorbScalarMulAddIntoTopK())
    model = model.transform(InferDataLayouts())
    return model.transform(RemoveUnusedTensors())


def _lower_convolutions(model):
    """Convolutions as im2col + MatMul in NHWC; max-pools NHWC; transposes absorbed where they cancel.

    A max-pool that still precedes its ``MultiThreshold`` (network written Conv->BN->MaxPool->ReLU)
    is moved past it first (exact: thresholds are monotonic), so no float affine sits before a pool.
    """
    import finn.transformation.streamline.absorb as absorb
    from finn.transformation.streamline.reorder import MakeMaxPoolNHWC, MoveMaxPoolPastMultiThreshold
    from qonnx.transformation.lower_convs_to_matmul import LowerConvsToMatMul

    for transform in (MoveMaxPoolPastMultiThreshold(), LowerConvsToMatMul(), MakeMaxPoolNHWC(),
                      absorb.AbsorbTransposeIntoMultiThreshold(), MakeMaxPoolNHWC(),
                      absorb.AbsorbConsecutiveTransposes()):
        model = model.transform(transform)
    return model


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
    from finn.transformation.fpgadataflow.convert_to_hw.conv_inp_gen import InferConvInpGen
    from finn.transformation.fpgadataflow.convert_to_hw.pool import InferPool
    from finn.transformation.fpgadataflow.convert_to_hw.thresholding import InferThresholdingLayer
    from finn.transformation.move_reshape import RemoveCNVtoFCFlatten
    from finn.transformation.streamline.absorb import AbsorbConsecutiveTransposes
    from finn.transformation.qonnx.give_unique_node_names_recursive import GiveUniqueNodeNamesRecursive
    from qonnx.transformation.infer_data_layouts import InferDataLayouts
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    transforms = [InferQuantizedMatrixVectorActivation(), InferThresholdingLayer()]
    if model.get_nodes_by_op_type("Im2Col") or model.get_nodes_by_op_type("MaxPoolNHWC"):
        transforms += [InferPool(), InferConvInpGen(), RemoveCNVtoFCFlatten(), AbsorbConsecutiveTransposes()]
    for transform in (*transforms, GiveUniqueNodeNamesRecursive(), InferDataLayouts(), InferDataTypes(),
                      InferShapes()):
        model = model.transform(transform)
    return _minimize_bit_width(model)


def host_nodes(model) -> list[tuple[str, str]]:
    """(name, op_type) of the nodes that are not dataflow (HW) layers (``backend=fpgadataflow``)."""
    from finn.util.fpgadataflow import is_fpgadataflow_node

    return [(n.name, n.op_type) for n in model.graph.node if not is_fpgadataflow_node(n)]


def _sparse_hw_pass(model, model_cfg: Mapping[str, Any] | None):
    """The project's sparse HW layers (after HW conversion, before partitioning): ``finn.convert``
    turns ``KWinners`` nodes into HW layers and swaps FINN's MVAU for the sparse matrix unit where
    ``model_cfg`` says a layer is sparse. Returns the model and whether the pass ran; without a
    ``model_cfg`` (no layer densities known) it does not, and a k-WTA stays a host node, which
    ``_create_partition`` reports as not mappable.
    """
    if model_cfg is None:
        return model, False
    try:
        return convert_to_sparse_hw(model, dict(model_cfg)), True
    except UserError as exc:  # the pass refuses this graph or config: recorded, not fatal
        raise NotMappableError(f"the project's sparse HW conversion refused the graph: {exc}") from exc


def _splitting_host_node(model):
    """A host node with a HW layer both upstream and downstream of it, or ``None``."""
    from finn.util.fpgadataflow import is_fpgadataflow_node

    def reaches_hw(node, step) -> bool:
        seen, todo = set(), list(step(node) or [])
        while todo:
            nxt = todo.pop()
            if nxt.name in seen:
                continue
            seen.add(nxt.name)
            if is_fpgadataflow_node(nxt):
                return True
            todo.extend(step(nxt) or [])
        return False

    for node in model.graph.node:
        if not is_fpgadataflow_node(node) and reaches_hw(node, model.find_direct_predecessors) \
                and reaches_hw(node, model.find_direct_successors):
            return node
    return None


def _create_partition(model, partition_dir: Path):
    """One dataflow partition; only ``ALLOWED_HOST_OPS`` may remain on the host (CPU)."""
    from finn.transformation.fpgadataflow.create_dataflow_partition import CreateDataflowPartition
    from qonnx.custom_op.registry import getCustomOp

    on_host = host_nodes(model)
    not_allowed = [f"{name} ({op})" for name, op in on_host if op not in ALLOWED_HOST_OPS]
    if not_allowed:
        raise NotMappableError("FINN could not map these nodes to hardware layers (they would run on the "
                               "CPU): " + ", ".join(not_allowed))
    culprit = _splitting_host_node(model)
    if culprit is not None:
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
    """Fold the dataflow graph; return it and the folding search results (``None`` if no search)."""
    from finn.transformation.general import ApplyConfig
    from finn.transformation.qonnx.give_unique_node_names_recursive import GiveUniqueNodeNamesRecursive

    model = model.transform(GiveUniqueNodeNamesRecursive())
    if target.folding_config is not None:
        if not Path(target.folding_config).is_file():
            raise UserError(f"folding config not found: {target.folding_config}")
        model = model.transform(ApplyConfig(str(target.folding_config)))
        return model, None
    if target.board is not None:
        searches = {settings.name: folding.search_folding(model, target.fpga_part, target.board, target.budget,
                                                          settings)
                    for settings in (folding.STOCK, folding.TUNED)}
        return searches["tuned"].model, searches
    finn_only = all(folding.is_finn_layer(node) for node in folding.hw_nodes(model))
    model = folding.set_folding(model, target.target_cycles_per_frame, target.mvau_wwidth_max, relax=finn_only)
    model = folding.fold_other_ops(model, target.target_cycles_per_frame)
    return model.transform(GiveUniqueNodeNamesRecursive()), None


def _codegen(model, target: BuildTarget, out_dir: Path, probe_ipgen: bool):
    """HLS/RTL code generation (``PrepareIP``) into ``out_dir/<layer>/``; paths stored relative.

    With ``probe_ipgen`` (no Vivado), also confirm that FINN's IP generation refuses to run and
    return its message as the third value.
    """
    from finn.transformation.fpgadataflow.prepare_ip import PrepareIP
    from qonnx.custom_op.registry import getCustomOp

    model = model.transform(PrepareIP(target.fpga_part, target.clock_period_ns))
    ipgen_error = _probe_ipgen(model, target) if probe_ipgen else None
    layers, missing = {}, []
    with tempfile.TemporaryDirectory(prefix="sparsekws_hdl_") as sparse_dir:
        sparse_rtl = generate_sparse_hdl(model, sparse_dir)  # the project's ops: Verilog from sparsekws.rtl
        for node in model.graph.node:
            inst = getCustomOp(node)
            known = inst.get_nodeattr_types()
            src = inst.get_nodeattr("code_gen_dir_ipgen") if "code_gen_dir_ipgen" in known else ""
            if not src or not Path(src).is_dir():
                missing.append(node.name)  # an op without generated code (FINN's or ours, see sparse_rtl)
                continue
            dst = out_dir / node.name
            shutil.copytree(src, dst)
            inst.set_nodeattr("code_gen_dir_ipgen", f"codegen/{node.name}")
            layers[node.name] = sorted(p.name for p in dst.iterdir())
    record = {"status": "ok" if not missing else "partial", "dir": "codegen", "files": layers,
              "layers_without_code": missing, "sparse_rtl": sparse_rtl}
    return model, record, ipgen_error


def _probe_ipgen(model, target: BuildTarget) -> str | None:
    """Without Vivado: confirm FINN's IP generation (``HLSSynthIP``) refuses; return its message."""
    from finn.transformation.fpgadataflow.hlssynth_ip import HLSSynthIP

    try:
        model.transform(HLSSynthIP(target.fpga_part))
    except Exception as exc:
        return f"{type(exc).__name__}: {exc}"
    return None


# ---- estimates ------------------------------------------------------------------------------

def _zero_fractions(model) -> dict[str, float]:
    """Fraction of exactly-zero weights per layer that has a weight initializer (input 1)."""
    fractions = {}
    for node in model.graph.node:
        weighted = "MVAU" in node.op_type or node.op_type.startswith(("MatrixVectorActivation", "VVAU"))
        if len(node.input) > 1 and weighted:
            weights = model.get_initializer(node.input[1])
            if weights is not None and weights.size:
                fractions[node.name] = float(np.mean(weights == 0))
    return fractions


def _estimates(model, target: BuildTarget) -> dict[str, Any]:
    from finn.analysis.fpgadataflow.exp_cycles_per_layer import exp_cycles_per_layer
    from finn.analysis.fpgadataflow.op_and_param_counts import op_and_param_counts
    from finn.analysis.fpgadataflow.res_estimation import res_estimation

    cycles = model.analysis(exp_cycles_per_layer)
    resources = model.analysis(partial(res_estimation, fpgapart=target.fpga_part))
    ops = model.analysis(op_and_param_counts)
    layers = folding.layer_estimates(model, target.fpga_part)  # every HW layer, FINN's or not, tagged
    performance = folding.dataflow_performance(model, layers)
    return {"cycles": cycles, "resources": resources, "ops_and_params": ops, "performance": performance,
            "layers": layers}


def estimate_dataflow(qonnx_path: str | Path, reference_io: str | Path, target: BuildTarget,
                      work_dir: str | Path, model_cfg: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Run the FINN estimate flow for one target; write FINN's reports and graphs to ``work_dir``.

    ``work_dir`` receives ``report/`` (FINN's own estimate JSON files), ``onnx/`` (the graph
    after each step) and ``codegen/`` (per-layer HLS code). Returns the estimates, the steps
    run, the Python-execution checks and the folding as a dict (see ``finn.compile``).
    Raises ``FinnBuildError`` if the network does not map to one accelerator or if the Python
    execution of the FINN graph differs from the reference outputs.
    """
    qonnx_path, work_dir = Path(qonnx_path), Path(work_dir)
    graph = read_onnx(qonnx_path)
    inputs, outputs = _load_reference(Path(reference_io))
    report_dir, onnx_dir = work_dir / "report", work_dir / "onnx"
    report_dir.mkdir(parents=True, exist_ok=True)
    onnx_dir.mkdir(parents=True, exist_ok=True)

    scratch = Path(tempfile.mkdtemp(prefix="finn_build_", dir=work_dir))
    try:
        use_finn_build_dir(scratch)
        from qonnx.core.modelwrapper import ModelWrapper

        speedups.install()  # the same results; graph execution and weight files without per-value Python loops

        timer = _StepTimer()
        checks = []
        model = ModelWrapper(graph)
        model = timer.run("qonnx_to_finn", _qonnx_to_finn, model)
        model = timer.run("tidy_up", _tidy_up, model)
        model = timer.run("streamline", _streamline, model)
        model.save(str(onnx_dir / "streamlined.onnx"))
        checks.append(timer.run("verify_streamlined_python", lambda m: compare_outputs(
            "streamlined", execute_graph(m, inputs), outputs), model))
        model = timer.run("convert_to_hw", _convert_to_hw, model)
        # ---- the project's sparse HW layers (k-WTA, sparse matrix unit) plug in here ----
        model, sparse_pass = timer.run("convert_to_sparse_hw", _sparse_hw_pass, model, model_cfg)
        model.save(str(onnx_dir / "hw_layers.onnx"))
        parent, dataflow, on_host = timer.run("create_dataflow_partition", _create_partition, model,
                                              work_dir / "partition")
        checks.append(timer.run("verify_dataflow_python", lambda m: compare_outputs(
            "dataflow_partition", execute_graph(m, inputs), outputs), parent))
        _judge_checks(checks)
        dataflow = timer.run("specialize_layers", _specialize, dataflow, target.fpga_part)
        dataflow = timer.run("minimize_bit_width", _minimize_bit_width, dataflow)
        dataflow, searches = timer.run("set_folding", _fold, dataflow, target)
        dataflow = timer.run("minimize_bit_width", _minimize_bit_width, dataflow)
        estimates = timer.run("generate_estimate_reports", _estimates, dataflow, target)
        folding_record = folding.folding_attrs(dataflow, FOLDING_ATTRS)
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
        "layer_cycles": {k: v["cycles"] for k, v in estimates["layers"].items()},
        "layer_resources": {k: {r: v[r] for r in folding.RESOURCE_KEYS} for k, v in estimates["layers"].items()},
        "ff_unmodelled": [k for k, v in estimates["layers"].items() if not v["ff_modelled"]],
        "layer_estimators": {k: v["estimator"] for k, v in estimates["layers"].items()},
        "search": {k: v.summary() for k, v in searches.items()} if searches else None,
        "sparse_pass": sparse_pass,
        "ops_and_params": estimates["ops_and_params"],
        "performance": perf,
        "folding": folding_record,
        "weight_zero_fraction": zero_fraction,
        "host_nodes": [{"name": n, "op_type": op} for n, op in on_host],
        "python_checks": checks,
        "codegen": codegen,
        "steps": timer.steps,
        "steps_not_run": not_run,
        "vivado": vivado,
        "target_cycles_per_frame": target.target_cycles_per_frame if target.folding_config is None else None,
    }
