"""``SparseMVAU``: FINN's matrix-vector-activation unit for fixed fan-in sparse weights.

A subclass of FINN's ``MVAU`` (same attributes, inputs, datatypes, thresholds, stream layout
and bit-width minimisation), with:

- ``sparse_mode`` ``sparse_weights``: only the ``fan_in`` (K) non-zero weights of each output
  are stored (with their input index) and multiplied;
- ``sparse_mode`` ``sparse_sparse``: additionally only the ``active_inputs`` (k) non-zero
  inputs that a preceding ``KWinnersHW`` delivers are processed, each against the ``row_nnz``
  (R) non-zero weights of its row;
- ``sparse_mode`` ``constant``: the trained weights as logic, fully parallel (PE = MH, SIMD = MW,
  one vector per cycle; ``units.constant``): ``constant_terms`` signed digits added per vector,
  no weight memory, no multiplier; the folding search keeps that folding (``fold_to``).

The weight input stays FINN's dense ``[MW, MH]`` initializer (zeros where pruned), so FINN's
passes (accumulator and weight width minimisation, threshold rounding) keep working; the
compressed storage the hardware holds is derived from it (``compress_columns`` /
``compress_rows``). Python execution computes from that compressed storage, not with a dense
matmul, and is bit-exact with the replaced ``MatMul`` (+ ``MultiThreshold``).

Cycle and resource model: ``units.cost.MatrixUnit`` (assumptions in its module docstring), or
``units.constant.ConstantUnit`` in ``constant`` mode. FINN's
``SetFolding`` does not fold this node: choose ``PE`` (divides MH) and ``SIMD`` (divides MW)
with the estimate methods below.
"""

from __future__ import annotations

import math

import numpy as np
from finn.custom_op.fpgadataflow.matrixvectoractivation import MVAU
from qonnx.custom_op.general.multithreshold import multithreshold

from sparsekws.finn.ops.estimates import CostModelEstimates, mvau_unit
from sparsekws.finn.ops.hdl import HdlBackend
from sparsekws.units.bits import index_bits
from sparsekws.units.constant import ConstantUnit, csd_terms
from sparsekws.units.cost import MatrixUnit
from sparsekws.units.schedule import bank_depths, compress_columns, compress_rows, divisors


class SparseActivityError(ValueError):
    """An input vector has more non-zero values than the unit's ``active_inputs``."""


