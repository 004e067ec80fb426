"""Train one model with Brevitas quantisation-aware training, once per seed; select on validation.

Writes into ``--out-dir``: ``model.pt`` (the selected weights of the first seed), ``history.csv``
(one row per seed and epoch) and ``metrics.json`` (test accuracy of every seed's selected
weights with mean, standard deviation and 95 % t-interval, weight statistics, provenance).
Seeds are trained one after the other, each with its own per-epoch checkpoint under
``runs/`` so that an interrupted run continues where it stopped; ``runs/`` is removed when
every seed is done. The same config on the same device gives the same results.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import math
import os
import shutil
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

from sparsekws.augment import EpochAugmenter
from sparsekws.config import load_config, model_config, training_entry
from sparsekws.errors import ConfigError, UserError
from sparsekws.features import make_frontend
from sparsekws.fileio import atomic_path, write_csv, write_json
from sparsekws.models.kwinners import update_boost_strength
from sparsekws.models.macs import count_macs
from sparsekws.models.sparse_weights import rezero_weights
from sparsekws.models.zoo import build_model, model_input_shape, weight_layers
from sparsekws.provenance import config_hash, stamp

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
EVAL_BATCH_SIZE = 1024
CONFIDENCE = 0.95
HISTORY_COLUMNS = ["seed_index", "epoch", "train_loss", "train_accuracy", "validation_loss",
                   "validation_accuracy", "lr"]
RUNS_DIR = "runs"


# --------------------------------------------------------------------------------------------
# inputs


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

    @property
    def in_features(self) -> int:
        return self.x["train"].shape[1]

    def inputs(self, split: str, input_shape: tuple[int, ...]) -> torch.Tensor:
        return self.x[split].reshape(len(self.x[split]), *input_shape)


def load_features(path: str | os.PathLike) -> Features:
    """Read a features ``.npz`` (``x_<split>`` int8 [N, frames, coeffs], ``y_<split>``, ``classes``)."""
    path = Path(path)
    try:
        blob = path.read_bytes()
        data = np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise UserError(f"features file not found: {path}") from None
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read features file {path}: {exc}") from None
    needed = [f"{p}_{s}" for s in SPLITS for p in ("x", "y")] + ["classes"]
    missing = [k for k in needed if k not in data.files]
    if missing:
        raise UserError(f"features file {path} lacks {', '.join(missing)}")
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
    scale = float(data["scale"]) if "scale" in data.files else 1.0
    return Features(x, y, classes, scale, hashlib.sha256(blob).hexdigest(), shapes.pop())


def model_seed(seed: int, model_name: str) -> int:
    """The model's seed: the config ``seed`` combined with a stable hash of the model name."""
    return (seed * 1_000_003 + zlib.crc32(model_name.encode())) % 2**31


def run_seeds(seed: int, model_name: str, count: int) -> list[int]:
    """The seeds of ``count`` training runs; the first is ``model_seed(seed, model_name)``."""
    return [model_seed(seed, model_name if index == 0 else f"{model_name}/seed{index}") for index in range(count)]


def train_config(cfg: dict[str, Any], model_name: str) -> dict[str, Any]:
    """The training settings of one model: ``train`` with ``train.per_model.<model>`` applied."""
    per_model = cfg["train"].get("per_model", {})
    unknown = sorted(set(per_model) - set(cfg["models"]))
    if unknown:
        raise ConfigError(f"config key 'train.per_model' names unknown models {unknown}; "
                          f"the config defines: {', '.join(sorted(cfg['models']))}")
    settings = {key: value for key, value in cfg["train"].items() if key != "per_model"}
    return {**settings, **per_model.get(model_name, {})}


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


# --------------------------------------------------------------------------------------------
# models


