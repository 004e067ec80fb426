"""Train one model with Brevitas quantisation-aware training; select the epoch on validation.

Writes into ``--out-dir``: ``model.pt`` (selected weights), ``history.csv`` (one row per epoch)
and ``metrics.json`` (test accuracy of the selected weights, weight statistics, provenance).
A per-epoch ``checkpoint.pt`` lets an interrupted run continue where it stopped; it is removed
when training completes. The same config on the same device gives the same results.
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
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

from sparsekws.config import load_config, model_config
from sparsekws.errors import UserError
from sparsekws.fileio import atomic_path, write_csv, write_json
from sparsekws.models.mlp import build_mlp, linear_layers
from sparsekws.models.sparse_weights import rezero_weights
from sparsekws.provenance import config_hash, stamp

log = logging.getLogger(__name__)

SPLITS = ("train", "validation", "test")
SGD_MOMENTUM = 0.9
EVAL_BATCH_SIZE = 1024
HISTORY_COLUMNS = ["epoch", "train_loss", "train_accuracy", "validation_loss", "validation_accuracy", "lr"]


# --------------------------------------------------------------------------------------------
# inputs


@dataclass
class Features:
    """The feature file's splits as float32 tensors of integer values, shape (N, in_features)."""

    x: dict[str, torch.Tensor]
    y: dict[str, torch.Tensor]
    classes: list[str]
    scale: float
    sha256: str

    @property
    def in_features(self) -> int:
        return self.x["train"].shape[1]


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
    widths = {x[s].shape[1] for s in SPLITS}
    if len(widths) != 1:
        raise UserError(f"features file {path}: splits have different feature sizes {sorted(widths)}")
    if len(x["train"]) == 0 or len(x["validation"]) == 0:
        raise UserError(f"features file {path}: the train and validation splits must not be empty")
    scale = float(data["scale"]) if "scale" in data.files else 1.0
    return Features(x, y, classes, scale, hashlib.sha256(blob).hexdigest())


def model_seed(seed: int, model_name: str) -> int:
    """The model's seed: the config ``seed`` combined with a stable hash of the model name."""
    return (seed * 1_000_003 + zlib.crc32(model_name.encode())) % 2**31


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


# --------------------------------------------------------------------------------------------
# statistics


@torch.no_grad()
def weight_stats(model: nn.Module) -> dict[str, Any]:
    """Per-layer weight statistics and MAC counts of a (Brevitas) MLP.

    ``mask_density`` is the configured fan-in over in_features (1.0 for dense layers);
    ``nonzero_fraction`` is measured on the *quantised* weights (so it also counts weights that
    quantise to zero). MACs count the weight layers only (BatchNorm/activations excluded);
    ``macs_weight_sparse`` counts the non-zero quantised weights, i.e. the multiplications a
    zero-skipping implementation performs per inference.
    """
    was_training = model.training
    model.eval()
    layers = []
    for name, linear, sparse in linear_layers(model):
        qweight = linear.quant_weight().value
        nonzero = int(torch.count_nonzero(qweight))
        total = qweight.numel()
        layers.append({
            "name": name,
            "shape": list(qweight.shape),
            "fan_in": sparse.fan_in if sparse is not None else int(qweight.shape[1]),
            "mask_density": sparse.mask_density if sparse is not None else 1.0,
            "nonzero_weights": nonzero,
            "total_weights": total,
            "nonzero_fraction": nonzero / total,
        })
    model.train(was_training)
    nonzero = sum(layer["nonzero_weights"] for layer in layers)
    total = sum(layer["total_weights"] for layer in layers)
    return {
        "layers": layers,
        "nonzero_weights": nonzero,
        "total_weights": total,
        "macs_dense": total,
        "macs_mask": sum(layer["fan_in"] * layer["shape"][0] for layer in layers),
        "macs_weight_sparse": nonzero,
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


def _make_optimizer(params, train_cfg: dict[str, Any]) -> torch.optim.Optimizer:
    lr, wd = train_cfg["learning_rate"], train_cfg["weight_decay"]
    if train_cfg["optimizer"] == "adam":
        return torch.optim.Adam(params, lr=lr, weight_decay=wd)
    return torch.optim.SGD(params, lr=lr, momentum=SGD_MOMENTUM, weight_decay=wd)


def _make_scheduler(optimizer, train_cfg: dict[str, Any]):
    if train_cfg["lr_schedule"] == "cosine":
        return torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=train_cfg["epochs"])
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda epoch: 1.0)


