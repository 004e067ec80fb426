"""The 12-class task of a dataset, built TensorFlow speech_commands' way from the split lists.

The configured words are classes; other words become ``_unknown_`` samples (a seeded draw of
``task.unknown_percentage`` % of the split's word count); ``_silence_`` samples are seeded
1 s windows cut from ``_background_noise_`` files (``task.silence_percentage`` %). A split
that is already labelled (GSC's official test set holds ``_silence_`` and ``_unknown_``
folders) is taken as it is. Files rejected when the dataset was built are left out.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from pathlib import Path

import numpy as np

from sparsekws.core.errors import UserError
from sparsekws.data.build import usable_entries
from sparsekws.data.gsc import Entry
from sparsekws.data.labels import BACKGROUND_NOISE_DIR, SILENCE, SPLITS, UNKNOWN, class_names
from sparsekws.data.synth import rng_for
from sparsekws.data.wav import CLIP_SAMPLES, fit_to_length, read_wav

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Sample:
    """One task sample: a wav path or ``_background_noise_/<file>@<start>``, and its class index."""

    source: str
    label: int


def task_samples(entries: list[Entry], noise: dict[str, np.ndarray], words: list[str], seed: int,
                 unknown_percentage: float, silence_percentage: float) -> dict[str, list[Sample]]:
    """The samples of every split (words, then the unknown draw, then silence windows)."""
    classes = class_names(words)
    index = {c: i for i, c in enumerate(classes)}
    noise_names = sorted(noise)
    for name in noise_names:
        if len(noise[name]) < CLIP_SAMPLES:
            raise UserError(f"{BACKGROUND_NOISE_DIR}/{name} is shorter than 1 s; cannot cut silence from it")
    out: dict[str, list[Sample]] = {}
    for split in SPLITS:
        rng = rng_for(seed, "features", split)
        mine = [e for e in entries if e.split == split]
        empty = [w for w in words if not any(e.word == w for e in mine)]
        if empty:
            raise UserError(f"the {split} split has no clips of task word(s) {', '.join(empty)}")
        if any(e.word in (SILENCE, UNKNOWN) for e in mine):  # pre-labelled (GSC's official test set)
            out[split] = [Sample(e.path, index[e.word]) for e in mine if e.word in index]
            continue
        known = [Sample(e.path, index[e.word]) for e in mine if e.word in index]
        pool = [e.path for e in mine if e.word not in index]
        n_unknown = int(math.ceil(len(known) * unknown_percentage / 100))
        if n_unknown and not pool:
            raise UserError(f"the {split} split has no clips of non-task words for the {UNKNOWN} class "
                            f"(task.unknown_percentage is {unknown_percentage}); add unknown words or set it to 0")
        if n_unknown > len(pool):
            log.warning("%s: only %d unknown-word clips for the %d wanted", split, len(pool), n_unknown)
            n_unknown = len(pool)
        chosen = sorted(pool[i] for i in rng.permutation(len(pool))[:n_unknown])
        unknown = [Sample(p, index[UNKNOWN]) for p in chosen]
        silence = []
        for _ in range(int(math.ceil(len(known) * silence_percentage / 100))):
            name = noise_names[int(rng.integers(len(noise_names)))]
            start = int(rng.integers(0, len(noise[name]) - CLIP_SAMPLES + 1))
            silence.append(Sample(f"{BACKGROUND_NOISE_DIR}/{name}@{start}", index[SILENCE]))
        out[split] = known + unknown + silence
    return out


def load_audio(dataset_dir: Path, samples: list[Sample], noise: dict[str, np.ndarray]) -> np.ndarray:
    audio = np.empty((len(samples), CLIP_SAMPLES), dtype=np.int16)
    for i, s in enumerate(samples):
        if "@" in s.source:
            name, start = s.source.split("@")
            start = int(start)
            audio[i] = noise[name.split("/", 1)[1]][start: start + CLIP_SAMPLES]
        else:
            audio[i] = fit_to_length(read_wav(dataset_dir / s.source), CLIP_SAMPLES)
    return audio


def task_of(config: dict, dataset_dir: str | Path) -> tuple[dict[str, list[Sample]], dict[str, np.ndarray], list[dict]]:
    """(samples per split, background noise by file name, rejected-file records) of a dataset."""
    words = config["task"]["words"]
    entries, noise_files, rejected = usable_entries(dataset_dir, words)
    noise = {p.name: read_wav(p) for p in noise_files}
    samples = task_samples(entries, noise, words, config["seed"], config["task"]["unknown_percentage"],
                           config["task"]["silence_percentage"])
    return samples, noise, rejected
