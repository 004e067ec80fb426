"""The blog's four graphs for our data, and the host platforms' throughput (PNG and SVG):

- Graph 1 ``throughput``: words/s of one network per FPGA board — FINN's stock dense, our tuned
  dense and the sparse design side by side, linear axis, the sparse design's ratios on its bar;
- Graph 2 ``race``: words over time on the U250, dense (best configuration) with a 5-minute head
  start vs sparse, the overtaking point annotated;
- Graph 3 ``full_chip``: Graph 1 for a full chip (as many networks as fit), networks on the bars,
  a design that does not fit drawn as an empty outline;
- Graph 4 ``energy``: energy per word where power was read (a panel saying why where none was);
- ``host_throughput``: words/s of one network on CPU/CUDA per backend and batch size, every model.

Graphs 1 and 3 draw one dense/sparse pair: the first hardware pair with an FPGA design (Table 1
has every pair). Estimated bars are hatched, simulated ones dotted, measured ones plain (one
line of key); the method of each is in the figure's caption, the footer is the provenance line.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.ticker import FuncFormatter

from sparsekws.figures import comparison, designs, race
from sparsekws.figures.headline import BLOG_BOARDS
from sparsekws.figures.style import (DESIGN_COLOURS, ESTIMATE_LINESTYLE, HATCHES, NO_FIT_TEXT, grouped_bars, key,
                                     log_limits, panel_notice, save_figure)


def with_fit(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the fit columns of ``comparison.configurations`` (all fitting if absent)."""
    return table if "fits" in table else comparison.configurations(table)


def host_bars(table: pd.DataFrame) -> pd.DataFrame:
    """The single-network rows of the host platforms, one bar label per (backend, batch)."""
    rows = with_fit(table)
    rows = rows[(rows["scope"] == "single network") & rows["platform"].isin(designs.HOST_PLATFORMS)].copy()
    backends = rows["backend"].fillna("") if "backend" in rows else pd.Series("", index=rows.index)
    backends = backends.str.replace("onnxruntime-", "ORT ", regex=False)  # short enough for a bar label
    rows["label"] = [f"{k + chr(10) if k else ''}batch {b}" for k, b in zip(backends, rows["batch_size"])]
    return rows