def build_network(mcfg: dict[str, Any], feature_shape: tuple[int, ...], num_classes: int,
                  seed: int) -> tuple[nn.Module, tuple[int, ...]]:
    """The network of a ``models.<name>`` entry and its per-sample input shape."""
    input_shape = tuple(int(d) for d in model_input_shape(mcfg, tuple(feature_shape)))
    return build_model(mcfg, input_shape, num_classes, seed), input_shape


# --------------------------------------------------------------------------------------------
# statistics


def confidence_summary(values: list[float], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Mean, sample standard deviation and a two-sided t-interval of the mean of ``values``.

    With one value there is no spread to estimate: std and the interval are None and ``note``
    says so.
    """
    from scipy import stats

    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = float(np.mean(values))
    summary = {"n": n, "mean": mean, "std": None, "confidence": confidence, "ci_low": None, "ci_high": None,
               "method": f"mean +- t({(1 + confidence) / 2:g}, n-1) * std / sqrt(n), std with n-1 "
                         "(measured over seeds)"}
    if n == 1:
        summary["note"] = "one seed: no standard deviation or confidence interval (raise train.seeds)"
        return summary
    std = float(np.std(values, ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
    summary.update({"std": std, "ci_low": mean - half, "ci_high": mean + half})
    return summary


@torch.no_grad()
def weight_stats(model: nn.Module, input_shape: tuple[int, ...]) -> dict[str, Any]:
    """Per-layer weight statistics and MAC counts per inference (counted, not timed).

    ``mask_density`` is the fixed fan-in over the layer's inputs (1.0 for dense layers);
    ``nonzero_fraction`` is measured on the *quantised* weights (so it also counts weights that
    quantise to zero). MACs count the weight layers only (BatchNorm, pooling, activations
    excluded), times the output positions of a convolution: ``macs_dense`` all weights,
    ``macs_mask`` the kept fan-in, ``macs_weight_sparse`` the non-zero quantised weights (what a
    zero-skipping implementation multiplies).
    """
    positions = {layer["name"]: layer["output_positions"] for layer in count_macs(model, input_shape)["layers"]}
    was_training = model.training
    model.eval()
    layers = []
    for name, layer, sparse in weight_layers(model):
        qweight = layer.quant_weight().value
        nonzero = int(torch.count_nonzero(qweight))
        total = qweight.numel()
        fan_in_total = int(math.prod(qweight.shape[1:]))
        fan_in = int(getattr(sparse, "fan_in", fan_in_total)) if sparse is not None else fan_in_total
        layers.append({
            "name": name,
            "kind": type(layer).__name__,
            "shape": list(qweight.shape),
            "output_positions": positions.get(name, 1),
            "fan_in": fan_in,
            "mask_density": fan_in / fan_in_total,
            "nonzero_weights": nonzero,
            "total_weights": total,
            "nonzero_fraction": nonzero / total,
        })
    model.train(was_training)
    return {
        "layers": layers,
        "nonzero_weights": sum(layer["nonzero_weights"] for layer in layers),
        "total_weights": sum(layer["total_weights"] for layer in layers),
        "nonzero_parameters": int(sum(torch.count_nonzero(p) for p in model.parameters())),
        "total_parameters": int(sum(p.numel() for p in model.parameters())),
        "macs_dense": sum(layer["total_weights"] * layer["output_positions"] for layer in layers),
        "macs_mask": sum(layer["fan_in"] * layer["shape"][0] * layer["output_positions"] for layer in layers),
        "macs_weight_sparse": sum(layer["nonzero_weights"] * layer["output_positions"] for layer in layers),
    }


# --------------------------------------------------------------------------------------------
# state that state_dict() does not capture


def _runtime_scaling_modules(model: nn.Module) -> dict[str, nn.Module]:
    """Brevitas scale modules that collect runtime statistics during the first training steps.

    Their ``state_dict`` folds the statistics into the learned value and marks collection as done
    when loaded, which is right for a finished model but would change the training trajectory of
    a resumed run; checkpoints therefore store their raw state as well.
    """
    return {name: module for name, module in model.named_modules()
            if hasattr(module, "collect_stats_steps") and hasattr(module, "counter")
            and isinstance(getattr(module, "buffer", None), torch.Tensor)
            and isinstance(getattr(module, "value", None), torch.Tensor)}


def _runtime_state(model: nn.Module) -> dict[str, dict[str, Any]]:
    return {name: {"counter": int(m.counter), "buffer": m.buffer.detach().cpu().clone(),
                   "value": m.value.detach().cpu().clone()}
            for name, m in _runtime_scaling_modules(model).items()}


@torch.no_grad()
def _restore_runtime_state(model: nn.Module, state: dict[str, dict[str, Any]]) -> None:
    for name, module in _runtime_scaling_modules(model).items():
        saved = state[name]
        module.counter = saved["counter"]
        module.buffer.copy_(saved["buffer"])
        module.value.copy_(saved["value"])


def _state_to_cpu(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    return {k: v.detach().cpu().clone() for k, v in state.items()}


# --------------------------------------------------------------------------------------------
# training


def make_optimizer(params, train_cfg: dict[str, Any]) -> torch.optim.Optimizer:
    """``train.optimizer``: Adam, or SGD with ``train.momentum``; L2 ``train.weight_decay``."""
    lr, wd = train_cfg["learning_rate"], train_cfg["weight_decay"]
    if train_cfg["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    return torch.optim.SGD(params, lr=lr, momentum=train_cfg["momentum"], weight_decay=wd)


def make_scheduler(optimizer, train_cfg: dict[str, Any]):
    """``train.lr_schedule``: cosine to 0 over the epochs, constant, or ``step`` (the learning
    rate times ``train.lr_step_gamma`` after every epoch, as Numenta's StepLR(step_size=1))."""
    schedule = train_cfg["lr_schedule"]
    if schedule == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=train_cfg["epochs"])
    if schedule == "step":
        return torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=train_cfg["lr_step_gamma"])
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)


