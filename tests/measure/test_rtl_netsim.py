"""Whole-network simulation records as throughput rows, labelled simulated, next to the estimates."""

import math

from sparsekws.core.files import write_json
from sparsekws.measure.backends.rtl_netsim import simulated_records
from sparsekws.measure.collect import collect


def record(**changes):
    return {"model": "sparse", "board": "u250", "simulator": "verilator", "clock_mhz": 200.0, "words": 1000,
            "passed": True, "words_mismatching": 0, "words_per_second": 195000.0, "latency_ms": 0.034,
            "cycles_per_word_mean": 1025.6, "cycles_per_word_p99": 1180.0, "test_accuracy_simulated": 0.84,
            "method": "Verilator of the stitched network",
            "provenance": {"config_hash": "abc", "git_revision": "def"}} | changes


def test_a_passed_simulation_is_one_simulated_single_network_row():
    [row] = simulated_records(record())
    assert row["source"] == "simulated" and row["scope"] == "single network" and row["networks"] == 1
    assert row["throughput_words_per_s"] == 195000.0 and row["latency_p99_ms"] == 0.034
    assert "1000 words" in row["method"] and "p99 1180" in row["method"] and "assumed clock" in row["device"]
    assert row["outputs_match_model"] == 1.0 and math.isnan(row["power_w"])


def test_a_full_chip_simulation_is_a_full_chip_row_of_its_copies_with_fifos():
    fit = {"status": "counted", "copies_per_chip": 15, "copies_per_chip_without": 18}
    [row] = simulated_records(record(design="full_chip", words_per_second=20000.0, fit_with_plumbing=fit))
    assert row["scope"] == "full chip" and row["networks"] == 15 and row["throughput_words_per_s"] == 300000.0
    assert "with the simulated FIFOs" in row["method"]
    [row] = simulated_records(record(design="full_chip", fit_with_plumbing={"status": "not counted: no Yosys",
                                                                             "copies_per_chip_without": 18}))
    assert row["networks"] == 18 and "without FIFOs (not counted: no Yosys)" in row["method"]
    none_fit = {"status": "counted", "copies_per_chip": 0, "copies_per_chip_without": 1}
    assert simulated_records(record(design="full_chip", fit_with_plumbing=none_fit)) == []


def test_a_failed_simulation_or_a_design_that_does_not_fit_gives_no_number():
    assert simulated_records(record(passed=False, words_mismatching=3)) == []
    assert simulated_records(record(design_fits=False)) == []


def test_collect_adds_simulated_rows(tmp_path):
    write_json(tmp_path / "netsim.json", record())
    table = collect([], [], [tmp_path / "netsim.json"])
    assert table[["platform", "source", "backend"]].values.tolist() == [["u250", "simulated", "rtl-netsim"]]
