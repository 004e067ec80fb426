"""Evaluate a trained model on the test split (what the ``evaluate`` command runs).

Writes into the output folder:

- ``confusion.csv``: counts, one row per true class, one column per predicted class;
- ``noise_robustness.csv``: accuracy at each white-noise level. As in "How Can We Be So
  Dense?" (Numenta's ``AddNoise``), the noise is blended into the *audio*, in [-1, 1]:
  ``a' = (1 - alpha) * a + alpha * u`` with ``u`` uniform in [-1, 1], at alpha = 0, 0.05, ...,
  0.5 (config ``evaluate.noise_levels``); the features are recomputed with the model's front end
  and quantised with the features file's scale. The noise score is the sum of correct answers
  over the levels;
- ``evaluation.json``: test accuracy, the confusion matrix, the noise score, achieved weight
  sparsity per layer, activation sparsity per layer measured on the test set (forward hooks
  on the activation and k-WTA modules), non-zero parameters, and MACs per inference counted
  three ways: dense, weight-sparse (non-zero quantised weights), weight-and-activation-sparse
  (only products of a non-zero weight and a non-zero input, averaged over the test set).

Differences from Numenta's noise test: their noise set had no ``_silence_`` samples; here the
whole test split is used (silence windows included) so that every model sees the same samples.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import torch
from torch import nn
from tqdm import tqdm

from sparsekws.core.config import model_config
from sparsekws.core.errors import UserError
from sparsekws.core.files import write_csv, write_json
from sparsekws.core.provenance import stamp
from sparsekws.data.gsc import background_noise_files
from sparsekws.data.task import Sample, load_audio
from sparsekws.data.wav import read_wav
from sparsekws.features.frontends import make_frontend, quantize
from sparsekws.features.store import load_features
from sparsekws.models.kwinners import KWinners
from sparsekws.models.macs import count_macs, measure_sparse_macs
from sparsekws.models.sparse_weights import weight_layers
from sparsekws.training.inference import predict, resolve_device
from sparsekws.training.model_file import check_features, load_trained_model, saved_input_shape
from sparsekws.training.weights import weight_stats

log = logging.getLogger(__name__)

NOISE_LEVELS = tuple(round(0.05 * i, 2) for i in range(11))
NOISE_FORMULA = "audio' = (1 - alpha) * audio + alpha * uniform(-1, 1), audio in [-1, 1]"
AUDIO_BATCH = 256


# --------------------------------------------------------------------------------------------
# the trained model


def load_model(checkpoint: str | os.PathLike, mcfg: dict[str, Any] | None = None) -> tuple[nn.Module, dict]:
    """The model of a ``model.pt`` in eval mode, with ``input_shape`` set."""
    model, saved = load_trained_model(checkpoint, mcfg)
    saved["input_shape"] = list(saved_input_shape(saved))
    return model, saved


# --------------------------------------------------------------------------------------------
# accuracy and confusion


def confusion_matrix(labels: np.ndarray, predictions: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts ``[true class, predicted class]``."""
    matrix = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return matrix


def confusion_frame(matrix: np.ndarray, classes: list[str]) -> pd.DataFrame:
    """The confusion matrix as a table: column ``true`` then one column per predicted class."""
    frame = pd.DataFrame(matrix, columns=classes)
    frame.insert(0, "true", classes)
    return frame


# --------------------------------------------------------------------------------------------
# noise robustness


def blend_white_noise(audio: np.ndarray, alpha: float, rng: np.random.Generator) -> np.ndarray:
    """Numenta's noise blend: ``(1 - alpha) * audio + alpha * u``, ``u`` uniform in [-1, 1]."""
    noise = rng.uniform(-1.0, 1.0, size=audio.shape)
    return ((1.0 - alpha) * audio + alpha * noise).astype(np.float32)


