import pytest

from sparsekws.core.errors import ConfigError
from sparsekws.units import calibration
from sparsekws.units.cost import KWinnersUnit
from sparsekws.finn.ops.estimates import CostModelEstimates


class _Base:
    def node_res_estimation(self, fpgapart):
        return {"LUT": self.lut_estimation(fpgapart), "BRAM_18K": self.bram_estimation(fpgapart)}


class _Op(CostModelEstimates, _Base):

    def __init__(self, pe=2):
        from onnx import helper

        self.onnx_node = helper.make_node("KWinnersHW", ["x"], ["y"], name="kw", PE=pe)
        self.built = 0

    def cost_unit(self):
        self.built += 1
        pe = next(a.i for a in self.onnx_node.attribute if a.name == "PE")
        return KWinnersUnit(channels=8, positions=4, pe=pe, input_bits=4, k=3, mode="global", score_bins=0,
                            rank_table=None)


def test_every_estimate_comes_from_the_cost_unit_and_ff_joins_the_summary():
    op, unit = _Op(), _Op().cost_unit()
    assert op.get_exp_cycles() == unit.cycles()
    assert (op.lut_estimation("p"), op.ff_estimation("p"), op.bram_estimation("p")) == (unit.luts(), unit.ffs(),
                                                                                         unit.bram18())
    assert op.uram_estimation("p") == 0 and op.dsp_estimation("p") == 0
    assert op.node_res_estimation("p") == {"LUT": unit.luts(), "BRAM_18K": unit.bram18(), "FF": unit.ffs()}


def test_the_unit_is_built_once_per_node_state():
    op = _Op(pe=2)
    first = op.unit()
    assert op.unit() is first and op.get_exp_cycles() == first.cycles() and op.built <= 1
    op.onnx_node.attribute[0].i = 4  # a new folding: a new unit
    assert op.unit().pe == 4 and op.unit() is not first


def test_calibration_factors_scale_lut_and_ff_of_their_kind_only():
    op, unit = _Op(), _Op().cost_unit()  # a k-WTA unit: kind kwta
    try:
        calibration.use({"kwta": {"LUT": 2.0, "FF": 0.5}}, "test table")
        assert op.lut_estimation("p") == round(2 * unit.luts()) and op.ff_estimation("p") == round(0.5 * unit.ffs())
        assert op.bram_estimation("p") == unit.bram18() and calibration.source() == "test table"
        calibration.use({"sparse_weights": {"LUT": 2.0}}, "test table")  # no factor for its kind: the raw model
        assert op.lut_estimation("p") == unit.luts()
        with pytest.raises(ConfigError, match="unknown resources"):
            calibration.use({"kwta": {"BRAM": 2.0}}, "bad")
        with pytest.raises(ConfigError, match="non-positive"):
            calibration.use({"kwta": {"LUT": 0.0}}, "bad")
    finally:
        calibration.reset()
    assert calibration.source() == calibration.UNCALIBRATED and op.lut_estimation("p") == unit.luts()


def test_a_calibration_file_is_read_or_refused_clearly(tmp_path):
    good = tmp_path / "factors.json"
    good.write_text('{"source": "a table", "factors": {"kwta": {"LUT": 1.5}}}')
    try:
        calibration.use_file(good)
        assert calibration.factors() == {"kwta": {"LUT": 1.5}} and calibration.source() == "a table"
    finally:
        calibration.reset()
    with pytest.raises(ConfigError, match="calibration file not found"):
        calibration.use_file(tmp_path / "nope.json")
    (tmp_path / "bad.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="not a factors file"):
        calibration.use_file(tmp_path / "bad.json")


def test_each_part_of_a_unit_takes_its_own_factor():
    from sparsekws.units.cost import KWinnersUnit
    from sparsekws.units.kwta_pairs import PairsShape

    pairs = PairsShape(height=2, width=2, channels=8, pe=2, simd=1, k=3, bits=4)
    unit = KWinnersUnit(channels=8, positions=4, pe=2, input_bits=4, k=3, pairs=pairs)
    (_, values, _), (_, packer, _) = unit.parts()
    try:
        calibration.use({"kwta_pairs": {"LUT": 2.0}}, "test table")
        assert calibration.unit_estimate(unit, "LUT") == values + 2 * packer
    finally:
        calibration.reset()
    assert calibration.unit_estimate(unit, "LUT") == unit.luts() == values + packer
