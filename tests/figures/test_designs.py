import math

import pandas as pd

from sparsekws.figures.comparison import configurations, fit_status
from sparsekws.figures.designs import SPARSE, STOCK, TUNED, fpga_boards, fpga_designs, ratio_to, stock_designs
from sparsekws.finn.fit import budgets


def rows():
    out = []
    for model, platform, source, words in (("dense", "cpu", "measured", 900.0), ("dense", "u250", "estimated", 80.0),
                                           ("dense", "u250", "simulated", 79.0), ("sparse", "u250", "estimated", 200.0),
                                           ("sparse", "ultra96", "estimated", 50.0)):
        out.append({"model": model, "platform": platform, "scope": "single network", "batch_size": 1, "networks": 1,
                    "throughput_words_per_s": words, "source": source, "method": "m"})
    return pd.DataFrame(out)


def test_stock_designs_read_the_compile_stage_stock_search():
    estimates = [{"model": "dense", "board": "u250", "stock": {"fits": True, "fps": 10.0, "full_chip_fps": 70.0,
                                                               "networks_per_chip": 7, "binding_resource": "BRAM36"}},
                 {"model": "dense", "board": "ultra96", "stock": {"fits": False, "fps": 9.0, "networks_per_chip": 0}},
                 {"model": "sparse", "board": "u250"}]
    stock = stock_designs(estimates)
    assert stock["dense", "u250"] == {"single network": 10.0, "full chip": 70.0, "networks": 7,
                                      "binding_resource": "BRAM36"}
    assert stock["dense", "ultra96"]["single network"] == 0.0 and ("sparse", "u250") not in stock


def test_designs_per_board_prefer_a_simulation_to_an_estimate():
    stock = {("dense", "u250"): {"single network": 10.0, "full chip": 70.0, "networks": 7, "binding_resource": "LUT"}}
    assert fpga_boards(rows(), ("dense", "sparse")) == ["u250", "ultra96"]
    table = fpga_designs(rows(), ("dense", "sparse"), stock, "single network")
    u250 = table[table["board"] == "u250"].set_index("design")
    assert list(u250.index) == [STOCK, TUNED, SPARSE]
    assert u250.loc[TUNED, "words_per_s"] == 79.0 and u250.loc[TUNED, "source"] == "simulated"
    assert ratio_to(table, "u250", TUNED) == 200.0 / 79.0 and ratio_to(table, "u250", STOCK) == 20.0
    assert list(table[table["board"] == "ultra96"]["design"]) == [SPARSE]  # nothing known of dense there
    assert math.isnan(ratio_to(table, "ultra96", TUNED))


def test_a_model_that_does_not_fit_is_a_design_of_zero_words():
    estimates = [{"model": "dense", "board": "ultra96", "networks_per_chip": 0,
                  "fit": {"fits": False, "binding_resource": "BRAM36", "utilisation": {"BRAM36": 0.9},
                          "budget": budgets(0.8)}}]
    configs = configurations(rows(), fit_status(estimates))  # adds a full-chip row of 0 networks only
    table = fpga_designs(configs, ("dense", "sparse"), {}, "single network")
    tuned = table[(table["board"] == "ultra96") & (table["design"] == TUNED)].iloc[0]
    assert not tuned["fits"] and tuned["words_per_s"] == 0.0 and tuned["binding_resource"] == "BRAM36"
    assert math.isnan(ratio_to(table, "ultra96", TUNED))
