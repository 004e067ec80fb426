"""Training: determinism, validation-only model selection, resume (also over seeds), outputs, statistics."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from sparsekws.core.config import train_settings
from sparsekws.core.errors import UserError
from sparsekws.core.stats import confidence_summary
from sparsekws.features.store import load_features
from sparsekws.training import trainer as train
from support import validated
from support.fixtures import SIZES, make_features, make_image_features, tiny_cnn_config, tiny_config


@pytest.fixture(scope="module")
def features(tmp_path_factory) -> Path:
    return make_features(tmp_path_factory.mktemp("features") / "features.npz")


def _state(out_dir: Path) -> dict:
    return torch.load(out_dir / "model.pt", weights_only=True)


def _assert_same_state(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for key in a:
        assert torch.equal(a[key], b[key]), key


def _assert_same_outputs(a: Path, b: Path) -> None:
    _assert_same_state(_state(a)["state_dict"], _state(b)["state_dict"])
    for name in ("history.csv", "metrics.json", "model.pt"):  # model.pt: the same bytes, not only the same weights
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


class Interrupt(Exception):
    pass


def stop_at(seed_index: int, epoch: int):
    def callback(index, current):
        if (index, current) == (seed_index, epoch):
            raise Interrupt
    return callback


# ------------------------------------------------------------------------------ statistics


def test_model_seed_is_stable_and_name_dependent():
    assert train.model_seed(1234, "sparse") == train.model_seed(1234, "sparse")
    assert train.model_seed(1234, "sparse") != train.model_seed(1234, "dense")
    assert train.model_seed(1234, "sparse") != train.model_seed(1235, "sparse")
    seeds = train.run_seeds(1234, "sparse", 3)
    assert seeds[0] == train.model_seed(1234, "sparse") and len(set(seeds)) == 3


def test_confidence_interval_matches_the_t_distribution():
    values = [0.90, 0.92, 0.94, 0.96]
    summary = confidence_summary(values)
    mean, std = 0.93, float(np.std(values, ddof=1))  # std = 0.025820
    half = 3.182446305284263 * std / 2  # t(0.975, 3) = 3.1824
    assert summary["n"] == 4
    assert summary["mean"] == pytest.approx(mean)
    assert summary["std"] == pytest.approx(0.0258198889747161)
    assert summary["ci_low"] == pytest.approx(mean - half) and summary["ci_high"] == pytest.approx(mean + half)
    two = confidence_summary([0.5, 0.7])  # t(0.975, 1) = 12.706
    assert two["ci_high"] - two["mean"] == pytest.approx(12.706204736174707 * np.std([0.5, 0.7], ddof=1) / np.sqrt(2))


def test_one_seed_has_no_interval():
    summary = confidence_summary([0.8])
    assert summary["mean"] == 0.8
    assert summary["std"] is None and summary["ci_low"] is None and summary["ci_high"] is None
    assert "one seed" in summary["note"]


def test_step_schedule_multiplies_the_learning_rate_every_epoch():
    cfg = tiny_config(optimizer="sgd", learning_rate=0.01, momentum=0.0, lr_schedule="step", lr_step_gamma=0.9)
    optimizer = train.make_optimizer([torch.nn.Parameter(torch.zeros(1))], cfg["train"])
    scheduler = train.make_scheduler(optimizer, cfg["train"])
    assert optimizer.param_groups[0]["momentum"] == 0.0
    rates = []
    for _ in range(3):
        rates.append(optimizer.param_groups[0]["lr"])
        optimizer.step()
        scheduler.step()
    assert rates == pytest.approx([0.01, 0.009, 0.0081])


def test_per_model_overrides_apply_to_their_model_only():
    cfg = tiny_config(per_model={"sparse": {"optimizer": "sgd", "momentum": 0.0, "batch_size": 16}})
    validated(cfg)
    sparse, dense = train_settings(cfg, "sparse"), train_settings(cfg, "dense")
    assert (sparse["optimizer"], sparse["momentum"], sparse["batch_size"]) == ("sgd", 0.0, 16)
    assert (dense["optimizer"], dense["batch_size"]) == ("adam", 32) and "per_model" not in dense
    cfg["train"]["per_model"]["nonexistent"] = {"epochs": 1}
    with pytest.raises(UserError, match="train.per_model"):
        train_settings(cfg, "dense")


# ------------------------------------------------------------------------------ training


def test_outputs_and_formats(features, tmp_path):
    metrics = train.train_model(tiny_config(), "sparse", features, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.csv", "metrics.json", "model.pt"]
    history = pd.read_csv(tmp_path / "history.csv")
    assert list(history.columns) == train.HISTORY_COLUMNS
    assert list(history["epoch"]) == [1, 2, 3] and set(history["seed_index"]) == {0}
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["model"] == "sparse" and on_disk["best_epoch"] == metrics["best_epoch"]
    assert on_disk["sizes"] == SIZES
    assert on_disk["best_epoch"] == int(history["validation_accuracy"].idxmax()) + 1
    assert on_disk["validation_accuracy"] == pytest.approx(history["validation_accuracy"].max())
    assert 0.0 <= on_disk["test_accuracy"] <= 1.0
    assert on_disk["test_accuracy_over_seeds"]["mean"] == on_disk["test_accuracy"]
    assert [s["test_accuracy"] for s in on_disk["seeds"]] == [on_disk["test_accuracy"]]
    assert set(on_disk["provenance"]) == {"config_hash", "git_revision"}
    assert on_disk["feature_shape"] == [49, 10] and on_disk["input_shape"] == [490]
    layers = on_disk["layers"]
    assert [layer["shape"] for layer in layers] == [[16, 490], [16, 16], [12, 16]]
    assert [layer["fan_in"] for layer in layers] == [122, 4, 4]
    assert layers[0]["mask_density"] == pytest.approx(122 / 490)
    for layer in layers:
        assert layer["nonzero_fraction"] <= layer["mask_density"] + 1e-12
        assert layer["output_positions"] == 1
    assert on_disk["macs_dense"] == on_disk["total_weights"] == 16 * 490 + 16 * 16 + 12 * 16
    assert on_disk["macs_mask"] == 16 * 122 + 16 * 4 + 12 * 4
    assert on_disk["macs_weight_sparse"] == on_disk["nonzero_weights"] <= on_disk["macs_mask"]
    saved = _state(tmp_path)
    assert saved["classes"][1] == "_unknown_" and saved["in_features"] == 490 and saved["input_shape"] == [490]
    assert saved["best_epoch"] == on_disk["best_epoch"] and saved["seed"] == on_disk["seed"]


def test_training_learns(features, tmp_path):
    metrics = train.train_model(tiny_config(epochs=4), "dense", features, tmp_path)
    assert metrics["validation_accuracy"] > 0.5  # chance is 1/12


def test_training_is_deterministic(features, tmp_path):
    cfg = tiny_config(optimizer="sgd", learning_rate=0.05, weight_decay=1e-4, lr_schedule="step")
    first = train.train_model(cfg, "sparse", features, tmp_path / "a")
    second = train.train_model(copy.deepcopy(cfg), "sparse", features, tmp_path / "b")
    assert first == second
    _assert_same_outputs(tmp_path / "a", tmp_path / "b")


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


def test_resume_matches_uninterrupted_run(features, tmp_path):
    # 192 samples / batch 32 = 6 steps per epoch: the interruption falls inside Brevitas' activation
    # statistics collection phase (first 30 steps), the part state_dict() alone does not capture
    cfg = tiny_config(epochs=4, weight_decay=1e-3)
    train.train_model(cfg, "sparse", features, tmp_path / "full")
    with pytest.raises(Interrupt):
        train.train_model(cfg, "sparse", features, tmp_path / "resumed", epoch_callback=stop_at(0, 2))
    assert (tmp_path / "resumed" / "runs" / "seed0.checkpoint.pt").exists()
    assert not (tmp_path / "resumed" / "model.pt").exists()
    epochs_run = []
    train.train_model(cfg, "sparse", features, tmp_path / "resumed", epoch_callback=lambda *a: epochs_run.append(a))
    assert epochs_run == [(0, 3), (0, 4)]
    assert not (tmp_path / "resumed" / "runs").exists()
    _assert_same_outputs(tmp_path / "full", tmp_path / "resumed")


def test_kill_mid_epoch_resumes_from_the_last_checkpoint(features, tmp_path, monkeypatch):
    cfg = tiny_config(epochs=3)
    train.train_model(cfg, "sparse", features, tmp_path / "full")
    real_rezero, steps = train.rezero_weights, []

    def dying_rezero(model):  # runs after every optimizer step; 6 steps per epoch
        steps.append(1)
        if len(steps) == 15:
            raise Interrupt  # in the middle of epoch 3
        real_rezero(model)

    monkeypatch.setattr(train, "rezero_weights", dying_rezero)
    with pytest.raises(Interrupt):
        train.train_model(cfg, "sparse", features, tmp_path / "resumed")
    monkeypatch.setattr(train, "rezero_weights", real_rezero)
    epochs_run = []
    train.train_model(cfg, "sparse", features, tmp_path / "resumed", epoch_callback=lambda *a: epochs_run.append(a))
    assert epochs_run == [(0, 3)]
    _assert_same_outputs(tmp_path / "full", tmp_path / "resumed")


@pytest.mark.parametrize("family", ["mlp", "cnn"])
def test_resume_after_the_statistics_phase_and_after_the_best_epoch_is_exact(tmp_path, family):
    """Killed twice (after epoch 4, past the best epoch so far; after epoch 7, past Brevitas'
    300 steps of activation statistics at 48 steps per epoch) and resumed: the same history,
    weights, metrics and model file as one uninterrupted run."""
    if family == "mlp":
        features, model = make_features(tmp_path / "mfcc.npz"), "dense"
        cfg = tiny_config(epochs=8, density=1.0, batch_size=4)
    else:
        features, model = make_image_features(tmp_path / "logmel.npz"), "cnn"
        cfg = tiny_cnn_config(epochs=8, batch_size=4)
    train.train_model(cfg, model, features, tmp_path / "full")
    history = pd.read_csv(tmp_path / "full" / "history.csv")
    kills = (4, 7)
    assert history["validation_accuracy"][:kills[0]].idxmax() + 1 < kills[0]  # the best so far lies before the kill
    for kill in kills:
        with pytest.raises(Interrupt):
            train.train_model(cfg, model, features, tmp_path / "resumed", epoch_callback=stop_at(0, kill))
    train.train_model(cfg, model, features, tmp_path / "resumed")
    _assert_same_outputs(tmp_path / "full", tmp_path / "resumed")


def test_a_checkpoint_of_the_earlier_format_is_ignored(features, tmp_path):
    from sparsekws.training.checkpoint import load_checkpoint, save_checkpoint

    save_checkpoint(tmp_path / "old.pt", {"fingerprint": "f", "epoch": 2, "torch_rng_state": torch.get_rng_state()})
    assert load_checkpoint(tmp_path / "old.pt", "f", train.RESUME_KEYS) is None
    assert load_checkpoint(tmp_path / "old.pt", "f")["epoch"] == 2


def test_several_seeds_resume_and_summary(features, tmp_path):
    cfg = tiny_config(epochs=2, seeds=2)
    full = train.train_model(cfg, "sparse", features, tmp_path / "full")
    with pytest.raises(Interrupt):  # seed 0 done, seed 1 half done
        train.train_model(cfg, "sparse", features, tmp_path / "resumed", epoch_callback=stop_at(1, 1))
    assert sorted(p.name for p in (tmp_path / "resumed" / "runs").iterdir()) == ["seed0.pt", "seed1.checkpoint.pt"]
    epochs_run = []
    train.train_model(cfg, "sparse", features, tmp_path / "resumed", epoch_callback=lambda *a: epochs_run.append(a))
    assert epochs_run == [(1, 2)]
    _assert_same_outputs(tmp_path / "full", tmp_path / "resumed")

    accuracies = [s["test_accuracy"] for s in full["seeds"]]
    assert [s["index"] for s in full["seeds"]] == [0, 1]
    assert [s["seed"] for s in full["seeds"]] == train.run_seeds(cfg["seed"], "sparse", 2)
    assert full["test_accuracy"] == accuracies[0]  # model.pt is the first seed
    assert full["test_accuracy_over_seeds"] == confidence_summary(accuracies)
    history = pd.read_csv(tmp_path / "full" / "history.csv")
    assert list(history["seed_index"]) == [0, 0, 1, 1]
    one_seed = train.train_model(tiny_config(epochs=2), "sparse", features, tmp_path / "one")
    assert one_seed["seeds"][0] == full["seeds"][0]  # adding seeds leaves the first one unchanged


def test_seeds_trained_one_by_one_then_gathered(features, tmp_path):
    """--seed-index trains one seed into runs/ (as the train_seed rule does); the call without it
    gathers them without training again, into the same files as one call."""
    cfg = tiny_config(epochs=2, seeds=2)
    full = train.train_model(cfg, "sparse", features, tmp_path / "full")
    for index in (1, 0):
        record = train.train_model(cfg, "sparse", features, tmp_path / "split", seed_index=index)
        assert record == full["seeds"][index] and train.seed_run_path(tmp_path / "split", index).exists()
    assert not (tmp_path / "split" / "model.pt").exists()
    epochs_run = []
    train.train_model(cfg, "sparse", features, tmp_path / "split", epoch_callback=lambda *a: epochs_run.append(a))
    assert epochs_run == []
    _assert_same_outputs(tmp_path / "full", tmp_path / "split")
    with pytest.raises(UserError, match="--seed-index 2"):
        train.train_model(cfg, "sparse", features, tmp_path / "split", seed_index=2)


def test_checkpoint_of_another_config_is_ignored(features, tmp_path):
    with pytest.raises(Interrupt):
        train.train_model(tiny_config(epochs=3), "sparse", features, tmp_path, epoch_callback=stop_at(0, 1))
    epochs_run = []
    train.train_model(tiny_config(epochs=3, learning_rate=0.01), "sparse", features, tmp_path,
                      epoch_callback=lambda *a: epochs_run.append(a[1]))
    assert epochs_run == [1, 2, 3]


def test_cnn_with_kwinners_resumes_with_its_duty_cycles(tmp_path):
    features = make_image_features(tmp_path / "logmel.npz")
    cfg = tiny_cnn_config(epochs=2, optimizer="sgd", learning_rate=0.02, lr_schedule="step")
    full = train.train_model(cfg, "cnn", features, tmp_path / "full")
    with pytest.raises(Interrupt):
        train.train_model(cfg, "cnn", features, tmp_path / "resumed", epoch_callback=stop_at(0, 1))
    train.train_model(cfg, "cnn", features, tmp_path / "resumed")
    _assert_same_outputs(tmp_path / "full", tmp_path / "resumed")

    state = _state(tmp_path / "full")
    assert state["input_shape"] == [1, 32, 32]
    duty = [k for k in state["state_dict"] if k.endswith("duty_cycle")]
    boost = [k for k in state["state_dict"] if k.endswith("boost_strength")]
    assert len(duty) == 3 and len(boost) == 3
    assert all(float(state["state_dict"][k].sum()) > 0 for k in duty)  # trained duty cycles, saved
    # boost strength decays once per epoch: 1.5 * 0.9^best_epoch in the selected weights
    assert float(state["state_dict"][boost[0]]) == pytest.approx(1.5 * 0.9 ** full["best_epoch"])
    conv = [layer for layer in full["layers"] if layer["kind"] == "QuantConv2d"]
    assert [layer["output_positions"] for layer in conv] == [28 * 28, 10 * 10]
    assert full["macs_dense"] == sum(layer["total_weights"] * layer["output_positions"] for layer in full["layers"])


def test_bad_features_file_is_a_user_error(tmp_path):
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 49, 10), np.int8))
    with pytest.raises(UserError, match="lacks"):
        load_features(tmp_path / "bad.npz")
    with pytest.raises(UserError, match="not found"):
        load_features(tmp_path / "missing.npz")


def test_cli_trains(features, tmp_path):
    import yaml

    from sparsekws.cli import main

    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(tiny_config(epochs=1)))
    assert main(["train", "--config", str(config), "--model", "dense", "--features", str(features),
                 "--out-dir", str(tmp_path / "out"), "--device", "cpu"]) == 0
    assert (tmp_path / "out" / "metrics.json").exists()


def _augmented(path: Path, features: Path, copies: int = 3, labels: np.ndarray | None = None) -> Path:
    """An ``<frontend>_augmented.npz`` (the augment rule's format): noisy copies of the train split."""
    saved = np.load(features)
    x = saved["x_train"].astype(np.int16)
    noisy = [np.clip(x + np.random.default_rng(c).integers(-20, 21, size=x.shape), -127, 127).astype(np.int8)
             for c in range(copies)]
    np.savez(path, x=np.stack(noisy), y=saved["y_train"] if labels is None else labels, files=saved["files_train"])
    return path


def test_augmentation_needs_the_augmented_copies_and_is_deterministic(features, tmp_path):
    cfg = tiny_config(epochs=2)
    cfg["augment"] = {**cfg["augment"], "enabled": True}
    with pytest.raises(UserError, match="--augmented"):
        train.train_model(cfg, "dense", features, tmp_path / "none")
    copies = _augmented(tmp_path / "aug.npz", features)
    a = train.train_model(cfg, "dense", features, tmp_path / "a", augmented=copies)
    b = train.train_model(cfg, "dense", features, tmp_path / "b", augmented=copies)
    _assert_same_outputs(tmp_path / "a", tmp_path / "b")
    plain = train.train_model(tiny_config(epochs=2), "dense", features, tmp_path / "plain")
    assert a["test_accuracy"] == b["test_accuracy"]
    assert pd.read_csv(tmp_path / "a" / "history.csv")["train_loss"].tolist() != \
        pd.read_csv(tmp_path / "plain" / "history.csv")["train_loss"].tolist()
    wrong = _augmented(tmp_path / "wrong.npz", features, labels=np.zeros(len(np.load(features)["y_train"]), int))
    with pytest.raises(UserError, match="does not hold the train split"):
        train.train_model(cfg, "dense", features, tmp_path / "c", augmented=wrong)
    assert plain["model"] == "dense"
