"""What every figure and table shares: legible text (``MIN_FONT_PT`` at the size saved), a
colour-blind-safe palette (Okabe & Ito's colours for the FPGA designs), the footer and file
formats, how estimated and simulated values are marked (hatched and dotted bars, dashed lines) with
a one-line key, grouped bars, panels that say why they are empty, and tables as figures or HTML
pages."""

from __future__ import annotations

import html
import math
from pathlib import Path
from typing import Iterable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.patches import Patch

from sparsekws.core.files import atomic_path, write_text

MIN_FONT_PT = 9  # no text smaller than this in a saved figure
sns.set_theme(style="whitegrid", context="paper", rc={
    "font.size": 10, "axes.titlesize": 10.5, "axes.labelsize": 10, "xtick.labelsize": 9, "ytick.labelsize": 9,
    "legend.fontsize": 9, "legend.title_fontsize": 9, "figure.titlesize": 12})  # every figure

ESTIMATE_HATCH = "//"
SIMULATED_HATCH = "..."  # whole-network RTL simulation (rows with source "simulated")
HATCHES = {"estimated": ESTIMATE_HATCH, "simulated": SIMULATED_HATCH}
ESTIMATE_LINESTYLE = "--"
FORMATS = ("png", "svg")
DPI = 200  # PNG pixels per inch
NO_FIT_TEXT = "does not fit"
#: the FPGA designs of Graphs 1 and 3 (Okabe & Ito: sky blue, blue, vermillion)
DESIGN_COLOURS = {"FINN stock dense": "#56B4E9", "tuned dense": "#0072B2", "sparse": "#D55E00"}
SOURCE_KEY = {"measured": "measured", "simulated": "simulated (whole network in RTL)",
              "estimated": "estimated (analytic model)"}


def model_palette(models: list[str]) -> dict[str, tuple]:
    """Fixed colours: dense models in blues, sparse ones in oranges, by name order."""
    dense = [m for m in models if "dense" in m]
    other = [m for m in models if m not in dense]
    colours = dict(zip(dense, sns.color_palette("Blues_r", max(len(dense), 1) + 1)))
    colours.update(zip(other, sns.color_palette("Oranges_r", max(len(other), 1) + 1)))
    return colours


def save_figure(fig: plt.Figure, stem: str | Path, footer: str) -> list[Path]:
    """Save ``fig`` as ``<stem>.png`` and ``<stem>.svg`` atomically, with ``footer`` (the one-line
    provenance, ``style.footer``) in a strip below the axes; what a figure's method is goes in its
    caption, not here."""
    if "\n" in footer:
        raise ValueError(f"a figure's footer is one line (provenance); got {footer!r}")
    strip = 0.17 / fig.get_figheight()
    top = 1 - (0.35 if fig.legends else 0.0) / fig.get_figheight()
    fig.tight_layout(rect=(0, strip, 1, top))
    fig.text(0.01, 0.01, footer, ha="left", va="bottom", fontsize=MIN_FONT_PT, color="0.3")
    paths = []
    for fmt in FORMATS:
        path = Path(f"{stem}.{fmt}")
        with atomic_path(path, suffix=f".{fmt}") as tmp:
            fig.savefig(tmp, format=fmt, dpi=DPI, bbox_inches="tight")
        paths.append(path)
    plt.close(fig)
    return paths


def small_texts(fig: plt.Figure) -> list[str]:
    """The visible texts of ``fig`` smaller than ``MIN_FONT_PT`` (for tests)."""
    return [f"{t.get_text()!r} at {t.get_fontsize()} pt" for t in fig.findobj(plt.Text)
            if t.get_visible() and t.get_text().strip() and t.get_fontsize() < MIN_FONT_PT]


def key(fig: plt.Figure, models: list[str] = (), sources: set[str] = frozenset()) -> None:
    """One line of key above the panels: the models' colours, then how each source is drawn
    (estimated hatched, simulated dotted, measured plain), only those present."""
    palette = model_palette(list(models))
    handles = [Patch(facecolor=palette[m], label=m) for m in models]
    handles += [Patch(facecolor="white", edgecolor="0.25", hatch=HATCHES.get(source), label=SOURCE_KEY[source])
                for source in SOURCE_KEY if source in sources]
    if handles:
        fig.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 1.0 - 0.42 / fig.get_figheight()),
                   ncol=len(handles), frameon=False, handlelength=1.6, columnspacing=1.2)


