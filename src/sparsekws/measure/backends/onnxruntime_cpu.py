"""ONNX Runtime on the host CPU: the dense baseline a user would pick, in float32 and int8.

- ``onnxruntime-float32``: the exported QONNX graph lowered to QCDQ (QuantizeLinear / Clip /
  DequantizeLinear), run with ONNX Runtime's *basic* optimisations. Basic constant folding turns
  each constant weight's Quantize/Dequantize pair into a float32 weight holding the quantised
  values, so the MatMuls/Convs run in float32 on exactly the model's weights; activations are
  quantised by Q/Clip/DQ nodes. This computes the model itself (checked: outputs must equal the
  model's).
- ``onnxruntime-int8``: the same graph with *all* optimisations: ONNX Runtime fuses the QDQ
  patterns into its int8 kernels (MatMulInteger / QLinear ops, which use the CPU's VNNI dot
  products where present). Those kernels requantise differently (seen on the default models:
  logits off by up to 0.85, about 3 % of predictions changed), so this backend records its own
  accuracy on the measured words and whether its outputs equal the model's, without failing.

A graph with an op ONNX Runtime has no kernel for (the project's ``KWinners`` node) is skipped.
"""

from __future__ import annotations

from pathlib import Path

from sparsekws.core.files import atomic_path, read_onnx
from sparsekws.measure.records import BackendUnavailable, Method, Workload, complete, measure_callable
from sparsekws.measure.timing import cpu_description, has_vnni, pinned_threads


def to_onnxruntime_model(qonnx_path: str | Path, out_path: str | Path) -> None:
    """Lower a QONNX graph to QCDQ with a free batch dimension, for ONNX Runtime."""
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.qonnx_to_qcdq import QuantToQCDQ

    model = ModelWrapper(read_onnx(qonnx_path)).transform(QuantToQCDQ())
    graph = model.graph
    custom = sorted({n.op_type for n in graph.node if n.domain not in ("", "ai.onnx")})
    if custom:
        raise BackendUnavailable(f"ONNX Runtime has no kernel for the graph's custom op(s) {', '.join(custom)} "
                                 "(k-WTA is the project's own op); no ONNX Runtime number for this model")
    del graph.value_info[:]
    for tensor in list(graph.input) + list(graph.output):
        tensor.type.tensor_type.shape.dim[0].dim_param = "batch"
    with atomic_path(out_path, suffix=".onnx") as tmp:
        model.save(str(tmp))


def make_session(onnx_path: str | Path, threads: int, level: str = "basic"):
    """An ONNX Runtime CPU session with ``threads`` intra-op threads and an optimisation level."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.graph_optimization_level = {"basic": ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
                                        "all": ort.GraphOptimizationLevel.ORT_ENABLE_ALL}[level]
    return ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"])


def lowered_model(workload: Workload) -> Path:
    """The QCDQ model of the workload (written once into its work folder)."""
    if workload.qonnx is None:
        raise BackendUnavailable("no QONNX model given (--qonnx)")
    path = workload.work_dir / f"{workload.model}.qcdq.onnx"
    if not path.exists():
        to_onnxruntime_model(workload.qonnx, path)
    return path


class OnnxRuntimeFloat32:
    name, platform, level, exact = "onnxruntime-float32", "cpu", "basic", True
    description = "QCDQ graph, basic optimisations (weights folded to float32; float32 MatMul/Conv)"

    def measure(self, workload: Workload, settings: dict):
        import onnxruntime as ort

        path = lowered_model(workload)
        threads = settings["threads"]
        with pinned_threads(threads, settings["pin_cores"]) as pinning:
            session = make_session(path, threads, self.level)
            name = session.get_inputs()[0].name
            rows = measure_callable(lambda b: session.run(None, {name: b})[0], workload,
                                    Method.from_settings(settings), name=self.name, exact=self.exact)
        device = f"{cpu_description()}, {pinning}"
        if self.level == "all":
            device += f", VNNI {'present' if has_vnni() else 'absent'}"
        return complete(rows, model=workload.model, platform=self.platform, backend=self.name, device=device,
                        threads=threads, method=f"onnxruntime {ort.__version__} CPU, {self.description}; "
                        f"{Method.from_settings(settings).text()}", **workload.provenance)


class OnnxRuntimeInt8(OnnxRuntimeFloat32):
    name, level, exact = "onnxruntime-int8", "all", False
    description = "QCDQ graph, all optimisations (QDQ fused into int8 kernels; may differ from the model)"
