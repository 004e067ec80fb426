from sparsekws.hw.sparse_ops.cost import KWinnersUnit
from sparsekws.hw.sparse_ops.estimates import CostModelEstimates


class _Base:
    def node_res_estimation(self, fpgapart):
        return {"LUT": self.lut_estimation(fpgapart), "BRAM_18K": self.bram_estimation(fpgapart)}


class _Op(CostModelEstimates, _Base):
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
