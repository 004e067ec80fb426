"""The model file: damaged or foreign files and other features than the trained ones are clear errors."""

from __future__ import annotations

import pytest
import torch

from sparsekws.core.errors import UserError
from sparsekws.features.store import load_features
from sparsekws.training.model_file import check_features, load_trained_model, read_model_file
from sparsekws.training.trainer import train_model
from support.fixtures import make_features, tiny_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    root = tmp_path_factory.mktemp("model_file")
    features = make_features(root / "features.npz")
    train_model(tiny_config(epochs=1), "sparse", features, root / "out")
    return root / "out" / "model.pt", features


def test_the_model_file_records_its_features(trained):
    checkpoint, features = trained
    saved = read_model_file(checkpoint)
    assert saved["features_sha256"] == load_features(features).sha256
    check_features(saved, checkpoint, load_features(features))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_damaged_model_file_names_itself_and_how_to_rebuild_it(trained, tmp_path, damage):
    checkpoint, _ = trained
    blob = checkpoint.read_bytes()
    bad = tmp_path / "model.pt"
    bad.write_bytes({"truncated": blob[: len(blob) // 2], "garbage": b"not a zip" * 50, "empty": b""}[damage])
    with pytest.raises(UserError, match=rf"checkpoint {bad} is damaged .*--forcerun {bad}"):
        load_trained_model(bad)


def test_a_foreign_torch_file_is_not_taken_for_a_model(tmp_path):
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(UserError, match="not a sparsekws model file \\(no state_dict, model_config"):
        read_model_file(tmp_path / "other.pt")
    with pytest.raises(UserError, match="checkpoint not found"):
        read_model_file(tmp_path / "none.pt")


def test_features_of_another_dataset_are_refused(trained, tmp_path):
    checkpoint, _ = trained
    other = load_features(make_features(tmp_path / "other.npz", seed=5))
    with pytest.raises(UserError, match="is not the one .*model.pt was trained on"):
        check_features(read_model_file(checkpoint), checkpoint, other)
