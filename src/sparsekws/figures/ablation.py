"""The ablation table: each change of the training recipe against its base model, over seeds.

One row per base model (the config's own recipe) and per ablation row (``models.ablation``):
test accuracy over seeds (mean and 95 % t-interval), the difference to the base in percentage
points with its Welch interval, the selected epochs, and the share of the mask's kept weights
that quantisation rounds to zero.
"""

from __future__ import annotations

from typing import Any, Mapping

import pandas as pd

from sparsekws.core.stats import confidence_summary, difference_summary

COLUMNS = ["model", "base", "change", "seeds", "epochs", "test_accuracy_mean", "test_accuracy_ci_low",
           "test_accuracy_ci_high", "difference_pp", "difference_ci_low_pp", "difference_ci_high_pp",
           "best_epochs", "nonzero_weights", "kept_zero_fraction"]
BASE_CHANGE = "none: the config's recipe"
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
