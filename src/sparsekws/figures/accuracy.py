"""Accuracy per model and accuracy vs compute: the accuracy table (test accuracy over seeds, weight
sparsity, MACs counted three ways, noise score) and its Pareto figure."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from sparsekws.figures.style import key, model_palette, save_figure


def accuracy_table(metrics: list[dict], evaluations: list[dict] | None = None) -> pd.DataFrame:
    """One row per model: accuracy on the test split (the exported first seed, and the mean with
    its 95 % t-interval and standard deviation over ``train.seeds`` seeds; no interval for one
    seed), how sparse its weights are (and the share of kept weights quantised to zero), and its MACs per inference counted dense and weight-sparse; with the models'
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
            "test_accuracy_std": seeds.get("std"),
            "validation_accuracy": m["validation_accuracy"],
            "configured_weight_density": m.get("model_config", {}).get("weight_density", np.nan),
            "mask_density": kept / m["total_weights"] if layers else np.nan,
            "nonzero_weights": m["nonzero_weights"],
            "kept_zero_fraction": m.get("kept_zero_fraction", np.nan),
            "total_weights": m["total_weights"],
            "macs_dense": m["macs_dense"],
            "macs_weight_sparse": m["macs_weight_sparse"],
            "macs_weight_activation_sparse": evaluation.get("macs", {}).get("weight_activation_sparse", np.nan),
            "noise_score": evaluation.get("noise", {}).get("score", np.nan),
            "test_samples": m["sizes"]["test"],
        })
    frame = pd.DataFrame(rows).sort_values("model", ignore_index=True)
    interval = ["test_accuracy_ci_low", "test_accuracy_ci_high", "test_accuracy_std"]
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
    fig, axes = plt.subplots(len(counts), 1, figsize=(6.8, 3.3 * len(counts) + 0.9), sharey=True, squeeze=False)
    for ax, cost in zip(axes[:, 0], counts):
        front = pareto_front(accuracy, cost=cost, score=score)
        ax.step(front[cost], 100 * front[score], where="post", color="0.5", lw=1, label="Pareto front")
        for row in accuracy.to_dict("records"):
            ax.scatter(row[cost], 100 * row[score], s=50, color=palette[row["model"]], edgecolor="0.2", zorder=3,
                       label=row["model"])
            ax.annotate(row["model"], (row[cost], 100 * row[score]), xytext=(4, 4), textcoords="offset points")
        ax.set_xscale("log")
        ax.set_xlabel(f"MACs per inference, {MAC_COUNTS[cost]}")
        ax.set_ylabel("test accuracy (%)" + (", mean over seeds" if score.endswith("mean") else ""))
    key(fig, models=models)
    fig.suptitle(f"Accuracy vs compute (measured accuracy{words_tested(accuracy)})")
    return save_figure(fig, stem, footer)


def words_tested(accuracy: pd.DataFrame) -> str:
    """`` on 480 test words`` where every model was tested on the same number of words, else ``""``
    (the counts per model are in the table's ``test_samples``)."""
    sizes = set(accuracy["test_samples"].dropna().astype(int)) if "test_samples" in accuracy else set()
    return f" on {sizes.pop():,} test words" if len(sizes) == 1 else ""


def held_out_label(table: pd.DataFrame, family: str) -> str:
    """A cross-voice tick label: the held-out family and how many of its words were tested."""
    words = table.loc[table["held_out"] == family, "n"] if "n" in table else pd.Series(dtype=float)
    return f"without {family}" + (f"\n({int(words.iloc[0]):,} words)" if len(words) else "")


def plot_cross_voice(table: pd.DataFrame, stem: str | Path, footer: str, target: float = 0.8) -> list[Path]:
    """Leave-one-family-out accuracy: per held-out family and model, the accuracy on the held-out
    family (solid) beside the in-family test accuracy (light), mean over seeds with the 95 %
    interval as a whisker where there are several, with the target as a line."""
    models = list(dict.fromkeys(table["model"]))
    families = list(dict.fromkeys(table["held_out"]))
    palette = model_palette(models)
    fig, ax = plt.subplots(figsize=(min(7.6, 1.6 + 1.5 * len(families) * len(models) / 2), 4.4))
    width = 0.8 / (2 * len(models))
    for m, model in enumerate(models):
        rows = table[table["model"] == model].set_index("held_out").reindex(families)
        for k, (column, low, high, alpha, label) in enumerate((
                ("accuracy", "accuracy_ci_low", "accuracy_ci_high", 1.0, "held-out family"),
                ("in_family_accuracy", "in_family_ci_low", "in_family_ci_high", 0.35, "in-family test"))):
            x = np.arange(len(families)) - 0.4 + width * (2 * m + k + 0.5)
            interval = rows.reindex(columns=[low, high]).astype(float)
            whiskers = None if interval.isna().all().all() else 100 * np.vstack(
                [rows[column] - interval[low], interval[high] - rows[column]])
            bars = ax.bar(x, 100 * rows[column], width, color=palette[model], alpha=alpha, edgecolor="0.2",
                          label=f"{model}, {label}", yerr=whiskers, capsize=2, error_kw={"lw": 0.8})
            ax.bar_label(bars, fmt="%.0f", padding=1)
    ax.axhline(100 * target, color="0.3", ls=":", lw=1, label=f"target {100 * target:.0f} %")
    ax.set_xticks(np.arange(len(families)), [held_out_label(table, f) for f in families])
    ax.set_ylim(0, 115)
    ax.set_ylabel("accuracy (%)")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncol=2, frameon=False)  # below: no bar hidden
    fig.suptitle("Leave one voice family out: accuracy on voices never heard (measured)")
    seeds = int(table["seeds"].min()) if "seeds" in table else 1
    ax.set_title(f"mean over {seeds} seeds, whisker 95 % t-interval" if seeds > 1 else "one seed: no interval")
    return save_figure(fig, stem, footer)
