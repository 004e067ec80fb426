import pytest

from sparsekws.data.labels import BACKGROUND_NOISE_DIR, SILENCE, SPLITS, UNKNOWN, class_names


def test_class_names_follow_tensorflow_order():
    words = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
    names = class_names(words)
    assert names[:2] == ["_silence_", "_unknown_"]
    assert names[2:] == words
    assert len(names) == 12
    assert (SILENCE, UNKNOWN, BACKGROUND_NOISE_DIR) == ("_silence_", "_unknown_", "_background_noise_")
    assert SPLITS == ("train", "validation", "test")


@pytest.mark.parametrize("words", [["yes", "_silence_"], ["yes", "yes"]])
def test_class_names_rejects_reserved_and_duplicates(words):
    with pytest.raises(ValueError):
        class_names(words)
