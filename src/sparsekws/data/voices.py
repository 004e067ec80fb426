"""The offline speech synthesisers of the synthetic dataset, one *voice family* per engine.

- ``espeak-ng``: formant synthesis; eight English accents x twenty voice variants. Prosody:
  ``-p`` pitch, ``-s`` rate, ``-a`` amplitude, SSML ``<prosody range>`` for the contour;
- ``flite``: CMU's small engine with its built-in diphone and cluster-unit voices. Prosody:
  ``int_f0_target_mean`` / ``int_f0_target_stddev`` and ``duration_stretch``;
- ``festival``: the Festival system with two diphone voices (LR intonation targets for pitch
  and contour, ``Duration_Stretch``) and one HMM voice (HTS; only its rate ``-r`` can be set
  through Festival, so its speakers differ in pitch through the vocal-tract warp alone).

``synthesise(family, voice, variant, utterances)`` turns texts with their ``Prosody`` into float
samples (Festival speaks a whole list in one process). A missing engine or voice is a
``UserError`` naming the Debian package that provides it. The voice lists are fixed so the
output does not depend on what else is installed.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from sparsekws.core.errors import UserError

ESPEAK, FLITE, FESTIVAL = "espeak-ng", "flite", "festival"
FAMILIES = (ESPEAK, FLITE, FESTIVAL)

_ESPEAK_ACCENTS = ("en-us", "en", "en-gb-scotland", "en-gb-x-rp", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-029",
                   "en-us-nyc")
_ESPEAK_VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5",
                    "klatt", "klatt2", "klatt3", "Andy", "Annie", "david", "linda", "robert")
#: (voice, variant) pairs of each family; a speaker is one of them.
VOICES: dict[str, tuple[tuple[str, str], ...]] = {
    ESPEAK: tuple((a, v) for a in _ESPEAK_ACCENTS for v in _ESPEAK_VARIANTS),
    # awb_time only speaks times of day
    FLITE: tuple((v, "") for v in ("kal", "kal16", "awb", "rms", "slt")),
    FESTIVAL: tuple((v, "") for v in ("kal_diphone", "ked_diphone", "cmu_us_slt_arctic_hts")),
}
#: The Debian packages that provide each family (``apt-get install ...``).
APT_PACKAGES = {ESPEAK: "espeak-ng", FLITE: "flite",
                FESTIVAL: "festival festvox-kallpc16k festvox-kdlpc16k festvox-us-slt-hts"}
_FESTIVAL_VOICE_PACKAGE = {"kal_diphone": "festvox-kallpc16k", "ked_diphone": "festvox-kdlpc16k",
                           "cmu_us_slt_arctic_hts": "festvox-us-slt-hts"}


@dataclasses.dataclass(frozen=True)
class Prosody:
    """How one utterance is spoken; each engine maps these onto its own controls."""

    pitch: int          # 0..99: espeak-ng -p; mean f0 60 + 2 * pitch Hz for flite and the festival diphones
    contour: float      # pitch-range factor (1 = the voice's own): espeak-ng SSML range, f0 standard deviation
    speed: int          # words per minute (espeak-ng -s); duration stretch 160 / speed elsewhere
    amplitude: int      # espeak-ng -a, 0..200 (the others are levelled afterwards)


def _read_wav(path: str | Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate, data = w.getframerate(), w.readframes(w.getnframes())
    return np.frombuffer(data, dtype="<i2").astype(np.float64) / 32768.0, rate


def _run(family: str, argv: list[str]) -> None:
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"{family} failed ({' '.join(argv)}): {done.stderr.strip()}")


def _espeak_argv(wav: str, text: str, voice: str, variant: str, p: Prosody) -> list[str]:
    ssml = f'<speak><prosody range="{round(100 * p.contour)}%">{text}</prosody></speak>'
    return [ESPEAK, "-m", "-w", wav, "-v", f"{voice}+{variant}", "-p", str(p.pitch), "-s", str(p.speed),
            "-a", str(p.amplitude), ssml]


def _flite_argv(wav: str, text: str, voice: str, p: Prosody) -> list[str]:
    return [FLITE, "-voice", voice, "--setf", f"int_f0_target_mean={60 + 2 * p.pitch}",
            "--setf", f"int_f0_target_stddev={20 * p.contour:.2f}",
            "--setf", f"duration_stretch={160 / p.speed:.4f}", "-t", text, "-o", wav]


def _festival_prosody(voice: str, p: Prosody) -> str:
    """Scheme that sets one utterance's prosody: LR intonation targets and duration stretch for
    the diphone voices; only the rate (-r) for the HMM voice, whose Festival wrapper passes no
    pitch option to its engine (its speakers differ in pitch through the vocal-tract warp)."""
    if voice.endswith("_hts"):
        return f"(set! hts_engine_params (append {voice}::hts_engine_params '((\"-r\" {p.speed / 160:.4f}))))\n"
    return (f"(set! int_lr_params '((target_f0_mean {60 + 2 * p.pitch}) (target_f0_std {15 * p.contour:.2f}) "
            f"(model_f0_mean 170) (model_f0_std 34)))\n"
            f"(Parameter.set 'Duration_Stretch {160 / p.speed:.4f})\n")


def _festival_script(voice: str, jobs: list[tuple[str, str, Prosody]]) -> str:
    """One Festival batch script that writes every (wav path, text, prosody) of ``jobs``."""
    lines = [f"(voice_{voice})\n"]
    for wav, text, p in jobs:
        safe = text.replace("\\", "").replace('"', "")
        lines += [_festival_prosody(voice, p), f'(set! u (Utterance Text "{safe}"))\n', "(utt.synth u)\n",
                  f'(utt.save.wave u "{wav}" \'riff)\n']
    return "".join(lines)


def synthesise(family: str, voice: str, variant: str,
               utterances: list[tuple[str, Prosody]]) -> list[tuple[np.ndarray, int] | None]:
    """Float samples in [-1, 1] and the sample rate of each (text, prosody); None where the
    engine wrote no audio."""
    with tempfile.TemporaryDirectory(prefix=f"sparsekws-{family}-") as tmp:
        wavs = [os.path.join(tmp, f"{i}.wav") for i in range(len(utterances))]
        if family == FESTIVAL:
            script = os.path.join(tmp, "speak.scm")
            Path(script).write_text(_festival_script(voice, [(w, t, p) for w, (t, p) in zip(wavs, utterances)]))
            _run(family, [FESTIVAL, "--batch", script])
        else:
            for wav, (text, p) in zip(wavs, utterances):
                _run(family, _espeak_argv(wav, text, voice, variant, p) if family == ESPEAK
                     else _flite_argv(wav, text, voice, p))
        return [_read_wav(w) if os.path.exists(w) and os.path.getsize(w) > 44 else None for w in wavs]


def _missing(family: str, what: str, package: str) -> UserError:
    return UserError(f"{what} is not installed; the synthetic dataset's '{family}' voice family needs it: "
                     f"apt-get install {package} (or set dataset.synthetic.families.{family}: 0)")


@functools.lru_cache(maxsize=None)
def engine_version(family: str) -> str:
    """The version string of a family's engine; a UserError naming the apt package if it or one of
    its voices is missing."""
    if family not in VOICES:
        raise UserError(f"unknown voice family {family!r}; known: {', '.join(FAMILIES)}")
    if shutil.which(family) is None:
        raise _missing(family, family, APT_PACKAGES[family])
    if family == ESPEAK:
        out = subprocess.run([ESPEAK, "--version"], capture_output=True, text=True).stdout
        return out.split("Data at")[0].strip()
    if family == FLITE:
        listed = subprocess.run([FLITE, "-lv"], capture_output=True, text=True).stdout.split()
        absent = [v for v, _ in VOICES[FLITE] if v not in listed]
        if absent:
            raise _missing(family, f"flite voice(s) {', '.join(absent)}", "flite")
        out = subprocess.run([FLITE, "--version"], capture_output=True, text=True).stdout.strip()
        return out.splitlines()[-1].strip() if out else "unknown"
    out = subprocess.run([FESTIVAL, "--batch", "(print (voice.list))"], capture_output=True, text=True).stdout
    absent = [v for v, _ in VOICES[FESTIVAL] if v not in out]
    if absent:
        raise _missing(family, f"festival voice(s) {', '.join(absent)}",
                       " ".join(_FESTIVAL_VOICE_PACKAGE[v] for v in absent))
    return subprocess.run([FESTIVAL, "--version"], capture_output=True, text=True).stdout.strip()
