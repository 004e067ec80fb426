"""Resource fit of a design against a board, networks per chip."""

from __future__ import annotations

import pytest

from sparsekws.core.errors import UserError
from sparsekws.finn.fit import DEFAULT_BUDGET, budget_text, budgets, describe_fit, fit_design, regions, to_bram36

BOARD = {"name": "toy", "resources": {"LUT": 100_000, "FF": 200_000, "BRAM36": 100, "URAM": 0, "DSP": 50}}


def test_bram18_is_converted_to_bram36():
    assert to_bram36({"LUT": 10, "BRAM_18K": 7, "URAM": 0, "DSP": 1}) == {"LUT": 10, "FF": 0, "URAM": 0, "DSP": 1,
                                                                          "BRAM36": 3.5}
    assert to_bram36({"BRAM36": 4})["BRAM36"] == 4


def test_fit_within_budget_and_networks_per_chip():
    fit = fit_design({"LUT": 10_000, "BRAM_18K": 20, "URAM": 0, "DSP": 0}, BOARD, budget=0.8)
    assert fit["fits"] is True
    assert fit["utilisation"]["LUT"] == pytest.approx(0.1)
    assert fit["utilisation"]["BRAM36"] == pytest.approx(0.1)
    # LUT: floor(0.8 * 100000 / 10000) = 8; BRAM36: floor(0.8 * 100 / 10) = 8
    assert fit["networks_per_chip_by_resource"] == {"LUT": 8, "BRAM36": 8}
    assert fit["networks_per_chip"] == 8
    assert "optimistic" in fit["note"]


def test_binding_resource_limits_networks():
    fit = fit_design({"LUT": 5_000, "BRAM_18K": 60, "URAM": 0, "DSP": 2}, BOARD, 0.8)
    assert fit["binding_resource"] == "BRAM36"  # 30 of 100 BRAM36 vs 5 % LUT and 4 % DSP
    assert fit["networks_per_chip"] == 2  # floor(80 / 30)
    assert fit["networks_per_chip_by_resource"]["LUT"] == 16
    assert fit["networks_per_chip_by_resource"]["DSP"] == 20


def test_over_budget_is_refused_and_names_binding_resource():
    fit = fit_design({"LUT": 90_000, "BRAM_18K": 10, "URAM": 0, "DSP": 0}, BOARD, budget=0.8)
    assert fit["fits"] is False
    assert fit["binding_resource"] == "LUT"
    assert fit["networks_per_chip"] == 0
    assert "does NOT fit" in describe_fit(fit, "toy") and "LUT" in describe_fit(fit, "toy")


def test_resource_missing_on_chip_does_not_fit():
    fit = fit_design({"LUT": 1_000, "BRAM_18K": 0, "URAM": 4, "DSP": 0}, BOARD)
    assert fit["fits"] is False
    assert fit["binding_resource"] == "URAM"
    assert fit["utilisation"]["URAM"] is None
    assert fit["networks_per_chip"] == 0


def test_exact_multiple_is_not_rounded_down():
    assert fit_design({"LUT": 20_000}, BOARD, 0.8)["networks_per_chip"] == 4  # 0.8 x 100,000 / 20,000
    assert fit_design({"LUT": 0.1}, {"resources": {"LUT": 1}}, 0.3)["networks_per_chip"] == 3


SLR_BOARD = {"name": "four-die", "resources": {"LUT": 400_000, "BRAM36": 400, "URAM": 40, "DSP": 400},
             "floorplan": {"slrs": 4, "platform_reserve": {"slr": 1, "LUT": 30_000, "BRAM36": 20, "URAM": 0, "DSP": 0},
                           "source": "a test shell"}}


