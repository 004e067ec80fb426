"""The blog's four graphs for our data (PNG and SVG):

- Graph 1 ``throughput``: single-network throughput per platform, log scale;
- Graph 2 ``race``: words over time, dense with a 5-minute head start vs sparse (``race``);
- Graph 3 ``full_chip``: full-chip throughput per board, networks per chip annotated, models
  that do not fit shown as 0 with the binding resource;
- Graph 4 ``energy``: energy per word where power was read (a plain notice where none was).

Estimated values are drawn hatched (bars) or dashed (lines) and their estimator is named;
measured values are plain / solid.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping

import matplotlib.pyplot as plt
import pandas as pd

from sparsekws.figures import comparison, race
from sparsekws.figures.style import (ESTIMATE_LINESTYLE, estimator_note, grouped_bars, legend, log_limits, mark_no_fit,
                                     model_palette, save_figure)


def with_fit(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the fit columns of ``comparison.configurations`` (all fitting if absent)."""
    return table if "fits" in table else comparison.configurations(table)


def throughput_bars(table: pd.DataFrame) -> pd.DataFrame:
    """The single-network rows to plot, one bar label per (platform, batch, source)."""
    rows = with_fit(table)
    rows = rows[rows["scope"] == "single network"].copy()
    backends = rows["backend"].fillna("") if "backend" in rows else pd.Series("", index=rows.index)
    backends = backends.str.replace("onnxruntime-", "ORT ", regex=False)  # short enough for a bar label
    rows["label"] = [
        f"{p}\n{k + chr(10) if k else ''}batch {b}\n(measured)" if s == "measured" else f"{p}\n({s})"
        for p, k, b, s in zip(rows["platform"], backends, rows["batch_size"], rows["source"])
    ]
    return rows


def plot_throughput(table: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """Graph 1: single-network throughput per platform, dense vs sparse, log scale."""
    rows = throughput_bars(table)
    models = sorted(rows["model"].unique())
    order = list(dict.fromkeys(rows.sort_values(["source", "platform", "batch_size"], ascending=[False, True, True])["label"]))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(order)), 4.2))
    drawn = grouped_bars(ax, rows, "label", order, models)
    ax.set_yscale("log")
    log_limits(ax, rows["throughput_words_per_s"])
    mark_no_fit(ax, drawn, "throughput_words_per_s")
    ax.set_xlabel("")
    ax.set_ylabel("throughput (words/s, log scale)")
    ax.set_title("Graph 1: single-network throughput, dense vs sparse")
    legend(ax, models, (rows["source"] == "estimated").any(), simulated=(rows["source"] == "simulated").any())
    return save_figure(fig, stem, f"{estimator_note(rows, 'hatched')}\n{footer}")


def plot_race(races: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """Graph 2: words processed over time per (pair, platform); the overtaking point marked."""
    n = max(len(races), 1)
    cols = min(3, n)
    nrows = math.ceil(n / cols)
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.3 * nrows + 0.4), squeeze=False)
    models = sorted(set(races["dense_model"]) | set(races["sparse_model"])) if len(races) else []
    palette = model_palette(models)
    for ax in axes.flat[len(races):]:
        ax.axis("off")
    if races.empty:
        axes[0, 0].text(0.5, 0.5, "No race: no dense/sparse pair has throughput\non a common platform.",
                        ha="center", va="center", transform=axes[0, 0].transAxes)
    for ax, record in zip(axes.flat, races.to_dict("records")):
        curves = race.race_curves(record)
        for model, role in ((record["dense_model"], "dense"), (record["sparse_model"], "sparse")):
            part = curves[curves["model"] == model]
            style = ESTIMATE_LINESTYLE if _role_source(record, role) == "estimated" else "-"
            ax.plot(part["time_s"], part["words"], color=palette[model], ls=style, lw=2,
                    label=f"{model}: {record[f'{role}_configuration']}")
        tau = record["overtake_after_s"]
        if math.isfinite(tau):
            ax.plot([record["overtake_at_s"]], [record["words_at_overtake"]], "o", color="0.1", ms=5, zorder=5)
            ax.annotate(race.describe(record), (record["overtake_at_s"], record["words_at_overtake"]),
                        xytext=(-8, 10), textcoords="offset points", ha="right", fontsize=7)
        else:
            ax.text(0.03, 0.95, race.describe(record), transform=ax.transAxes, va="top", fontsize=7)
        ax.axvline(record["head_start_s"], color="0.6", lw=0.8, ls=":")
        ax.set_title(f"{record['platform']}: {record['sparse_model']} vs {record['dense_model']}", fontsize=9)
        ax.set_xlabel("time since the dense network started (s)")
        ax.set_ylabel("words processed")
        ax.legend(fontsize=6, loc="lower right")
    fig.suptitle(f"Graph 2: the race, dense given a {race.format_seconds(races['head_start_s'].iloc[0]) if len(races) else ''}"
                 " head start", fontsize=10)
    methods = sorted({m for s in races.get("source", []) for m in s.split(" / ") if m.startswith("estimated")})
    note = ("dashed = estimated: " + "; ".join(m[len("estimated ("):-1] for m in methods)) if methods \
        else "all throughputs measured"
    return save_figure(fig, stem, f"{note}; each model in its best configuration per platform\n{footer}")


