import math

import numpy as np
import pandas as pd
import pytest
import yaml

from sparsekws.features import frontends as features
from sparsekws.features.extract import extract_features
from sparsekws.cli import main
from sparsekws.data import build
from sparsekws.data.wav import fit_to_length, read_wav
from sparsekws.core.errors import UserError
from support import validated

KEYS = {"x_train", "x_validation", "x_test", "y_train", "y_validation", "y_test", "classes", "scale",
        "files_train", "files_validation", "files_test"}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    config = validated({
        "seed": 9,
        "dataset": {"name": "feat", "source": "synthetic",
                    "synthetic": {"speakers": 12, "takes_per_word": 2, "unknown_words": ["cat", "dog"],
                                  "background_noise_files": 2, "background_noise_seconds": 3, "workers": 2}},
        "task": {"words": ["yes", "no"], "unknown_percentage": 25.0, "silence_percentage": 20.0},
        "models": {"m": {"family": "mlp", "frontend": "mfcc", "hidden_units": [8]}},
    })
    root = tmp_path_factory.mktemp("feat")
    build.build_dataset(config, root / "ds")
    arrays, counts = extract_features(config, root / "ds")
    return config, root, arrays, counts


def test_arrays_format(dataset):
    _, _, arrays, _ = dataset
    assert set(arrays) == KEYS
    for split in ("train", "validation", "test"):
        x, y, files = arrays[f"x_{split}"], arrays[f"y_{split}"], arrays[f"files_{split}"]
        assert x.dtype == np.int8 and x.shape[1:] == (49, 10)
        assert y.dtype == np.int64 and len(y) == len(x) == len(files)
        assert files.dtype.kind == "U"
    assert arrays["classes"].tolist() == ["_silence_", "_unknown_", "yes", "no"]
    assert arrays["scale"].dtype == np.float32 and arrays["scale"].shape == () and arrays["scale"] > 0
    assert np.abs(arrays["x_train"].astype(int)).max() == 127
    assert arrays["x_train"].min() >= -127


def test_class_balance(dataset):
    _, _, arrays, counts = dataset
    for split, speakers in (("train", 10), ("validation", 1), ("test", 1)):
        y = arrays[f"y_{split}"]
        n_words = speakers * 2 * 2  # speakers x task words x takes
        assert np.sum(y >= 2) == n_words
        assert np.sum(y == 1) == math.ceil(0.25 * n_words)
        assert np.sum(y == 0) == math.ceil(0.20 * n_words)
        files = arrays[f"files_{split}"]
        assert all(f.startswith(("cat/", "dog/")) for f in files[y == 1])
        assert all(f.startswith("_background_noise_/") and "@" in f for f in files[y == 0])
        assert all(f.split("/")[0] == arrays["classes"][c] for f, c in zip(files[y >= 2], y[y >= 2]))
        table = counts[counts.split == split].set_index("class")["count"]
        assert table.to_dict() == {c: int(np.sum(y == i)) for i, c in enumerate(arrays["classes"])}
    # speakers never cross splits
    spk = {s: {f.split("/")[1].split("_nohash_")[0] for f in arrays[f"files_{s}"] if "@" not in f}
           for s in ("train", "validation", "test")}
    assert not (spk["train"] & spk["validation"]) and not (spk["train"] & spk["test"])


def test_dequantised_features_match_float_mfcc(dataset):
    config, root, arrays, _ = dataset
    mfcc = features.Mfcc(**config["features"]["mfcc"])
    scale = float(arrays["scale"])
    for split in ("train", "test"):
        i = int(np.flatnonzero(arrays[f"y_{split}"] >= 2)[0])
        audio = fit_to_length(read_wav(root / "ds" / arrays[f"files_{split}"][i]))
        ref = mfcc(audio[None])[0]
        inside = np.abs(ref) < 127 * scale
        got = arrays[f"x_{split}"][i].astype(np.float64) * scale
        assert np.all(np.abs(got - ref)[inside] <= scale / 2 + 1e-5)
    # a silence sample is the noise window it names
    j = int(np.flatnonzero(arrays["y_train"] == 0)[0])
    name, start = arrays["files_train"][j].split("@")
    window = read_wav(root / "ds" / name)[int(start): int(start) + 16000]
    assert len(window) == 16000
    ref = mfcc(window[None])[0]
    assert np.allclose(arrays["x_train"][j] * scale, np.clip(ref, -127 * scale, 127 * scale), atol=scale / 2 + 1e-5)


