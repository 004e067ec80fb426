"""Does a design fit a board, and how many copies of it fit one chip?

``fit_design(used, board, budget)`` compares a design's resource totals (``LUT``, ``FF``,
``BRAM_18K``, ``URAM``, ``DSP``: FINN's estimates and the project's cost model) with the board's
resources (``config/boards/*.yaml``, BRAM counted in BRAM36 blocks). Parameters:

- ``used``: resource totals of one network; ``BRAM_18K`` is converted to BRAM36 (``/2``), a
  ``BRAM36`` key is taken as is.
- ``board``: a board description (``core.config.load_board``) with ``resources``, and for a
  multi-die device its ``floorplan``: ``slrs`` identical super logic regions (each the
  resources / slrs) and the platform's reserve (``platform_reserve``: the shell's static region,
  its resources, the SLR it is placed in, and the source of the numbers).
- ``budget``: the usable fraction of each resource: one number for all, or a mapping per resource
  (``budgets``); by default AMD's usage guidelines for timing closure (``DEFAULT_BUDGET``).

Without a floorplan the chip is one region. With one, a network is placed inside one SLR (no
design here says how it would cross one): a region's usable resources are the budget x its
resources minus the reserve placed in it, and its copies the minimum over resources of
``floor(usable / used)``. A design fits when one copy fits a region without the reserve
(utilisation = used / that region's resources <= budget); networks per chip is the sum over
regions, each region naming its binding resource (the highest utilisation relative to its
budget). ``require_fit`` refuses a design that does not fit (``FitError``, naming the binding
resource).

FINN's estimates omit FIFOs and data-width converters and report 0 LUT for some layer types; FINN
estimates no FF: FF is the project's model of the matrix units and of its own ops
(``finn.folding.node_estimate``), 0 for FINN's other layers: a fit on these totals is optimistic.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from sparsekws.core.config import BOARD_RESOURCES
from sparsekws.core.errors import UserError

RESOURCES = BOARD_RESOURCES
Budget = float | Mapping[str, float]
#: AMD's usage guidelines above which timing closure gets hard (BUDGET_SOURCE), per device or SLR.
DEFAULT_BUDGET = {"LUT": 0.7, "FF": 0.5, "BRAM36": 0.8, "URAM": 0.8, "DSP": 0.8}
BUDGET_SOURCE = ("AMD UG1393 (Vitis application acceleration), Timing Closure Considerations: usage above LUT 70 %, "
                 "DSP, RAMB and UltraRAM 80 %, FD (flip-flops) 50 % per device or SLR can lengthen compilation or "
                 "lower performance; https://docs.xilinx.com/r/en-US/ug1393-vitis-application-acceleration/"
                 "Timing-Closure-Considerations")
OPTIMISM_NOTE = ("optimistic: FINN's estimates omit FIFOs and data-width converters, and count 0 LUT for some "
                 "layer types; FF is modelled for the matrix units and the project's ops only")
NO_FLOORPLAN_NOTE = "the whole chip as one region: no SLRs or platform reserve given in the board file"


def to_bram36(used: Mapping[str, float]) -> dict[str, float]:
    """Resource totals keyed like the board file (``BRAM_18K`` -> ``BRAM36`` = BRAM_18K / 2)."""
    out = {name: float(used.get(name, 0) or 0) for name in ("LUT", "FF", "URAM", "DSP")}
    if "BRAM36" in used:
        out["BRAM36"] = float(used["BRAM36"] or 0)
    else:
        out["BRAM36"] = float(used.get("BRAM_18K", 0) or 0) / 2.0
    return out


def budgets(budget: Budget = DEFAULT_BUDGET) -> dict[str, float]:
    """The usable fraction per resource: ``budget`` for every resource, or a mapping whose missing
    resources keep ``DEFAULT_BUDGET``. Each must be in (0, 1]."""
    if isinstance(budget, Mapping):
        unknown = sorted(set(budget) - set(RESOURCES))
        if unknown:
            raise UserError(f"resource budget names {', '.join(unknown)}: not one of {', '.join(RESOURCES)}")
        given = {**DEFAULT_BUDGET, **budget}
    else:
        given = {name: budget for name in RESOURCES}
    try:
        out = {name: float(value) for name, value in given.items()}
    except (TypeError, ValueError):
        raise UserError(f"resource budget must be numbers in (0, 1], got {budget!r}") from None
    bad = {name: value for name, value in out.items() if not 0 < value <= 1}
    if bad:
        raise UserError(f"resource budget must be in (0, 1], got {bad}")
    return out


def budget_text(budget: Mapping[str, float]) -> str:
    """``80 %`` when every resource has the same budget, else ``LUT 70 %, FF 50 %, ...``."""
    values = set(budget.values())
    if len(values) == 1:
        return f"{100 * values.pop():.0f} %"
    return ", ".join(f"{name} {100 * value:.0f} %" for name, value in budget.items())


def regions(board: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The board's placement regions: one per SLR of its ``floorplan`` (the platform reserve in
    its SLR), or the whole chip; each ``{"name", "resources", "reserved"}`` keyed like ``RESOURCES``."""
    total = {name: float(board["resources"].get(name, 0) or 0) for name in RESOURCES}
    plan = board.get("floorplan") or {}
    count = int(plan.get("slrs", 1))
    reserve = plan.get("platform_reserve") or {}
    out = []
    for index in range(count):
        here = bool(reserve) and (count == 1 or int(reserve.get("slr", 0)) == index)
        out.append({"name": f"SLR{index}" if count > 1 else "chip",
                    "resources": {name: value / count for name, value in total.items()},
                    "reserved": {name: float(reserve.get(name, 0) or 0) if here else 0.0 for name in RESOURCES}})
    return out


