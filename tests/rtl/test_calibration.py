"""Calibration grid, sparse folding, slice extrapolation, factor fit (Yosys replaced by a fake)."""

import dataclasses
import math
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
    scatter = sum(len(item[-1]) + len(set(item[-1]) & set(calibration.SCATTER_LUT_PES)) for item in calibration.SCATTER)
    assert len(keys) == len(set(keys)) == (len(LAYERS) * (1 + len(calibration.DENSITIES)) + 1 + len(calibration.KWTA)
                                           + scatter + len(calibration.CONSTANT)
                                           + sum(len(item[-1]) for item in calibration.PAIRS))
    assert keys[0] == "mlp_out|dense|1"
    assert calibration._key({"layer": "a", "kind": "kwta", "density": 1788 / 12544}) == calibration._key(
        {"layer": "a", "kind": "kwta", "density": 0.1425382653061224})  # as read back from the CSV


def test_kwta_rows_are_the_ranked_unit_at_the_cnn_shapes_with_a_trained_like_boost():
    entries = {entry["layer"]: entry for entry in calibration.grid() if entry["kind"] == "kwta"}
    shapes = {name: (e["shape"].channels, e["shape"].positions, e["shape"].k, e["shape"].simd, e["shape"].bits)
              for name, e in entries.items()}
    assert shapes == {"cnn_kwta_conv1": (64, 196, 1788, 8, 4), "cnn_kwta_conv2": (64, 25, 300, 8, 4),
                      "cnn_kwta_fc": (1000, 1, 150, 8, 4)}
    for entry in entries.values():
        shape, table = entry["shape"], entry["rank_table"]
        assert table.shape == (shape.channels, 16) and shape.bins == table.max() + 1
        assert shape.bins > 0.95 * (shape.channels * 15 + 1)  # boost: nearly one rank per (channel, level > 0)
        row = calibration.describe(entry)
        assert (row["rows"], row["positions"], row["bins"], row["active"]) == (
            shape.channels, shape.positions, shape.bins, shape.k)
        unit = calibration.model_unit(row)
        assert (unit.channels, unit.positions, unit.pe, unit.k, unit.bins, unit.rank_table) == (
            shape.channels, shape.positions, 8, shape.k, shape.bins, True)
        assert unit.cycles() == math.ceil(cycles.ranked_kwta(shape)) == math.ceil(row["cycles_model"])
    target = 0.1
    boost = calibration.kwta_boost(1000, target)
    assert (boost == calibration.kwta_boost(1000, target)).all() and len(set(boost.tolist())) > 990
    beta = calibration.KWTA_BOOST_STRENGTH
    assert boost.min() >= math.exp(-target * beta) - 1e-6 and boost.max() <= math.exp(target * beta) + 1e-6


def test_rows_written_before_the_kwta_columns_still_rebuild_their_unit():
    old = {"layer": "cnn_kwta_fc", "kind": "kwta", "rows": 1000, "simd": 8, "abits": 4, "active": 150,
           "positions": float("nan"), "bins": float("nan")}
    for row in (old, {key: value for key, value in old.items() if key not in ("positions", "bins")}):
        unit = calibration.model_unit(row)
        assert (unit.positions, unit.score_bins, unit.rank_table) == (1, 0, False)


