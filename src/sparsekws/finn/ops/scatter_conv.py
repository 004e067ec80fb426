"""``ScatterConv``: a convolution (with its thresholds) that consumes only the winners of a k-WTA.

Replaces FINN's ``ConvolutionInputGenerator`` + ``MVAU`` of a convolution whose input map is the
whole output of a global 2-D ``KWinnersHW`` (``finn.convert``, ``sparse_hw`` mode
``scatter_conv``). Inputs: the NHWC map ``[1, H, W, C]`` (the k-WTA streams it as ``k``
(y, x, c, value) pairs, ``output_format=pairs``), the weights in FINN's MVAU layout ``[K*K*C, M]``
(rows in (kh, kw, c) order, zeros where pruned) and the thresholds ``[M, levels]``; output:
``[1, OH, OW, M]`` (valid convolution, stride 1). Python execution is a direct convolution and
multi-threshold, bit-exact with the replaced nodes; it refuses a map with more than ``k`` non-zeros.

Cycle and resource model: ``units.scatter_conv.ScatterConvShape`` (the RTL ``rtl.scatter_conv``);
``PE`` banks the output channels, ``SIMD`` is pairs per cycle (divides ``k``). ``pe_bank_depth``
holds the schedule's steps per pair for every divisor of ``M`` (from the weights).
"""

from __future__ import annotations

import numpy as np
from finn.custom_op.fpgadataflow.hwcustomop import HWCustomOp
from qonnx.core.datatype import DataType
from qonnx.custom_op.general.multithreshold import multithreshold

from sparsekws.finn.ops.estimates import CostModelEstimates
from sparsekws.finn.ops.hdl import HdlBackend
from sparsekws.finn.ops.sparse_mvau import SparseActivityError
from sparsekws.units import golden
from sparsekws.units.bits import clog2
from sparsekws.units.scatter_conv import ScatterConvShape, bank_depth
from sparsekws.units.schedule import divisors


