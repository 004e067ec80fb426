import numpy as np
import pandas as pd
import pytest

from sparsekws.measure import RECORD_COLUMNS
from sparsekws.figures.accuracy import accuracy_table
from PIL import Image

from sparsekws.figures.graphs import (host_bars, plot_energy, plot_full_chip, plot_host_throughput, plot_race,
                                      plot_throughput)
from sparsekws.figures.style import ESTIMATE_HATCH, model_palette, plot_table, small_texts
from sparsekws.finn.fit import budgets


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


STOCK = {("dense", "zcu104"): {"single network": 10000.0, "full chip": 40000.0, "networks": 4,
                                "binding_resource": "LUT"}}


def test_host_bars_are_the_host_platforms_single_networks():
    bars = host_bars(table())
    assert len(bars) == 2 and set(bars["platform"]) == {"cpu"}
    assert set(bars["label"]) == {"batch 1"}


def test_graph1_sets_stock_tuned_and_sparse_side_by_side_with_ratios(tmp_path, monkeypatch):
    captured = _keep_figure(monkeypatch)
    paths = plot_throughput(table(), STOCK, ("dense", "sparse"), tmp_path / "throughput", footer="config x")
    fig = captured["fig"]
    assert [p.suffix for p in paths] == [".png", ".svg"]
    assert all(p.stat().st_size > 1000 for p in paths)
    ax = fig.axes[0]
    assert ax.get_yscale() == "linear" and ax.get_title() == "zcu104"
    bars = [bar for container in ax.containers for bar in container]
    assert [b.get_height() for b in bars] == [10000, 50000, 150000]  # stock, tuned, sparse; the CPU is not here
    assert {b.get_hatch() for b in bars} == {ESTIMATE_HATCH}
    text = _texts(fig)
    assert "3x tuned" in text and "15x stock" in text and "150k" in text
    assert "config x" in (tmp_path / "throughput.svg").read_text()


def test_graph1_draws_a_design_that_does_not_fit_as_an_outline(tmp_path, monkeypatch):
    from sparsekws.figures.comparison import configurations, fit_status

    estimates = [{"model": "dense", "board": "zcu104", "networks_per_chip": 0,
                  "fit": {"fits": False, "binding_resource": "BRAM36", "utilisation": {"BRAM36": 1.2},
                          "budget": budgets(0.8)}}]
    captured = _keep_figure(monkeypatch)
    plot_throughput(configurations(table(), fit_status(estimates)), {}, ("dense", "sparse"), tmp_path / "g1", "f")
    fig = captured["fig"]
    assert "does not fit\n(BRAM36)" in _texts(fig) and "x tuned" not in _texts(fig)
    outline = [b for c in fig.axes[0].containers for b in c if b.get_facecolor()[3] == 0]
    assert len(outline) == 1 and outline[0].get_linestyle() == "--"


def test_host_figure_is_log_scale_and_measured(tmp_path, monkeypatch):
    captured = _keep_figure(monkeypatch)
    plot_host_throughput(table(), tmp_path / "host", "footer")
    ax = captured["fig"].axes[0]
    assert ax.get_yscale() == "log"
    assert sorted(b.get_height() for c in ax.containers for b in c) == [1000, 3000]


def test_graphs_are_legible_at_most_twice_as_wide_as_tall(tmp_path, monkeypatch):
    """Every graph: no text under MIN_FONT_PT, aspect <= 2:1, a one-line footer."""
    from sparsekws.figures.comparison import best_configuration, configurations
    from sparsekws.figures.race import race_table

    races = race_table(best_configuration(configurations(table())), [("dense", "sparse")])
    drawings = {
        "graph1": lambda out: plot_throughput(table(), STOCK, ("dense", "sparse"), out, "footer"),
        "graph2": lambda out: plot_race(races, out, "footer"),
        "graph3": lambda out: plot_full_chip(table().assign(networks=3), STOCK, ("dense", "sparse"), out, "footer"),
        "graph4": lambda out: plot_energy(table(), out, "footer"),
        "host": lambda out: plot_host_throughput(table(), out, "footer"),
    }
    for name, draw in drawings.items():
        captured = _keep_figure(monkeypatch)
        draw(tmp_path / name)
        fig = captured["fig"]
        assert small_texts(fig) == [], name
        with Image.open(tmp_path / f"{name}.png") as image:
            width, height = image.size
        assert width / height <= 2.0, (name, width, height)
        assert [t.get_text() for t in fig.texts if "footer" in t.get_text()] == ["footer"], name


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


def test_full_chip_writes_networks_on_the_bars_and_marks_what_does_not_fit(tmp_path, monkeypatch):
    from sparsekws.figures.comparison import configurations, fit_status

    estimates = [{"model": m, "board": "zcu104", "networks_per_chip": n,
                  "fit": {"fits": n > 0, "binding_resource": "BRAM36", "utilisation": {"BRAM36": 0.3 if n else 1.2},
                          "budget": budgets(0.8)}} for m, n in (("dense", 0), ("sparse", 3))]
    frame = table()
    frame["networks"] = 3
    frame = frame[~((frame["model"] == "dense") & (frame["scope"] == "full chip"))]
    captured = _keep_figure(monkeypatch)
    plot_full_chip(configurations(frame, fit_status(estimates)), STOCK, ("dense", "sparse"), tmp_path / "full_chip",
                   "footer")
    fig = captured["fig"]
    text = _texts(fig)
    assert "3 networks\n450k" in text and "4 networks\n40k" in text and "does not fit\n(BRAM36)" in text
    assert "11.2x stock" in text and "x tuned" not in text  # no ratio to a design that does not fit
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
    assert fig.axes[0].get_title() == "no power reading on: zcu104"


def test_race_figure_draws_the_u250_race_or_the_first_fpga_one(tmp_path, monkeypatch):
    from sparsekws.figures.comparison import best_configuration, configurations
    from sparsekws.figures.graphs import headline_race
    from sparsekws.figures.style import ESTIMATE_LINESTYLE
    from sparsekws.figures.race import race_table

    races = race_table(best_configuration(configurations(table())), [("dense", "sparse")])
    assert headline_race(races)["platform"] == "zcu104"  # no U250: the first FPGA board, not the CPU
    assert headline_race(races.assign(platform=["cpu", "u250"]))["platform"] == "u250"
    captured = _keep_figure(monkeypatch)
    plot_race(races, tmp_path / "race", "footer")
    fig = captured["fig"]
    assert len(fig.axes) == 1
    assert "overtakes 2.5 min after it starts" in _texts(fig)  # 300 s * 1 / (3 - 1) = 150 s
    styles = {line.get_linestyle() for line in fig.axes[0].lines if len(line.get_xdata()) > 2}
    assert styles == {ESTIMATE_LINESTYLE}


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
