import numpy as np
import pandas as pd
import pytest

from sparsekws.figures.comparison import best_configuration, configurations, fit_status, model_pairs
from sparsekws.measure import RECORD_COLUMNS
from sparsekws.finn.fit import budgets


def test_pairs_by_name_then_family():
    models = {"dense": {"family": "mlp"}, "sparse": {"family": "mlp"}, "dense-cnn": {"family": "cnn"},
              "sparse-cnn": {"family": "cnn"}, "super-sparse-cnn": {"family": "cnn"}, "pruned": {"family": "mlp"},
              "lonely": {"family": "rnn"}}
    assert model_pairs(models) == [("dense", "sparse"), ("dense-cnn", "sparse-cnn"),
                                   ("dense-cnn", "super-sparse-cnn"), ("dense", "pruned")]
    assert model_pairs(["dense", "sparse"]) == [("dense", "sparse")]


def estimate(model, board, fits, networks, binding="BRAM36", util=0.3):
    return {"model": model, "board": board, "networks_per_chip": networks,
            "fit": {"fits": fits, "binding_resource": binding, "utilisation": {binding: util}, "budget": budgets(0.8)}}


def throughput():
    rows = []
    for model, fps in (("dense", 100.0), ("sparse", 1000.0)):
        rows.append({"model": model, "platform": "zu3eg", "scope": "single network", "networks": 1, "batch_size": 1,
                     "throughput_words_per_s": fps, "source": "estimated", "method": "finn-estimate"})
        rows.append({"model": model, "platform": "cpu", "scope": "single network", "networks": 1, "batch_size": 8,
                     "throughput_words_per_s": fps * 3, "source": "measured", "method": "ort"})
    rows.append({"model": "sparse", "platform": "zu3eg", "scope": "full chip", "networks": 2, "batch_size": 1,
                 "throughput_words_per_s": 2000.0, "source": "estimated", "method": "finn-estimate"})
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def test_a_model_that_does_not_fit_gets_zero_never_dropped():
    fits = fit_status([estimate("dense", "zu3eg", False, 0, util=1.3), estimate("sparse", "zu3eg", True, 2)])
    table = configurations(throughput(), fits)
    dense = table[(table["model"] == "dense") & (table["platform"] == "zu3eg")].set_index("scope")
    assert dense.loc["single network", "throughput_words_per_s"] == 0
    assert dense.loc["full chip", "networks"] == 0 and not dense.loc["full chip", "fits"]
    assert "does not fit: BRAM36 at 130 %" in dense.loc["full chip", "fit_note"]
    # measured rows are never changed by an estimate's fit check
    assert table.loc[(table["model"] == "dense") & (table["platform"] == "cpu"), "throughput_words_per_s"].item() == 300


def test_networks_per_chip_name_the_full_chip_designs_binding_resource():
    searched = {**estimate("sparse", "u250", True, 18, binding="DSP", util=0.07),
                "full_chip": {"binding_resource": "LUT", "utilisation": {"LUT": 0.044, "DSP": 0.05}}}
    row = fit_status([searched]).iloc[0]
    assert row["networks_per_chip"] == 18 and row["binding_resource"] == "LUT"
    assert row["binding_utilisation"] == 0.044 and row["fits"]


def test_best_configuration_prefers_full_chip_and_keeps_zero():
    fits = fit_status([estimate("dense", "zu3eg", False, 0), estimate("sparse", "zu3eg", True, 2)])
    best = best_configuration(configurations(throughput(), fits)).set_index(["model", "platform"])
    assert best.loc[("sparse", "zu3eg"), "scope"] == "full chip"
    assert best.loc[("dense", "zu3eg"), "throughput_words_per_s"] == 0


def test_best_configuration_takes_each_configuration_at_its_best_source():
    frame = throughput()
    simulated = {**frame.iloc[-1].to_dict(), "source": "simulated", "throughput_words_per_s": 1990.0}
    faster_estimate = {**frame.iloc[0].to_dict(), "model": "sparse", "throughput_words_per_s": 1500.0}
    table = configurations(pd.concat([frame, pd.DataFrame([simulated, faster_estimate])], ignore_index=True))
    best = best_configuration(table).set_index(["model", "platform"]).loc[("sparse", "zu3eg")]
    # the full chip, simulated (not its higher estimate), still beats the single network's estimate
    assert best["scope"] == "full chip" and best["source"] == "simulated" and best["throughput_words_per_s"] == 1990


def test_backends_are_separate_configurations():
    frame = throughput()
    frame["backend"] = "finn"
    extra = frame[frame["platform"] == "cpu"].assign(backend="torch", throughput_words_per_s=1.0)
    frame.loc[frame["platform"] == "cpu", "backend"] = "onnxruntime"
    table = configurations(pd.concat([frame, extra], ignore_index=True))
    cpu = table[(table["platform"] == "cpu") & (table["model"] == "sparse")]
    assert sorted(zip(cpu["backend"], cpu["throughput_words_per_s"])) == [("onnxruntime", 3000.0), ("torch", 1.0)]


def test_rows_by_source_put_measured_then_simulated_then_estimated_first():
    import pandas as pd

    from sparsekws.figures.comparison import by_source

    rows = pd.DataFrame({"source": ["estimated", "simulated", "measured", "simulated"],
                         "throughput_words_per_s": [300.0, 100.0, 50.0, 200.0]})
    ordered = by_source(rows)
    assert ordered["source"].tolist() == ["measured", "simulated", "simulated", "estimated"]
    assert ordered["throughput_words_per_s"].tolist() == [50.0, 200.0, 100.0, 300.0]
