"""Runs of the workflow side by side (``tests/support/workflow_runs.py``)."""

from __future__ import annotations

import json
import shutil

import torch
import yaml

from support import REPO_ROOT
from sparsekws.core.files import read_json
from support.workflow_runs import compared_targets, differences, without_timings

CONFIG = yaml.safe_load((REPO_ROOT / "config" / "smoke.yaml").read_text())
NAME = CONFIG["dataset"]["name"]


def test_without_timings_drops_every_seconds_field_at_any_depth():
    record = {"accuracy": 0.5, "train_seconds": 3.0, "layers": [{"seconds": 1, "macs": 7}], "seed": {"x_seconds": 2}}
    assert without_timings(record) == {"accuracy": 0.5, "layers": [{"macs": 7}], "seed": {}}


def test_compared_targets_name_every_model_and_board():
    targets = compared_targets(CONFIG)
    for model in CONFIG["models"]:
        assert f"results/models/{NAME}/{model}/model.pt" in targets
        assert f"results/models/{NAME}/{model}/metrics.json" in targets
        for board in CONFIG["compile"]["boards"]:
            assert f"results/hw/{NAME}/{model}/{board}/estimate.json" in targets


def test_run_comparison_finds_a_changed_clip_weight_or_metric(smoke_reference, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(smoke_reference / "results", other / "results")
    assert differences(smoke_reference, other, CONFIG) == []
    clip = sorted((other / "results" / "datasets" / NAME / CONFIG["task"]["words"][0]).glob("*.wav"))[0]
    data = bytearray(clip.read_bytes())
    data[-1] ^= 0xFF
    clip.write_bytes(bytes(data))
    weights = other / "results" / "models" / NAME / "sparse" / "model.pt"
    checkpoint = torch.load(weights, weights_only=True)
    first = next(iter(checkpoint["state_dict"]))
    checkpoint["state_dict"][first] = checkpoint["state_dict"][first] + 1
    torch.save(checkpoint, weights)
    metrics = other / "results" / "models" / NAME / "dense" / "metrics.json"
    record = read_json(metrics)
    record["test_accuracy"] = record["test_accuracy"] + 0.5
    record["train_seconds"] = 1e9  # a timing: ignored
    metrics.write_text(json.dumps(record))
    found = differences(smoke_reference, other, CONFIG)
    assert found == [f"{clip.relative_to(other)} differs", f"results/models/{NAME}/sparse/model.pt: the weights differ",
                     f"results/models/{NAME}/dense/metrics.json differs (timings excluded)"]
