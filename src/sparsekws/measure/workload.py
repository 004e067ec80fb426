"""Measure one model on one platform with every backend of that platform (what ``measure`` runs).

Every backend gets the same words (the whole test split), the same timing method and threads
(``measure.<platform>``), and is checked against the model's own outputs (the trained torch
model in eval mode on those words). A backend whose hardware or library is absent gives a
skipped row with the reason instead of a number: records (``RECORD_COLUMNS``) and skipped rows
(``SKIPPED_COLUMNS``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pandas as pd

from sparsekws.core.config import model_config
from sparsekws.core.errors import UserError
from sparsekws.core.provenance import stamp
from sparsekws.measure import RECORD_COLUMNS
from sparsekws.measure.backends import backend_classes
from sparsekws.measure.records import BackendUnavailable, Workload, skipped_frame, skipped_row
from sparsekws.core.files import read_npz
from sparsekws.features.store import load_features
from sparsekws.training.model_file import check_features, load_trained_model, saved_input_shape

log = logging.getLogger(__name__)


def load_workload(config: dict, model: str, features: Path, checkpoint: Path, qonnx: Path | None,
                  work_dir: Path) -> Workload:
    """The test split shaped for the model, with the model's own logits on it as the reference."""
    import torch

    mcfg = model_config(config, model)
    torch_model, saved = load_trained_model(checkpoint, mcfg)
    check_features(saved, checkpoint, load_features(features))
    data = read_npz(features, ("x_test", "y_test"), "features file")
    shape = saved_input_shape(saved)
    x = data["x_test"]
    if int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        raise UserError(f"features {features} (test words of shape {x.shape[1:]}) do not fit model '{model}' "
                        f"(input {shape}); is the model's frontend right?")
    inputs = x.reshape(len(x), *shape).astype(np.float32)
    torch.set_num_threads(config["measure"]["cpu"]["threads"])
    with torch.inference_mode():
        reference = torch.cat([torch_model(torch.from_numpy(inputs[i:i + 256]))
                               for i in range(0, len(inputs), 256)]).numpy()
    work_dir.mkdir(parents=True, exist_ok=True)
    return Workload(model=model, model_config=mcfg, inputs=inputs, labels=data["y_test"], reference=reference,
                    provenance=stamp(mcfg), checkpoint=checkpoint, qonnx=qonnx, work_dir=work_dir,
                    extras={"torch_model": torch_model})


def measure_platform(workload: Workload, platform: str, settings: dict) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Run every backend of ``platform`` (``settings['backends']`` picks for cpu); (records, skipped)."""
    frames, skipped = [], []
    for backend in backend_classes(platform):
        instance = backend()
        if "backends" in settings and instance.name not in settings["backends"]:
            continue
        try:
            frames.append(instance.measure(workload, settings))
        except BackendUnavailable as exc:
            log.warning("%s on %s skipped: %s", instance.name, platform, exc)
            skipped.append(skipped_row(workload.model, platform, instance.name, str(exc), workload.provenance))
    records = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RECORD_COLUMNS)
    return records[RECORD_COLUMNS], skipped_frame(skipped)
