"""Shared test helpers: fake features in the features stage's format, and small exported MLPs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

SIZES = {"train": 192, "validation": 48, "test": 48}


def make_features(path: Path, seed: int = 0, shuffle_test_labels: bool = False, shape=(49, 10)) -> Path:
    """A small learnable stand-in for the features stage's npz (12 classes, int8 ``shape``, default 49x10)."""
    rng = np.random.default_rng(seed)
    classes = np.array(["_silence_", "_unknown_", "yes", "no", "up", "down", "left", "right", "on", "off",
                        "stop", "go"])
    prototypes = rng.normal(0, 40, size=(len(classes), *shape))
    arrays = {"classes": classes, "scale": np.float32(0.05)}
    for split, n in SIZES.items():
        y = np.arange(n) % len(classes)
        rng.shuffle(y)
        x = prototypes[y] + rng.normal(0, 60, size=(n, *shape))
        arrays[f"x_{split}"] = np.clip(np.round(x), -128, 127).astype(np.int8)
        arrays[f"y_{split}"] = y.astype(np.int64)
        arrays[f"files_{split}"] = np.array([f"{split}/{i}.wav" for i in range(n)])
    if shuffle_test_labels:
        arrays["y_test"] = np.random.default_rng(99).permutation(arrays["y_test"])
    np.savez(path, **arrays)
    return path


def mlp_config(density: float, hidden=(32, 32)) -> dict:
    """A ``models`` entry for a small W3A3 MLP."""
    return {"family": "mlp", "frontend": "mfcc", "hidden_units": list(hidden), "weight_bits": 3,
            "activation_bits": 3, "input_bits": 8, "weight_density": density}


def random_mlp(density: float, hidden=(32, 32)) -> tuple[torch.nn.Module, torch.Generator]:
    """A small Brevitas MLP (eval mode) with random weights and batch-norm statistics from three
    training-mode passes, and the generator that drew those inputs (for drawing more)."""
    from sparsekws.models.mlp import build_mlp

    torch.manual_seed(0)
    model = build_mlp(mlp_config(density, hidden), 490, 12, seed=5)
    generator = torch.Generator().manual_seed(1)
    model.train()
    with torch.no_grad():
        for _ in range(3):
            model(torch.randint(-128, 128, (64, 490), generator=generator).float())
    return model.eval(), generator


def write_mlp_fixture(folder: Path, density: float, hidden=(32, 32), samples: int = 16):
    """Write ``model.qonnx.onnx`` and ``reference_io.npz`` as the export stage does.

    A Brevitas MLP with random weights and batch-norm statistics from a few training-mode
    passes, exported by the export stage's own function; reference = the torch logits.
    """
    from sparsekws.export import export_qonnx_model

    model, generator = random_mlp(density, hidden)
    inputs = torch.randint(-128, 128, (samples, 490), generator=generator).float()
    with torch.no_grad():
        outputs = model(inputs)
    folder.mkdir(parents=True, exist_ok=True)
    qonnx_path, ref_path = folder / "model.qonnx.onnx", folder / "reference_io.npz"
    export_qonnx_model(model, 490, 8, qonnx_path)
    np.savez(ref_path, inputs=inputs.numpy().astype(np.float32), outputs=outputs.numpy().astype(np.float32))
    return qonnx_path, ref_path


@pytest.fixture(scope="session")
def tiny_qonnx(tmp_path_factory):
    """(qonnx path, reference_io path) of a small sparse MLP with 20 reference words."""
    return write_mlp_fixture(tmp_path_factory.mktemp("tiny"), 0.5, hidden=(16, 16), samples=20)


def cnn_config(**overrides) -> dict:
    """A complete ``models`` entry for a tiny sparse CNN (8 channels, 32 units) with k-WTA."""
    cfg = {"family": "cnn", "frontend": "logmel", "conv_channels": [8, 8], "kernel_size": 5, "linear_units": 32,
           "weight_bits": 4, "activation_bits": 4, "input_bits": 8,
           "conv_weight_density": [0.5, 0.2], "linear_weight_density": 0.1, "kwinners": True,
           "conv_activation_density": [0.095, 0.125], "linear_activation_density": 0.1,
           "k_inference_factor": 1.5, "boost_strength": 1.5, "boost_strength_factor": 0.9,
           "duty_cycle_period": 1000, "kwinners_mode": "global"}
    cfg.update(overrides)
    return cfg


def warmed_up(model: torch.nn.Module, input_shape: tuple, batches: int = 3, seed: int = 1) -> torch.nn.Module:
    """``model`` after a few training-mode passes on random int8 inputs (BN statistics, duty cycles), in eval mode."""
    generator = torch.Generator().manual_seed(seed)
    model.train()
    with torch.no_grad():
        for _ in range(batches):
            model(torch.randint(-128, 128, (32, *input_shape), generator=generator).float())
    return model.eval()


@pytest.fixture(scope="session")
def smoke_reference(tmp_path_factory) -> Path:
    """A folder with an uninterrupted run of config/smoke.yaml up to every file two runs must
    agree on (``workflow_runs.compared_targets``); the fault and SLURM tests compare with it."""
    import yaml

    from sparsekws.config import REPO_ROOT
    from sparsekws.workflow_runs import compared_targets, copy_workflow, run_snakemake

    smoke = REPO_ROOT / "config" / "smoke.yaml"
    workdir = copy_workflow(tmp_path_factory.mktemp("smoke_reference"), smoke)
    result = run_snakemake(workdir, ["--cores", "2", *compared_targets(yaml.safe_load(smoke.read_text()))])
    assert result.returncode == 0, f"the smoke run failed:\n{(result.stdout + result.stderr)[-4000:]}"
    return workdir
