"""Offline stand-in for Google Speech Commands: spoken words from two offline TTS engines.

Clean text-to-speech is far too easy a task, so every clip passes through a simulated
recording chain, all in numpy/scipy with a generator seeded per clip:

- a *speaker* uses one engine (espeak-ng for most, flite for a share ``flite_share``): an
  espeak-ng voice + variant, or a flite voice, with its pitch, rate and amplitude, a
  vocal-tract warp (resampling factor), a room (reverb time and mix), a microphone
  (band-pass corners and a spectral tilt in dB/octave) and a recording level; each take
  jitters pitch, rate and level a little;
- the word is resampled to 16 kHz, trimmed, reverberated, placed at a random offset in a
  1 s clip (the time shift), mixed with coloured room noise at an SNR drawn from ``snr_db``,
  filtered by the microphone and scaled to the speaker's level.

Every speaker says every task word; of the ``unknown_words`` each speaker says a seeded
subset of ``unknown_words_per_speaker`` (all when null), which keeps the build fast while
every unknown word still comes from many speakers.

The output is the exact GSC on-disk layout: ``<word>/<speakerid>_nohash_<take>.wav``
(1 s, 16 kHz, mono, int16), ``_background_noise_/*.wav`` and the ``validation_list.txt`` /
``testing_list.txt`` files computed with GSC's ``which_set`` rule. Speaker ids are 8 hex
digits drawn from a seeded hash sequence and accepted only while their split has room, so
the splits hold about 80/10/10 % of the speakers (at least one in validation and test).

Determinism: every random choice comes from a seed derived from (seed, speaker, word, take)
or (seed, noise file), never from worker order, so the same seed gives byte-identical files
for any number of workers.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import multiprocessing
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np
from scipy import signal
from tqdm import tqdm

from sparsekws.data.gsc import TESTING_LIST, VALIDATION_LIST, which_set
from sparsekws.data.labels import BACKGROUND_NOISE_DIR
from sparsekws.data.wav import SAMPLE_RATE, write_wav
from sparsekws.core.errors import UserError
from sparsekws.core.files import write_text

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
FLITE = "flite"
# flite's built-in general-domain voices (awb_time only speaks times; kal is an 8 kHz diphone voice).
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
# espeak-ng's own English voices (no MBROLA needed) and natural-sounding variants; a speaker
# is one (voice, variant) pair. Fixed lists keep the output independent of what else is installed.
VOICES = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029", "en-us-nyc")
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
            "klatt", "klatt2", "klatt3", "Andy", "Annie", "david", "linda", "robert")
NOISE_KINDS = ("white", "pink", "brown", "hum")
CLIP_SECONDS = 1.0
# The 25 words of GSC v0.02 that are not among its 10 command words.
GSC_V2_OTHER_WORDS = ("backward", "bed", "bird", "cat", "dog", "eight", "five", "follow", "forward", "four",
                      "happy", "house", "learn", "marvin", "nine", "one", "seven", "sheila", "six", "three",
                      "tree", "two", "visual", "wow", "zero")
DEFAULTS = {"speakers": 48, "takes_per_word": 1, "unknown_words": list(GSC_V2_OTHER_WORDS),
            "unknown_words_per_speaker": None, "flite_share": 0.25,
            "background_noise_files": 4, "background_noise_seconds": 30, "snr_db": [8, 40], "workers": 2}


def derive_seed(*parts) -> int:
    """A 64-bit seed from any printable parts (stable across runs and platforms)."""
    digest = hashlib.sha256(":".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "little")


def rng_for(*parts) -> np.random.Generator:
    return np.random.default_rng(derive_seed(*parts))


@dataclasses.dataclass(frozen=True)
class Speaker:
    """Everything fixed about one synthetic speaker (recorded in dataset_info.json)."""

    id: str
    split: str
    engine: str         # espeak-ng or flite
    voice: str
    variant: str        # espeak-ng voice variant ("" for flite)
    pitch: int          # espeak-ng -p, 0..99 (flite: mean f0 = 60 + 2 * pitch Hz)
    speed: int          # espeak-ng -s, words per minute (flite: duration stretch 160 / speed)
    amplitude: int      # espeak-ng -a, 0..200
    warp: float         # resampling factor: >1 raises formants and pitch and shortens the word
    rt60_s: float       # reverb decay time of the speaker's room
    reverb_mix: float   # wet/dry ratio of the reverb
    low_hz: float       # microphone band-pass corners
    high_hz: float
    mic_tilt_db: float  # microphone spectral tilt in dB per octave (around 1 kHz)
    level_dbfs: float   # speech RMS level in dB relative to full scale
    noise_tilt: float   # room-noise spectral slope: 0 white, 1 pink, 2 brown


def choose_speaker_ids(count: int, seed: int) -> list[tuple[str, str]]:
    """``count`` (speaker id, split) pairs with about 80/10/10 % per split (>= 1 in validation and test)."""
    if count < 3:
        raise UserError(f"dataset.synthetic.speakers must be at least 3 (one per split), not {count}")
    quota = {"validation": max(1, round(0.1 * count)), "test": max(1, round(0.1 * count))}
    quota["train"] = count - quota["validation"] - quota["test"]
    chosen: list[tuple[str, str]] = []
    seen: set[str] = set()
    for k in itertools.count():
        if len(chosen) == count:
            break
        sid = hashlib.sha256(f"{seed}:speaker:{k}".encode()).hexdigest()[:8]
        split = which_set(f"{sid}_nohash_0.wav")
        if sid in seen or quota[split] == 0:
            continue
        seen.add(sid)
        quota[split] -= 1
        chosen.append((sid, split))
    return chosen


def make_speakers(count: int, seed: int, flite_share: float = 0.0) -> list[Speaker]:
    """The deterministic speaker set of a seed; about ``flite_share`` of them speak with flite."""
    combos = list(itertools.product(VOICES, VARIANTS))
    rng_for(seed, "voices").shuffle(combos)
    speakers = []
    n_espeak = n_flite = 0
    for sid, split in choose_speaker_ids(count, seed):
        r = rng_for(seed, "speaker", sid)
        if r.uniform() < flite_share:
            engine, voice, variant = FLITE, FLITE_VOICES[n_flite % len(FLITE_VOICES)], ""
            n_flite += 1
        else:
            engine, (voice, variant) = ESPEAK, combos[n_espeak % len(combos)]
            n_espeak += 1
        speakers.append(Speaker(
            id=sid, split=split, engine=engine, voice=voice, variant=variant,
            pitch=int(r.integers(15, 86)), speed=int(r.integers(120, 200)), amplitude=int(r.integers(70, 171)),
            warp=round(float(r.uniform(0.88, 1.12)), 4),
            rt60_s=round(float(r.uniform(0.05, 0.5)), 4), reverb_mix=round(float(r.uniform(0.0, 0.4)), 4),
            low_hz=round(float(r.uniform(60, 350)), 1), high_hz=round(float(r.uniform(3400, 7600)), 1),
            mic_tilt_db=round(float(r.uniform(-4.0, 3.0)), 2),
            level_dbfs=round(float(r.uniform(-34, -14)), 2), noise_tilt=round(float(r.uniform(0, 2)), 3)))
    return speakers


# --------------------------------------------------------------------------- signal helpers


def coloured_noise(rng: np.random.Generator, n: int, tilt: float) -> np.ndarray:
    """Unit-RMS noise with power spectrum ~ 1/f**tilt (0 white, 1 pink, 2 brown)."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n, 1 / SAMPLE_RATE)
    f[0] = f[1]
    spectrum *= f ** (-tilt / 2)
    spectrum[0] = 0
    x = np.fft.irfft(spectrum, n)
    return x / (np.sqrt(np.mean(x**2)) + 1e-12)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if len(x) else 0.0


