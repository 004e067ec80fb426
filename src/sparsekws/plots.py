"""Figures and tables of the experiment (seaborn; PNG and SVG).

Every figure carries a footer naming the config hash and git revision that produced it, and
estimated values are drawn hatched and labelled with their estimator.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from sparsekws.config import load_config  # noqa: E402
from sparsekws.fileio import atomic_path, read_json, write_csv  # noqa: E402
from sparsekws.provenance import config_hash, git_revision  # noqa: E402

ESTIMATE_HATCH = "//"
FORMATS = ("png", "svg")


def model_palette(models: list[str]) -> dict[str, tuple]:
    """Fixed colours: dense models in blues, sparse ones in oranges, by name order."""
    dense = [m for m in models if "dense" in m]
    other = [m for m in models if m not in dense]
    colours = dict(zip(dense, sns.color_palette("Blues_r", max(len(dense), 1) + 1)))
    colours.update(zip(other, sns.color_palette("Oranges_r", max(len(other), 1) + 1)))
    return colours


def save_figure(fig: plt.Figure, stem: str | Path, footer: str) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.svg`` atomically, with a footer below the axes.

    ``footer`` (provenance, notes; may have several lines) gets its own strip of the figure.
    """
    lines = footer.count("\n") + 1
    strip = 0.12 * lines / fig.get_figheight()
    fig.tight_layout(rect=(0, strip, 1, 1))
    fig.text(0.01, 0.01, footer, ha="left", va="bottom", fontsize=7, color="0.3")
    paths = []
    for fmt in FORMATS:
        path = Path(f"{stem}.{fmt}")
        with atomic_path(path, suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=200, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def throughput_bars(table: pd.DataFrame) -> pd.DataFrame:
    """The single-network rows to plot, one bar label per (platform, batch, source)."""
    rows = table[table["scope"] == "single network"].copy()
    rows["label"] = [
        f"{p}\nbatch {b}\n(measured)" if s == "measured" else f"{p}\n(estimated)"
        for p, b, s in zip(rows["platform"], rows["batch_size"], rows["source"])
    ]
    return rows


def plot_throughput(table: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """Graph 1: single-network throughput per platform, dense vs sparse, log scale."""
    rows = throughput_bars(table)
    models = sorted(rows["model"].unique())
    order = list(dict.fromkeys(rows.sort_values(["source", "platform", "batch_size"], ascending=[False, True, True])["label"]))
    fig, ax = plt.subplots(figsize=(max(6.0, 1.1 * len(order)), 4.2))
    sns.barplot(data=rows, x="label", y="throughput_words_per_s", hue="model", order=order, hue_order=models,
                palette=model_palette(models), ax=ax, errorbar=None)
    estimated = {label for label, source in zip(rows["label"], rows["source"]) if source == "estimated"}
    for container in ax.containers:
        for bar, label in zip(container, order):
            if label in estimated:
                bar.set_hatch(ESTIMATE_HATCH)
                bar.set_edgecolor("0.25")
    ax.set_yscale("log")
    ax.set_ylim(bottom=10 ** np.floor(np.log10(rows["throughput_words_per_s"].min())))
    ax.set_xlabel("")
    ax.set_ylabel("throughput (words/s, log scale)")
    ax.set_title("Single-network throughput, dense vs sparse")
    handles, _ = ax.get_legend_handles_labels()
    handles.append(Patch(facecolor="white", edgecolor="0.25", hatch=ESTIMATE_HATCH, label="estimated"))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    methods = sorted(rows.loc[rows["source"] == "estimated", "method"].unique())
    note = "hatched = estimated: " + "; ".join(methods) if methods else "all values measured"
    return save_figure(fig, stem, f"{note}\n{footer}")


def accuracy_table(metrics: list[dict]) -> pd.DataFrame:
    """One row per model: accuracy on the test split and how sparse its weights are."""
    rows = []
    for m in metrics:
        kept = sum(layer["mask_density"] * layer["total_weights"] for layer in m["layers"])
        rows.append({
            "model": m["model"],
            "test_accuracy": m["test_accuracy"],
            "validation_accuracy": m["validation_accuracy"],
            "configured_weight_density": m["model_config"]["weight_density"],
            "mask_density": kept / m["total_weights"],
            "nonzero_weights": m["nonzero_weights"],
            "total_weights": m["total_weights"],
            "macs_dense": m["macs_dense"],
            "macs_weight_sparse": m["macs_weight_sparse"],
            "test_samples": m["sizes"]["test"],
        })
    return pd.DataFrame(rows).sort_values("model", ignore_index=True)


def plot_table(table: pd.DataFrame, stem: str | Path, footer: str, title: str) -> list[Path]:
    """Render a small table as a figure (PNG and SVG)."""
    shown = table.copy()
    for column in shown.columns:
        if shown[column].dtype.kind == "f":
            shown[column] = shown[column].map(lambda v: f"{v:.4g}")
    fig, ax = plt.subplots(figsize=(min(2 + 1.3 * len(shown.columns), 16), 0.6 + 0.35 * (len(shown) + 1)))
    ax.axis("off")
    cells = ax.table(cellText=shown.values, colLabels=[c.replace("_", " ") for c in shown.columns],
                     loc="center", cellLoc="center")
    cells.auto_set_font_size(False)
    cells.set_fontsize(7)
    cells.scale(1, 1.3)
    ax.set_title(title, fontsize=10)
    return save_figure(fig, stem, footer)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="workflow config (YAML)")
    parser.add_argument("--throughput", required=True, help="combined measurement table (CSV)")
    parser.add_argument("--metrics", nargs="+", required=True, help="metrics.json of every model")
    parser.add_argument("--figures-dir", required=True, help="folder for figures")
    parser.add_argument("--tables-dir", required=True, help="folder for tables")


def run(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    footer = f"sparsekws · config {config_hash(config)} · revision {git_revision()}"
    sns.set_theme(style="whitegrid", context="paper")
    figures, tables = Path(args.figures_dir), Path(args.tables_dir)
    plot_throughput(pd.read_csv(args.throughput), figures / "throughput", footer)
    accuracy = accuracy_table([read_json(p) for p in args.metrics])
    write_csv(tables / "accuracy.csv", accuracy)
    plot_table(accuracy, figures / "accuracy", footer, "Accuracy on the test split and weight sparsity")
