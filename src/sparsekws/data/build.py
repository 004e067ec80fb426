"""Build a dataset folder in the Google Speech Commands layout (the ``dataset`` command).

``dataset.source: synthetic`` runs the offline espeak-ng generator; ``gsc`` uses the real
release (a local archive or folder, or a verified download). The folder is assembled beside
``--out`` and renamed into place only when complete, with ``dataset_info.json`` describing it.
"""

from __future__ import annotations

import argparse
import collections
import logging
import time
from pathlib import Path

from sparsekws.config import load_config
from sparsekws.data import gsc, synth
from sparsekws.data.labels import SPLITS
from sparsekws.errors import UserError
from sparsekws.fileio import atomic_dir, write_json

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
        entries = gsc.list_dataset(tmp, required_words=words)
        noise = gsc.background_noise_files(tmp)
        counts: dict[str, dict[str, int]] = {s: collections.Counter() for s in SPLITS}
        for entry in entries:
            counts[entry.split][entry.word] += 1
        info = {
            "name": dataset["name"],
            "source": dataset["source"],
            "seed": seed,
            "task_words": words,
            "files": len(entries),
            "counts": {s: dict(sorted(c.items())) for s, c in counts.items()},
            "background_noise_files": [p.name for p in noise],
            "source_info": source_info,
        }
        write_json(tmp / INFO_FILE, info)
    log.info("built %s: %d utterances (%s) in %.1f s", out_dir, len(entries),
             ", ".join(f"{s} {sum(counts[s].values())}" for s in SPLITS), time.perf_counter() - start)
    return info


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="workflow config (YAML)")
    parser.add_argument("--out", required=True, help="dataset folder to create (replaced when complete)")
    parser.add_argument("--download-dir", default=None,
                        help="where the real GSC archive is downloaded (default: <out>/../.downloads, kept for reruns)")


def run(args: argparse.Namespace) -> None:
    config = load_config(args.config)
    build_dataset(config, args.out, args.download_dir)
