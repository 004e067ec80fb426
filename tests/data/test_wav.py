import wave

import numpy as np
import pytest

from sparsekws.data.wav import clip_problem, fit_to_length, read_wav, write_wav
from sparsekws.core.errors import UserError


def _write_raw(path, channels=1, width=2, rate=16000, frames=100):
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(b"\x01" * (frames * channels * width))


def test_roundtrip_is_exact(tmp_path):
    x = np.array([0, 1, -1, 32767, -32768, 1234], dtype=np.int16)
    write_wav(tmp_path / "a.wav", x)
    y = read_wav(tmp_path / "a.wav")
    assert y.dtype == np.int16 and np.array_equal(x, y)
    assert [p.name for p in tmp_path.iterdir()] == ["a.wav"]  # no temporary left


@pytest.mark.parametrize("kwargs, problem", [
    ({"width": 1}, "8-bit"),
    ({"channels": 2}, "2 channels"),
    ({"rate": 44100}, "44100 Hz"),
])
def test_rejects_wrong_format(tmp_path, kwargs, problem):
    path = tmp_path / "bad.wav"
    _write_raw(path, **kwargs)
    with pytest.raises(UserError, match=problem) as info:
        read_wav(path)
    assert "bad.wav" in str(info.value)


def test_rejects_corrupt_and_truncated(tmp_path):
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"this is not a riff file at all" * 3)
    with pytest.raises(UserError, match="junk.wav.*not a valid PCM WAV"):
        read_wav(junk)
    good = tmp_path / "cut.wav"
    write_wav(good, np.arange(1000, dtype=np.int16))
    good.write_bytes(good.read_bytes()[:-500])
    with pytest.raises(UserError, match="cut.wav.*truncated"):
        read_wav(good)
    with pytest.raises(UserError, match="not found"):
        read_wav(tmp_path / "missing.wav")


def test_write_rejects_non_int16(tmp_path):
    with pytest.raises(ValueError):
        write_wav(tmp_path / "f.wav", np.zeros(10, dtype=np.float32))


def test_fit_to_length_pads_and_trims():
    short = np.arange(1, 6, dtype=np.int16)
    padded = fit_to_length(short, 8)
    assert padded.dtype == np.int16
    assert padded.tolist() == [1, 2, 3, 4, 5, 0, 0, 0]
    assert fit_to_length(np.arange(20, dtype=np.int16), 8).tolist() == list(range(8))
    exact = np.arange(8, dtype=np.int16)
    out = fit_to_length(exact, 8)
    assert np.array_equal(out, exact) and out is not exact


def test_an_empty_file_says_it_is_empty(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    assert clip_problem(tmp_path / "empty.wav") == "not a valid PCM WAV file (the file is empty)"
