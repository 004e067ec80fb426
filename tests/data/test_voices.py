import numpy as np
import pytest

from sparsekws.core.errors import UserError
from sparsekws.data import voices
from sparsekws.data.voices import Prosody

BASE = Prosody(pitch=40, contour=1.0, speed=150, amplitude=100)


@pytest.mark.parametrize("family", voices.FAMILIES)
def test_every_voice_speaks_deterministically(family):
    for voice, variant in voices.VOICES[family][:2] if family == voices.ESPEAK else voices.VOICES[family]:
        (a, rate), (b, _) = voices.synthesise(family, voice, variant, [("seven", BASE), ("seven", BASE)])
        assert rate in (8000, 16000, 22050, 32000) and len(a) > 0.2 * rate
        assert np.array_equal(a, b) and 0.01 < np.max(np.abs(a)) < 1.0


@pytest.mark.parametrize("family, voice, variant", [("espeak-ng", "en-us", "m3"), ("flite", "slt", ""),
                                                    ("festival", "kal_diphone", ""),
                                                    ("festival", "cmu_us_slt_arctic_hts", "")])
def test_prosody_changes_the_utterance(family, voice, variant):
    slow = Prosody(pitch=40, contour=1.0, speed=110, amplitude=100)
    (base, rate), (slower, _), (higher, _) = voices.synthesise(
        family, voice, variant, [("forward", BASE), ("forward", slow), ("forward", Prosody(80, 1.0, 150, 100))])
    assert len(slower) > 1.1 * len(base)
    if not voice.endswith("_hts"):  # Festival passes the HMM engine no pitch option
        assert not np.array_equal(base[: len(higher)], higher[: len(base)])


def test_contour_changes_espeak_flite_and_festival_diphones():
    for family, voice, variant in (("espeak-ng", "en-us", "m3"), ("flite", "kal16", ""), ("festival", "ked_diphone", "")):
        (flat, _), (wide, _) = voices.synthesise(family, voice, variant,
                                                 [("follow forward", Prosody(40, 0.3, 150, 100)),
                                                  ("follow forward", Prosody(40, 2.5, 150, 100))])
        assert not np.array_equal(flat[: len(wide)], wide[: len(flat)])


def test_engine_versions_and_unknown_family():
    assert "eSpeak NG" in voices.engine_version("espeak-ng")
    assert "Festival" in voices.engine_version("festival")
    with pytest.raises(UserError, match="unknown voice family"):
        voices.engine_version("mbrola")


def test_missing_festival_voice_names_its_package(monkeypatch):
    monkeypatch.setitem(voices.VOICES, "festival", (("kal_diphone", ""), ("no_such_voice", "")))
    monkeypatch.setitem(voices._FESTIVAL_VOICE_PACKAGE, "no_such_voice", "festvox-nosuch")
    voices.engine_version.cache_clear()
    try:
        with pytest.raises(UserError, match="festival voice.*no_such_voice.*apt-get install festvox-nosuch"):
            voices.engine_version("festival")
    finally:
        voices.engine_version.cache_clear()
