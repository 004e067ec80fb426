"""Cost model of the sparse units: FINN's MVAU estimates in the dense limit, savings below it."""

from __future__ import annotations

import math

import numpy as np
import pytest
from onnx import helper

from sparsekws.finn.ops import DOMAIN
from sparsekws.units.cost import KWinnersUnit, MatrixUnit, PairsPackerUnit, bram18_count, index_bits
from sparsekws.units.kwta_pairs import PairsShape
from sparsekws.finn.ops.sparse_mvau import bank_depths, divisors
from sparsekws.units.schedule import weight_structure

PART = "xczu7ev-ffvc1156-2-e"


def _node(op_type, domain, **attrs):
    base = {"MW": 64, "MH": 32, "PE": 4, "SIMD": 8, "inputDataType": "UINT4", "weightDataType": "INT4",
            "outputDataType": "UINT4", "accDataType": "INT16", "noActivation": 0, "ActVal": 0,
            "numInputVectors": [1], "backend": "fpgadataflow"}
    base.update(attrs)
    return helper.make_node(op_type, ["x", "w", "t"], ["y"], domain=domain, **base)


DENSE_CASES = [
    {},
    {"MW": 1600, "MH": 1000, "PE": 20, "SIMD": 32},
    {"MW": 1600, "MH": 1000, "PE": 1, "SIMD": 1, "ram_style": "block"},  # (URAM: not for the unit's ROM weights)
    {"PE": 32, "SIMD": 64, "ram_style": "distributed", "ram_style_thresholds": "distributed"},
    {"resType": "dsp", "inputDataType": "INT8", "accDataType": "INT24", "noActivation": 1, "outputDataType": "INT24"},
    {"mem_mode": "internal_embedded", "numInputVectors": [1, 14, 14], "MW": 200, "SIMD": 5},
    {"mem_mode": "internal_embedded", "MW": 1600, "MH": 1000, "PE": 5, "SIMD": 4},
]


@pytest.mark.parametrize("attrs", DENSE_CASES)
@pytest.mark.parametrize("mode", ["sparse_weights", "sparse_sparse"])
def test_dense_limit_equals_finn_mvau_estimates_exactly(attrs, mode):
    from qonnx.custom_op.registry import getCustomOp

    finn = getCustomOp(_node("MVAU_hls", "finn.custom_op.fpgadataflow.hls", **attrs))
    mw, mh = finn.get_nodeattr("MW"), finn.get_nodeattr("MH")
    ours = getCustomOp(_node("SparseMVAU", DOMAIN, sparse_mode=mode, fan_in=mw, row_nnz=mh, active_inputs=mw, **attrs))
    ours.set_bank_depths(np.ones((mw, mh)))
    assert ours.get_exp_cycles() == finn.get_exp_cycles()
    for method in ("lut_estimation", "bram_estimation", "uram_estimation", "dsp_estimation",
                   "bram_efficiency_estimation", "uram_efficiency_estimation"):
        assert getattr(ours, method)(PART) == pytest.approx(getattr(finn, method)(PART), rel=1e-12), method
    assert ours.get_op_and_param_counts() == finn.get_op_and_param_counts()


def test_sparse_unit_weights_cannot_be_placed_in_uram():
    from qonnx.custom_op.registry import getCustomOp

    ours = getCustomOp(_node("SparseMVAU", DOMAIN, sparse_mode="sparse_weights", fan_in=4, ram_style="ultra"))
    with pytest.raises(AssertionError, match="ram_style = ultra not in"):
        ours.get_nodeattr("ram_style")


def _fixed_fan_in(mw, mh, density, seed=0):
    rng = np.random.default_rng(seed)
    fan_in = max(1, round(density * mw))
    keep = np.argsort(rng.random((mh, mw)), axis=1)[:, :fan_in]
    mask = np.zeros((mh, mw))
    np.put_along_axis(mask, keep, 1.0, axis=1)
    return mask.T


def _unit(weights, pe, simd, **kw):
    structure = weight_structure(weights)
    return MatrixUnit(mw=weights.shape[0], mh=weights.shape[1], pe=pe, simd=simd, weight_bits=4, input_bits=4,
                      mode="sparse_weights", fan_in=structure["fan_in"],
                      bank_depth=bank_depths(weights, "sparse_weights")[simd], output_bits=4, **kw)


def _cheapest(weights, target_cycles):
    mw, mh = weights.shape
    depths = bank_depths(weights, "sparse_weights")
    structure = weight_structure(weights)
    best = None
    for pe in divisors(mh):
        for simd in divisors(mw):
            unit = MatrixUnit(mw=mw, mh=mh, pe=pe, simd=simd, weight_bits=4, input_bits=4, mode="sparse_weights",
                              fan_in=structure["fan_in"], bank_depth=depths[simd], output_bits=4)
            if unit.cycles() <= target_cycles and (best is None or unit.luts() < best.luts()):
                best = unit
    return best


