"""Training-time audio augmentation after Numenta's GSC recipe, made once per dataset and front end.

Each train clip goes through, with draws from a generator seeded per (seed, copy):

- **amplitude**: times a gain drawn from ``amplitude`` (Numenta: 0.7-1.1);
- **speed**: resampled to ``1 +- speed`` of its rate, which changes tempo and pitch together;
- **stretch**: time-stretched by ``1 +- stretch`` with a phase vocoder (tempo only); with the
  speed change this varies pitch and tempo independently;
- the result is cut or zero-padded at its end to 1 s;
- **time shift**: moved by a whole number of samples within ``+-shift_ms``, zero-filled;
- **background noise**: with probability ``background_probability`` a random 1 s window of a
  random ``_background_noise_`` file is added, scaled by a volume drawn from
  ``background_volume`` (relative to full scale); the sum is clipped to [-1, 1].

``augmented_copies`` makes ``copies`` augmented versions of the whole train split and quantises
their features on the features file's int8 grid (``<frontend>_augmented.npz``, rule
``augment``); training epoch ``e`` uses copy ``(e - 1) % copies``, so every model trained on the
dataset sees the same augmented data, and a resumed run sees what it would have seen. Evaluation
never sees augmentation: validation and test features are the precomputed clean ones.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from pathlib import Path

import numpy as np
import scipy.fft
from tqdm import tqdm

from sparsekws.core.errors import UserError
from sparsekws.core.files import read_npz
from sparsekws.data.synth import derive_seed
from sparsekws.data.wav import SAMPLE_RATE
from sparsekws.features.frontends import float32_audio, quantize

DEFAULTS = {"enabled": True, "copies": 8, "amplitude": [0.7, 1.1], "speed": 0.2, "stretch": 0.2,
            "shift_ms": 100.0, "background_probability": 0.8, "background_volume": [0.0, 0.1]}
STFT_SIZE, STFT_HOP = 512, 128


def checked_settings(cfg: dict | None) -> dict:
    """The ``augment`` section with defaults filled in, checked for ranges the schema cannot express."""
    cfg = {**DEFAULTS, **(cfg or {})}
    for key in ("amplitude", "background_volume"):
        low, high = cfg[key]
        if not 0 <= low <= high:
            raise UserError(f"augment.{key} must be [low, high] with 0 <= low <= high, got {[low, high]}")
    for key in ("speed", "stretch"):
        if not 0 <= cfg[key] < 1:
            raise UserError(f"augment.{key} must be in [0, 1), got {cfg[key]}")
    return cfg


def copy_rng(seed: int, copy: int) -> np.random.Generator:
    """The generator of one augmented copy of the train split."""
    return np.random.default_rng(derive_seed(seed, "augment", copy))


def change_speed(x: np.ndarray, factor: float) -> np.ndarray:
    """``x`` played ``factor`` times faster (linear interpolation): shorter and higher for factor > 1."""
    n = max(1, int(round(len(x) / factor)))
    return np.interp(np.arange(n) * factor, np.arange(len(x)), x).astype(np.float32)


def time_stretch(x: np.ndarray, rate: float) -> np.ndarray:
    """``x`` made ``rate`` times faster without changing its pitch (phase vocoder)."""
    if rate == 1.0 or len(x) < STFT_SIZE + STFT_HOP:
        return x.astype(np.float32)
    window = np.hanning(STFT_SIZE).astype(np.float32)
    frames = np.lib.stride_tricks.sliding_window_view(x.astype(np.float32), STFT_SIZE)[::STFT_HOP] * window
    spectrum = scipy.fft.rfft(frames, axis=1)
    magnitude, angle = np.abs(spectrum), np.angle(spectrum)
    steps = np.arange(0, len(spectrum) - 1, rate)
    k = steps.astype(np.int64)
    frac = (steps - k).astype(np.float32)[:, None]
    # the phase advances by each source frame's measured frequency, accumulated over the output frames
    expected = (2 * np.pi * STFT_HOP / STFT_SIZE * np.arange(spectrum.shape[1])).astype(np.float32)
    advance = np.diff(angle, axis=0) - expected
    advance = expected + (advance + np.float32(np.pi)) % np.float32(2 * np.pi) - np.float32(np.pi)
    phase = np.empty((len(k), len(expected)), dtype=np.float32)
    phase[0] = angle[0]
    np.cumsum(advance[k[:-1]], axis=0, out=phase[1:])
    phase[1:] += angle[0]
    stretched = (1 - frac) * magnitude[k] + frac * magnitude[k + 1]
    out_frames = scipy.fft.irfft(stretched * np.cos(phase) + 1j * (stretched * np.sin(phase)), STFT_SIZE, axis=1)
    return _overlap_add(out_frames * window, window)


def _overlap_add(frames: np.ndarray, window: np.ndarray) -> np.ndarray:
    """Overlap-add frames at ``STFT_HOP``, normalised by the summed squared window."""
    parts = STFT_SIZE // STFT_HOP
    n = len(frames) + parts - 1
    y = np.zeros((n, STFT_HOP))
    norm = np.zeros((n, STFT_HOP))
    chunks = frames.reshape(len(frames), parts, STFT_HOP)
    window_chunks = (window**2).reshape(parts, STFT_HOP)
    for p in range(parts):
        y[p: p + len(frames)] += chunks[:, p]
        norm[p: p + len(frames)] += window_chunks[p]
    return (y.ravel() / np.maximum(norm.ravel(), 1e-3)).astype(np.float32)


def fix_length(x: np.ndarray, n: int) -> np.ndarray:
    """``x`` cut or zero-padded at its end to ``n`` samples."""
    return x[:n] if len(x) >= n else np.pad(x, (0, n - len(x)))


def time_shift(audio: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift every clip of ``[N, samples]`` by its own draw from ``[-max_shift, max_shift]``, zero-filled."""
    audio = np.asarray(audio)
    n, length = audio.shape
    shifts = rng.integers(-max_shift, max_shift + 1, size=n) if max_shift > 0 else np.zeros(n, dtype=np.int64)
    source = np.arange(length)[None, :] - shifts[:, None]
    inside = (source >= 0) & (source < length)
    shifted = np.take_along_axis(audio, np.clip(source, 0, length - 1), axis=1)
    return np.where(inside, shifted, np.zeros((), dtype=audio.dtype))