class ScatterConv(HdlBackend, CostModelEstimates, HWCustomOp):
    """Scatter convolution HW layer (see the module docstring)."""


    def get_nodeattr_types(self):
        attrs = {
            "IFMDim": ("ints", True, []),        # [H, W]
            "IFMChannels": ("i", True, 0),
            "OFMChannels": ("i", True, 0),
            "ConvKernelDim": ("i", True, 0),
            "active_inputs": ("i", True, 0),     # k: pairs per frame
            "fan_in": ("i", True, 0),            # most non-zero weights of one output channel
            "PE": ("i", False, 1),
            "SIMD": ("i", False, 1),
            "pe_bank_depth": ("ints", False, []),
            "resType": ("s", False, "dsp", {"dsp", "lut"}),  # products in DSPs or LUTs (the placement chooses)
            "ActVal": ("i", False, 0),
            "inputDataType": ("s", True, ""),
            "weightDataType": ("s", True, ""),
            "outputDataType": ("s", True, ""),
        }
        attrs.update(super().get_nodeattr_types())
        return attrs

    # -- shapes and types ------------------------------------------------------------------------
    def _out_dim(self) -> tuple[int, int]:
        k = self.get_nodeattr("ConvKernelDim")
        return tuple(d - k + 1 for d in self.get_nodeattr("IFMDim"))

    def get_normal_input_shape(self, ind=0):
        return (1, *self.get_nodeattr("IFMDim"), self.get_nodeattr("IFMChannels"))

    def get_normal_output_shape(self, ind=0):
        return (1, *self._out_dim(), self.get_nodeattr("OFMChannels"))

    def get_folded_input_shape(self, ind=0):
        simd = self.get_nodeattr("SIMD")
        return (1, self.get_nodeattr("active_inputs") // simd, simd)  # pairs, SIMD per beat

    def get_folded_output_shape(self, ind=0):
        pe = self.get_nodeattr("PE")
        return (1, *self._out_dim(), self.get_nodeattr("OFMChannels") // pe, pe)

    def get_input_datatype(self, ind=0):
        return DataType[self.get_nodeattr("weightDataType" if ind == 1 else "inputDataType")]

    def get_output_datatype(self, ind=0):
        return DataType[self.get_nodeattr("outputDataType")]

    def get_instream_width(self, ind=0):
        if ind != 0:
            return 0  # weights and thresholds live in the unit
        h, w = self.get_nodeattr("IFMDim")
        pair = self.get_input_datatype().bitwidth() + clog2(self.get_nodeattr("IFMChannels")) + clog2(w) + clog2(h)
        return self.get_nodeattr("SIMD") * pair

    def get_outstream_width(self, ind=0):
        return self.get_output_datatype().bitwidth() * self.get_nodeattr("PE")

    def get_number_output_values(self):
        return int(np.prod(self.get_folded_output_shape()[:-1]))

    def infer_node_datatype(self, model):
        self.set_nodeattr("inputDataType", model.get_tensor_datatype(self.onnx_node.input[0]).name)
        model.set_tensor_datatype(self.onnx_node.output[0], self.get_output_datatype())

    # -- the computation -------------------------------------------------------------------------
    def torch_weights(self, weights: np.ndarray) -> np.ndarray:
        """FINN's ``[K*K*C, M]`` weights as torch's ``[M, C, K, K]``."""
        k, c = self.get_nodeattr("ConvKernelDim"), self.get_nodeattr("IFMChannels")
        return np.asarray(weights).reshape(k, k, c, -1).transpose(3, 2, 0, 1)

    def execute_node(self, context, graph):
        node = self.onnx_node
        x = context[node.input[0]].reshape((-1, *self.get_normal_input_shape()[1:])).astype(np.float64)
        limit = self.get_nodeattr("active_inputs")
        active = (x != 0).reshape(len(x), -1).sum(axis=1)
        if active.max(initial=0) > limit:
            raise SparseActivityError(f"{node.name}: {int(active.max())} non-zero inputs, more than "
                                      f"active_inputs = {limit}")
        acc = golden.conv2d(x, self.torch_weights(context[node.input[1]]))  # exact: integers in float64
        levels = multithreshold(acc.reshape(-1, acc.shape[-1]), context[node.input[2]], 1, self.get_nodeattr("ActVal"))
        context[node.output[0]] = levels.reshape(context[node.output[0]].shape).astype(np.float32)

    def verify_node(self):
        messages = []
        if self.get_nodeattr("OFMChannels") % self.get_nodeattr("PE"):
            messages.append("ScatterConv: PE must divide OFMChannels")
        if self.get_nodeattr("active_inputs") % self.get_nodeattr("SIMD"):
            messages.append("ScatterConv: SIMD must divide active_inputs")
        return messages or ["ScatterConv node is valid"]

    # -- estimates -------------------------------------------------------------------------------
    def set_bank_depths(self, weights: np.ndarray) -> None:
        """Record the steps per pair for every PE (done by the conversion pass)."""
        torch_weights = self.torch_weights(weights)
        self.set_nodeattr("pe_bank_depth", [bank_depth(torch_weights, pe)
                                            for pe in divisors(self.get_nodeattr("OFMChannels"))])

    def cost_unit(self) -> ScatterConvShape:
        h, w = self.get_nodeattr("IFMDim")
        pe, outputs = self.get_nodeattr("PE"), self.get_nodeattr("OFMChannels")
        depths = dict(zip(divisors(outputs), self.get_nodeattr("pe_bank_depth")))
        return ScatterConvShape(
            channels=self.get_nodeattr("IFMChannels"), height=h, width=w, kernel=self.get_nodeattr("ConvKernelDim"),
            outputs=outputs, active=self.get_nodeattr("active_inputs"), pe=pe, simd=self.get_nodeattr("SIMD"),
            wbits=self.get_input_datatype(1).bitwidth(), abits=self.get_input_datatype().bitwidth(),
            obits=self.get_output_datatype().bitwidth(), fan_in=self.get_nodeattr("fan_in"),
            bank_depth=depths.get(pe, 1), in_signed=self.get_input_datatype().signed(),
            res_type=self.get_nodeattr("resType"))

    def fold_to(self, target_cycles: int) -> bool:
        """Set the PE and SIMD with the fewest LUTs (raw model; then DSPs) that meet ``target_cycles``,
        else the fastest (the folding search calls this instead of raising PE and SIMD in turn)."""
        options = []
        for pe in divisors(self.get_nodeattr("OFMChannels")):
            for simd in divisors(self.get_nodeattr("active_inputs")):
                self.set_nodeattr("PE", pe)
                self.set_nodeattr("SIMD", simd)
                unit = self.unit()
                cycles = unit.cycles()
                options.append((cycles > target_cycles, cycles if cycles > target_cycles else 0, unit.luts(),
                                unit.dsps(), pe, simd))
        *_, pe, simd = min(options)
        self.set_nodeattr("PE", pe)
        self.set_nodeattr("SIMD", simd)
        return True

    def get_op_and_param_counts(self):
        unit = self.cost_unit()
        return {f"op_mac_scatter_{unit.wbits}x{unit.abits}": unit.active * unit.offsets * unit.pe * unit.bank_depth,
                f"param_weight_{unit.wbits}b": unit.offsets * unit.channels * unit.bank_depth * unit.pe}
