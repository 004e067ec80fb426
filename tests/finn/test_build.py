"""FINN estimate flow on small dense and sparse MLPs (no Vivado needed)."""

from __future__ import annotations

import pytest

from support.fixtures import ZCU104, dense_cnn_config, write_cnn_fixture, write_mlp_fixture

from sparsekws.core import environment
from sparsekws.finn import build as finn_build
from sparsekws.finn.build import BuildTarget, FinnBuildError, estimate_dataflow

HIDDEN = [32, 32]


@pytest.fixture(scope="module")
def flows(tmp_path_factory):
    """FINN estimate flow results for a dense and a 10 %-dense MLP (ZCU104 part)."""
    results = {}
    for name, density in (("dense", 1.0), ("sparse", 0.1)):
        root = tmp_path_factory.mktemp(name)
        qonnx, ref = write_mlp_fixture(root / "in", density)
        results[name] = (estimate_dataflow(qonnx, ref, ZCU104, root / "finn"), root / "finn")
    return results


def test_flow_maps_mlp_to_one_partition_of_mvaus(flows):
    result, _ = flows["dense"]
    ops = {attrs["op_type"] for attrs in result["folding"].values()}
    assert ops == {"MVAU_hls"} or ops <= {"MVAU_hls", "MVAU_rtl", "Thresholding_hls", "Thresholding_rtl"}
    assert len(result["layer_cycles"]) == len(HIDDEN) + 1
    assert [n["op_type"] for n in result["host_nodes"]] == ["Mul"]  # the final float scale only


def test_python_execution_matches_reference(flows):
    for result, _ in flows.values():
        stages = [c["stage"] for c in result["python_checks"]]
        assert stages == ["streamlined", "dataflow_partition"]
        assert all(c["passed"] for c in result["python_checks"]), result["python_checks"]
        assert all(c["max_abs_diff"] <= c["tolerance"] for c in result["python_checks"])


def test_estimates_are_positive_and_reports_written(flows):
    result, work = flows["dense"]
    assert all(c > 0 for c in result["layer_cycles"].values())
    assert all(r["LUT"] > 0 for r in result["layer_resources"].values())
    assert result["performance"]["max_cycles"] == max(result["layer_cycles"].values())
    for name in ("estimate_layer_cycles.json", "estimate_layer_resources.json", "op_and_param_counts.json",
                 "estimate_network_performance.json"):
        assert (work / "report" / name).is_file()
    for name in ("streamlined.onnx", "hw_layers.onnx", "dataflow_parent.onnx", "dataflow_model.onnx"):
        assert (work / "onnx" / name).is_file()
    assert not list(work.glob("finn_build_*"))  # FINN's scratch folder is removed


def test_folding_meets_target(flows):
    result, _ = flows["dense"]
    assert result["target_cycles_per_frame"] == 1000
    assert max(result["layer_cycles"].values()) <= 1000
    for attrs in result["folding"].values():
        assert attrs["PE"] >= 1 and attrs["SIMD"] >= 1


def test_codegen_without_vivado_and_ipgen_refused(flows, monkeypatch):
    result, work = flows["dense"]
    assert result["codegen"]["status"] == "ok"
    for layer, files in result["codegen"]["files"].items():
        assert any(f.endswith(".cpp") for f in files) and any(f.endswith(".tcl") for f in files)
        assert (work / "codegen" / layer).is_dir()
    if not result["vivado"]["available"]:
        assert result["vivado"]["reason"] == environment.NO_VIVADO_MESSAGE
        ipgen = result["steps_not_run"][0]
        assert ipgen["step"] == "hw_ipgen" and "XILINX_VIVADO" in ipgen["finn_error"]
        assert {s["step"] for s in result["steps_not_run"]} >= {"synthesize_bitfile", "create_stitched_ip"}


def test_unstructured_sparsity_is_invisible_to_finn(flows):
    dense, _ = flows["dense"]
    sparse, _ = flows["sparse"]
    assert dense["layer_cycles"] == sparse["layer_cycles"]
    assert {k: (v["PE"], v["SIMD"]) for k, v in dense["folding"].items()} == \
           {k: (v["PE"], v["SIMD"]) for k, v in sparse["folding"].items()}
    # the zeros are there, FINN just does not use them
    assert min(sparse["weight_zero_fraction"].values()) > 0.85
    assert max(dense["weight_zero_fraction"].values()) < 0.5


def test_unannotated_float_input_is_refused(tmp_path):
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    qonnx, ref = write_mlp_fixture(tmp_path / "in", 1.0, hidden=[16], samples=2)
    model = ModelWrapper(str(qonnx))
    model.set_tensor_datatype(model.graph.input[0].name, DataType["FLOAT32"])
    model.save(str(qonnx))
    with pytest.raises(FinnBuildError, match="could not map"):
        estimate_dataflow(qonnx, ref, ZCU104, tmp_path / "finn")


