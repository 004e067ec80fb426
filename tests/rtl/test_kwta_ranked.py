"""Rank-ROM k-WTA RTL: streams what ``KWinnersHW`` computes (boost, 2-D channel-major ties) at the cycles of
``cycles.ranked_kwta``; Verilator lint, Yosys synthesis."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest
from onnx import TensorProto, helper

from sparsekws.finn.ops.kwinners_hw import select_winners
from sparsekws.finn.streamline import kwinners_hw_node
from sparsekws.rtl import cases, cycles, sim, synth
from sparsekws.units import golden
from sparsekws.rtl.kwta_ranked import RankedKwtaShape, rank_codes, ranked_kwta
from sparsekws.units.kwta import memories, reference
from sparsekws.rtl.tools import ToolMissing, apply_verilator_env, verilator_env, yosys_path

FRAMES = 4


def _op(shape, k, boost, datatype="UINT4"):
    """A ``KWinnersHW`` instance (global mode) for the normal ``shape``."""
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    node = kwinners_hw_node("kw", "x", "y", list(shape), datatype, k, "global", list(boost), [0.5])
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    model = ModelWrapper(helper.make_model(graph))
    model.set_tensor_datatype("x", DataType[datatype])
    return getCustomOp(model.graph.node[0])


def _shape_for(op, positions, simd, bits, signed=False) -> RankedKwtaShape:
    table = op.rank_table()
    return RankedKwtaShape(channels=table.shape[0], positions=positions, k=op.get_nodeattr("k"), simd=simd,
                           bits=bits, signed=signed, bins=int(table.max()) + 1)


def _op_output(op, x, shape):
    """The op's Python semantics on frames ``x`` [n, P*C] (channels last)."""
    normal = (len(x), shape.channels) if shape.positions == 1 else (len(x), 2, shape.positions // 2, shape.channels)
    levels = x.reshape(normal)
    return np.where(op.winners(levels), levels, 0).reshape(len(x), -1)


def _simulate(case, tmp_path):
    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    result = sim.simulate(case, tmp_path)
    assert result.passed, result.first_mismatch
    assert result.beats_checked == 2 * len(case.out_beats)
    return result


def test_1d_with_boost_streams_the_op_output_at_the_decide_bound_rate(tmp_path):
    rng = np.random.default_rng(1)
    op = _op([1, 32], 7, np.exp(rng.uniform(-1, 1, 32)))
    shape = _shape_for(op, 1, 4, 4)
    assert shape.rank_bins > 16 * 16  # boost spreads the 16 levels of 32 channels over many ranks
    case = cases.ranked_kwta_case(shape, op.rank_table(), rng, FRAMES, levels=6)
    frames = _unpack(case.in_beats, shape)
    np.testing.assert_array_equal(_unpack(case.out_beats, shape), _op_output(op, frames, shape))
    result = _simulate(case, tmp_path)
    n, d = shape.beats, shape.decide_cycles
    assert d == -(-shape.rank_bins // 4) + 1 and d >= n + 2  # S + 1, scan-bound
    assert result.cycles_per_frame_sim == case.cycles_per_frame == d


def test_2d_ties_across_channels_come_out_in_channel_major_order(tmp_path):
    rng = np.random.default_rng(2)
    boost = np.array([1.0, 1.5, 1.0, 1.5, 1.0, 2.0, 1.0, 1.5])  # equal boosts: equal ranks across channels
    op = _op([1, 2, 3, 8], 9, boost, "UINT3")
    shape = _shape_for(op, 6, 4, 3)
    table = op.rank_table()
    assert (table[0] == table[2]).all() and shape.tie_words == 2
    x = rng.integers(0, 2, size=(FRAMES, shape.values))  # levels 0 and 1 only: many ties at the threshold
    case = cases.ranked_kwta_case(shape, table, rng, FRAMES, x=x)
    np.testing.assert_array_equal(_unpack(case.out_beats, shape), _op_output(op, x, shape))
    # the stream (channels-last) order would admit other ties: the check below can tell them apart
    ranks = table[np.arange(8), x.reshape(FRAMES, 6, 8)].reshape(FRAMES, -1)
    stream_order = np.where(select_winners(ranks, 9), x, 0)
    assert not np.array_equal(stream_order, _unpack(case.out_beats, shape))
    result = _simulate(case, tmp_path)
    assert result.cycles_per_frame_sim == case.cycles_per_frame == max(shape.beats, shape.decide_cycles,
                                                                       (shape.beats + shape.decide_cycles + 2) / 2)


def test_without_boost_rank_is_the_level_and_the_load_sets_the_rate(tmp_path):
    shape = RankedKwtaShape(channels=32, positions=1, k=5, simd=2, bits=3, signed=True)
    table = np.tile(np.arange(8), (32, 1))  # rank = level - min
    rng = np.random.default_rng(3)
    case = cases.ranked_kwta_case(shape, table, rng, FRAMES)
    frames = _unpack(case.in_beats, shape)
    np.testing.assert_array_equal(_unpack(case.out_beats, shape), golden.kwta(frames, 5))
    result = _simulate(case, tmp_path)
    assert shape.decide_cycles == 5 and result.cycles_per_frame_sim == case.cycles_per_frame == 16  # N = 32/2


def test_2d_one_channel_beat_signed_between_the_bounds(tmp_path):
    """C = PE (every beat hits the same count word), |N - D| <= 1: the histogram sets alternate."""
    rng = np.random.default_rng(4)
    op = _op([1, 2, 3, 4], 3, np.exp(rng.uniform(-1, 1, 4)), "INT2")
    shape = _shape_for(op, 6, 4, 2, signed=True)
    case = cases.ranked_kwta_case(shape, op.rank_table(), rng, 6)
    np.testing.assert_array_equal(_unpack(case.out_beats, shape), _op_output(op, _unpack(case.in_beats, shape), shape))
    result = _simulate(case, tmp_path)
    n, d = shape.beats, shape.decide_cycles
    assert abs(n - d) <= 1 and shape.tie_words == 1
    assert result.cycles_per_frame_sim == case.cycles_per_frame == (n + d + 2) / 2 > max(n, d)


def _unpack(beats, shape):
    """Frames [n, P*C] (signed when the shape is) from packed beats."""
    b, mask = shape.bits, (1 << shape.bits) - 1
    values = np.array([[(beat >> (s * b)) & mask for s in range(shape.simd)] for beat in beats])
    values = values.reshape(-1, shape.values)
    return values - ((values >> (b - 1)) << b) if shape.signed else values


def _lint_shapes():
    rng = np.random.default_rng(5)
    shapes = [RankedKwtaShape(16, 1, 5, 4, 4), RankedKwtaShape(8, 6, 9, 4, 3),
              RankedKwtaShape(4, 5, 3, 4, 2, signed=True), RankedKwtaShape(6, 1, 2, 1, 2)]
    out = []
    for shape in shapes:
        table = np.argsort(np.argsort(rng.random((shape.channels, shape.levels)), axis=None)).reshape(
            shape.channels, shape.levels)
        out.append((RankedKwtaShape(**{**shape.__dict__, "bins": int(table.max()) + 1}), table))
    return out


@pytest.mark.parametrize("shape, table", _lint_shapes(), ids=["1d", "2d", "2d_one_channel_beat", "1d_pe1"])
def test_verilator_lint_wall_is_clean(shape, table, tmp_path):
    try:
        env = verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    source = tmp_path / "unit.v"
    source.write_text(ranked_kwta("unit", shape, table))
    proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(source)], capture_output=True, text=True,
                          env=os.environ | env)
    assert proc.returncode == 0, proc.stderr
    assert "%Warning" not in proc.stderr