def test_networks_are_packed_per_slr_with_the_platform_reserve_in_its_slr():
    names = [(r["name"], r["reserved"]["LUT"]) for r in regions(SLR_BOARD)]
    assert names == [("SLR0", 0), ("SLR1", 30_000), ("SLR2", 0), ("SLR3", 0)]
    fit = fit_design({"LUT": 25_000, "BRAM_18K": 20, "DSP": 10}, SLR_BOARD, 0.8)
    # per SLR 100,000 LUT: floor(80,000 / 25,000) = 3; SLR1: floor(50,000 / 25,000) = 2
    assert [r["copies"] for r in fit["regions"]] == [3, 2, 3, 3]
    assert fit["networks_per_chip"] == 11  # the whole chip as one region would say 12
    assert fit_design({"LUT": 25_000, "BRAM_18K": 20, "DSP": 10}, BOARD | {"resources": SLR_BOARD["resources"]},
                      0.8)["networks_per_chip"] == 12
    assert fit["regions"][1]["binding_resource"] == "LUT" and fit["floorplan"] == "a test shell"
    assert fit["utilisation"]["LUT"] == pytest.approx(0.25) and fit["utilisation_of"] == "SLR0"


def test_a_network_larger_than_an_slr_does_not_fit_though_the_chip_could_hold_it():
    fit = fit_design({"LUT": 90_000}, SLR_BOARD, 0.8)  # 22 % of the chip, 90 % of an SLR
    assert fit["fits"] is False and fit["networks_per_chip"] == 0
    assert "(90.0% of an SLR, budget 80%)" in describe_fit(fit, "four-die")


def test_bad_budget():
    for bad in (1.5, 0, "lots", {"LUT": 1.2}, {"LUTS": 0.5}):
        with pytest.raises(UserError, match="budget"):
            fit_design({"LUT": 1}, BOARD, budget=bad)


def test_default_budget_is_amds_usage_guideline_per_resource():
    assert budgets() == DEFAULT_BUDGET == {"LUT": 0.7, "FF": 0.5, "BRAM36": 0.8, "URAM": 0.8, "DSP": 0.8}
    assert budgets({"LUT": 0.9}) == {**DEFAULT_BUDGET, "LUT": 0.9} and set(budgets(0.6).values()) == {0.6}
    fit = fit_design({"LUT": 10_000}, BOARD)
    assert fit["networks_per_chip"] == 7 and "UG1393" in fit["budget_source"]  # floor(0.7 x 100,000 / 10,000)
    assert fit_design({"LUT": 10_000}, BOARD, 0.8)["budget_source"] == "compile.budget"
    assert budget_text(budgets(0.8)) == "80 %" and budget_text(DEFAULT_BUDGET).startswith("LUT 70 %, FF 50 %")


def test_ff_is_checked_and_binds_relative_to_its_budget():
    # 30 % of the LUT (budget 70 %) but 45 % of the FF (budget 50 %): FF binds, 1 copy (not 2)
    fit = fit_design({"LUT": 30_000, "FF": 90_000}, BOARD)
    assert fit["utilisation"]["FF"] == pytest.approx(0.45) and fit["binding_resource"] == "FF"
    assert fit["networks_per_chip"] == 1 and fit["networks_per_chip_by_resource"] == {"LUT": 2, "FF": 1}
    over = fit_design({"LUT": 30_000, "FF": 110_000}, BOARD)  # 55 % of the FF
    assert over["fits"] is False and over["binding_resource"] == "FF"


def test_require_fit_refuses_over_budget_naming_binding_resource():
    from sparsekws.finn.fit import FitError, require_fit

    require_fit(fit_design({"LUT": 10_000, "BRAM_18K": 20}, BOARD, 0.8), "toy")  # fits: no error
    over = fit_design({"LUT": 5_000, "BRAM_18K": 170, "DSP": 2}, BOARD, 0.8)  # 85 of 100 BRAM36
    with pytest.raises(FitError, match=r"does NOT fit toy within its budget \(80 %\); binding resource BRAM36 "
                                       r"\(85.0%, budget 80%\)"):
        require_fit(over, "toy")
    assert issubclass(FitError, UserError)


def test_a_single_die_board_keeps_its_reserve_out_of_the_budget():
    board = BOARD | {"floorplan": {"slrs": 1, "platform_reserve": {"LUT": 50_000}, "source": "a test shell"}}
    assert fit_design({"LUT": 20_000}, board, 0.8)["networks_per_chip"] == 1  # (80,000 - 50,000) / 20,000
    over = fit_design({"LUT": 40_000}, board, 0.8)  # within 80 % of the chip, not beside the reserve
    assert over["fits"] is False and over["networks_per_chip"] == 0
