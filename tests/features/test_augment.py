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


OFF = {"amplitude": [1.0, 1.0], "speed": 0.0, "stretch": 0.0, "shift_ms": 0, "background_probability": 0.0,
       "background_volume": [0.0, 0.0]}


def test_augment_is_seeded_and_off_means_identity():
    audio = (np.random.default_rng(3).standard_normal((16, 16000)) * 3000).astype(np.int16)
    noise = [(np.random.default_rng(4).standard_normal(40000) * 2000).astype(np.int16)]
    a = augment.augment_audio(audio, noise, augment.copy_rng(7, 0), {})
    b = augment.augment_audio(audio, noise, augment.copy_rng(7, 0), {})
    c = augment.augment_audio(audio, noise, augment.copy_rng(7, 1), {})
    assert a.dtype == np.float32 and a.shape == audio.shape and np.array_equal(a, b) and not np.array_equal(a, c)
    assert np.allclose(augment.augment_audio(audio, noise, augment.copy_rng(7, 0), OFF), audio / 32768.0, atol=1e-6)
    for key, bad in (("background_volume", [0.2, 0.1]), ("amplitude", [1.1, 0.7]), ("speed", 1.5)):
        with pytest.raises(UserError, match=f"augment.{key}"):
            augment.augment_audio(audio, noise, augment.copy_rng(7, 0), {key: bad})


def _dominant_hz(x):
    return np.fft.rfftfreq(len(x), 1 / 16000)[np.argmax(np.abs(np.fft.rfft(x)))]


@pytest.mark.parametrize("rate", [0.8, 1.25])
def test_time_stretch_keeps_pitch_and_level(rate):
    tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    out = augment.time_stretch(tone, rate)
    assert abs(len(out) - 16000 / rate) <= augment.STFT_SIZE
    middle = out[1000:-1000]
    assert abs(_dominant_hz(middle) - 440) < 2
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(np.sqrt(0.5), rel=0.02)


def test_change_speed_moves_pitch_and_length():
    tone = np.sin(2 * np.pi * 440 * np.arange(16000) / 16000).astype(np.float32)
    fast = augment.change_speed(tone, 1.2)
    assert len(fast) == round(16000 / 1.2) and abs(_dominant_hz(fast) - 528) < 3
    assert np.array_equal(augment.fix_length(fast, 16000)[len(fast):], np.zeros(16000 - len(fast)))
    assert len(augment.fix_length(tone, 8000)) == 8000


@pytest.mark.parametrize("name, shape", [("mfcc", (49, 10)), ("logmel", (32, 32))])
def test_augmented_copies_are_int8_on_the_stage_grid(name, shape):
    audio = (np.random.default_rng(5).standard_normal((6, 16000)) * 3000).astype(np.int16)
    noise = [np.zeros(16000, np.int16)]
    frontend = make_frontend(name, {})
    scale = 0.05
    clean = augment.augmented_copies(audio, noise, {**OFF, "copies": 2}, 1, frontend, scale)
    assert clean.dtype == np.int8 and clean.shape == (2, 6, *shape)
    assert np.abs(clean[0].astype(int) - quantize(frontend(audio), np.float32(scale))).max() <= 1  # no augmentation
    on = augment.augmented_copies(audio, noise, {"copies": 3}, 1, frontend, scale)
    assert on.shape == (3, 6, *shape) and not np.array_equal(on[0], on[1])
    assert np.array_equal(on, augment.augmented_copies(audio, noise, {"copies": 3}, 1, frontend, scale))
    assert np.array_equal(on, augment.augmented_copies(audio, noise, {"copies": 3}, 1, frontend, scale, workers=2))


def test_augmented_file_must_hold_the_train_split(tmp_path):
    x = np.zeros((2, 3, 4), np.int8)
    write_npz(tmp_path / "a.npz", {"x": x, "y": np.arange(3), "files": np.array(["a", "b", "c"])})
    assert augment.load_augmented(tmp_path / "a.npz", np.arange(3), ["a", "b", "c"]).shape == (2, 3, 4)
    for labels, files in ((np.zeros(3, int), None), (np.arange(3), ["a", "b", "d"]), (np.arange(4), None)):
        with pytest.raises(UserError, match="does not hold the train split"):
            augment.load_augmented(tmp_path / "a.npz", labels, files)
