import json

import numpy as np
import pytest

from sparsekws.cli import main
from sparsekws.core.errors import UserError
from sparsekws.features import family_split

FAMILIES = {"aa000001": "espeak-ng", "bb000002": "flite", "cc000003": "festival", "dd000004": "flite"}


def _arrays():
    files = {"train": ["yes/aa000001_nohash_0.wav", "no/bb000002_nohash_0.wav", "_background_noise_/w.wav@100",
                       "yes/dd000004_nohash_0.wav"],
             "validation": ["no/cc000003_nohash_0.wav", "yes/bb000002_nohash_1.wav"],
             "test": ["up/aa000001_nohash_0.wav", "_background_noise_/w.wav@5", "up/dd000004_nohash_0.wav"]}
    arrays = {"classes": np.array(["_silence_", "_unknown_", "yes", "no", "up"]), "scale": np.float32(0.5)}
    for split, paths in files.items():
        arrays[f"files_{split}"] = np.array(paths)
        arrays[f"y_{split}"] = np.arange(len(paths))
        arrays[f"x_{split}"] = np.arange(len(paths) * 4, dtype=np.int8).reshape(len(paths), 2, 2)
    return arrays


def test_families_of_samples_and_silence():
    got = family_split.sample_families(_arrays()["files_train"], FAMILIES)
    assert got.tolist() == ["espeak-ng", "flite", "", "flite"]
    with pytest.raises(UserError, match="ee000005"):
        family_split.sample_families(np.array(["yes/ee000005_nohash_0.wav"]), FAMILIES)


def test_without_and_only_partition_the_word_samples():
    arrays = _arrays()
    without, kept = family_split.without_family(arrays, FAMILIES, "flite")
    assert kept.tolist() == [True, False, True, False]
    assert without["files_train"].tolist() == ["yes/aa000001_nohash_0.wav", "_background_noise_/w.wav@100"]
    assert without["files_validation"].tolist() == ["no/cc000003_nohash_0.wav"]
    assert np.array_equal(without["x_train"], arrays["x_train"][[0, 2]]) and without["scale"] == 0.5
    only = family_split.only_family(arrays, FAMILIES, "flite")
    assert only["files"].tolist() == ["no/bb000002_nohash_0.wav", "yes/dd000004_nohash_0.wav",
                                      "yes/bb000002_nohash_1.wav", "up/dd000004_nohash_0.wav"]
    assert only["y"].tolist() == [1, 3, 1, 2] and only["x"].shape == (4, 2, 2)
    with pytest.raises(UserError, match="no samples of voice family"):
        family_split.only_family(arrays, {k: "espeak-ng" for k in FAMILIES}, "flite")


def test_command_splits_features_and_augmented_copies(tmp_path):
    dataset = tmp_path / "ds"
    dataset.mkdir()
    speakers = [{"id": k, "family": f} for k, f in FAMILIES.items()]
    (dataset / "dataset_info.json").write_text(json.dumps({"source": "synthetic", "source_info": {"speakers": speakers}}))
    arrays = _arrays()
    np.savez(tmp_path / "f.npz", **arrays)
    np.savez(tmp_path / "aug.npz", x=np.stack([arrays["x_train"], -arrays["x_train"]]), y=arrays["y_train"],
             files=arrays["files_train"])
    out = {name: str(tmp_path / f"{name}.npz") for name in ("without", "without_aug", "only")}
    assert main(["family-split", "--dataset-dir", str(dataset), "--features", str(tmp_path / "f.npz"),
                 "--augmented", str(tmp_path / "aug.npz"), "--held-out", "festival", "--without", out["without"],
                 "--without-augmented", out["without_aug"], "--only", out["only"]]) == 0
    aug = np.load(out["without_aug"])
    assert aug["x"].shape == (2, 4, 2, 2)  # festival has no train sample
    assert np.load(out["only"])["files"].tolist() == ["no/cc000003_nohash_0.wav"]
    assert len(np.load(out["without"])["y_validation"]) == 1


def test_gsc_datasets_record_no_families(tmp_path):
    (tmp_path / "dataset_info.json").write_text(json.dumps({"source": "gsc", "source_info": {}}))
    with pytest.raises(UserError, match="records no voice families"):
        family_split.speaker_families(tmp_path)
