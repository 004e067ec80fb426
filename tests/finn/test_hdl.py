"""The sparse ops' IP-generation hooks: the generated Verilog, simulated with Verilator, streams exactly what
the op's Python execution computes, at the op's modelled cycles; FINN's interface and Tcl hooks."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from onnx import TensorProto, helper

from sparsekws.finn.convert import make_sparse
from sparsekws.finn.ops.hdl import HdlUnsupported, wrapper_verilog
from sparsekws.finn.specialize import generate_sparse_hdl
from sparsekws.finn.ops.kwinners_hw import select_winners
from sparsekws.finn.streamline import kwinners_hw_node
from sparsekws.units import golden
from sparsekws.rtl.cases import Case, pack_frames

FRAMES = 4


def _matrix_model(mw=48, mh=8, fan_in=12, pe=2, simd=4, seed=0, mode="sparse_weights", active_inputs=0):
    """One SparseMVAU (UINT4 in, fixed fan-in INT4 weights, 15 thresholds -> UINT4)."""
    from finn.transformation.fpgadataflow.convert_to_hw.quantized_matrix_vector_activation import (
        InferQuantizedMatrixVectorActivation,
    )
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    rng = np.random.default_rng(seed)
    weights = golden.random_fixed_fan_in(mh, mw, fan_in, 4, rng).T.astype(np.float32)  # [MW, MH]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["acc"]),
             helper.make_node("MultiThreshold", ["acc", "thr"], ["y"], domain="qonnx.custom_op.general",
                              out_dtype="UINT4", data_layout="NC")]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, mw])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, mh])])
    model = ModelWrapper(helper.make_model(graph))
    model.set_initializer("w", weights)
    model.set_initializer("thr", np.sort(rng.integers(-60, 60, size=(mh, 15)), axis=1).astype(np.float32))
    model.set_tensor_datatype("x", DataType["UINT4"])
    model.set_tensor_datatype("w", DataType["INT4"])
    model = model.transform(InferShapes()).transform(InferDataTypes()).transform(InferQuantizedMatrixVectorActivation())
    inst = make_sparse(model, model.graph.node[0], mode, active_inputs)
    inst.set_nodeattr("PE", pe)
    inst.set_nodeattr("SIMD", simd)
    return model, inst


def _kwta_model(channels=32, k=5, pe=4, scale=(0.25,), boost=(), positions=(), mode="global"):
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.custom_op.registry import getCustomOp

    shape = [1, *positions, channels]
    node = kwinners_hw_node("kw", "x", "y", shape, "UINT4", k, mode, list(boost), list(scale))
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)])
    model = ModelWrapper(helper.make_model(graph))
    model.set_tensor_datatype("x", DataType["UINT4"])
    inst = getCustomOp(model.graph.node[0])
    inst.set_nodeattr("PE", pe)
    return model, inst


def _execute(model, frames):
    from qonnx.core.onnx_exec import execute_onnx

    shape = model.get_tensor_shape("x")
    return np.concatenate([execute_onnx(model, {"x": x.reshape(shape).astype(np.float32)})["y"].reshape(1, -1)
                           for x in frames])


def _simulate_generated(model, inst, frames, tmp_path):
    from sparsekws.rtl.sim import simulate
    from sparsekws.rtl.tools import ToolMissing, apply_verilator_env

    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    status = generate_sparse_hdl(model, tmp_path / "codegen")
    name = inst.onnx_node.name
    assert status == {name: "generated"}
    verilog = (tmp_path / "codegen" / name / f"{name}.v").read_text()
    expected = _execute(model, frames).astype(np.int64)
    in_lanes, out_lanes = inst.get_folded_input_shape()[-1], inst.get_folded_output_shape()[-1]
    bits_in, bits_out = inst.get_input_datatype(0).bitwidth(), inst.get_output_datatype().bitwidth()
    case = Case(name, verilog, pack_frames(frames, in_lanes, bits_in), pack_frames(expected, out_lanes, bits_out),
                len(frames), int(inst.get_exp_cycles()))
    return simulate(case, tmp_path / "sim")


def test_sparse_mvau_verilog_streams_what_the_op_computes_at_its_modelled_cycles(tmp_path):
    model, inst = _matrix_model()
    frames = np.random.default_rng(5).integers(0, 16, size=(FRAMES, 48))
    result = _simulate_generated(model, inst, frames, tmp_path)
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == inst.get_exp_cycles() == max(4 * inst.cost_unit().words, 48 // 4)


@pytest.mark.parametrize("ram_style, rom_style", [("block", "block"), ("distributed", "distributed")])
def test_sparse_weight_roms_are_declared_where_the_model_counts_them(ram_style, rom_style):
    import re

    from sparsekws.finn.ops.hdl import unit_verilog

    model, inst = _matrix_model(mw=512, mh=64, fan_in=128)
    inst.set_nodeattr("ram_style", ram_style)
    assert bool(inst.cost_unit().bram18()) == (rom_style == "block")
    text = unit_verilog(inst, model, "unit")
    weights = re.findall(r'^\s*(\(\* rom_style = "(\w+)" \*\) )?reg \[\d+:0\] (wmem\d+) \[0:\d+\];', text, flags=re.M)
    assert weights and all(style == rom_style for _, style, _ in weights)
    assert 'rom_style' not in "".join(line for line in text.split("\n") if " thr" in line)  # thresholds untouched


def test_sparse_sparse_scatter_verilog_streams_what_the_op_computes_at_its_modelled_cycles(tmp_path):
    from sparsekws.rtl.sim import simulate
    from sparsekws.rtl.tools import ToolMissing, apply_verilator_env

    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    k, simd = 6, 4
    model, inst = _matrix_model(mode="sparse_sparse", active_inputs=k, simd=simd)
    unit = inst.cost_unit()
    assert unit.mode == "sparse_sparse" and not unit.dense_limit and not unit.lockstep  # rows are sparse
    assert generate_sparse_hdl(model, tmp_path / "codegen") == {inst.onnx_node.name: "generated"}
    name = inst.onnx_node.name
    verilog = (tmp_path / "codegen" / name / f"{name}.v").read_text()
    assert "sparse-sparse scatter MVU" in verilog
    frames = golden.kwta(np.random.default_rng(8).integers(0, 16, size=(FRAMES, 48)), k)  # what a k-WTA delivers
    expected = _execute(model, frames).astype(np.int64)
    # (index, value) pairs, padded with zero values to whole beats of SIMD pairs
    indices, values = golden.active_pairs(frames, 8)
    pair_bits = inst.get_instream_width() // simd
    bits = inst.get_input_datatype(0).bitwidth()
    pairs = (indices << bits) | values
    case = Case(name, verilog, pack_frames(pairs, simd, pair_bits),
                pack_frames(expected, unit.pe, inst.get_output_datatype().bitwidth()), FRAMES,
                int(inst.get_exp_cycles()))
    result = simulate(case, tmp_path / "sim")
    assert result.passed, result.first_mismatch
    depth = inst.get_nodeattr("pe_bank_depth")[1]  # PE = 2, the second divisor of MH = 8
    assert result.cycles_per_frame_sim == inst.get_exp_cycles() == max(2 * depth, 8 // 2)


def test_kwta_verilog_streams_what_the_op_computes(tmp_path):
    model, inst = _kwta_model()
    frames = np.random.default_rng(6).integers(0, 16, size=(FRAMES, 32))  # 16 levels over 32 values: ties
    result = _simulate_generated(model, inst, frames, tmp_path)
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == inst.get_exp_cycles()


def test_boosted_kwta_verilog_decides_on_the_rank_rom(tmp_path):
    model, inst = _kwta_model(scale=(1.0,), boost=[1.0 + i / 32 for i in range(32)])
    assert inst.needs_rank_table() and inst.cost_unit().bins > 16
    frames = np.random.default_rng(9).integers(0, 16, size=(FRAMES, 32))
    result = _simulate_generated(model, inst, frames, tmp_path)
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == inst.get_exp_cycles() == inst.cost_unit().rtl_shape().decide_cycles


def test_2d_kwta_verilog_admits_ties_in_channel_major_order(tmp_path):
    boost = [1.0, 1.0, 2.0, 2.0, 1.5, 1.0, 2.0, 1.5]  # equal boosts: ties across channels
    model, inst = _kwta_model(channels=8, k=7, pe=4, scale=(1.0,), boost=boost, positions=(3, 2))
    frames = np.random.default_rng(10).integers(0, 3, size=(FRAMES, 48))  # few levels: many ties
    ranks = inst.rank_table()[np.arange(8), frames.reshape(FRAMES, 6, 8)].reshape(FRAMES, 48)
    stream_order = np.where(select_winners(ranks, 7), frames, 0)
    assert (stream_order != _execute(model, frames)).any()  # the tie order is visible in these frames
    result = _simulate_generated(model, inst, frames, tmp_path)
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == inst.get_exp_cycles()


def test_2d_kwta_with_pairs_output_generates_the_packer_and_streams_the_winners(tmp_path):
    from support.rtl_sim import simulate_or_skip

    from sparsekws.units.kwta_pairs import pack_pair, pair_layout, reference

    model, inst = _kwta_model(channels=8, k=8, pe=4, scale=(1.0,), positions=(3, 2))
    inst.set_nodeattr("output_format", "pairs")
    inst.set_nodeattr("pairs_per_beat", 2)
    frames = np.random.default_rng(11).integers(0, 4, size=(FRAMES, 48))
    assert generate_sparse_hdl(model, tmp_path / "codegen") == {"kw": "generated"}
    verilog = (tmp_path / "codegen" / "kw" / "kw.v").read_text()
    assert "module kw_pack" in verilog and "module kw_values" in verilog
    winners = reference(_execute(model, frames).astype(np.int64), inst.pairs_shape())
    layout = pair_layout(3, 2, 8, 4)
    pairs = np.array([[pack_pair(layout, *pair) for pair in frame] for frame in winners])
    assert inst.get_outstream_width() == 2 * (4 + 3 + 1 + 2)
    case = Case("kw", verilog, pack_frames(frames, 4, 4), pack_frames(pairs, 2, 10), FRAMES,
                int(inst.get_exp_cycles()))
    result = simulate_or_skip(case, tmp_path / "sim")
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == inst.get_exp_cycles()


def test_hooks_name_finn_interfaces_and_tcl(tmp_path):
    model, inst = _matrix_model()
    inst.set_nodeattr("runtime_writeable_weights", 1)  # weights are baked: no AXI-lite port
    generate_sparse_hdl(model, tmp_path)
    names = inst.get_verilog_top_module_intf_names()
    assert names["s_axis"] == [("in0_V", 16)] and names["m_axis"] == [("out0_V", 8)] and names["axilite"] == []
    files = inst.get_rtl_file_list(abspath=True)
    assert all(path.startswith(str(tmp_path)) for path in files)
    tcl = inst.code_generation_ipi()
    assert tcl[-1] == f"create_bd_cell -type module -reference {inst.onnx_node.name}_wrapper {inst.onnx_node.name}"
    wrapper = (tmp_path / inst.onnx_node.name / f"{inst.onnx_node.name}_wrapper.v").read_text()
    assert "in0_V_TDATA[15:0]" in wrapper and "out0_V_TDATA" in wrapper


def test_unsupported_configurations_say_why(tmp_path):
    model, inst = _kwta_model(channels=8, k=2, pe=4, positions=(2, 2), mode="local")
    status = generate_sparse_hdl(model, tmp_path)
    assert status["kw"].startswith("not generated: ") and "local" in status["kw"]
    assert inst.get_nodeattr("code_gen_dir_ipgen") == ""
    model, inst = _matrix_model()
    inst.set_nodeattr("noActivation", 1)
    with pytest.raises(HdlUnsupported, match="noActivation"):
        inst.generate_hdl(model, "", 0.0)


def test_wrapper_pads_streams_to_bytes():
    text = wrapper_verilog("top", "unit", 12, 3)
    assert "[15:0] in0_V_TDATA" in text and "[7:0] out0_V_TDATA" in text and "{5'd0, out_data}" in text


def test_specialised_ops_go_through_finns_prepare_ip(tmp_path):
    from finn.custom_op.fpgadataflow.rtlbackend import RTLBackend
    from finn.transformation.fpgadataflow.prepare_ip import PrepareIP
    from finn.util.fpgadataflow import is_rtl_node
    from qonnx.custom_op.registry import getCustomOp

    from sparsekws.finn.build import use_finn_build_dir
    from sparsekws.finn.specialize import specialize_sparse_to_rtl

    model, inst = _matrix_model()
    frames = np.random.default_rng(7).integers(0, 16, size=(2, 48))
    before = _execute(model, frames)
    model, status = specialize_sparse_to_rtl(model)
    node = model.graph.node[0]
    assert status == {node.name: "rtl"} and node.op_type == "SparseMVAU_rtl" and is_rtl_node(node)
    rtl = getCustomOp(node)
    assert isinstance(rtl, RTLBackend) and rtl.get_nodeattr("fan_in") == inst.get_nodeattr("fan_in")
    np.testing.assert_array_equal(_execute(model, frames), before)  # Python execution unchanged
    use_finn_build_dir(tmp_path / "finn_build")
    model = model.transform(PrepareIP("xcu250-figd2104-2L-e", 5.0))
    rtl = getCustomOp(model.graph.node[0])
    assert all(Path(path).is_file() for path in rtl.get_rtl_file_list(abspath=True))
    assert rtl.get_nodeattr("ip_path") == rtl.get_nodeattr("code_gen_dir_ipgen")
    model, inst = _kwta_model(channels=8, k=2, pe=4, positions=(2, 2), mode="local")
    model, status = specialize_sparse_to_rtl(model)
    assert model.graph.node[0].op_type == "KWinnersHW" and "local" in status["kw"]
    model, _ = specialize_sparse_to_rtl(_kwta_model()[0])  # a k-WTA with a unit goes through PrepareIP too
    model = model.transform(PrepareIP("xcu250-figd2104-2L-e", 5.0))
    kwta = getCustomOp(model.graph.node[0])
    assert model.graph.node[0].op_type == "KWinnersHW_rtl"
    assert all(Path(path).is_file() for path in kwta.get_rtl_file_list(abspath=True))
