"""Offline stand-in for Google Speech Commands: spoken words from three offline speech synthesisers.

Clean text-to-speech is far too easy a task, so every clip passes through a simulated
recording chain, all in numpy/scipy with a generator seeded per clip:

- a *speaker* belongs to one voice family (``data.voices``: espeak-ng, flite, festival; shares
  ``families``) and speaks with one of its voices, with its own pitch, pitch contour, rate and
  amplitude, a vocal-tract warp (resampling factor), a room (reverb time and mix), a microphone
  (band-pass corners and a spectral tilt in dB/octave) and a recording level; each take
  jitters pitch, rate and level a little;
- the word is resampled to 16 kHz, trimmed, reverberated, placed at a random offset in a
  1 s clip (the time shift), mixed with coloured room noise at an SNR drawn from ``snr_db``,
  filtered by the microphone and scaled to the speaker's level.

What an engine returns is checked first: an empty, silent or clipped utterance is rejected
(recorded with its reason in ``rejected``, never written). Families are shared out within each
split, so every split holds every family in proportion.

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
for any number of workers (with the same engine versions: ``engine_versions`` in the info).
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import logging
import multiprocessing
import os
from pathlib import Path

import numpy as np
from scipy import signal
from tqdm import tqdm

from sparsekws.data.gsc import TESTING_LIST, VALIDATION_LIST, which_set
from sparsekws.data.labels import BACKGROUND_NOISE_DIR
from sparsekws.data.voices import FAMILIES, VOICES, Prosody, engine_version, synthesise
from sparsekws.data.wav import SAMPLE_RATE, write_wav
from sparsekws.core.errors import UserError
from sparsekws.core.files import write_text

log = logging.getLogger(__name__)

NOISE_KINDS = ("white", "pink", "brown", "hum")
CLIP_SECONDS = 1.0
# The 25 words of GSC v0.02 that are not among its 10 command words.
GSC_V2_OTHER_WORDS = ("backward", "bed", "bird", "cat", "dog", "eight", "five", "follow", "forward", "four",
                      "happy", "house", "learn", "marvin", "nine", "one", "seven", "sheila", "six", "three",
                      "tree", "two", "visual", "wow", "zero")
DEFAULTS = {"speakers": 48, "takes_per_word": 1, "unknown_words": list(GSC_V2_OTHER_WORDS),
            "unknown_words_per_speaker": None,
            "families": {"espeak-ng": 0.5, "flite": 0.25, "festival": 0.25},
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
    family: str         # voice family: espeak-ng, flite or festival (data.voices)
    voice: str
    variant: str        # espeak-ng voice variant ("" for the others)
    pitch: int          # 0..99 (voices.Prosody)
    contour: float      # pitch-range factor, 1 = the voice's own
    speed: int          # words per minute
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


def family_schedule(shares: dict[str, float], count: int) -> list[str]:
    """``count`` family names in proportion to ``shares`` (largest deficit first, ties in ``FAMILIES`` order)."""
    total = sum(shares.values())
    if total <= 0:
        raise UserError("dataset.synthetic.families: at least one family needs a share above 0")
    names = [f for f in FAMILIES if shares.get(f, 0) > 0]
    used = dict.fromkeys(names, 0)
    order = []
    for k in range(count):
        family = max(names, key=lambda f: shares[f] / total * (k + 1) - used[f])
        used[family] += 1
        order.append(family)
    return order


def make_speakers(count: int, seed: int, families: dict[str, float]) -> list[Speaker]:
    """The deterministic speaker set of a seed: families shared out by ``families`` within each
    split, each family's voices taken in turn from a seeded order."""
    unknown = sorted(set(families) - set(FAMILIES))
    if unknown:
        raise UserError(f"dataset.synthetic.families: unknown voice family {', '.join(unknown)}; "
                        f"known: {', '.join(FAMILIES)}")
    voices = {f: list(VOICES[f]) for f in FAMILIES}
    for f in FAMILIES:
        rng_for(seed, "voices", f).shuffle(voices[f])
    chosen = choose_speaker_ids(count, seed)
    per_split = {split: family_schedule(families, sum(1 for _, s in chosen if s == split))
                 for split in ("train", "validation", "test")}
    used = dict.fromkeys(FAMILIES, 0)
    speakers = []
    for sid, split in chosen:
        family = per_split[split].pop(0)
        voice, variant = voices[family][used[family] % len(voices[family])]
        used[family] += 1
        r = rng_for(seed, "speaker", sid)
        speakers.append(Speaker(
            id=sid, split=split, family=family, voice=voice, variant=variant,
            pitch=int(r.integers(15, 86)), contour=round(float(r.uniform(0.4, 2.2)), 3),
            speed=int(r.integers(120, 200)), amplitude=int(r.integers(70, 141)),
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


def tts_problem(speech: tuple[np.ndarray, int] | None) -> str | None:
    """Why an engine's raw utterance cannot be used (None, empty, silent or clipped), else None."""
    if speech is None:
        return "the engine wrote no audio"
    samples, rate = speech
    if len(samples) < 0.05 * rate:
        return f"the engine's utterance is empty ({len(samples)} samples)"
    peak = float(np.max(np.abs(samples)))
    if peak < 1e-3:
        return f"the engine's utterance is silent (peak {peak:.1e} of full scale)"
    clipped = float(np.mean(np.abs(samples) >= 32767 / 32768))
    if clipped > 1e-3:
        return f"the engine's utterance is clipped ({100 * clipped:.2f} % of samples at full scale)"
    return None


def mic_tilt(x: np.ndarray, db_per_octave: float) -> np.ndarray:
    """Apply a spectral tilt of ``db_per_octave`` around 1 kHz (flat below 100 Hz)."""
    spectrum = np.fft.rfft(x)
    f = np.maximum(np.fft.rfftfreq(len(x), 1 / SAMPLE_RATE), 100.0)
    spectrum *= 10 ** (db_per_octave * np.log2(f / 1000.0) / 20)
    return np.fft.irfft(spectrum, len(x))


@dataclasses.dataclass(frozen=True)
class SpeakerTask:
    """Every clip of one speaker: ``words`` x ``takes``."""

    out_dir: str
    speaker: Speaker
    words: tuple[str, ...]
    takes: int
    seed: int
    snr_db: tuple[float, float]

    def clips(self) -> list[tuple[str, int]]:
        return [(word, take) for word in self.words for take in range(self.takes)]


def clip_path(speaker: Speaker, word: str, take: int) -> str:
    return f"{word}/{speaker.id}_nohash_{take}.wav"


def take_prosody(speaker: Speaker, rng: np.random.Generator) -> Prosody:
    """The speaker's prosody with one take's jitter of pitch and rate."""
    return Prosody(pitch=int(np.clip(speaker.pitch + rng.integers(-6, 7), 0, 99)), contour=speaker.contour,
                   speed=int(np.clip(speaker.speed + rng.integers(-12, 13), 80, 450)), amplitude=speaker.amplitude)


def render_clip(speaker: Speaker, speech: np.ndarray, rate: int, rng: np.random.Generator, seed: int,
                snr_db: tuple[float, float]) -> tuple[np.ndarray, float, float]:
    """The int16 1 s clip of an engine's utterance through the speaker's recording chain, with
    the SNR (dB) and speech level (dBFS) it got."""
    s = speaker
    # resample to 16 kHz; the warp factor changes pitch, formants and duration together
    up = SAMPLE_RATE // 100
    down = max(1, int(round(rate / 100 * s.warp)))
    speech = _trim(signal.resample_poly(speech, up, down))
    n = int(CLIP_SECONDS * SAMPLE_RATE)
    room = rng_for(seed, "room", s.id)  # same room for every clip of a speaker
    ir = _room_impulse(room, s.rt60_s)
    wet = signal.fftconvolve(speech, ir)[: len(speech) + len(ir) // 4]
    dry = np.concatenate([speech, np.zeros(len(wet) - len(speech))])
    speech = (1 - s.reverb_mix) * dry + s.reverb_mix * wet
    speech = speech[:n]
    clip = np.zeros(n)
    offset = int(rng.integers(0, n - len(speech) + 1))
    clip[offset: offset + len(speech)] = speech
    speech_rms = _rms(speech[np.abs(speech) > 0.05 * np.max(np.abs(speech))]) or _rms(speech)
    snr = float(rng.uniform(*snr_db))
    tilt = float(np.clip(s.noise_tilt + rng.normal(0, 0.2), 0, 2))
    clip += coloured_noise(rng, n, tilt) * speech_rms / 10 ** (snr / 20)
    sos = signal.butter(4, [s.low_hz, min(s.high_hz, 0.45 * SAMPLE_RATE)], btype="bandpass", fs=SAMPLE_RATE,
                        output="sos")
    clip = mic_tilt(signal.sosfilt(sos, clip), s.mic_tilt_db)
    level = s.level_dbfs + rng.uniform(-4, 4)
    active = clip[offset: offset + len(speech)]
    gain = 10 ** (level / 20) / (_rms(active) + 1e-12)
    gain = min(gain, 0.9 / (np.max(np.abs(clip)) + 1e-12))  # a recordist avoids clipping
    out = _to_int16(clip * gain)
    level_dbfs = 20 * np.log10(_rms(out[offset: offset + len(speech)] / 32768.0) + 1e-12)
    return out, round(snr, 2), round(float(level_dbfs), 2)


def write_speaker(task: SpeakerTask) -> list[dict]:
    """Synthesise and write every clip of one speaker; a record per clip (its path, SNR and level,
    or the reason it was rejected)."""
    s = task.speaker
    clips = task.clips()
    rngs = [np.random.default_rng(derive_seed(task.seed, s.id, word, take)) for word, take in clips]
    utterances = [(word, take_prosody(s, rng)) for (word, _), rng in zip(clips, rngs)]
    records = []
    for (word, take), rng, speech in zip(clips, rngs, synthesise(s.family, s.voice, s.variant, utterances)):
        path = clip_path(s, word, take)
        problem = tts_problem(speech)
        if problem:
            records.append({"path": path, "word": word, "split": s.split, "reason": problem})
            continue
        audio, snr, level = render_clip(s, speech[0], speech[1], rng, task.seed, task.snr_db)
        write_wav(Path(task.out_dir) / path, audio)
        records.append({"path": path, "snr_db": snr, "level_dbfs": level})
    return records


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


def speaker_words(speaker: Speaker, words: list[str], unknown_words: list[str], per_speaker: int | None,
                  seed: int) -> list[str]:
    """The words one speaker says: every task word, and a seeded subset of the unknown words."""
    others = [w for w in unknown_words if w not in words]
    if per_speaker is not None and per_speaker < len(others):
        pick = rng_for(seed, "unknown-words", speaker.id).permutation(len(others))[:per_speaker]
        others = [others[i] for i in sorted(pick)]
    return [*words, *others]


def _each_speaker(tasks: list[SpeakerTask], workers: int):
    """The clip records of every speaker task, in completion order, from ``workers`` processes."""
    if workers == 1:
        yield from map(write_speaker, tasks)
        return
    with multiprocessing.get_context("spawn").Pool(workers) as pool:
        yield from pool.imap_unordered(write_speaker, tasks)


def generate(out_dir: str | os.PathLike, words: list[str], synthetic: dict, seed: int) -> dict:
    """Write a synthetic GSC-layout dataset of ``words`` into the existing folder ``out_dir``.

    ``synthetic`` is the config's ``dataset.synthetic`` section (missing keys take the schema
    defaults). Returns the generator parameters, speakers, clips (SNR and level) and rejected
    utterances for ``dataset_info.json``.
    """
    cfg = {**DEFAULTS, **synthetic}
    families = {f: float(share) for f, share in cfg["families"].items() if share > 0}
    speakers = make_speakers(cfg["speakers"], seed, families)
    versions = {family: engine_version(family) for family in FAMILIES if family in families}
    out_dir = Path(out_dir)
    all_words = list(dict.fromkeys([*words, *cfg["unknown_words"]]))
    snr = (float(cfg["snr_db"][0]), float(cfg["snr_db"][1]))
    if snr[0] > snr[1]:
        raise UserError(f"dataset.synthetic.snr_db must be [low, high], got {list(snr)}")
    tasks = [SpeakerTask(str(out_dir), sp, tuple(speaker_words(sp, words, cfg["unknown_words"],
                                                               cfg["unknown_words_per_speaker"], seed)),
                         cfg["takes_per_word"], seed, snr)
             for sp in speakers]
    for word in all_words:
        (out_dir / word).mkdir(parents=True, exist_ok=True)
    workers = max(1, int(cfg["workers"]))
    total = sum(len(t.clips()) for t in tasks)
    log.info("synthesising %d clips (%d speakers of %s, %d words, %d take(s)) with %d worker(s)", total,
             len(speakers), ", ".join(families), len(all_words), cfg["takes_per_word"], workers)
    records: list[dict] = []
    with tqdm(total=total, desc="synthesise", unit="clip") as bar:
        for speaker_records in _each_speaker(tasks, workers):
            records += speaker_records
            bar.update(len(speaker_records))
    records.sort(key=lambda r: r["path"])
    rejected = [r for r in records if "reason" in r]
    clips = [r for r in records if "reason" not in r]
    for r in rejected:
        log.warning("rejected %s: %s", r["path"], r["reason"])

    noise_dir = out_dir / BACKGROUND_NOISE_DIR
    noise_dir.mkdir(exist_ok=True)
    noise = []
    for i, (kind, name) in enumerate(noise_file_names(cfg["background_noise_files"])):
        write_wav(noise_dir / name, background_noise(kind, cfg["background_noise_seconds"], seed, i))
        noise.append({"file": name, "kind": kind, "seconds": cfg["background_noise_seconds"]})

    lists: dict[str, list[str]] = {"validation": [], "test": []}
    for clip in clips:
        split = which_set(clip["path"])
        if split in lists:
            lists[split].append(clip["path"])
    write_text(out_dir / VALIDATION_LIST, "".join(f"{p}\n" for p in lists["validation"]))
    write_text(out_dir / TESTING_LIST, "".join(f"{p}\n" for p in lists["test"]))
    return {
        "generator": "+".join(versions),
        "engine_versions": versions,
        "parameters": cfg,
        "words": all_words,
        "speakers": [dataclasses.asdict(sp) for sp in speakers],
        "clips": clips,
        "rejected": rejected,
        "background_noise": noise,
    }
