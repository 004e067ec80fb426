"""The features file of a dataset and front end (``<frontend>.npz``), read as training tensors."""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from sparsekws.core.errors import UserError
from sparsekws.core.files import read_npz
from sparsekws.data.labels import SPLITS


@dataclass
class Features:
    """The feature file's splits as float32 tensors of integer values, shape (N, features).

    ``feature_shape`` is the per-clip shape in the file (e.g. 49 x 10 MFCC, 32 x 32 log-mel);
    ``inputs(split, shape)`` gives a split reshaped to a model's input shape.
    """

    x: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    classes: list[str]
    scale: float
    sha256: str
    feature_shape: tuple[int, ...] = ()
    path: Path | None = None
    files: dict[str, list[str]] = field(default_factory=dict)  # each sample's source, per split (if stored)

    @property
    def in_features(self) -> int:
        return self.x["train"].shape[1]

    def inputs(self, split: str, input_shape: tuple[int, ...]) -> torch.Tensor:
        return self.x[split].reshape(len(self.x[split]), *input_shape)


def load_features(path: str | os.PathLike) -> Features:
    """Read a features ``.npz`` (``x_<split>`` int8 [N, frames, coeffs], ``y_<split>``, ``classes``)."""
    path = Path(path)
    data = read_npz(path, (*(f"{p}_{s}" for s in SPLITS for p in ("x", "y")), "classes"), "features file")
    classes = [str(c) for c in data["classes"]]
    x, y = {}, {}
    for split in SPLITS:
        xs, ys = data[f"x_{split}"], data[f"y_{split}"]
        if xs.ndim < 2 or len(xs) != len(ys):
            raise UserError(f"features file {path}: x_{split} {xs.shape} does not match y_{split} {ys.shape}")
        if not np.issubdtype(xs.dtype, np.integer):
            raise UserError(f"features file {path}: x_{split} must hold integers, not {xs.dtype}")
        if len(ys) and (ys.min() < 0 or ys.max() >= len(classes)):
            raise UserError(f"features file {path}: y_{split} has labels outside 0..{len(classes) - 1}")
        x[split] = torch.from_numpy(xs.reshape(len(xs), -1).astype(np.float32))
        y[split] = torch.from_numpy(ys.astype(np.int64))
    shapes = {tuple(data[f"x_{s}"].shape[1:]) for s in SPLITS}
    if len(shapes) != 1:
        raise UserError(f"features file {path}: splits have different feature shapes {sorted(shapes)}")
    if len(x["train"]) == 0 or len(x["validation"]) == 0:
        raise UserError(f"features file {path}: the train and validation splits must not be empty")
    scale = float(data["scale"]) if "scale" in data else 1.0
    files = {split: [str(f) for f in data[f"files_{split}"]] for split in SPLITS if f"files_{split}" in data}
    return Features(x, y, classes, scale, hashlib.sha256(path.read_bytes()).hexdigest(), shapes.pop(), path, files)
