"""Figures and tables of the experiment (seaborn style; PNG and SVG), the blog's graphs for our data.

- Graph 1 ``throughput``: single-network throughput per platform, log scale;
- Graph 2 ``race``: words over time, dense with a 5-minute head start vs sparse (``race``);
- Graph 3 ``full_chip``: full-chip throughput per board, networks per chip annotated, models
  that do not fit shown as 0 with the binding resource;
- Graph 4 ``energy``: energy per word where power was read (a plain notice where none was);
- ``accuracy_vs_macs``: test accuracy vs weight-sparse MACs with the Pareto front;
- tables: ``table1`` (blog Table 1), ``headline`` (our numbers next to the blog's claims),
  ``race``, ``accuracy``, ``provenance`` (CSV, plus HTML for the report).

Every figure carries a footer naming the config hash and git revision that produced it.
Estimated values are drawn hatched (bars) or dashed (lines) and their estimator is named;
measured values are plain / solid.
"""

from __future__ import annotations

import argparse
import html
import math
import platform as _platform
from pathlib import Path
from typing import Iterable, Mapping

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from sparsekws import comparison, headline, race  # noqa: E402
from sparsekws.config import load_config  # noqa: E402
from sparsekws.fileio import atomic_path, read_json, write_csv, write_text  # noqa: E402
from sparsekws.hw.table import compile_table  # noqa: E402
from sparsekws.provenance import config_hash, git_revision, package_versions, utc_now  # noqa: E402

ESTIMATE_HATCH = "//"
ESTIMATE_LINESTYLE = "--"
FORMATS = ("png", "svg")
NO_FIT_TEXT = "does not fit"


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


def _estimator_note(rows: pd.DataFrame, marking: str) -> str:
    methods = sorted(rows.loc[rows["source"] == "estimated", "method"].dropna().unique())
    return f"{marking} = estimated: " + "; ".join(methods) if methods else "all values measured"


def _with_fit(table: pd.DataFrame) -> pd.DataFrame:
    """``table`` with the fit columns of ``comparison.configurations`` (all fitting if absent)."""
    return table if "fits" in table else comparison.configurations(table)