def _role_source(record: Mapping, role: str) -> str:
    """'measured' or 'estimated' for the dense or sparse side of a race record."""
    parts = record["source"].split(" / ")
    if len(parts) == 1:
        return parts[0].split(" ")[0]
    return parts[0 if role == "dense" else 1].split(" ")[0]


def full_chip_rows(configs: pd.DataFrame) -> pd.DataFrame:
    """Full-chip rows of every (model, board), 0 networks where a model does not fit."""
    rows = configs[configs["scope"] == "full chip"].copy()
    return rows.sort_values(["platform", "model"], ignore_index=True)


def plot_full_chip(configs: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """Graph 3: full-chip throughput per board, networks per chip on each bar, 0 where it does not fit."""
    rows = full_chip_rows(with_fit(configs))
    models = sorted(rows["model"].unique())
    order = sorted(rows["platform"].unique())
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(order) * max(1, len(models) / 2)), 4.4))
    drawn = grouped_bars(ax, rows, "platform", order, models)
    ax.set_yscale("log")
    log_limits(ax, rows["throughput_words_per_s"])
    for bar, row in drawn:
        if row["throughput_words_per_s"] > 0 and pd.notna(row["networks"]):
            n = int(row["networks"])
            ax.annotate(f"{n} network{'s' if n != 1 else ''}", (row["_x"], row["throughput_words_per_s"]),
                        xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7, rotation=90)
    mark_no_fit(ax, drawn, "throughput_words_per_s")
    if rows.empty:
        ax.text(0.5, 0.5, "No full-chip configuration in this run", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("")
    ax.set_ylabel("full-chip throughput (words/s, log scale)")
    ax.set_title("Graph 3: full-chip throughput per board (networks per chip on the bars)")
    legend(ax, models, (rows["source"] == "estimated").any())
    budgets = "fit: every resource within the compile stage's utilisation budget"
    return save_figure(fig, stem, f"{estimator_note(rows, 'hatched')}\n{budgets}\n{footer}")


def energy_rows(configs: pd.DataFrame) -> pd.DataFrame:
    """Rows with a power reading, with energy per word (J) = power / throughput where not given."""
    rows = configs[configs["power_w"].notna() & (configs["throughput_words_per_s"] > 0)].copy()
    computed = rows["power_w"] / rows["throughput_words_per_s"]
    rows["energy_per_word_j"] = rows["energy_per_word_j"].fillna(computed) if "energy_per_word_j" in rows else computed
    return rows


def plot_energy(configs: pd.DataFrame, stem: str | Path, footer: str) -> tuple[list[Path], bool]:
    """Graph 4: energy per word (uJ, log scale) where power was read; else a figure saying so.

    Returns the paths and whether any power reading existed.
    """
    rows = energy_rows(configs)
    if rows.empty:
        platforms = ", ".join(sorted(configs["platform"].unique()))
        fig, ax = plt.subplots(figsize=(7.0, 3.0))
        ax.axis("off")
        ax.text(0.5, 0.6, "No power reading on any platform in this run:\nenergy per word cannot be computed.",
                ha="center", va="center", fontsize=12, weight="bold", transform=ax.transAxes)
        ax.text(0.5, 0.2, f"power_w is empty for every row of throughput.csv (platforms: {platforms}).\n"
                "FPGA rows are estimated or simulated: their power needs a board, or Vivado's power analysis of a\n"
                "placed design (not available here); no sourced per-resource model is applied in its place.\n"
                "No bars are drawn rather than invented ones.", ha="center", va="center", fontsize=8,
                transform=ax.transAxes)
        ax.set_title("Graph 4: energy per word", fontsize=10)
        return save_figure(fig, stem, footer), False
    rows["label"] = [f"{p}\n{comparison.configuration_label(r)}" for p, r in zip(rows["platform"], rows.to_dict("records"))]
    rows["energy_uj"] = rows["energy_per_word_j"] * 1e6
    models = sorted(rows["model"].unique())
    order = list(dict.fromkeys(rows.sort_values(["platform", "scope"])["label"]))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(order)), 4.2))
    grouped_bars(ax, rows, "label", order, models, value_col="energy_uj")
    ax.set_yscale("log")
    ax.set_ylabel("energy per word (µJ, log scale; lower is better)")
    ax.set_title("Graph 4: energy per word where power was read")
    legend(ax, models, (rows["source"] == "estimated").any())
    missing = sorted(set(configs["platform"]) - set(rows["platform"]))
    note = f"no power reading on: {', '.join(missing)}" if missing else "power read on every platform"
    return save_figure(fig, stem, f"{estimator_note(rows, 'hatched')}; {note}\n{footer}"), True
