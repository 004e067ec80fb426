"""Figures of training and evaluation (PNG and SVG).

- ``training_curves``: loss and accuracy per epoch, train (dashed) vs validation (solid), per
  model; with several seeds the line is the mean and the band one standard deviation;
- ``confusion``: the test-split confusion matrix of every model (colour = fraction of the true
  class, text = count);
- ``noise_robustness``: test accuracy vs white-noise level alpha for every model, the noise
  score (correct answers summed over the levels) in the legend.

All numbers are measured (training logs and the evaluation stage); the footer names the
config hash and git revision.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from sparsekws.figures.style import MIN_FONT_PT, model_palette, save_figure


def curves_frame(histories: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Long table of the histories: model, seed_index, epoch, split (train/validation), loss, accuracy."""
    rows = []
    for model, history in histories.items():
        history = history.copy()
        if "seed_index" not in history:
            history["seed_index"] = 0
        for split in ("train", "validation"):
            part = history[["seed_index", "epoch", f"{split}_loss", f"{split}_accuracy"]].rename(
                columns={f"{split}_loss": "loss", f"{split}_accuracy": "accuracy"})
            rows.append(part.assign(model=model, split=split))
    return pd.concat(rows, ignore_index=True)


def plot_training_curves(histories: dict[str, pd.DataFrame], stem: str | Path, footer: str) -> list[Path]:
    """Loss and accuracy per epoch, train vs validation, one colour per model."""
    frame = curves_frame(histories)
    models = list(histories)
    seeds = int(frame.groupby("model")["seed_index"].nunique().max())
    fig, axes = plt.subplots(1, 2, figsize=(7.4, 3.9))
    for ax, metric in zip(axes, ("loss", "accuracy")):
        sns.lineplot(data=frame, x="epoch", y=metric, hue="model", hue_order=models, style="split",
                     style_order=["validation", "train"], palette=model_palette(models),
                     errorbar="sd" if seeds > 1 else None, ax=ax)
        ax.set_title(f"{metric} per epoch")
    axes[0].set_yscale("log")
    axes[1].set_ylim(0, 1.02)
    axes[0].get_legend().remove()
    sns.move_legend(axes[1], "lower right", frameon=True)
    fig.suptitle("Training: " + (f"mean over {seeds} seeds, band = 1 std" if seeds > 1 else "one seed"))
    return save_figure(fig, stem, footer)


def plot_confusions(confusions: dict[str, pd.DataFrame], stem: str | Path, footer: str) -> list[Path]:
    """One heatmap per model: colour = fraction of the true class, annotation = count."""
    count = len(confusions)
    cols = min(2, count)
    rows = -(-count // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(7.6 if cols == 2 else 5.6, 4.4 * rows + 0.6), squeeze=False)
    for ax in axes.flat[count:]:
        ax.axis("off")
    for ax, (model, table) in zip(axes.flat, confusions.items()):
        counts = table.set_index("true")
        totals = counts.sum(axis=1).to_numpy()[:, None]
        fractions = np.divide(counts.to_numpy(), totals, out=np.zeros(counts.shape), where=totals > 0)
        sns.heatmap(fractions, vmin=0, vmax=1, cmap="Blues", annot=counts.to_numpy(), fmt="d",
                    annot_kws={"fontsize": MIN_FONT_PT}, xticklabels=counts.columns, yticklabels=counts.index,
                    cbar=False, ax=ax)
        correct = int(np.trace(counts.to_numpy()))
        ax.set_title(f"{model}: {correct}/{int(totals.sum())} correct")
        ax.set_xlabel("predicted")
        ax.set_ylabel("true")
        ax.tick_params(axis="x", rotation=90)
        ax.tick_params(axis="y", rotation=0)
    fig.suptitle("Test split: colour = fraction of the true class, number = count")
    return save_figure(fig, stem, footer)


def noise_scores(noise: pd.DataFrame) -> dict[str, tuple[int, int]]:
    """Per model: (correct answers summed over the noise levels, answers given)."""
    grouped = noise.groupby("model", sort=False)[["correct", "samples"]].sum()
    return {model: (int(row["correct"]), int(row["samples"])) for model, row in grouped.iterrows()}


def plot_noise(noise: pd.DataFrame, stem: str | Path, footer: str) -> list[Path]:
    """Test accuracy vs noise level per model; the legend gives each model's noise score."""
    models = list(dict.fromkeys(noise["model"]))
    labels = {m: f"{m} (score {score}/{total})" for m, (score, total) in noise_scores(noise).items()}
    labelled = noise.assign(label=noise["model"].map(labels))
    palette = {labels[m]: colour for m, colour in model_palette(models).items()}
    fig, ax = plt.subplots(figsize=(6.5, 4))
    sns.lineplot(data=labelled, x="alpha", y="accuracy", hue="label", palette=palette, marker="o", ax=ax)
    ax.set_xlabel("noise level alpha (audio' = (1 - alpha) audio + alpha U(-1, 1))")
    ax.set_ylabel("test accuracy")
    ax.set_ylim(0, 1.02)
    ax.legend(title="model (noise score)")
    ax.set_title("test split; score = correct answers summed over the levels")
    return save_figure(fig, stem, footer)