def panel_notice(ax: plt.Axes, headline: str, detail: str = "") -> None:
    """An empty panel that says why it is empty."""
    ax.axis("off")
    ax.text(0.5, 0.62 if detail else 0.5, headline, ha="center", va="center", weight="bold", fontsize=11,
            transform=ax.transAxes)
    if detail:
        ax.text(0.5, 0.22, detail, ha="center", va="center", transform=ax.transAxes)


def grouped_bars(ax: plt.Axes, rows: pd.DataFrame, x_col: str, order: list[str], models: list[str],
                 value_col: str = "throughput_words_per_s") -> list[tuple[object, dict]]:
    """Bars grouped by ``x_col`` (in ``order``), one per model; estimated ones hatched, simulated dotted.

    Returns ``(bar, row)`` for every drawn row; a value of 0 draws no bar (annotate it).
    """
    palette = model_palette(models)
    width = 0.8 / max(len(models), 1)
    drawn = []
    for i, model in enumerate(models):
        for j, label in enumerate(order):
            match = rows[(rows["model"] == model) & (rows[x_col] == label)]
            if match.empty:
                continue
            row = match.iloc[0].to_dict()
            value = row[value_col]
            x = j - 0.4 + width * (i + 0.5)
            hatch = HATCHES.get(row["source"])
            bar = ax.bar(x, value if value > 0 else np.nan, width=width * 0.95, color=palette[model],
                         hatch=hatch, edgecolor="0.25" if hatch else palette[model], linewidth=0.6)[0]
            bar.set_x(x - width * 0.95 / 2)
            drawn.append((bar, {**row, "_x": x}))
    ax.set_xticks(range(len(order)), order)
    return drawn


def log_limits(ax: plt.Axes, values: pd.Series) -> None:
    positive = values[values > 0]
    if len(positive):
        ax.set_ylim(10 ** np.floor(np.log10(positive.min()) - 1), 10 ** np.ceil(np.log10(positive.max()) + 0.3))


def plot_table(table: pd.DataFrame, stem: str | Path, footer: str, title: str) -> list[Path]:
    """Render a small table as a figure (PNG and SVG); a table wider than long is drawn turned, one
    column per row of it (the first column's values as headings), so that the figure stays upright."""
    shown = table.copy()
    for column in shown.columns:
        if shown[column].dtype.kind == "f":
            shown[column] = shown[column].map(lambda v: f"{v:.4g}")
    labels = [c.replace("_", " ") for c in shown.columns]
    rows, heads, names = shown.values, labels, None
    if len(shown.columns) > len(shown) + 1:
        names = labels[1:]
        heads = [str(v) for v in shown.iloc[:, 0]]
        rows = shown.iloc[:, 1:].T.values
    fig, ax = plt.subplots(figsize=(min(2.4 + 1.4 * len(heads), 7.6), 0.7 + 0.28 * (len(rows) + 1)))
    ax.axis("off")
    cells = ax.table(cellText=rows, colLabels=heads, rowLabels=names, loc="center", cellLoc="center")
    cells.auto_set_font_size(False)
    cells.set_fontsize(MIN_FONT_PT)
    cells.scale(1, 1.3)
    fig.suptitle(title)
    return save_figure(fig, stem, footer)


def _cell(value: object) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        if math.isinf(value):
            return "never"
        return f"{value:,.4g}" if abs(value) < 1e4 else f"{value:,.0f}"
    return html.escape(str(value))


def write_table_html(table: pd.DataFrame, path: str | Path, title: str, notes: Iterable[str] = ()) -> Path:
    """A self-contained HTML page of ``table`` (for the report's table view), atomically."""
    head = "".join(f"<th>{html.escape(c.replace('_', ' '))}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{_cell(v)}</td>" for v in row) + "</tr>"
                   for row in table.itertuples(index=False))
    items = "".join(f"<p>{html.escape(n)}</p>" for n in notes)
    page = ("<!doctype html><html><head><meta charset='utf-8'><title>{t}</title><style>"
            "body{{font-family:sans-serif;font-size:13px;margin:1em}}table{{border-collapse:collapse}}"
            "th,td{{border:1px solid #bbb;padding:3px 6px;text-align:left;vertical-align:top}}"
            "th{{background:#eee}}p{{color:#444}}</style></head><body><h2>{t}</h2>{n}"
            "<table><thead><tr>{h}</tr></thead><tbody>{b}</tbody></table></body></html>\n"
            ).format(t=html.escape(title), n=items, h=head, b=body)
    write_text(path, page)
    return Path(path)


def footer(config_hash: str, revision: str, dataset: str | None = None) -> str:
    """The one-line provenance footer of a figure."""
    where = f" · dataset {dataset}" if dataset else ""
    return f"sparsekws{where} · config {config_hash} · revision {revision}"
