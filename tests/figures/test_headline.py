import math

import numpy as np
import pandas as pd
import pytest

from sparsekws.figures.comparison import best_configuration, configurations, fit_status
from sparsekws.core.stats import confidence_summary
from sparsekws.figures.designs import stock_designs
from sparsekws.figures.headline import BLOG_CLAIMS, HEADLINE_COLUMNS, NUMENTA_REPORTED, headline_table
from sparsekws.measure import RECORD_COLUMNS
from sparsekws.finn.fit import budgets


def blog_like(power=False):
    """Data shaped like the blog's: U250 4 dense vs 20 sparse networks, dense does not fit a ZU3EG."""
    rows = []

    def add(model, platform, scope, networks, fps, watts=np.nan):
        rows.append({"model": model, "platform": platform, "scope": scope, "networks": networks, "batch_size": 1,
                     "throughput_words_per_s": fps, "source": "estimated", "method": "finn-estimate", "power_w": watts})
    add("dense", "u250", "single network", 1, 1000.0)
    add("dense", "u250", "full chip", 4, 4000.0, 40.0 if power else np.nan)
    add("sparse", "u250", "single network", 1, 10000.0)
    add("sparse", "u250", "full chip", 20, 205000.0, 80.0 if power else np.nan)
    add("dense", "ultra96", "single network", 1, 1000.0)
    add("sparse", "ultra96", "single network", 1, 6800.0)
    add("sparse", "ultra96", "full chip", 1, 6800.0)
    estimates = [{"model": m, "board": b, "networks_per_chip": n,
                  "fit": {"fits": n > 0, "binding_resource": "BRAM36", "utilisation": {"BRAM36": 0.5 if n else 1.4},
                          "budget": budgets(0.8)}}
                 for m, b, n in (("dense", "u250", 4), ("sparse", "u250", 20), ("dense", "ultra96", 0),
                                 ("sparse", "ultra96", 1))]
    configs = configurations(pd.DataFrame(rows, columns=RECORD_COLUMNS), fit_status(estimates))
    return configs, best_configuration(configs)


def values(table):
    claims = table[table["blog_value"].notna()]
    return dict(zip(claims["claim"], claims["our_value"])), dict(zip(claims["claim"], claims["note"]))


def test_blog_shaped_data_reproduces_the_blog_numbers():
    configs, best = blog_like()
    accuracy = {"dense": confidence_summary([0.9637]), "sparse": confidence_summary([0.9665])}
    table = headline_table(configs, best, [("dense", "sparse")], accuracy, nonzero_weights={"dense": 1720, "sparse": 194})
    assert list(table.columns) == HEADLINE_COLUMNS
    ours, notes = values(table)
    expected = {c.text: c.blog_value for c in BLOG_CLAIMS if c.key != "energy"}
    expected[BLOG_CLAIMS[0].text] = 51.25  # the blog rounds its U250 configurations' ratio to 50x
    expected[BLOG_CLAIMS[1].text] = 300 * 4000 / (205000 - 4000)  # exact overtaking time for these throughputs
    for claim, value in expected.items():
        assert ours[claim] == pytest.approx(value, rel=1e-9), claim
    energy = BLOG_CLAIMS[9].text
    assert math.isnan(ours[energy]) and "no power reading" in notes[energy]
    assert table["source"].str.contains("estimated").sum() >= 9


def test_energy_ratio_from_power_and_missing_boards_are_explained():
    configs, best = blog_like(power=True)
    ours, _ = values(headline_table(configs, best, [("dense", "sparse")], {}))
    assert ours[BLOG_CLAIMS[9].text] == pytest.approx((40 / 4000) / (80 / 205000))
    table = headline_table(configs[configs["platform"] != "u250"], best[best["platform"] != "u250"],
                           [("dense", "sparse")], {})
    ours, notes = values(table)
    assert math.isnan(ours[BLOG_CLAIMS[0].text]) and "'u250' is not among" in notes[BLOG_CLAIMS[0].text]
    assert math.isnan(ours[BLOG_CLAIMS[10].text]) and "metrics.json" in notes[BLOG_CLAIMS[10].text]
    assert math.isnan(ours[BLOG_CLAIMS[11].text]) and "non-zero weight count" in notes[BLOG_CLAIMS[11].text]


def test_per_platform_rows_and_equal_estimates_flagged():
    configs, best = blog_like()
    configs.loc[configs["model"] == "sparse", "throughput_words_per_s"] = configs.loc[
        configs["model"] == "dense", "throughput_words_per_s"].max()
    table = headline_table(configs, best_configuration(configs), [("dense", "sparse")], {})
    extra = table[table["blog_value"].isna()]
    assert "single-network speed-up sparse/dense on u250" in set(extra["claim"])
    row = extra[extra["claim"] == "single-network speed-up sparse/dense on u250"].iloc[0]
    assert row["our_value"] == pytest.approx(4.0) and row["source"].startswith("estimated (finn-estimate")


def test_accuracy_gap_carries_its_interval_over_seeds():
    configs, best = blog_like()
    accuracy = {"dense": confidence_summary([0.92, 0.93, 0.91]), "sparse": confidence_summary([0.85, 0.87, 0.86])}
    ours, notes = values(headline_table(configs, best, [("dense", "sparse")], accuracy))
    claim = BLOG_CLAIMS[[c.key for c in BLOG_CLAIMS].index("accuracy")].text
    assert ours[claim] == pytest.approx(-6.0)
    assert "(3 seeds)" in notes[claim] and "difference 95 % CI [" in notes[claim]


def test_the_three_dense_baselines_and_numentas_sparse_sparse_side_by_side():
    configs, best = blog_like()
    estimates = [{"model": "dense", "board": "u250", "stock": {"fits": True, "fps": 500.0, "full_chip_fps": 2500.0,
                                                               "networks_per_chip": 5}},
                 {"model": "sparse", "board": "u250", "stock": {"fits": True, "fps": 9000.0, "full_chip_fps": 9000.0,
                                                                "networks_per_chip": 1}}]
    table = headline_table(configs, best, [("dense", "sparse")], {}, stock=stock_designs(estimates))
    rows = table.set_index("claim")
    assert rows.loc["U250 one network: sparse / our tuned dense", "our_value"] == pytest.approx(10000 / 1000)
    assert rows.loc["U250 one network: sparse / FINN's stock dense", "our_value"] == pytest.approx(10000 / 500)
    assert rows.loc["U250 full chip: sparse / FINN's stock dense", "our_value"] == pytest.approx(205000 / 2500)
    reported = rows.loc["U250 full chip: sparse / Numenta's reported dense"]
    assert reported["our_value"] == pytest.approx(205000 / NUMENTA_REPORTED["dense", "U250", "full chip"])
    assert reported["blog_value"] == pytest.approx(1_369_863 / 12_195)  # Numenta's own sparse-sparse ratio
    assert "reported" in reported["source"] and "(4 networks)" in reported["note"]
    ours = rows.loc["ZU3EG one network: sparse / Numenta's reported sparse-sparse", "our_value"]
    assert ours == pytest.approx(6800 / 45_455)
    without = headline_table(configs, best, [("dense", "sparse")], {}).set_index("claim")
    assert math.isnan(without.loc["U250 one network: sparse / FINN's stock dense", "our_value"])
