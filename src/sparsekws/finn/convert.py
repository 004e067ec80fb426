"""``convert_to_sparse_hw``: put the sparse units into a FINN graph that has HW layers.

Call it after FINN's ``InferQuantizedMatrixVectorActivation`` / ``InferThresholdingLayer``
(and after ``streamline_with_kwinners``) and before ``CreateDataflowPartition``. It

1. turns every remaining QONNX ``KWinners`` node with an integer input into ``KWinnersHW``
   (a ``KWinners`` on float input means the scale was not moved: an error that says so);
2. replaces FINN's ``MVAU`` of each sparse layer by a ``SparseMVAU`` (same attributes plus
   ``fan_in``/``row_nnz``/``active_inputs``/``sparse_mode`` and the bank depths of both modes,
   so that a folding search may also switch ``sparse_mode`` where ``active_inputs`` is set); an ``MVAU`` without activation
   followed only by a ``Thresholding`` node takes over its thresholds (one unit, as FINN's MVAU);
3. in ``sparse_sparse`` mode marks the feeding ``KWinnersHW`` to emit (index, value) pairs;
4. in ``scatter_conv`` mode (a convolution whose input map is the whole output of a global 2-D
   ``KWinnersHW``) replaces the layer's ``ConvolutionInputGenerator`` + ``MVAU`` by one
   ``ScatterConv`` that takes the k-WTA's winners as (y, x, c, value) pairs (``active_inputs`` =
   its ``k``); never chosen by ``"auto"``;
5. in ``constant`` mode makes the ``SparseMVAU`` a constant-coefficient unit (the trained weights as
   logic, fully parallel; ``units.constant``); never chosen by ``"auto"``.

Which layers: the MVAUs are the model's weight layers in order (``layer_densities``); by
default every layer whose configured weight density (``models.spec``) is below 1 (``layers="auto"``), or the
listed layer indices. Which mode: ``"auto"`` gives ``sparse_sparse`` where the layer's one
input vector per frame is the whole output of a ``KWinnersHW`` (through shape-only nodes;
``active_inputs`` = its ``k``, or ``k`` per position times the positions for ``local``) and
``sparse_weights`` elsewhere (e.g. convolutions, whose windows come from FINN's im2col); a single mode or a ``{layer index: mode}`` dict overrides it. The
model config's optional ``sparse_hw`` entry (``layers``, ``mode``) gives the defaults.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sparsekws.core.errors import ConfigError, UserError
from sparsekws.custom_op.kwinners import KWinnersOp
from sparsekws.finn.ops.names import DOMAIN, KWINNERS_DOMAIN
from sparsekws.finn.streamline import kwinners_hw_nodes, replace_node
from sparsekws.models.spec import model_spec
from sparsekws.units.schedule import weight_structure

SPARSE_MODES = ("sparse_weights", "sparse_sparse", "constant", "scatter_conv")
SHAPE_ONLY_OPS = frozenset({"Reshape", "Flatten", "Transpose", "StreamingDataWidthConverter"})


class SparseConversionError(UserError):
    """The graph or the configuration does not allow the requested sparse conversion."""


def layer_densities(model, model_cfg: dict[str, Any]) -> list[float]:
    """Configured weight density of each weight layer, in forward order: the model's specification
    (``models.spec``) at the input shape and class count of the graph."""
    shape = model.get_tensor_shape(model.graph.input[0].name)
    classes = model.get_tensor_shape(model.graph.output[0].name)[-1]
    return model_spec(model_cfg, shape[1:], classes).densities


def _mvaus(model) -> list:
    return [n for n in model.graph.node if n.op_type == "MVAU" and n.domain == "finn.custom_op.fpgadataflow"]


def _convert_kwinners(model) -> None:
    """Plain ``KWinners`` nodes on integer inputs become ``KWinnersHW`` (scale 1)."""
    for kw in [n for n in model.graph.node if n.op_type == "KWinners" and n.domain == KWINNERS_DOMAIN]:
        datatype = model.get_tensor_datatype(kw.input[0])
        if not datatype.is_integer():
            raise SparseConversionError(
                f"KWinners node {kw.name} has a float ({datatype.name}) input: the quantiser scale in front of it "
                "was not moved; run sparsekws.finn.streamline.streamline_with_kwinners in place of FINN's Streamline")
        inst = KWinnersOp(kw)
        nodes = kwinners_hw_nodes(model, kw.name, kw.input[0], kw.output[0], model.get_tensor_shape(kw.input[0]),
                                  datatype, inst.get_nodeattr("k"), inst.get_nodeattr("mode"),
                                  inst.get_nodeattr("boost"), [1.0])
        replace_node(model, [kw], nodes)


def _kwinners_before(model, tensor: str):
    """The ``KWinnersHW`` node whose output is ``tensor`` (through shape-only nodes), or None."""
    producer = model.find_producer(tensor)
    while producer is not None and producer.op_type in SHAPE_ONLY_OPS:
        producer = model.find_producer(producer.input[0])
    return producer if producer is not None and producer.op_type == "KWinnersHW" else None


def _feeding_kwinners(model, node):
    """``(KWinnersHW node, most non-zeros it lets through)`` when its whole output is this
    MVAU's input vector (through shape-only nodes), else ``None``."""
    from qonnx.custom_op.registry import getCustomOp

    if int(np.prod(getCustomOp(node).get_nodeattr("numInputVectors"))) != 1:
        return None  # one vector per frame only (not a convolution's windows)
    producer = _kwinners_before(model, node.input[0])
    if producer is None:
        return None
    inst = getCustomOp(producer)
    shape = inst.get_normal_input_shape()
    k = inst.get_nodeattr("k")
    if len(shape) > 2 and inst.get_nodeattr("mode") == "local":
        return producer, min(k, shape[-1]) * int(np.prod(shape[1:-1]))
    return producer, min(k, int(np.prod(shape[1:])))


