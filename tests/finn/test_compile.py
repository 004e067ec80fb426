"""The ``compile`` command: FINN estimates of dense and sparse MLPs for two boards."""

from __future__ import annotations

import json

import pytest
from support.fixtures import mlp_config, write_mlp_fixture

from sparsekws.cli import main
from sparsekws.core.errors import ConfigError
from sparsekws.finn import compile as finn_compile
from sparsekws.finn.fit import FitError
from support import BOARDS_DIR, CONFIG_DIR, board, named_config

CONFIG = CONFIG_DIR / "config.yaml"
BOARDS = ("zcu104", "pynq-z1")
LAYER_KEYS = {"name", "op_type", "PE", "SIMD", "cycles", "LUT", "BRAM_18K", "URAM", "DSP"}


def compile_model(cfg, model, board_name, qonnx, ref, out, folding_config=None):
    """``finn.compile.compile_model`` for a model of ``cfg`` on a board of config/boards."""
    return finn_compile.compile_model(model, cfg["models"][model], cfg["compile"], board(board_name), qonnx, ref, out,
                                      folding_config=folding_config)


@pytest.fixture(scope="module")
def cfg():
    """The default config with its MLP entries shrunk to the fixtures' topology (two hidden layers of 32)."""
    cfg = named_config("config.yaml")
    return {**cfg, "models": {**cfg["models"], "dense": mlp_config(1.0), "sparse": mlp_config(0.1)}}


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    root = tmp_path_factory.mktemp("compile_inputs")
    return {"dense": write_mlp_fixture(root / "dense", 1.0), "sparse": write_mlp_fixture(root / "sparse", 0.1)}


@pytest.fixture(scope="module")
def builds(cfg, inputs, tmp_path_factory):
    """estimate.json records and output folders per (model, board)."""
    root = tmp_path_factory.mktemp("compile_out")
    out = {}
    for model in ("dense", "sparse"):
        qonnx, ref = inputs[model]
        for board_name in BOARDS:
            folder = root / model / board_name
            compile_model(cfg, model, board_name, qonnx, ref, folder)
            out[model, board_name] = (json.loads((folder / "estimate.json").read_text()), folder)
    return out


def test_estimate_fields_and_positive_numbers(builds):
    for (model, board_name), (est, folder) in builds.items():
        board_cfg = board(board_name)
        assert est["model"] == model and est["board"] == board_name
        assert est["part"] == board_cfg["part"] and est["clock_mhz"] == board_cfg["clock_mhz"]
        assert est["estimator"] == "+".join(sorted({layer["estimator"] for layer in est["layers"]}))
        assert set(est["estimator"].split("+")) <= {"finn-estimate", "sparsekws-model"} and est["finn_plus_version"]
        assert est["layers"] and all(LAYER_KEYS <= set(layer) for layer in est["layers"])
        assert all(layer["cycles"] > 0 and layer["PE"] >= 1 and layer["SIMD"] >= 1 for layer in est["layers"])
        assert est["totals"]["LUT"] > 0 and est["totals"]["BRAM_18K"] >= 0
        assert est["max_cycles"] == max(layer["cycles"] for layer in est["layers"])
        assert est["fps"] == pytest.approx(board_cfg["clock_mhz"] * 1e6 / est["max_cycles"])
        assert est["latency"]["cycles"] == sum(layer["cycles"] for layer in est["layers"])
        assert est["latency"]["ms"] == pytest.approx(est["latency"]["cycles"] / (board_cfg["clock_mhz"] * 1e3))
        full = est["full_chip"]  # the search's full-chip design: at least as many words/s as copies of the fastest
        assert est["networks_per_chip"] == full["networks_per_chip"] >= est["fit"]["networks_per_chip"] >= 1
        assert est["full_chip_fps"] == pytest.approx(full["networks_per_chip"] * full["fps"])
        assert est["full_chip_fps"] >= est["fit"]["networks_per_chip"] * est["fps"] * (1 - 1e-12)
        assert full["max_cycles"] >= est["max_cycles"]
        assert [r["name"] for r in full["regions"]] == ["chip"]  # no floorplan in these board files
        assert full["regions"][0]["copies"] == full["networks_per_chip"]
        assert est["dataflow_partitions"] == 1
        assert est["python_execution"]["passed"] is True
        assert est["provenance"]["config_hash"] and est["provenance"]["git_revision"]
        assert est["bitstream"] is None
        if not est["vivado"]["available"]:
            assert est["vivado"]["reason"].startswith("XILINX_VIVADO not set")
        assert (folder / "folding_config.json").is_file()
        full_folding = json.loads((folder / "folding_config_full_chip.json").read_text())
        assert {k: v for k, v in full_folding.items() if k != "Defaults"} == full["folding"]
        assert (folder / "finn" / "report" / "estimate_layer_cycles.json").is_file()
        assert not list(folder.parent.glob(".*.tmp"))  # atomic: no staging folder left


