import hashlib
import tarfile

import numpy as np
import pytest
import yaml

from sparsekws.cli import main
from sparsekws.config import validate_config
from sparsekws.data import build, synth
from sparsekws.data.wav import write_wav
from sparsekws.fileio import read_json


def tiny_config(**dataset):
    return validate_config({
        "seed": 5,
        "dataset": {"name": "tiny", "source": "synthetic",
                    "synthetic": {"speakers": 3, "unknown_words": ["cat"], "background_noise_files": 1,
                                  "background_noise_seconds": 2, "workers": 1}, **dataset},
        "task": {"words": ["yes", "no"]},
        "models": {"m": {"family": "mlp", "frontend": "mfcc", "hidden_units": [8]}},
    })


def test_build_synthetic(tmp_path):
    out = tmp_path / "datasets" / "tiny"
    info = build.build_dataset(tiny_config(), out)
    on_disk = read_json(out / "dataset_info.json")
    assert on_disk == info
    assert info["source"] == "synthetic" and info["seed"] == 5 and info["files"] == 9
    assert info["counts"] == {s: {"cat": 1, "no": 1, "yes": 1} for s in ("train", "validation", "test")}
    assert info["source_info"]["generator"] == "espeak-ng"
    assert len(info["source_info"]["speakers"]) == 3
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny"]  # no temporary folder left


def test_failed_build_leaves_nothing_and_keeps_old(tmp_path, monkeypatch):
    out = tmp_path / "tiny"
    out.mkdir()
    (out / "old.txt").write_text("previous complete build")

    def broken(folder, *args):
        (folder / "yes").mkdir()
        raise RuntimeError("synthesis crashed")

    monkeypatch.setattr(synth, "generate", broken)
    with pytest.raises(RuntimeError):
        build.build_dataset(tiny_config(), out)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tiny"]
    assert (out / "old.txt").read_text() == "previous complete build"


def test_build_gsc_from_local_archive(tmp_path):
    src = tmp_path / "src"
    for word in ("yes", "no", "cat"):
        for spk in ("aa", "bb"):
            (src / word).mkdir(parents=True, exist_ok=True)
            write_wav(src / word / f"{spk}_nohash_0.wav", np.zeros(8000, dtype=np.int16))
    (src / "_background_noise_").mkdir()
    write_wav(src / "_background_noise_" / "running_tap.wav", np.zeros(20000, dtype=np.int16))
    (src / "validation_list.txt").write_text("yes/bb_nohash_0.wav\n")
    (src / "testing_list.txt").write_text("no/bb_nohash_0.wav\n")
    archive = tmp_path / "gsc.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=".")
    cfg = tiny_config(source="gsc", gsc={"archive": str(archive),
                                         "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()})
    info = build.build_dataset(cfg, tmp_path / "out")
    assert info["counts"]["validation"] == {"yes": 1} and info["counts"]["test"] == {"no": 1}
    assert info["source_info"]["sha256"] == cfg["dataset"]["gsc"]["sha256"]


def test_cli(tmp_path, capsys):
    cfg = tiny_config()
    cfg_path = tmp_path / "c.yaml"
    cfg_path.write_text(yaml.safe_dump(cfg))
    assert main(["dataset", "--config", str(cfg_path), "--out", str(tmp_path / "ds")]) == 0
    assert (tmp_path / "ds" / "dataset_info.json").is_file()
    bad = tiny_config(source="gsc", gsc={"archive": str(tmp_path / "nowhere.tar.gz")})
    cfg_path.write_text(yaml.safe_dump(bad))
    assert main(["dataset", "--config", str(cfg_path), "--out", str(tmp_path / "ds2")]) == 1
    assert "nowhere.tar.gz is neither a file nor a folder" in capsys.readouterr().err
    assert not (tmp_path / "ds2").exists()