def test_cycles_and_luts_fall_with_density_and_match_finn_at_density_one():
    """The 1600 x 1000 W4A4 hidden layer of the GSC CNN, random fixed fan-in masks.

    At a fixed folding (PE 20, SIMD 32) the cycles fall as the density falls; at a fixed
    throughput (the dense layer's cycles at that folding) the cheapest folding's LUTs fall.
    At density 1 both equal FINN's MVAU formula (exactly).
    """
    densities = [1.0, 0.5, 0.2, 0.1, 0.05]
    weights = {d: _fixed_fan_in(1600, 1000, d) for d in densities}
    cycles = [_unit(weights[d], 20, 32).cycles() for d in densities]
    assert cycles[0] == (1000 // 20) * (1600 // 32)
    assert all(a > b for a, b in zip(cycles, cycles[1:])), cycles
    dense = _unit(weights[1.0], 20, 32)
    assert dense.dense_limit and dense.resources()["model"] == "finn-estimate"
    luts = [_cheapest(weights[d], dense.cycles()).luts() for d in densities]
    assert luts[0] <= dense.luts()
    assert all(a > b for a, b in zip(luts, luts[1:])), luts


def test_bank_padding_is_measured_and_replication_removes_it():
    weights = _fixed_fan_in(256, 16, 0.25)
    depths = bank_depths(weights, "sparse_weights")
    assert depths[1] == 64 and set(depths) == set(divisors(256))
    assert depths[8] > math.ceil(64 / 8)  # a random mask fills some bank above the mean
    banked, replicated = _unit(weights, 4, 8), _unit(weights, 4, 8, operand_style="replicated")
    assert replicated.words == 8 and banked.words == depths[8]
    assert replicated.cycles() < banked.cycles()
    assert replicated.address_bits == index_bits(256) > banked.address_bits == index_bits(32)
    assert replicated.sparse_extra_luts() > banked.sparse_extra_luts()


def test_sparse_sparse_cycles_scale_with_active_inputs():
    weights = _fixed_fan_in(64, 32, 0.25)
    structure = weight_structure(weights)
    depths = bank_depths(weights, "sparse_sparse")

    def unit(active):
        return MatrixUnit(mw=64, mh=32, pe=4, simd=2, weight_bits=4, input_bits=4, mode="sparse_sparse",
                          fan_in=structure["fan_in"], row_nnz=structure["row_nnz"], active_inputs=active,
                          bank_depth=depths[4], output_bits=4)

    assert unit(16).cycles() == max(8 * depths[4], 32 // 4)
    assert unit(8).cycles() < unit(16).cycles() < unit(64).cycles()
    assert unit(8).accumulator_bits() < MatrixUnit(mw=64, mh=32, pe=4, simd=2, weight_bits=4, input_bits=4,
                                                   output_bits=4).accumulator_bits()


def test_bram_rule_and_invalid_folding():
    assert bram18_count(1024, 18) == 1 and bram18_count(1025, 18) == 2 and bram18_count(512, 36) == 1
    assert bram18_count(100, 1) == 1 and bram18_count(0, 8) == 0
    with pytest.raises(ValueError, match="must divide"):
        MatrixUnit(mw=10, mh=10, pe=3, simd=1, weight_bits=4, input_bits=4)


def test_kwinners_unit_cycles_and_resources():
    flat = KWinnersUnit(channels=1000, positions=1, pe=10, input_bits=4, k=150)
    assert flat.cycles() == 100  # load-bound: N = L/PE
    boosted = KWinnersUnit(channels=1000, positions=1, pe=10, input_bits=4, k=150, score_bins=9000, rank_table=True)
    assert boosted.cycles() == 900 + 1 and boosted.bram18() > flat.bram18()  # the histogram scan sets the pace
    grid = KWinnersUnit(channels=64, positions=14 * 14, pe=4, input_bits=4, k=1788)
    assert grid.cycles() == 64 * 196 // 4 and grid.bram18() > 0
    between = KWinnersUnit(channels=8, positions=3, pe=4, input_bits=4, k=5, score_bins=16)
    assert between.cycles() == 8  # N = 6, D = 4 + 2 + 1: the two histogram sets alternate, (6 + 7 + 2) / 2 -> 8
    local = KWinnersUnit(channels=64, positions=196, pe=4, input_bits=4, k=9, mode="local")
    assert local.cycles() == 196 * 16 and local.bram18() == 0
    table = KWinnersUnit(channels=64, positions=196, pe=4, input_bits=4, k=9, mode="local", score_bins=700,
                         rank_table=True)
    assert table.luts() > local.luts()
    with pytest.raises(ValueError, match="must divide"):
        KWinnersUnit(channels=10, positions=1, pe=3, input_bits=4, k=1)


def test_pairs_output_adds_the_packer_as_its_own_calibrated_part():
    pairs = PairsShape(height=14, width=14, channels=64, pe=16, simd=2, k=1788, bits=4)
    values = KWinnersUnit(channels=64, positions=196, pe=16, input_bits=4, k=1788)
    unit = KWinnersUnit(channels=64, positions=196, pe=16, input_bits=4, k=1788, pairs=pairs)
    packer = PairsPackerUnit(pairs)
    assert values.cycles() == 784 and unit.cycles() == 894 == pairs.out_beats  # 2 pairs per beat bound it
    assert unit.luts() == values.luts() + packer.luts() and unit.ffs() == values.ffs() + packer.ffs()
    assert unit.parts() == [("kwta", values.luts(), values.ffs()), ("kwta_pairs", packer.luts(), packer.ffs())]
    assert packer.bram18() == 0 and packer.luts() > 16 * 18 * 4  # a 16 x 226-word ring fits LUTRAM
    wide = PairsShape(height=14, width=14, channels=64, pe=16, simd=2, k=1788, bits=4, capacity=16 * 512)
    assert PairsPackerUnit(wide).bram18() == 16 and PairsPackerUnit(wide, "ultra").uram() == 16
    assert PairsPackerUnit(wide, "distributed").bram18() == 0


def test_kwinners_memories_go_where_ram_style_says():
    from sparsekws.units.kwta import placement

    unit = dict(channels=1000, positions=1, pe=20, input_bits=4, k=150, score_bins=14904, rank_table=True)
    block, lutram, ultra = (KWinnersUnit(**unit, ram_style=style) for style in ("block", "distributed", "ultra"))
    assert block.bram18() > 0 and block.uram() == 0
    assert lutram.bram18() == lutram.uram() == 0 and lutram.luts() > block.luts()
    assert ultra.uram() > 0 and ultra.bram18() < block.bram18() and ultra.luts() == block.luts()
    assert block.cycles() == lutram.cycles() == ultra.cycles()  # the placement changes no cycle
    split = KWinnersUnit(**unit, ram_style="split")  # the first histogram set in URAM, the rest in BRAM
    assert 0 < split.uram() < ultra.uram() and ultra.bram18() < split.bram18() < block.bram18()
    roms = [m for m in ultra.memories() if m.rom and placement(m, "block") == "bram"]
    assert roms and all(placement(m, "ultra") == "bram" for m in roms)  # URAM has no initial contents


@pytest.mark.parametrize("channels,positions,pe,bins", [(1000, 1, 8, 14833), (64, 196, 8, 1024), (64, 25, 1, 900),
                                                         (32, 1, 4, 481), (8, 6, 4, 16)])
def test_kwinners_unit_follows_the_rtl_unit(channels, positions, pe, bins):
    from sparsekws.rtl import cycles
    from sparsekws.units.kwta import memories

    unit = KWinnersUnit(channels=channels, positions=positions, pe=pe, input_bits=4, k=10, score_bins=bins,
                        rank_table=True)
    assert unit.cycles() == math.ceil(cycles.ranked_kwta(unit.rtl_shape()))
    bram = sum(m.copies * bram18_count(m.depth, m.width) for m in memories(unit.rtl_shape())
               if m.depth * m.width > 4096)
    assert unit.bram18() == bram


def test_sparse_sparse_with_dense_rows_walks_outputs_in_lockstep():
    dense_rows = MatrixUnit(mw=1000, mh=12, pe=4, simd=8, weight_bits=4, input_bits=4, mode="sparse_sparse",
                            fan_in=1000, row_nnz=12, active_inputs=152, output_bits=4)
    assert dense_rows.lockstep and dense_rows.address_bits == 0
    assert dense_rows.cycles() == 152 // 8 * 3  # K/SIMD beats x NF output folds (rtl.cycles.sparse_sparse_mvu)
    scatter = MatrixUnit(mw=1000, mh=12, pe=4, simd=8, weight_bits=4, input_bits=4, mode="sparse_sparse",
                         fan_in=100, row_nnz=4, active_inputs=152, output_bits=4)
    assert not scatter.lockstep and scatter.sparse_extra_luts() > dense_rows.sparse_extra_luts()
