"""Does a design fit a board, and how many copies of it fit one chip?

``fit_design(used, board, budget)`` compares a design's resource totals (FINN's estimate:
``LUT``, ``BRAM_18K``, ``URAM``, ``DSP``) with the board's resources (``config/boards/*.yaml``,
BRAM counted in BRAM36 blocks). Parameters:

- ``used``: resource totals of one network; ``BRAM_18K`` is converted to BRAM36 (``/2``), a
  ``BRAM36`` key is taken as is.
- ``board``: a board description (``core.config.load_board``) with ``resources``, and for a
  multi-die device its ``floorplan``: ``slrs`` identical super logic regions (each the
  resources / slrs) and the platform's reserve (``platform_reserve``: the shell's static region,
  its resources, the SLR it is placed in, and the source of the numbers).
- ``budget``: the usable fraction of every resource (default 0.8: routing and timing headroom).

Without a floorplan the chip is one region. With one, a network is placed inside one SLR (no
design here says how it would cross one): a region's usable resources are ``budget`` x its
resources minus the reserve placed in it, and its copies the minimum over resources of
``floor(usable / used)``. A design fits when one copy fits a region without the reserve
(utilisation = used / that region's resources <= budget); networks per chip is the sum over
regions, each region naming its binding resource. ``require_fit`` refuses a design that does not
fit (``FitError``, naming the binding resource).

FINN's estimates omit FIFOs and data-width converters, and report 0 LUT for some layer types, and
FF is not estimated: a fit on FINN's totals alone is optimistic.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from sparsekws.core.errors import UserError

RESOURCES = ("LUT", "BRAM36", "URAM", "DSP")
DEFAULT_BUDGET = 0.8
OPTIMISM_NOTE = ("optimistic: FINN's estimates omit FIFOs and data-width converters, and count 0 LUT for some "
                 "layer types; FF is not estimated")
NO_FLOORPLAN_NOTE = "the whole chip as one region: no SLRs or platform reserve given in the board file"


def to_bram36(used: Mapping[str, float]) -> dict[str, float]:
    """Resource totals keyed like the board file (``BRAM_18K`` -> ``BRAM36`` = BRAM_18K / 2)."""
    out = {name: float(used.get(name, 0) or 0) for name in ("LUT", "URAM", "DSP")}
    if "BRAM36" in used:
        out["BRAM36"] = float(used["BRAM36"] or 0)
    else:
        out["BRAM36"] = float(used.get("BRAM_18K", 0) or 0) / 2.0
    return out


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


def fit_design(used: Mapping[str, float], board: Mapping[str, Any], budget: float = DEFAULT_BUDGET) -> dict[str, Any]:
    """Utilisation per resource (of one free region), fit under ``budget``, binding resource and
    networks per chip (summed over the regions, each with its copies and binding resource)."""
    if not 0 < budget <= 1:
        raise UserError(f"resource budget must be in (0, 1], got {budget}")
    need = to_bram36(used)
    places = regions(board)
    free = places[0]["resources"]
    utilisation: dict[str, float | None] = {}
    for name in RESOURCES:
        if need[name] <= 0:
            utilisation[name] = 0.0
        else:
            utilisation[name] = need[name] / free[name] if free[name] > 0 else math.inf
    binding = max(RESOURCES, key=lambda r: utilisation[r])
    per_region = []
    for place in places:
        copies = {name: _copies(need[name], budget * place["resources"][name] - place["reserved"][name])
                  for name in RESOURCES if need[name] > 0}
        region_binding = min(copies, key=copies.get) if copies else None
        per_region.append({"name": place["name"], "copies": min(copies.values()) if copies else None,
                           "binding_resource": region_binding, "copies_by_resource": copies,
                           "reserved": place["reserved"]})
    counts = [r["copies"] for r in per_region]
    networks = None if None in counts else sum(counts)
    # one copy within the budget of a free region (and somewhere to put it, reserve counted)
    fits = all(u <= budget + 1e-12 for u in utilisation.values()) and (networks is None or networks >= 1)
    by_resource = {name: sum(r["copies_by_resource"][name] for r in per_region)
                   for name in RESOURCES if need[name] > 0}
    plan = board.get("floorplan") or {}
    return {
        "budget": budget,
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
                       "larger budget (--budget)")


def describe_fit(fit: Mapping[str, Any], board_name: str) -> str:
    """One line for logs: fits or not, and why."""
    binding = fit["binding_resource"]
    util = fit["utilisation"][binding]
    where = "" if fit.get("utilisation_of", "chip") == "chip" else " of an SLR"
    util_text = "not available on the chip" if util is None else f"{util:.1%}{where}"
    verdict = "fits" if fit["fits"] else "does NOT fit"
    return (f"design {verdict} {board_name} at a {fit['budget']:.0%} budget; binding resource {binding} "
            f"({util_text}); networks per chip: {fit['networks_per_chip']}")
