import math

import pandas as pd

from sparsekws.fileio import write_csv, write_json
from sparsekws.measure import RECORD_COLUMNS
from sparsekws.measure.collect import collect, estimate_records


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


def test_no_full_chip_row_when_nothing_fits():
    assert [r["scope"] for r in estimate_records(estimate(copies=0))] == ["single network"]


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
