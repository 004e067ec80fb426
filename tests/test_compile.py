"""The ``compile`` command: FINN estimates of dense and sparse MLPs for two boards."""

from __future__ import annotations

import json

import pytest
from conftest import write_mlp_fixture

from sparsekws.cli import main
from sparsekws.config import REPO_ROOT, load_board, load_config
from sparsekws.errors import ConfigError
from sparsekws.hw.compile import compile_model

CONFIG = REPO_ROOT / "config" / "config.yaml"
BOARDS = ("zcu104", "pynq-z1")
LAYER_KEYS = {"name", "op_type", "PE", "SIMD", "cycles", "LUT", "BRAM_18K", "URAM", "DSP"}


@pytest.fixture(scope="module")
def cfg():
    return load_config(CONFIG)


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
        for board in BOARDS:
            folder = root / model / board
            compile_model(cfg, model, board, qonnx, ref, folder)
            out[model, board] = (json.loads((folder / "estimate.json").read_text()), folder)
    return out


def test_estimate_fields_and_positive_numbers(builds):
    for (model, board), (est, folder) in builds.items():
        board_cfg = load_board(board)
        assert est["model"] == model and est["board"] == board
        assert est["part"] == board_cfg["part"] and est["clock_mhz"] == board_cfg["clock_mhz"]
        assert est["estimator"] == "finn-estimate" and est["finn_plus_version"]
        assert est["layers"] and all(LAYER_KEYS <= set(layer) for layer in est["layers"])
        assert all(layer["cycles"] > 0 and layer["PE"] >= 1 and layer["SIMD"] >= 1 for layer in est["layers"])
        assert est["totals"]["LUT"] > 0 and est["totals"]["BRAM_18K"] >= 0
        assert est["max_cycles"] == max(layer["cycles"] for layer in est["layers"])
        assert est["fps"] == pytest.approx(board_cfg["clock_mhz"] * 1e6 / est["max_cycles"])
        assert est["latency"]["cycles"] == sum(layer["cycles"] for layer in est["layers"])
        assert est["latency"]["ms"] == pytest.approx(est["latency"]["cycles"] / (board_cfg["clock_mhz"] * 1e3))
        assert est["networks_per_chip"] == est["fit"]["networks_per_chip"] >= 1
        assert est["full_chip_fps"] == pytest.approx(est["networks_per_chip"] * est["fps"])
        assert est["dataflow_partitions"] == 1
        assert est["python_execution"]["passed"] is True
        assert est["provenance"]["config_hash"] and est["provenance"]["git_revision"]
        assert est["bitstream"] is None
        if not est["vivado"]["available"]:
            assert est["vivado"]["reason"].startswith("XILINX_VIVADO not set")
        assert (folder / "folding_config.json").is_file()
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


def test_boards_differ_in_clock_and_fit_only(builds):
    """Same clock (both 100 MHz) and folding target: FINN gives the same per-layer estimates."""
    zcu, _ = builds["dense", "zcu104"]
    pynq, _ = builds["dense", "pynq-z1"]
    assert [l["cycles"] for l in zcu["layers"]] == [l["cycles"] for l in pynq["layers"]]
    assert zcu["fit"]["available"] != pynq["fit"]["available"]
    assert zcu["networks_per_chip"] >= pynq["networks_per_chip"]


def test_sparsity_is_recorded_as_invisible_to_finn(builds):
    for board in BOARDS:
        dense, _ = builds["dense", board]
        sparse, _ = builds["sparse", board]
        assert [l["cycles"] for l in dense["layers"]] == [l["cycles"] for l in sparse["layers"]]
        assert sparse["sparsity"]["visible_to_finn"] is False
        assert "zero weights" in sparse["sparsity"]["note"]
        assert min(sparse["sparsity"]["weight_zero_fraction"].values()) > 0.85
        assert all(l["weight_zero_fraction"] > 0.85 for l in sparse["layers"])


def test_unknown_board_is_a_config_error(cfg, inputs, tmp_path):
    qonnx, ref = inputs["dense"]
    with pytest.raises(ConfigError, match="unknown board 'nosuchboard'"):
        compile_model(cfg, "dense", "nosuchboard", qonnx, ref, tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_cli_compile(inputs, tmp_path, capsys):
    qonnx, ref = inputs["sparse"]
    out = tmp_path / "cli"
    rc = main(["compile", "--config", str(CONFIG), "--model", "sparse", "--board", "pynq-z1",
               "--qonnx", str(qonnx), "--reference-io", str(ref), "--out-dir", str(out)])
    assert rc == 0
    assert json.loads((out / "estimate.json").read_text())["board"] == "pynq-z1"
    rc = main(["compile", "--config", str(CONFIG), "--model", "sparse", "--board", "nosuchboard",
               "--qonnx", str(qonnx), "--reference-io", str(ref), "--out-dir", str(tmp_path / "x")])
    assert rc == 1
    assert "unknown board 'nosuchboard'" in capsys.readouterr().err


def test_a_model_finn_cannot_build_is_recorded_not_fatal(cfg, tmp_path):
    """The sparse CNN's k-WTA has no FINN hardware layer: estimate.json says so, with no numbers."""
    import numpy as np
    import torch
    from conftest import cnn_config, warmed_up

    from sparsekws.export import export_qonnx_model
    from sparsekws.measure.collect import collect, collect_skipped
    from sparsekws.models.zoo import build_model

    model = warmed_up(build_model(cnn_config(), (1, 32, 32), 12, seed=3), (1, 32, 32))
    inputs = torch.randint(-128, 128, (4, 1, 32, 32), generator=torch.Generator().manual_seed(2)).float()
    with torch.no_grad():
        outputs = model(inputs)
    qonnx = tmp_path / "cnn.qonnx.onnx"
    export_qonnx_model(model, (1, 32, 32), 8, qonnx)
    np.savez(tmp_path / "ref.npz", inputs=inputs.numpy(), outputs=outputs.numpy())
    cfg = {**cfg, "models": {**cfg["models"], "cnn": cnn_config()}}

    record = compile_model(cfg, "cnn", "zcu104", qonnx, tmp_path / "ref.npz", tmp_path / "out")
    assert record["status"] == "not-mappable" and "KWinners" in record["reason"]
    assert "fps" not in record and record["bitstream"] is None
    estimate = tmp_path / "out" / "estimate.json"
    assert json.loads(estimate.read_text()) == record
    assert json.loads((tmp_path / "out" / "folding_config.json").read_text()) == {}
    assert collect([], [estimate]).empty
    skipped = collect_skipped([], [estimate])
    assert list(skipped[["model", "platform", "backend"]].iloc[0]) == ["cnn", "zcu104", "finn-estimate"]
    assert "KWinners" in skipped["reason"].iloc[0]
