"""The dataset card: what each split of the task holds (the ``dataset-card`` command).

One CSV (``section, split, class, count``) with three sections, all counted (not estimated):

- ``task``: samples per split and class of the 12-class task, exactly as the features stage
  draws them (same seed, same unknown draw and silence windows);
- ``files``: usable word clips per split and word folder on disk;
- ``rejected``: files left out by the validation rule of ``sparsekws.data.wav``, per split
  and word folder (split ``none`` for background-noise files).

The class-balance figure shows the ``task`` section as bars per class, one colour per split.
"""

from __future__ import annotations

import argparse
import collections
import logging
from pathlib import Path

import pandas as pd

from sparsekws.config import load_config
from sparsekws.data.build import usable_entries
from sparsekws.data.labels import SPLITS, class_names
from sparsekws.fileio import write_csv

log = logging.getLogger(__name__)
COLUMNS = ["section", "split", "class", "count"]


def dataset_card(config: dict, dataset_dir: str | Path) -> pd.DataFrame:
    """The card of ``dataset_dir`` under ``config``'s task as a DataFrame (``COLUMNS``)."""
    from sparsekws.features import task_of

    classes = class_names(config["task"]["words"])
    samples, _, rejected = task_of(config, dataset_dir)
    entries, _, _ = usable_entries(dataset_dir, config["task"]["words"])
    rows = []
    for split in SPLITS:
        per_class = collections.Counter(s.label for s in samples[split])
        rows += [("task", split, c, per_class[i]) for i, c in enumerate(classes)]
    files = collections.Counter((e.split, e.word) for e in entries)
    rows += [("files", split, word, n) for (split, word), n in sorted(files.items())]
    bad = collections.Counter((r["split"] or "none", r["word"]) for r in rejected)
    rows += [("rejected", split, word, n) for (split, word), n in sorted(bad.items())]
    return pd.DataFrame(rows, columns=COLUMNS)


def plot_class_balance(card: pd.DataFrame, stem: str | Path, footer: str, title: str) -> list[Path]:
    """Bars of samples per class, one hue per split (PNG and SVG via ``plots.save_figure``)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    from sparsekws.plots import save_figure

    task = card[card.section == "task"]
    rejected = int(card.loc[card.section == "rejected", "count"].sum())
    sns.set_theme(style="whitegrid", context="paper")
    fig, ax = plt.subplots(figsize=(8, 3.6))
    sns.barplot(data=task, x="class", y="count", hue="split", hue_order=list(SPLITS), ax=ax)
    ax.set_yscale("log")
    ax.set_xlabel("")
    ax.set_ylabel("samples (counted, log scale)")
    ax.tick_params(axis="x", rotation=45)
    totals = ", ".join(f"{s} {int(task.loc[task.split == s, 'count'].sum())}" for s in SPLITS)
    ax.set_title(f"{title}\n{totals}; rejected files: {rejected}", fontsize=9)
    return save_figure(fig, stem, footer)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="workflow config (YAML)")
    parser.add_argument("--dataset-dir", required=True, help="dataset folder in the GSC layout")
    parser.add_argument("--csv", required=True, help="output CSV (section, split, class, count)")
    parser.add_argument("--figure", required=True, help="figure path without suffix (writes .png and .svg)")


def run(args: argparse.Namespace) -> None:
    from sparsekws.provenance import config_hash, git_revision

    config = load_config(args.config)
    card = dataset_card(config, args.dataset_dir)
    write_csv(args.csv, card)
    name = config["dataset"]["name"]
    footer = f"sparsekws · dataset {name} · config {config_hash(config)} · revision {git_revision()}"
    plot_class_balance(card, args.figure, footer, f"Class balance of dataset '{name}' ({config['dataset']['source']})")
    log.info("wrote %s and %s.png/.svg", args.csv, args.figure)
