"""The class-balance figure of the dataset card: samples per class, one colour per split."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd
import seaborn as sns

from sparsekws.data.labels import SPLITS
from sparsekws.figures.style import save_figure


def plot_class_balance(card: pd.DataFrame, stem: str | Path, footer: str, title: str) -> list[Path]:
    """Bars of samples per class, one hue per split (PNG and SVG via ``style.save_figure``)."""
    task = card[card.section == "task"]
    rejected = int(card.loc[card.section == "rejected", "count"].sum())
    fig, ax = plt.subplots(figsize=(7.4, 4.0))
    sns.barplot(data=task, x="class", y="count", hue="split", hue_order=list(SPLITS), ax=ax)
    ax.set_yscale("log")
    ax.set_xlabel("")
    ax.set_ylabel("samples (counted, log scale)")
    ax.tick_params(axis="x", rotation=45)
    totals = ", ".join(f"{s} {int(task.loc[task.split == s, 'count'].sum())}" for s in SPLITS)
    ax.set_title(f"{title}\n{totals}; rejected files: {rejected}")
    return save_figure(fig, stem, footer)
