import numpy as np
import pandas as pd
import pytest

from sparsekws.measure import RECORD_COLUMNS
from sparsekws.plots import (ESTIMATE_HATCH, accuracy_table, model_palette, plot_table, plot_throughput,
                             throughput_bars)


def table():
    rows = []
    for model, factor in (("dense", 1.0), ("sparse", 3.0)):
        rows.append({"model": model, "platform": "cpu", "scope": "single network", "batch_size": 1,
                     "throughput_words_per_s": 1000 * factor, "source": "measured", "method": "onnxruntime"})
        rows.append({"model": model, "platform": "zcu104", "scope": "single network", "batch_size": 1,
                     "throughput_words_per_s": 50000 * factor, "source": "estimated", "method": "finn-estimate"})
        rows.append({"model": model, "platform": "zcu104", "scope": "full chip", "batch_size": 1,
                     "throughput_words_per_s": 150000 * factor, "source": "estimated", "method": "finn-estimate"})
    return pd.DataFrame(rows, columns=RECORD_COLUMNS)


def test_bars_are_single_network_and_labelled_by_source():
    bars = throughput_bars(table())
    assert len(bars) == 4
    assert set(bars["label"]) == {"cpu\nbatch 1\n(measured)", "zcu104\n(estimated)"}


def test_throughput_figure_hatches_estimates_only(tmp_path, monkeypatch):
    import matplotlib.pyplot as plt

    captured = {}
    real_close = plt.close
    monkeypatch.setattr(plt, "close", lambda fig: captured.setdefault("fig", fig))
    paths = plot_throughput(table(), tmp_path / "throughput", footer="config x")
    real_close(captured["fig"])
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    ax = captured["fig"].axes[0]
    assert ax.get_yscale() == "log"
    bars = [bar for container in ax.containers for bar in container]
    hatched = [bar.get_height() for bar in bars if bar.get_hatch() == ESTIMATE_HATCH]
    plain = [bar.get_height() for bar in bars if not bar.get_hatch()]
    assert sorted(hatched) == [50000, 150000]
    assert sorted(plain) == [1000, 3000]
    assert "config x" in (tmp_path / "throughput.svg").read_text()


def test_accuracy_table_and_figure(tmp_path):
    metrics = [{"model": name, "test_accuracy": acc, "validation_accuracy": acc, "model_config": {"weight_density": d},
                "layers": [{"mask_density": d, "total_weights": 600}, {"mask_density": 1.0, "total_weights": 400}],
                "nonzero_weights": int(1000 * d), "total_weights": 1000, "macs_dense": 1000,
                "macs_weight_sparse": int(1000 * d), "sizes": {"test": 50}}
               for name, acc, d in (("sparse", 0.8, 0.1), ("dense", 0.82, 1.0))]
    frame = accuracy_table(metrics)
    assert list(frame["model"]) == ["dense", "sparse"]
    assert frame.loc[1, "nonzero_weights"] == 100
    assert frame.loc[1, "mask_density"] == pytest.approx(0.1 * 0.6 + 0.4)
    paths = plot_table(frame, tmp_path / "accuracy", "footer", "title")
    assert all(p.exists() for p in paths)


def test_palette_separates_dense_and_sparse():
    palette = model_palette(["dense", "dense-cnn", "sparse", "super-sparse"])
    assert len(set(palette.values())) == 4
    blue, orange = np.array(palette["dense"]), np.array(palette["sparse"])
    assert blue[2] > blue[0] and orange[0] > orange[2]
