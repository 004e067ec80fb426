"""FINN's estimate methods of a HW op, answered by the op's ``cost_unit()`` (``units.cost``), and
FINN's matrix unit as the project's cost model sees it (``mvau_unit``)."""

from __future__ import annotations

import numpy as np

from sparsekws.units import calibration
from sparsekws.units.cost import MatrixUnit

#: Cost units by (op type, serialised node): a unit is a function of the node's attributes alone,
#: and the folding search asks for the same node's estimates thousands of times.
_UNITS: dict[tuple[str, bytes], object] = {}
MAX_CACHED_UNITS = 4096


class CostModelEstimates:
    """Mixin for a HW custom op with a ``cost_unit()``: cycles, LUT,
    FF, BRAM18, URAM and DSP from the project's cost model, LUT and FF with the synthesis
    calibration in force (``units.calibration``), and FF added to FINN's per-node summary."""

    def unit(self):
        """``cost_unit()``, memoised on the node (its attributes are all the unit depends on)."""
        key = (type(self).__name__, self.onnx_node.SerializeToString())
        found = _UNITS.get(key)
        if found is None:
            if len(_UNITS) >= MAX_CACHED_UNITS:
                _UNITS.clear()
            found = _UNITS[key] = self.cost_unit()
        return found

    def get_exp_cycles(self):
        return self.unit().cycles()

    def lut_estimation(self, fpgapart):
        return calibration.unit_estimate(self.unit(), "LUT")

    def ff_estimation(self, fpgapart):
        return calibration.unit_estimate(self.unit(), "FF")

    def bram_estimation(self, fpgapart):
        return self.unit().bram18()

    def uram_estimation(self, fpgapart):
        return self.unit().uram()

    def dsp_estimation(self, fpgapart):
        return self.unit().dsps()

    def node_res_estimation(self, fpgapart):
        res = super().node_res_estimation(fpgapart)
        res["FF"] = self.ff_estimation(fpgapart)
        return res


def mvau_unit(inst, **sparse) -> MatrixUnit:
    """A FINN ``MVAU`` node (or the project's subclass) as a ``units.cost.MatrixUnit``: its shape,
    folding, data types and memory settings; ``sparse`` adds the sparse unit's fields (``mode``,
    ``fan_in`` ...). With none it is FINN's dense unit, whose FF the cost model gives (FINN has none)."""
    out_bits = 0 if inst.get_nodeattr("noActivation") else inst.get_output_datatype().bitwidth()
    return MatrixUnit(
        mw=inst.get_nodeattr("MW"), mh=inst.get_nodeattr("MH"), pe=inst.get_nodeattr("PE"),
        simd=inst.get_nodeattr("SIMD"), weight_bits=inst.get_input_datatype(1).bitwidth(),
        input_bits=inst.get_input_datatype(0).bitwidth(), input_signed=inst.get_input_datatype(0).signed(),
        n_vectors=int(np.prod(inst.get_nodeattr("numInputVectors"))),
        acc_bits=inst.get_accumulator_datatype().bitwidth(), output_bits=out_bits,
        res_type=inst.get_nodeattr("resType"), mem_mode=inst.get_nodeattr("mem_mode"),
        ram_style=inst.get_nodeattr("ram_style"), ram_style_thresholds=inst.get_nodeattr("ram_style_thresholds"),
        **sparse)