def test_folding_config_matches_layers(builds):
    est, folder = builds["dense", "zcu104"]
    folding = json.loads((folder / "folding_config.json").read_text())
    assert "Defaults" in folding
    for layer in est["layers"]:
        assert folding[layer["name"]]["PE"] == layer["PE"]
        assert folding[layer["name"]]["SIMD"] == layer["SIMD"]


def test_folding_config_file_reproduces_estimates(cfg, inputs, builds, tmp_path):
    est, folder = builds["dense", "zcu104"]
    qonnx, ref = inputs["dense"]
    again = compile_model(cfg, "dense", "zcu104", qonnx, ref, tmp_path / "out",
                          folding_config=folder / "folding_config.json")
    assert again["folding"]["method"] == "folding_config"
    assert [(l["PE"], l["SIMD"], l["cycles"]) for l in again["layers"]] == \
           [(l["PE"], l["SIMD"], l["cycles"]) for l in est["layers"]]


def test_search_gives_each_board_its_fastest_fitting_folding(builds):
    for model in ("dense", "sparse"):
        zcu, _ = builds[model, "zcu104"]
        pynq, _ = builds[model, "pynq-z1"]
        assert zcu["folding"]["method"] == "search" and zcu["folding"]["chosen_from"] == "tuned"
        assert zcu["fit"]["fits"] and pynq["fit"]["fits"]
        assert zcu["max_cycles"] <= pynq["max_cycles"]  # the larger chip allows at least as much parallelism
        for est in (zcu, pynq):
            stock, tuned = est["stock"], est["tuned"]
            assert stock["estimator"] == tuned["estimator"] == "sparsekws-model"
            assert stock["settings"]["name"] == "stock" and tuned["settings"]["name"] == "tuned"
            assert tuned["max_cycles"] == est["max_cycles"] <= stock["max_cycles"]
            assert tuned["fps"] == pytest.approx(est["fps"])
            for section in (stock, tuned):  # the full-chip design beats copies of every fitting candidate
                full = section["full_chip"]
                assert section["full_chip_fps"] == pytest.approx(full["networks_per_chip"] * full["fps"])
                assert section["full_chip_fps"] >= section["copies_of_fastest"] * section["fps"] * (1 - 1e-12)
                clock = est["clock_mhz"] * 1e6
                assert all(section["full_chip_fps"] >= c["networks_per_chip"] * clock / c["max_cycles"] * (1 - 1e-12)
                           for c in section["candidates"] if c["fits"])
            assert {l["name"]: l["PE"] for l in est["layers"]} == {k: v["PE"] for k, v in tuned["folding"].items()}
            # every candidate the search kept is either within the budget or marked as refused / not fitting
            assert all(c["fits"] or c["refused"] or c["networks_per_chip"] == 0 for c in tuned["candidates"])


