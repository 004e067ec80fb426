"""Quantised features of every split of a dataset's task for one front end (what the ``features``
command writes to ``results/features/<dataset>/<frontend>.npz``): ``x_<split>`` int8, ``y_<split>``,
``files_<split>`` (each sample's source), ``classes`` and the quantisation ``scale``, plus a table
of samples per split and class."""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm import tqdm

from sparsekws.data.labels import SPLITS, class_names
from sparsekws.data.task import load_audio, task_of
from sparsekws.features.frontends import make_frontend, quantize, quantize_scale

log = logging.getLogger(__name__)
BATCH = 256


def extract_features(config: dict, dataset_dir: str | Path, frontend: str = "mfcc") -> tuple[dict, pd.DataFrame]:
    """The npz arrays and the per-split class counts of ``dataset_dir``."""
    dataset_dir = Path(dataset_dir)
    classes = class_names(config["task"]["words"])
    fe_config = config.get("features", {})
    extractor = make_frontend(frontend, fe_config)
    samples, noise, rejected = task_of(config, dataset_dir)
    if rejected:
        log.warning("leaving out %d file(s) rejected when the dataset was built", len(rejected))
    total = sum(len(v) for v in samples.values())
    features: dict[str, np.ndarray] = {}
    start = time.perf_counter()
    with tqdm(total=total, desc=f"{frontend} features", unit="clip") as bar:
        for split in SPLITS:
            parts = []
            for b in range(0, len(samples[split]), BATCH):
                batch = samples[split][b: b + BATCH]
                parts.append(extractor(load_audio(dataset_dir, batch, noise)))
                bar.update(len(batch))
            features[split] = np.concatenate(parts) if parts else np.zeros((0, *extractor.shape), np.float32)
    elapsed = time.perf_counter() - start
    log.info("%s features of %d clips in %.1f s: %.0f clips/s", frontend, total, elapsed, total / max(elapsed, 1e-9))
    scale = quantize_scale(features["train"], fe_config.get("quantize_percentile", 99.9))
    arrays: dict[str, np.ndarray] = {}
    rows = []
    for split in SPLITS:
        labels = np.array([s.label for s in samples[split]], dtype=np.int64)
        arrays[f"x_{split}"] = quantize(features[split], scale)
        arrays[f"y_{split}"] = labels
        arrays[f"files_{split}"] = np.array([s.source for s in samples[split]], dtype=str)
        counts = np.bincount(labels, minlength=len(classes))
        rows += [{"split": split, "class": c, "count": int(n)} for c, n in zip(classes, counts)]
        clipped = float(np.mean(np.abs(features[split] / scale) > 127)) if features[split].size else 0.0
        log.info("%s: %d samples, %.2f %% of feature values clipped", split, len(labels), 100 * clipped)
    arrays["classes"] = np.array(classes, dtype=str)
    arrays["scale"] = np.float32(scale)
    return arrays, pd.DataFrame(rows, columns=["split", "class", "count"])