# kept for callers of the earlier names (benchmarks)
_make_optimizer = make_optimizer
_make_scheduler = make_scheduler


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Logits of ``model`` in eval mode on ``x`` (on the CPU), in batches."""
    model.eval()
    parts = [model(x[start:start + EVAL_BATCH_SIZE].to(device)).float().cpu()
             for start in range(0, len(x), EVAL_BATCH_SIZE)]
    return torch.cat(parts) if parts else torch.zeros(0)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` in eval mode."""
    if len(x) == 0:
        return float("nan"), float("nan")
    logits = predict(model, x, device)
    loss = float(nn.functional.cross_entropy(logits, y, reduction="sum")) / len(x)
    return loss, int((logits.argmax(dim=1) == y).sum()) / len(x)


def train_epoch(model, loader, optimizer, device, desc: str) -> tuple[float, float]:
    """One pass over ``loader``: mean loss and accuracy of the training batches."""
    model.train()
    loss_sum, correct, seen = 0.0, 0, 0
    bar = tqdm(loader, desc=desc, leave=False, file=sys.stderr, disable=not sys.stderr.isatty())
    for xb, yb in bar:
        xb, yb = xb.to(device), yb.to(device)
        optimizer.zero_grad(set_to_none=True)
        logits = model(xb)
        loss = nn.functional.cross_entropy(logits, yb)
        loss.backward()
        optimizer.step()
        rezero_weights(model)
        n = len(yb)
        loss_sum += float(loss.detach()) * n
        correct += int((logits.detach().argmax(dim=1) == yb).sum())
        seen += n
        bar.set_postfix(loss=f"{loss_sum / seen:.4f}", acc=f"{correct / seen:.3f}")
    return loss_sum / seen, correct / seen


_train_epoch = train_epoch


def run_fingerprint(cfg: dict[str, Any], model_name: str, features: Features) -> str:
    """Identifies a training run: everything that changes its result (a checkpoint must match)."""
    return config_hash({"model": model_name, "model_config": training_entry(model_config(cfg, model_name)),
                        "train": train_config(cfg, model_name), "seed": cfg["seed"],
                        "augment": cfg.get("augment", {}), "features_sha256": features.sha256})


