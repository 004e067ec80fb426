"""The hardware layers of a configured model, matched to the calibration table's entries,
and the integer weights and k-WTA rank ROMs of a trained model's QONNX export."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from sparsekws.errors import UserError
from sparsekws.rtl.calibration import KWTA, LAYERS, Layer

NUM_CLASSES = 12
MFCC_FEATURES = 490  # 49 x 10
LOGMEL_SIDE = 32


@dataclass(frozen=True)
class ModelLayer:
    """One matrix layer (``layer``) at a weight ``density``, or a k-WTA group (``kwta``)."""

    layer: Layer | None
    density: float
    kwta: tuple[str, int, int] | None = None  # (name, channels, k)
    positions: int = 1  # output positions per frame: a conv's vectors (im2col), a k-WTA's H x W
    active_inputs: int = 0  # K when the input comes from a k-WTA layer with a fixed k
    input_chw: tuple[int, int, int] | None = None  # a linear layer on a flattened C x H x W feature map

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


def _matching(name: str, rows: int, cols: int) -> Layer:
    """The calibration layer of that shape, or a new one with the same folding rule."""
    for layer in LAYERS:
        if (layer.rows, layer.cols) == (rows, cols):
            return layer
    base = next(layer for layer in LAYERS if layer.name == name)
    pe = max(d for d in range(1, base.pe + 1) if rows % d == 0)
    simd = max(d for d in range(1, base.simd + 1) if cols % d == 0)
    return Layer(name, rows, cols, base.wbits, base.abits, base.obits, pe, simd, base.in_signed)


def model_layers(cfg: dict[str, Any]) -> list[ModelLayer]:
    """The matrix and k-WTA layers of a ``models.<name>`` config entry, in order."""
    if cfg["family"] == "mlp":
        widths = [MFCC_FEATURES] + list(cfg["hidden_units"]) + [NUM_CLASSES]
        names = ["mlp_in"] + ["mlp_hidden"] * (len(widths) - 3) + ["mlp_out"]
        return [ModelLayer(_matching(name, rows, cols), cfg["weight_density"])
                for name, cols, rows in zip(names, widths[:-1], widths[1:])]
    if cfg["family"] != "cnn" or len(cfg["conv_channels"]) != 2 or cfg["kernel_size"] != 5:
        raise UserError(f"rtl: only the MLP and the two-conv 5x5 CNN have hardware layers here, "
                        f"not family {cfg['family']!r} with {cfg.get('conv_channels')}")
    c1, c2 = cfg["conv_channels"]
    units = cfg["linear_units"]
    side1 = LOGMEL_SIDE - 4
    side2 = side1 // 2 - 4
    flat = c2 * (side2 // 2) ** 2
    kwinners = cfg.get("kwinners", False)
    factor = cfg.get("k_inference_factor", 1.0)
    layers = [ModelLayer(_matching("cnn_conv1", c1, 25), cfg["conv_weight_density"][0], positions=side1 ** 2)]
    maps = [(c1, (side1 // 2) ** 2), (c2, (side2 // 2) ** 2), (units, 1)]  # (channels, positions)
    densities = list(cfg.get("conv_activation_density", [])) + [cfg.get("linear_activation_density", 1.0)]
    kwta: list[ModelLayer | None] = [None, None, None]
    for i, ((name, *_), (channels, positions), density) in enumerate(zip(KWTA[::-1], maps, densities)):
        group = channels * positions
        k = max(1, min(group, round(group * density * factor)))
        kwta[i] = (ModelLayer(None, density, kwta=(name, channels, k), positions=positions)
                   if kwinners and density < 1 else None)
    layers += [kwta[0]] if kwta[0] else []
    layers.append(ModelLayer(_matching("cnn_conv2", c2, c1 * 25), cfg["conv_weight_density"][1],
                             positions=side2 ** 2))
    layers += [kwta[1]] if kwta[1] else []
    layers.append(ModelLayer(_matching("cnn_fc", units, flat), cfg["linear_weight_density"],
                             input_chw=(c2, side2 // 2, side2 // 2)))
    layers += [kwta[2]] if kwta[2] else []
    layers.append(ModelLayer(_matching("cnn_out", NUM_CLASSES, units), 1.0,
                             active_inputs=kwta[2].kwta[2] if kwta[2] else 0))
    return layers


def has_sparse_units(cfg: dict[str, Any]) -> bool:
    """True when a model has hardware layers here and one of them is sparse (an RTL report is worth making)."""
    try:
        layers = model_layers(cfg)
    except UserError:
        return False
    return any(item.kwta or item.density < 1 for item in layers)


def _graph(qonnx_path: str | Path):
    """The ONNX model of a QONNX file and its initialisers as numpy arrays."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(qonnx_path))
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

    from sparsekws.hw.sparse_ops.kwinners_hw import score_ranks  # imports FINN

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
