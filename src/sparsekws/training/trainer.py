"""Train one model with Brevitas quantisation-aware training, once per seed; select on validation.

Writes into the output folder: ``model.pt`` (the selected weights of the first seed,
``training.model_file``), ``history.csv`` (one row per seed and epoch) and ``metrics.json`` (test
accuracy of every seed's selected weights with mean, standard deviation and 95 % t-interval,
weight statistics, provenance). Seeds are trained one after the other, or one per call
(``seed_index``: the workflow's ``train_seed`` jobs, side by side), each with its own per-epoch
checkpoint and result under ``runs/`` so that an interrupted run continues where it stopped;
``runs/`` is removed when every seed is gathered. The same config on the same device gives the same
results.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import sys
import time
import zlib
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset
from tqdm import tqdm

from sparsekws.core.config import model_config, train_settings, training_entry
from sparsekws.core.errors import UserError
from sparsekws.core.files import read_npz, write_csv, write_json
from sparsekws.core.provenance import config_hash, stamp
from sparsekws.core.stats import confidence_summary
from sparsekws.data.labels import SPLITS
from sparsekws.features.augment import load_augmented
from sparsekws.features.store import Features, load_features
from sparsekws.models.kwinners import update_boost_strength
from sparsekws.models.sparse_weights import rezero_weights
from sparsekws.models.spec import model_input_shape
from sparsekws.models.zoo import build_network
from sparsekws.training.checkpoint import (load_checkpoint, restore_rng_state, restore_runtime_state, rng_state,
                                           runtime_state, save_checkpoint, state_to_cpu)
from sparsekws.training.inference import loss_and_accuracy, resolve_device
from sparsekws.training.model_file import save_model_file
from sparsekws.training.weights import weight_stats

log = logging.getLogger(__name__)

HISTORY_COLUMNS = ["seed_index", "epoch", "train_loss", "train_accuracy", "validation_loss",
                   "validation_accuracy", "lr"]
RUNS_DIR = "runs"
#: What an epoch checkpoint holds to resume from (``checkpoint``).
RESUME_KEYS = ("epoch", "history", "best", "model_state", "runtime_state", "optimizer_state", "scheduler_state",
               "rng_state")


def model_seed(seed: int, model_name: str) -> int:
    """The model's seed: the config ``seed`` combined with a stable hash of the model name."""
    return (seed * 1_000_003 + zlib.crc32(model_name.encode())) % 2**31


def run_seeds(seed: int, model_name: str, count: int) -> list[int]:
    """The seeds of ``count`` training runs; the first is ``model_seed(seed, model_name)``."""
    return [model_seed(seed, model_name if index == 0 else f"{model_name}/seed{index}") for index in range(count)]


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


def run_fingerprint(cfg: dict[str, Any], model_name: str, features: Features, held_out_sha256: str | None = None) -> str:
    """Identifies a training run: everything that changes its result (a checkpoint must match)."""
    identity = {"model": model_name, "model_config": training_entry(model_config(cfg, model_name)),
                "train": train_settings(cfg, model_name), "seed": cfg["seed"],
                "augment": cfg.get("augment", {}), "features_sha256": features.sha256}
    return config_hash(identity if held_out_sha256 is None else {**identity, "held_out_sha256": held_out_sha256})


def _held_out(path: str | os.PathLike | None, input_shape: tuple[int, ...]):
    """``((x, y), sha256)`` of a held-out features file (``x``, ``y``), or ``(None, None)``."""
    if path is None:
        return None, None
    data = read_npz(path, ("x", "y"), "held-out features file")
    x = torch.from_numpy(data["x"].reshape(len(data["x"]), *input_shape).astype(np.float32))
    return (x, torch.from_numpy(data["y"].astype(np.int64))), hashlib.sha256(Path(path).read_bytes()).hexdigest()


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
    held_out_accuracy: float | None = None

    def record(self) -> dict[str, Any]:
        record = {"index": self.index, "seed": self.seed, "best_epoch": self.best_epoch,
                  "validation_accuracy": self.validation_accuracy, "validation_loss": self.validation_loss,
                  "test_accuracy": self.test_accuracy, "test_loss": self.test_loss}
        return record if self.held_out_accuracy is None else {**record, "held_out_accuracy": self.held_out_accuracy}


