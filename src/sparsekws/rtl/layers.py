"""The hardware layers of a model's specification (``models.spec``), matched to the calibration
table's entries, and the integer weights and k-WTA rank ROMs of a trained model's QONNX export."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sparsekws.core.errors import UserError
from sparsekws.core.files import read_onnx
from sparsekws.models.spec import KwtaLayer, ModelSpec, WeightLayer
from sparsekws.rtl.calibration import LAYERS, Layer
from sparsekws.units.ranking import score_ranks


@dataclass(frozen=True)
class ModelLayer:
    """One matrix layer (``layer``) at a weight ``density``, or a k-WTA group (``kwta``)."""

    layer: Layer | None
    density: float
    kwta: tuple[str, int, int] | None = None  # (name, channels, k)
    positions: int = 1  # output positions per frame: a conv's vectors (im2col), a k-WTA's H x W
    active_inputs: int = 0  # K when the input comes from a 1-D k-WTA layer with a fixed k
    input_chw: tuple[int, int, int] | None = None  # a linear layer on a flattened C x H x W feature map
    hw_mode: str = ""  # the model config's sparse_hw mode for this layer, where it names one
    conv: tuple[int, int, int, int, int] | None = None  # a conv: (C, H, W) it reads, kernel, k of the k-WTA before it

    def hardware_columns(self, weights: np.ndarray) -> np.ndarray:
        """``weights`` with its columns in the hardware's stream order: a flattened feature map
        arrives channels-last (H, W, C) in FINN, not in PyTorch's (C, H, W)."""
        if self.input_chw is None:
            return weights
        c, h, w = self.input_chw
        return weights.reshape(-1, c, h, w).transpose(0, 2, 3, 1).reshape(weights.shape[0], -1)

    @property
    def name(self) -> str:
        return self.layer.name if self.layer else self.kwta[0]


def calibration_name(spec: ModelSpec, layer: WeightLayer | KwtaLayer) -> str:
    """The calibration table's name of a layer: ``<family>_<layer>``, the MLP's hidden layers sharing ``mlp_hidden``."""
    name = "hidden" if spec.family == "mlp" and layer.name.startswith("hidden") else layer.name
    return f"{spec.family}_{name}"


def _matching(name: str, kind: str, rows: int, cols: int) -> Layer:
    """The calibration layer of that shape, or a new one with the folding rule of the layer of that
    name (of the last CNN layer of that kind for a layer the table does not name)."""
    for layer in LAYERS:
        if (layer.rows, layer.cols) == (rows, cols):
            return layer
    fallback = "cnn_conv2" if kind == "conv" else "cnn_fc"
    base = next((layer for layer in LAYERS if layer.name == name), None) or next(
        layer for layer in LAYERS if layer.name == fallback)
    pe = max(d for d in range(1, base.pe + 1) if rows % d == 0)
    simd = max(d for d in range(1, base.simd + 1) if cols % d == 0)
    return Layer(name, rows, cols, base.wbits, base.abits, base.obits, pe, simd, base.in_signed)


def model_layers(spec: ModelSpec, modes: dict | None = None) -> list[ModelLayer]:
    """The matrix and k-WTA layers of a model's specification, in order; ``modes``: the model config's
    ``sparse_hw.mode`` per weight-layer index (``{index: mode}``, keys int or str)."""
    modes = {int(index): mode for index, mode in (modes or {}).items()} if isinstance(modes, dict) else {}
    out = []
    for position, item in enumerate(spec.layers):
        name = calibration_name(spec, item)
        if isinstance(item, KwtaLayer):
            out.append(ModelLayer(None, item.density, kwta=(name, item.channels, item.k_inference),
                                  positions=item.positions))
            continue
        feeder = spec.kwta_feeding(item)
        active = feeder.k_inference if feeder is not None and feeder.positions == 1 else 0
        before = spec.layers[position - 1] if position else None
        conv = None
        if item.kind == "conv" and isinstance(before, KwtaLayer):
            conv = (*item.input_chw, item.kernel, before.k_inference)
        out.append(ModelLayer(_matching(name, item.kind, item.out_features, item.in_features), item.density,
                              positions=item.positions, active_inputs=active,
                              input_chw=item.input_chw if item.kind == "linear" else None,
                              hw_mode=modes.get(item.index, ""), conv=conv))
    return out