def test_audio(dataset_dir: str | os.PathLike, files: list[str]) -> np.ndarray:
    """The test clips as float audio in [-1, 1], ``[N, 16000]``, in the order of the features file.

    ``files`` are the features file's ``files_test`` entries: a wav path relative to the dataset
    folder, or ``_background_noise_/<file>.wav@<start>`` for a silence window.
    """
    dataset_dir = Path(dataset_dir)
    if not dataset_dir.is_dir():
        raise UserError(f"dataset folder not found: {dataset_dir}")
    noise = {p.name: read_wav(p) for p in background_noise_files(dataset_dir)} if any("@" in f for f in files) else {}
    missing = [f for f in files if "@" not in f and not (dataset_dir / f).is_file()]
    if missing:
        raise UserError(f"{len(missing)} test clips of the features file are missing from {dataset_dir} "
                        f"(first: {missing[0]}); rebuild the features from this dataset")
    audio = load_audio(dataset_dir, [Sample(f, 0) for f in files], noise)
    return audio.astype(np.float32) / 32768.0


def noisy_inputs(audio: np.ndarray, alpha: float, rng: np.random.Generator, frontend, scale: float,
                 input_shape: tuple[int, ...]) -> torch.Tensor:
    """Blend noise into ``audio``, recompute and quantise the features, shape them for the model."""
    parts = []
    for start in range(0, len(audio), AUDIO_BATCH):
        noisy = blend_white_noise(audio[start:start + AUDIO_BATCH], alpha, rng)
        parts.append(quantize(frontend(noisy), np.float32(scale)))
    features = np.concatenate(parts) if parts else np.zeros((0, *input_shape), np.int8)
    return torch.from_numpy(features.astype(np.float32)).reshape(len(audio), *input_shape)


def noise_robustness(model: nn.Module, audio: np.ndarray, labels: np.ndarray, frontend, scale: float,
                     input_shape: tuple[int, ...], device: torch.device, seed: int,
                     levels: tuple[float, ...] = NOISE_LEVELS) -> pd.DataFrame:
    """Correct answers and accuracy at each noise level (rows in ``levels`` order).

    The noise of level ``i`` comes from ``numpy.random.default_rng([seed, i])``: the same for
    every model, so their scores are comparable.
    """
    labels = torch.as_tensor(labels)
    rows = []
    for index, alpha in enumerate(tqdm(levels, desc="noise levels", file=sys.stderr, unit="level")):
        x = noisy_inputs(audio, alpha, np.random.default_rng([seed, index]), frontend, scale, input_shape)
        correct = int((predict(model, x, device).argmax(dim=1) == labels).sum())
        rows.append({"alpha": alpha, "correct": correct, "samples": len(labels),
                     "accuracy": correct / len(labels) if len(labels) else float("nan")})
    return pd.DataFrame(rows, columns=["alpha", "correct", "samples", "accuracy"])


# --------------------------------------------------------------------------------------------
# activation sparsity and MACs


def _value(tensor):
    """The plain tensor of a Brevitas ``QuantTensor`` (or the tensor itself)."""
    return getattr(tensor, "value", tensor)


def activation_modules(model: nn.Module) -> list[tuple[str, nn.Module]]:
    """The modules whose outputs are the network's activations: ReLUs (Brevitas or torch) and k-WTA."""
    from brevitas.nn import QuantReLU

    found: list[tuple[str, nn.Module]] = []
    for name, module in model.named_modules():
        inside = any(name.startswith(f"{outer}.") for outer, _ in found)  # the ReLU inside a QuantReLU
        if isinstance(module, (QuantReLU, nn.ReLU, KWinners)) and not inside:
            found.append((name, module))
    return found