def _train_seed(model_name: str, mcfg: dict[str, Any], tcfg: dict[str, Any], features: Features, index: int,
                seed: int, dev: torch.device, run_dir: Path, fingerprint: str,
                epoch_callback: Callable[[int, int], None] | None,
                augmented: torch.Tensor | None = None,
                held_out: tuple[torch.Tensor, torch.Tensor] | None = None) -> SeedRun:
    """Train seed ``index`` (resuming from its checkpoint), select on validation, test once (and
    on the ``held_out`` samples ``(x, y)`` when given)."""
    result_path = seed_run_path(run_dir.parent, index)
    saved = load_checkpoint(result_path, fingerprint) if result_path.exists() else None
    if saved is not None:
        log.info("%s seed %d (%d) already trained: %s", model_name, index, seed, result_path)
        return SeedRun(**saved["run"])

    checkpoint_path = run_dir / f"seed{index}.checkpoint.pt"
    torch.manual_seed(seed)
    model, input_shape = build_network(mcfg, features.feature_shape, len(features.classes), seed)
    model = model.to(dev)
    x = {split: features.inputs(split, input_shape) for split in SPLITS}
    train_set = TensorDataset(x["train"], features.y["train"])

    start_epoch, history = 0, []
    best = {"epoch": 0, "accuracy": -1.0, "state": None}
    ckpt = load_checkpoint(checkpoint_path, fingerprint, RESUME_KEYS) if checkpoint_path.exists() else None
    if ckpt is not None:
        model.load_state_dict(ckpt["model_state"])
        restore_runtime_state(model, ckpt["runtime_state"])
    # built on the restored parameters: loading a state dict replaces some of Brevitas' (the
    # activation scales), and an optimizer made before would keep updating the old ones
    optimizer = make_optimizer(model.parameters(), tcfg)
    scheduler = make_scheduler(optimizer, tcfg)
    if ckpt is not None:
        optimizer.load_state_dict(ckpt["optimizer_state"])
        scheduler.load_state_dict(ckpt["scheduler_state"])
        restore_rng_state(ckpt["rng_state"])
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
        if augmented is not None:  # the next augmented copy of the train split
            x_train = augmented[(epoch - 1) % len(augmented)]
            train_set = TensorDataset(x_train.reshape(len(x_train), *input_shape), features.y["train"])
        loader = DataLoader(train_set, batch_size=tcfg["batch_size"], shuffle=True, generator=generator)
        lr = optimizer.param_groups[0]["lr"]
        train_loss, train_acc = train_epoch(model, loader, optimizer, dev, f"epoch {epoch}/{epochs}")
        scheduler.step()
        update_boost_strength(model)  # once per epoch; nothing for models without k-WTA
        val_loss, val_acc = loss_and_accuracy(model, x["validation"], features.y["validation"], dev)
        history.append({"seed_index": index, "epoch": epoch, "train_loss": train_loss, "train_accuracy": train_acc,
                        "validation_loss": val_loss, "validation_accuracy": val_acc, "lr": lr})
        if val_acc > best["accuracy"]:
            best = {"epoch": epoch, "accuracy": val_acc, "state": state_to_cpu(model.state_dict())}
        bar.set_postfix(loss=f"{train_loss:.4f}", acc=f"{train_acc:.3f}", val_acc=f"{val_acc:.3f}",
                        best=best["epoch"])
        log.info("%s seed %d epoch %d/%d: train loss %.4f acc %.4f, validation loss %.4f acc %.4f, lr %.3g "
                 "(%.2f s measured)", model_name, index, epoch, epochs, train_loss, train_acc, val_loss, val_acc,
                 lr, time.perf_counter() - started)
        save_checkpoint(checkpoint_path, {
            "fingerprint": fingerprint, "epoch": epoch, "history": history, "best": best,
            "model_state": state_to_cpu(model.state_dict()), "runtime_state": runtime_state(model),
            "optimizer_state": optimizer.state_dict(), "scheduler_state": scheduler.state_dict(),
            "rng_state": rng_state()})
        if epoch_callback is not None:
            epoch_callback(index, epoch)
    bar.close()

    # the selected (best-validation) weights; the test split is used here, once per seed
    model.load_state_dict(best["state"])
    val_loss, val_acc = loss_and_accuracy(model, x["validation"], features.y["validation"], dev)
    test_loss, test_acc = loss_and_accuracy(model, x["test"], features.y["test"], dev)
    held_out_acc = None if held_out is None else loss_and_accuracy(model, *held_out, dev)[1]
    log.info("%s seed %d: selected epoch %d (validation accuracy %.4f); test accuracy %.4f%s",
             model_name, index, best["epoch"], val_acc, test_acc,
             "" if held_out_acc is None else f"; held-out accuracy {held_out_acc:.4f}")
    run = SeedRun(index, seed, best["epoch"], history, best["state"], val_loss, val_acc, test_loss, test_acc,
                  held_out_acc)
    save_checkpoint(result_path, {"fingerprint": fingerprint, "run": run.__dict__})
    checkpoint_path.unlink(missing_ok=True)
    return run