def fit_design(used: Mapping[str, float], board: Mapping[str, Any],
               budget: Budget = DEFAULT_BUDGET) -> dict[str, Any]:
    """Utilisation per resource (of one free region), fit under ``budget``, binding resource and
    networks per chip (summed over the regions, each with its copies and binding resource)."""
    budget = budgets(budget)
    need = to_bram36(used)
    places = regions(board)
    free = places[0]["resources"]
    utilisation: dict[str, float | None] = {}
    for name in RESOURCES:
        if need[name] <= 0:
            utilisation[name] = 0.0
        else:
            utilisation[name] = need[name] / free[name] if free[name] > 0 else math.inf
    binding = max(RESOURCES, key=lambda r: utilisation[r] / budget[r])
    per_region = []
    for place in places:
        copies = {name: _copies(need[name], budget[name] * place["resources"][name] - place["reserved"][name])
                  for name in RESOURCES if need[name] > 0}
        region_binding = min(copies, key=copies.get) if copies else None
        per_region.append({"name": place["name"], "copies": min(copies.values()) if copies else None,
                           "binding_resource": region_binding, "copies_by_resource": copies,
                           "reserved": place["reserved"]})
    counts = [r["copies"] for r in per_region]
    networks = None if None in counts else sum(counts)
    # one copy within the budget of a free region (and somewhere to put it, reserve counted)
    fits = all(utilisation[r] <= budget[r] + 1e-12 for r in RESOURCES) and (networks is None or networks >= 1)
    by_resource = {name: sum(r["copies_by_resource"][name] for r in per_region)
                   for name in RESOURCES if need[name] > 0}
    plan = board.get("floorplan") or {}
    return {
        "budget": budget,
        "budget_source": BUDGET_SOURCE if budget == DEFAULT_BUDGET else "compile.budget",
        "used": need,
        "available": {name: board["resources"].get(name, 0) for name in RESOURCES},
        "utilisation": {k: (None if math.isinf(v) else v) for k, v in utilisation.items()},
        "utilisation_of": places[0]["name"] if len(places) > 1 else "chip",
        "fits": fits,
        "binding_resource": binding,
        "networks_per_chip": networks,
        "networks_per_chip_by_resource": by_resource,
        "regions": per_region,
        "floorplan": plan.get("source", NO_FLOORPLAN_NOTE),
        "note": OPTIMISM_NOTE,
    }


def _copies(need: float, usable: float) -> int:
    # a small epsilon keeps exact multiples (e.g. 0.8 * 100 / 20) from rounding down
    return max(0, int(math.floor(usable / need + 1e-9)))


class FitError(UserError):
    """A design (a given folding) exceeds the board's resource budget."""


def require_fit(fit: Mapping[str, Any], board_name: str) -> None:
    """Refuse a design that does not fit: ``FitError`` naming the binding resource."""
    if not fit["fits"]:
        raise FitError(describe_fit(fit, board_name) + "; choose a more folded design (lower PE/SIMD) or a "
                       "larger budget (compile.budget)")


def describe_fit(fit: Mapping[str, Any], board_name: str) -> str:
    """One line for logs: fits or not, and why."""
    binding = fit["binding_resource"]
    util = fit["utilisation"][binding]
    where = "" if fit.get("utilisation_of", "chip") == "chip" else " of an SLR"
    util_text = "not available on the chip" if util is None else f"{util:.1%}{where}"
    verdict = "fits" if fit["fits"] else "does NOT fit"
    return (f"design {verdict} {board_name} within its budget ({budget_text(fit['budget'])}); binding resource "
            f"{binding} ({util_text}, budget {fit['budget'][binding]:.0%}); "
            f"networks per chip: {fit['networks_per_chip']}")