def _graph(qonnx_path: str | Path):
    """The ONNX model of a QONNX file and its initialisers as numpy arrays."""
    from onnx import numpy_helper

    model = read_onnx(qonnx_path)
    return model, {i.name: numpy_helper.to_array(i) for i in model.graph.initializer}


def trained_weights(qonnx_path: str | Path) -> list[np.ndarray]:
    """Integer weight matrices (rows = outputs) of the Quant-ed initialisers of a QONNX model, in order.

    ``int = round(w / scale + zero_point)``; conv kernels flattened to (out, kh * kw * in), the
    channels-last order of FINN's sliding window (im2col).
    """
    model, inits = _graph(qonnx_path)
    consumers = {name: n for n in model.graph.node for name in n.input}
    weights = []
    for node in model.graph.node:
        if node.op_type != "Quant" or node.input[0] not in inits:
            continue
        w, scale, zero = (inits[name] for name in node.input[:3])
        q = np.round(w / scale + zero).astype(np.int64)
        user = consumers.get(node.output[0])
        if user is not None and user.op_type == "MatMul":
            q = q.T
        if q.ndim == 4:  # conv kernel [out, in, kh, kw] -> [out, kh, kw, in]
            q = q.transpose(0, 2, 3, 1)
        weights.append(q.reshape(q.shape[0], -1))
    return weights


@dataclass(frozen=True)
class TrainedKwta:
    """A ``KWinners`` node of a QONNX export and the rank ROM ``[C, 2^bits]`` of its trained boost
    and activation scale (``KWinnersHW.rank_table``)."""

    channels: int
    positions: int  # H x W of a 2-D input, 1 for 1-D; 0 when the graph holds no shape
    k: int
    mode: str
    rank_table: np.ndarray


# nodes between an activation quantiser and the k-WTA that keep its levels and scale
_LEVEL_PRESERVING = ("MaxPool", "Flatten", "Reshape", "Transpose", "Identity")


def trained_kwta(qonnx_path: str | Path) -> list[TrainedKwta]:
    """The ``KWinners`` nodes of a QONNX model, in order, with their rank ROMs: levels
    ``0 .. 2^bits - 1`` of the unsigned ``Quant`` node that feeds the node (through max-pool or
    reshapes), its scale and the node's ``boost`` attribute, ranked by ``kwinners_hw.score_ranks``."""
    from onnx import helper

    model, inits = _graph(qonnx_path)
    producers = {name: n for n in model.graph.node for name in n.output}
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim]
              for v in [*model.graph.value_info, *model.graph.input, *model.graph.output]}
    out = []
    for node in model.graph.node:
        if node.op_type != "KWinners":
            continue
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        quant = producers.get(node.input[0])
        while quant is not None and quant.op_type in _LEVEL_PRESERVING:
            quant = producers.get(quant.input[0])
        if quant is None or quant.op_type != "Quant" or any(name not in inits for name in quant.input[1:4]):
            raise UserError(f"{qonnx_path}: k-WTA node {node.name or node.output[0]} is not fed by an activation "
                            "Quant node (through max-pool or reshapes); export the model again")
        signed = any(a.name == "signed" and helper.get_attribute_value(a) for a in quant.attribute)
        if signed:
            raise UserError(f"{qonnx_path}: k-WTA node {node.name or node.output[0]} has signed inputs; "
                            "the RTL k-WTA report covers the unsigned activations after a ReLU")
        shape = shapes.get(node.input[0], [])
        known = len(shape) >= 2 and all(shape)
        boost = np.asarray(attrs.get("boost") or np.ones(shape[1] if known else 1), dtype=np.float32)
        bits = int(inits[quant.input[3]])
        scale = np.broadcast_to(inits[quant.input[1]].astype(np.float32).reshape(-1), boost.shape)
        mode = attrs.get("mode", b"global")
        out.append(TrainedKwta(channels=len(boost), positions=int(np.prod(shape[2:])) if known else 0,
                               k=int(attrs["k"]), mode=mode.decode() if isinstance(mode, bytes) else mode,
                               rank_table=score_ranks(np.arange(1 << bits), scale, boost)))
    return out