class SparseMVAU(HdlBackend, CostModelEstimates, MVAU):
    """Fixed fan-in sparse matrix-vector-activation unit (see the module docstring)."""

    def get_nodeattr_types(self):
        attrs = super().get_nodeattr_types()
        attrs.update({
            "sparse_mode": ("s", False, "sparse_weights", {"sparse_weights", "sparse_sparse", "constant"}),
            "constant_terms": ("i", False, 0),  # constant mode: signed digits of the weights (csd_terms)
            "fan_in": ("i", True, 0),
            "row_nnz": ("i", False, 0),
            "active_inputs": ("i", False, 0),
            "operand_style": ("s", False, "banked", {"banked", "replicated"}),
            # padded schedule words per bank for every divisor of MW (as SIMD, sparse_weights)
            # and of MH (as PE, sparse_sparse), ascending: the folding search may change mode
            "simd_bank_depth": ("ints", False, []),
            "pe_bank_depth": ("ints", False, []),
            # the generated unit (``finn.ops.hdl``) holds the trained weights as a ROM: block RAM or
            # LUTs; URAM cannot be initialised by the bitstream, and FINN's runtime-writeable
            # (AXI-lite) weight path is not built for this unit, so "ultra" is not a choice
            "ram_style": ("s", False, "auto", {"auto", "block", "distributed"}),
        })
        return attrs

    # -- the computation -------------------------------------------------------------------------
    def accumulate(self, x: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Dot products ``x @ weights`` from the compressed storage (``x``: [..., MW])."""
        mw, mh = self.get_nodeattr("MW"), self.get_nodeattr("MH")
        flat = x.reshape(-1, mw).astype(np.float64)
        if self.get_nodeattr("sparse_mode") != "sparse_sparse":
            index, value = compress_columns(weights, self.get_nodeattr("fan_in"))
            acc = (flat[:, index] * value[None].astype(np.float64)).sum(axis=-1)
        else:
            index, value = compress_rows(weights, self.get_nodeattr("row_nnz") or mh)
            limit = self.get_nodeattr("active_inputs") or mw
            acc = np.zeros((flat.shape[0], mh))
            for row, vector in enumerate(flat):
                active = np.flatnonzero(vector)
                if active.size > limit:
                    raise SparseActivityError(f"{self.onnx_node.name}: {active.size} non-zero inputs, more than "
                                              f"active_inputs = {limit}")
                products = vector[active, None] * value[active].astype(np.float64)
                np.add.at(acc[row], index[active].ravel(), products.ravel())
        return acc.reshape(x.shape[:-1] + (mh,))

    def execute_node(self, context, graph):
        node = self.onnx_node
        x = context[node.input[0]].reshape(self.get_normal_input_shape())
        acc = self.accumulate(x, context[node.input[1]])
        if self.get_nodeattr("noActivation") == 0:
            mh = self.get_nodeattr("MH")
            levels = multithreshold(acc.reshape(-1, mh), context[node.input[2]], 1, self.get_nodeattr("ActVal"))
            acc = levels.reshape(acc.shape)
        context[node.output[0]] = acc.astype(np.float32).reshape(context[node.output[0]].shape)

    def verify_node(self):
        messages = []
        if self.get_nodeattr("binaryXnorMode") or self.get_nodeattr("inputDataType") == "BIPOLAR":
            messages.append("SparseMVAU: binary/bipolar modes are not supported")
        if self.get_nodeattr("fan_in") < 1:
            messages.append("SparseMVAU: fan_in must be >= 1")
        if self.get_nodeattr("sparse_mode") == "sparse_sparse" and self.get_nodeattr("active_inputs") < 1:
            messages.append("SparseMVAU: sparse_sparse mode needs active_inputs >= 1")
        return list(super().verify_node()) + (messages or ["SparseMVAU node is valid"])

    # -- streams -----------------------------------------------------------------------------------
    def get_instream_width(self, ind=0):
        unit = self.cost_unit()
        if ind == 0 and unit.mode == "sparse_sparse" and not unit.dense_limit:
            return self.get_nodeattr("SIMD") * (self.get_input_datatype(0).bitwidth() + index_bits(unit.mw))
        if ind == 1:
            return 0  # weights and indices live in the unit's own memory
        return super().get_instream_width(ind)

    # -- estimates -------------------------------------------------------------------------------
    def set_constant_terms(self, weights: np.ndarray) -> None:
        """Record the signed digits the weights add (the constant mode's adders; done by the conversion pass)."""
        self.set_nodeattr("constant_terms", csd_terms(weights))

    def fold_to(self, target_cycles: int) -> bool:
        """Constant mode: the one folding it has (PE = MH, SIMD = MW); other modes: not handled here."""
        if self.get_nodeattr("sparse_mode") != "constant":
            return False
        self.set_nodeattr("PE", self.get_nodeattr("MH"))
        self.set_nodeattr("SIMD", self.get_nodeattr("MW"))
        return True

    def streams_weights(self) -> bool:
        """Whether the folding search's weight-stream limits apply (not to weights held as logic)."""
        return self.get_nodeattr("sparse_mode") != "constant"

    def set_bank_depths(self, weights: np.ndarray) -> None:
        """Record the padded bank depth of every folding, for both modes (done by the conversion pass)."""
        self.set_nodeattr("simd_bank_depth", list(bank_depths(weights, "sparse_weights").values()))
        self.set_nodeattr("pe_bank_depth", list(bank_depths(weights, "sparse_sparse").values()))

    def _bank_depth(self, mode: str) -> int:
        fold, size, table = (("SIMD", "MW", "simd_bank_depth") if mode == "sparse_weights"
                             else ("PE", "MH", "pe_bank_depth"))
        depths = dict(zip(divisors(self.get_nodeattr(size)), self.get_nodeattr(table)))
        return depths.get(self.get_nodeattr(fold), 0)

    def cost_unit(self) -> MatrixUnit | ConstantUnit:
        """The node as a ``units.cost.MatrixUnit`` (shape, folding and memory settings), or a
        ``units.constant.ConstantUnit`` in constant mode."""
        mode = self.get_nodeattr("sparse_mode")
        out_bits = 0 if self.get_nodeattr("noActivation") else self.get_output_datatype().bitwidth()
        if mode == "constant":
            return ConstantUnit(
                mw=self.get_nodeattr("MW"), mh=self.get_nodeattr("MH"), weight_bits=self.get_input_datatype(1).bitwidth(),
                input_bits=self.get_input_datatype(0).bitwidth(), terms=self.get_nodeattr("constant_terms"),
                acc_bits=self.get_accumulator_datatype().bitwidth(), output_bits=out_bits,
                n_vectors=int(np.prod(self.get_nodeattr("numInputVectors"))),
                input_signed=self.get_input_datatype(0).signed())
        return mvau_unit(self, mode=mode, fan_in=self.get_nodeattr("fan_in"), row_nnz=self.get_nodeattr("row_nnz"),
                         active_inputs=self.get_nodeattr("active_inputs"), bank_depth=self._bank_depth(mode),
                         operand_style=self.get_nodeattr("operand_style"))

    def bram_efficiency_estimation(self, fpgapart):
        brams = self.bram_estimation(fpgapart)
        return self.cost_unit().stored_bits() / (brams * 36 * 512) if brams else 1

    def uram_efficiency_estimation(self, fpgapart):
        urams = self.uram_estimation(fpgapart)
        return self.cost_unit().stored_bits() / (urams * 72 * 4096) if urams else 1

    def get_op_and_param_counts(self):
        counts = super().get_op_and_param_counts()
        unit = self.cost_unit()
        mac_key = next(key for key in counts if key.startswith("op_mac"))
        weight_key = next(key for key in counts if key.startswith("param_weight"))
        if unit.mode == "constant":  # the non-zero weights, as logic: each added once per vector
            nonzero = self.get_nodeattr("fan_in") * unit.mh
            counts[mac_key], counts[weight_key] = int(nonzero * unit.n_vectors), int(nonzero)
            return counts
        depth, width, _ = unit.weight_memory()  # one copy: replicas hold no extra parameters
        stored = int(math.ceil(depth)) * width // (unit.weight_bits + unit.address_bits)
        macs = stored if unit.mode == "sparse_weights" else unit.pe * unit.words * unit.active
        counts[mac_key] = int(macs * unit.n_vectors)
        counts[weight_key] = stored
        if unit.address_bits:
            counts[f"param_address_{unit.address_bits}b"] = stored
        return counts
