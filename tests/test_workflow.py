"""The real workflow, run by Snakemake on the tiny config in a temporary directory."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from sparsekws.config import REPO_ROOT
from sparsekws.fileio import read_json

SNAKEMAKE = [sys.executable, "-m", "snakemake"]
WORKFLOW_FILES = ["Snakefile", "rules", "workflow", "config"]


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([*SNAKEMAKE, "--cores", "2", *args], cwd=workdir, capture_output=True, text=True)
    if check and result.returncode != 0:
        raise AssertionError(f"snakemake {' '.join(args)} failed:\n{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def job_counts(output: str) -> dict[str, int]:
    """The 'Job stats' table of a Snakemake run or dry run."""
    table = output.split("Job stats:")[1].strip().split("\n\n")[0]
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+)\s+(\d+)$", table, re.M) if m.group(1) != "total"}


def copy_workflow(root: Path, config_name: str) -> Path:
    """Copy the workflow into ``root`` (no results) with ``config/<config_name>`` as its default."""
    for name in WORKFLOW_FILES:
        source = REPO_ROOT / name
        (shutil.copytree if source.is_dir() else shutil.copy)(source, root / name)
    shutil.copy(REPO_ROOT / "config" / config_name, root / "config" / "config.yaml")
    return root


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of the workflow with the smoke config as its default."""
    return copy_workflow(tmp_path_factory.mktemp("workflow"), "smoke.yaml")


@pytest.fixture(scope="module")
def finished(workdir):
    """The smoke workflow run to the end, then its report."""
    snakemake(workdir)
    snakemake(workdir, "--report", "results/report.html")
    return workdir


def test_dry_run_of_the_default_config_lists_every_stage(tmp_path):
    result = snakemake(copy_workflow(tmp_path, "config.yaml"), "-n")
    config = yaml.safe_load((REPO_ROOT / "config" / "config.yaml").read_text())
    models, boards = len(config["models"]), len(config["compile"]["boards"])
    counts = job_counts(result.stdout + result.stderr)
    assert counts == {"dataset": 1, "features": 1, "train": models, "export": models, "compile": models * boards,
                      "measure_cpu": models, "collect_measurements": 1, "figures": 1, "all": 1}


def test_invalid_config_fails_before_any_job(workdir, tmp_path):
    config = yaml.safe_load((workdir / "config" / "config.yaml").read_text())
    config["models"]["sparse"]["weight_density"] = 0
    bad = tmp_path / "bad.yaml"
    bad.write_text(yaml.safe_dump(config))
    result = snakemake(workdir, "-n", "--configfile", str(bad), check=False)
    assert result.returncode != 0
    assert "config key 'models.sparse.weight_density'" in result.stdout + result.stderr
    assert "Job stats" not in result.stdout + result.stderr


def test_outputs_have_real_content(finished):
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name = config["dataset"]["name"]
    results = finished / "results"

    dataset = results / "datasets" / name
    assert (dataset / "validation_list.txt").read_text().strip()
    assert (dataset / "testing_list.txt").read_text().strip()
    assert any((dataset / "_background_noise_").glob("*.wav"))

    features = np.load(results / "features" / name / "mfcc.npz")
    assert features["x_train"].dtype == np.int8 and features["x_train"].shape[1:] == (49, 10)
    assert len(features["classes"]) == len(config["task"]["words"]) + 2

    for model, entry in config["models"].items():
        metrics = read_json(results / "models" / name / model / "metrics.json")
        assert 0.0 <= metrics["test_accuracy"] <= 1.0
        for layer in metrics["layers"]:  # fixed fan-in: the density rounded to whole inputs per unit
            assert layer["mask_density"] == pytest.approx(entry["weight_density"], abs=0.5 / layer["shape"][1] + 1e-9)
        assert read_json(results / "models" / name / model / "export_check.json")["passed"] is True

    table = pd.read_csv(results / "measurements" / name / "throughput.csv")
    assert set(table["source"]) == {"measured", "estimated"}
    assert set(table.loc[table["platform"] == "cpu", "source"]) == {"measured"}
    boards = set(config["compile"]["boards"])
    assert set(table.loc[table["source"] == "estimated", "platform"]) == boards
    assert set(table["model"]) == set(config["models"])
    assert (table["throughput_words_per_s"] > 0).all()

    for stem in ("throughput", "accuracy"):
        for suffix in ("png", "svg"):
            assert (results / "figures" / name / f"{stem}.{suffix}").stat().st_size > 1000
    report = (results / "report.html").read_text(errors="replace")
    assert "throughput.png" in report and "accuracy.png" in report


def test_deleting_one_qonnx_reruns_only_its_dependents(finished):
    config = yaml.safe_load((finished / "config" / "config.yaml").read_text())
    name, boards = config["dataset"]["name"], config["compile"]["boards"]
    model_dir = finished / "results" / "models" / name / "sparse"
    trained = (model_dir / "model.pt").stat().st_mtime_ns
    other = (finished / "results" / "models" / name / "dense" / "model.qonnx.onnx").stat().st_mtime_ns
    (model_dir / "model.qonnx.onnx").unlink()
    run = snakemake(finished)
    counts = job_counts(run.stdout + run.stderr)
    assert counts == {"export": 1, "compile": len(boards), "measure_cpu": 1, "collect_measurements": 1,
                      "figures": 1, "all": 1}
    assert (model_dir / "model.qonnx.onnx").exists()
    assert (model_dir / "model.pt").stat().st_mtime_ns == trained
    assert (finished / "results" / "models" / name / "dense" / "model.qonnx.onnx").stat().st_mtime_ns == other
