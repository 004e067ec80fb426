"""Training throughput (samples/s) of every model of a config, on the CPU.

Times full training epochs (forward, backward, optimizer step, mask re-zeroing, k-WTA duty
cycles) with the config's batch size, optimizer and thread count, on a features file or, without
one, on random int8 features of each model's front-end shape (MFCC 49x10, log-mel 32x32).
Writes results/benchmarks/train.json (or --out).
"""

from __future__ import annotations

import argparse
import logging
import platform
import sys
import time

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

from workflow_config import REPO_ROOT, load as load_config  # noqa: E402  (puts src/ on the path)

from sparsekws.core.files import write_json  # noqa: E402
from sparsekws.features.frontends import make_frontend  # noqa: E402
from sparsekws.core.provenance import package_versions, stamp, utc_now  # noqa: E402
from sparsekws.core.config import train_settings as train_config  # noqa: E402
from sparsekws.features.store import load_features  # noqa: E402
from sparsekws.models.zoo import build_network  # noqa: E402
from sparsekws.training.trainer import make_optimizer, model_seed, train_epoch  # noqa: E402

log = logging.getLogger("bench_train")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO_ROOT / "config" / "config.yaml"), help="config YAML")
    parser.add_argument("--features", help="features .npz of every model's front end (default: random int8 features)")
    parser.add_argument("--models", nargs="+", help="models to time (default: every model of the config)")
    parser.add_argument("--samples", type=int, default=1500, help="random training samples (default %(default)s)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs per model (default %(default)s)")
    parser.add_argument("--threads", type=int, help="torch threads (default: the config's train.threads)")
    parser.add_argument("--out", default=str(REPO_ROOT / "results" / "benchmarks" / "train.json"))
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s", stream=sys.stderr)
    cfg = load_config(args.config)
    tcfg = cfg["train"]
    threads = args.threads or tcfg["threads"]
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    results = []
    for name in args.models or list(cfg["models"]):
        mcfg = cfg["models"][name]
        if args.features:
            features = load_features(args.features)
            feature_shape, classes = features.feature_shape, len(features.classes)
            x_flat, y = features.x["train"], features.y["train"]
        else:
            feature_shape, classes = make_frontend(mcfg["frontend"], cfg.get("features", {})).shape, 12
            x_flat = torch.from_numpy(rng.integers(-127, 128, size=(args.samples, int(np.prod(feature_shape))))
                                      .astype(np.float32))
            y = torch.from_numpy(rng.integers(0, classes, size=args.samples))
        seed = model_seed(cfg["seed"], name)
        torch.manual_seed(seed)
        model, input_shape = build_network(mcfg, feature_shape, classes, seed)
        x = x_flat.reshape(len(x_flat), *input_shape)
        model_train = train_config(cfg, name)
        optimizer = make_optimizer(model.parameters(), model_train)
        loader = DataLoader(TensorDataset(x, y), batch_size=model_train["batch_size"], shuffle=True,
                            generator=torch.Generator().manual_seed(seed))
        train_epoch(model, loader, optimizer, torch.device("cpu"), "warm-up")
        times = []
        for _ in range(args.epochs):
            start = time.perf_counter()
            train_epoch(model, loader, optimizer, torch.device("cpu"), name)
            times.append(time.perf_counter() - start)
        median = float(np.median(times))
        results.append({"model": name, "model_config": mcfg, "train_config": model_train, "input_shape": list(input_shape),
                        "samples_per_epoch": len(x), "epoch_seconds": times, "median_epoch_seconds": median,
                        "samples_per_second": len(x) / median, "source": "measured (wall clock, median of epochs)"})
        log.info("%s: %.2f s per epoch of %d samples, %.0f samples/s", name, median, len(x), len(x) / median)
    write_json(args.out, {
        "benchmark": "train", "device": "cpu", "processor": platform.processor() or platform.machine(),
        "threads": threads, "batch_size": tcfg["batch_size"], "optimizer": tcfg["optimizer"],
        "features": args.features or f"random int8, {args.samples} samples", "results": results,
        "provenance": {**stamp({"models": cfg["models"], "train": tcfg}), "measured": "wall clock",
                       "time": utc_now(), "packages": package_versions(("torch", "brevitas"))},
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
