"""The label convention of TensorFlow's speech_commands example (12-class GSC task).

Class 0 is silence, class 1 is "unknown word", then the task words in configured order.
"""

from __future__ import annotations

from typing import Iterable

SILENCE = "_silence_"
UNKNOWN = "_unknown_"
BACKGROUND_NOISE_DIR = "_background_noise_"
SPLITS = ("train", "validation", "test")


def class_names(words: Iterable[str]) -> list[str]:
    """``[SILENCE, UNKNOWN, *words]``: the class index of a label is its position here."""
    words = list(words)
    for reserved in (SILENCE, UNKNOWN):
        if reserved in words:
            raise ValueError(f"{reserved!r} is reserved and cannot be a task word")
    if len(set(words)) != len(words):
        raise ValueError(f"task words must be unique: {words}")
    return [SILENCE, UNKNOWN, *words]
