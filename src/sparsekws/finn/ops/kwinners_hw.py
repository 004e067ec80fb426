"""``KWinnersHW``: the k-WTA layer as a FINN HW layer on integer activations.

Node: one input, integer levels ``v`` of shape ``numInputVectors + [C]`` (``[1, C]`` for 1-D,
``[1, H, W, C]`` for 2-D in FINN's NHWC order), one output of the same shape and datatype.
It computes exactly what the QONNX ``KWinners`` node (``sparsekws.custom_op``) computes on
the float activations ``v * input_scale`` and returns the kept levels: winners are the ``k``
largest ``(v * input_scale_c) * boost_c`` (float32, the reference's arithmetic), ties broken by
the lower flat index of the reference's NCHW (channel-major) order, or of C for ``local``.

This is what makes the layer movable through FINN's streamlining: the float scale that FINN
leaves in front of the layer (``Mul`` after ``MultiThreshold``) is taken into the node as
``input_scale`` and the ``Mul`` moves behind it (``finn.streamline.MoveScaleMulPastKWinners``), so
the layer sits on integers like every FINN HW layer.

Python execution follows the hardware algorithm (``units.ranking``): a rank ROM maps
(channel, level) to the rank of its float score, a histogram finds the threshold rank, ties at
the threshold are admitted in reference order. Cycle and resource model: ``units.cost.KWinnersUnit``.
``ram_style`` (block / distributed / ultra) places the unit's larger memories in BRAM, LUTRAM or
URAM (``units.kwta.placement``; the folding search's placement chooses it like a weight memory's).
``output_format=pairs`` marks that the output stream carries the winners as (y, x, c, value)
pairs, ``pairs_per_beat`` per beat and ``k / pairs_per_beat`` beats per frame (for a
``ScatterConv`` or a ``sparse_sparse`` ``SparseMVAU``; the folding sets it to the consumer's SIMD):
the unit then has the pairs packer behind it (``units.kwta_pairs``). The ONNX tensor stays dense
either way.
"""

from __future__ import annotations

import numpy as np
from finn.custom_op.fpgadataflow.hwcustomop import HWCustomOp
from qonnx.core.datatype import DataType

from sparsekws.finn.ops.estimates import CostModelEstimates
from sparsekws.finn.ops.hdl import HdlBackend
from sparsekws.units.cost import KWinnersUnit
from sparsekws.units.kwta import RAM_STYLES
from sparsekws.units.kwta_pairs import PairsShape
from sparsekws.units.ranking import score_ranks, select_winners

MAX_RANK_LEVELS = 2 ** 12   # levels per channel the rank ROM supports


