"""The dataset card: what each split of the task holds (the table of the ``dataset-card`` command).

One CSV (``section, split, class, count``) with three sections, all counted (not estimated):

- ``task``: samples per split and class of the 12-class task, exactly as the features stage
  draws them (same seed, same unknown draw and silence windows);
- ``files``: usable word clips per split and word folder on disk;
- ``rejected``: files left out by the validation rule of ``sparsekws.data.wav``, per split
  and word folder (split ``none`` for background-noise files).

The class-balance figure (``figures.class_balance``) shows the ``task`` section.
"""

from __future__ import annotations

import collections
from pathlib import Path

import pandas as pd

from sparsekws.data.build import usable_entries
from sparsekws.data.labels import SPLITS, class_names
from sparsekws.data.task import task_of

COLUMNS = ["section", "split", "class", "count"]


def dataset_card(config: dict, dataset_dir: str | Path) -> pd.DataFrame:
    """The card of ``dataset_dir`` under ``config``'s task as a DataFrame (``COLUMNS``)."""
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
