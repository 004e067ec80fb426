"""How hard is a dataset? Train a small float CNN for a fixed time budget and report test accuracy.

A yardstick for the offline stand-in, not part of the experiment: plain torch (no
quantisation), the features stage's own int8 features, the epoch chosen on validation,
accuracy measured on the test split. Clean text-to-speech words reach ~96 % in a minute; a
realistic stand-in must stay clearly below that.

Usage:
  .venv/bin/python benchmarks/bench_dataset_difficulty.py --dataset-dir DIR [--config FILE]
      [--frontend mfcc|logmel] [--seconds 180] [--threads 2] [--out FILE]
  (or --features FILE to reuse a features .npz instead of extracting from DIR)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time

import numpy as np
import torch
from torch import nn

from workflow_config import REPO_ROOT as ROOT, load as load_config  # noqa: E402  (puts src/ on the path)

from sparsekws.core.files import write_json  # noqa: E402
from sparsekws.core.provenance import config_hash, git_revision  # noqa: E402


def small_cnn(input_shape: tuple[int, int], classes: int, channels: int = 32) -> nn.Module:
    """Three 3x3 conv blocks (BN, ReLU, the last two with stride 2), global average pool, linear."""
    return nn.Sequential(
        nn.Conv2d(1, channels, 3, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
        nn.Conv2d(channels, channels, 3, stride=2, padding=1), nn.BatchNorm2d(channels), nn.ReLU(),
        nn.Conv2d(channels, 2 * channels, 3, stride=2, padding=1), nn.BatchNorm2d(2 * channels), nn.ReLU(),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2 * channels, classes))


def accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        pred = torch.cat([model(x[i: i + 512]).argmax(1) for i in range(0, len(x), 512)])
    return float((pred == y).float().mean())


def train_for(arrays: dict, seconds: float, seed: int, batch_size: int = 64) -> dict:
    torch.manual_seed(seed)
    scale = float(arrays["scale"])
    xs = {s: torch.from_numpy(arrays[f"x_{s}"].astype(np.float32) * scale)[:, None] for s in ("train", "validation", "test")}
    mean, std = xs["train"].mean(), xs["train"].std() + 1e-6
    xs = {s: (x - mean) / std for s, x in xs.items()}
    ys = {s: torch.from_numpy(arrays[f"y_{s}"]) for s in ("train", "validation", "test")}
    model = small_cnn(tuple(xs["train"].shape[2:]), len(arrays["classes"]))
    optimiser = torch.optim.Adam(model.parameters(), lr=2e-3)
    generator = torch.Generator().manual_seed(seed)
    start, epoch, history, best = time.perf_counter(), 0, [], None
    while time.perf_counter() - start < seconds:
        model.train()
        order = torch.randperm(len(ys["train"]), generator=generator)
        for i in range(0, len(order), batch_size):
            idx = order[i: i + batch_size]
            optimiser.zero_grad()
            nn.functional.cross_entropy(model(xs["train"][idx]), ys["train"][idx]).backward()
            optimiser.step()
        epoch += 1
        row = {"epoch": epoch, "elapsed_s": time.perf_counter() - start,
               "train": accuracy(model, xs["train"], ys["train"]),
               "validation": accuracy(model, xs["validation"], ys["validation"])}
        history.append(row)
        print(json.dumps(row), flush=True)
        if best is None or row["validation"] > best["validation"]:
            best = {**row, "test": accuracy(model, xs["test"], ys["test"])}
    return {"best_epoch": best, "epochs": epoch, "history": history,
            "parameters": sum(p.numel() for p in model.parameters())}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(ROOT / "config" / "config.yaml"))
    parser.add_argument("--dataset-dir", help="dataset folder (GSC layout) to extract features from")
    parser.add_argument("--features", help="an existing features .npz instead of --dataset-dir")
    parser.add_argument("--frontend", default="mfcc", choices=["mfcc", "logmel"])
    parser.add_argument("--seconds", type=float, default=180.0, help="training time budget (default 180)")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", default=str(ROOT / "results" / "benchmarks" / "dataset_difficulty.json"))
    args = parser.parse_args(argv)
    if bool(args.dataset_dir) == bool(args.features):
        parser.error("give exactly one of --dataset-dir and --features")
    torch.set_num_threads(args.threads)
    config = load_config(args.config)
    if args.features:
        with np.load(args.features) as saved:
            arrays = {k: saved[k] for k in saved.files}
    else:
        from sparsekws.features.extract import extract_features

        arrays, _ = extract_features(config, args.dataset_dir, args.frontend)
    result = train_for(arrays, args.seconds, config["seed"])
    sizes = {s: int(len(arrays[f"y_{s}"])) for s in ("train", "validation", "test")}
    record = {
        "benchmark": "dataset_difficulty",
        "dataset": config["dataset"]["name"],
        "source": config["dataset"]["source"],
        "frontend": args.frontend,
        "samples": sizes,
        "classes": len(arrays["classes"]),
        "chance_accuracy": float(np.bincount(arrays["y_test"]).max() / len(arrays["y_test"])),
        "test_accuracy": result["best_epoch"]["test"],
        "validation_accuracy": result["best_epoch"]["validation"],
        **result,
        "budget_s": args.seconds,
        "provenance": {"measured": "test-split accuracy of a float torch CNN (epoch chosen on validation), "
                                   "host CPU, wall-clock training budget",
                       "config_hash": config_hash(config), "git_revision": git_revision(ROOT),
                       "threads": args.threads, "cpus": os.cpu_count(), "machine": platform.machine(),
                       "torch": torch.__version__},
    }
    write_json(args.out, record)
    print(json.dumps({k: record[k] for k in ("dataset", "samples", "epochs", "test_accuracy", "validation_accuracy")}))
    return record


if __name__ == "__main__":
    main()