class KWinnersHW(HdlBackend, CostModelEstimates, HWCustomOp):
    """k-winners-take-all HW layer (see the module docstring)."""

    def get_nodeattr_types(self):
        attrs = {
            "NumChannels": ("i", True, 0),
            "PE": ("i", False, 1),
            "k": ("i", True, 1),
            "mode": ("s", False, "global", {"global", "local"}),
            "boost": ("floats", False, []),
            "input_scale": ("floats", False, [1.0]),
            "inputDataType": ("s", True, ""),
            "numInputVectors": ("ints", False, [1]),
            "output_format": ("s", False, "values", {"values", "pairs"}),
            "pairs_per_beat": ("i", False, 1),  # pairs output: the consumer's SIMD
            # where the global unit's larger memories go (units.kwta.placement); the search chooses
            "ram_style": ("s", False, "block", set(RAM_STYLES)),
        }
        attrs.update(super().get_nodeattr_types())
        return attrs

    # -- shapes and types ------------------------------------------------------------------------
    def get_normal_input_shape(self, ind=0):
        return tuple(list(self.get_nodeattr("numInputVectors")) + [self.get_nodeattr("NumChannels")])

    def get_normal_output_shape(self, ind=0):
        return self.get_normal_input_shape()

    def get_folded_input_shape(self, ind=0):
        pe = self.get_nodeattr("PE")
        return tuple(list(self.get_nodeattr("numInputVectors")) + [self.get_nodeattr("NumChannels") // pe, pe])

    def get_folded_output_shape(self, ind=0):
        if self.pairs_shape() is not None:
            per_beat = self.get_nodeattr("pairs_per_beat")
            return (1, self.get_nodeattr("k") // per_beat, per_beat)
        return self.get_folded_input_shape()

    def get_input_datatype(self, ind=0):
        return DataType[self.get_nodeattr("inputDataType")]

    def get_output_datatype(self, ind=0):
        return self.get_input_datatype()

    def get_instream_width(self, ind=0):
        return self.get_input_datatype().bitwidth() * self.get_nodeattr("PE")

    def get_outstream_width(self, ind=0):
        pairs = self.pairs_shape()
        if pairs is not None:
            return pairs.simd * pairs.pair_bits
        return self.get_input_datatype().bitwidth() * self.get_nodeattr("PE")

    def pairs_shape(self) -> PairsShape | None:
        """The pairs packer of the pairs output (``units.kwta_pairs``; a 1-D frame is 1 x 1 x C), else None."""
        if self.get_nodeattr("output_format") != "pairs":
            return None
        shape = self.get_normal_input_shape()
        height, width = (shape[1], shape[2]) if len(shape) == 4 else (1, 1)
        return PairsShape(height=height, width=width, channels=shape[-1], pe=self.get_nodeattr("PE"),
                          simd=self.get_nodeattr("pairs_per_beat"), k=self.get_nodeattr("k"),
                          bits=self.get_input_datatype().bitwidth())

    def get_number_output_values(self):
        return int(np.prod(self.get_folded_output_shape()[:-1]))

    def infer_node_datatype(self, model):
        idt = model.get_tensor_datatype(self.onnx_node.input[0])
        self.set_nodeattr("inputDataType", idt.name)
        model.set_tensor_datatype(self.onnx_node.output[0], idt)

    # -- the computation -------------------------------------------------------------------------
    def _per_channel(self, name: str) -> np.ndarray:
        channels = self.get_nodeattr("NumChannels")
        values = np.asarray(self.get_nodeattr(name) or [1.0], dtype=np.float32)
        return np.broadcast_to(values, (channels,)) if values.size == 1 else values

    def _levels(self) -> np.ndarray:
        dt = self.get_input_datatype()
        if not dt.is_integer() or dt.max() - dt.min() + 1 > MAX_RANK_LEVELS:
            raise ValueError(f"{self.onnx_node.name}: KWinnersHW needs integer inputs of at most "
                             f"{MAX_RANK_LEVELS} levels, got {dt.name}")
        return np.arange(dt.min(), dt.max() + 1)

    def rank_table(self) -> np.ndarray:
        """The rank ROM ``[C, levels]`` for this node's scale and boost (see ``score_ranks``)."""
        return score_ranks(self._levels(), self._per_channel("input_scale"), self._per_channel("boost"))

    def needs_rank_table(self) -> bool:
        """False when the rank is the level itself (one scale, no or uniform boost)."""
        scale, boost = self._per_channel("input_scale"), self._per_channel("boost")
        return bool(np.ptp(scale) > 0 or np.ptp(boost) > 0)

    def winners(self, levels: np.ndarray) -> np.ndarray:
        """Boolean winner mask for integer ``levels`` of this node's normal shape (any batch)."""
        table = self.rank_table()
        index = np.rint(levels).astype(np.int64) - int(self._levels()[0])
        channels = self.get_nodeattr("NumChannels")
        ranks = table[np.arange(channels), index]  # channel is the last axis
        k = self.get_nodeattr("k")
        if ranks.ndim == 2:
            return select_winners(ranks, k)
        n, h, w, c = ranks.shape
        if self.get_nodeattr("mode") == "local":
            return select_winners(ranks.reshape(-1, c), k).reshape(ranks.shape)
        channel_major = ranks.transpose(0, 3, 1, 2).reshape(n, -1)
        return select_winners(channel_major, k).reshape(n, c, h, w).transpose(0, 2, 3, 1)

    def execute_node(self, context, graph):
        node = self.onnx_node
        x = context[node.input[0]]
        x = x.reshape((x.shape[0],) + tuple(self.get_normal_input_shape()[1:]))
        out = np.where(self.winners(x), x, np.zeros((), dtype=x.dtype))
        context[node.output[0]] = out.reshape(context[node.output[0]].shape).astype(np.float32)

    def verify_node(self):
        messages = []
        if self.get_nodeattr("k") < 1:
            messages.append("KWinnersHW: k must be >= 1")
        if self.get_nodeattr("NumChannels") % self.get_nodeattr("PE"):
            messages.append("KWinnersHW: PE must divide NumChannels")
        if np.any(self._per_channel("input_scale") <= 0):
            messages.append("KWinnersHW: input_scale must be positive")
        for name in ("input_scale", "boost"):
            size = len(self.get_nodeattr(name))
            if size not in (0, 1, self.get_nodeattr("NumChannels")):
                messages.append(f"KWinnersHW: {name} needs 1 or NumChannels values, got {size}")
        return messages or ["KWinnersHW node is valid"]

    # -- estimates -------------------------------------------------------------------------------
    def cost_unit(self) -> KWinnersUnit:
        shape = self.get_normal_input_shape()
        table = self.needs_rank_table()
        return KWinnersUnit(channels=shape[-1], positions=int(np.prod(shape[1:-1])), pe=self.get_nodeattr("PE"),
                            input_bits=self.get_input_datatype().bitwidth(), k=self.get_nodeattr("k"),
                            mode=self.get_nodeattr("mode") if len(shape) > 2 else "global",
                            score_bins=int(self.rank_table().max()) + 1 if table else 0, rank_table=table,
                            ram_style=self.get_nodeattr("ram_style"), pairs=self.pairs_shape())

    def get_op_and_param_counts(self):
        return {"op_compare": int(np.prod(self.get_normal_input_shape()))}
