"""Streamlining through k-WTA: move the float scale in front of a ``KWinners`` node behind it, exactly.

After FINN's ``Streamline`` a quantised ReLU is ``MultiThreshold -> Mul(s)`` and the ``Mul``
stops at the ``KWinners`` node (FINN does not know it), so the next ``MatMul`` sees float
inputs and never becomes an MVAU. For a positive scale ``s`` (scalar or one per channel):

    KWinners(v * s, boost b) == KWinnersHW(v; input_scale s, boost b) * s

holds bit for bit: ``KWinnersHW`` chooses its winners on the float32 scores ``(v * s_c) * b_c``,
the very numbers the reference compares (the scale is *not* folded into the boost, which
would change the float rounding), and outputs the kept integer levels ``v``; multiplying them
by ``s`` gives the reference's kept values ``v * s``. A zero or negative scale would change
the order and is left alone. A 2-D ``KWinners`` (NCHW) becomes
``Transpose(NHWC) -> KWinnersHW -> Transpose(NCHW)`` (FINN's transpose passes then cancel the
pairs against the convolution lowering's own).

``streamline_with_kwinners`` alternates FINN's ``Streamline`` with this move until neither
changes the graph, so the ``Mul`` continues into the next layer's thresholds.
"""

from __future__ import annotations

from typing import Callable

import numpy as np
from onnx import helper
from qonnx.transformation.base import Transformation

from sparsekws.custom_op.kwinners import KWinnersOp
from sparsekws.finn.ops.names import DOMAIN, KWINNERS_DOMAIN

NCHW_TO_NHWC, NHWC_TO_NCHW = [0, 2, 3, 1], [0, 3, 1, 2]


def _channel_scale(scale: np.ndarray, shape: list[int]) -> np.ndarray | None:
    """The per-channel values of a Mul constant (1 or C of them), or None if not per channel."""
    channels = shape[1]
    if scale.size == 1:
        return scale.reshape(1).astype(np.float32)
    expected = [1, channels] + [1] * (len(shape) - 2)
    squeezed = scale.reshape(-1)
    padded = [1] * (len(shape) - scale.ndim) + list(scale.shape)
    if squeezed.size == channels and padded == expected:
        return squeezed.astype(np.float32)
    return None


def kwinners_hw_node(name: str, inp: str, out: str, shape_nhwc: list[int], datatype: str, k: int, mode: str,
                     boost, scale) -> helper.NodeProto:
    """A ``KWinnersHW`` node for a channels-last input of shape ``shape_nhwc``."""
    optional = {"boost": [float(b) for b in boost]} if len(boost) else {}
    return helper.make_node(
        "KWinnersHW", [inp], [out], domain=DOMAIN, name=name, backend="fpgadataflow",
        NumChannels=int(shape_nhwc[-1]), PE=1, k=int(k), mode=mode, input_scale=[float(s) for s in scale],
        inputDataType=datatype, numInputVectors=[int(d) for d in shape_nhwc[:-1]], **optional)


def kwinners_hw_nodes(model, name: str, inp: str, out: str, shape: list[int], datatype, k: int, mode: str,
                      boost, scale) -> list:
    """The nodes replacing a ``KWinners`` on ``shape`` (``[N, C]`` or NCHW): ``KWinnersHW``, or for 2-D
    ``Transpose(NHWC) -> KWinnersHW -> Transpose(NCHW)`` (intermediate tensors added to ``model``)."""
    if len(shape) == 2:
        return [kwinners_hw_node(name + "_hw", inp, out, shape, datatype.name, k, mode, boost, scale)]
    nhwc = [shape[0], shape[2], shape[3], shape[1]]
    into, outof = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
    for tensor in (into, outof):
        model.set_tensor_shape(tensor, nhwc)
        model.set_tensor_datatype(tensor, datatype)
    return [helper.make_node("Transpose", [inp], [into], perm=NCHW_TO_NHWC, name=name + "_to_nhwc"),
            kwinners_hw_node(name + "_hw", into, outof, nhwc, datatype.name, k, mode, boost, scale),
            helper.make_node("Transpose", [outof], [out], perm=NHWC_TO_NCHW, name=name + "_to_nchw")]


def replace_node(model, old_nodes: list, new_nodes: list) -> None:
    """Put ``new_nodes`` where the first of ``old_nodes`` was (keeps the graph topologically sorted)."""
    graph = model.graph
    index = min(list(graph.node).index(n) for n in old_nodes)
    for node in old_nodes:
        graph.node.remove(node)
    for offset, node in enumerate(new_nodes):
        graph.node.insert(index + offset, node)


class MoveScaleMulPastKWinners(Transformation):
    """Replace ``Mul(s) -> KWinners`` (integer Mul input, ``s > 0``) by ``KWinnersHW -> Mul(s)``."""

    def apply(self, model):
        for kw in list(model.graph.node):
            if kw.op_type != "KWinners" or kw.domain != KWINNERS_DOMAIN:
                continue
            mul = model.find_producer(kw.input[0])
            if mul is None or mul.op_type != "Mul" or len(model.find_consumers(mul.output[0])) != 1:
                continue
            const_pos = [i for i, name in enumerate(mul.input) if model.get_initializer(name) is not None]
            if len(const_pos) != 1:
                continue
            data = mul.input[1 - const_pos[0]]
            scale_init = model.get_initializer(mul.input[const_pos[0]])
            shape = model.get_tensor_shape(data)
            scale = _channel_scale(np.asarray(scale_init), shape)
            datatype = model.get_tensor_datatype(data)
            if scale is None or np.any(scale <= 0) or not datatype.is_integer():
                continue
            inst = KWinnersOp(kw)
            kept = model.make_new_valueinfo_name()
            model.set_tensor_shape(kept, shape)
            model.set_tensor_datatype(kept, datatype)
            new_scale = model.make_new_valueinfo_name()
            model.set_initializer(new_scale, np.asarray(scale_init, dtype=np.float32))
            nodes = kwinners_hw_nodes(model, kw.name, data, kept, shape, datatype, inst.get_nodeattr("k"),
                                      inst.get_nodeattr("mode"), inst.get_nodeattr("boost"), scale)
            replace_node(model, [mul, kw], nodes + [helper.make_node("Mul", [kept, new_scale], [kw.output[0]],
                                                                     name=mul.name)])
            return model, True
        return model, False


def streamline_with_kwinners(model, streamline: Callable | None = None, max_rounds: int = 10):
    """Alternate ``streamline(model)`` (default: FINN's ``Streamline``) with ``MoveScaleMulPastKWinners``.

    Stops when a round moves no scale; returns the model with datatypes inferred.
    """
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    if streamline is None:
        from finn.transformation.streamline import Streamline

        def streamline(m):
            return m.transform(Streamline())

    for _ in range(max_rounds):
        model = streamline(model)
        before = len(model.get_nodes_by_op_type("KWinners"))
        model = model.transform(MoveScaleMulPastKWinners())
        model = model.transform(InferShapes()).transform(InferDataTypes())
        if len(model.get_nodes_by_op_type("KWinners")) == before:
            break
    return model
