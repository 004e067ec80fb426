import pytest

from sparsekws.errors import ConfigError
from sparsekws.hw.sparse_ops import constants
from sparsekws.hw.sparse_ops.cost import KWinnersUnit
from sparsekws.hw.sparse_ops.estimates import CostModelEstimates


class _Base:
    def node_res_estimation(self, fpgapart):
        return {"LUT": self.lut_estimation(fpgapart), "BRAM_18K": self.bram_estimation(fpgapart)}


class _Op(CostModelEstimates, _Base):
    kind = None

    def calibration_kind(self):
        return self.kind

    def cost_unit(self):
        return KWinnersUnit(channels=8, positions=4, pe=2, input_bits=4, k=3, mode="global", score_bins=0,
                            rank_table=None)


def test_every_estimate_comes_from_the_cost_unit_and_ff_joins_the_summary():
    op, unit = _Op(), _Op().cost_unit()
    assert op.get_exp_cycles() == unit.cycles()
    assert (op.lut_estimation("p"), op.ff_estimation("p"), op.bram_estimation("p")) == (unit.luts(), unit.ffs(),
                                                                                         unit.bram18())
    assert op.uram_estimation("p") == 0 and op.dsp_estimation("p") == 0
    assert op.node_res_estimation("p") == {"LUT": unit.luts(), "BRAM_18K": unit.bram18(), "FF": unit.ffs()}


def test_calibration_factors_scale_lut_and_ff_of_their_kind_only():
    op, unit = _Op(), _Op().cost_unit()
    op.kind = "kwta"
    saved, source = {k: dict(v) for k, v in constants.FACTORS.items()}, constants.CALIBRATION
    try:
        constants.set_calibration({"kwta": {"LUT": 2.0, "FF": 0.5}}, "test table")
        assert op.lut_estimation("p") == round(2 * unit.luts()) and op.ff_estimation("p") == round(0.5 * unit.ffs())
        assert op.bram_estimation("p") == unit.bram18() and constants.CALIBRATION == "test table"
        op.kind = "sparse_weights"  # no factor for this kind: the raw model
        assert op.lut_estimation("p") == unit.luts()
        with pytest.raises(ConfigError, match="unknown resources"):
            constants.set_calibration({"kwta": {"BRAM": 2.0}}, "bad")
        with pytest.raises(ConfigError, match="non-positive"):
            constants.set_calibration({"kwta": {"LUT": 0.0}}, "bad")
    finally:
        constants.set_calibration(saved, source)
