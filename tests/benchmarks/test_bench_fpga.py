"""benchmarks/bench_fpga.py: per-layer and per-chip rows from estimate.json files, ratios only between designs that fit."""

from __future__ import annotations

import importlib.util
import json
import sys

import pytest

from support import REPO_ROOT

AVAILABLE = {"LUT": 1000.0, "BRAM36": 100.0, "URAM": 10.0, "DSP": 50.0}


@pytest.fixture(scope="module")
def bench():
    sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location("bench_fpga", REPO_ROOT / "benchmarks" / "bench_fpga.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def layer(name, cycles, **resources):
    return {"name": name, "op_type": name.rsplit("_", 1)[0], "cycles": cycles, "PE": 2, "SIMD": 4,
            "estimator": "finn-estimate", **{"LUT": 0, "BRAM_18K": 0, "URAM": 0, "DSP": 0, **resources}}


def estimate(fps, copies, fits=True):
    full = {"max_cycles": 400, "fps": fps / 2, "networks_per_chip": 2 * copies, "binding_resource": "LUT"}
    design = {"max_cycles": 200, "fps": fps, "fits": fits, "copies_of_fastest": copies, "binding_resource": "LUT",
              "networks_per_chip": 2 * copies, "full_chip_fps": fps * copies, "full_chip": full if fits else None}
    return {"status": "estimated", "clock_mhz": 200.0, "max_cycles": 200, "bottleneck_layer": "MVAU_1",
            "layers": [layer("MVAU_0", 100, LUT=50, BRAM_18K=40), layer("MVAU_1", 200, DSP=10)],
            "stock": design, "tuned": design}


def test_layers_name_their_binding_resource_and_the_slowest(bench):
    summary = bench.summarise(estimate(1000.0, 4), AVAILABLE)
    first, second = summary["layers"]
    assert first["BRAM36"] == 20 and first["binding"] == "BRAM36" and first["chip_share"] == pytest.approx(0.2)
    assert second["binding"] == "DSP" and second["bottleneck"] and not first["bottleneck"]
    assert summary["tuned"]["full_chip_fps"] == 4000.0
    assert bench.summarise({"status": "not_mappable", "reason": "no HW op"}, AVAILABLE) == {
        "status": "not_mappable", "reason": "no HW op"}


def test_ratios_only_against_a_baseline_that_fits(bench):
    results = {"sparse": {"b": bench.summarise(estimate(3000.0, 8), AVAILABLE)},
               "dense": {"b": bench.summarise(estimate(1000.0, 2), AVAILABLE)}}
    (row,) = bench.ratios(results, [("dense", "sparse")], "b")
    assert row["fps_vs_tuned"] == 3.0 and row["full_chip_fps_vs_tuned"] == 12.0
    results["dense"]["b"] = bench.summarise(estimate(10.0, 0, fits=False), AVAILABLE)
    (row,) = bench.ratios(results, [("dense", "sparse")], "b")
    assert row["fps_vs_tuned"] is None and "does not fit" in bench._ratios_line(row)


def test_main_reads_a_results_folder_and_writes_json(bench, tmp_path, capsys):
    hw = tmp_path / "hw"
    for model, fps in (("dense-cnn", 1000.0), ("sparse-cnn", 2500.0)):
        (hw / model / "u250").mkdir(parents=True)
        (hw / model / "u250" / "estimate.json").write_text(json.dumps(estimate(fps, 3)))
    out = tmp_path / "fpga.json"
    assert bench.main(["--hw-dir", str(hw), "--boards", "u250", "ultra96", "--out", str(out)]) == 0
    written = json.loads(out.read_text())
    assert written["source"] == "estimated"
    assert written["results"]["sparse-cnn"]["ultra96"]["status"] == "missing"
    (row,) = written["ratios"]
    assert row["board"] == "u250" and row["fps_vs_tuned"] == 2.5
    assert "vs tuned: one network 2.50x" in capsys.readouterr().out
