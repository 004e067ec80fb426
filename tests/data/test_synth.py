import collections

import numpy as np
import pytest

from sparsekws.data import synth, voices
from sparsekws.data.gsc import list_dataset, read_list, which_set
from sparsekws.data.wav import read_wav
from sparsekws.core.errors import UserError

TINY = {"speakers": 4, "takes_per_word": 2, "unknown_words": ["cat"], "background_noise_files": 5,
        "background_noise_seconds": 1.5, "snr_db": [10, 30], "families": {"espeak-ng": 1, "flite": 1}}
WORDS = ["yes", "no"]


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    out = {}
    for workers in (1, 2):
        root = tmp_path_factory.mktemp(f"w{workers}")
        info = synth.generate(root, WORDS, {**TINY, "workers": workers}, seed=3)
        out[workers] = (root, info)
    return out


def _tree_bytes(root):
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_byte_identical_for_any_worker_count(trees):
    one, two = _tree_bytes(trees[1][0]), _tree_bytes(trees[2][0])
    assert one.keys() == two.keys()
    assert all(one[k] == two[k] for k in one)
    assert trees[1][1] == {**trees[2][1], "parameters": {**trees[2][1]["parameters"], "workers": 1}}


def test_layout_and_lists(trees):
    root, info = trees[1]
    entries = list_dataset(root, required_words=WORDS)
    assert {e.word for e in entries} == {"yes", "no", "cat"}
    assert len(entries) == 4 * 3 * 2
    for e in entries:
        assert e.split == which_set(e.path)
        audio = read_wav(root / e.path)
        assert audio.shape == (16000,) and audio.dtype == np.int16
        assert 1000 < np.abs(audio.astype(int)).max() < 30000  # audible, not clipped
    listed = set(read_list(root / "validation_list.txt")) | set(read_list(root / "testing_list.txt"))
    assert listed == {e.path for e in entries if e.split != "train"}
    speaker_splits = collections.defaultdict(set)
    for e in entries:
        speaker_splits[e.path.split("/")[1].split("_nohash_")[0]].add(e.split)
    assert all(len(s) == 1 for s in speaker_splits.values())
    assert {next(iter(s)) for s in speaker_splits.values()} == {"train", "validation", "test"}
    noise = sorted(p.name for p in (root / "_background_noise_").iterdir())
    assert noise == ["brown_noise.wav", "hum_noise.wav", "pink_noise.wav", "white_noise.wav", "white_noise_2.wav"]
    assert all(len(read_wav(root / "_background_noise_" / n)) == 24000 for n in noise)
    assert [s["id"] for s in info["speakers"]] == sorted(speaker_splits, key=[s["id"] for s in info["speakers"]].index)


def test_takes_and_speakers_differ(trees):
    root, _ = trees[1]
    clips = [read_wav(p) for p in sorted((root / "yes").glob("*.wav"))]
    assert len({c.tobytes() for c in clips}) == len(clips)


@pytest.mark.parametrize("count", [3, 12, 48])
def test_speaker_ids_split_shares(count):
    chosen = synth.choose_speaker_ids(count, seed=11)
    ids = [sid for sid, _ in chosen]
    assert len(set(ids)) == count and all(len(s) == 8 and int(s, 16) >= 0 for s in ids)
    splits = collections.Counter(split for _, split in chosen)
    assert splits["validation"] == max(1, round(0.1 * count)) == splits["test"]
    assert all(which_set(f"{sid}_nohash_0.wav") == split for sid, split in chosen)
    assert synth.choose_speaker_ids(count, seed=11) == chosen
    assert synth.choose_speaker_ids(count, seed=12) != chosen
    with pytest.raises(UserError):
        synth.choose_speaker_ids(2, seed=1)


def test_background_noise_colours():
    n = 16000 * 2
    spectra = {}
    for kind in ("white", "pink", "brown"):
        x = synth.background_noise(kind, 2, seed=1, index=0).astype(float)
        p = np.abs(np.fft.rfft(x)) ** 2
        f = np.fft.rfftfreq(n, 1 / 16000)
        spectra[kind] = p[(f > 100) & (f < 500)].mean() / p[(f > 4000) & (f < 6000)].mean()
    assert spectra["white"] < 2 < 10 < spectra["pink"] < spectra["brown"]


def test_missing_engine_is_a_user_error_naming_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr(voices.shutil, "which", lambda name: None if name == "festival" else "/usr/bin/" + name)
    voices.engine_version.cache_clear()
    try:
        with pytest.raises(UserError, match="apt-get install festival festvox-kallpc16k"):
            synth.generate(tmp_path, WORDS, {**TINY, "families": {"festival": 1}}, seed=1)
    finally:
        voices.engine_version.cache_clear()