@torch.no_grad()
def measure_activity(model: nn.Module, x: torch.Tensor, device: torch.device,
                     batch_size: int = 512) -> dict[str, Any]:
    """Activation sparsity per activation module and active MACs per weight layer, on inputs ``x``.

    Measured in eval mode (inference k for k-WTA). ``zero_fraction`` is the fraction of a
    module's output values that are exactly 0 over all samples; ``active_macs`` of a weight layer
    is the mean number per sample of products with both factors non-zero
    (``models.macs.measure_sparse_macs``, batch by batch).
    """
    model.eval()
    activations = {name: {"zeros": 0, "values": 0, "units": 0, "kind": type(m).__name__}
                   for name, m in activation_modules(model)}
    layers = {name: {"products": 0.0, "input_zeros": 0, "input_values": 0}
              for name, _, _ in weight_layers(model)}
    for start in range(0, len(x), batch_size):
        batch = x[start:start + batch_size].to(device)
        for name, macs in measure_sparse_macs(model, batch)["layers"].items():
            layers[name]["products"] += macs * len(batch)
    handles = []
    for name, module in activation_modules(model):
        def out_hook(module, args, output, name=name):
            value = _value(output)
            record = activations[name]
            record["zeros"] += int((value == 0).sum())
            record["values"] += value.numel()
            record["units"] = int(value[0].numel())
        handles.append(module.register_forward_hook(out_hook))
    for name, layer, _ in weight_layers(model):
        def in_hook(module, args, name=name):
            value = _value(args[0])
            record = layers[name]
            record["input_zeros"] += int((value == 0).sum())
            record["input_values"] += value.numel()
        handles.append(layer.register_forward_pre_hook(in_hook))
    try:
        for start in range(0, len(x), batch_size):
            model(x[start:start + batch_size].to(device))
    finally:
        for handle in handles:
            handle.remove()
    samples = max(len(x), 1)
    return {
        "samples": len(x),
        "activations": [{"name": name, "kind": r["kind"], "units": r["units"],
                         "zero_fraction": r["zeros"] / r["values"] if r["values"] else float("nan"),
                         "density": 1 - r["zeros"] / r["values"] if r["values"] else float("nan")}
                        for name, r in activations.items()],
        "layer_inputs": {name: {"input_zero_fraction": r["input_zeros"] / max(r["input_values"], 1),
                                "active_macs": r["products"] / samples}
                         for name, r in layers.items()},
    }


def macs_three_ways(model: nn.Module, input_shape: tuple[int, ...], activity: dict[str, Any]) -> dict[str, Any]:
    """MACs per inference: dense, weight-sparse (``models.macs.count_macs``) and
    weight-and-activation-sparse (measured, from ``measure_activity``), per layer and total."""
    per_layer = []
    for layer in count_macs(model, input_shape)["layers"]:
        measured = activity["layer_inputs"][layer["name"]]
        per_layer.append({"name": layer["name"], "dense": layer["dense"], "weight_sparse": layer["weight_sparse"],
                          "weight_activation_sparse": measured["active_macs"],
                          "input_zero_fraction": measured["input_zero_fraction"]})
    return {
        "dense": sum(r["dense"] for r in per_layer),
        "weight_sparse": sum(r["weight_sparse"] for r in per_layer),
        "weight_activation_sparse": sum(r["weight_activation_sparse"] for r in per_layer),
        "layers": per_layer,
        "sources": {"dense": "counted: all weights x output positions",
                    "weight_sparse": "counted: non-zero quantised weights x output positions",
                    "weight_activation_sparse": f"measured on the test split ({activity['samples']} samples): mean "
                                                "products of a non-zero weight and a non-zero input"},
        "note": "weight layers only (batch norm, pooling, activations and k-WTA not counted)",
    }


# --------------------------------------------------------------------------------------------
# the command


