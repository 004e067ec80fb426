"""The ablation table and figure: each change of the training recipe against its base model, over seeds.

One row per base model (the config's own recipe) and per ablation row (``models.ablation``):
test accuracy over seeds (mean and 95 % t-interval), the difference to the base in percentage
points with its Welch interval, the selected epochs, and the share of the mask's kept weights
that quantisation rounds to zero.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sparsekws.core.errors import UserError
from sparsekws.core.stats import confidence_summary, difference_summary
from sparsekws.figures.style import save_figure

COLUMNS = ["model", "base", "change", "seeds", "epochs", "test_accuracy_mean", "test_accuracy_ci_low",
           "test_accuracy_ci_high", "difference_pp", "difference_ci_low_pp", "difference_ci_high_pp",
           "best_epochs", "nonzero_weights", "kept_zero_fraction"]
BASE_CHANGE = "none: the config's recipe"
EFFECT_COLOURS = {"better": "#0072B2", "worse": "#D55E00", "no measured effect": "0.45"}  # colour-blind safe
ABLATION_NOTE = ("test accuracy: mean and 95 % t-interval over seeds; difference: variant minus base, percentage "
                 "points, Welch 95 % interval; kept_zero_fraction: share of the mask's kept weights that "
                 "quantisation rounds to zero")


def _accuracies(metrics: Mapping[str, Any]) -> list[float]:
    return [run["test_accuracy"] for run in metrics["seeds"]]


def _row(name: str, base: str, change: str, metrics: Mapping[str, Any], base_metrics: Mapping[str, Any]):
    accuracy = confidence_summary(_accuracies(metrics))
    difference = difference_summary(_accuracies(base_metrics), _accuracies(metrics))
    pp = lambda value: None if value is None else 100 * value  # noqa: E731
    return {"model": name, "base": base, "change": change, "seeds": accuracy["n"], "epochs": metrics["epochs"],
            "test_accuracy_mean": accuracy["mean"], "test_accuracy_ci_low": accuracy["ci_low"],
            "test_accuracy_ci_high": accuracy["ci_high"], "difference_pp": pp(difference["difference"]),
            "difference_ci_low_pp": pp(difference["ci_low"]), "difference_ci_high_pp": pp(difference["ci_high"]),
            "best_epochs": " ".join(str(run["best_epoch"]) for run in metrics["seeds"]),
            "nonzero_weights": metrics["nonzero_weights"], "kept_zero_fraction": metrics.get("kept_zero_fraction")}


def ablation_table(variants: Mapping[str, Mapping[str, str]], metrics: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """``variants``: variant model -> {base, change} (``models.ablation.ablation_variants``);
    ``metrics``: metrics.json by model, bases and variants."""
    rows = []
    for base in dict.fromkeys(spec["base"] for spec in variants.values()):
        rows.append(_row(base, base, BASE_CHANGE, metrics[base], metrics[base]))
        rows += [_row(name, base, spec["change"], metrics[name], metrics[base])
                 for name, spec in variants.items() if spec["base"] == base]
    return pd.DataFrame(rows, columns=COLUMNS)


def plot_ablation(table: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """The ablation at a glance: each variant's difference to its base (percentage points) with its
    Welch 95 % interval, better / worse / no measured effect told apart by colour, grouped by base."""
    variants = table[table["model"] != table["base"]].reset_index(drop=True)
    if variants.empty:
        raise UserError("the ablation table has no variant rows: nothing to draw")
    fig, ax = plt.subplots(figsize=(7.4, max(3.7, 1.4 + 0.45 * len(variants))))
    y = np.arange(len(variants))[::-1]
    for position, row in zip(y, variants.itertuples()):
        low, high = row.difference_ci_low_pp, row.difference_ci_high_pp
        known = pd.notna(low) and pd.notna(high)
        effect = "better" if known and low > 0 else "worse" if known and high < 0 else "no measured effect"
        ax.errorbar(row.difference_pp, position, xerr=[[row.difference_pp - low], [high - row.difference_pp]]
                    if known else None, fmt="o", color=EFFECT_COLOURS[effect], capsize=3, lw=1.2)
        ax.annotate(f"{row.difference_pp:+.1f}", (row.difference_pp, position), textcoords="offset points",
                    xytext=(0, 6), ha="center")
    ax.axvline(0, color="0.3", lw=0.8)
    labels = [f"{row.model.removeprefix(row.base + '-')} (vs {row.base}, {row.seeds} seed{'s' * (row.seeds != 1)})"
              for row in variants.itertuples()]
    ax.set_yticks(y, labels)
    ax.set_xlabel("test accuracy, variant minus base (percentage points)")
    handles = [plt.Line2D([], [], marker="o", ls="", color=colour, label=effect)
               for effect, colour in EFFECT_COLOURS.items()]
    ax.legend(handles=handles, loc="best")
    ax.set_title("mean over seeds, whisker Welch 95 % interval of the difference")
    fig.suptitle("Training-recipe ablation: one change at a time (measured)")
    return save_figure(fig, stem, footer)
