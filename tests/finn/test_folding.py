"""Folding search: width limits, resource placement, fit within a budget, stock vs tuned."""

from __future__ import annotations

import pytest
from support.fixtures import mlp_config, write_mlp_fixture

from sparsekws.finn import folding
from sparsekws.finn.build import BuildTarget, estimate_dataflow

PART = "xczu7ev-ffvc1156-2-e"


def board(lut=100_000, bram36=100, uram=0, dsp=100) -> dict:
    return {"name": "toy", "resources": {"LUT": lut, "FF": 2 * lut, "BRAM36": bram36, "URAM": uram, "DSP": dsp}}


@pytest.fixture(scope="module")
def dataflow(tmp_path_factory):
    """The specialised dataflow graph (HW layers only) of a small W3A3 MLP (490-64-64-12)."""
    from qonnx.core.modelwrapper import ModelWrapper

    root = tmp_path_factory.mktemp("folding")
    qonnx, ref = write_mlp_fixture(root / "in", 1.0, hidden=(64, 64), samples=2)
    estimate_dataflow(qonnx, ref, BuildTarget(PART, clock_mhz=100, target_fps=1000), root / "finn")
    return ModelWrapper(str(root / "finn" / "onnx" / "dataflow_model.onnx"))


def mvaus(model):
    from qonnx.custom_op.registry import getCustomOp

    return [(n, getCustomOp(n)) for n in model.graph.node if n.op_type.startswith("MVAU")]


def test_cycle_ladder():
    assert folding.cycle_ladder(1) == [1]
    ladder = folding.cycle_ladder(1000)
    assert ladder[0] == 1000 and ladder[-1] == 1
    assert all(a > b for a, b in zip(ladder, ladder[1:]))
    assert all(a / b < 1.6 for a, b in zip(ladder[:-3], ladder[1:-3]))


def test_layer_estimates_are_tagged_and_summed(dataflow):
    layers = folding.layer_estimates(dataflow, PART)
    assert len(layers) == 3 and all(layer["estimator"] == "finn-estimate" for layer in layers.values())
    totals = folding.sum_resources(layers)
    assert totals["LUT"] == pytest.approx(sum(layer["LUT"] for layer in layers.values()))
    # FINN gives no FF: its matrix units take the project's dense-unit model's, the rest would count 0
    assert all(layer["ff_modelled"] and layer["FF"] > 0 for layer in layers.values())
    assert totals["FF"] == pytest.approx(sum(layer["FF"] for layer in layers.values()))
    perf = folding.dataflow_performance(dataflow, layers)
    assert perf["max_cycles"] == max(layer["cycles"] for layer in layers.values())
    assert perf["critical_path_cycles"] == sum(layer["cycles"] for layer in layers.values())


def test_weight_width_limit_is_checked_and_repaired(dataflow):
    model = dataflow.transform(_identity())  # a copy
    node, inst = mvaus(model)[0]
    wbits = inst.get_input_datatype(1).bitwidth()
    inst.set_nodeattr("SIMD", 49)  # 490 inputs: 49 divides; 49 x 3 bits = 147 > 36
    inst.set_nodeattr("PE", 1)
    problems = folding.weight_width_violations(model, 36)
    assert problems and node.name in problems[0] and "mvau_wwidth_max 36" in problems[0]
    assert not folding.weight_width_violations(model, 49 * wbits)
    target = inst.get_exp_cycles()
    folding.repair_weight_width(model, target, 36)
    assert inst.get_nodeattr("SIMD") * wbits <= 36
    assert inst.get_exp_cycles() <= target or inst.get_nodeattr("PE") == inst.get_nodeattr("MH")
    assert not folding.weight_width_violations(model, 36)


def test_search_finds_fastest_fitting_folding_and_names_binding(dataflow):
    roomy = folding.search_folding(dataflow, PART, board(lut=1_000_000, bram36=1000, dsp=5000), 0.8, folding.STOCK)
    tight = folding.search_folding(dataflow, PART, board(lut=8_000, bram36=1000, dsp=5000), 0.8, folding.STOCK)
    assert roomy.best.fits and tight.best.fits
    assert tight.best.max_cycles > roomy.best.max_cycles  # fewer LUTs: a more folded network
    assert tight.best.fit["utilisation"]["LUT"] <= 0.8
    # every faster candidate the tight search evaluated exceeded the budget or the width limit
    faster = [c for c in tight.candidates if c.max_cycles < tight.best.max_cycles]
    assert faster and all(not c.fits for c in faster)
    over = [c for c in faster if not c.refused]
    assert over and over[0].fit["binding_resource"] == "LUT" and over[0].fit["fits"] is False
    # the chosen attributes reproduce the chosen estimates
    again = folding.apply_attrs(dataflow.transform(_identity()), tight.best.attrs)
    assert folding.sum_resources(folding.layer_estimates(again, PART)) == tight.best.totals


