import numpy as np
import pandas as pd
import pytest

from sparsekws.measure import RECORD_COLUMNS
from sparsekws.figures.accuracy import accuracy_table
from sparsekws.figures.graphs import plot_throughput, throughput_bars
from sparsekws.figures.style import ESTIMATE_HATCH, model_palette, plot_table


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


def _keep_figure(monkeypatch):
    """Capture the figure save_figure closes, to inspect it."""
    import matplotlib.pyplot as plt

    captured = {}
    monkeypatch.setattr(plt, "close", lambda fig: captured.setdefault("fig", fig))
    return captured


def _texts(fig):
    return " ".join(t.get_text() for ax in fig.axes for t in ax.texts) + " " + " ".join(t.get_text() for t in fig.texts)


def test_full_chip_shows_models_that_do_not_fit_as_zero(tmp_path, monkeypatch):
    from sparsekws.figures.comparison import configurations, fit_status
    from sparsekws.figures.graphs import plot_full_chip

    estimates = [{"model": m, "board": "zcu104", "networks_per_chip": n,
                  "fit": {"fits": n > 0, "binding_resource": "BRAM36", "utilisation": {"BRAM36": 0.3 if n else 1.2},
                          "budget": 0.8}} for m, n in (("dense", 0), ("sparse", 3))]
    frame = table()
    frame["networks"] = 3
    frame = frame[~((frame["model"] == "dense") & (frame["scope"] == "full chip"))]
    captured = _keep_figure(monkeypatch)
    plot_full_chip(configurations(frame, fit_status(estimates)), tmp_path / "full_chip", "footer")
    fig = captured["fig"]
    text = _texts(fig)
    assert "3 networks" in text and "0: does not fit" in text and "BRAM36 120 %" in text
    bars = [b for c in fig.axes[0].containers for b in c]
    assert [b.get_hatch() for b in bars if np.isfinite(b.get_height())] == [ESTIMATE_HATCH]
    assert (tmp_path / "full_chip.svg").stat().st_size > 1000


def test_energy_figure_says_plainly_when_there_is_no_power(tmp_path, monkeypatch):
    from sparsekws.figures.graphs import plot_energy

    captured = _keep_figure(monkeypatch)
    paths, any_power = plot_energy(table(), tmp_path / "energy", "footer")
    fig = captured.pop("fig")
    assert not any_power and "No power reading on any platform" in _texts(fig)
    assert not [c for ax in fig.axes for c in ax.containers]  # no bars drawn
    powered = table()
    powered.loc[powered["platform"] == "cpu", "power_w"] = 10.0
    paths, any_power = plot_energy(powered, tmp_path / "energy2", "footer")
    fig = captured["fig"]
    heights = sorted(b.get_height() for c in fig.axes[0].containers for b in c)
    assert any_power and heights == pytest.approx([10 / 3000 * 1e6, 10 / 1000 * 1e6])
    assert "no power reading on: zcu104" in _texts(fig)


def test_race_figure_marks_the_overtaking_point(tmp_path, monkeypatch):
    from sparsekws.figures.comparison import best_configuration, configurations
    from sparsekws.figures.graphs import plot_race
    from sparsekws.figures.style import ESTIMATE_LINESTYLE
    from sparsekws.figures.race import race_table

    races = race_table(best_configuration(configurations(table())), [("dense", "sparse")])
    captured = _keep_figure(monkeypatch)
    plot_race(races, tmp_path / "race", "footer")
    fig = captured["fig"]
    assert len([ax for ax in fig.axes if ax.lines]) == 2  # cpu and zcu104
    assert "overtakes 2.5 min after it starts" in _texts(fig)  # 300 s * 1 / (3 - 1) = 150 s
    styles = {line.get_linestyle() for ax in fig.axes for line in ax.lines if len(line.get_xdata()) > 2}
    assert styles == {"-", ESTIMATE_LINESTYLE}


def test_pareto_front_and_accuracy_vs_macs(tmp_path):
    from sparsekws.figures.accuracy import pareto_front, plot_accuracy_vs_macs

    points = pd.DataFrame({"model": ["dense", "sparse", "bad"], "macs_weight_sparse": [1000, 100, 500],
                           "test_accuracy": [0.9, 0.85, 0.8], "test_samples": [10, 10, 10]})
    assert list(pareto_front(points)["model"]) == ["sparse", "dense"]
    paths = plot_accuracy_vs_macs(points, tmp_path / "acc", "footer")
    assert all(p.stat().st_size > 1000 for p in paths)


def test_table_html_is_escaped_and_readable(tmp_path):
    from sparsekws.figures.style import write_table_html

    frame = pd.DataFrame({"claim": ["a <b>"], "our_value": [float("nan")], "overtake": [float("inf")], "x": [12345.6]})
    text = write_table_html(frame, tmp_path / "t.html", "Title", ["note"]).read_text()
    assert "a &lt;b&gt;" in text and "<td></td>" in text and "never" in text and "12,346" in text