def test_two_families_speak(trees):
    _, info = trees[1]
    assert {sp["family"] for sp in info["speakers"]} == {"espeak-ng", "flite"}
    assert set(info["engine_versions"]) == {"espeak-ng", "flite"}
    assert all((sp["voice"], sp["variant"]) in voices.VOICES[sp["family"]] for sp in info["speakers"])
    assert len(info["clips"]) == 4 * 3 * 2 and info["rejected"] == []
    assert all(10 <= c["snr_db"] <= 30 and -45 < c["level_dbfs"] < -5 for c in info["clips"])


def test_families_are_shared_out_within_each_split():
    speakers = synth.make_speakers(80, seed=5, families={"espeak-ng": 2, "flite": 1, "festival": 1})
    per_split = collections.Counter((sp.split, sp.family) for sp in speakers)
    assert per_split[("train", "espeak-ng")] == 32 and per_split[("train", "flite")] == 16
    assert per_split[("test", "espeak-ng")] == 4 and per_split[("test", "festival")] == 2
    assert synth.family_schedule({"flite": 1.0}, 3) == ["flite"] * 3
    with pytest.raises(UserError, match="unknown voice family mbrola"):
        synth.make_speakers(10, seed=5, families={"mbrola": 1})
    with pytest.raises(UserError, match="above 0"):
        synth.make_speakers(10, seed=5, families={"flite": 0})


@pytest.mark.parametrize("speech, reason", [
    (None, "no audio"),
    ((np.zeros(100), 16000), "empty"),
    ((np.zeros(16000), 16000), "silent"),
    ((np.r_[np.ones(100), np.zeros(15900)] * 32767 / 32768, 16000), "clipped"),
])
def test_unusable_engine_output_is_named(speech, reason):
    assert reason in synth.tts_problem(speech)


def test_rejected_utterances_are_recorded_and_not_written(tmp_path, monkeypatch):
    real = synth.synthesise

    def silent_no(family, voice, variant, utterances):
        out = real(family, voice, variant, utterances)
        return [(np.zeros(8000), 16000) if text == "no" else o for (text, _), o in zip(utterances, out)]

    monkeypatch.setattr(synth, "synthesise", silent_no)
    info = synth.generate(tmp_path, WORDS, {**TINY, "takes_per_word": 1, "workers": 1}, seed=3)
    assert {r["path"].split("/")[0] for r in info["rejected"]} == {"no"} and len(info["rejected"]) == 4
    assert all("silent" in r["reason"] and r["split"] in ("train", "validation", "test") for r in info["rejected"])
    assert not list((tmp_path / "no").glob("*.wav"))
    listed = read_list(tmp_path / "validation_list.txt") + read_list(tmp_path / "testing_list.txt")
    assert listed and not any(p.startswith("no/") for p in listed)


def test_unknown_words_subset_per_speaker():
    speakers = synth.make_speakers(30, seed=2, families={"espeak-ng": 1})
    words = ["zero", "one"]
    said = [synth.speaker_words(sp, words, list(synth.GSC_V2_OTHER_WORDS), 5, seed=2) for sp in speakers]
    assert all(w[:2] == words and len(w) == 7 and not set(w[2:]) & set(words) for w in said)
    assert len({tuple(w) for w in said}) > 20  # different subsets per speaker
    assert len({x for w in said for x in w[2:]}) == 23  # together they cover every other word
    assert synth.speaker_words(speakers[0], words, ["cat", "one"], None, seed=2) == ["zero", "one", "cat"]
    assert len(synth.GSC_V2_OTHER_WORDS) == 25


def test_digits_task(tmp_path):
    digits = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
    info = synth.generate(tmp_path, digits, {"speakers": 3, "unknown_words": ["bed", "one"],
                                             "unknown_words_per_speaker": 1, "background_noise_files": 1,
                                             "background_noise_seconds": 1.5, "families": {"espeak-ng": 1}, "workers": 1},
                         seed=4)
    entries = list_dataset(tmp_path, required_words=digits)
    assert collections.Counter(e.word for e in entries) == {**{d: 3 for d in digits}, "bed": 3}
    assert info["words"] == [*digits, "bed"]


def test_mic_tilt_slope():
    x = np.random.default_rng(0).standard_normal(16000)
    y = synth.mic_tilt(x, -6.0)
    f = np.fft.rfftfreq(16000, 1 / 16000)
    gain = np.abs(np.fft.rfft(y)) / np.abs(np.fft.rfft(x))
    assert gain[f == 1000][0] == pytest.approx(1.0)
    assert 20 * np.log10(gain[f == 4000][0]) == pytest.approx(-12.0, abs=1e-6)
    assert 20 * np.log10(gain[f == 250][0]) == pytest.approx(12.0, abs=1e-6)
