"""FINN's estimate methods of a HW op, answered by the op's ``cost_unit()`` (``units.cost``)."""

from __future__ import annotations

from sparsekws.units import calibration


class CostModelEstimates:
    """Mixin for a HW custom op with a ``cost_unit()``: cycles, LUT,
    FF, BRAM18, URAM and DSP from the project's cost model, LUT and FF with the synthesis
    calibration in force (``units.calibration``), and FF added to FINN's per-node summary."""

    def calibration_kind(self) -> str | None:
        """Unit kind whose calibration factors apply (None: none, e.g. a unit in its dense limit)."""
        return self.cost_unit().calibration_kind

    def get_exp_cycles(self):
        return self.cost_unit().cycles()

    def lut_estimation(self, fpgapart):
        return calibration.calibrated(self.calibration_kind(), "LUT", self.cost_unit().luts())

    def ff_estimation(self, fpgapart):
        return calibration.calibrated(self.calibration_kind(), "FF", self.cost_unit().ffs())

    def bram_estimation(self, fpgapart):
        return self.cost_unit().bram18()

    def uram_estimation(self, fpgapart):
        return self.cost_unit().uram()

    def dsp_estimation(self, fpgapart):
        return self.cost_unit().dsps()

    def node_res_estimation(self, fpgapart):
        res = super().node_res_estimation(fpgapart)
        res["FF"] = self.ff_estimation(fpgapart)
        return res
