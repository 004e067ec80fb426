"""The dataset card: what each split of the task holds (the table of the ``dataset-card`` command).

One CSV (``section, split, class, count``), all counted (not estimated):

- ``task``: samples per split and class of the 12-class task, exactly as the features stage
  draws them (same seed, same unknown draw and silence windows);
- ``files``: usable word clips per split and word folder on disk;
- ``rejected``: files left out by the validation rule of ``sparsekws.data.wav`` or rejected by
  the generator, per split and word folder (split ``none`` for background-noise files);

and, for a synthetic dataset, per split:

- ``speakers``: speakers per voice family; ``voices``: speakers per ``family/voice[+variant]``;
- ``snr_db`` and ``level_dbfs``: usable clips per 5 dB bin of the SNR they were mixed at and of
  their speech level (class ``[low, high)``).

``card_summary`` is the card's header (``dataset_card.json``): name, source, content hash,
engine versions, family shares, and SNR and level percentiles per family. The class-balance
figure (``figures.class_balance``) shows the ``task`` section.
"""

from __future__ import annotations

import collections
import math
from pathlib import Path

import numpy as np
import pandas as pd

from sparsekws.core.files import read_json
from sparsekws.data.build import INFO_FILE, usable_entries
from sparsekws.data.gsc import speaker_id
from sparsekws.data.labels import SPLITS, class_names
from sparsekws.data.task import task_of

COLUMNS = ["section", "split", "class", "count"]
BIN_DB = 5


def _voice(speaker: dict) -> str:
    return f"{speaker['family']}/{speaker['voice']}" + (f"+{speaker['variant']}" if speaker["variant"] else "")


def _binned(values: list[float]) -> list[str]:
    return [f"[{BIN_DB * math.floor(v / BIN_DB)}, {BIN_DB * math.floor(v / BIN_DB) + BIN_DB})" for v in values]


def synthetic_rows(info: dict, usable: set[str]) -> list[tuple]:
    """The ``speakers``, ``voices``, ``snr_db`` and ``level_dbfs`` sections of a synthetic dataset."""
    source = info.get("source_info", {})
    speakers = source.get("speakers", [])
    if not speakers or "family" not in speakers[0]:
        return []
    rows = []
    rows += [("speakers", split, family, n) for (split, family), n in
             sorted(collections.Counter((s["split"], s["family"]) for s in speakers).items())]
    rows += [("voices", split, voice, n) for (split, voice), n in
             sorted(collections.Counter((s["split"], _voice(s)) for s in speakers).items())]
    split_of = {s["id"]: s["split"] for s in speakers}
    clips = [c for c in source.get("clips", []) if c["path"] in usable]
    for key in ("snr_db", "level_dbfs"):
        bins = _binned([c[key] for c in clips])
        counts = collections.Counter((split_of[speaker_id(c["path"])], b) for c, b in zip(clips, bins))
        rows += [(key, split, b, n) for (split, b), n in
                 sorted(counts.items(), key=lambda item: (item[0][0], int(item[0][1][1:].split(",")[0])))]
    return rows


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
    info_path = Path(dataset_dir) / INFO_FILE
    if info_path.is_file():
        rows += synthetic_rows(read_json(info_path), {e.path for e in entries})
    return pd.DataFrame(rows, columns=COLUMNS)


def card_summary(dataset_dir: str | Path) -> dict:
    """The card's header: what the dataset is, its content hash and, for a synthetic one, its
    voice families with SNR and level percentiles (5, 50, 95) per family."""
    info = read_json(Path(dataset_dir) / INFO_FILE)
    source = info.get("source_info", {})
    summary = {"name": info["name"], "source": info["source"], "seed": info["seed"], "files": info["files"],
               "rejected": len(info.get("rejected", [])), "content_sha256": info.get("content_sha256"),
               "engine_versions": source.get("engine_versions", {})}
    speakers = source.get("speakers", [])
    if speakers and "family" in speakers[0]:
        family_of = {s["id"]: s["family"] for s in speakers}
        summary["families"] = {}
        for family, share in source["parameters"]["families"].items():
            clips = [c for c in source.get("clips", []) if family_of[speaker_id(c["path"])] == family]
            entry = {"share": share, "speakers": sum(1 for s in speakers if s["family"] == family),
                     "voices": sorted({_voice(s) for s in speakers if s["family"] == family}), "clips": len(clips)}
            for key in ("snr_db", "level_dbfs"):
                if clips:
                    entry[f"{key}_percentiles_5_50_95"] = [
                        round(float(v), 2) for v in np.percentile([c[key] for c in clips], [5, 50, 95])]
            summary["families"][family] = entry
    return summary
