"""Features files split by voice family, for the leave-one-family-out test (``cross_voice``).

A synthetic dataset records each speaker's voice family (``dataset_info.json``); a sample's
family is its speaker's (silence windows have none). For a held-out family ``f``:

- ``without(f)``: the features file without ``f``'s samples in any split (silence kept), and the
  augmented train copies with the same rows: what the cross-voice models train, select and
  are tested on (their test split gives the *in-family* accuracy);
- ``only(f)``: every word sample of ``f`` from all three splits (``x``, ``y``, ``files``,
  ``classes``): voices the cross-voice model never heard.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sparsekws.core.errors import UserError
from sparsekws.core.files import read_json
from sparsekws.data.build import INFO_FILE
from sparsekws.data.gsc import speaker_id
from sparsekws.data.labels import SPLITS


def speaker_families(dataset_dir: str | Path) -> dict[str, str]:
    """Speaker id -> voice family of a synthetic dataset (a UserError for any other)."""
    info = read_json(Path(dataset_dir) / INFO_FILE)
    speakers = info.get("source_info", {}).get("speakers", [])
    if info.get("source") != "synthetic" or not all("family" in s for s in speakers):
        raise UserError(f"{dataset_dir} records no voice families (only a synthetic dataset built by this "
                        "revision does); the cross-voice test needs them: set cross_voice.models: []")
    return {s["id"]: s["family"] for s in speakers}


def sample_families(files: np.ndarray, families: dict[str, str]) -> np.ndarray:
    """The family of each sample source (``word/<speaker>_nohash_<take>.wav``); "" for silence windows."""
    out = []
    for source in map(str, files):
        if "@" in source:  # a window of a background-noise file
            out.append("")
            continue
        speaker = speaker_id(source)
        if speaker not in families:
            raise UserError(f"sample {source} has a speaker ({speaker}) the dataset info does not list")
        out.append(families[speaker])
    return np.array(out, dtype=str)


def without_family(arrays: dict, families: dict[str, str], held_out: str) -> tuple[dict, np.ndarray]:
    """The features arrays without ``held_out``'s samples, and the kept rows of the train split."""
    out = {k: v for k, v in arrays.items() if not k.startswith(("x_", "y_", "files_"))}
    kept_train = None
    for split in SPLITS:
        keep = sample_families(arrays[f"files_{split}"], families) != held_out
        for prefix in ("x", "y", "files"):
            out[f"{prefix}_{split}"] = arrays[f"{prefix}_{split}"][keep]
        if split == "train":
            kept_train = keep
    return out, kept_train


def only_family(arrays: dict, families: dict[str, str], held_out: str) -> dict:
    """Every sample of ``held_out`` from all splits: ``x``, ``y``, ``files``, ``classes``."""
    parts = {"x": [], "y": [], "files": []}
    for split in SPLITS:
        keep = sample_families(arrays[f"files_{split}"], families) == held_out
        for prefix in parts:
            parts[prefix].append(arrays[f"{prefix}_{split}"][keep])
    out = {k: np.concatenate(v) for k, v in parts.items()}
    if len(out["y"]) == 0:
        raise UserError(f"the dataset has no samples of voice family {held_out!r}; check "
                        "dataset.synthetic.families and cross_voice.families")
    out["classes"] = arrays["classes"]
    return out