def test_same_folding_gives_same_layer_estimates_on_both_boards(cfg, inputs, builds, tmp_path):
    """FINN's layer estimates depend on shape and folding, not on the board (same 100 MHz clock)."""
    pynq, folder = builds["dense", "pynq-z1"]
    qonnx, ref = inputs["dense"]
    zcu = compile_model(cfg, "dense", "zcu104", qonnx, ref, tmp_path / "out",
                        folding_config=folder / "folding_config.json")
    assert [(l["cycles"], l["LUT"], l["BRAM_18K"]) for l in zcu["layers"]] == \
           [(l["cycles"], l["LUT"], l["BRAM_18K"]) for l in pynq["layers"]]
    assert zcu["fit"]["available"] != pynq["fit"]["available"]
    assert zcu["networks_per_chip"] >= pynq["networks_per_chip"]
    assert zcu["stock"] is None and zcu["folding"]["method"] == "folding_config"


def test_given_folding_over_budget_is_refused_naming_binding_resource(cfg, inputs, builds, tmp_path):
    est, folder = builds["dense", "zcu104"]
    qonnx, ref = inputs["dense"]
    tight = {**cfg, "compile": {**cfg["compile"], "budget": 0.001}}
    with pytest.raises(FitError, match=r"does NOT fit pynq-z1 .* binding resource LUT"):
        compile_model(tight, "dense", "pynq-z1", qonnx, ref, tmp_path / "out",
                      folding_config=folder / "folding_config.json")
    assert not (tmp_path / "out").exists()


def test_sparse_layers_are_tagged_with_their_estimator(builds):
    """FINN's MVAU ignores zero weights; the project's sparse layers carry their own cost model."""
    for board_name in BOARDS:
        dense, _ = builds["dense", board_name]
        sparse, _ = builds["sparse", board_name]
        assert dense["sparsity"]["sparse_hw_layers"] == [] and dense["estimator"] == "finn-estimate"
        assert min(sparse["sparsity"]["weight_zero_fraction"].values()) > 0.85
        own = set(sparse["sparsity"]["sparse_hw_layers"])
        for layer in sparse["layers"]:
            assert layer["estimator"] == ("sparsekws-model" if layer["name"] in own else "finn-estimate")
        if sparse["sparsity"]["sparse_hw_pass"]:
            assert own and "sparsekws-model" in sparse["estimator"] and "cost model" in sparse["sparsity"]["note"]
        else:
            assert not own and "zero weights" in sparse["sparsity"]["note"]


def test_unknown_board_is_a_config_error(cfg, inputs, tmp_path):
    with pytest.raises(ConfigError, match="board file not found"):
        board("nosuchboard")


def test_cli_compile(inputs, tmp_path, capsys):
    from support import CALIBRATION_FACTORS
    from sparsekws.units import calibration

    qonnx, ref = inputs["sparse"]
    out = tmp_path / "cli"
    settings = json.dumps({"compile": named_config("config.yaml")["compile"], "models": {"sparse": mlp_config(0.1)}})
    try:
        rc = main(["compile", "--settings", settings, "--model", "sparse", "--board-file",
                   str(BOARDS_DIR / "pynq-z1.yaml"), "--calibration", str(CALIBRATION_FACTORS),
                   "--qonnx", str(qonnx), "--reference-io", str(ref), "--out-dir", str(out)])
        assert rc == 0
        estimate = json.loads((out / "estimate.json").read_text())
        assert estimate["board"] == "pynq-z1"
        assert estimate["resource_calibration"]["calibrated"] and calibration.factors()
    finally:
        calibration.reset()
    rc = main(["compile", "--settings", settings, "--model", "sparse", "--board-file", str(BOARDS_DIR / "nope.yaml"),
               "--qonnx", str(qonnx), "--reference-io", str(ref), "--out-dir", str(tmp_path / "x")])
    assert rc == 1
    assert "board file not found" in capsys.readouterr().err


