import hashlib
import tarfile
import wave

import numpy as np
import pytest
import yaml

from sparsekws.cli import main
from sparsekws.data import build, synth
from sparsekws.data.wav import write_wav
from sparsekws.core.errors import UserError
from sparsekws.core.files import read_json
from support import validated


def tiny_config(**dataset):
    return validated({
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
    assert info["source_info"]["generator"] == "espeak-ng+flite+festival"
    assert [s["family"] for s in info["source_info"]["speakers"]] == ["espeak-ng"] * 3  # one per split
    assert len(info["content_sha256"]) == 64 and info["content_sha256"] == build.content_hash(out)
    assert sorted(p.name for p in out.parent.iterdir()) == ["tiny"]  # no temporary folder left


def test_generator_rejections_join_the_rejected_list(tmp_path, monkeypatch):
    real, calls = synth.synthesise, []

    def first_speaker_loses_cat(family, voice, variant, utterances):
        calls.append(voice)
        out = real(family, voice, variant, utterances)
        return [None if text == "cat" and len(calls) == 1 else o for (text, _), o in zip(utterances, out)]

    monkeypatch.setattr(synth, "synthesise", first_speaker_loses_cat)
    info = build.build_dataset(tiny_config(), tmp_path / "tiny")
    assert [(r["word"], r["reason"]) for r in info["rejected"]] == [("cat", "the engine wrote no audio")]
    assert info["files"] == 8 and "rejected" not in info["source_info"]


def test_content_hash_sees_names_and_bytes(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.wav").write_bytes(b"1")
    first = build.content_hash(tmp_path)
    (tmp_path / build.INFO_FILE).write_text("{}")
    assert build.content_hash(tmp_path) == first  # the info file is not content
    (tmp_path / "a" / "x.wav").write_bytes(b"2")
    assert build.content_hash(tmp_path) != first


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


def _gsc_folder(src, speakers=("aa", "bb", "cc")):
    for word in ("yes", "no", "cat"):
        for spk in speakers:
            (src / word).mkdir(parents=True, exist_ok=True)
            write_wav(src / word / f"{spk}_nohash_0.wav", np.full(8000, 5, dtype=np.int16))  # 0.5 s: padded
    (src / "_background_noise_").mkdir()
    write_wav(src / "_background_noise_" / "running_tap.wav", np.zeros(20000, dtype=np.int16))
    (src / "validation_list.txt").write_text("yes/bb_nohash_0.wav\nno/bb_nohash_0.wav\ncat/bb_nohash_0.wav\n")
    (src / "testing_list.txt").write_text("yes/cc_nohash_0.wav\nno/cc_nohash_0.wav\ncat/cc_nohash_0.wav\n")


def _tar(src, archive):
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=".")
    return archive


def test_build_gsc_from_local_archive(tmp_path):
    src = tmp_path / "src"
    _gsc_folder(src)
    archive = _tar(src, tmp_path / "gsc.tar.gz")
    cfg = tiny_config(source="gsc", gsc={"archive": str(archive),
                                         "sha256": hashlib.sha256(archive.read_bytes()).hexdigest()})
    info = build.build_dataset(cfg, tmp_path / "out")
    assert info["counts"] == {s: {"cat": 1, "no": 1, "yes": 1} for s in ("train", "validation", "test")}
    assert info["source_info"]["sha256"] == cfg["dataset"]["gsc"]["sha256"]
    assert info["rejected"] == []


def test_a_missing_word_names_the_users_archive_not_the_staging_folder(tmp_path):
    src = tmp_path / "src"
    _gsc_folder(src)
    cfg = tiny_config(source="gsc", gsc={"archive": str(src)})
    cfg["task"]["words"] = ["yes", "no", "up"]
    with pytest.raises(UserError, match=rf"configured word\(s\) up not found in {src}") as error:
        build.build_dataset(cfg, tmp_path / "out")
    assert ".tmp" not in str(error.value)


def _write_raw_wav(path, channels=1, width=2, rate=16000, frames=16000):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x01" * width * channels * frames)


def test_invalid_clips_are_rejected_by_name_and_never_enter_a_split(tmp_path, caplog):
    src = tmp_path / "src"
    _gsc_folder(src, speakers=("aa", "bb", "cc", "dd", "ee"))
    _write_raw_wav(src / "yes" / "dd_nohash_0.wav", channels=2)
    _write_raw_wav(src / "no" / "dd_nohash_0.wav", width=1)
    _write_raw_wav(src / "cat" / "dd_nohash_0.wav", rate=8000)
    (src / "yes" / "ee_nohash_0.wav").write_bytes(b"RIFF garbage")
    _write_raw_wav(src / "no" / "ee_nohash_0.wav", frames=0)
    cfg = tiny_config(source="gsc", gsc={"archive": str(src)})
    info = build.build_dataset(cfg, tmp_path / "out")
    reasons = {r["path"]: r["reason"] for r in info["rejected"]}
    assert set(reasons) == {"yes/dd_nohash_0.wav", "no/dd_nohash_0.wav", "cat/dd_nohash_0.wav",
                            "yes/ee_nohash_0.wav", "no/ee_nohash_0.wav"}
    assert "mono" in reasons["yes/dd_nohash_0.wav"] and "16-bit" in reasons["no/dd_nohash_0.wav"]
    assert "8000 Hz" in reasons["cat/dd_nohash_0.wav"] and "empty" in reasons["no/ee_nohash_0.wav"]
    assert all(path in caplog.text for path in reasons)
    assert info["counts"]["train"] == {"cat": 2, "no": 1, "yes": 1}  # aa, plus the valid cat/ee
    entries, noise, rejected = build.usable_entries(tmp_path / "out", ["yes", "no"])
    assert {e.path for e in entries}.isdisjoint(reasons) and len(entries) == 10 and rejected == info["rejected"]


def test_empty_class_is_a_clear_error(tmp_path):
    src = tmp_path / "src"
    _gsc_folder(src)
    (src / "no" / "bb_nohash_0.wav").write_bytes(b"broken")  # the only validation clip of "no"
    with pytest.raises(UserError, match="validation split has no usable clips of task word.*no"):
        build.build_dataset(tiny_config(source="gsc", gsc={"archive": str(src)}), tmp_path / "out")
    assert not (tmp_path / "out").exists()


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
