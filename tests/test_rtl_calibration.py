"""Calibration grid, sparse folding, slice extrapolation, factor fit (Yosys replaced by a fake)."""

import dataclasses
import re

import pandas as pd
import pytest

from sparsekws.rtl import calibration, cycles
from sparsekws.rtl.calibration import LAYERS, sparse_shape


def test_sparse_folding_never_slower_than_dense():
    for layer in LAYERS:
        dense = cycles.dense_mvu(layer.shape())
        for density in calibration.DENSITIES:
            shape = sparse_shape(layer, density)
            assert shape.fan_in == round(density * layer.cols) and shape.bank_depth * shape.simd >= shape.fan_in
            assert (shape.pe, shape.simd) == (layer.pe, layer.simd)
            assert cycles.sparse_mvu(shape) <= dense


def test_grid_covers_every_layer_and_density_once():
    keys = [calibration._key(entry) for entry in calibration.grid()]
    assert len(keys) == len(set(keys)) == len(LAYERS) * (1 + len(calibration.DENSITIES)) + 1 + len(calibration.KWTA)
    assert keys[0] == "mlp_out|dense|1.0"


def test_pe_slices_extrapolate_linearly(monkeypatch, tmp_path):
    seen = []

    def fake(verilog, top, work_dir, family="xcup"):
        pe = len(re.findall(r"reg \[\d+:0\] wmem\d+ \[", verilog))  # weight memories = PEs
        seen.append(pe)
        return type("R", (), {"as_dict": lambda self: {"lut": 100 + 50 * pe, "lut_logic": 0, "lut_mem": 0,
                                                       "ff": 10 * pe, "bram18": 2 * pe, "uram": 0, "dsp": 0,
                                                       "carry": 0, "depth": 7, "seconds": 1.0}})()

    monkeypatch.setattr(calibration, "synthesize", fake)
    monkeypatch.setattr(calibration, "SLICE_LIMIT", 0)
    layer = dataclasses.replace(LAYERS[3], rows=32, cols=16, pe=8, simd=8)
    counts, method = calibration.synth_mvu("dense", layer.shape(), tmp_path)
    assert method == "pe-slices" and seen == [1, 2]
    assert counts["lut"] == 100 + 50 * 8 and counts["bram18"] == 16 and counts["seconds"] == 2.0


def test_large_pe_slices_are_cut_in_neuron_folds_and_extrapolated_bilinearly(monkeypatch, tmp_path):
    seen = []

    def fake(verilog, top, work_dir, family="xcup"):
        pe = len(re.findall(r"reg \[\d+:0\] wmem\d+ \[", verilog))
        nf = int(re.search(r"_(\d+)x", top).group(1)) // pe
        seen.append((pe, nf))
        counts = {"lut": 100 + 50 * pe, "lut_logic": 0, "lut_mem": 0, "ff": 10 * pe, "bram18": 3 * pe * nf,
                  "uram": 0, "dsp": 0, "carry": 0, "depth": 7, "seconds": 1.0}
        return type("R", (), {"as_dict": lambda self: counts})()

    monkeypatch.setattr(calibration, "synthesize", fake)
    monkeypatch.setattr(calibration, "SLICE_LIMIT", 0)
    monkeypatch.setattr(calibration, "NF_SLICE_WORDS", 40)  # 4 words per fold -> NF' = 5 and 10
    layer = dataclasses.replace(LAYERS[3], rows=8 * 50, cols=32, pe=8, simd=8)  # NF = 50
    counts, method = calibration.synth_mvu("dense", layer.shape(), tmp_path)
    assert method == "pe-nf-slices" and seen == [(1, 5), (1, 10), (2, 5), (2, 10)]
    assert counts["lut"] == 100 + 50 * 8 and counts["ff"] == 80
    assert counts["bram18"] == 3 * 8 * 50 and counts["seconds"] == 4.0


def test_run_resumes_and_writes_rows(monkeypatch, tmp_path):
    def fake_mvu(kind, shape, work, seed=0):
        return dict.fromkeys(calibration.METRICS, 1) | {"depth": 3, "seconds": 0.5}, "full"

    monkeypatch.setattr(calibration, "synth_mvu", fake_mvu)
    monkeypatch.setattr(calibration, "yosys_version", lambda: "Yosys test")
    out = tmp_path / "cal.csv"
    table = calibration.run(out, tmp_path / "w", only="mlp_hidden", log=lambda m: None)
    assert len(table) == 1 + len(calibration.DENSITIES)
    assert set(pd.read_csv(out).kind) == {"dense", "sparse"}
    again = calibration.run(out, tmp_path / "w", only="mlp_hidden", log=lambda m: None)
    assert len(again) == len(table)


def _table_from_model(scale_dense: float, scale_sparse: float) -> pd.DataFrame:
    """Rows whose 'Yosys' counts are the model's times a scale per kind."""
    rows = []
    for entry in calibration.grid()[:6]:
        row = calibration.describe(entry) | {"dsp": 0}
        raw = calibration.model_unit(row).resources()
        scale = scale_dense if row["kind"] == "dense" else scale_sparse
        rows.append(row | {"lut": raw["LUT"] * scale, "ff": raw["FF"] * scale})
    return pd.DataFrame(rows)


def test_factors_are_the_sparse_bias_relative_to_the_dense_one():
    factors = calibration.fit_factors(_table_from_model(2.0, 3.0))
    assert factors == {"sparse_weights": {"LUT": 1.5, "FF": 1.5}}
    with pytest.raises(ValueError, match="no dense units"):
        calibration.fit_factors(_table_from_model(2.0, 3.0).query("kind != 'dense'"))


def test_committed_factors_are_fitted_from_the_committed_table():
    import json

    from sparsekws.hw.sparse_ops import constants

    table = pd.read_csv(calibration.CALIBRATION_CSV)
    assert calibration.FACTORS_JSON == constants.CALIBRATION_FILE
    committed = json.loads(constants.CALIBRATION_FILE.read_text())
    assert committed["factors"] == calibration.fit_factors(table)  # regenerate both with scripts/rtl_calibrate.py
    assert constants.FACTORS == committed["factors"] and constants.CALIBRATION == committed["source"]


def test_a_unit_that_times_out_is_left_for_a_later_run(monkeypatch, tmp_path):
    from sparsekws.rtl.synth import SynthTimeout

    def slow(kind, shape, work, seed=0):
        if kind == "dense":
            raise SynthTimeout("yosys did not finish")
        return dict.fromkeys(calibration.METRICS, 1) | {"depth": 3, "seconds": 0.5}, "full"

    monkeypatch.setattr(calibration, "synth_mvu", slow)
    monkeypatch.setattr(calibration, "yosys_version", lambda: "Yosys test")
    messages = []
    table = calibration.run(tmp_path / "cal.csv", tmp_path / "w", only="mlp_hidden", log=messages.append)
    assert set(table.kind) == {"sparse"} and any(m.startswith("skipped mlp_hidden|dense") for m in messages)
