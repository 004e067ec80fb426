"""A run's result files read into the tables the figures and tables draw from.

- ``configurations``: the throughput table (``throughput.csv``) with the compile stage's fit of
  every (model, board) (``estimate.json``): models that do not fit get throughput 0
  (``comparison.configurations``);
- ``accuracy``: one row per model from ``metrics.json`` and ``evaluation.json``, with whether the
  model goes on to hardware (``accuracy.accuracy_table``);
- ``accuracy_summaries``: each model's accuracy over seeds from the accuracy table;
- ``hardware_pairs``: the dense/sparse pairs among the models that go on to hardware, and a note
  naming the pairs and the models without a dense baseline.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd

from sparsekws.core.files import read_json
from sparsekws.figures import comparison
from sparsekws.figures.accuracy import accuracy_table

#: The accuracy table's columns shown in its figure.
ACCURACY_SHOWN = ["model", "seeds", "test_accuracy_mean", "test_accuracy_ci_low", "test_accuracy_ci_high", "mask_density",
                  "nonzero_weights", "macs_dense", "macs_weight_sparse", "macs_weight_activation_sparse",
                  "noise_score"]


def configurations(throughput_csv: str | Path, estimate_jsons: Iterable[str | Path]) -> pd.DataFrame:
    """Every measured or estimated configuration, with the fit of its (model, board)."""
    fits = comparison.fit_status(read_json(path) for path in estimate_jsons)
    return comparison.configurations(pd.read_csv(throughput_csv), fits)


def hardware_models(models: Mapping[str, Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """The model entries that go on to compile and measure (``hardware`` true)."""
    return {name: entry for name, entry in models.items() if entry.get("hardware", True)}


def hardware_pairs(models: Mapping[str, Mapping[str, Any]]) -> tuple[list[tuple[str, str]], str]:
    """``(pairs, note)``: the dense/sparse pairs of the hardware models and a line naming them."""
    hardware = hardware_models(models)
    pairs = comparison.model_pairs(hardware)
    unpaired = sorted(set(hardware) - {m for pair in pairs for m in pair})
    note = (f"pairs: {', '.join(comparison.pair_label(p) for p in pairs) or 'none'}"
            + (f"; no dense baseline for: {', '.join(unpaired)}" if unpaired else ""))
    return pairs, note


def accuracy(metrics_jsons: Iterable[str | Path], evaluation_jsons: Iterable[str | Path],
             models: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """The accuracy table of every model, with its ``hardware`` flag."""
    table = accuracy_table([read_json(p) for p in metrics_jsons], [read_json(p) for p in evaluation_jsons])
    table.insert(1, "hardware", [models.get(m, {}).get("hardware", True) for m in table["model"]])
    return table


def accuracy_summaries(accuracy: pd.DataFrame) -> dict[str, dict[str, Any]]:
    """Per model of an accuracy table, its test accuracy over seeds as ``core.stats.confidence_summary`` gives it."""
    def summary(row) -> dict[str, Any]:
        spread = {key: None if pd.isna(row[f"test_accuracy_{key}"]) else float(row[f"test_accuracy_{key}"])
                  for key in ("std", "ci_low", "ci_high")}
        return {"n": int(row["seeds"]), "mean": float(row["test_accuracy_mean"]), **spread}
    return {row["model"]: summary(row) for _, row in accuracy.iterrows()}