def plot_host_throughput(table: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """Words/s of one network on each host platform (CPU, CUDA), per backend and batch size, every
    model, log scale (the backends differ by orders of magnitude)."""
    rows = host_bars(table)
    platforms = sorted(rows["platform"].unique()) or ["cpu"]
    models = sorted(rows["model"].unique())
    labels = {p: list(dict.fromkeys(rows[rows["platform"] == p].sort_values(["batch_size", "label"])["label"]))
              for p in platforms}
    width = min(7.6, max(4.0, 0.75 * max(len(v) for v in labels.values()) * max(1, len(models) / 2) + 1.6))
    fig, axes = plt.subplots(len(platforms), 1, figsize=(width, 3.4 * len(platforms) + 0.4), squeeze=False)
    for ax, platform in zip(axes[:, 0], platforms):
        part = rows[rows["platform"] == platform]
        if part.empty:
            panel_notice(ax, "No host platform measured in this run")
            continue
        grouped_bars(ax, part, "label", labels[platform], models)
        ax.set_yscale("log")
        log_limits(ax, part["throughput_words_per_s"])
        ax.set_ylabel("words/s, one network (log)")
        ax.set_title(f"{platform}: measured, per backend and batch size")
    key(fig, models=models)
    fig.suptitle("Words/s of one network on the host, every model")
    return save_figure(fig, stem, footer)


def _words(value: float) -> str:
    """Compact words/s: 950, 80k, 2.1M."""
    for scale, unit in ((1e6, "M"), (1e3, "k")):
        if value >= scale:
            return f"{value / scale:.3g}{unit}"
    return f"{value:.3g}"


def _board_title(board: str) -> str:
    blog = {ours: theirs for theirs, ours in BLOG_BOARDS.items()}.get(board)
    return board if blog is None or blog.lower() == board else f"{board} ({blog})"


def plot_designs(table: pd.DataFrame, stock: Mapping, pair: tuple[str, str] | None, scope: str, stem: str | Path,
                 footer: str, title: str) -> list[Path]:
    """One panel per FPGA board: FINN's stock dense, our tuned dense and the sparse design of ``pair``
    at ``scope``, linear words/s, the sparse design's ratio to each dense one written above it;
    a design that does not fit drawn as an empty outline labelled so."""
    rows = designs.fpga_designs(with_fit(table), pair, stock, scope) if pair else pd.DataFrame(
        columns=designs.DESIGN_COLUMNS)
    boards = list(dict.fromkeys(rows["board"])) or ["-"]
    cols = min(2, len(boards))
    fig, axes = plt.subplots(math.ceil(len(boards) / cols), cols, figsize=(3.7 * cols + 0.3, 3.9 * math.ceil(
        len(boards) / cols) + 0.3), squeeze=False)
    for ax in axes.flat[len(boards):]:
        ax.axis("off")
    if rows.empty:
        panel_notice(axes[0, 0], "No dense/sparse pair has an FPGA design in this run")
    for ax, board in zip(axes.flat, boards if len(rows) else []):
        _design_panel(ax, rows[rows["board"] == board], scope)
        ax.set_title(_board_title(board))
    axes[0, 0].set_ylabel(f"words/s, {'one network' if scope == 'single network' else 'full chip'}")
    key(fig, sources=set(rows["source"]))
    fig.suptitle(title)
    return save_figure(fig, stem, footer)


def _design_panel(ax: plt.Axes, rows: pd.DataFrame, scope: str) -> None:
    top = max(rows["words_per_s"].max(), 1.0)
    names = []
    for x, row in enumerate(rows.to_dict("records")):
        colour = DESIGN_COLOURS[row["design"]]
        names.append(row["model"] if row["design"] == designs.SPARSE else f"{row['model']}\n{row['design'][:-6]}")
        if not row["fits"]:
            ax.bar(x, top * 0.04, width=0.7, facecolor="none", edgecolor=colour, ls="--", lw=1.2)
            binding = f"\n({row['binding_resource']})" if row["binding_resource"] else ""
            ax.text(x, top * 0.06, f"{NO_FIT_TEXT}{binding}", ha="center", va="bottom")
            continue
        ax.bar(x, row["words_per_s"], width=0.7, color=colour, hatch=HATCHES.get(row["source"]),
               edgecolor="0.2" if row["source"] in HATCHES else colour, lw=0.6)
        label = _words(row["words_per_s"])
        if scope == "full chip":
            label = f"{row['networks']} network{'s' if row['networks'] != 1 else ''}\n{label}"
        if row["design"] == designs.SPARSE:
            board = row["board"]
            ratios = [f"{ratio:.3g}x {name}" for name, ratio in
                      (("tuned", designs.ratio_to(rows, board, designs.TUNED)),
                       ("stock", designs.ratio_to(rows, board, designs.STOCK))) if math.isfinite(ratio)]
            label = "\n".join([label, *ratios])
        ax.text(x, row["words_per_s"] + top * 0.02, label, ha="center", va="bottom",
                weight="bold" if row["design"] == designs.SPARSE else "normal")
    ax.set_xticks(range(len(names)), names)
    ax.set_ylim(0, top * 1.45)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _words(v) if v else "0"))


def plot_throughput(table: pd.DataFrame, stock: Mapping, pair: tuple[str, str] | None, stem: str | Path,
                    footer: str) -> list[Path]:
    """Graph 1: words/s of one network per FPGA board: stock and tuned dense vs sparse."""
    return plot_designs(table, stock, pair, "single network", stem, footer,
                        "Graph 1: one network, words/s per FPGA board")


def plot_full_chip(table: pd.DataFrame, stock: Mapping, pair: tuple[str, str] | None, stem: str | Path,
                   footer: str) -> list[Path]:
    """Graph 3: words/s of a full chip (as many networks as fit) per FPGA board, networks on the bars."""
    return plot_designs(table, stock, pair, "full chip", stem, footer,
                        "Graph 3: a full chip, words/s per FPGA board")


def headline_race(races: pd.DataFrame, board: str = "u250") -> dict | None:
    """The race Graph 2 draws: the one on ``board``, else the first FPGA board's, else the first."""
    if races.empty:
        return None
    for rows in (races[races["platform"] == board], races[~races["platform"].isin(designs.HOST_PLATFORMS)], races):
        if len(rows):
            return rows.iloc[0].to_dict()
    return None


