"""Shared fixtures: a tiny trained-looking quantised MLP exported to QONNX, and fake features."""

from __future__ import annotations

import numpy as np
import pytest
import torch

TINY_MODEL = {"family": "mlp", "frontend": "mfcc", "hidden_units": [16, 16], "weight_bits": 3,
              "activation_bits": 3, "input_bits": 8, "weight_density": 0.5}


def fake_features(path, n_per_split=(40, 12, 12), classes=12, seed=0):
    """Write an npz in the features stage's format with class-dependent int8 patterns."""
    rng = np.random.default_rng(seed)
    prototypes = rng.integers(-60, 60, size=(classes, 49, 10))
    arrays = {"classes": np.array(["_silence_", "_unknown_"] + [f"w{i}" for i in range(classes - 2)]),
              "scale": np.float32(0.05)}
    for split, n in zip(("train", "validation", "test"), n_per_split):
        y = np.arange(n) % classes
        x = prototypes[y] + rng.integers(-20, 20, size=(n, 49, 10))
        arrays[f"x_{split}"] = np.clip(x, -128, 127).astype(np.int8)
        arrays[f"y_{split}"] = y.astype(np.int64)
        arrays[f"files_{split}"] = np.array([f"w/{i}.wav" for i in range(n)])
    np.savez(path, **arrays)
    return path


@pytest.fixture(scope="session")
def tiny_qonnx(tmp_path_factory):
    """(qonnx path, torch model in eval mode, test inputs) of a small random sparse MLP."""
    from brevitas.export import export_qonnx
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper
    from qonnx.util.cleanup import cleanup_model

    from sparsekws.models.mlp import build_mlp

    torch.manual_seed(0)
    model = build_mlp(TINY_MODEL, 490, 12, seed=3)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randint(-128, 128, (32, 490)).float())
    model.eval()
    path = tmp_path_factory.mktemp("qonnx") / "tiny.qonnx.onnx"
    export_qonnx(model, torch.zeros(1, 490), export_path=str(path))
    wrapper = cleanup_model(ModelWrapper(str(path)))
    wrapper.set_tensor_datatype(wrapper.graph.input[0].name, DataType["INT8"])
    wrapper.save(str(path))
    inputs = torch.randint(-128, 128, (20, 490)).float()
    return path, model, inputs
