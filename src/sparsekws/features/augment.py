"""Training-time audio augmentation as in TensorFlow's speech_commands example.

Applied on the fly to each training batch with a seeded generator (config ``augment``):

- **time shift**: each clip moves by a whole number of samples drawn uniformly from
  ``[-shift_ms, +shift_ms]``; the vacated samples are zeros;
- **background noise**: with probability ``background_probability`` a clip gets a random
  1 s window of a random ``_background_noise_`` file added, scaled by a volume drawn
  uniformly from ``background_volume`` (relative to full scale); the sum is clipped to
  [-1, 1].

Evaluation never sees augmentation: only the train split's raw audio is saved for it
(``audio_train.npz`` by the features stage, when ``augment.enabled``), and the validation
and test features are the precomputed, unaugmented ones.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sparsekws.core.errors import UserError
from sparsekws.core.files import read_npz
from sparsekws.data.synth import derive_seed
from sparsekws.data.task import load_audio, task_of
from sparsekws.data.wav import SAMPLE_RATE
from sparsekws.features.frontends import float32_audio, quantize

DEFAULTS = {"enabled": False, "shift_ms": 100.0, "background_probability": 0.8, "background_volume": [0.0, 0.1]}


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The augmentation generator of one epoch (a resumed run gets the same draws)."""
    return np.random.default_rng(derive_seed(seed, "augment", epoch))


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
    """Time shift, then background noise: ``[N, samples]`` int16/float -> float32 in [-1, 1].

    ``cfg`` is the config's ``augment`` section (missing keys take ``DEFAULTS``).
    """
    cfg = {**DEFAULTS, **(cfg or {})}
    low, high = cfg["background_volume"]
    if not 0 <= low <= high:
        raise UserError(f"augment.background_volume must be [low, high] with 0 <= low <= high, got {[low, high]}")
    shifted = time_shift(float32_audio(audio), int(round(cfg["shift_ms"] * sample_rate / 1000)), rng)
    return mix_background(shifted, noise, rng, cfg["background_probability"], (low, high))


def augmented_features(audio_batch: np.ndarray, noise: list[np.ndarray], rng: np.random.Generator, cfg: dict,
                       frontend, scale: float) -> np.ndarray:
    """The int8 features of an augmented training batch, quantised with the stage's ``scale``.

    ``frontend`` comes from ``features.frontends.make_frontend``; ``scale`` is the ``scale``
    stored in the features npz, so augmented and precomputed features share one int8 grid.
    """
    return quantize(frontend(augment_audio(audio_batch, noise, rng, cfg)), np.float32(scale))


def load_train_audio(path: str | Path) -> tuple[np.ndarray, np.ndarray, list[np.ndarray]]:
    """(audio int16 ``[N, 16000]``, labels, background-noise arrays) from ``audio_train.npz``.

    Row ``i`` is the same sample as row ``i`` of ``x_train`` in the features npz.
    """
    saved = read_npz(path, ("audio", "y"), "train audio file")
    noise = [saved[k] for k in sorted((k for k in saved if k.startswith("noise_")), key=lambda k: int(k.split("_")[1]))]
    return saved["audio"], saved["y"], noise


class EpochAugmenter:
    """Fresh augmented train features for each epoch, in the order of ``x_train``.

    Built from ``audio_train.npz``; ``features(seed, epoch)`` draws from
    ``epoch_rng(seed, epoch)``, so a resumed run sees the same augmentation.
    """

    def __init__(self, audio_path: str | Path, labels: np.ndarray, cfg: dict, frontend, scale: float):
        self.audio, audio_labels, self.noise = load_train_audio(audio_path)
        if not np.array_equal(audio_labels, labels):
            raise UserError(f"{audio_path} does not match the features file's train split (rebuild both: "
                            "snakemake --cores all -R features train_audio)")
        self.cfg, self.frontend, self.scale = cfg, frontend, scale

    def features(self, seed: int, epoch: int, batch: int = 512) -> np.ndarray:
        """int8 features of the whole augmented train split for one epoch."""
        rng = epoch_rng(seed, epoch)
        return np.concatenate([augmented_features(self.audio[i:i + batch], self.noise, rng, self.cfg,
                                                  self.frontend, self.scale)
                               for i in range(0, len(self.audio), batch)])


def train_audio_arrays(config: dict, dataset_dir: str | Path) -> dict[str, np.ndarray]:
    """The train split's raw audio in the order of ``x_train``, its labels and the noise files."""
    samples, noise, _ = task_of(config, dataset_dir)
    arrays = {"audio": load_audio(Path(dataset_dir), samples["train"], noise),
              "y": np.array([s.label for s in samples["train"]], dtype=np.int64),
              "files": np.array([s.source for s in samples["train"]], dtype=str)}
    for i, name in enumerate(sorted(noise)):
        arrays[f"noise_{i}"] = noise[name]
    return arrays