def test_nothing_fits_gives_the_closest_candidate_marked_not_fitting(dataflow):
    result = folding.search_folding(dataflow, PART, board(lut=500, bram36=1, dsp=1), 0.8, folding.STOCK)
    assert result.best.fits is False
    assert result.best.summary()["networks_per_chip"] == 0
    assert result.best.fit["binding_resource"] in ("LUT", "BRAM36")


def test_tuned_places_weights_off_bram_where_bram_binds(dataflow):
    """With little BRAM but LUTs and URAM to spare, the tuned search moves weights out of BRAM."""
    chip = board(lut=400_000, bram36=4, uram=64, dsp=2000)
    stock = folding.search_folding(dataflow, PART, chip, 0.8, folding.STOCK)
    tuned = folding.search_folding(dataflow, PART, chip, 0.8, folding.TUNED)
    assert tuned.best.fits
    assert tuned.best.max_cycles <= stock.best.max_cycles
    assert (tuned.best.fit["networks_per_chip"] or 0) >= (stock.best.fit["networks_per_chip"] or 0)
    styles = {attrs.get("ram_style") for attrs in tuned.best.attrs.values() if "ram_style" in attrs}
    assert styles & {"ultra", "distributed"}
    assert tuned.best.totals["BRAM_18K"] < stock.best.totals["BRAM_18K"] or stock.best.totals["BRAM_18K"] == 0


def test_placement_options_skip_uram_on_chips_without(dataflow):
    options = folding.placement_options(dataflow, PART, folding.TUNED, board(uram=0))
    assert options  # at least one layer has a choice
    assert all(attrs.get("ram_style") != "ultra" for choices in options.values() for attrs, _ in choices)
    assert not folding.placement_options(dataflow, PART, folding.STOCK, board())  # stock: no choices


def test_sparse_units_keep_their_rom_weights_out_of_uram(tmp_path):
    """The generated sparse unit holds its trained weights as a ROM: block RAM or LUTs, never URAM."""
    from qonnx.core.modelwrapper import ModelWrapper

    qonnx, ref = write_mlp_fixture(tmp_path / "in", 0.1, hidden=(64, 64), samples=2)
    estimate_dataflow(qonnx, ref, BuildTarget(PART, clock_mhz=100, target_fps=1000), tmp_path / "finn",
                      model_cfg=mlp_config(0.1, hidden=(64, 64)))
    sparse_flow = ModelWrapper(str(tmp_path / "finn" / "onnx" / "dataflow_model.onnx"))
    options = folding.placement_options(sparse_flow, PART, folding.TUNED, board(uram=64))
    sparse = [name for name in options if name.startswith("SparseMVAU")]
    assert sparse, "the fixture's sparse layer has memory choices"
    assert {attrs.get("ram_style") for name in sparse for attrs, _ in options[name]} <= {"block", "distributed"}


def _identity():
    from qonnx.transformation.general import GiveUniqueNodeNames

    return GiveUniqueNodeNames()


def test_embedded_weights_lift_the_stream_cap(dataflow):
    model = dataflow.transform(_identity())
    node, inst = mvaus(model)[0]
    inst.set_nodeattr("SIMD", inst.get_nodeattr("MW"))
    inst.set_nodeattr("PE", inst.get_nodeattr("MH"))  # 490 x 3 bits x 64 PEs: far over 8191 bits
    assert any("weight stream" in p for p in folding.weight_width_violations(model, 2000))
    folding.set_mem_mode(model, "internal_embedded")
    assert inst.get_nodeattr("mem_mode") == "internal_embedded"
    assert not folding.weight_width_violations(model, 2000)
    assert folding.set_mem_mode(model, None) is model


