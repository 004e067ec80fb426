import json

import numpy as np
import pandas as pd

from sparsekws.cli import main
from sparsekws.data import build, card as dataset_card
from sparsekws.data.wav import write_wav
from support import validated

SPEAKERS = [f"s{i:02d}" for i in range(20)]


def _config(tmp_path):
    src = tmp_path / "src"
    rng = np.random.default_rng(0)
    for word in ("yes", "no", "cat", "dog"):
        (src / word).mkdir(parents=True)
        for spk in SPEAKERS:
            write_wav(src / word / f"{spk}_nohash_0.wav", (rng.standard_normal(16000) * 500).astype(np.int16))
    (src / "yes" / "zz_nohash_0.wav").write_bytes(b"RIFF....WAVEjunk")  # rejected, counted
    (src / "_background_noise_").mkdir()
    write_wav(src / "_background_noise_" / "tap.wav", np.zeros(40000, dtype=np.int16))
    (src / "validation_list.txt").write_text("".join(f"{w}/s00_nohash_0.wav\n" for w in ("yes", "no", "cat", "dog")))
    (src / "testing_list.txt").write_text("".join(f"{w}/s01_nohash_0.wav\n" for w in ("yes", "no", "cat", "dog")))
    return validated({
        "seed": 3,
        "dataset": {"name": "card", "source": "gsc", "gsc": {"archive": str(src)}},
        "task": {"words": ["yes", "no"], "unknown_percentage": 50.0, "silence_percentage": 25.0},
        "models": {"m": {"family": "mlp", "frontend": "mfcc", "hidden_units": [8]}},
    })


def test_card_counts(tmp_path):
    config = _config(tmp_path)
    build.build_dataset(config, tmp_path / "ds")
    card = dataset_card.dataset_card(config, tmp_path / "ds")
    assert list(card.columns) == dataset_card.COLUMNS
    task = card[card.section == "task"].set_index(["split", "class"])["count"]
    # train: 18 speakers x 2 words = 36; unknown 50 % = 18; silence 25 % = 9
    assert task[("train", "yes")] == 18 and task[("train", "no")] == 18
    assert task[("train", "_unknown_")] == 18 and task[("train", "_silence_")] == 9
    assert task[("test", "yes")] == 1 and task[("test", "_unknown_")] == 1 and task[("test", "_silence_")] == 1
    files = card[card.section == "files"].set_index(["split", "class"])["count"]
    assert files[("train", "cat")] == 18 and files[("validation", "dog")] == 1
    rejected = card[card.section == "rejected"]
    assert rejected[["split", "class", "count"]].values.tolist() == [["train", "yes", 1]]


def test_card_matches_the_features_stage(tmp_path):
    from sparsekws.features.extract import extract_features

    config = _config(tmp_path)
    build.build_dataset(config, tmp_path / "ds")
    card = dataset_card.dataset_card(config, tmp_path / "ds")
    _, counts = extract_features(config, tmp_path / "ds")
    task = card[card.section == "task"].drop(columns="section").reset_index(drop=True)
    pd.testing.assert_frame_equal(task, counts)


def test_commands_write_the_card_and_its_figure(tmp_path):
    config = _config(tmp_path)
    build.build_dataset(config, tmp_path / "ds")
    out = tmp_path / "out"
    settings = json.dumps({key: config[key] for key in ("seed", "task")})
    assert main(["dataset-card", "--settings", settings, "--dataset-dir", str(tmp_path / "ds"),
                 "--csv", str(out / "card.csv"), "--json", str(out / "card.json")]) == 0
    assert len(pd.read_csv(out / "card.csv")) > 12
    header = json.loads((out / "card.json").read_text())
    assert header["source"] == "gsc" and header["rejected"] == 1 and "families" not in header
    assert main(["figures", "class-balance", "--card", str(out / "card.csv"), "--dataset", "card", "--source", "gsc",
                 "--config-hash", "abc", "--out", str(out / "balance")]) == 0
    assert (out / "balance.png").stat().st_size > 5000 and (out / "balance.svg").stat().st_size > 5000
    assert sorted(p.name for p in out.iterdir()) == ["balance.png", "balance.svg", "card.csv", "card.json"]


def test_synthetic_card_has_families_voices_snr_and_level(tmp_path):
    config = validated({
        "seed": 2,
        "dataset": {"name": "syn", "source": "synthetic",
                    "synthetic": {"speakers": 10, "unknown_words": ["cat"], "background_noise_files": 1,
                                  "background_noise_seconds": 2, "snr_db": [10, 30], "workers": 1}},
        "task": {"words": ["yes", "no"]},
        "models": {"m": {"family": "mlp", "frontend": "mfcc", "hidden_units": [8]}},
    })
    build.build_dataset(config, tmp_path / "ds")
    card = dataset_card.dataset_card(config, tmp_path / "ds")
    speakers = card[card.section == "speakers"]
    assert speakers["count"].sum() == 10 and set(speakers["class"]) == {"espeak-ng", "flite", "festival"}
    assert card[card.section == "voices"]["count"].sum() == 10
    files = card[card.section == "files"]["count"].sum()
    for key in ("snr_db", "level_dbfs"):
        rows = card[card.section == key]
        assert rows["count"].sum() == files and all(c.startswith("[") and c.endswith(")") for c in rows["class"])
    assert set(card[card.section == "snr_db"]["class"]) <= {"[10, 15)", "[15, 20)", "[20, 25)", "[25, 30)"}
    summary = dataset_card.card_summary(tmp_path / "ds")
    assert summary["content_sha256"] == build.content_hash(tmp_path / "ds")
    assert set(summary["families"]) == {"espeak-ng", "flite", "festival"}
    assert sum(f["speakers"] for f in summary["families"].values()) == 10
    low, mid, high = summary["families"]["flite"]["snr_db_percentiles_5_50_95"]
    assert 10 <= low <= mid <= high <= 30
    assert set(summary["engine_versions"]) == {"espeak-ng", "flite", "festival"}