def test_small_unit_synthesises_with_its_memories_inferred(tmp_path):
    try:
        yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    shape, table = _lint_shapes()[1]  # 2-D, 8 channels x 6 positions, PE 4
    result = synth.synthesize(ranked_kwta("rk_small", shape, table), "rk_small", tmp_path)
    log = (tmp_path / "yosys.log").read_text()
    for memory in ("fbuf", "hist0_0", "hist1_3", "lcnt1_3", "allow0"):
        assert f"mapping memory rk_small.{memory} via" in log  # a RAM primitive, not flip-flops
    histogram_bits = 2 * 4 * shape.scan_words * 4 * 5  # sets x lanes x words x PE counters of clog2(12+1) bits
    assert result.lut_mem > 0 and result.ff < histogram_bits and result.bram18 == 0 and result.dsp == 0


def test_cycle_formula_and_rank_codes():
    one_d = RankedKwtaShape(channels=1000, positions=1, k=20, simd=10, bits=4, bins=14833)
    assert (one_d.beats, one_d.scan_words, one_d.decide_cycles) == (100, 1484, 1485)
    assert cycles.ranked_kwta(one_d) == 1485 and cycles.ranked_kwta(one_d, frames=2) == 2970
    two_d = RankedKwtaShape(channels=64, positions=196, k=100, simd=8, bits=4, bins=700)
    assert two_d.decide_cycles == 88 + 8 + 1 and cycles.ranked_kwta(two_d) == 64 * 196 // 8  # load-bound
    assert cycles.ranked_kwta(RankedKwtaShape(16, 1, 3, 4, 4)) == 5.5  # N = 4, D = 4 + 1: (4 + 5 + 2) / 2
    assert list(rank_codes(np.array([0, 2, 3, 4, 9]), 3)) == [0, 2, 4, 5, 12]  # word << 2 | slot


