"""Build a dataset folder in the Google Speech Commands layout (what the ``dataset`` command runs).

``dataset.source: synthetic`` runs the offline generator (``data.synth``); ``gsc`` uses the real
release (a local archive or folder, or a verified download). The folder is assembled beside
``--out`` and renamed into place only when complete, with ``dataset_info.json`` describing it.
Every clip is validated (``wav.clip_problem``); rejected clips (and utterances the generator
rejected) are logged by name, recorded under ``rejected`` in ``dataset_info.json`` and left out
of the counts and of every split (``usable_entries``).
"""

from __future__ import annotations

import collections
import hashlib
import logging
import time
from pathlib import Path

from tqdm import tqdm

from sparsekws.core.errors import UserError
from sparsekws.core.files import atomic_dir, read_json, write_json
from sparsekws.data import gsc, synth
from sparsekws.data.labels import BACKGROUND_NOISE_DIR, SPLITS
from sparsekws.data.wav import clip_problem

log = logging.getLogger(__name__)
INFO_FILE = "dataset_info.json"


def build_dataset(config: dict, out_dir: str | Path, download_dir: str | Path | None = None) -> dict:
    """Build the dataset of a validated ``config`` into ``out_dir``; returns its info record."""
    out_dir = Path(out_dir)
    dataset = config["dataset"]
    words = config["task"]["words"]
    seed = config["seed"]
    start = time.perf_counter()
    with atomic_dir(out_dir) as tmp:
        if dataset["source"] == "synthetic":
            source_info = synth.generate(tmp, words, dataset.get("synthetic", {}), seed)
        elif dataset["source"] == "gsc":
            download_dir = Path(download_dir) if download_dir else out_dir.parent / ".downloads"
            source_info = gsc.prepare_gsc(dataset.get("gsc", {}), tmp, download_dir)
        else:  # the schema prevents this
            raise UserError(f"unknown dataset.source {dataset['source']!r}")
        try:
            listed = gsc.list_dataset(tmp, required_words=words)
        except UserError as exc:  # name the user's source, not the staging folder
            raise UserError(str(exc).replace(str(tmp), source_name(dataset))) from None
        rejected = list(source_info.pop("rejected", []))  # utterances the generator did not write
        for entry in tqdm(listed, desc="validate clips", unit="clip"):
            problem = clip_problem(tmp / entry.path)
            if problem:
                log.warning("rejected %s: %s", entry.path, problem)
                rejected.append({"path": entry.path, "word": entry.word, "split": entry.split, "reason": problem})
        for path in sorted(p.relative_to(tmp).as_posix() for p in gsc.background_noise_files(tmp)):
            problem = clip_problem(tmp / path)
            if problem:
                log.warning("rejected background noise %s: %s", path, problem)
                rejected.append({"path": path, "word": BACKGROUND_NOISE_DIR, "split": None, "reason": problem})
        bad = {r["path"] for r in rejected}
        entries = [e for e in listed if e.path not in bad]
        noise = [p for p in gsc.background_noise_files(tmp) if p.relative_to(tmp).as_posix() not in bad]
        if not noise:
            raise UserError(f"every file of {BACKGROUND_NOISE_DIR} in {source_name(dataset)} was rejected; "
                            "silence is cut from them")
        counts: dict[str, dict[str, int]] = {s: collections.Counter() for s in SPLITS}
        for entry in entries:
            counts[entry.split][entry.word] += 1
        for split in SPLITS:
            empty = [w for w in words if counts[split][w] == 0]
            if empty:
                raise UserError(f"the {split} split has no usable clips of task word(s) {', '.join(empty)} "
                                f"(dataset {dataset['name']}); check the data or the split lists")
        info = {
            "name": dataset["name"],
            "source": dataset["source"],
            "seed": seed,
            "task_words": words,
            "files": len(entries),
            "counts": {s: dict(sorted(c.items())) for s, c in counts.items()},
            "background_noise_files": [p.name for p in noise],
            "content_sha256": content_hash(tmp),
            "rejected": rejected,
            "source_info": source_info,
        }
        write_json(tmp / INFO_FILE, info)
    if rejected:
        log.warning("%d file(s) rejected (listed under 'rejected' in %s)", len(rejected), INFO_FILE)
    log.info("built %s: %d utterances (%s) in %.1f s", out_dir, len(entries),
             ", ".join(f"{s} {sum(counts[s].values())}" for s in SPLITS), time.perf_counter() - start)
    return info


def content_hash(folder: str | Path) -> str:
    """sha256 over every file's relative path and bytes, in path order (``dataset_info.json`` excluded)."""
    folder = Path(folder)
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != INFO_FILE):
        digest.update(path.relative_to(folder).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def source_name(dataset: dict) -> str:
    """What the user gave as the dataset's source, for messages: the GSC archive or folder, or the generator."""
    if dataset["source"] == "gsc":
        return str(dataset.get("gsc", {}).get("archive") or f"the downloaded GSC {dataset.get('gsc', {}).get('version')}")
    return f"the synthetic dataset '{dataset['name']}'"


def usable_entries(dataset_dir: str | Path, words: list[str]) -> tuple[list[gsc.Entry], list[Path], list[dict]]:
    """(entries, background-noise files, rejected records) of a dataset folder, leaving out the
    files its ``dataset_info.json`` rejected (a folder without that file is taken as it is)."""
    dataset_dir = Path(dataset_dir)
    info_path = dataset_dir / INFO_FILE
    rejected = read_json(info_path).get("rejected", []) if info_path.is_file() else []
    bad = {r["path"] for r in rejected}
    entries = [e for e in gsc.list_dataset(dataset_dir, required_words=words) if e.path not in bad]
    noise = [p for p in gsc.background_noise_files(dataset_dir) if p.relative_to(dataset_dir).as_posix() not in bad]
    if not noise:
        raise UserError(f"{dataset_dir}/{BACKGROUND_NOISE_DIR} has no usable .wav files")
    return entries, noise, rejected
