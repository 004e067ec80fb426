import json

import numpy as np
import pandas as pd
import pytest
import torch

from sparsekws.cli import main
from sparsekws.training import cross_voice
from sparsekws.training.evaluation import load_model
from sparsekws.training.inference import predict
from sparsekws.training.trainer import train_model
from support.fixtures import make_features, tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny model and two held-out sets: its own test split, and that split with shuffled labels."""
    folder = tmp_path_factory.mktemp("cross")
    features = make_features(folder / "features.npz")
    train_model(tiny_config(epochs=3), "dense", features, folder / "model")
    saved = np.load(features)
    held = folder / "held.npz"
    np.savez(held, x=saved["x_test"], y=saved["y_test"], files=saved["files_test"] if "files_test" in saved
             else np.array([str(i) for i in range(len(saved["y_test"]))]), classes=saved["classes"])
    shuffled = folder / "shuffled.npz"
    np.savez(shuffled, x=saved["x_test"], y=np.random.default_rng(0).permutation(saved["y_test"]),
             classes=saved["classes"])
    return folder, held, shuffled


def test_rows_hold_held_out_and_in_family_accuracy(trained):
    folder, held, shuffled = trained
    model = folder / "model"
    runs = [{"model": "dense", "held_out": family, "checkpoint": model / "model.pt", "metrics": model / "metrics.json",
             "held_out_features": path} for family, path in (("flite", held), ("festival", shuffled))]
    table, confusion = cross_voice.cross_voice_rows(runs)
    assert list(table.columns) == cross_voice.COLUMNS
    metrics = json.loads((model / "metrics.json").read_text())
    own = table.iloc[0]
    # the held-out set is the model's own test split here, so both accuracies agree
    assert own["accuracy"] == pytest.approx(metrics["test_accuracy"]) == own["in_family_accuracy"]
    assert own["n"] == own["in_family_n"] == 48 and own["gap"] == pytest.approx(0.0)
    assert table.iloc[1]["accuracy"] < own["accuracy"]
    assert confusion.groupby("held_out")["count"].sum().tolist() == [48, 48]
    right = confusion[(confusion.held_out == "flite") & (confusion.true == confusion.predicted)]["count"].sum()
    assert right / 48 == pytest.approx(own["accuracy"])


def test_held_out_accuracy_over_seeds(trained, tmp_path):
    """Trained with --held-out, every seed is tested on the family: the row is their mean with intervals."""
    folder, held, _ = trained
    metrics = train_model(tiny_config(epochs=2, seeds=2), "dense", folder / "features.npz", tmp_path,
                          held_out=held)
    # the held-out set is the model's own test split here: each seed's two accuracies agree
    assert [s["held_out_accuracy"] for s in metrics["seeds"]] == [s["test_accuracy"] for s in metrics["seeds"]]
    runs = [{"model": "dense", "held_out": "flite", "checkpoint": tmp_path / "model.pt",
             "metrics": tmp_path / "metrics.json", "held_out_features": held}]
    row = cross_voice.cross_voice_rows(runs)[0].iloc[0]
    assert row["seeds"] == 2 and row["accuracy"] == pytest.approx(metrics["test_accuracy_over_seeds"]["mean"])
    assert row["accuracy_ci_low"] <= row["accuracy"] <= row["accuracy_ci_high"]
    assert row["gap"] == pytest.approx(0.0) and row["gap_ci_low"] <= 0 <= row["gap_ci_high"]


def test_predictions_match_the_model(trained):
    folder, held, _ = trained
    predicted, data = cross_voice.held_out_predictions(folder / "model" / "model.pt", held)
    model, saved = load_model(folder / "model" / "model.pt")
    x = torch.from_numpy(data["x"].reshape(len(data["x"]), *saved["input_shape"]).astype(np.float32))
    assert np.array_equal(predicted, predict(model, x, torch.device("cpu")).argmax(dim=1).numpy())


def test_command_writes_table_and_confusions(trained, tmp_path):
    folder, held, _ = trained
    model = folder / "model"
    assert main(["cross-voice", "--run", "dense", "flite", str(model / "model.pt"), str(model / "metrics.json"),
                 str(held), "--csv", str(tmp_path / "cv.csv"), "--confusion", str(tmp_path / "conf.csv")]) == 0
    table = pd.read_csv(tmp_path / "cv.csv")
    assert table[["model", "held_out", "n"]].values.tolist() == [["dense", "flite", 48]]
    assert main(["figures", "cross-voice", "--cross-voice", str(tmp_path / "cv.csv"), "--config-hash", "abc",
                 "--out", str(tmp_path / "fig")]) == 0
    assert (tmp_path / "fig.png").stat().st_size > 5000 and (tmp_path / "fig.svg").exists()