def _conv_fed_by_kwinners(model, node):
    """``(ConvolutionInputGenerator, KWinnersHW, k)`` when this MVAU is a convolution (stride 1, no
    padding, square kernel) over the whole output map of a global 2-D ``KWinnersHW``, else ``None``."""
    from qonnx.custom_op.registry import getCustomOp

    swg = model.find_producer(node.input[0])
    if swg is None or not swg.op_type.startswith("ConvolutionInputGenerator"):
        return None
    window = getCustomOp(swg)
    kernel = window.get_nodeattr("ConvKernelDim")
    if (list(window.get_nodeattr("Stride")) != [1, 1] or list(window.get_nodeattr("Dilation")) != [1, 1]
            or kernel[0] != kernel[1] or window.get_nodeattr("depthwise")):
        return None
    producer = _kwinners_before(model, swg.input[0])
    if producer is None:
        return None
    inst = getCustomOp(producer)
    shape = inst.get_normal_input_shape()
    if len(shape) != 4 or inst.get_nodeattr("mode") != "global":
        return None
    return swg, producer, min(inst.get_nodeattr("k"), int(np.prod(shape[1:])))


def _resolve(value, default):
    return default if value is None else value


def _selected_layers(layers, densities: list[float]) -> list[int]:
    if layers == "auto":
        return [i for i, d in enumerate(densities) if d < 1.0]
    if layers in ("none", None, False):
        return []
    chosen = sorted({int(i) for i in layers})
    bad = [i for i in chosen if not 0 <= i < len(densities)]
    if bad:
        raise ConfigError(f"sparse_hw layers {bad} out of range: the model has {len(densities)} weight layers "
                          f"(0..{len(densities) - 1})")
    return chosen


def _mode_for(mode, index: int, feeder, conv_feeder) -> str:
    chosen = mode.get(index, "auto") if isinstance(mode, dict) else mode
    if chosen == "auto":
        return "sparse_sparse" if feeder is not None else "sparse_weights"
    if chosen not in SPARSE_MODES:
        raise ConfigError(f"sparse_hw mode {chosen!r} for layer {index} is unknown; use one of "
                          f"{('auto',) + SPARSE_MODES}")
    if chosen == "sparse_sparse" and feeder is None:
        raise SparseConversionError(f"layer {index} cannot run sparse_sparse: its input vector is not the whole "
                                    "output of a k-WTA layer; use sparse_weights for it")
    if chosen == "scatter_conv" and conv_feeder is None:
        raise SparseConversionError(f"layer {index} cannot run scatter_conv: it is not a convolution (stride 1, no "
                                    "padding) over the whole output map of a global 2-D k-WTA layer")
    return chosen


def _absorb_thresholds(model, mvau) -> None:
    """Move the thresholds of a ``Thresholding`` node that alone follows an activation-less MVAU into it."""
    from qonnx.custom_op.registry import getCustomOp

    inst = getCustomOp(mvau)
    consumers = model.find_consumers(mvau.output[0]) or []
    if not inst.get_nodeattr("noActivation") or len(consumers) != 1:
        return
    thr_node = consumers[0]
    if not thr_node.op_type.startswith("Thresholding") or not thr_node.domain.startswith("finn.custom_op.fpgadataflow"):
        return
    thr = getCustomOp(thr_node)
    if thr.get_nodeattr("NumChannels") != inst.get_nodeattr("MH") or model.get_initializer(thr_node.input[1]) is None:
        return
    mvau.input.append(thr_node.input[1])
    mvau.output[0] = thr_node.output[0]
    inst.set_nodeattr("noActivation", 0)
    inst.set_nodeattr("ActVal", thr.get_nodeattr("ActVal"))
    inst.set_nodeattr("outputDataType", thr.get_nodeattr("outputDataType"))
    model.graph.node.remove(thr_node)


