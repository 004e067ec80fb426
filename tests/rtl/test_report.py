"""``sparsekws rtl``: the per-model report (simulations skipped here; see test_rtl_sim.py)."""

import numpy as np
import pandas as pd
import pytest
import yaml
from support.fixtures import cnn_config

from sparsekws.cli import main
from sparsekws.core.errors import UserError
from sparsekws.rtl import calibration
from sparsekws.rtl import report as rtl_report
from sparsekws.rtl.report import rank_tables
from sparsekws.models.spec import model_spec
from sparsekws.rtl import layers as rtl_layers
from sparsekws.rtl.layers import TrainedKwta


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
                 "--yosys-table", str(_calibration(tmp_path / "cal.csv"))])
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
                 "--yosys-table", "x.csv", "--out-dir", str(tmp_path)]) == 1
    assert "--frames must be at least 3" in capsys.readouterr().err
    assert main(["rtl", "--config", "config/smoke.yaml", "--model", "sparse", "--qonnx", str(tmp_path / "x.onnx"),
                 "--yosys-table", "x.csv", "--out-dir", str(tmp_path)]) == 1
    assert "QONNX model not found" in capsys.readouterr().err


@pytest.mark.parametrize("model", ["nope"])
def test_unknown_model(model, tmp_path, capsys):
    assert main(["rtl", "--config", "config/smoke.yaml", "--model", model, "--no-sim", "--yosys-table", "x.csv",
                 "--out-dir", str(tmp_path)]) == 1


def _cnn_config(tmp_path):
    cfg = yaml.safe_load(open("config/smoke.yaml"))
    cfg["models"]["cnn"] = cnn_config()
    path = tmp_path / "cnn.yaml"
    path.write_text(yaml.safe_dump(cfg))
    return path


def test_kwta_layers_are_the_ranked_unit_with_the_grids_seeded_boost(tmp_path):
    out = tmp_path / "out"
    rows = [{"layer": "cnn_kwta_conv2", "kind": "kwta", "density": 0.1875, "rows": 8, "positions": 25, "active": 38,
             "bins": 121, "lut": 999, "ff": 99, "bram18": 1, "dsp": 0, "depth": 9, "method": "full"},
            {"layer": "cnn_kwta_conv1", "kind": "kwta", "density": 0.14, "rows": 8, "positions": 196, "active": 223,
             "lut": 1, "ff": 1, "bram18": 1, "dsp": 0, "depth": 1, "method": "full", "bins": 0}]  # old unit
    pd.DataFrame(rows).to_csv(tmp_path / "cal.csv", index=False)
    assert main(["rtl", "--config", str(_cnn_config(tmp_path)), "--model", "cnn", "--no-sim", "--out-dir", str(out),
                 "--yosys-table", str(tmp_path / "cal.csv")]) == 0
    kwta = pd.read_csv(out / "rtl_report.csv").query("unit == 'kwta'").set_index("layer")
    assert list(kwta.index) == ["cnn_kwta_conv1", "cnn_kwta_conv2", "cnn_kwta_fc"]
    assert kwta.rows.tolist() == [8, 8, 32] and kwta.positions.tolist() == [196, 25, 1]
    assert kwta.active.tolist() == [223, 38, 5] and kwta.simd.eq(calibration.KWTA_PE).all()
    assert kwta.bins.tolist() == [8 * 15 + 1, 8 * 15 + 1, 32 * 15 + 1]  # seeded boost: one rank per (c, level > 0)
    conv1 = kwta.loc["cnn_kwta_conv1"]
    assert conv1.cycles_model_frame == conv1.cycles_model_vector == 196 * 8 // 8  # load-bound: N = P*C/PE
    assert kwta.loc["cnn_kwta_conv2", "lut_yosys"] == 999
    assert "not in calibration table" in conv1.yosys_method  # a row of another unit is not compared
    assert kwta.sim_weights.str.startswith("seeded boost").all()


def test_trained_rank_tables_must_match_the_configured_layers():
    layers = [item for item in rtl_layers.model_layers(model_spec(cnn_config(), (1, 32, 32), 12)) if item.kwta]
    tables = [np.full((item.kwta[1], 16), i) for i, item in enumerate(layers)]
    trained = [TrainedKwta(item.kwta[1], item.positions, item.kwta[2], "global", table)
               for item, table in zip(layers, tables)]
    assert all(got is table for got, table in zip(rank_tables(layers, trained, "m.onnx"), tables, strict=True))
    seeded = rank_tables(layers, [], None)
    assert [t.shape for t in seeded] == [(8, 16), (8, 16), (32, 16)]
    with pytest.raises(UserError, match="2 k-WTA nodes"):
        rank_tables(layers, trained[:2], "m.onnx")
    with pytest.raises(UserError, match="k=7"):
        rank_tables(layers, trained[:2] + [TrainedKwta(32, 1, 7, "global", tables[2])], "m.onnx")
    with pytest.raises(UserError, match="mode 'local'"):
        rank_tables(layers, trained[:2] + [TrainedKwta(32, 1, 5, "local", tables[2])], "m.onnx")


def test_the_config_s_constant_and_scatter_units_are_reported_and_simulated(tmp_path):
    from sparsekws.rtl.sim import simulate
    from sparsekws.rtl.tools import ToolMissing, apply_verilator_env

    spec = model_spec(cnn_config(), (1, 32, 32), 12)
    layers = rtl_layers.model_layers(spec, {"0": "constant", 1: "scatter_conv"})
    conv1, conv2 = [item for item in layers if item.layer][:2]
    kwta1 = layers[layers.index(conv2) - 1]
    assert [kind for kind, _ in rtl_report.units(kwta1, feeds=conv2)] == ["kwta", "kwta_pairs"]
    pairs = rtl_report.units(kwta1, feeds=conv2)[-1][1]
    assert (pairs.height, pairs.width, pairs.channels, pairs.k, pairs.simd) == (14, 14, 8, 223, 1)
    assert (conv1.hw_mode, conv2.hw_mode, conv2.conv) == ("constant", "scatter_conv", (8, 14, 14, 5, 223))
    assert [kind for kind, _ in rtl_report.units(conv1)] == ["dense", "sparse", "constant"]
    kind, scatter = rtl_report.units(conv2)[-1]
    assert kind == "scatter_conv" and (scatter.pe, scatter.active, scatter.outputs) == (8, 223, 8)
    columns = rtl_report.unit_columns(kind, scatter, conv2.name)
    assert rtl_report.modelled(columns, 0)["cycles_model_vector"] == scatter.cycles() == 223
    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    rng = np.random.default_rng(0)
    table = rtl_report.kwta_entry(kwta1.name, 8, 196, 223)["rank_table"]
    for item, (kind, shape), weights in ((conv1, rtl_report.units(conv1)[-1], None), (conv2, (kind, scatter), None),
                                         (kwta1, ("kwta_pairs", pairs), table)):
        out = rtl_report._simulate(kind, shape, item.name, weights, False, rng, 3, tmp_path / kind, simulate, "")
        assert out["sim_status"] == "passed", out["sim_status"]
        assert out["sim_cycles"] == out["sim_cycles_model"] and out["sim_beats_checked"] > 0