def test_deterministic(dataset):
    config, root, arrays, _ = dataset
    again, _ = extract_features(config, root / "ds")
    assert all(np.array_equal(arrays[k], again[k]) for k in KEYS)


def test_mel_filterbank_matches_independent_construction():
    fb = features.mel_filterbank(40, 512, 16000, 20, 4000)
    assert fb.shape == (257, 40)

    def mel(f):
        return 2595.0 * math.log10(1 + f / 700.0)

    def hz(m):
        return 700.0 * (10 ** (m / 2595.0) - 1)

    lo, hi = mel(20), mel(4000)
    edges = [hz(lo + (hi - lo) * k / 41) for k in range(42)]
    for j in range(40):
        for b in range(257):
            f = b * 16000 / 512
            if edges[j] <= f <= edges[j + 1]:
                want = (f - edges[j]) / (edges[j + 1] - edges[j])
            elif edges[j + 1] < f <= edges[j + 2]:
                want = (edges[j + 2] - f) / (edges[j + 2] - edges[j + 1])
            else:
                want = 0.0
            assert fb[b, j] == pytest.approx(want, abs=2e-3)
    assert np.all(fb[np.fft.rfftfreq(512, 1 / 16000) > 4000] == 0)


@pytest.mark.parametrize("tone_hz", [300.0, 1000.0, 2500.0])
def test_pure_tone_lands_in_its_mel_band(tone_hz):
    mfcc = features.Mfcc()
    t = np.arange(16000) / 16000
    audio = (0.5 * np.sin(2 * np.pi * tone_hz * t) * 32767).astype(np.int16)
    log_mel = mfcc.log_mel(audio[None])[0]
    assert log_mel.shape == (49, 40)
    centres = features.mel_to_hz(np.linspace(features.hz_to_mel(20), features.hz_to_mel(4000), 42))[1:-1]
    expected = int(np.argmin(np.abs(centres - tone_hz)))
    assert np.all(np.argmax(log_mel, axis=1) == expected)
    coeffs = mfcc(audio[None])[0]
    assert coeffs.shape == (49, 10)
    assert np.allclose(coeffs[:, 0], log_mel.sum(axis=1) / np.sqrt(40), rtol=1e-4)


def test_quantize_scale_and_clipping():
    x = np.concatenate([np.linspace(-1, 1, 1001), [50.0]])
    scale = features.quantize_scale(x, 99.0)
    assert scale.dtype == np.float32
    q = features.quantize(x, scale)
    assert q.dtype == np.int8 and q.max() == 127 and q.min() == -127
    assert features.quantize(np.array([0.0]), scale)[0] == 0


def test_cli(dataset, tmp_path):
    config, root, arrays, _ = dataset
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(config))
    out, csv = tmp_path / "f" / "mfcc.npz", tmp_path / "f" / "counts.csv"
    assert main(["features", "--config", str(cfg), "--dataset-dir", str(root / "ds"), "--frontend", "mfcc",
                 "--out", str(out), "--counts", str(csv)]) == 0
    with np.load(out) as saved:
        assert set(saved.files) == KEYS
        assert all(np.array_equal(saved[k], arrays[k]) for k in KEYS)
    table = pd.read_csv(csv)
    assert list(table.columns) == ["split", "class", "count"] and len(table) == 3 * 4
    assert sorted(p.name for p in out.parent.iterdir()) == ["counts.csv", "mfcc.npz"]
    assert main(["features", "--config", str(cfg), "--dataset-dir", str(tmp_path / "none"),
                 "--out", str(out), "--counts", str(csv)]) == 1