def evaluate_model(cfg: dict[str, Any], model_name: str, checkpoint: str | os.PathLike,
                   features_path: str | os.PathLike, dataset_dir: str | os.PathLike,
                   out_dir: str | os.PathLike, device: str = "cpu") -> dict[str, Any]:
    """Evaluate ``model.pt`` on the test split; write evaluation.json, confusion.csv, noise_robustness.csv."""
    mcfg = model_config(cfg, model_name)
    dev = resolve_device(device)
    torch.set_num_threads(cfg["train"]["threads"])
    torch.use_deterministic_algorithms(True, warn_only=True)
    model, saved = load_model(checkpoint, mcfg)
    model.to(dev)
    input_shape = tuple(saved["input_shape"])
    features = load_features(features_path)
    check_features(saved, checkpoint, features)
    if features.classes != list(saved["classes"]) or features.in_features != saved["in_features"]:
        raise UserError(f"features file {features_path} does not match checkpoint {checkpoint} "
                        "(feature size or classes differ)")
    if "test" not in features.files:
        raise UserError(f"features file {features_path} lacks files_test (the test clips' sources); "
                        "rebuild it with the features stage")
    files = features.files["test"]
    x_test, y_test = features.inputs("test", input_shape), features.y["test"]
    if len(y_test) == 0:
        raise UserError(f"features file {features_path} has an empty test split; nothing to evaluate")

    logits = predict(model, x_test, dev)
    predictions = logits.argmax(dim=1).numpy()
    labels = y_test.numpy()
    accuracy = float(np.mean(predictions == labels))
    matrix = confusion_matrix(labels, predictions, len(features.classes))
    log.info("%s: test accuracy %.4f on %d samples", model_name, accuracy, len(labels))

    frontend = make_frontend(mcfg["frontend"], cfg.get("features", {}))
    audio = test_audio(dataset_dir, files)
    head = audio[:AUDIO_BATCH]  # the stored features must be reproducible from the audio
    recomputed = quantize(frontend(head), np.float32(features.scale)).reshape(len(head), -1)
    agreement = float(np.mean(recomputed == features.x["test"][:len(head)].numpy().astype(np.int8)))
    if agreement < 0.99:
        log.warning("recomputed test features agree with the features file on only %.2f %% of values: the "
                    "dataset or front-end parameters changed since the features were made", 100 * agreement)
    noise_seed = cfg["seed"]
    levels = tuple(cfg.get("evaluate", {}).get("noise_levels", NOISE_LEVELS))
    noise = noise_robustness(model, audio, labels, frontend, features.scale, input_shape, dev, noise_seed, levels)
    score = int(noise["correct"].sum())
    log.info("%s: noise score %d of %d (accuracy %s)", model_name, score, int(noise["samples"].sum()),
             ", ".join(f"{a:g}: {acc:.3f}" for a, acc in zip(noise["alpha"], noise["accuracy"])))

    stats = weight_stats(model, input_shape)
    activity = measure_activity(model, x_test, dev)
    macs = macs_three_ways(model, input_shape, activity)
    evaluation = {
        "model": model_name,
        "model_config": mcfg,
        "checkpoint_seed": saved["seed"],
        "best_epoch": saved.get("best_epoch"),
        "split": "test",
        "test_samples": len(labels),
        "test_accuracy": accuracy,
        "classes": features.classes,
        "confusion": matrix.tolist(),
        "noise": {"levels": noise.to_dict(orient="records"), "score": score,
                  "score_max": int(noise["samples"].sum()), "formula": NOISE_FORMULA,
                  "noise_seed": noise_seed, "frontend": mcfg["frontend"],
                  "features_recomputed_agreement": agreement, "features_recomputed_samples": len(head)},
        "weights": {key: stats[key] for key in ("layers", "nonzero_weights", "total_weights")},
        "weight_sparsity": 1 - stats["nonzero_weights"] / stats["total_weights"],
        "nonzero_parameters": stats["nonzero_parameters"],
        "total_parameters": stats["total_parameters"],
        "activations": activity["activations"],
        "macs": macs,
        "sources": {"test_accuracy": "measured (the first seed's selected weights, model.pt)",
                    "noise": "measured on the test split with seeded white noise",
                    "activations": "measured on the test split (eval mode: inference k of k-WTA)",
                    "weights": "counted on the quantised weights"},
        "provenance": stamp({"model": model_name, "model_config": mcfg, "features": cfg.get("features"),
                             "seed": cfg["seed"]}),
    }
    out_dir = Path(out_dir)
    write_csv(out_dir / "confusion.csv", confusion_frame(matrix, features.classes))
    write_csv(out_dir / "noise_robustness.csv", noise.assign(model=model_name))
    write_json(out_dir / "evaluation.json", evaluation)
    return evaluation
