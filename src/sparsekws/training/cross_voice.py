"""The leave-one-family-out table: models trained without a voice family, tested on it.

For every (model, held-out family) the row gives the accuracy on all word samples of the
held-out family (``accuracy``, ``n``: voices never heard in training) beside the accuracy on
the test split of the families the model was trained on (``in_family_accuracy``,
``in_family_n``) and the gap between them. Each is the mean over the training seeds (every
seed's ``held_out_accuracy`` and ``test_accuracy`` in ``metrics.json``) with its 95 %
t-interval, the gap with a Welch interval; a run trained without ``--held-out`` counts as one
seed, its model.pt tested here. The confusions are those of model.pt (the first seed). Silence
windows carry no voice and are left out of the held-out set; they stay in the in-family test
split.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd
import torch

from sparsekws.core.files import read_json, read_npz
from sparsekws.core.stats import confidence_summary, difference_summary
from sparsekws.training.evaluation import confusion_matrix, load_model
from sparsekws.training.inference import predict

COLUMNS = ["model", "held_out", "seeds", "accuracy", "accuracy_ci_low", "accuracy_ci_high", "n", "in_family_accuracy",
           "in_family_ci_low", "in_family_ci_high", "in_family_n", "gap", "gap_ci_low", "gap_ci_high"]
CONFUSION_COLUMNS = ["model", "held_out", "true", "predicted", "count"]


def held_out_predictions(checkpoint: str | os.PathLike, held_out_path: str | os.PathLike) -> tuple[np.ndarray, dict]:
    """Predicted classes of a cross-voice model on its held-out family's samples, and those samples."""
    model, saved = load_model(checkpoint)
    data = read_npz(held_out_path, ("x", "y", "classes"), "held-out family features file")
    x = torch.from_numpy(data["x"].reshape(len(data["x"]), *saved["input_shape"]).astype(np.float32))
    return predict(model, x, torch.device("cpu")).argmax(dim=1).numpy(), data


def cross_voice_rows(runs: list[dict[str, Any]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The table and the held-out confusions of ``runs`` (dicts with ``model``, ``held_out``,
    ``checkpoint``, ``metrics`` and ``held_out_features`` paths)."""
    rows, confusions = [], []
    for run in runs:
        predicted, data = held_out_predictions(run["checkpoint"], run["held_out_features"])
        metrics = read_json(run["metrics"])
        seeds = metrics["seeds"]
        if all("held_out_accuracy" in seed for seed in seeds):
            held, in_family = [seed["held_out_accuracy"] for seed in seeds], [seed["test_accuracy"] for seed in seeds]
        else:
            held, in_family = [float(np.mean(predicted == data["y"]))], [float(metrics["test_accuracy"])]
        accuracy, family, gap = confidence_summary(held), confidence_summary(in_family), difference_summary(held, in_family)
        rows.append({"model": run["model"], "held_out": run["held_out"], "seeds": len(held),
                     "accuracy": accuracy["mean"], "accuracy_ci_low": accuracy["ci_low"],
                     "accuracy_ci_high": accuracy["ci_high"], "n": len(predicted),
                     "in_family_accuracy": family["mean"], "in_family_ci_low": family["ci_low"],
                     "in_family_ci_high": family["ci_high"], "in_family_n": int(metrics["sizes"]["test"]),
                     "gap": gap["difference"], "gap_ci_low": gap["ci_low"], "gap_ci_high": gap["ci_high"]})
        classes = [str(c) for c in data["classes"]]
        matrix = confusion_matrix(data["y"], predicted, len(classes))
        confusions += [{"model": run["model"], "held_out": run["held_out"], "true": classes[t],
                        "predicted": classes[p], "count": int(matrix[t, p])}
                       for t, p in zip(*np.nonzero(matrix))]
    return pd.DataFrame(rows, columns=COLUMNS), pd.DataFrame(confusions, columns=CONFUSION_COLUMNS)