def test_a_model_that_cannot_map_is_recorded_not_fatal(cfg, tmp_path, monkeypatch):
    """Without the project's sparse HW layers a k-WTA has no hardware layer: estimate.json says so."""
    from support.fixtures import cnn_config, write_cnn_fixture

    from sparsekws.finn import build
    from sparsekws.measure.collect import collect, collect_skipped

    qonnx, ref = write_cnn_fixture(tmp_path / "in", cnn_config())
    cfg = {**cfg, "models": {**cfg["models"], "cnn": cnn_config()}}
    from finn.transformation.streamline import Streamline

    # as if the project had no sparse HW layers: FINN's streamlining and conversion only
    monkeypatch.setattr(build, "streamline_with_kwinners", lambda model: model.transform(Streamline()))
    monkeypatch.setattr(build, "_sparse_hw_pass", lambda model, model_cfg: (model, False))

    record = compile_model(cfg, "cnn", "zcu104", qonnx, ref, tmp_path / "out")
    assert record["status"] == "not-mappable" and "KWinners" in record["reason"]
    assert "fps" not in record and record["bitstream"] is None
    estimate = tmp_path / "out" / "estimate.json"
    assert json.loads(estimate.read_text()) == record
    assert json.loads((tmp_path / "out" / "folding_config.json").read_text()) == {}
    assert collect([], [estimate]).empty
    skipped = collect_skipped([], [estimate])
    assert list(skipped[["model", "platform", "backend"]].iloc[0]) == ["cnn", "zcu104", "finn-estimate"]
    assert "KWinners" in skipped["reason"].iloc[0]


def test_dense_cnn_compiles_with_stock_and_tuned_results(cfg, tmp_path):
    from support.fixtures import dense_cnn_config, write_cnn_fixture

    qonnx, ref = write_cnn_fixture(tmp_path / "in", dense_cnn_config())
    cfg = {**cfg, "models": {**cfg["models"], "cnn": dense_cnn_config()}}
    est = compile_model(cfg, "cnn", "ultra96", qonnx, ref, tmp_path / "out")
    assert est["status"] == "estimated" and est["estimator"] == "finn-estimate"
    assert est["python_execution"]["passed"] and est["dataflow_partitions"] == 1
    assert {n["op_type"] for n in est["host_nodes"]} == {"Transpose", "Mul"}
    assert est["fit"]["fits"] and est["networks_per_chip"] >= 1
    assert est["tuned"]["max_cycles"] <= est["stock"]["max_cycles"]
    assert est["full_chip_fps"] == pytest.approx(est["networks_per_chip"] * est["full_chip"]["fps"])
    assert json.loads((tmp_path / "out" / "estimate.json").read_text())["tuned"]["fps"] == est["tuned"]["fps"]


def test_sparse_cnn_with_kwinners_compiles_to_one_partition(cfg, tmp_path):
    """With the project's sparse HW layers the k-WTA CNN maps to one accelerator and verifies."""
    from support.fixtures import cnn_config, write_cnn_fixture

    qonnx, ref = write_cnn_fixture(tmp_path / "in", cnn_config())
    cfg = {**cfg, "models": {**cfg["models"], "cnn": cnn_config()}}
    est = compile_model(cfg, "cnn", "zcu104", qonnx, ref, tmp_path / "out")
    assert est["status"] == "estimated" and est["dataflow_partitions"] == 1
    assert {n["op_type"] for n in est["host_nodes"]} == {"Transpose", "Mul"}
    assert est["python_execution"]["top_classes_agree"]
    own = [l for l in est["layers"] if l["estimator"] == "sparsekws-model"]
    assert own and set(est["sparsity"]["sparse_hw_layers"]) == {l["name"] for l in own}
    assert est["estimator"] == "finn-estimate+sparsekws-model"
    assert est["tuned"]["fits"] and est["networks_per_chip"] >= 1