def test_run_synthesises_the_ranked_kwta_unit_and_its_pairs_packer(monkeypatch, tmp_path):
    seen = []

    def fake(verilog, top, work_dir, family="xcup"):
        seen.append((top, verilog))
        return type("R", (), {"as_dict": lambda self: dict.fromkeys(calibration.METRICS, 1) | {
            "depth": 3, "seconds": 0.5}})()

    monkeypatch.setattr(calibration, "synthesize", fake)
    monkeypatch.setattr(calibration, "yosys_version", lambda: "Yosys test")
    monkeypatch.setattr(calibration, "KWTA", (("cnn_kwta_small", 16, 4, 9),))
    monkeypatch.setattr(calibration, "PAIRS", (("cnn_kwta_small", 16, 2, 9, ((8, 3),)),))
    table = calibration.run(tmp_path / "cal.csv", tmp_path / "w", only="cnn_kwta", log=lambda m: None)
    (top, verilog), (packer_top, packer) = seen
    assert top == "ranked_kwta_4x16_k9" and "ranked k-WTA 2-D 4x16 k=9 SIMD=8" in verilog
    assert packer_top == "kwta_pairs_2x2x16_pe8_s3" and f"module {packer_top}" in packer
    rows = pd.read_csv(tmp_path / "cal.csv")
    row = rows.iloc[0]
    assert len(table) == 2 and (row.kind, row.rows, row.cols, row.positions, row.simd) == ("kwta", 16, 64, 4, 8)
    assert row.bins > 16 and row.method == "full"
    unit = calibration.model_unit(rows.iloc[1].to_dict())  # the packer's row rebuilds its cost unit
    assert (unit.shape.pe, unit.shape.simd, unit.shape.k, unit.shape.height) == (8, 3, 9, 2)
    assert unit.calibration_kind == "kwta_pairs" and unit.cycles() == rows.iloc[1].cycles_model == 64 // 8


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

    from sparsekws.units import calibration as in_force
    from support import CALIBRATION_FACTORS, YOSYS_TABLE

    table = pd.read_csv(YOSYS_TABLE)
    committed = json.loads(CALIBRATION_FACTORS.read_text())
    assert committed["factors"] == calibration.fit_factors(table)  # regenerate both with scripts/rtl_calibrate.py
    try:
        in_force.use_file(CALIBRATION_FACTORS)
        assert in_force.factors() == committed["factors"] and in_force.source() == committed["source"]
    finally:
        in_force.reset()


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


def test_scatter_rows_are_conv2_with_complementary_weights_and_rebuild_their_unit(monkeypatch, tmp_path):
    entries = [entry for entry in calibration.grid() if entry["kind"] == "scatter_conv"]
    assert [(e["layer"], e["shape"].pe, e["shape"].bank_depth, e["shape"].res_type) for e in entries] == [
        ("cnn_conv2", 16, 1, "dsp"), ("cnn_conv2", 8, 2, "dsp"), ("cnn_conv2", 8, 2, "lut")]
    weights = entries[0]["weights"]
    assert weights.shape == (64, 64, 5, 5) and ((weights != 0).reshape(64, -1).sum(axis=1) == 320).all()
    seen = []

    def fake(verilog, top, work_dir, family="xcup", dsp=True):
        seen.append((top, dsp))
        return type("R", (), {"as_dict": lambda self: dict.fromkeys(calibration.METRICS, 1) | {
            "dsp": int(dsp), "depth": 3, "seconds": 0.5}})()

    monkeypatch.setattr(calibration, "synthesize", fake)
    monkeypatch.setattr(calibration, "yosys_version", lambda: "Yosys test")
    monkeypatch.setattr(calibration, "SCATTER", (("cnn_small", 4, 6, 3, 8, 6, 0.12, (4,)),))
    monkeypatch.setattr(calibration, "SCATTER_LUT_PES", (4,))
    calibration.run(tmp_path / "cal.csv", tmp_path / "w", only="cnn_small", log=lambda m: None)
    assert seen == [("scatter_conv_cnn_small_pe4_dsp", True), ("scatter_conv_cnn_small_pe4_lut", False)]
    rows = pd.read_csv(tmp_path / "cal.csv").to_dict("records")
    small = [entry["shape"] for entry in calibration.scatter_entries("cnn_small", 4, 6, 3, 8, 6, 0.12, (4,))]
    units = [calibration.model_unit(row) for row in rows]
    assert units == small and all(row["cycles_model"] == unit.cycles() for row, unit in zip(rows, units))
    assert [unit.calibration_kind for unit in units] == ["scatter_conv", "scatter_conv_lut"]
    assert len({calibration._key(row) for row in rows}) == 2  # resumable: the two rows have their own keys


def test_constant_rows_are_the_fully_parallel_layer_and_rebuild_their_unit():
    entry, = [entry for entry in calibration.grid() if entry["kind"] == "constant"]
    shape = entry["shape"]
    assert (entry["layer"], shape.pe, shape.simd, shape.fan_in) == ("cnn_conv1", 64, 25, 12)
    row = calibration.describe(entry)
    unit = calibration.model_unit(row)
    assert row["terms"] == unit.terms > 64 * 12 // 2 and row["cycles_model"] == 1
    assert unit.calibration_kind == "constant" and unit.input_signed and unit.acc_bits == shape.acc_bits
