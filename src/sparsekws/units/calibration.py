"""The calibration of the sparse units' LUT and FF estimates against synthesis, and the one in force.

A calibration file (``config/calibration/factors.json``, written by ``scripts/rtl_calibrate.py``
from the Yosys ``synth_xilinx`` counts of the RTL units in ``config/calibration/yosys_units.csv``)
holds per unit kind (``sparse_weights``, ``sparse_sparse``, ``kwta``) a factor on the LUT and FF
estimates,

    factor = geomean(Yosys / model over that kind's units) / geomean(Yosys / FINN model over the dense units),

so a sparse unit costs, relative to FINN's dense estimate, what Yosys says it costs relative to
the dense unit at the same shapes (the tool's own bias cancels). Memories (BRAM18, URAM) follow
FINN's aspect-ratio rules and DSPs the multiplier count in both: not calibrated.

The factors in force are module state because FINN asks the HW ops for their estimates without
arguments: a command puts a file's factors in force (``use_file``) before it builds or folds a
graph; until then the estimates are the raw model (``UNCALIBRATED``). ``source()`` names what is
in force (reports quote it next to ``sparsekws-model`` figures).
"""

from __future__ import annotations

import json
from pathlib import Path

from sparsekws.core.errors import ConfigError

UNCALIBRATED = "uncalibrated first-principles primitive counts (sparsekws-model)"
CALIBRATED_RESOURCES = ("LUT", "FF")

_state = {"source": UNCALIBRATED, "factors": {}}


def use(factors: dict[str, dict[str, float]], source: str) -> None:
    """Put ``factors`` (``{unit kind: {"LUT": factor, "FF": factor}}``) in force, ``source`` naming them."""
    for kind, values in factors.items():
        unknown = sorted(set(values) - set(CALIBRATED_RESOURCES))
        bad = [name for name, value in values.items() if not value > 0]
        if unknown or bad:
            raise ConfigError(f"calibration for {kind!r}: unknown resources {unknown} or non-positive factors {bad}; "
                              f"regenerate it with scripts/rtl_calibrate.py")
    _state["factors"] = {kind: dict(values) for kind, values in factors.items()}
    _state["source"] = source if factors else UNCALIBRATED


def use_file(path: str | Path) -> None:
    """Put the factors of a calibration file (``{"source": ..., "factors": ...}``) in force."""
    path = Path(path)
    try:
        table = json.loads(path.read_text())
        use(table["factors"], table["source"])
    except FileNotFoundError:
        raise ConfigError(f"calibration file not found: {path}") from None
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ConfigError(f"calibration file {path} is not a factors file ({exc}); regenerate it with "
                          "scripts/rtl_calibrate.py --fit-only") from None


def reset() -> None:
    """Back to the raw model."""
    use({}, UNCALIBRATED)


def source() -> str:
    """What the LUT/FF estimates of the sparse units rest on."""
    return _state["source"]


def factors() -> dict[str, dict[str, float]]:
    """The factors in force (a copy)."""
    return {kind: dict(values) for kind, values in _state["factors"].items()}


def calibrated(kind: str | None, resource: str, value: float) -> int:
    """``value`` (a LUT or FF estimate of a unit of ``kind``) times its calibration factor in force."""
    return int(round(value * _state["factors"].get(kind or "", {}).get(resource, 1.0)))


def unit_estimate(unit, resource: str) -> int:
    """A cost unit's LUT or FF estimate, each of its parts (``unit.parts()``: calibration kind, LUT, FF;
    else the unit whole, of ``unit.calibration_kind``) with its own factor in force."""
    parts = unit.parts() if hasattr(unit, "parts") else [(unit.calibration_kind, unit.luts(), unit.ffs())]
    return sum(calibrated(kind, resource, luts if resource == "LUT" else ffs) for kind, luts, ffs in parts)