def _trim(x: np.ndarray, rel_threshold: float = 0.02) -> np.ndarray:
    """Cut the leading and trailing silence espeak-ng adds (below 2 % of the peak)."""
    above = np.flatnonzero(np.abs(x) > rel_threshold * (np.max(np.abs(x)) + 1e-12))
    if len(above) == 0:
        return x
    return x[max(0, above[0] - 160): above[-1] + 160]


def _room_impulse(rng: np.random.Generator, rt60_s: float) -> np.ndarray:
    n = max(16, int(rt60_s * SAMPLE_RATE))
    t = np.arange(n) / SAMPLE_RATE
    ir = rng.standard_normal(n) * np.exp(-6.91 * t / rt60_s)  # -60 dB at rt60
    return ir / np.sqrt(np.sum(ir**2))


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)


def _run_tts(tool: str, command) -> tuple[np.ndarray, int]:
    """Run a text-to-speech ``command(wav_path) -> argv`` that writes a WAV file; returns float
    samples in [-1, 1] and the tool's sample rate."""
    fd, name = tempfile.mkstemp(prefix=f"sparsekws-{tool}-", suffix=".wav")
    os.close(fd)
    try:
        cmd = command(name)
        done = subprocess.run(cmd, capture_output=True, text=True)
        if done.returncode != 0:
            raise UserError(f"{tool} failed ({' '.join(cmd)}): {done.stderr.strip()}")
        with wave.open(name, "rb") as w:
            rate, data = w.getframerate(), w.readframes(w.getnframes())
    finally:
        os.unlink(name)
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0, rate