def plot_race(races: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """Graph 2: words processed over time on the U250, dense (best configuration) with a head start
    vs sparse; the overtaking point annotated. The other platforms' races are in the race table."""
    record = headline_race(races)
    fig, ax = plt.subplots(figsize=(6.4, 4.0))
    if record is None:
        panel_notice(ax, "No race: no dense/sparse pair has throughput on a common platform")
        fig.suptitle("Graph 2: the race")
        return save_figure(fig, stem, footer)
    curves = race.race_curves(record)
    colours = {"dense": DESIGN_COLOURS[designs.TUNED], "sparse": DESIGN_COLOURS[designs.SPARSE]}
    for role in ("dense", "sparse"):
        model = record[f"{role}_model"]
        part = curves[curves["model"] == model]
        ax.plot(part["time_s"], part["words"] / 1e6, color=colours[role], lw=2.5,
                ls=ESTIMATE_LINESTYLE if _role_source(record, role) == "estimated" else "-",
                label=f"{model}: {record[f'{role}_configuration']}, {_words(record[f'{role}_words_per_s'])} words/s")
    tau = record["overtake_after_s"]
    if math.isfinite(tau) and record["dense_words_per_s"] > 0:
        point = (record["overtake_at_s"], record["words_at_overtake"] / 1e6)
        ax.plot(*point, "o", color="0.1", ms=7, zorder=5)
        ax.annotate(race.describe(record), point, xytext=(-12, 40), textcoords="offset points", ha="right",
                    weight="bold", arrowprops={"arrowstyle": "->", "color": "0.2"})
    else:
        ax.text(0.03, 0.95, race.describe(record), transform=ax.transAxes, va="top", weight="bold")
    ax.axvline(record["head_start_s"], color="0.5", lw=1, ls=":")
    ax.text(record["head_start_s"], 0.97, " sparse starts", transform=ax.get_xaxis_transform(), color="0.3",
            va="top")
    ax.set_xlabel("time since the dense network started (s)")
    ax.set_ylabel("words processed (millions)")
    ax.legend(loc="center left")
    fig.suptitle(f"Graph 2: the race on {_board_title(record['platform'])}, dense given a "
                 f"{race.format_seconds(record['head_start_s'])} head start")
    return save_figure(fig, stem, footer)


def _role_source(record: Mapping, role: str) -> str:
    """'measured' or 'estimated' for the dense or sparse side of a race record."""
    parts = record["source"].split(" / ")
    if len(parts) == 1:
        return parts[0].split(" ")[0]
    return parts[0 if role == "dense" else 1].split(" ")[0]


def energy_rows(configs: pd.DataFrame) -> pd.DataFrame:
    """Rows with a power reading, with energy per word (J) = power / throughput where not given."""
    rows = configs[configs["power_w"].notna() & (configs["throughput_words_per_s"] > 0)].copy()
    computed = rows["power_w"] / rows["throughput_words_per_s"]
    rows["energy_per_word_j"] = rows["energy_per_word_j"].fillna(computed) if "energy_per_word_j" in rows else computed
    return rows


def plot_energy(configs: pd.DataFrame, stem: str | Path, footer: str) -> tuple[list[Path], bool]:
    """Graph 4: energy per word (uJ, log scale) where power was read; else a panel saying why.

    Returns the paths and whether any power reading existed.
    """
    rows = energy_rows(configs)
    if rows.empty:
        platforms = ", ".join(sorted(configs["platform"].unique()))
        fig, ax = plt.subplots(figsize=(6.4, 3.2))
        panel_notice(ax, "No power reading on any platform in this run:\nenergy per word cannot be computed.",
                     f"power_w is empty for every row of throughput.csv ({platforms}).\n"
                     "FPGA rows are estimated or simulated: their power needs a board, or\n"
                     "Vivado's power analysis of a placed design (not available here).\n"
                     "No sourced per-resource power model is applied in its place.")
        fig.suptitle("Graph 4: energy per word")
        return save_figure(fig, stem, footer), False
    rows["label"] = [f"{p}\n{comparison.configuration_label(r)}" for p, r in zip(rows["platform"], rows.to_dict("records"))]
    rows["energy_uj"] = rows["energy_per_word_j"] * 1e6
    models = sorted(rows["model"].unique())
    order = list(dict.fromkeys(rows.sort_values(["platform", "scope"])["label"]))
    fig, ax = plt.subplots(figsize=(min(7.6, max(5.0, 1.2 * len(order))), 3.9))
    grouped_bars(ax, rows, "label", order, models, value_col="energy_uj")
    ax.set_yscale("log")
    ax.set_ylabel("energy per word (µJ, log; lower is better)")
    missing = sorted(set(configs["platform"]) - set(rows["platform"]))
    if missing:
        ax.set_title(f"no power reading on: {', '.join(missing)}")
    key(fig, models=models, sources=set(rows["source"]))
    fig.suptitle("Graph 4: energy per word where power was read")
    return save_figure(fig, stem, footer), True