def test_shape_and_table_errors_are_clear():
    table = np.zeros((8, 8), dtype=int)
    with pytest.raises(ValueError, match="SIMD=3 must divide"):
        ranked_kwta("x", RankedKwtaShape(8, 1, 2, 3, 3), table)
    with pytest.raises(ValueError, match="k=9"):
        ranked_kwta("x", RankedKwtaShape(8, 1, 9, 2, 3), table)
    with pytest.raises(ValueError, match="rank_table must have shape"):
        ranked_kwta("x", RankedKwtaShape(8, 1, 2, 2, 2), table)
    with pytest.raises(ValueError, match="ranks must lie in 0..7"):
        ranked_kwta("x", RankedKwtaShape(8, 1, 2, 2, 3), table + 8)
    frames = np.array([[3, 1, 3, 0]])
    assert reference(frames, RankedKwtaShape(4, 1, 2, 2, 2), np.tile(np.arange(4), (4, 1))).tolist() == [[3, 0, 3, 0]]


@pytest.mark.parametrize("index, rank_bits", [(0, 6 + 2), (1, 4 + 2)])  # 256 bins / 64 bins, PE 4: word, slot bits
def test_memory_list_matches_the_generated_declarations(index, rank_bits):
    import re

    shape, table = _lint_shapes()[index]
    text = ranked_kwta("unit", shape, table)
    declared = {name: (int(depth) + 1, int(width) + 1)
                for width, name, depth in re.findall(r"reg \[(\d+):0\] (\w+) \[0:(\d+)\];", text)}
    listed = {}
    for memory in memories(shape):
        sets, lanes = (2 if "<h>" in memory.name else 1), (shape.simd if "<s>" in memory.name else 1)
        names = [memory.name.replace("<h>", str(h)).replace("<s>", str(s)) for h in range(sets) for s in range(lanes)]
        assert len(names) == memory.copies
        listed.update({name: (memory.depth, memory.width) for name in names})
    assert listed == declared and declared["fbuf"] == (3 * shape.beats, shape.simd * (shape.bits + rank_bits))


def _large_histograms(ram_style):
    """1-D, 64 channels, PE 2, 1,024 rank bins: each lane's histogram (512 x 12 bits) is over the LUTRAM limit."""
    table = np.random.default_rng(3).permutation(64 * 16).reshape(64, 16)
    return RankedKwtaShape(64, 1, 10, 2, 4, bins=1024, ram_style=ram_style), table


@pytest.mark.parametrize("ram_style", ["block", "distributed", "ultra", "split"])
def test_every_memory_is_declared_where_the_cost_model_places_it(ram_style):
    """RAMs carry ram_style; a ROM in LUTs (logic) none, one in BRAM rom_style block."""
    import re

    shape, table = _large_histograms(ram_style)
    text = ranked_kwta("unit", shape, table)
    styles = {name: style for kind, style, name in
              re.findall(r'\(\* (ram|rom)_style = "(\w+)" \*\) reg \[\d+:0\] (\w+) \[0:\d+\];', text)}
    bare = re.findall(r"^\s*reg \[\d+:0\] (\w+) \[0:\d+\];", text, flags=re.M)
    assert len(styles) + len(bare) == len(re.findall(r"reg \[\d+:0\] \w+ \[0:\d+\];", text))
    if ram_style == "split":  # the first histogram set in URAM, the second in BRAM
        assert styles["hist0_0"] == styles["hist0_1"] == "ultra" and styles["hist1_1"] == "block"
    else:
        assert styles["hist0_0"] == styles["hist1_1"] == ram_style
    assert styles["thr"] == "distributed"
    if ram_style == "distributed":  # the 512 x 10-bit rank ROMs: logic
        assert bare == ["rom0", "rom1"]
    else:  # URAM has no initial contents: the ROMs stay in BRAM
        assert not bare and styles["rom0"] == styles["rom1"] == "block"


def test_distributed_style_lints_and_synthesises_without_block_ram(tmp_path):
    try:
        env = verilator_env()
        yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    results = {}
    for style in ("block", "distributed"):
        shape, table = _large_histograms(style)
        source = tmp_path / style / "unit.v"
        source.parent.mkdir()
        source.write_text(ranked_kwta("unit", shape, table))
        proc = subprocess.run(["verilator", "--lint-only", "-Wall", str(source)], capture_output=True, text=True,
                              env=os.environ | env)
        assert proc.returncode == 0 and "%Warning" not in proc.stderr, proc.stderr
        results[style] = synth.synthesize(source.read_text(), "unit", tmp_path / style)
    assert results["block"].bram18 >= 4  # two histogram sets x two lanes
    assert results["distributed"].bram18 == 0 and results["distributed"].lut_mem > results["block"].lut_mem


def test_split_style_puts_one_histogram_set_in_uram_as_the_model_counts(tmp_path):
    try:
        yosys_path()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    from sparsekws.units.cost import KWinnersUnit

    shape, table = _large_histograms("split")
    result = synth.synthesize(ranked_kwta("unit", shape, table), "unit", tmp_path)
    model = KWinnersUnit(channels=64, positions=1, pe=2, input_bits=4, k=10, score_bins=1024, rank_table=True,
                         ram_style="split")
    assert model.uram() == result.uram == 2  # histogram set 0, one URAM per lane
    assert model.bram18() == result.bram18 == 4  # set 1 and the two rank ROMs
