"""Whole-network RTL simulation of compiled tiny CNNs: both sparsities in hardware (constant conv,
scatter conv on a k-WTA's pairs, sparse fully connected) and the dense CNN, logits exact."""

import json

import numpy as np
import pytest
import torch

from sparsekws.finn.compile import compile_model
from sparsekws.finn import netsim
from sparsekws.finn.netsim import expected_logits, host_io, simulate_compiled
from sparsekws.rtl.tools import ToolMissing, apply_verilator_env
from support import board, named_config
from support.fixtures import cnn_config, dense_cnn_config, write_cnn_fixture

BOTH_SPARSITIES = {"complementary_kernels": {1: 4},
                   "sparse_hw": {"mode": {0: "constant", 1: "scatter_conv", 2: "sparse_weights"}}}


@pytest.fixture(scope="module")
def verilator():
    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))


def _compiled(root, model_cfg):
    from qonnx.core.modelwrapper import ModelWrapper

    from sparsekws.export.qonnx import execute_graph

    qonnx, _ = write_cnn_fixture(root / "in", model_cfg)
    x = torch.randint(-128, 128, (12, 1, 32, 32), generator=torch.Generator().manual_seed(5)).float().numpy()
    np.savez(root / "in" / "reference_io.npz", inputs=x[:4], outputs=execute_graph(ModelWrapper(str(qonnx)), x[:4]))
    compile_model("cnn", model_cfg, named_config("config.yaml")["compile"], board("zcu104"), qonnx,
                  root / "in" / "reference_io.npz", root / "out")
    data = {"x": x, "labels": np.zeros(len(x), dtype=int), "split": np.array(["test"] * len(x)),
            "logits": execute_graph(ModelWrapper(str(qonnx)), x)}
    return root / "out", data


@pytest.mark.parametrize("model_cfg", [cnn_config(**BOTH_SPARSITIES), dense_cnn_config()], ids=["sparse", "dense"])
def test_compiled_cnn_simulates_exactly(verilator, model_cfg, tmp_path, monkeypatch):
    compile_dir, data = _compiled(tmp_path, model_cfg)
    record = simulate_compiled(compile_dir, data, tmp_path / "work", tmp_path / "cache", board("zcu104"))
    assert record["passed"], record["first_mismatch"]
    if record["plumbing"]["status"] == "counted":  # Yosys present: FIFOs and converters cost LUTs, fewer copies fit
        assert record["plumbing"]["total"]["LUT"] > 0 and set(record["plumbing"]["modules"]) >= set(record["fifo_depths"])
        fit = record["fit_with_plumbing"]
        assert fit["copies_per_chip"] <= fit["copies_per_chip_without"] and record["plumbing"]["total"]["FF"] > 0
    assert record["words"] == record["words_per_split"]["test"] == 12
    # a word whose logits equal the model's has its top class, unless its top logit is tied (the
    # float logits then pick by their rounding noise); one off by QONNX's rounding may not
    top = np.sort(np.round(data["logits"] / record["host_scale"]), axis=1)
    ties = int(np.sum(top[:, -1] == top[:, -2]))
    assert record["top_class_agreement"] >= 1 - (record["words_mismatching"] + ties) / 12, (
        record["words_mismatching"], ties, record["top_class_agreement"])
    kinds = " ".join(stage["what"] for stage in record["stages"])
    if model_cfg["kwinners"]:
        assert "scatter convolution" in kinds and "constant MVU" in kinds and "pairs out" in kinds
    assert "window generator" in kinds and "max pool" in kinds and "accumulators out" in kinds
    estimate = json.loads((compile_dir / "estimate.json").read_text())
    assert record["modelled_cycles_per_word"] == estimate["max_cycles"]
    # FINN's window generators and pools are modelled, ours are simulated: within 25 %, and never
    # faster than the slowest sparse unit allows
    assert 0.75 <= record["cycles_vs_model"] <= 1.25
    assert all(depth >= 2 for depth in record["fifo_depths"].values())
    # FIFOs of 2 words change the timing at most, never the logits
    assert record["fifos_of_2"]["outputs_equal"]
    assert record["fifos_of_2"]["cycles_per_word_mean"] >= record["cycles_per_word_mean"] - 1e-9
    assert record["words_per_second"] == pytest.approx(record["clock_mhz"] * 1e6 / record["cycles_per_word_mean"])
    # the build is cached: a second run reuses it
    assert len(list((tmp_path / "cache").iterdir())) == 1
    monkeypatch.setattr(netsim, "plumbing_cost", lambda *args: {"status": "not counted in this test"})
    again = simulate_compiled(compile_dir, {k: v[:4] for k, v in data.items()}, tmp_path / "work2", tmp_path / "cache")
    assert again["passed"] and len(list((tmp_path / "cache").iterdir())) == 1
    assert again["fit_with_plumbing"] == {"status": "no board file",
                                          "copies_per_chip_without": estimate["fit"]["networks_per_chip"]}
    # the full-chip design: its folding applied, its cycles modelled, its copies per chip
    chip = simulate_compiled(compile_dir, {k: v[:4] for k, v in data.items()}, tmp_path / "work3", tmp_path / "cache",
                             design="full_chip")
    assert chip["passed"] and chip["design"] == "full_chip"
    assert chip["modelled_cycles_per_word"] == estimate["full_chip"]["max_cycles"]
    assert chip["fit_with_plumbing"]["copies_per_chip_without"] == estimate["networks_per_chip"]
    with pytest.raises(netsim.NetworkUnsupported, match="design 'tiny' unknown"):
        simulate_compiled(compile_dir, data, tmp_path / "work4", tmp_path / "cache", design="tiny")
    # a model that does not fit its board is not simulated: its record says so, and gives no row
    estimate["fit"]["fits"] = False
    (compile_dir / "estimate.json").write_text(json.dumps(estimate))
    skipped = simulate_compiled(compile_dir, data, tmp_path / "work5", tmp_path / "cache", design="full_chip")
    assert not skipped["simulated"] and not skipped["passed"] and "not simulated" in skipped["reason"]


def test_expected_logits_are_the_qonnx_logits_over_the_host_scale():
    ints, off = expected_logits(np.array([[0.5, -1.25]]), 0.25)
    assert ints.tolist() == [[2, -5]] and off == 0.0
    assert expected_logits(np.array([[0.3]]), 0.25)[1] == pytest.approx(0.2)


def test_host_io_refuses_a_host_node_it_cannot_simulate():
    from onnx import TensorProto, helper
    from qonnx.core.modelwrapper import ModelWrapper

    from sparsekws.finn.network import NetworkUnsupported

    node = helper.make_node("Relu", ["a"], ["b"], name="Relu_0")
    graph = helper.make_graph([node], "g", [helper.make_tensor_value_info("a", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("b", TensorProto.FLOAT, [1])])
    with pytest.raises(NetworkUnsupported, match="Relu_0"):
        host_io(ModelWrapper(helper.make_model(graph)))
