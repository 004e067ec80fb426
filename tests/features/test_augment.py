import numpy as np
import pytest

from sparsekws.core.files import write_npz
from sparsekws.features import augment
from sparsekws.core.errors import UserError
from sparsekws.features.frontends import make_frontend, quantize


def _ramp(n=4, length=16000):
    return np.tile(np.arange(1, length + 1, dtype=np.float32) / length, (n, 1))


def test_time_shift_moves_each_clip_within_bounds():
    audio = _ramp(64)
    shifted = augment.time_shift(audio, 1600, np.random.default_rng(0))
    shifts = []
    for row in shifted:
        nz = np.flatnonzero(row)
        first, last = nz[0], nz[-1]
        shift = first if first > 0 else -(16000 - 1 - last)
        shifts.append(shift)
        src = np.arange(16000) - shift
        inside = (src >= 0) & (src < 16000)
        assert np.array_equal(row[inside], audio[0][src[inside]]) and np.all(row[~inside] == 0)
    assert max(np.abs(shifts)) <= 1600 and len(set(shifts)) > 50
    assert min(shifts) < 0 < max(shifts)
    assert np.array_equal(augment.time_shift(audio, 0, np.random.default_rng(0)), audio)


def test_background_mixing_probability_and_volume():
    n = 400
    noise = [np.full(20000, 16384, dtype=np.int16), np.full(17000, -16384, dtype=np.int16)]
    quiet = np.zeros((n, 16000), dtype=np.float32)
    out = augment.mix_background(quiet, noise, np.random.default_rng(1), 0.5, (0.1, 0.3))
    level = out[:, 0]
    mixed = level != 0
    assert 0.4 < mixed.mean() < 0.6
    assert np.all((np.abs(level[mixed]) >= 0.05 - 1e-6) & (np.abs(level[mixed]) <= 0.15 + 1e-6))  # 0.5 * volume
    assert np.all(out == out[:, :1])  # a constant window stays constant: windows lie inside the files
    loud = augment.mix_background(np.full((8, 16000), 0.99, np.float32), noise, np.random.default_rng(2), 1.0, (1, 1))
    assert loud.max() <= 1.0 and loud.min() >= -1.0
    with pytest.raises(UserError, match="shorter than one clip"):
        augment.mix_background(quiet[:2], [np.zeros(100, np.int16)], np.random.default_rng(0), 1.0, (0, 0.1))


def test_augment_is_seeded_and_off_means_identity():
    audio = (np.random.default_rng(3).standard_normal((16, 16000)) * 3000).astype(np.int16)
    noise = [(np.random.default_rng(4).standard_normal(40000) * 2000).astype(np.int16)]
    cfg = {"shift_ms": 100, "background_probability": 0.8, "background_volume": [0.0, 0.1]}
    a = augment.augment_audio(audio, noise, augment.epoch_rng(7, 0), cfg)
    b = augment.augment_audio(audio, noise, augment.epoch_rng(7, 0), cfg)
    c = augment.augment_audio(audio, noise, augment.epoch_rng(7, 1), cfg)
    assert a.dtype == np.float32 and np.array_equal(a, b) and not np.array_equal(a, c)
    off = {"shift_ms": 0, "background_probability": 0.0, "background_volume": [0.0, 0.0]}
    assert np.array_equal(augment.augment_audio(audio, noise, augment.epoch_rng(7, 0), off), audio / 32768.0)
    with pytest.raises(UserError, match="background_volume"):
        augment.augment_audio(audio, noise, augment.epoch_rng(7, 0), {**cfg, "background_volume": [0.2, 0.1]})


@pytest.mark.parametrize("name, shape", [("mfcc", (49, 10)), ("logmel", (32, 32))])
def test_augmented_features_are_int8_on_the_stage_grid(name, shape):
    audio = (np.random.default_rng(5).standard_normal((6, 16000)) * 3000).astype(np.int16)
    noise = [np.zeros(16000, np.int16)]
    frontend = make_frontend(name, {})
    scale = 0.05
    off = {"shift_ms": 0, "background_probability": 0.0}
    got = augment.augmented_features(audio, noise, np.random.default_rng(0), off, frontend, scale)
    assert got.dtype == np.int8 and got.shape == (6, *shape)
    assert np.array_equal(got, quantize(frontend(audio), np.float32(scale)))  # no augmentation: the stage's features
    on = augment.augmented_features(audio, noise, np.random.default_rng(0), {"shift_ms": 100}, frontend, scale)
    assert not np.array_equal(on, got)


def test_train_audio_file_roundtrip(tmp_path):
    arrays = {"audio": np.ones((3, 16000), np.int16), "y": np.arange(3), "files": np.array(["a", "b", "c"]),
              "noise_0": np.zeros(20000, np.int16), "noise_1": np.ones(30000, np.int16)}
    write_npz(tmp_path / "a.npz", arrays)
    audio, y, noise = augment.load_train_audio(tmp_path / "a.npz")
    assert audio.shape == (3, 16000) and y.tolist() == [0, 1, 2] and [len(x) for x in noise] == [20000, 30000]
