"""Training: determinism, validation-only model selection, resume, outputs."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from conftest import SIZES, make_features

from sparsekws import train
from sparsekws.config import REPO_ROOT, load_config
from sparsekws.errors import UserError

def tiny_config(epochs: int = 3, density: float = 0.25, optimizer: str = "adam", **train_overrides) -> dict:
    cfg = load_config(REPO_ROOT / "config" / "smoke.yaml")
    cfg["models"] = {
        "dense": {**cfg["models"]["dense"], "hidden_units": [16, 16], "weight_density": 1.0},
        "sparse": {**cfg["models"]["sparse"], "hidden_units": [16, 16], "weight_density": density},
    }
    cfg["train"].update({"epochs": epochs, "batch_size": 32, "optimizer": optimizer, "threads": 1,
                         **train_overrides})
    return cfg


@pytest.fixture(scope="module")
def features(tmp_path_factory) -> Path:
    return make_features(tmp_path_factory.mktemp("features") / "features.npz")


def _state(out_dir: Path) -> dict:
    return torch.load(out_dir / "model.pt", weights_only=True)


def _assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def test_model_seed_is_stable_and_name_dependent():
    assert train.model_seed(1234, "sparse") == train.model_seed(1234, "sparse")
    assert train.model_seed(1234, "sparse") != train.model_seed(1234, "dense")
    assert train.model_seed(1234, "sparse") != train.model_seed(1235, "sparse")


def test_outputs_and_formats(features, tmp_path):
    metrics = train.train_model(tiny_config(), "sparse", features, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "metrics.json", "model.pt"]
    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history.columns) == train.HISTORY_COLUMNS
    assert list(history["epoch"]) == [1, 2, 3]
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["model"] == "sparse" and on_disk["best_epoch"] == metrics["best_epoch"]
    assert on_disk["sizes"] == SIZES
    assert on_disk["best_epoch"] == int(history["validation_accuracy"].idxmax()) + 1
    assert on_disk["validation_accuracy"] == pytest.approx(history["validation_accuracy"].max())
    assert 0.0 <= on_disk["test_accuracy"] <= 1.0
    assert set(on_disk["provenance"]) == {"config_hash", "git_revision"}
    layers = on_disk["layers"]
    assert [layer["shape"] for layer in layers] == [[16, 490], [16, 16], [12, 16]]
    assert [layer["fan_in"] for layer in layers] == [122, 4, 4]
    assert layers[0]["mask_density"] == pytest.approx(122 / 490)
    for layer in layers:
        assert layer["nonzero_fraction"] <= layer["mask_density"] + 1e-12
    assert on_disk["macs_dense"] == on_disk["total_weights"] == 16 * 490 + 16 * 16 + 12 * 16
    assert on_disk["macs_mask"] == 16 * 122 + 16 * 4 + 12 * 4
    assert on_disk["macs_weight_sparse"] == on_disk["nonzero_weights"] <= on_disk["macs_mask"]
    saved = torch.load(tmp_path / "model.pt", weights_only=True)
    assert saved["classes"][1] == "_unknown_" and saved["in_features"] == 490
    assert saved["best_epoch"] == on_disk["best_epoch"] and saved["seed"] == on_disk["seed"]


def test_training_learns(features, tmp_path):
    metrics = train.train_model(tiny_config(epochs=4), "dense", features, tmp_path)
    assert metrics["validation_accuracy"] > 0.5  # chance is 1/12


def test_training_is_deterministic(features, tmp_path):
    cfg = tiny_config(optimizer="sgd", learning_rate=0.05, weight_decay=1e-4)
    first = train.train_model(cfg, "sparse", features, tmp_path / "a")
    second = train.train_model(copy.deepcopy(cfg), "sparse", features, tmp_path / "b")
    assert first == second
    _assert_same_state(_state(tmp_path / "a")["state_dict"], _state(tmp_path / "b")["state_dict"])
    assert (tmp_path / "a" / "history.csv").read_bytes() == (tmp_path / "b" / "history.csv").read_bytes()
    assert (tmp_path / "a" / "metrics.json").read_bytes() == (tmp_path / "b" / "metrics.json").read_bytes()


def test_model_selection_never_uses_test_split(tmp_path):
    real = make_features(tmp_path / "real.npz")
    shuffled = make_features(tmp_path / "shuffled.npz", shuffle_test_labels=True)
    cfg = tiny_config(epochs=4)
    a = train.train_model(cfg, "sparse", real, tmp_path / "a")
    b = train.train_model(cfg, "sparse", shuffled, tmp_path / "b")
    assert a["best_epoch"] == b["best_epoch"]
    assert a["validation_accuracy"] == b["validation_accuracy"]
    assert (tmp_path / "a" / "history.csv").read_bytes() == (tmp_path / "b" / "history.csv").read_bytes()
    _assert_same_state(_state(tmp_path / "a")["state_dict"], _state(tmp_path / "b")["state_dict"])
    assert a["test_accuracy"] != b["test_accuracy"]


class Interrupt(Exception):
    pass


def test_resume_matches_uninterrupted_run(features, tmp_path):
    # 192 samples / batch 32 = 6 steps per epoch: the interruption falls inside Brevitas' activation
    # statistics collection phase (first 30 steps), the part state_dict() alone does not capture
    cfg = tiny_config(epochs=4, weight_decay=1e-3)
    train.train_model(cfg, "sparse", features, tmp_path / "full")

    def stop_after_two(epoch):
        if epoch == 2:
            raise Interrupt

    with pytest.raises(Interrupt):
        train.train_model(cfg, "sparse", features, tmp_path / "resumed", epoch_callback=stop_after_two)
    assert (tmp_path / "resumed" / "checkpoint.pt").exists()
    assert not (tmp_path / "resumed" / "model.pt").exists()
    epochs_run = []
    train.train_model(cfg, "sparse", features, tmp_path / "resumed", epoch_callback=epochs_run.append)
    assert epochs_run == [3, 4]
    assert not (tmp_path / "resumed" / "checkpoint.pt").exists()
    _assert_same_state(_state(tmp_path / "full")["state_dict"], _state(tmp_path / "resumed")["state_dict"])
    for name in ("history.csv", "metrics.json"):
        assert (tmp_path / "full" / name).read_bytes() == (tmp_path / "resumed" / name).read_bytes()


def test_checkpoint_of_another_config_is_ignored(features, tmp_path):
    def stop(epoch):
        raise Interrupt

    with pytest.raises(Interrupt):
        train.train_model(tiny_config(epochs=3), "sparse", features, tmp_path, epoch_callback=stop)
    epochs_run = []
    train.train_model(tiny_config(epochs=3, learning_rate=0.01), "sparse", features, tmp_path,
                      epoch_callback=epochs_run.append)
    assert epochs_run == [1, 2, 3]


def test_bad_features_file_is_a_user_error(tmp_path):
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 49, 10), np.int8))
    with pytest.raises(UserError, match="lacks"):
        train.load_features(tmp_path / "bad.npz")
    with pytest.raises(UserError, match="not found"):
        train.load_features(tmp_path / "missing.npz")


def test_cli_trains(features, tmp_path):
    from sparsekws.cli import main

    config = tmp_path / "config.yaml"
    import yaml

    config.write_text(yaml.safe_dump(tiny_config(epochs=1)))
    assert main(["train", "--config", str(config), "--model", "dense", "--features", str(features),
                 "--out-dir", str(tmp_path / "out"), "--device", "cpu"]) == 0
    assert (tmp_path / "out" / "metrics.json").exists()