@torch.no_grad()
def evaluate(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` in eval mode."""
    if len(x) == 0:
        return float("nan"), float("nan")
    model.eval()
    loss_sum, correct = 0.0, 0
    for start in range(0, len(x), EVAL_BATCH_SIZE):
        xb = x[start:start + EVAL_BATCH_SIZE].to(device)
        yb = y[start:start + EVAL_BATCH_SIZE].to(device)
        logits = model(xb)
        loss_sum += float(nn.functional.cross_entropy(logits, yb, reduction="sum"))
        correct += int((logits.argmax(dim=1) == yb).sum())
    return loss_sum / len(x), correct / len(x)


def _train_epoch(model, loader, optimizer, device, desc: str) -> tuple[float, float]:
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


def run_fingerprint(cfg: dict[str, Any], model_name: str, features: Features) -> str:
    """Identifies a training run: everything that changes its result (a checkpoint must match)."""
    return config_hash({"model": model_name, "model_config": model_config(cfg, model_name),
                        "train": cfg["train"], "seed": cfg["seed"], "features_sha256": features.sha256})


def train_model(cfg: dict[str, Any], model_name: str, features_path: str | os.PathLike,
                out_dir: str | os.PathLike, device: str = "cpu",
                epoch_callback: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Train model ``model_name`` of config ``cfg``; write model.pt, history.csv, metrics.json.

    ``epoch_callback(epoch)`` runs after each epoch's checkpoint is written (tests use it to
    interrupt a run). Returns the metrics written to metrics.json.
    """
    mcfg = model_config(cfg, model_name)
    if mcfg["family"] != "mlp":
        raise UserError(f"model '{model_name}': family '{mcfg['family']}' is not supported by train")
    tcfg = cfg["train"]
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    checkpoint_path = out_dir / "checkpoint.pt"
    dev = resolve_device(device)
    torch.set_num_threads(tcfg["threads"])
    if dev.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)

    features = load_features(features_path)
    seed = model_seed(cfg["seed"], model_name)
    fingerprint = run_fingerprint(cfg, model_name, features)
    torch.manual_seed(seed)
    model = build_mlp(mcfg, features.in_features, len(features.classes), seed).to(dev)
    optimizer = _make_optimizer(model.parameters(), tcfg)
    scheduler = _make_scheduler(optimizer, tcfg)
    train_set = TensorDataset(features.x["train"], features.y["train"])

    start_epoch, history = 0, []
    best = {"epoch": 0, "accuracy": -1.0, "state": None}
    if checkpoint_path.exists():
        ckpt = _load_checkpoint(checkpoint_path, fingerprint)
        if ckpt is not None:
            model.load_state_dict(ckpt["model_state"])
            _restore_runtime_state(model, ckpt["runtime_state"])
            optimizer.load_state_dict(ckpt["optimizer_state"])
            scheduler.load_state_dict(ckpt["scheduler_state"])
            torch.set_rng_state(ckpt["torch_rng_state"])
            start_epoch, history, best = ckpt["epoch"], ckpt["history"], ckpt["best"]
            log.info("resuming %s from %s after epoch %d", model_name, checkpoint_path, start_epoch)

    log.info("training %s (%s) on %s: %d train / %d validation samples, seed %d, %d epochs",
             model_name, _describe_model(mcfg), dev, len(train_set), len(features.y["validation"]),
             seed, tcfg["epochs"])
    epochs = tcfg["epochs"]
    bar = tqdm(range(start_epoch, epochs), desc=f"train {model_name}", file=sys.stderr,
               initial=start_epoch, total=epochs, unit="epoch")
    for epoch_index in bar:
        epoch = epoch_index + 1
        started = time.perf_counter()
        generator = torch.Generator().manual_seed(seed * 100_003 + epoch)
        loader = DataLoader(train_set, batch_size=tcfg["batch_size"], shuffle=True, generator=generator)
        lr = optimizer.param_groups[0]["lr"]
        train_loss, train_acc = _train_epoch(model, loader, optimizer, dev, f"epoch {epoch}/{epochs}")
        scheduler.step()
        val_loss, val_acc = evaluate(model, features.x["validation"], features.y["validation"], dev)
        history.append({"epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
                        "validation_loss": val_loss, "validation_accuracy": val_acc, "lr": lr})
        if val_acc > best["accuracy"]:
            best = {"epoch": epoch, "accuracy": val_acc, "state": _state_to_cpu(model.state_dict())}
        bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}",
                        best=best["epoch"])
        log.info("%s epoch %d/%d: train loss %.4f acc %.4f, validation loss %.4f acc %.4f, lr %.3g (%.1f s)",
                 model_name, epoch, epochs, train_loss, train_acc, val_loss, val_acc, lr,
                 time.perf_counter() - started)
        _save_checkpoint(checkpoint_path, {
            "fingerprint": fingerprint, "epoch": epoch, "history": history, "best": best,
            "model_state": _state_to_cpu(model.state_dict()), "runtime_state": _runtime_state(model),
            "optimizer_state": optimizer.state_dict(), "scheduler_state": scheduler.state_dict(),
            "torch_rng_state": torch.get_rng_state()})
        if epoch_callback is not None:
            epoch_callback(epoch)
    bar.close()

    # the selected (best-validation) weights; the test split is used here, once
    model.load_state_dict(best["state"])
    val_loss, val_acc = evaluate(model, features.x["validation"], features.y["validation"], dev)
    test_loss, test_acc = evaluate(model, features.x["test"], features.y["test"], dev)
    log.info("%s: selected epoch %d (validation accuracy %.4f); test accuracy %.4f",
             model_name, best["epoch"], val_acc, test_acc)

    model_file = {"state_dict": best["state"], "model_name": model_name, "model_config": mcfg,
                  "in_features": features.in_features, "classes": features.classes, "seed": seed,
                  "best_epoch": best["epoch"]}
    with atomic_path(out_dir / "model.pt", suffix=".pt") as tmp:
        torch.save(model_file, tmp)
    write_csv(out_dir / "history.csv", pd.DataFrame(history, columns=HISTORY_COLUMNS))
    stats = weight_stats(model)
    metrics = {
        "model": model_name,
        "model_config": mcfg,
        "train_config": tcfg,
        "seed": seed,
        "best_epoch": best["epoch"],
        "epochs": epochs,
        "validation_accuracy": val_acc,
        "validation_loss": val_loss,
        "test_accuracy": test_acc,
        "test_loss": test_loss,
        "sizes": {split: len(features.y[split]) for split in SPLITS},
        "classes": features.classes,
        "features_sha256": features.sha256,
        **stats,
        "provenance": stamp({"model": model_name, "model_config": mcfg, "train": tcfg, "seed": cfg["seed"]}),
    }
    write_json(out_dir / "metrics.json", metrics)
    checkpoint_path.unlink(missing_ok=True)
    return metrics


def _describe_model(mcfg: dict[str, Any]) -> str:
    hidden = "x".join(str(h) for h in mcfg["hidden_units"])
    return (f"mlp {hidden}, W{mcfg['weight_bits']}A{mcfg['activation_bits']}, "
            f"weight density {mcfg['weight_density']}")


def _save_checkpoint(path: Path, state: dict[str, Any]) -> None:
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


def run(args: argparse.Namespace) -> None:
    cfg = load_config(args.config)
    train_model(cfg, args.model, args.features, args.out_dir, device=args.device)
