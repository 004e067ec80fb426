"""Helpers of the tests: fake features in the features stage's format, small models and their exports."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from support import named_config, validated

SIZES = {"train": 192, "validation": 48, "test": 48}


def __getattr__(name: str):
    """``ZCU104``: a FINN build target at the ZCU104's part (estimates only), made when first asked
    for (FINN is slow to import)."""
    if name == "ZCU104":
        from sparsekws.finn.build import BuildTarget

        return BuildTarget(fpga_part="xczu7ev-ffvc1156-2-e", clock_mhz=100, target_fps=100_000)
    raise AttributeError(name)


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
            "activation_bits": 3, "input_bits": 8, "weight_density": density, "weight_scaling": "per_tensor"}


def random_mlp(density: float, hidden=(32, 32)) -> tuple[torch.nn.Module, torch.Generator]:
    """A small Brevitas MLP (eval mode) with random weights and batch-norm statistics from three
    training-mode passes, and the generator that drew those inputs (for drawing more)."""
    from sparsekws.models.zoo import build_model

    torch.manual_seed(0)
    model = build_model(mlp_config(density, hidden), (490,), 12, seed=5)
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
    from sparsekws.export.qonnx import export_qonnx_model

    model, generator = random_mlp(density, hidden)
    inputs = torch.randint(-128, 128, (samples, 490), generator=generator).float()
    with torch.no_grad():
        outputs = model(inputs)
    folder.mkdir(parents=True, exist_ok=True)
    qonnx_path, ref_path = folder / "model.qonnx.onnx", folder / "reference_io.npz"
    export_qonnx_model(model, 490, 8, qonnx_path)
    np.savez(ref_path, inputs=inputs.numpy().astype(np.float32), outputs=outputs.numpy().astype(np.float32))
    return qonnx_path, ref_path


def cnn_config(**overrides) -> dict:
    """A complete ``models`` entry for a tiny sparse CNN (8 channels, 32 units) with k-WTA."""
    cfg = {"family": "cnn", "frontend": "logmel", "conv_channels": [8, 8], "kernel_size": 5, "linear_units": 32,
           "weight_bits": 4, "activation_bits": 4, "input_bits": 8,
           "conv_weight_density": [0.5, 0.2], "linear_weight_density": 0.1, "kwinners": True,
           "conv_activation_density": [0.095, 0.125], "linear_activation_density": 0.1,
           "k_inference_factor": 1.5, "boost_strength": 1.5, "boost_strength_factor": 0.9,
           "duty_cycle_period": 1000, "duty_cycle_counts": "positions", "kwinners_mode": "global",
           "kwinners_placement": "after_pool", "batchnorm_affine": True, "weight_scaling": "per_tensor"}
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


def dense_cnn_config() -> dict:
    """The tiny CNN of ``cnn_config`` made dense: full weight density, no k-WTA."""
    return cnn_config(conv_weight_density=[1.0, 1.0], linear_weight_density=1.0, kwinners=False)


def write_cnn_fixture(folder, model_cfg: dict, samples: int = 4):
    """Export a tiny CNN (random weights, warmed-up batch norm) and its torch logits, as the export stage does."""
    from sparsekws.export.qonnx import export_qonnx_model
    from sparsekws.models.zoo import build_model

    model = warmed_up(build_model(model_cfg, (1, 32, 32), 12, seed=3), (1, 32, 32))
    inputs = torch.randint(-128, 128, (samples, 1, 32, 32), generator=torch.Generator().manual_seed(2)).float()
    with torch.no_grad():
        outputs = model(inputs)
    folder.mkdir(parents=True, exist_ok=True)
    qonnx, ref = folder / "model.qonnx.onnx", folder / "reference_io.npz"
    export_qonnx_model(model, (1, 32, 32), 8, qonnx)
    np.savez(ref, inputs=inputs.numpy(), outputs=outputs.numpy())
    return qonnx, ref


def tiny_config(epochs: int = 3, density: float = 0.25, optimizer: str = "adam", **train_overrides) -> dict:
    cfg = named_config("smoke.yaml")
    cfg["models"] = {
        "dense": {**cfg["models"]["dense"], "hidden_units": [16, 16], "weight_density": 1.0},
        "sparse": {**cfg["models"]["sparse"], "hidden_units": [16, 16], "weight_density": density},
    }
    cfg["train"].update({"epochs": epochs, "batch_size": 32, "optimizer": optimizer, "threads": 1, "seeds": 1,
                         **train_overrides})
    cfg["augment"] = {**cfg["augment"], "enabled": False}  # the clean path; augmentation has its own tests
    return cfg


def tiny_cnn_config(epochs: int = 3, **train_overrides) -> dict:
    """A small sparse CNN with k-WTA and boosting on 32x32 inputs."""
    cfg = tiny_config(epochs, **train_overrides)
    cfg["models"]["cnn"] = {"family": "cnn", "frontend": "logmel", "conv_channels": [4, 4], "linear_units": 16,
                            "conv_weight_density": [1.0, 0.5], "linear_weight_density": 0.5, "kwinners": True,
                            "conv_activation_density": [0.3, 0.3], "linear_activation_density": 0.25,
                            "duty_cycle_period": 100}
    return validated(cfg)


def make_image_features(path: Path, seed: int = 0) -> Path:
    """A learnable 12-class stand-in for 32x32 log-mel features."""
    rng = np.random.default_rng(seed)
    prototypes = rng.normal(0, 40, size=(12, 32, 32))
    arrays = {"classes": np.array(["_silence_", "_unknown_"] + [f"w{i}" for i in range(10)]), "scale": np.float32(0.5)}
    for split, n in SIZES.items():
        y = rng.permutation(np.arange(n) % 12)
        x = prototypes[y] + rng.normal(0, 50, (n, 32, 32))
        arrays[f"x_{split}"] = np.clip(np.round(x), -127, 127).astype(np.int8)
        arrays[f"y_{split}"] = y.astype(np.int64)
    np.savez(path, **arrays)
    return path


def default_config() -> dict:
    """The default config file as written (not validated)."""
    import yaml

    from support import CONFIG_DIR

    return yaml.safe_load((CONFIG_DIR / "config.yaml").read_text())


def matmul_layer(mw, mh, density, vectors=(1,), thresholds=True, seed=0):
    """A QONNX MatMul (+ MultiThreshold) layer on UINT4 inputs with fixed fan-in INT4 weights."""
    from onnx import TensorProto, helper
    from qonnx.core.datatype import DataType
    from qonnx.core.modelwrapper import ModelWrapper

    rng = np.random.default_rng(seed)
    fan_in = max(1, round(density * mw))
    weights = rng.integers(-8, 8, size=(mw, mh)).astype(np.float32)
    weights[weights == 0] = 1
    for column in range(mh):
        weights[rng.permutation(mw)[fan_in:], column] = 0
    shape = list(vectors) + [mw]
    nodes = [helper.make_node("MatMul", ["x", "w"], ["acc" if thresholds else "y"])]
    if thresholds:
        nodes.append(helper.make_node("MultiThreshold", ["acc", "thr"], ["y"], domain="qonnx.custom_op.general",
                                      out_dtype="UINT4", data_layout="NHWC" if len(vectors) > 1 else "NC"))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, list(vectors) + [mh])])
    model = ModelWrapper(helper.make_model(graph))
    model.set_initializer("w", weights)
    model.set_tensor_datatype("x", DataType["UINT4"])
    model.set_tensor_datatype("w", DataType["INT4"])
    if thresholds:
        model.set_initializer("thr", np.sort(rng.integers(-60, 60, size=(mh, 15)), axis=1).astype(np.float32))
    from qonnx.transformation.infer_shapes import InferShapes

    return model.transform(InferShapes())


def to_hw_layers(model):
    """FINN's conversion of MatMul + MultiThreshold to MVAU layers."""
    from finn.transformation.fpgadataflow.convert_to_hw.quantized_matrix_vector_activation import (
        InferQuantizedMatrixVectorActivation,
    )
    from qonnx.transformation.infer_datatypes import InferDataTypes
    from qonnx.transformation.infer_shapes import InferShapes

    model = model.transform(InferShapes()).transform(InferDataTypes())
    return model.transform(InferQuantizedMatrixVectorActivation())