def convert_to_sparse_hw(model, model_cfg: dict[str, Any], layers=None, mode=None):
    """Replace the sparse layers' MVAUs by ``SparseMVAU`` and ``KWinners`` by ``KWinnersHW`` (module docstring).

    ``layers``: ``"auto"``, ``"none"`` or a list of weight-layer indices; ``mode``: ``"auto"``,
    ``"sparse_weights"``, ``"sparse_sparse"`` or ``{index: mode}``. ``None`` takes the value from
    ``model_cfg["sparse_hw"]`` (default ``"auto"``). Returns the transformed model.
    """
    from qonnx.custom_op.registry import getCustomOp
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    settings = model_cfg.get("sparse_hw") or {}
    layers = _resolve(layers, settings.get("layers", "auto"))
    mode = _resolve(mode, settings.get("mode", "auto"))
    if isinstance(mode, dict):  # layer indices: YAML gives ints, JSON (the workflow's params) strings
        mode = {int(index): value for index, value in mode.items()}
    model = model.transform(InferShapes())
    _convert_kwinners(model)
    densities = layer_densities(model, model_cfg)
    mvaus = _mvaus(model)
    if len(mvaus) != len(densities):
        raise SparseConversionError(f"the graph has {len(mvaus)} MVAU nodes but the model config describes "
                                    f"{len(densities)} weight layers; run FINN's conversion to HW layers first")
    for index in _selected_layers(layers, densities):
        node = mvaus[index]
        weights = model.get_initializer(node.input[1])
        if weights is None:
            raise SparseConversionError(f"MVAU {node.name} has no weight initializer (external weights are not "
                                        "supported by the sparse unit)")
        feeder, conv_feeder = _feeding_kwinners(model, node), _conv_fed_by_kwinners(model, node)
        chosen = _mode_for(mode, index, feeder, conv_feeder)
        _absorb_thresholds(model, node)
        if chosen == "scatter_conv":
            make_scatter_conv(model, node, *conv_feeder)
            continue
        active = feeder[1] if feeder is not None else 0
        if chosen == "sparse_sparse" and len(model.find_consumers(feeder[0].output[0]) or []) == 1:
            getCustomOp(feeder[0]).set_nodeattr("output_format", "pairs")
        make_sparse(model, node, chosen, active)
    return model.transform(InferShapes()).transform(InferDataTypes())


def make_sparse(model, node, mode: str = "sparse_weights", active_inputs: int = 0):
    """Turn one FINN ``MVAU`` node into a ``SparseMVAU`` (fan-in, row counts and bank depths from its weights)."""
    from qonnx.custom_op.registry import getCustomOp

    weights = model.get_initializer(node.input[1])
    structure = weight_structure(weights)
    node.op_type, node.domain = "SparseMVAU", DOMAIN
    inst = getCustomOp(node)
    inst.set_nodeattr("sparse_mode", mode)
    inst.set_nodeattr("fan_in", structure["fan_in"])
    inst.set_nodeattr("row_nnz", structure["row_nnz"])
    inst.set_nodeattr("active_inputs", int(active_inputs))
    inst.set_bank_depths(weights)
    inst.set_constant_terms(weights)
    return inst


def make_scatter_conv(model, mvau, swg, kwinners, active_inputs: int):
    """Replace ``swg`` + ``mvau`` (a convolution after a global 2-D k-WTA) by one ``ScatterConv``."""
    from onnx import helper
    from qonnx.custom_op.registry import getCustomOp

    conv, window = getCustomOp(mvau), getCustomOp(swg)
    if conv.get_nodeattr("noActivation"):
        raise SparseConversionError(f"{mvau.name}: scatter_conv needs the layer's thresholds in the unit")
    weights = model.get_initializer(mvau.input[1])
    node = helper.make_node(
        "ScatterConv", [swg.input[0], mvau.input[1], mvau.input[2]], [mvau.output[0]], name=mvau.name,
        domain=DOMAIN, backend="fpgadataflow", IFMDim=list(window.get_nodeattr("IFMDim")),
        IFMChannels=window.get_nodeattr("IFMChannels"), OFMChannels=conv.get_nodeattr("MH"),
        ConvKernelDim=window.get_nodeattr("ConvKernelDim")[0], active_inputs=int(active_inputs),
        fan_in=weight_structure(weights)["fan_in"], ActVal=conv.get_nodeattr("ActVal"),
        inputDataType=window.get_nodeattr("inputDataType"), weightDataType=conv.get_nodeattr("weightDataType"),
        outputDataType=conv.get_nodeattr("outputDataType"))
    getCustomOp(node).set_bank_depths(weights)
    position = list(model.graph.node).index(swg)
    model.graph.node.remove(swg)
    model.graph.node.remove(mvau)
    model.graph.node.insert(position, node)  # protobuf inserts a copy
    if len(model.find_consumers(kwinners.output[0]) or []) == 1:
        getCustomOp(kwinners).set_nodeattr("output_format", "pairs")
    return getCustomOp(model.graph.node[position])
