"""The feature front ends, chosen per model (``models.<name>.frontend``), built by ``make_frontend``:

- ``mfcc`` follows FINN's keyword-spotting example: 30 ms Hann windows every 20 ms
  (49 frames per 1 s clip), magnitude spectrum (FFT size the next power of two), 40
  triangular mel filters (HTK mel scale) between 20 and 4000 Hz, natural log, orthonormal
  DCT-II, first 10 coefficients: ``[49, 10]``;
- ``logmel`` follows Numenta's GSC network: 32 Slaney-mel bands of the power spectrum
  (n_fft 2048, hop 512, centred frames), ``power_to_db`` relative to the clip maximum with an
  80 dB floor: ``[32, 32]`` (frames x bands).

Both are vectorised over batches of clips; ``quantize`` maps them to the accelerator's int8
input with one scale from the train split (``features.quantize_percentile`` of the absolute
values / 127, values beyond clipped): real feature = int8 * scale.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import scipy.fft
from scipy import signal

from sparsekws.core.errors import UserError
from sparsekws.data.wav import CLIP_SAMPLES, SAMPLE_RATE


# --------------------------------------------------------------------------- MFCC


def _matmul_last(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``x @ matrix`` over the last axis as one 2-D product (much faster than batched matmul)."""
    return (x.reshape(-1, x.shape[-1]) @ matrix).reshape(*x.shape[:-1], matrix.shape[1])


def hz_to_mel(f):
    """HTK mel scale."""
    return 1127.0 * np.log1p(np.asarray(f, dtype=np.float64) / 700.0)


def mel_to_hz(m):
    return 700.0 * np.expm1(np.asarray(m, dtype=np.float64) / 1127.0)


def float32_audio(audio: np.ndarray) -> np.ndarray:
    """int16 samples scaled to [-1, 1), or float samples as they are, as float32."""
    audio = np.asarray(audio)
    return audio.astype(np.float32) / 32768.0 if audio.dtype == np.int16 else audio.astype(np.float32)


def mel_filterbank(num_filters: int, n_fft: int, sample_rate: int, low_hz: float, high_hz: float) -> np.ndarray:
    """Triangular filters, shape ``[n_fft // 2 + 1, num_filters]``, peak 1 at each centre.

    Centres are equally spaced on the mel scale; filter ``i`` rises from edge ``i`` to
    centre ``i + 1`` and falls to edge ``i + 2`` (``num_filters + 2`` edges in all).
    """
    if not 0 <= low_hz < high_hz <= sample_rate / 2:
        raise UserError(f"mel filter range {low_hz}-{high_hz} Hz must lie within 0-{sample_rate / 2} Hz")
    edges = mel_to_hz(np.linspace(hz_to_mel(low_hz), hz_to_mel(high_hz), num_filters + 2))
    freqs = np.fft.rfftfreq(n_fft, 1.0 / sample_rate)[:, None]
    lo, centre, hi = edges[None, :-2], edges[None, 1:-1], edges[None, 2:]
    rising = (freqs - lo) / (centre - lo)
    falling = (hi - freqs) / (hi - centre)
    return np.maximum(0.0, np.minimum(rising, falling))


@dataclasses.dataclass
class Mfcc:
    """Vectorised MFCC over a batch of clips (parameters = config ``features.mfcc``)."""

    window_ms: float = 30
    stride_ms: float = 20
    num_filters: int = 40
    num_coefficients: int = 10
    low_hz: float = 20
    high_hz: float = 4000
    sample_rate: int = SAMPLE_RATE
    log_floor: float = 1e-6

    def __post_init__(self):
        self.frame_length = int(round(self.window_ms * self.sample_rate / 1000))
        self.hop = int(round(self.stride_ms * self.sample_rate / 1000))
        self.n_fft = 1 << (self.frame_length - 1).bit_length()
        self.window = signal.get_window("hann", self.frame_length)  # periodic Hann
        self.filterbank = mel_filterbank(self.num_filters, self.n_fft, self.sample_rate, self.low_hz, self.high_hz)
        if self.num_coefficients > self.num_filters:
            raise UserError("features.mfcc.num_coefficients cannot exceed num_filters")

    def num_frames(self, samples: int = CLIP_SAMPLES) -> int:
        return 1 + (samples - self.frame_length) // self.hop

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_frames(), self.num_coefficients)

    def log_mel(self, audio: np.ndarray) -> np.ndarray:
        """``[B, samples]`` int16 or float -> log mel energies ``[B, frames, num_filters]``."""
        x = float32_audio(audio)
        frames = np.lib.stride_tricks.sliding_window_view(x, self.frame_length, axis=-1)[..., :: self.hop, :]
        spectrum = np.abs(scipy.fft.rfft(frames * self.window.astype(np.float32), n=self.n_fft, axis=-1))
        return np.log(_matmul_last(spectrum, self.filterbank.astype(np.float32)) + self.log_floor)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """``[B, samples]`` -> MFCC ``[B, frames, num_coefficients]`` (float32)."""
        coeffs = scipy.fft.dct(self.log_mel(audio), type=2, norm="ortho", axis=-1)
        return coeffs[..., : self.num_coefficients].astype(np.float32)


def slaney_hz_to_mel(f):
    """Slaney's mel scale (librosa's default): linear below 1 kHz, logarithmic above."""
    f = np.asarray(f, dtype=np.float64)
    linear = f / (200.0 / 3)
    logarithmic = 15.0 + np.log(np.maximum(f, 1e-12) / 1000.0) / (np.log(6.4) / 27.0)
    return np.where(f >= 1000.0, logarithmic, linear)


def slaney_mel_to_hz(m):
    m = np.asarray(m, dtype=np.float64)
    return np.where(m >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (m - 15.0)), (200.0 / 3) * m)