def run_espeak(text: str, voice: str, variant: str, pitch: int, speed: int, amplitude: int) -> tuple[np.ndarray, int]:
    """Synthesise ``text`` with espeak-ng; float samples in [-1, 1] and its sample rate."""
    return _run_tts("espeak-ng", lambda wav: [ESPEAK, "-w", wav, "-v", f"{voice}+{variant}", "-p", str(pitch),
                                              "-s", str(speed), "-a", str(amplitude), text])


def run_flite(text: str, voice: str, pitch: int, speed: int) -> tuple[np.ndarray, int]:
    """Synthesise ``text`` with flite (deterministic for equal arguments); float samples and rate."""
    return _run_tts("flite", lambda wav: [FLITE, "-voice", voice, "--setf", f"int_f0_target_mean={60 + 2 * pitch}",
                                          "--setf", f"duration_stretch={160 / speed:.4f}", "-t", text, "-o", wav])


def mic_tilt(x: np.ndarray, db_per_octave: float) -> np.ndarray:
    """Apply a spectral tilt of ``db_per_octave`` around 1 kHz (flat below 100 Hz)."""
    spectrum = np.fft.rfft(x)
    f = np.maximum(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE), 100.0)
    spectrum *= 10 ** (db_per_octave * np.log2(f / 1000.0) / 20)
    return np.fft.irfft(spectrum, len(x))


@dataclasses.dataclass(frozen=True)
class ClipTask:
    out_dir: str
    speaker: Speaker
    word: str
    take: int
    seed: int
    snr_db: tuple[float, float]

    @property
    def relpath(self) -> str:
        return f"{self.word}/{self.speaker.id}_nohash_{self.take}.wav"


