"""Runs of the workflow in scratch folders, and comparisons of two runs of the same config.

``copy_workflow`` makes a runnable copy of the workflow (no results) and ``run_snakemake`` runs
Snakemake there with this interpreter. Two runs agree when their dataset files are
byte-identical, their feature arrays and model weights are equal, and their metrics,
evaluation, export-check and FINN estimate JSONs are equal with every wall-clock field (a key
ending in ``seconds``) left out. Measured timings are never compared: they differ from run to
run by nature.

``value_differences`` compares two runs made by different revisions of the code, value by value:
every deterministic output (datasets, features, weights, metrics, evaluations, QONNX graphs,
export checks, FINN estimates, RTL reports, training histories) with the wall-clock fields, the
git revision and the ``ignore``d keys left out, naming each differing value by file and key path.
From tests/: ``python -m support.workflow_runs FIRST SECOND --config config/config.yaml``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np

from sparsekws.core.files import read_json
from support import REPO_ROOT

MODEL_JSONS = ("metrics.json", "evaluation.json", "export_check.json")
WORKFLOW_FILES = ("Snakefile", "rules", "workflow", "config", "envs")


def copy_workflow(root: str | os.PathLike, config_file: str | os.PathLike) -> Path:
    """A copy of the workflow (no results) in ``root`` with ``config_file`` as its default config."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    shutil.copy(config_file, root / "config" / "config.yaml")
    return root


