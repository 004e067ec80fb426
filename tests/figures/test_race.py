import math

import numpy as np
import pandas as pd
import pytest

from sparsekws.figures.race import HEAD_START_S, describe, overtaking_time, race_curves, race_table, race_window, words_processed


def test_overtaking_time_is_exact_and_words_are_equal_there():
    # the blog's numbers: 5-minute head start, sparse 51.25x dense
    tau = overtaking_time(100.0, 5125.0, HEAD_START_S)
    assert tau == pytest.approx(300 * 100 / 5025)
    assert words_processed(100.0, HEAD_START_S + tau) == pytest.approx(words_processed(5125.0, HEAD_START_S + tau,
                                                                                       HEAD_START_S))


def test_never_overtakes_when_not_faster_and_at_once_when_dense_does_not_fit():
    assert overtaking_time(10.0, 10.0) == math.inf
    assert overtaking_time(10.0, 5.0) == math.inf
    assert overtaking_time(0.0, 5.0) == 0.0
    with pytest.raises(ValueError):
        overtaking_time(-1.0, 5.0)


def test_words_processed_is_zero_before_start():
    np.testing.assert_allclose(words_processed(2.0, [0, 5, 10], start_s=5), [0, 0, 10])


def best():
    rows = [("dense", "u250", "full chip", 4, 400.0, "estimated"), ("sparse", "u250", "full chip", 20, 20500.0, "estimated"),
            ("dense", "cpu", "single network", 1, 1000.0, "measured"), ("sparse", "cpu", "single network", 1, 800.0, "measured"),
            ("sparse", "zu3eg", "single network", 1, 700.0, "estimated")]
    return pd.DataFrame([{"model": m, "platform": p, "scope": s, "networks": n, "batch_size": 1,
                          "throughput_words_per_s": t, "source": src, "method": "x"} for m, p, s, n, t, src in rows])


def test_race_table_per_platform_with_both_models():
    races = race_table(best(), [("dense", "sparse")], head_start_s=300)
    assert list(races["platform"]) == ["cpu", "u250"]  # zu3eg: no dense row, no race
    u250 = races.set_index("platform").loc["u250"]
    assert u250["overtake_after_s"] == pytest.approx(300 * 400 / (20500 - 400))
    assert u250["overtake_at_s"] == pytest.approx(300 + u250["overtake_after_s"])
    assert u250["dense_configuration"] == "4 networks (full chip)"
    assert races.set_index("platform").loc["cpu", "overtake_after_s"] == math.inf
    assert "never overtakes" in describe(races.iloc[0])
    assert "overtakes" in describe(u250) and "s after" in describe(u250)


def test_curves_cross_inside_the_window():
    race = race_table(best(), [("dense", "sparse")]).set_index("platform").loc["u250"]
    curves = race_curves(race)
    assert curves["time_s"].max() == pytest.approx(race_window(race)) and race_window(race) > race["overtake_at_s"]
    last = curves[curves["time_s"] == curves["time_s"].max()].set_index("model")["words"]
    assert last["sparse"] > last["dense"]