@dataclass
class SeedRun:
    """What one seed's training produced."""

    index: int
    seed: int
    best_epoch: int
    history: list[dict[str, Any]]
    state: dict[str, torch.Tensor]
    validation_loss: float
    validation_accuracy: float
    test_loss: float
    test_accuracy: float

    def record(self) -> dict[str, Any]:
        return {"index": self.index, "seed": self.seed, "best_epoch": self.best_epoch,
                "validation_accuracy": self.validation_accuracy, "validation_loss": self.validation_loss,
                "test_accuracy": self.test_accuracy, "test_loss": self.test_loss}


def _train_seed(model_name: str, mcfg: dict[str, Any], tcfg: dict[str, Any], features: Features, index: int,
                seed: int, dev: torch.device, run_dir: Path, fingerprint: str,
                epoch_callback: Callable[[int, int], None] | None,
                augmenter: EpochAugmenter | None = None) -> SeedRun:
    """Train seed ``index`` (resuming from its checkpoint), select on validation, test once."""
    result_path = run_dir / f"seed{index}.pt"
    saved = _load_checkpoint(result_path, fingerprint) if result_path.exists() else None
    if saved is not None:
        log.info("%s seed %d (%d) already trained: %s", model_name, index, seed, result_path)
        return SeedRun(**saved["run"])

    checkpoint_path = run_dir / f"seed{index}.checkpoint.pt"
    torch.manual_seed(seed)
    model, input_shape = build_network(mcfg, features.feature_shape, len(features.classes), seed)
    model = model.to(dev)
    optimizer = make_optimizer(model.parameters(), tcfg)
    scheduler = make_scheduler(optimizer, tcfg)
    x = {split: features.inputs(split, input_shape) for split in SPLITS}
    train_set = TensorDataset(x["train"], features.y["train"])

    start_epoch, history = 0, []
    best = {"epoch": 0, "accuracy": -1.0, "state": None}
    ckpt = _load_checkpoint(checkpoint_path, fingerprint) if checkpoint_path.exists() else None
    if ckpt is not None:
        model.load_state_dict(ckpt["model_state"])
        _restore_runtime_state(model, ckpt["runtime_state"])
        optimizer.load_state_dict(ckpt["optimizer_state"])
        scheduler.load_state_dict(ckpt["scheduler_state"])
        torch.set_rng_state(ckpt["torch_rng_state"])
        start_epoch, history, best = ckpt["epoch"], ckpt["history"], ckpt["best"]
        log.info("resuming %s seed %d from %s after epoch %d", model_name, index, checkpoint_path, start_epoch)

    epochs = tcfg["epochs"]
    log.info("training %s seed %d/%d (seed %d) on %s: input %s, %d train / %d validation samples, %d epochs",
             model_name, index + 1, tcfg["seeds"], seed, dev, "x".join(map(str, input_shape)), len(train_set),
             len(features.y["validation"]), epochs)
    bar = tqdm(range(start_epoch, epochs), desc=f"train {model_name} seed {index}", file=sys.stderr,
               initial=start_epoch, total=epochs, unit="epoch")
    for epoch_index in bar:
        epoch = epoch_index + 1
        started = time.perf_counter()
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        if augmenter is not None:  # a newly augmented train split every epoch
            x_train = torch.from_numpy(augmenter.features(seed, epoch).astype(np.float32))
            train_set = TensorDataset(x_train.reshape(len(x_train), *input_shape), features.y["train"])
        loader = DataLoader(train_set, batch_size=tcfg["batch_size"], shuffle=True, generator=generator)
        lr = optimizer.param_groups[0]["lr"]
        train_loss, train_acc = train_epoch(model, loader, optimizer, dev, f"epoch {epoch}/{epochs}")
        scheduler.step()
        update_boost_strength(model)  # once per epoch; nothing for models without k-WTA
        val_loss, val_acc = evaluate(model, x["validation"], features.y["validation"], dev)
        history.append({"seed_index": index, "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
                        "validation_loss": val_loss, "validation_accuracy": val_acc, "lr": lr})
        if val_acc > best["accuracy"]:
            best = {"epoch": epoch, "accuracy": val_acc, "state": _state_to_cpu(model.state_dict())}
        bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}",
                        best=best["epoch"])
        log.info("%s seed %d epoch %d/%d: train loss %.4f acc %.4f, validation loss %.4f acc %.4f, lr %.3g "
                 "(%.2f s measured)", model_name, index, epoch, epochs, train_loss, train_acc, val_loss, val_acc,
                 lr, time.perf_counter() - started)
        _save(checkpoint_path, {
            "fingerprint": fingerprint, "epoch": epoch, "history": history, "best": best,
            "model_state": _state_to_cpu(model.state_dict()), "runtime_state": _runtime_state(model),
            "optimizer_state": optimizer.state_dict(), "scheduler_state": scheduler.state_dict(),
            "torch_rng_state": torch.get_rng_state()})
        if epoch_callback is not None:
            epoch_callback(index, epoch)
    bar.close()

    # the selected (best-validation) weights; the test split is used here, once per seed
    model.load_state_dict(best["state"])
    val_loss, val_acc = evaluate(model, x["validation"], features.y["validation"], dev)
    test_loss, test_acc = evaluate(model, x["test"], features.y["test"], dev)
    log.info("%s seed %d: selected epoch %d (validation accuracy %.4f); test accuracy %.4f",
             model_name, index, best["epoch"], val_acc, test_acc)
    run = SeedRun(index, seed, best["epoch"], history, best["state"], val_loss, val_acc, test_loss, test_acc)
    _save(result_path, {"fingerprint": fingerprint, "run": run.__dict__})
    checkpoint_path.unlink(missing_ok=True)
    return run