def slaney_filterbank(num_bands: int, n_fft: int, sample_rate: int, low_hz: float, high_hz: float) -> np.ndarray:
    """Area-normalised triangular filters on Slaney's mel scale, shape ``[n_fft // 2 + 1, num_bands]``.

    The construction of librosa's ``filters.mel`` (``htk=False, norm="slaney"``), which
    Numenta's GSC preprocessing used: each triangle is scaled by ``2 / bandwidth``.
    """
    if not 0 <= low_hz < high_hz <= sample_rate / 2:
        raise UserError(f"features.logmel: band range {low_hz}-{high_hz} Hz must lie within 0-{sample_rate / 2} Hz")
    edges = slaney_mel_to_hz(np.linspace(slaney_hz_to_mel(low_hz), slaney_hz_to_mel(high_hz), num_bands + 2))
    freqs = np.linspace(0, sample_rate / 2, n_fft // 2 + 1)[:, None]
    widths = np.diff(edges)
    rising = (freqs - edges[None, :-2]) / widths[None, :-1]
    falling = (edges[None, 2:] - freqs) / widths[None, 1:]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return weights * (2.0 / (edges[2:] - edges[:-2]))[None, :]


@dataclasses.dataclass
class LogMel:
    """Vectorised log-mel spectrogram as in Numenta's GSC network (parameters = ``features.logmel``).

    librosa's defaults as Numenta used them: centred frames (input reflect-padded by
    ``n_fft // 2``), periodic Hann window of ``n_fft`` samples every ``hop`` samples (32 frames
    for 1 s at 16 kHz), power spectrum, ``num_bands`` Slaney-mel filters between ``low_hz`` and
    ``high_hz`` (0 means Nyquist), then ``power_to_db``: ``10 log10(max(S, 1e-10))`` relative
    to the clip's maximum (``ref: max``; ``ref: one`` keeps absolute dB), floored ``top_db``
    below the maximum. Output ``[B, frames, num_bands]`` (time first, as for MFCC).
    """

    num_bands: int = 32
    n_fft: int = 2048
    hop: int = 512
    low_hz: float = 0
    high_hz: float = 0
    top_db: float = 80.0
    ref: str = "max"
    sample_rate: int = SAMPLE_RATE

    def __post_init__(self):
        if self.ref not in ("max", "one"):
            raise UserError(f"features.logmel.ref must be 'max' or 'one', not {self.ref!r}")
        high = self.high_hz or self.sample_rate / 2
        self.window = signal.get_window("hann", self.n_fft).astype(np.float32)
        self.filterbank = slaney_filterbank(self.num_bands, self.n_fft, self.sample_rate, self.low_hz,
                                            high).astype(np.float32)

    def num_frames(self, samples: int = CLIP_SAMPLES) -> int:
        return 1 + samples // self.hop

    @property
    def shape(self) -> tuple[int, int]:
        return (self.num_frames(), self.num_bands)

    def power_mel(self, audio: np.ndarray) -> np.ndarray:
        """``[B, samples]`` int16 or float -> mel power ``[B, frames, num_bands]`` (float32)."""
        x = float32_audio(audio)
        pad = self.n_fft // 2
        x = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(pad, pad)], mode="reflect")
        frames = np.lib.stride_tricks.sliding_window_view(x, self.n_fft, axis=-1)[..., :: self.hop, :]
        spectrum = scipy.fft.rfft(frames * self.window, axis=-1)
        power = spectrum.real**2 + spectrum.imag**2
        return _matmul_last(power, self.filterbank)

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        """``[B, samples]`` -> log-mel in dB ``[B, frames, num_bands]`` (float32)."""
        db = 10.0 * np.log10(np.maximum(self.power_mel(audio), 1e-10))
        if self.ref == "max":
            db = db - db.max(axis=(-2, -1), keepdims=True)
        if self.top_db is not None:
            db = np.maximum(db, db.max(axis=(-2, -1), keepdims=True) - self.top_db)
        return db.astype(np.float32)


FRONTENDS = {"mfcc": Mfcc, "logmel": LogMel}


def make_frontend(name: str, features_cfg: dict):
    """The front end ``name`` (``mfcc`` or ``logmel``) with the parameters of ``features_cfg[name]``.

    The result maps audio ``[N, samples]`` (int16, or float in [-1, 1]) to float32 features:
    MFCC ``[N, 49, 10]``, log-mel ``[N, 32, 32]`` (frames x coefficients/bands); its ``shape``
    attribute is the per-clip feature shape. ``features_cfg`` is the config's ``features``
    section (missing parameters take the defaults).
    """
    if name not in FRONTENDS:
        raise UserError(f"unknown frontend {name!r}; known: {', '.join(FRONTENDS)}")
    return FRONTENDS[name](**(features_cfg or {}).get(name, {}))


def quantize_scale(train_features: np.ndarray, percentile: float) -> np.float32:
    """One int8 scale from the train split: the ``percentile`` of |x| maps to 127."""
    if train_features.size == 0:
        raise UserError("the train split is empty; cannot compute the quantisation scale")
    top = float(np.percentile(np.abs(train_features), percentile))
    return np.float32(top / 127.0 if top > 0 else 1.0)


def quantize(features: np.ndarray, scale: np.float32) -> np.ndarray:
    """Float features -> the accelerator's int8 input: ``round(x / scale)`` clipped to [-127, 127]."""
    return np.clip(np.round(features / scale), -127, 127).astype(np.int8)



def frontend_shape(name: str, features_cfg: dict) -> tuple[int, int]:
    """The per-clip feature shape of front end ``name`` under the config's ``features`` section."""
    return make_frontend(name, features_cfg).shape
