"""FINN's estimate methods of a HW op, answered by the op's ``cost_unit()`` (``units.cost``)."""

from __future__ import annotations

from sparsekws.units import calibration

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