def run_snakemake(workdir: str | os.PathLike, args: list[str], env: dict[str, str] | None = None,
                  timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run Snakemake (this interpreter's) in ``workdir`` with ``args``; output captured as text."""
    return subprocess.run([sys.executable, "-m", "snakemake", *args], cwd=workdir, env=env, capture_output=True,
                          text=True, timeout=timeout)


def without_timings(value: Any) -> Any:
    """A JSON value with every wall-clock field (``*seconds``) removed, recursively."""
    if isinstance(value, dict):
        return {k: without_timings(v) for k, v in value.items() if not k.endswith("seconds")}
    if isinstance(value, list):
        return [without_timings(v) for v in value]
    return value


def json_targets(config: dict) -> list[str]:
    """The JSON outputs (relative to a run's folder) that two runs must agree on."""
    name = config["dataset"]["name"]
    targets = [f"results/models/{name}/{m}/{f}" for m in config["models"] for f in MODEL_JSONS]
    boards = config["compile"]["boards"]
    hardware = [m for m, entry in config["models"].items() if entry.get("hardware", True)]
    targets += [f"results/hw/{name}/{m}/{b}/estimate.json" for m in hardware for b in boards]
    return targets


def compared_targets(config: dict) -> list[str]:
    """Every file (relative to a run's folder) whose producing jobs ``differences`` needs."""
    name = config["dataset"]["name"]
    return [*json_targets(config), *(f"results/models/{name}/{m}/model.pt" for m in config["models"]),
            *cross_voice_tables(config)]


def cross_voice_tables(config: dict) -> list[str]:
    """The leave-one-family-out table, where the config asks for one."""
    if config.get("cross_voice", {}).get("models") and config["dataset"]["source"] == "synthetic":
        return [f"results/tables/{config['dataset']['name']}/cross_voice.csv"]
    return []


def differences(first: str | os.PathLike, second: str | os.PathLike, config: dict) -> list[str]:
    """What differs between the runs in folders ``first`` and ``second`` (empty when they agree)."""
    import torch

    first, second = Path(first), Path(second)
    name = config["dataset"]["name"]
    found: list[str] = []

    def files(root: Path) -> list[Path]:
        folder = root / "results" / "datasets" / name
        return sorted(p.relative_to(root) for p in folder.rglob("*") if p.is_file())

    listed = files(first)
    if not listed:
        found.append(f"{first}/results/datasets/{name} holds no files")
    if listed != files(second):
        found.append(f"the dataset folders list different files ({len(listed)} vs {len(files(second))})")
    found += [f"{path} differs" for path in listed
              if (second / path).is_file() and (first / path).read_bytes() != (second / path).read_bytes()]

    wanted = [f"results/models/{name}/{m}/model.pt" for m in config["models"]] + json_targets(config)
    wanted += [p.relative_to(first).as_posix() for p in (first / "results" / "features" / name).glob("*.npz")]
    wanted += cross_voice_tables(config)
    missing = [f"{root / path} is missing" for path in wanted for root in (first, second)
               if not (root / path).is_file()]
    if missing:
        return found + missing

    for features in sorted((first / "results" / "features" / name).glob("*.npz")):
        other = second / features.relative_to(first)
        with np.load(features) as a, np.load(other) as b:
            if a.files != b.files or any(not np.array_equal(a[k], b[k]) for k in a.files):
                found.append(f"{features.relative_to(first)} differs")

    for model in config["models"]:
        path = f"results/models/{name}/{model}/model.pt"
        state_a = torch.load(first / path, weights_only=True)["state_dict"]
        state_b = torch.load(second / path, weights_only=True)["state_dict"]
        if state_a.keys() != state_b.keys() or not all(torch.equal(state_a[k], state_b[k]) for k in state_a):
            found.append(f"{path}: the weights differ")
    for target in json_targets(config):
        if without_timings(read_json(first / target)) != without_timings(read_json(second / target)):
            found.append(f"{target} differs (timings excluded)")
    found += [f"{table} differs" for table in cross_voice_tables(config)
              if (first / table).read_bytes() != (second / table).read_bytes()]
    return found


def differing_values(a: Any, b: Any, path: str = "") -> list[str]:
    """The key paths at which two JSON values differ."""
    if isinstance(a, dict) and isinstance(b, dict):
        return [found for key in sorted(set(a) | set(b), key=str)
                for found in (differing_values(a.get(key), b.get(key), f"{path}.{key}") if key in a and key in b
                              else [f"{path}.{key} (in one run only)"])]
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [found for i, (x, y) in enumerate(zip(a, b)) for found in differing_values(x, y, f"{path}[{i}]")]
    return [] if a == b else [path or "."]


def _without(value: Any, keys: tuple[str, ...]) -> Any:
    if isinstance(value, dict):
        return {k: _without(v, keys) for k, v in value.items() if k not in keys}
    if isinstance(value, list):
        return [_without(v, keys) for v in value]
    return value


def value_differences(first: str | os.PathLike, second: str | os.PathLike, config: dict,
                      ignore: tuple[str, ...] = ("git_revision",)) -> list[str]:
    """Every differing value between two runs of ``config`` (see the module docstring)."""
    import pandas as pd

    first, second = Path(first), Path(second)
    name = config["dataset"]["name"]
    found = [line for line in differences(first, second, config) if "(timings excluded)" not in line]
    results = first / "results"
    jsons = [*results.glob(f"models/{name}/*/*.json"), *results.glob(f"hw/{name}/*/*/estimate.json"),
             *results.glob(f"rtl/{name}/*/rtl_report.json")]
    for a in sorted(jsons):
        b = second / a.relative_to(first)
        drop = (*ignore, "provenance") if a.name == "rtl_report.json" else ignore
        values = differing_values(_without(without_timings(read_json(a)), drop),
                                  _without(without_timings(read_json(b)), drop))
        found += [f"{a.relative_to(first)}: {where}" for where in values]
    for a in sorted(results.glob(f"models/{name}/*/model.qonnx.onnx")):
        if a.read_bytes() != (second / a.relative_to(first)).read_bytes():
            found.append(f"{a.relative_to(first)} differs")
    tables = [*results.glob(f"models/{name}/*/*.csv"), *results.glob(f"rtl/{name}/*/rtl_report.csv")]
    for a in sorted(tables):
        left, right = pd.read_csv(a), pd.read_csv(second / a.relative_to(first))
        columns = [c for c in left.columns if not c.endswith("seconds") and c not in ignore]
        if list(left.columns) != list(right.columns):
            found.append(f"{a.relative_to(first)}: columns differ")
        else:
            found += [f"{a.relative_to(first)}: column {c}" for c in columns if not left[c].equals(right[c])]
    return found


def main(argv: list[str] | None = None) -> int:
    import argparse

    import yaml

    parser = argparse.ArgumentParser(description="Compare two runs of one config value by value (module docstring).")
    parser.add_argument("first", type=Path, help="a run's folder (holding results/)")
    parser.add_argument("second", type=Path, help="the other run's folder")
    parser.add_argument("--config", type=Path, required=True, help="the effective config (results/config/<ds>.yaml)")
    parser.add_argument("--ignore", nargs="*", default=["git_revision"], help="keys and columns left out")
    args = parser.parse_args(argv)
    found = value_differences(args.first, args.second, yaml.safe_load(args.config.read_text()), tuple(args.ignore))
    print("\n".join(found) if found else "no differences")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
