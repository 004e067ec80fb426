import math

import pandas as pd

from sparsekws.core.files import write_csv, write_json
from sparsekws.measure import RECORD_COLUMNS, SKIPPED_COLUMNS
from sparsekws.measure.collect import collect, collect_skipped, estimate_records


def estimate(model="sparse", board="zcu104", copies=3):
    return {"model": model, "board": board, "part": "xczu7ev-ffvc1156-2-e", "clock_mhz": 100.0,
            "estimator": "finn-estimate", "fps": 25000.0, "latency": {"cycles": 10000, "ms": 0.1},
            "networks_per_chip": copies, "full_chip_fps": 25000.0 * copies,
            "provenance": {"config_hash": "abc", "git_revision": "def"}}


def test_estimate_rows_are_labelled_estimated():
    rows = estimate_records(estimate())
    assert [r["scope"] for r in rows] == ["single network", "full chip"]
    assert all(r["source"] == "estimated" and "finn-estimate" in r["method"] for r in rows)
    assert rows[1]["networks"] == 3 and rows[1]["throughput_words_per_s"] == 75000.0
    assert all(math.isnan(r["power_w"]) for r in rows)
    assert rows[0]["latency_p50_ms"] == rows[1]["latency_p50_ms"] == 0.1


def test_the_full_chip_row_is_the_full_chip_design():
    full_chip = {"fps": 20000.0, "networks_per_chip": 5, "latency": {"cycles": 12000, "ms": 0.12}}
    rows = estimate_records({**estimate(), "networks_per_chip": 5, "full_chip_fps": 100000.0, "full_chip": full_chip})
    assert rows[0]["throughput_words_per_s"] == 25000.0 and rows[0]["latency_p99_ms"] == 0.1
    assert rows[1]["networks"] == 5 and rows[1]["throughput_words_per_s"] == 100000.0
    assert rows[1]["latency_p99_ms"] == 0.12


def test_a_design_that_does_not_fit_is_skipped_with_the_binding_resource():
    from sparsekws.measure.backends.finn_estimate import skipped_estimates

    assert estimate_records(estimate(copies=0)) == []
    too_big = {**estimate(copies=0), "fit": {"fits": False, "budget": {"BRAM36": 0.8}, "binding_resource": "BRAM36"}}
    assert estimate_records(too_big) == []
    [row] = skipped_estimates(too_big)
    assert "does" not in row["reason"] and "80%" in row["reason"] and "BRAM36" in row["reason"]
    assert skipped_estimates(estimate()) == []


def test_collect_keeps_measured_and_estimated_apart(tmp_path):
    measured = pd.DataFrame([{c: None for c in RECORD_COLUMNS} | {
        "model": "dense", "platform": "cpu", "scope": "single network", "batch_size": 1,
        "throughput_words_per_s": 1000.0, "source": "measured", "method": "onnxruntime"}], columns=RECORD_COLUMNS)
    write_csv(tmp_path / "cpu.csv", measured)
    write_json(tmp_path / "e.json", estimate())
    table = collect([tmp_path / "cpu.csv"], [tmp_path / "e.json"])
    assert list(table.columns) == RECORD_COLUMNS
    assert len(table) == 3
    assert table.set_index(["platform", "scope"]).loc[("cpu", "single network"), "source"] == "measured"
    assert set(table.loc[table["platform"] == "zcu104", "source"]) == {"estimated"}


def test_missing_power_survives_collect_and_the_energy_figure_says_so(tmp_path):
    from sparsekws.figures.graphs import energy_rows, plot_energy

    measured = pd.DataFrame([{c: None for c in RECORD_COLUMNS} | {
        "model": "sparse", "platform": "cpu", "backend": "sparse", "scope": "single network", "batch_size": 1,
        "throughput_words_per_s": 1000.0, "power_w": float("nan"), "source": "measured", "method": "m"}],
        columns=RECORD_COLUMNS)
    write_csv(tmp_path / "cpu.csv", measured)
    write_json(tmp_path / "e.json", estimate())
    table = collect([tmp_path / "cpu.csv"], [tmp_path / "e.json"])
    assert table["power_w"].isna().all() and not (table["power_w"] == 0).any()
    assert energy_rows(table).empty  # no invented energy
    paths, any_power = plot_energy(table, tmp_path / "energy", footer="f")
    assert any_power is False and "No power reading" in (tmp_path / "energy.svg").read_text()


def test_skipped_backends_are_collected_with_their_reasons(tmp_path):
    rows = pd.DataFrame([{"model": "dense", "platform": "cuda", "backend": "torch-cuda", "reason": "no CUDA device",
                          "timestamp": "t", "config_hash": "c", "git_revision": "g"}], columns=SKIPPED_COLUMNS)
    write_csv(tmp_path / "a.csv", rows)
    write_csv(tmp_path / "b.csv", pd.DataFrame(columns=SKIPPED_COLUMNS))
    table = collect_skipped([tmp_path / "a.csv", tmp_path / "b.csv"])
    assert list(table.columns) == SKIPPED_COLUMNS and list(table["reason"]) == ["no CUDA device"]
