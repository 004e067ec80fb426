"""Export a trained model to QONNX and verify that the graph computes what the torch model does.

The graph comes from Brevitas' TorchScript-based QONNX exporter (``dynamo=False``): it gives
``Quant -> MatMul -> BatchNormalization -> Relu -> Quant`` nodes with batch size 1, which FINN's
``ConvertQONNXtoFINN`` turns into MatMul/Mul/MultiThreshold (the dynamo exporter gives the same
structure with ``Gemm`` nodes and takes ten times longer). The CNN adds ``Conv`` and ``MaxPool``
nodes, and every k-WTA module becomes a ``KWinners`` node of the project's own domain
``sparsekws.custom_op`` (numpy implementation in ``sparsekws.custom_op``, which QONNX's
``execute_onnx`` finds by the domain name). After ``cleanup_model`` the input tensor is annotated
with the integer datatype of the features (``INT8``).

Verification runs the saved graph with ``qonnx.core.onnx_exec.execute_onnx`` on test-split
samples (one at a time: the graph has batch 1) and compares the logits with the torch model in
eval mode; it also checks that every masked weight of a sparse layer is zero in the exported
(quantised) weights (MatMul weights are [in, out], Conv weights [out, in, kh, kw]). On a mismatch
nothing is written and the command fails.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from sparsekws.core.agreement import compare_outputs
from sparsekws.core.config import model_config
from sparsekws.core.errors import UserError
from sparsekws.core.files import atomic_path, write_json, write_npz
from sparsekws.core.provenance import stamp
from sparsekws.features.store import load_features
from sparsekws.models.mlp import input_datatype
from sparsekws.models.sparse_weights import weight_layers
from sparsekws.training.model_file import check_features, load_trained_model, saved_input_shape

log = logging.getLogger(__name__)

DEFAULT_SAMPLES = 64


def export_qonnx_model(model: nn.Module, input_shape: int | tuple[int, ...], input_bits: int,
                       path: str | os.PathLike):
    """Export ``model`` to QONNX at ``path`` (batch 1), clean it up, annotate the input datatype.

    ``input_shape`` is the per-sample input shape (an int for a flat input). Returns the qonnx
    ``ModelWrapper`` (also saved at ``path``).
    """
    from brevitas.export import export_qonnx
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    model.eval()
    shape = (input_shape,) if isinstance(input_shape, int) else tuple(input_shape)
    example = torch.zeros(1, *shape)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export_qonnx(model, args=example, export_path=str(path), dynamo=False)
    wrapper = cleanup_model(ModelWrapper(str(path)))
    wrapper.set_tensor_datatype(wrapper.graph.input[0].name, DataType[input_datatype(input_bits)])
    wrapper.save(str(path))
    return wrapper


def execute_graph(wrapper, inputs: np.ndarray) -> np.ndarray:
    """Run the QONNX graph on each sample of ``inputs`` (float32 [n, ...]); logits [n, classes]."""
    from qonnx.core.onnx_exec import execute_onnx

    in_name, out_name = wrapper.graph.input[0].name, wrapper.graph.output[0].name
    batch = wrapper.get_tensor_shape(in_name)[0]
    outputs = []
    for start in range(0, len(inputs), batch):
        chunk = inputs[start:start + batch].astype(np.float32)
        outputs.append(execute_onnx(wrapper, {in_name: chunk})[out_name])
    return np.concatenate(outputs).reshape(len(inputs), -1)


def exported_weights(wrapper) -> list[dict[str, Any]]:
    """Each MatMul/Gemm/Conv weight of the graph in node order: initializer name, float and quantised values.

    A weight is either an initializer or the output of a ``Quant`` node whose input is one; the
    quantised values are computed by executing that ``Quant`` node alone.
    """
    from qonnx.custom_op.registry import getCustomOp

    weights = []
    for node in wrapper.graph.node:
        if node.op_type not in ("MatMul", "Gemm", "Conv"):
            continue
        tensor = node.input[1]
        raw = wrapper.get_initializer(tensor)
        quantised = raw
        name = tensor
        producer = wrapper.find_producer(tensor)
        if raw is None and producer is not None and producer.op_type == "Quant":
            name = producer.input[0]
            raw = wrapper.get_initializer(name)
            if raw is None:
                continue
            context = {i: wrapper.get_initializer(i) for i in producer.input}
            getCustomOp(producer).execute_node(context, wrapper.graph)
            quantised = context[producer.output[0]]
        if raw is None:
            continue
        if node.op_type == "Gemm" and any(a.name == "transB" and a.i == 1 for a in node.attribute):
            raw, quantised = raw.T, quantised.T
        weights.append({"node": node.name, "op_type": node.op_type, "initializer": name, "raw": np.asarray(raw),
                        "quantised": np.asarray(quantised)})
    return weights


def _graph_layout(mask: np.ndarray, op_type: str) -> np.ndarray:
    """A torch weight mask in the graph's layout: MatMul weights are (in, out), Conv as in torch."""
    return mask if op_type == "Conv" else mask.T


