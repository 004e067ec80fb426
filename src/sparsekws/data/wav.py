"""Strict WAV input/output for the GSC format: 16 kHz, mono, 16-bit signed PCM.

The rule for input clips (applied by ``clip_problem`` when a dataset is built):

- corrupt or truncated files, sample widths other than 16 bit, more than one channel, other
  sample rates, and empty files are **rejected**: never converted, reported by name in the
  log, listed in ``dataset_info.json`` and counted in the dataset card, and left out of
  every split;
- clips shorter than 1 s (GSC has many) are **padded** with trailing zeros, clips longer
  than 1 s are **cut** at 1 s (``fit_to_length``), as TensorFlow's speech_commands does.
"""

from __future__ import annotations

import os
import wave
from pathlib import Path

import numpy as np

from sparsekws.core.errors import UserError
from sparsekws.core.files import atomic_path

SAMPLE_RATE = 16000
CLIP_SAMPLES = SAMPLE_RATE  # every clip is 1 s


def read_wav(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Read a mono 16-bit PCM WAV file at ``sample_rate`` Hz as a 1-D ``np.int16`` array.

    Raises ``UserError`` for a missing, corrupt or truncated file, a sample width other than
    16 bit, more than one channel, or another sample rate.
    """
    path = Path(path)
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, frames = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            if width != 2:
                raise UserError(f"{path}: {8 * width}-bit samples; expected 16-bit PCM")
            if channels != 1:
                raise UserError(f"{path}: {channels} channels; expected mono")
            if rate != sample_rate:
                raise UserError(f"{path}: sample rate {rate} Hz; expected {sample_rate} Hz")
            data = w.readframes(frames)
    except FileNotFoundError:
        raise UserError(f"{path}: file not found") from None
    except (wave.Error, EOFError) as exc:
        detail = str(exc) or ("the file is empty" if path.stat().st_size == 0 else "the file ends early")
        raise UserError(f"{path}: not a valid PCM WAV file ({detail})") from None
    if len(data) != 2 * frames:
        raise UserError(f"{path}: truncated: header says {frames} samples, file holds {len(data) // 2}")
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def write_wav(path: str | os.PathLike, samples: np.ndarray, sample_rate: int = SAMPLE_RATE) -> None:
    """Write a 1-D int16 array as a mono 16-bit PCM WAV file, atomically."""
    samples = np.asarray(samples)
    if samples.dtype != np.int16 or samples.ndim != 1:
        raise ValueError(f"write_wav needs a 1-D int16 array, got {samples.dtype} with shape {samples.shape}")
    with atomic_path(path, suffix=".wav") as tmp:
        with wave.open(str(tmp), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(sample_rate)
            w.writeframes(samples.astype("<i2").tobytes())


def fit_to_length(samples: np.ndarray, length: int = SAMPLE_RATE) -> np.ndarray:
    """Return exactly ``length`` samples: pad short clips with trailing zeros, cut long ones at the end.

    GSC holds clips shorter than 1 s (the speaker's recording stopped early); TensorFlow's
    speech_commands example pads them with zeros at the end in the same way.
    """
    samples = np.asarray(samples)
    if len(samples) >= length:
        return samples[:length].copy()
    out = np.zeros(length, dtype=samples.dtype)
    out[: len(samples)] = samples
    return out


def clip_problem(path: str | os.PathLike, sample_rate: int = SAMPLE_RATE) -> str | None:
    """Why the clip at ``path`` is rejected (see the module rule), or ``None`` if it is usable."""
    try:
        samples = read_wav(path, sample_rate)
    except UserError as exc:
        return str(exc).split(": ", 1)[-1]
    return "empty (no samples)" if len(samples) == 0 else None