def _augmenter(cfg: dict[str, Any], mcfg: dict[str, Any], features: Features,
               train_audio: str | os.PathLike | None) -> EpochAugmenter | None:
    """The training-time augmentation of config ``augment``, or None when it is off."""
    augment_cfg = cfg.get("augment", {})
    if not augment_cfg.get("enabled"):
        return None
    if train_audio is None:
        raise UserError("augment.enabled needs the train split's audio (audio_train.npz of the features "
                        "stage): pass --train-audio")
    frontend = make_frontend(mcfg["frontend"], cfg["features"])
    return EpochAugmenter(train_audio, features.y["train"].numpy(), augment_cfg, frontend, features.scale)


def train_model(cfg: dict[str, Any], model_name: str, features_path: str | os.PathLike,
                out_dir: str | os.PathLike, device: str = "cpu",
                epoch_callback: Callable[[int, int], None] | None = None,
                train_audio: str | os.PathLike | None = None) -> dict[str, Any]:
    """Train model ``model_name`` of config ``cfg`` for ``train.seeds`` seeds; write model.pt
    (first seed), history.csv, metrics.json.

    ``epoch_callback(seed_index, epoch)`` runs after each epoch's checkpoint is written (tests use
    it to interrupt a run). Returns the metrics written to metrics.json.
    """
    mcfg = training_entry(model_config(cfg, model_name))
    tcfg = train_config(cfg, model_name)
    out_dir = Path(out_dir)
    run_dir = out_dir / RUNS_DIR
    run_dir.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    torch.set_num_threads(tcfg["threads"])
    if dev.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)

    features = load_features(features_path)
    fingerprint = run_fingerprint(cfg, model_name, features)
    seeds = run_seeds(cfg["seed"], model_name, tcfg["seeds"])
    augmenter = _augmenter(cfg, mcfg, features, train_audio)
    runs = [_train_seed(model_name, mcfg, tcfg, features, index, seed, dev, run_dir, fingerprint, epoch_callback,
                        augmenter)
            for index, seed in enumerate(seeds)]

    first = runs[0]
    model, input_shape = build_network(mcfg, features.feature_shape, len(features.classes), first.seed)
    model.load_state_dict(first.state)
    model_file = {"state_dict": first.state, "model_name": model_name, "model_config": mcfg,
                  "in_features": features.in_features, "feature_shape": list(features.feature_shape),
                  "input_shape": list(input_shape), "classes": features.classes, "seed": first.seed,
                  "best_epoch": first.best_epoch}
    with atomic_path(out_dir / "model.pt", suffix=".pt") as tmp:
        torch.save(model_file, tmp)
    history = [row for run in runs for row in run.history]
    write_csv(out_dir / "history.csv", pd.DataFrame(history, columns=HISTORY_COLUMNS))
    summary = confidence_summary([run.test_accuracy for run in runs])
    log.info("%s: test accuracy over %d seed(s): mean %.4f%s", model_name, len(runs), summary["mean"],
             "" if summary["ci_low"] is None else
             f", std {summary['std']:.4f}, 95 % CI [{summary['ci_low']:.4f}, {summary['ci_high']:.4f}]")
    metrics = {
        "model": model_name,
        "model_config": mcfg,
        "train_config": tcfg,
        "seed": first.seed,
        "best_epoch": first.best_epoch,
        "epochs": tcfg["epochs"],
        "validation_accuracy": first.validation_accuracy,
        "validation_loss": first.validation_loss,
        "test_accuracy": first.test_accuracy,
        "test_loss": first.test_loss,
        "seeds": [run.record() for run in runs],
        "test_accuracy_over_seeds": summary,
        "sizes": {split: len(features.y[split]) for split in SPLITS},
        "classes": features.classes,
        "feature_shape": list(features.feature_shape),
        "input_shape": list(input_shape),
        "features_sha256": features.sha256,
        **weight_stats(model, input_shape),
        "sources": {"accuracy": "measured on the test split (selection on validation)",
                    "test_accuracy": "the first seed's selected weights (model.pt); all seeds in 'seeds'",
                    "macs": "counted from layer shapes and non-zero quantised weights"},
        "provenance": stamp({"model": model_name, "model_config": mcfg, "train": tcfg, "seed": cfg["seed"]}),
    }
    write_json(out_dir / "metrics.json", metrics)
    shutil.rmtree(run_dir)
    return metrics


