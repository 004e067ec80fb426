import math

import pandas as pd
import pytest

from sparsekws.figures.comparison import configurations, fit_status
from sparsekws.figures.designs import STOCK_METHOD
from sparsekws.figures.table1 import OURS, REPORTED, platform_name, table1
from sparsekws.finn.fit import budgets


def configs():
    rows = []
    for model, board, scope, networks, words, source in (
            ("dense", "u250", "single network", 1, 80_000.0, "simulated"),
            ("sparse", "u250", "single network", 1, 195_000.0, "simulated"),
            ("dense", "u250", "full chip", 14, 1_000_000.0, "estimated"),
            ("sparse", "u250", "full chip", 11, 4_900_000.0, "estimated"),
            ("sparse", "ultra96", "single network", 1, 50_000.0, "simulated")):
        rows.append({"model": model, "platform": board, "scope": scope, "batch_size": 1, "networks": networks,
                     "throughput_words_per_s": words, "source": source, "method": f"{source} method"})
    rows.append({**rows[0], "platform": "cpu", "source": "measured", "throughput_words_per_s": 900.0})
    estimates = [{"model": "dense", "board": "ultra96", "networks_per_chip": 0,
                  "fit": {"fits": False, "binding_resource": "LUT", "utilisation": {"LUT": 1.4},
                          "budget": budgets(0.8)}}]
    return configurations(pd.DataFrame(rows), fit_status(estimates))


STOCK = {("dense", "u250"): {"single network": 8_000.0, "full chip": 96_000.0, "networks": 12, "binding_resource": ""}}


def test_rows_are_designs_per_platform_with_numentas_beside_ours():
    table = table1(configs(), ("dense", "sparse"), STOCK)
    one = table[(table["scope"] == "single network") & (table["platform"] == "U250")]
    assert list(one["design"]) == ["FINN stock dense", "tuned dense (dense)", "sparse (sparse)", "dense (Numenta)",
                                   "sparse weights (Numenta)", "sparse-sparse (Numenta)"]
    assert list(one["origin"]) == [OURS] * 3 + [REPORTED] * 3
    ours = one.set_index("design")
    assert ours.loc["sparse (sparse)", "vs_dense"] == pytest.approx(195_000 / 80_000)  # over our tuned dense
    assert ours.loc["FINN stock dense", "vs_dense"] == pytest.approx(0.1)
    assert ours.loc["FINN stock dense", "method"] == STOCK_METHOD
    assert ours.loc["sparse-sparse (Numenta)", "vs_dense"] == pytest.approx(102_564 / 3_049)  # over Numenta's dense
    assert ours.loc["sparse-sparse (Numenta)", "source"] == "reported"
    assert "cpu" not in set(table["platform"])  # host platforms are not FPGA designs


def test_a_design_that_does_not_fit_is_a_row_of_zero_that_says_so():
    table = table1(configs(), ("dense", "sparse"), STOCK)
    zu3eg = table[(table["scope"] == "single network") & (table["platform"] == "ZU3EG")].set_index("design")
    assert zu3eg.loc["tuned dense (dense)", "words_per_s"] == 0 and zu3eg.loc["tuned dense (dense)", "networks"] == 0
    assert zu3eg.loc["tuned dense (dense)", "note"] == "does not fit (binding resource LUT)"
    assert zu3eg.loc["dense (Numenta)", "note"] == "does not fit"
    assert math.isnan(zu3eg.loc["sparse (sparse)", "vs_dense"]) and math.isnan(zu3eg.loc["sparse-sparse (Numenta)",
                                                                                        "vs_dense"])
    chip = table[(table["scope"] == "full chip") & (table["platform"] == "U250")].set_index("design")
    assert chip.loc["sparse (sparse)", "networks"] == 11 and chip.loc["sparse-sparse (Numenta)", "networks"] == 20


def test_without_an_fpga_pair_only_numentas_rows_remain():
    table = table1(configs(), None, {})
    assert set(table["origin"]) == {REPORTED} and len(table) == 9
    assert platform_name("ultra96") == "ZU3EG" and platform_name("zcu104") == "ZCU104" and platform_name("x") == "x"
