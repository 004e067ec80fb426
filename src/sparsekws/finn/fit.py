"""Does a design fit a board, and how many copies of it fit one chip?

``fit_design(used, board, budget)`` compares a design's resource totals (FINN's estimate:
``LUT``, ``BRAM_18K``, ``URAM``, ``DSP``) with the board's resources (``config/boards/*.yaml``,
BRAM counted in BRAM36 blocks). Parameters:

- ``used``: resource totals of one network; ``BRAM_18K`` is converted to BRAM36 (``/2``), a
  ``BRAM36`` key is taken as is.
- ``board``: a board description (``core.config.load_board``) with ``resources``.
- ``budget``: the usable fraction of every resource (default 0.8: routing and timing headroom).

A design fits when every resource's utilisation is at most ``budget``. The binding resource is
the one with the highest utilisation. ``require_fit`` refuses a design that does not fit
(``FitError``, naming the binding resource). Networks per chip is the minimum over used resources of
``floor(budget * available / used)`` (0 when one resource does not fit even once).

FINN's estimates omit FIFOs, data-width converters and the platform shell (DMA, interconnect),
and report 0 LUT for some layer types: a fit on FINN's totals alone is optimistic.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from sparsekws.core.errors import UserError

RESOURCES = ("LUT", "BRAM36", "URAM", "DSP")
DEFAULT_BUDGET = 0.8
OPTIMISM_NOTE = ("optimistic: FINN's estimates omit FIFOs, data-width converters and the shell "
                 "(DMA, interconnect), and count 0 LUT for some layer types; FF is not estimated")


def to_bram36(used: Mapping[str, float]) -> dict[str, float]:
    """Resource totals keyed like the board file (``BRAM_18K`` -> ``BRAM36`` = BRAM_18K / 2)."""
    out = {name: float(used.get(name, 0) or 0) for name in ("LUT", "URAM", "DSP")}
    if "BRAM36" in used:
        out["BRAM36"] = float(used["BRAM36"] or 0)
    else:
        out["BRAM36"] = float(used.get("BRAM_18K", 0) or 0) / 2.0
    return out


def copies_that_fit(used: float, available: float, budget: float) -> int:
    """How many copies using ``used`` fit in ``budget * available``."""
    if used <= 0:
        raise ValueError("copies_that_fit needs a positive usage")
    # a small epsilon keeps exact multiples (e.g. 0.8 * 100 / 20) from rounding down
    return int(math.floor(budget * available / used + 1e-9))


def fit_design(used: Mapping[str, float], board: Mapping[str, Any], budget: float = DEFAULT_BUDGET) -> dict[str, Any]:
    """Utilisation per resource, fit under ``budget``, binding resource and networks per chip."""
    if not 0 < budget <= 1:
        raise UserError(f"resource budget must be in (0, 1], got {budget}")
    available = board["resources"]
    need = to_bram36(used)
    utilisation: dict[str, float | None] = {}
    copies: dict[str, int] = {}
    for name in RESOURCES:
        have = float(available.get(name, 0) or 0)
        if need[name] <= 0:
            utilisation[name] = 0.0
            continue
        utilisation[name] = need[name] / have if have > 0 else math.inf
        copies[name] = copies_that_fit(need[name], have, budget) if have > 0 else 0
    binding = max(RESOURCES, key=lambda r: utilisation[r])
    fits = all(u <= budget + 1e-12 for u in utilisation.values())
    networks = min(copies.values()) if copies else None
    return {
        "budget": budget,
        "used": need,
        "available": {name: available.get(name, 0) for name in RESOURCES},
        "utilisation": {k: (None if math.isinf(v) else v) for k, v in utilisation.items()},
        "fits": fits,
        "binding_resource": binding,
        "networks_per_chip": networks,
        "networks_per_chip_by_resource": copies,
        "note": OPTIMISM_NOTE,
    }


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
    util_text = "not available on the chip" if util is None else f"{util:.1%}"
    verdict = "fits" if fit["fits"] else "does NOT fit"
    return (f"design {verdict} {board_name} at a {fit['budget']:.0%} budget; binding resource {binding} "
            f"({util_text}); networks per chip: {fit['networks_per_chip']}")