def _augmented(cfg: dict[str, Any], features: Features, path: str | os.PathLike | None) -> torch.Tensor | None:
    """The augmented train copies ``[copies, N, features]`` when ``augment.enabled``, else None."""
    if not cfg.get("augment", {}).get("enabled"):
        return None
    if path is None:
        raise UserError("augment.enabled needs the augmented train features (<frontend>_augmented.npz of the "
                        "augment rule): pass --augmented")
    x = load_augmented(path, features.y["train"].numpy(), features.files.get("train"))
    return torch.from_numpy(x.reshape(len(x), x.shape[1], -1).astype(np.float32))


def seed_run_path(out_dir: str | os.PathLike, index: int) -> Path:
    """Where seed ``index`` of a training run keeps its result until the run is complete."""
    return Path(out_dir) / RUNS_DIR / f"seed{index}.pt"


def train_model(cfg: dict[str, Any], model_name: str, features_path: str | os.PathLike,
                out_dir: str | os.PathLike, device: str = "cpu",
                epoch_callback: Callable[[int, int], None] | None = None,
                augmented: str | os.PathLike | None = None, seed_index: int | None = None,
                held_out: str | os.PathLike | None = None) -> dict[str, Any]:
    """Train model ``model_name`` of config ``cfg`` for ``train.seeds`` seeds; write model.pt
    (first seed), history.csv, metrics.json.

    Seeds already trained (``seed_run_path``, same run fingerprint) are not trained again; with
    ``seed_index`` only that seed is trained (to ``seed_run_path``), so that seeds can train side
    by side; the call without it then gathers them. ``held_out``: a features file (``x``, ``y``) of
    samples kept out of training and testing (a voice family): every seed's selected weights are
    tested on it too (``held_out_accuracy`` of each seed). ``epoch_callback(seed_index, epoch)`` runs
    after each epoch's checkpoint is written (tests use it to interrupt a run). Returns the
    metrics written to metrics.json, or the one seed's record.
    """
    mcfg = training_entry(model_config(cfg, model_name))
    tcfg = train_settings(cfg, model_name)
    out_dir = Path(out_dir)
    run_dir = out_dir / RUNS_DIR
    run_dir.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    torch.set_num_threads(tcfg["threads"])
    if dev.type == "cuda":
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    torch.use_deterministic_algorithms(True, warn_only=True)

    features = load_features(features_path)
    held_out_set, held_out_sha256 = _held_out(held_out, model_input_shape(mcfg, features.feature_shape))
    fingerprint = run_fingerprint(cfg, model_name, features, held_out_sha256)
    seeds = run_seeds(cfg["seed"], model_name, tcfg["seeds"])
    if seed_index is not None and not 0 <= seed_index < len(seeds):
        raise UserError(f"--seed-index {seed_index}: train.seeds is {len(seeds)} for {model_name} (0 to {len(seeds) - 1})")
    x_augmented = _augmented(cfg, features, augmented)
    train = partial(_train_seed, model_name, mcfg, tcfg, features, dev=dev, run_dir=run_dir, fingerprint=fingerprint,
                    epoch_callback=epoch_callback, augmented=x_augmented, held_out=held_out_set)
    if seed_index is not None:
        return train(seed_index, seeds[seed_index]).record()
    runs = [train(index, seed) for index, seed in enumerate(seeds)]

    first = runs[0]
    model, input_shape = build_network(mcfg, features.feature_shape, len(features.classes), first.seed)
    model.load_state_dict(first.state)
    model_file = {"state_dict": first.state, "model_name": model_name, "model_config": mcfg,
                  "in_features": features.in_features, "feature_shape": list(features.feature_shape),
                  "input_shape": list(input_shape), "classes": features.classes, "seed": first.seed,
                  "best_epoch": first.best_epoch, "features_sha256": features.sha256}
    save_model_file(out_dir / "model.pt", model_file)
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