def mix_background(audio: np.ndarray, noise: list[np.ndarray], rng: np.random.Generator, probability: float,
                   volume: tuple[float, float]) -> np.ndarray:
    """Add a random window of a random noise file to each float clip with ``probability``; clip to [-1, 1]."""
    audio = float32_audio(audio)
    n, length = audio.shape
    if not noise:
        raise UserError("background-noise augmentation needs at least one _background_noise_ file")
    short = [i for i, x in enumerate(noise) if len(x) < length]
    if short:
        raise UserError(f"background-noise file(s) number {short} are shorter than one clip ({length} samples)")
    use = rng.uniform(size=n) < probability
    which = rng.integers(len(noise), size=n)
    where = rng.uniform(size=n)
    gain = rng.uniform(volume[0], volume[1], size=n)
    out = audio.copy()
    for i in np.flatnonzero(use):
        source = noise[which[i]]
        start = int(where[i] * (len(source) - length + 1))
        out[i] += gain[i] * float32_audio(source[start: start + length])
    return np.clip(out, -1.0, 1.0)


def augment_audio(audio: np.ndarray, noise: list[np.ndarray], rng: np.random.Generator, cfg: dict,
                  sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The whole recipe on ``[N, samples]`` int16/float audio -> float32 in [-1, 1]; ``cfg`` is the
    config's ``augment`` section."""
    cfg = checked_settings(cfg)
    audio = float32_audio(audio)
    n, length = audio.shape
    gains = rng.uniform(*cfg["amplitude"], size=n)
    speeds = rng.uniform(1 - cfg["speed"], 1 + cfg["speed"], size=n)
    stretches = rng.uniform(1 - cfg["stretch"], 1 + cfg["stretch"], size=n)
    out = np.stack([fix_length(time_stretch(change_speed(clip * gain, speed), stretch), length)
                    for clip, gain, speed, stretch in zip(audio, gains, speeds, stretches)])
    out = time_shift(out, int(round(cfg["shift_ms"] * sample_rate / 1000)), rng)
    return mix_background(out, noise, rng, cfg["background_probability"], tuple(cfg["background_volume"]))


def augmented_copy(audio: np.ndarray, noise: list[np.ndarray], cfg: dict, seed: int, frontend, scale: float,
                   copy: int, batch: int = 256) -> np.ndarray:
    """int8 features of augmented copy ``copy`` of the train ``audio`` (drawn from ``copy_rng``)."""
    rng = copy_rng(seed, copy)
    return np.concatenate([quantize(frontend(augment_audio(audio[i:i + batch], noise, rng, cfg)), np.float32(scale))
                           for i in range(0, len(audio), batch)])


_SHARED: tuple = ()  # the arguments of augmented_copy for forked workers (no pickling of audio or front end)


def _copy_in_worker(copy: int) -> np.ndarray:
    return augmented_copy(*_SHARED, copy)


def augmented_copies(audio: np.ndarray, noise: list[np.ndarray], cfg: dict, seed: int, frontend, scale: float,
                     workers: int = 1) -> np.ndarray:
    """int8 features ``[copies, N, ...]`` of ``cfg['copies']`` augmented versions of the train
    ``audio``, on the features file's quantisation ``scale``; copies are made by up to ``workers``
    processes, the same arrays for any number (each copy draws from its own ``copy_rng``)."""
    global _SHARED
    cfg = checked_settings(cfg)
    _SHARED = (audio, noise, cfg, seed, frontend, scale)
    try:
        with _copy_mapper(max(1, min(workers, cfg["copies"]))) as mapper:
            copies = list(tqdm(mapper(_copy_in_worker, range(cfg["copies"])), total=cfg["copies"],
                               desc="augment", unit="copy"))
    finally:
        _SHARED = ()
    return np.stack(copies)


@contextlib.contextmanager
def _copy_mapper(workers: int):
    """``map`` in this process for one worker, else the ordered ``imap`` of forked processes."""
    if workers == 1:
        yield map
        return
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        yield pool.imap


def load_augmented(path: str | Path, labels: np.ndarray, files: list[str] | None = None) -> np.ndarray:
    """The augmented copies ``[copies, N, ...]`` of ``<frontend>_augmented.npz``, checked to hold the
    train split of the features file (``labels``, and ``files`` where both record them)."""
    saved = read_npz(path, ("x", "y"), "augmented features file")
    same = np.array_equal(saved["y"], labels) and saved["x"].ndim >= 3 and saved["x"].shape[1] == len(labels)
    if same and files is not None and "files" in saved:
        same = [str(f) for f in saved["files"]] == list(files)
    if not same:
        raise UserError(f"{path} does not hold the train split of the features file (rebuild both: "
                        "snakemake --cores all -R features augment)")
    return saved["x"]