def _save(path: Path, state: dict[str, Any]) -> None:
    with atomic_path(path, suffix=".pt") as tmp:
        torch.save(state, tmp)


def _load_checkpoint(path: Path, fingerprint: str) -> dict[str, Any] | None:
    """The checkpoint at ``path`` if it belongs to this run, else None (it is then ignored)."""
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # a damaged checkpoint only costs the time to retrain
        log.warning("ignoring unreadable checkpoint %s (%s); training from the start", path, exc)
        return None
    if not isinstance(ckpt, dict) or ckpt.get("fingerprint") != fingerprint:
        log.warning("ignoring checkpoint %s: it belongs to another config or features file; "
                    "training from the start", path)
        return None
    return ckpt


# --------------------------------------------------------------------------------------------
# command line


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", required=True, help="workflow config YAML")
    parser.add_argument("--model", required=True, help="model name (a key of 'models' in the config)")
    parser.add_argument("--features", required=True, help="features .npz from the features stage")
    parser.add_argument("--out-dir", required=True, help="folder for model.pt, history.csv, metrics.json")
    parser.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"],
                        help="where to train (auto: CUDA when available; default %(default)s)")
    parser.add_argument("--train-audio", help="audio_train.npz of the features stage (needed when augment.enabled)")


def run(args: argparse.Namespace) -> None:
    cfg = load_config(args.config)
    train_model(cfg, args.model, args.features, args.out_dir, device=args.device, train_audio=args.train_audio)