def render_clip(task: ClipTask) -> np.ndarray:
    """The int16 1 s clip of one (speaker, word, take), from the task's own seed only."""
    s = task.speaker
    rng = np.random.default_rng(derive_seed(task.seed, s.id, task.word, task.take))
    pitch = int(np.clip(s.pitch + rng.integers(-6, 7), 0, 99))
    speed = int(np.clip(s.speed + rng.integers(-12, 13), 80, 450))
    if s.engine == FLITE:
        speech, rate = run_flite(task.word, s.voice, pitch, speed)
    else:
        speech, rate = run_espeak(task.word, s.voice, s.variant, pitch, speed, s.amplitude)
    # resample to 16 kHz; the warp factor changes pitch, formants and duration together
    up = SAMPLE_RATE // 100
    down = max(1, int(round(rate / 100 * s.warp)))
    speech = _trim(signal.resample_poly(speech, up, down))
    n = int(CLIP_SECONDS * SAMPLE_RATE)
    room = rng_for(task.seed, "room", s.id)  # same room for every clip of a speaker
    ir = _room_impulse(room, s.rt60_s)
    wet = signal.fftconvolve(speech, ir)[: len(speech) + len(ir) // 4]
    dry = np.concatenate([speech, np.zeros(len(wet) - len(speech))])
    speech = (1 - s.reverb_mix) * dry + s.reverb_mix * wet
    speech = speech[:n]
    clip = np.zeros(n)
    offset = int(rng.integers(0, n - len(speech) + 1))
    clip[offset: offset + len(speech)] = speech
    speech_rms = _rms(speech[np.abs(speech) > 0.05 * np.max(np.abs(speech))]) or _rms(speech)
    snr = float(rng.uniform(*task.snr_db))
    tilt = float(np.clip(s.noise_tilt + rng.normal(0, 0.2), 0, 2))
    clip += coloured_noise(rng, n, tilt) * speech_rms / 10 ** (snr / 20)
    sos = signal.butter(4, [s.low_hz, min(s.high_hz, 0.45 * SAMPLE_RATE)], btype="bandpass", fs=SAMPLE_RATE,
                        output="sos")
    clip = mic_tilt(signal.sosfilt(sos, clip), s.mic_tilt_db)
    level = s.level_dbfs + rng.uniform(-4, 4)
    active = clip[offset: offset + len(speech)]
    gain = 10 ** (level / 20) / (_rms(active) + 1e-12)
    gain = min(gain, 0.9 / (np.max(np.abs(clip)) + 1e-12))  # a recordist avoids clipping
    return _to_int16(clip * gain)


def _write_clip(task: ClipTask) -> str:
    write_wav(Path(task.out_dir) / task.relpath, render_clip(task))
    return task.relpath


def background_noise(kind: str, seconds: float, seed: int, index: int) -> np.ndarray:
    """One background-noise recording: white, pink, brown, or mains hum with noise."""
    rng = rng_for(seed, "noise", index, kind)
    n = int(round(seconds * SAMPLE_RATE))
    if kind == "hum":
        t = np.arange(n) / SAMPLE_RATE
        mains = rng.choice([50.0, 60.0])
        x = sum(rng.uniform(0.3, 1.0) / k * np.sin(2 * np.pi * mains * k * t + rng.uniform(0, 2 * np.pi))
                for k in range(1, 8))
        x = x / _rms(x) + 0.5 * coloured_noise(rng, n, 1.0)
    else:
        x = coloured_noise(rng, n, {"white": 0.0, "pink": 1.0, "brown": 2.0}[kind])
    x *= 10 ** (rng.uniform(-24, -14) / 20) / _rms(x)
    return _to_int16(x)


def noise_file_names(count: int) -> list[tuple[str, str]]:
    """(kind, file name) of the background-noise files: white, pink, brown, hum, white_2, ..."""
    names = []
    for i in range(count):
        kind = NOISE_KINDS[i % len(NOISE_KINDS)]
        round_ = i // len(NOISE_KINDS)
        names.append((kind, f"{kind}_noise{'' if round_ == 0 else f'_{round_ + 1}'}.wav"))
    return names


def espeak_version() -> str:
    if shutil.which(ESPEAK) is None:
        raise UserError("espeak-ng is not installed; the offline synthetic dataset needs it: "
                        "apt-get install espeak-ng (or set dataset.source: gsc)")
    out = subprocess.run([ESPEAK, "--version"], capture_output=True, text=True).stdout.strip()
    return out.split("Data at")[0].strip()


def flite_version() -> str:
    if shutil.which(FLITE) is None:
        raise UserError("flite is not installed; the synthetic dataset uses it for a share of the speakers: "
                        "apt-get install flite (or set dataset.synthetic.flite_share: 0)")
    out = subprocess.run([FLITE, "--version"], capture_output=True, text=True).stdout.strip()
    return out.splitlines()[-1].strip() if out else "unknown"


def speaker_words(speaker: Speaker, words: list[str], unknown_words: list[str], per_speaker: int | None,
                  seed: int) -> list[str]:
    """The words one speaker says: every task word, and a seeded subset of the unknown words."""
    others = [w for w in unknown_words if w not in words]
    if per_speaker is not None and per_speaker < len(others):
        pick = rng_for(seed, "unknown-words", speaker.id).permutation(len(others))[:per_speaker]
        others = [others[i] for i in sorted(pick)]
    return [*words, *others]


def generate(out_dir: str | os.PathLike, words: list[str], synthetic: dict, seed: int) -> dict:
    """Write a synthetic GSC-layout dataset of ``words`` into the existing folder ``out_dir``.

    ``synthetic`` is the config's ``dataset.synthetic`` section (missing keys take the schema
    defaults). Returns the generator parameters and counts for ``dataset_info.json``.
    """
    cfg = {**DEFAULTS, **synthetic}
    versions = {"espeak-ng": espeak_version()}
    if cfg["flite_share"] > 0:
        versions["flite"] = flite_version()
    out_dir = Path(out_dir)
    all_words = list(dict.fromkeys([*words, *cfg["unknown_words"]]))
    speakers = make_speakers(cfg["speakers"], seed, cfg["flite_share"])
    snr = (float(cfg["snr_db"][0]), float(cfg["snr_db"][1]))
    if snr[0] > snr[1]:
        raise UserError(f"dataset.synthetic.snr_db must be [low, high], got {list(snr)}")
    tasks = [ClipTask(str(out_dir), sp, word, take, seed, snr)
             for sp in speakers
             for word in speaker_words(sp, words, cfg["unknown_words"], cfg["unknown_words_per_speaker"], seed)
             for take in range(cfg["takes_per_word"])]
    for word in all_words:
        (out_dir / word).mkdir(parents=True, exist_ok=True)
    workers = max(1, int(cfg["workers"]))
    log.info("synthesising %d clips (%d speakers, %d words, %d take(s)) with %d worker(s)",
             len(tasks), len(speakers), len(all_words), cfg["takes_per_word"], workers)
    bar = tqdm(total=len(tasks), desc="synthesise", unit="clip")
    if workers == 1:
        for task in tasks:
            _write_clip(task)
            bar.update()
    else:
        with multiprocessing.get_context("spawn").Pool(workers) as pool:
            for _ in pool.imap_unordered(_write_clip, tasks, chunksize=8):
                bar.update()
    bar.close()

    noise_dir = out_dir / BACKGROUND_NOISE_DIR
    noise_dir.mkdir(exist_ok=True)
    noise = []
    for i, (kind, name) in enumerate(noise_file_names(cfg["background_noise_files"])):
        write_wav(noise_dir / name, background_noise(kind, cfg["background_noise_seconds"], seed, i))
        noise.append({"file": name, "kind": kind, "seconds": cfg["background_noise_seconds"]})

    lists: dict[str, list[str]] = {"validation": [], "test": []}
    for task in tasks:
        split = which_set(task.relpath)
        assert split == task.speaker.split
        if split in lists:
            lists[split].append(task.relpath)
    write_text(out_dir / VALIDATION_LIST, "".join(f"{p}\n" for p in sorted(lists["validation"])))
    write_text(out_dir / TESTING_LIST, "".join(f"{p}\n" for p in sorted(lists["test"])))
    return {
        "generator": "+".join(versions),
        "engine_versions": versions,
        "parameters": cfg,
        "words": all_words,
        "speakers": [dataclasses.asdict(sp) for sp in speakers],
        "background_noise": noise,
    }