def test_full_chip_design_has_the_most_words_per_chip(dataflow):
    """The full-chip design maximises copies / cycles over the fitting candidates; it may be more
    folded than the fastest network."""
    tight = folding.search_folding(dataflow, PART, board(lut=8_000, bram36=1000, dsp=5000), 0.8, folding.STOCK)
    full = tight.full_chip
    assert full is not None and full.fits and full.max_cycles >= tight.best.max_cycles
    fitting = [c for c in tight.candidates if c.fits]
    assert all(folding.chip_rate(full) >= folding.chip_rate(c) for c in fitting)
    assert tight.summary()["full_chip"]["max_cycles"] == full.max_cycles
    assert folding.best_full_chip([c for c in tight.candidates if not c.fits]) is None


class _FakeUnit:
    """SIMD x PE lanes over a 12 x 8 matrix; PE lanes cost DSPs, SIMD lanes LUTs."""

    def __init__(self):
        self.attrs = {"SIMD": 1, "PE": 1}

    def get_nodeattr_types(self):
        return {"SIMD": ("i", False, 1), "PE": ("i", False, 1)}

    def get_nodeattr(self, name):
        return self.attrs[name]

    def set_nodeattr(self, name, value):
        self.attrs[name] = value

    def get_exp_cycles(self):
        return (12 // self.attrs["SIMD"]) * (8 // self.attrs["PE"])

    def lut_estimation(self, part):
        return 1000.0 * self.attrs["SIMD"]

    def bram_estimation(self, part):
        return 0.0

    def uram_estimation(self, part):
        return 0.0

    def dsp_estimation(self, part):
        return 10.0 * self.attrs["PE"]


def test_cheapest_folding_meets_the_target_with_the_least_of_the_chip():
    unit = _FakeUnit()
    luts_scarce = board(lut=10_000, dsp=10_000)
    folding.cheapest_folding(unit, 12, {"SIMD": 12, "PE": 8}, PART, luts_scarce)
    assert unit.get_exp_cycles() <= 12 and unit.attrs == {"SIMD": 1, "PE": 8}  # parallel where DSPs are cheap
    folding.cheapest_folding(unit, 12, {"SIMD": 12, "PE": 8}, PART, board(lut=10_000_000, dsp=100))
    assert unit.get_exp_cycles() <= 12 and unit.attrs == {"SIMD": 12, "PE": 1}  # and where LUTs are
    folding.cheapest_folding(unit, 0, {"SIMD": 12, "PE": 8}, PART, luts_scarce)
    assert unit.get_exp_cycles() == 1  # nothing meets the target: the fastest pair
    assert folding.chip_share({"LUT": 5000, "BRAM_18K": 10, "URAM": 0, "DSP": 50}, board()) == pytest.approx(
        0.05 + 0.05 + 0.5)


def test_cheapest_folding_within_width_limits_keeps_the_fastest_allowed_pair():
    """Where no allowed pair meets the target, the fastest allowed one (not the widest pair)."""

    class Streaming(_FakeUnit):
        def get_nodeattr_types(self):
            return {**super().get_nodeattr_types(), "mem_mode": ("s", False, "internal_decoupled")}

        def get_nodeattr(self, name):
            return "internal_decoupled" if name == "mem_mode" else super().get_nodeattr(name)

        def get_input_datatype(self, ind=0):
            return type("D", (), {"bitwidth": lambda self: 1000})()

    unit = Streaming()
    folding.cheapest_folding(unit, 1, {"SIMD": 12, "PE": 8}, PART, board(), wwidth_max=8191)
    assert unit.attrs["SIMD"] * unit.attrs["PE"] * 1000 <= folding.MAX_STREAM_BITS
    assert unit.get_exp_cycles() == min((12 // s) * (8 // p) for s in (1, 2, 3, 4, 6, 12) for p in (1, 2, 4, 8)
                                        if s * p * 1000 <= folding.MAX_STREAM_BITS)


def test_a_finn_matrix_unit_is_the_cost_models_dense_unit(dataflow):
    from sparsekws.finn.ops.estimates import mvau_unit

    node, inst = mvaus(dataflow)[0]
    unit = mvau_unit(inst)
    assert (unit.mw, unit.mh, unit.pe, unit.simd) == tuple(inst.get_nodeattr(a) for a in ("MW", "MH", "PE", "SIMD"))
    assert unit.mode == "dense" and unit.weight_bits == inst.get_input_datatype(1).bitwidth() == 3
    assert folding.node_estimate(inst, PART)["FF"] == unit.ffs()