def check_export(wrapper, model: nn.Module, inputs: np.ndarray) -> dict[str, Any]:
    """Compare the graph with the torch model on ``inputs`` and check the sparse masks survived.

    Returns the check record; ``passed`` is False on any mismatch (the caller decides what to do).
    """
    with torch.no_grad():
        expected = model.eval()(torch.from_numpy(inputs.astype(np.float32))).numpy()
    outputs = compare_outputs(execute_graph(wrapper, inputs), expected)

    layers = weight_layers(model)
    graph_weights = exported_weights(wrapper)
    weights_ok = len(graph_weights) == len(layers)
    initializers = []
    for index, entry in enumerate(graph_weights):
        record = {"initializer": entry["initializer"], "node": entry["node"],
                  "shape": list(entry["raw"].shape),
                  "zero_fraction": float(np.mean(entry["raw"] == 0)),
                  "quantised_zero_fraction": float(np.mean(entry["quantised"] == 0))}
        if index < len(layers):
            _, _, sparse = layers[index]
            mask = _graph_layout(sparse.mask.numpy(), entry["op_type"]) if sparse is not None else None
            if mask is not None:
                if mask.shape != entry["quantised"].shape:
                    weights_ok = False
                    record["mask_zeros_preserved"] = False
                else:
                    preserved = bool(np.all(entry["quantised"][mask == 0] == 0))
                    record["mask_zeros_preserved"] = preserved
                    weights_ok = weights_ok and preserved
                record["mask_density"] = sparse.mask_density
        initializers.append(record)

    return {
        **outputs,
        "max_abs_logit": float(np.max(np.abs(expected))),
        "tolerance_rule": outputs["tolerance_rule"] + "; every masked weight zero in the exported quantised weights",
        "weights_checked": weights_ok,
        "weight_initializers": initializers,
        "node_types": [node.op_type for node in wrapper.graph.node],
        "custom_nodes": [{"op_type": node.op_type, "domain": node.domain} for node in wrapper.graph.node
                         if node.domain not in ("", "qonnx.custom_op.general")],
        "passed": bool(outputs["passed"] and weights_ok),
        "_expected": expected,
    }


def export_model(cfg: dict[str, Any], model_name: str, checkpoint: str | os.PathLike,
                 features_path: str | os.PathLike, out: str | os.PathLike,
                 check_out: str | os.PathLike | None = None, reference_out: str | os.PathLike | None = None,
                 samples: int = DEFAULT_SAMPLES) -> dict[str, Any]:
    """Export, verify and (only when the check passes) write the QONNX model and its records."""
    mcfg = model_config(cfg, model_name)
    model, saved = load_trained_model(checkpoint, mcfg)
    features = load_features(features_path)
    check_features(saved, checkpoint, features)
    input_shape = saved_input_shape(saved)
    split = "test" if len(features.x["test"]) else "validation"
    x = features.x[split][:samples]
    if x[0].numel() != math.prod(input_shape) or features.classes != list(saved["classes"]):
        raise UserError(f"features file {features_path} does not match checkpoint {checkpoint} "
                        "(feature size or classes differ)")
    inputs = x.reshape(len(x), *input_shape).numpy().astype(np.float32)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".export.", dir=out.parent) as tmp:
        tmp_model = Path(tmp) / "model.qonnx.onnx"
        wrapper = export_qonnx_model(model, input_shape, mcfg["input_bits"], tmp_model)
        check = check_export(wrapper, model, inputs)
        expected = check.pop("_expected")
        log.info("%s: QONNX graph %s", model_name, " -> ".join(check["node_types"]))
        log.info("%s: %d %s samples, max |diff| %.3g (tolerance %.3g), argmax agreement %.3f",
                 model_name, check["samples"], split, check["max_abs_diff"], check["tolerance"],
                 check["argmax_agreement"])
        if not check["passed"]:
            raise UserError(f"exported graph of '{model_name}' does not match the torch model: max |diff| "
                            f"{check['max_abs_diff']:.3g} (tolerance {check['tolerance']:.3g}), argmax "
                            f"agreement {check['argmax_agreement']:.3f}, masked weights zero: "
                            f"{check['weights_checked']}; nothing written")
        check.update({"model": model_name, "split": split, "input_datatype": input_datatype(mcfg["input_bits"]),
                      "exporter": "brevitas.export.export_qonnx(dynamo=False) + qonnx cleanup_model",
                      "provenance": stamp({"model": model_name, "model_config": mcfg, "seed": cfg["seed"]})})
        with atomic_path(out, suffix=".onnx") as target:
            os.replace(tmp_model, target)
    if reference_out is not None:
        write_npz(reference_out, {"inputs": inputs, "outputs": expected.astype(np.float32),
                                  "labels": features.y[split][:samples].numpy()})
    if check_out is not None:
        write_json(check_out, check)
    return check