def grouped_bars(ax: plt.Axes, rows: pd.DataFrame, x_col: str, order: list[str], models: list[str],
                 value_col: str = "throughput_words_per_s") -> list[tuple[object, dict]]:
    """Bars grouped by ``x_col`` (in ``order``), one per model; estimated ones hatched.

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
            estimated = row["source"] == "estimated"
            bar = ax.bar(x, value if value > 0 else np.nan, width=width * 0.95, color=palette[model],
                         hatch=ESTIMATE_HATCH if estimated else None,
                         edgecolor="0.25" if estimated else palette[model], linewidth=0.6)[0]
            bar.set_x(x - width * 0.95 / 2)
            drawn.append((bar, {**row, "_x": x}))
    ax.set_xticks(range(len(order)), order)
    return drawn


def _legend(ax: plt.Axes, models: list[str], estimated: bool, line: bool = False) -> None:
    palette = model_palette(models)
    if line:
        handles = [Line2D([], [], color=palette[m], lw=2, label=m) for m in models]
        if estimated:
            handles.append(Line2D([], [], color="0.3", ls=ESTIMATE_LINESTYLE, label="estimated"))
    else:
        handles = [Patch(facecolor=palette[m], label=m) for m in models]
        if estimated:
            handles.append(Patch(facecolor="white", edgecolor="0.25", hatch=ESTIMATE_HATCH, label="estimated"))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))


def _mark_no_fit(ax: plt.Axes, drawn: list[tuple[object, dict]], value_col: str) -> int:
    """Write 'does not fit' where a bar has value 0; return how many were marked."""
    marked = 0
    for _, row in drawn:
        if row[value_col] > 0:
            continue
        text = NO_FIT_TEXT if row.get("fits", True) is False else "0"
        if row.get("binding_resource") and row.get("fits", True) is False:
            util = row.get("binding_utilisation")
            text += f"\n({row['binding_resource']}" + (f" {100 * util:.0f} %)" if pd.notna(util) else ")")
        ax.text(row["_x"], 0.02, f"0: {text}", transform=ax.get_xaxis_transform(), rotation=90, ha="center",
                va="bottom", fontsize=7, color="0.15")
        marked += 1
    return marked


def _log_limits(ax: plt.Axes, values: pd.Series) -> None:
    positive = values[values > 0]
    if len(positive):
        ax.set_ylim(10 ** np.floor(np.log10(positive.min()) - 1), 10 ** np.ceil(np.log10(positive.max()) + 0.3))


def throughput_bars(table: pd.DataFrame) -> pd.DataFrame:
    """The single-network rows to plot, one bar label per (platform, batch, source)."""
    rows = _with_fit(table)
    rows = rows[rows["scope"] == "single network"].copy()
    backends = rows["backend"].fillna("") if "backend" in rows else pd.Series("", index=rows.index)
    backends = backends.str.replace("onnxruntime-", "ORT ", regex=False)  # short enough for a bar label
    rows["label"] = [
        f"{p}\n{k + chr(10) if k else ''}batch {b}\n(measured)" if s == "measured" else f"{p}\n(estimated)"
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
    _log_limits(ax, rows["throughput_words_per_s"])
    _mark_no_fit(ax, drawn, "throughput_words_per_s")
    ax.set_xlabel("")
    ax.set_ylabel("throughput (words/s, log scale)")
    ax.set_title("Graph 1: single-network throughput, dense vs sparse")
    _legend(ax, models, (rows["source"] == "estimated").any())
    return save_figure(fig, stem, f"{_estimator_note(rows, 'hatched')}\n{footer}")


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
    rows = full_chip_rows(_with_fit(configs))
    models = sorted(rows["model"].unique())
    order = sorted(rows["platform"].unique())
    fig, ax = plt.subplots(figsize=(max(6.0, 1.4 * len(order) * max(1, len(models) / 2)), 4.4))
    drawn = grouped_bars(ax, rows, "platform", order, models)
    ax.set_yscale("log")
    _log_limits(ax, rows["throughput_words_per_s"])
    for bar, row in drawn:
        if row["throughput_words_per_s"] > 0 and pd.notna(row["networks"]):
            n = int(row["networks"])
            ax.annotate(f"{n} network{'s' if n != 1 else ''}", (row["_x"], row["throughput_words_per_s"]),
                        xytext=(0, 2), textcoords="offset points", ha="center", va="bottom", fontsize=7, rotation=90)
    _mark_no_fit(ax, drawn, "throughput_words_per_s")
    if rows.empty:
        ax.text(0.5, 0.5, "No full-chip configuration in this run", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("")
    ax.set_ylabel("full-chip throughput (words/s, log scale)")
    ax.set_title("Graph 3: full-chip throughput per board (networks per chip on the bars)")
    _legend(ax, models, (rows["source"] == "estimated").any())
    budgets = "fit: every resource within the compile stage's utilisation budget"
    return save_figure(fig, stem, f"{_estimator_note(rows, 'hatched')}\n{budgets}\n{footer}")


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
        ax.text(0.5, 0.22, f"power_w is empty for every row of throughput.csv (platforms: {platforms}).\n"
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
    _legend(ax, models, (rows["source"] == "estimated").any())
    missing = sorted(set(configs["platform"]) - set(rows["platform"]))
    note = f"no power reading on: {', '.join(missing)}" if missing else "power read on every platform"
    return save_figure(fig, stem, f"{_estimator_note(rows, 'hatched')}; {note}\n{footer}"), True


def accuracy_table(metrics: list[dict], evaluations: list[dict] | None = None) -> pd.DataFrame:
    """One row per model: accuracy on the test split (the exported first seed, and the mean with
    its 95 % t-interval over ``train.seeds`` seeds; no interval for one seed), how sparse its
    weights are, and its MACs per inference counted dense and weight-sparse; with the models'
    ``evaluation.json``, also the weight-and-activation-sparse MACs measured on the test split and
    the noise-robustness score."""
    measured = {e["model"]: e for e in evaluations or []}
    rows = []
    for m in metrics:
        layers = m.get("layers", [])
        kept = sum(layer["mask_density"] * layer["total_weights"] for layer in layers if "mask_density" in layer)
        seeds = m.get("test_accuracy_over_seeds", {})
        evaluation = measured.get(m["model"], {})
        rows.append({
            "model": m["model"],
            "test_accuracy": m["test_accuracy"],
            "seeds": seeds.get("n", 1),
            "test_accuracy_mean": seeds.get("mean", m["test_accuracy"]),
            "test_accuracy_ci_low": seeds.get("ci_low"),
            "test_accuracy_ci_high": seeds.get("ci_high"),
            "validation_accuracy": m["validation_accuracy"],
            "configured_weight_density": m.get("model_config", {}).get("weight_density", np.nan),
            "mask_density": kept / m["total_weights"] if layers else np.nan,
            "nonzero_weights": m["nonzero_weights"],
            "total_weights": m["total_weights"],
            "macs_dense": m["macs_dense"],
            "macs_weight_sparse": m["macs_weight_sparse"],
            "macs_weight_activation_sparse": evaluation.get("macs", {}).get("weight_activation_sparse", np.nan),
            "noise_score": evaluation.get("noise", {}).get("score", np.nan),
            "test_samples": m["sizes"]["test"],
        })
    frame = pd.DataFrame(rows).sort_values("model", ignore_index=True)
    interval = ["test_accuracy_ci_low", "test_accuracy_ci_high"]
    frame[interval] = frame[interval].astype(float)  # no interval (one seed): NaN
    return frame


def pareto_front(points: pd.DataFrame, cost: str = "macs_weight_sparse", score: str = "test_accuracy") -> pd.DataFrame:
    """The points no other point beats on both lower ``cost`` and higher ``score``, by cost."""
    ordered = points.sort_values([cost, score], ascending=[True, False])
    best, keep = -np.inf, []
    for idx, value in zip(ordered.index, ordered[score]):
        if value > best:
            keep.append(idx)
            best = value
    return ordered.loc[keep]


MAC_COUNTS = {"macs_weight_sparse": "zero weights skipped (counted)",
              "macs_weight_activation_sparse": "zero weights and zero activations skipped (measured on test)"}


def plot_accuracy_vs_macs(accuracy: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """Mean test accuracy vs MACs per inference (log), one panel per way of counting MACs that the
    table has, the Pareto front of each as a step line."""
    counts = [c for c in MAC_COUNTS if c in accuracy and accuracy[c].notna().all()]
    models = sorted(accuracy["model"])
    palette = model_palette(models)
    score = "test_accuracy_mean" if "test_accuracy_mean" in accuracy else "test_accuracy"
    fig, axes = plt.subplots(1, len(counts), figsize=(4.6 * len(counts) + 1.6, 4.2), sharey=True, squeeze=False)
    for ax, cost in zip(axes[0], counts):
        front = pareto_front(accuracy, cost=cost, score=score)
        ax.step(front[cost], 100 * front[score], where="post", color="0.5", lw=1, label="Pareto front")
        for row in accuracy.to_dict("records"):
            ax.scatter(row[cost], 100 * row[score], s=50, color=palette[row["model"]], edgecolor="0.2", zorder=3,
                       label=row["model"])
            ax.annotate(row["model"], (row[cost], 100 * row[score]), xytext=(4, 4), textcoords="offset points",
                        fontsize=7)
        ax.set_xscale("log")
        ax.set_xlabel(f"MACs per inference, {MAC_COUNTS[cost]}")
    axes[0][0].set_ylabel("test accuracy (%)" + (", mean over seeds" if score.endswith("mean") else ""))
    axes[0][-1].legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.suptitle("Accuracy vs compute (measured accuracy)")
    samples = ", ".join(f"{m}: {n}" for m, n in zip(accuracy["model"], accuracy["test_samples"]))
    return save_figure(fig, stem, f"accuracy on the held-out test split (samples {samples})\n{footer}")


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


def provenance_table(config: dict) -> pd.DataFrame:
    """What produced these figures: config hash, git revision, time, Python and package versions."""
    rows = [("config hash", config_hash(config)), ("git revision", git_revision()), ("generated (UTC)", utc_now()),
            ("python", _platform.python_version()), ("platform", _platform.platform())]
    rows += [(f"package {name}", version) for name, version in package_versions().items()]
    return pd.DataFrame(rows, columns=["item", "value"])


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="workflow config (YAML)")
    parser.add_argument("--throughput", required=True, help="combined measurement table (CSV)")
    parser.add_argument("--metrics", nargs="+", required=True, help="metrics.json of every model")
    parser.add_argument("--evaluations", nargs="*", default=[],
                        help="evaluation.json of every model (activation-sparse MACs, noise score)")
    parser.add_argument("--estimates", nargs="*", default=[],
                        help="estimate.json of every (model, board): fit and networks per chip")
    parser.add_argument("--figures-dir", required=True, help="folder for figures")
    parser.add_argument("--tables-dir", required=True, help="folder for tables")
    parser.add_argument("--head-start-s", type=float, default=race.HEAD_START_S,
                        help="the dense network's head start in the race (default: the blog's 5 minutes)")


def run(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    footer = f"sparsekws · config {config_hash(config)} · revision {git_revision()}"
    sns.set_theme(style="whitegrid", context="paper")
    figures, tables = Path(args.figures_dir), Path(args.tables_dir)
    throughput = pd.read_csv(args.throughput)
    fits = comparison.fit_status(read_json(p) for p in args.estimates)
    configs = comparison.configurations(throughput, fits)
    best = comparison.best_configuration(configs)
    hardware_models = {name: entry for name, entry in config["models"].items() if entry.get("hardware", True)}
    pairs = comparison.model_pairs(hardware_models)
    accuracy = accuracy_table([read_json(p) for p in args.metrics], [read_json(p) for p in args.evaluations])
    accuracy.insert(1, "hardware", [config["models"].get(m, {}).get("hardware", True) for m in accuracy["model"]])
    test_accuracy = dict(zip(accuracy["model"], accuracy["test_accuracy"]))

    plot_throughput(configs, figures / "throughput", footer)
    races = race.race_table(best, pairs, args.head_start_s)
    write_csv(tables / "race.csv", races)
    plot_race(races, figures / "race", footer)
    plot_full_chip(configs, figures / "full_chip", footer)
    plot_energy(configs, figures / "energy", footer)
    plot_accuracy_vs_macs(accuracy, figures / "accuracy_vs_macs", footer)
    write_csv(tables / "accuracy.csv", accuracy)
    shown = ["model", "test_accuracy_mean", "test_accuracy_ci_low", "test_accuracy_ci_high", "mask_density",
             "nonzero_weights", "macs_dense", "macs_weight_sparse", "macs_weight_activation_sparse", "noise_score"]
    plot_table(accuracy[shown], figures / "accuracy", footer, "Accuracy on the test split, sparsity and MACs")

    unpaired = sorted(set(hardware_models) - {m for pair in pairs for m in pair})
    pairing = (f"pairs: {', '.join(comparison.pair_label(p) for p in pairs) or 'none'}"
               + (f"; no dense baseline for: {', '.join(unpaired)}" if unpaired else ""))
    table = comparison.table1(configs, pairs, test_accuracy)
    write_csv(tables / "table1.csv", table)
    write_table_html(table, tables / "table1.html", "Table 1: throughput per platform and configuration",
                     [pairing, footer])
    heads = headline.headline_table(configs, best, pairs, dict(zip(accuracy["model"], accuracy["test_accuracy_mean"])),
                                    args.head_start_s, dict(zip(accuracy["model"], accuracy["nonzero_weights"])))
    write_csv(tables / "headline.csv", heads)
    write_table_html(heads, tables / "headline.html", "Headline numbers: ours next to the blog's",
                     [pairing, f"blog: {headline.BLOG}", footer])
    write_csv(tables / "provenance.csv", provenance_table(config))
    hardware = compile_table(read_json(p) for p in args.estimates)
    write_csv(tables / "compile.csv", hardware)
    write_table_html(hardware, tables / "compile.html", "FPGA compile results per model and board (estimated)",
                     ["tuned: the folding search over PE/SIMD, weight memory and arithmetic style; stock: FINN's "
                      "default settings with only PE/SIMD searched; both within the utilisation budget "
                      "(compile.budget); resources are the estimates of one network", footer])
