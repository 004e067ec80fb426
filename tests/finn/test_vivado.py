"""The Vivado build command: refused clearly without Vivado; FINN configuration from a compile folder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sparsekws.cli import main
from sparsekws.core import environment
from sparsekws.core.environment import VIVADO_HANDOFF_MESSAGE as NO_VIVADO_MESSAGE
from sparsekws.core.errors import UserError
from sparsekws.finn import vivado as vivado_build
from sparsekws.finn.vivado import VivadoUnavailable, build_config
from support import BOARDS_DIR, board


def compile_folder(root, status="estimated"):
    """The files of a compile stage's output that the Vivado build reads."""
    (root / "finn" / "onnx").mkdir(parents=True)
    (root / "finn" / "onnx" / "hw_layers.onnx").write_bytes(b"graph")
    (root / "folding_config.json").write_text(json.dumps({"Defaults": {}, "MVAU_hls_0": {"PE": 2, "SIMD": 4}}))
    (root / "estimate.json").write_text(json.dumps({"status": status, "reason": "KWinners has no HW layer"}))
    return root


@pytest.fixture
def no_vivado(monkeypatch):
    monkeypatch.delenv("XILINX_VIVADO", raising=False)
    monkeypatch.setattr(environment.shutil, "which", lambda name: None)


def test_without_vivado_one_clear_message(no_vivado, tmp_path, capsys):
    with pytest.raises(VivadoUnavailable, match="XILINX_VIVADO not set"):
        vivado_build.vivado_build(compile_folder(tmp_path / "c"), board("zcu104"), tmp_path / "out")
    assert not (tmp_path / "out").exists()
    rc = main(["vivado-build", "--compile-dir", str(tmp_path / "c"), "--board-file", str(BOARDS_DIR / "zcu104.yaml"),
               "--out-dir", str(tmp_path / "out")])
    assert rc == 1
    err = capsys.readouterr().err
    assert NO_VIVADO_MESSAGE in err and "docs/vivado-handoff.md" in err and len(err.strip().splitlines()) == 1


def test_build_config_reuses_the_chosen_folding(tmp_path):
    folder = compile_folder(tmp_path / "c")
    fields = build_config(folder, board("zcu104"), tmp_path / "out")
    assert fields["folding_config_file"] == str(folder / "folding_config.json")
    assert fields["model_filename"] == str(folder / "finn" / "onnx" / "hw_layers.onnx")
    assert fields["shell_flow_type"] == "vivado_zynq" and fields["board"] == "ZCU104"
    assert fields["fpga_part"] == "xczu7ev-ffvc1156-2-e"
    assert fields["synth_clk_period_ns"] == pytest.approx(10.0)
    assert fields["steps"][0] == "step_create_dataflow_partition"
    assert "step_apply_folding_config" in fields["steps"] and "step_target_fps_parallelization" not in fields["steps"]
    assert fields["steps"][-1] == "step_deployment_package" and "bitfile" in fields["generate_outputs"]
    steps = fields["steps"]  # the sparse layers enter FINN's RTL domain right after FINN's own specialisation
    assert steps.index("step_specialize_sparse_layers") == steps.index("step_specialize_layers") + 1
    alveo = build_config(folder, board("u250"), tmp_path / "out", clock_mhz=250)
    assert alveo["shell_flow_type"] == "vitis_alveo" and alveo["synth_clk_period_ns"] == pytest.approx(4.0)


def test_build_config_refuses_missing_or_unmappable(tmp_path):
    with pytest.raises(UserError, match="run the compile stage"):
        build_config(tmp_path / "nothing", board("zcu104"), tmp_path / "out")
    folder = compile_folder(tmp_path / "c", status="not-mappable")
    with pytest.raises(UserError, match="not mappable .*KWinners"):
        build_config(folder, board("zcu104"), tmp_path / "out")


def test_record_tags_vivado_reports(monkeypatch, tmp_path):
    """With Vivado present the FINN builder's outputs are recorded; FINN's builder is replaced here
    by a stand-in that writes what it would (a bitfile, a deployment folder and a synthesis report)."""
    monkeypatch.setattr(vivado_build, "vivado_status", lambda: {"available": True, "path": "/opt/vivado",
                                                                "reason": "found"})
    calls = []

    def fake_finn(fields):
        calls.append(fields)
        out = Path(fields["output_dir"])
        (out / "bitfile").mkdir(parents=True)
        (out / "bitfile" / "finn-accel.bit").write_bytes(b"bit")
        (out / "deploy").mkdir()
        (out / "report").mkdir()
        (out / "report" / "post_synth_resources.json").write_text(json.dumps({"LUT": 1234}))
        return 0

    monkeypatch.setattr(vivado_build, "_run_finn", fake_finn)
    record = vivado_build.vivado_build(compile_folder(tmp_path / "c"), board("zcu104"), tmp_path / "out")
    assert calls and calls[0]["folding_config_file"].endswith("folding_config.json")
    assert record["status"] == "built" and record["deployment_package"] == "finn_build/deploy"
    assert record["bitstream"] == ["finn_build/bitfile/finn-accel.bit"]
    assert record["reports"]["post_synth_resources.json"] == {"source": "vivado", "values": {"LUT": 1234}}
    assert json.loads((tmp_path / "out" / "build.json").read_text())["status"] == "built"
