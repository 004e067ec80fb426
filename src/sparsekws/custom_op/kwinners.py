"""``KWinners`` custom op: numpy reference of ``sparsekws.models.kwinners`` (same winners, same ties).

Node: one input ``x`` ([N, C] or [N, C, H, W]), one output of the same shape and datatype.
Attributes: ``k`` (int, winners per group), ``mode`` (``global``: one group per sample over all
of C x H x W; ``local``: one group per sample and position over C), ``boost`` (floats, one
per channel; winners are the ``k`` largest ``x * boost``; empty = no boosting).
Ties: the lower flat index wins (C-major over C x H x W for global, over C for local).
"""

from __future__ import annotations

import numpy as np
import onnx.helper as helper
from qonnx.custom_op.base import CustomOp


def kwinners_reference(x: np.ndarray, k: int, mode: str = "global", boost=None) -> np.ndarray:
    """Keep ``x`` at the ``k`` largest ``x * boost`` per group (ties: lower index), 0 elsewhere."""
    x = np.asarray(x)
    if x.ndim not in (2, 4):
        raise ValueError(f"KWinners expects [N, C] or [N, C, H, W], got shape {x.shape}")
    if mode not in ("global", "local"):
        raise ValueError(f"KWinners mode must be global or local, got {mode!r}")
    scores = x
    if boost is not None and len(boost):
        factors = np.asarray(boost, dtype=x.dtype)
        scores = x * (factors.reshape(1, -1) if x.ndim == 2 else factors.reshape(1, -1, 1, 1))
    if x.ndim == 2 or mode == "global":
        rows = scores.reshape(x.shape[0], -1)
    else:
        rows = scores.transpose(0, 2, 3, 1).reshape(-1, x.shape[1])
    k = max(1, min(int(k), rows.shape[1]))
    order = np.argsort(-rows, axis=1, kind="stable")[:, :k]
    mask = np.zeros(rows.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=1)
    if x.ndim == 4 and mode == "local":
        n, c, h, w = x.shape
        mask = mask.reshape(n, h, w, c).transpose(0, 3, 1, 2)
    else:
        mask = mask.reshape(x.shape)
    return np.where(mask, x, np.zeros((), dtype=x.dtype))


class KWinnersOp(CustomOp):
    """QONNX custom op for k-winners-take-all (see the module docstring)."""

    def get_nodeattr_types(self):
        return {
            "k": ("i", True, 1),
            "mode": ("s", False, "global", {"global", "local"}),
            "boost": ("floats", False, []),
        }

    def make_shape_compatible_op(self, model):
        node = self.onnx_node
        return helper.make_node("Identity", [node.input[0]], [node.output[0]])

    def infer_node_datatype(self, model):
        node = self.onnx_node
        model.set_tensor_datatype(node.output[0], model.get_tensor_datatype(node.input[0]))

    def execute_node(self, context, graph):
        node = self.onnx_node
        context[node.output[0]] = kwinners_reference(
            context[node.input[0]], self.get_nodeattr("k"), self.get_nodeattr("mode"),
            self.get_nodeattr("boost"))

    def verify_node(self):
        messages = []
        try:
            if self.get_nodeattr("k") < 1:
                messages.append("KWinners: attribute k must be >= 1")
            self.get_nodeattr("mode")
        except Exception as exc:  # a missing or invalid attribute
            messages.append(f"KWinners: {exc}")
        if len(self.onnx_node.input) != 1 or len(self.onnx_node.output) != 1:
            messages.append("KWinners: needs exactly one input and one output")
        return messages or ["KWinners node is valid"]
