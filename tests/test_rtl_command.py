"""``sparsekws rtl``: the per-model report (simulations skipped here; see test_rtl_sim.py)."""

import pandas as pd
import pytest

from sparsekws.cli import main


def _calibration(path):
    rows = [{"layer": "mlp_out", "kind": "dense", "density": 1.0, "lut": 2106, "ff": 215, "bram18": 0, "dsp": 0,
             "depth": 25, "method": "full"},
            {"layer": "mlp_out", "kind": "sparse", "density": 0.25, "lut": 900, "ff": 300, "bram18": 0, "dsp": 0,
             "depth": 20, "method": "full"}]
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def test_report_without_simulation(tmp_path):
    out = tmp_path / "out"
    code = main(["rtl", "--config", "config/smoke.yaml", "--model", "sparse", "--no-sim", "--out-dir", str(out),
                 "--calibration", str(_calibration(tmp_path / "cal.csv"))])
    assert code == 0
    table = pd.read_csv(out / "rtl_report.csv")
    assert list(table.layer) == ["mlp_in", "mlp_in", "mlp_hidden", "mlp_hidden", "mlp_hidden", "mlp_hidden",
                                 "mlp_out", "mlp_out"]
    assert list(table.unit[:2]) == ["dense", "sparse"]
    out_rows = table[table.layer == "mlp_out"].set_index("unit")
    assert out_rows.loc["dense", "lut_yosys"] == 2106 and out_rows.loc["sparse", "lut_yosys"] == 900
    assert table.sim_status.str.startswith("skipped").all()
    assert table.loc[0, "cycles_model_vector"] == (64 // 8) * (490 // 7)  # FINN's NF x SF
    sparse = table.loc[1]
    assert sparse.cycles_model_vector == max((64 // 8) * sparse.bank_depth, 490 // 7) < table.loc[0, "cycles_model_vector"]
    assert table.lut_model.gt(0).all() and table.ff_model.gt(0).all()
    assert "not in calibration table" in table.loc[0, "yosys_method"]
    assert (out / "rtl_report.json").is_file()


def test_bad_arguments_are_one_line_errors(tmp_path, capsys):
    assert main(["rtl", "--config", "config/smoke.yaml", "--model", "sparse", "--no-sim", "--frames", "2",
                 "--out-dir", str(tmp_path)]) == 1
    assert "--frames must be at least 3" in capsys.readouterr().err
    assert main(["rtl", "--config", "config/smoke.yaml", "--model", "sparse", "--qonnx", str(tmp_path / "x.onnx"),
                 "--out-dir", str(tmp_path)]) == 1
    assert "QONNX model not found" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["nope"])
def test_unknown_model(model, tmp_path, capsys):
    assert main(["rtl", "--config", "config/smoke.yaml", "--model", model, "--no-sim", "--out-dir", str(tmp_path)]) == 1