def test_vivado_status(monkeypatch):
    monkeypatch.delenv("XILINX_VIVADO", raising=False)
    monkeypatch.setattr(environment.shutil, "which", lambda name: None)
    status = environment.vivado_status()
    assert status == {"available": False, "path": None, "reason": environment.NO_VIVADO_MESSAGE}
    monkeypatch.setenv("XILINX_VIVADO", "/opt/Xilinx/Vivado/2024.2")
    assert environment.vivado_status()["available"] is True


def test_build_target_cycles():
    assert BuildTarget("p", clock_mhz=200, target_fps=100_000).target_cycles_per_frame == 2000
    assert BuildTarget("p", clock_mhz=100, target_fps=1e9).target_cycles_per_frame == 1
    assert BuildTarget("p", clock_mhz=250, target_fps=1).clock_period_ns == pytest.approx(4.0)


# ---- convolutional networks ----------------------------------------------------------------

@pytest.fixture(scope="module")
def cnn_flow(tmp_path_factory):
    """The estimate flow (SetFolding, no search) of the tiny dense CNN."""
    root = tmp_path_factory.mktemp("cnn")
    qonnx, ref = write_cnn_fixture(root / "in", dense_cnn_config())
    return estimate_dataflow(qonnx, ref, ZCU104, root / "finn", model_cfg=dense_cnn_config()), root / "finn"


def test_dense_cnn_lowers_to_one_partition(cnn_flow):
    result, _ = cnn_flow
    ops = [attrs["op_type"] for attrs in result["folding"].values()]
    # im2col window generators feed the conv MVAUs; each max-pool is a window generator + Pool
    assert ops.count("ConvolutionInputGenerator_rtl") == 4 and ops.count("Pool_hls") == 2
    assert sum(op.startswith("MVAU") for op in ops) == 4
    # only the input NCHW->NHWC transpose and the final float scale stay on the host
    assert [(n["op_type"]) for n in result["host_nodes"]] == ["Transpose", "Mul"]
    assert set(result["layer_estimators"].values()) == {"finn-estimate"}


def test_dense_cnn_python_execution_matches_torch(cnn_flow):
    result, _ = cnn_flow
    assert [c["stage"] for c in result["python_checks"]] == ["streamlined", "dataflow_partition"]
    assert all(c["passed"] and c["argmax_exact_agreement"] == 1.0 for c in result["python_checks"])


def test_dense_cnn_codegen_and_floor(cnn_flow):
    result, work = cnn_flow
    assert result["codegen"]["status"] == "ok" and not result["codegen"]["layers_without_code"]
    assert (work / "codegen" / "ConvolutionInputGenerator_rtl_0").is_dir()
    # the first window generator takes one pixel per cycle: a 32x32 frame costs at least 1024 cycles
    assert result["layer_cycles"]["ConvolutionInputGenerator_rtl_0"] >= 1024
    assert result["performance"]["max_cycles"] == max(result["layer_cycles"].values())


def test_host_node_between_hw_layers_is_not_mappable(cnn_flow):
    from qonnx.core.modelwrapper import ModelWrapper

    _, work = cnn_flow
    model = ModelWrapper(str(work / "onnx" / "hw_layers.onnx"))
    assert finn_build._splitting_host_node(model) is None
    # make a HW layer in the middle a plain (host) node: the accelerator would split in two
    middle = [n for n in model.graph.node if n.op_type == "Pool"][0]
    for attr in [a for a in middle.attribute if a.name == "backend"]:
        middle.attribute.remove(attr)
    assert finn_build._splitting_host_node(model).name == middle.name
    with pytest.raises(finn_build.NotMappableError, match=f"{middle.name} \\(Pool\\)"):
        finn_build._create_partition(model, work / "split_partition")


def test_check_judgement_stops_only_on_top_class_disagreement():
    ok = {"stage": "a", "passed": True, "max_abs_diff": 0.0, "tolerance": 1e-4, "argmax_agreement": 1.0}
    flip = {"stage": "b", "passed": False, "max_abs_diff": 0.02, "tolerance": 1e-4, "argmax_agreement": 1.0}
    wrong = {"stage": "c", "passed": False, "max_abs_diff": 3.0, "tolerance": 1e-4, "argmax_agreement": 0.5}
    finn_build._judge_checks([ok, flip])
    assert flip["note"] == finn_build.ROUNDING_NOTE and "note" not in ok
    with pytest.raises(FinnBuildError, match=r"\(c\) differs .* argmax agreement 0.500"):
        finn_build._judge_checks([ok, wrong])


def test_damaged_inputs_name_the_file(tmp_path, tiny_qonnx):
    from sparsekws.core.errors import UserError

    qonnx, ref = tiny_qonnx
    broken = tmp_path / "model.qonnx.onnx"
    broken.write_bytes(qonnx.read_bytes()[:200])
    with pytest.raises(UserError, match=rf"QONNX model {broken} is damaged .*--forcerun"):
        estimate_dataflow(broken, ref, ZCU104, tmp_path / "finn")
    truncated = tmp_path / "reference_io.npz"
    truncated.write_bytes(ref.read_bytes()[:300])
    with pytest.raises(UserError, match=rf"reference I/O file {truncated} is damaged"):
        estimate_dataflow(qonnx, truncated, ZCU104, tmp_path / "finn2")