def _slaney_mel(f):
    return f / (200 / 3) if f < 1000 else 15 + math.log(f / 1000) / (math.log(6.4) / 27)


def _slaney_hz(m):
    return m * (200 / 3) if m < 15 else 1000 * math.exp((m - 15) * math.log(6.4) / 27)


def test_slaney_filterbank_matches_independent_construction():
    fb = features.slaney_filterbank(32, 2048, 16000, 0, 8000)
    assert fb.shape == (1025, 32)
    edges = [_slaney_hz(_slaney_mel(8000) * k / 33) for k in range(34)]
    for j in range(0, 32, 3):
        for b in range(0, 1025, 7):
            f = b * 8000 / 1024
            lo, c, hi = edges[j], edges[j + 1], edges[j + 2]
            tri = max(0.0, min((f - lo) / (c - lo), (hi - f) / (hi - c)))
            assert fb[b, j] == pytest.approx(tri * 2 / (hi - lo), rel=1e-6, abs=1e-9)
    # Slaney normalisation: every triangle has unit area in Hz (bands wide enough to sample well)
    area = fb.sum(axis=0) * (16000 / 2048)
    assert np.allclose(area[8:], 1.0, rtol=0.02)


def test_logmel_shape_db_range_and_tone_band():
    logmel = features.make_frontend("logmel", {"logmel": {}})
    t = np.arange(16000) / 16000
    tones = np.stack([0.3 * np.sin(2 * np.pi * f * t) for f in (440.0, 3000.0)]).astype(np.float32)
    db = logmel(tones)
    assert db.shape == (2, 32, 32) and db.dtype == np.float32 and logmel.shape == (32, 32)
    assert np.allclose(db.max(axis=(1, 2)), 0.0) and db.min() >= -80.0
    edges = features.slaney_mel_to_hz(np.linspace(0, features.slaney_hz_to_mel(8000), 34))
    for clip, f in zip(db, (440.0, 3000.0)):
        band = int(np.argmax(clip[16]))  # a middle frame
        assert edges[band] <= f <= edges[band + 2]
    # 'one' keeps absolute levels: 20 dB quieter input is 20 dB lower
    absolute = features.make_frontend("logmel", {"logmel": {"ref": "one", "top_db": 200}})
    noise = 0.1 * np.random.default_rng(0).standard_normal((1, 16000)).astype(np.float32)
    loud, quiet = absolute(noise), absolute(noise / 10)
    assert quiet.min() > -90 and np.allclose(loud - quiet, 20.0, atol=1e-2)  # above the -100 dB power floor
    # int16 input is read as samples / 32768
    from_int16 = logmel(np.round(tones * 32767).astype(np.int16))
    assert np.allclose(from_int16[db > -40], db[db > -40], atol=0.01)  # below, int16 rounding noise shows


def test_make_frontend():
    mfcc = features.make_frontend("mfcc", {"mfcc": {"num_coefficients": 13}})
    assert mfcc(np.zeros((3, 16000), np.int16)).shape == (3, 49, 13) and mfcc.shape == (49, 13)
    assert features.make_frontend("mfcc", {})(np.zeros((1, 16000), np.float32)).shape == (1, 49, 10)
    with pytest.raises(UserError, match="unknown frontend 'fbank'"):
        features.make_frontend("fbank", {})


def test_logmel_features(dataset):
    config, root, mfcc_arrays, _ = dataset
    arrays, _ = extract_features(config, root / "ds", "logmel")
    assert arrays["x_train"].shape[1:] == (32, 32) and arrays["x_train"].dtype == np.int8
    assert np.array_equal(arrays["y_test"], mfcc_arrays["y_test"])
