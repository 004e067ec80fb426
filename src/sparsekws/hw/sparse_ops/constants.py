"""Every constant of the sparse units' resource model, in one place, and the synthesis calibration.

Two kinds of numbers live here:

- ``FINN_*``: the constants of FINN's own MVAU estimate (FINN-R, Blott et al. 2018, as used by
  finn-plus ``MVAU_hls.lut_estimation`` / ``MVAU.bram_estimation``). They make the sparse
  unit's estimate equal FINN's in the dense limit; do not change them to calibrate.
- ``SPARSE_*``, ``KWTA_*``, ``FF_*``: this project's own model of the extra logic of the
  sparse units (index memories, operand gather, scatter accumulators, k-WTA histogram and
  buffers, registers): first-principles counts of Xilinx primitives (LUT6, 64-deep LUTRAM,
  RAMB18/URAM288 aspect ratios).

Calibration (``calibration.json`` next to this file, written by ``scripts/rtl_calibrate.py``
from Yosys ``synth_xilinx`` counts of the RTL units, ``rtl/calibration.csv``): per unit kind
(``sparse_weights``, ``sparse_sparse``, ``kwta``) a factor on the LUT and FF estimates,

    factor = geomean(Yosys / model over that kind's units) / geomean(Yosys / FINN model over the dense units),

so a sparse unit costs, relative to FINN's dense estimate, what Yosys says it costs relative to
the dense unit at the same shapes (the tool's own bias cancels). Memories (BRAM18, URAM) follow
FINN's aspect-ratio rules and DSPs the multiplier count in both: not calibrated. The HW ops apply
the factors (``calibrated``); ``cost.py`` stays the raw model the factors are fitted to.
``CALIBRATION`` names what is in force (reports quote it next to ``sparsekws-model`` figures).
"""

from __future__ import annotations

import json
from pathlib import Path

#: Where the SPARSE_/KWTA_/FF_ values come from; a calibration script rewrites this and them.
CALIBRATION = "uncalibrated first-principles primitive counts (sparsekws-model)"

# ---- FINN's MVAU model (FINN-R), reproduced for the dense limit -----------------------------
FINN_LUT_BASE = 300            # c0: control logic per MVAU
FINN_LUT_SCALE = 1.1           # c1: multiplier on the per-PE datapath LUTs
FINN_LUTRAM_DEPTH = 64         # weight words per LUTRAM LUT (distributed weight memory, c2)
FINN_EMBEDDED_LUTRAM_MAX_DEPTH = 128   # internal_embedded weights up to this depth go to LUTs
FINN_DSP_INPUT_BITS = 48       # (W + A) bits per DSP slice in FINN's HLS MVAU DSP estimate
URAM_WIDTH, URAM_DEPTH = 72, 4096      # URAM288 aspect used by FINN
#: RAMB18 (simple dual port) aspect ratios used by FINN's BRAM estimate: (max width, depth).
BRAM18_ASPECTS = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))

# ---- sparse matrix-vector unit: extra logic --------------------------------------------------
SPARSE_LUTRAM_DEPTH = 64       # bits of depth per LUTRAM LUT (RAM64X1S), one read port
SPARSE_INPUT_BUFFERS = 2       # ping-pong copies of the input vector per gather lane
SPARSE_CTRL_LUTS_PER_PE = 8    # index/row counters and handshake per PE
SPARSE_SCATTER_BUFFERS = 2     # ping-pong copies of the lane-private accumulators (sparse-sparse)

# ---- k-WTA layer ---------------------------------------------------------------------------
KWTA_LUT_BASE = 120            # control, stream handshake, threshold search FSM
KWTA_LUTS_PER_COMPARE_BIT = 0.5  # carry-chain comparator: 2 bits per LUT
KWTA_GROUP_BUFFERS = 2         # local mode: ping-pong group registers
KWTA_LUTRAM_MAX_BITS = 4096    # frame buffers up to this size go to LUTRAM, larger ones to BRAM18

# ---- flip-flops (FINN has no FF estimate; own model in both limits) --------------------------
FF_BASE = 100                  # handshake and control registers per unit
FF_PER_OPERAND_BIT = 1         # pipeline register per multiplier operand bit
FF_PER_ACC_BIT = 2             # accumulator register plus one pipeline stage

# ---- calibration against synthesis (see the module docstring) ------------------------------
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
UNCALIBRATED = "uncalibrated first-principles primitive counts (sparsekws-model)"
CALIBRATED_RESOURCES = ("LUT", "FF")
#: What the LUT/FF estimates of the sparse units rest on.
CALIBRATION = UNCALIBRATED
#: ``{unit kind: {"LUT": factor, "FF": factor}}``; empty: uncalibrated.
FACTORS: dict[str, dict[str, float]] = {}


def set_calibration(factors: dict[str, dict[str, float]], source: str) -> None:
    """Put ``factors`` (see the module docstring) in force, ``source`` naming where they come from."""
    from sparsekws.errors import ConfigError

    for kind, values in factors.items():
        unknown = sorted(set(values) - set(CALIBRATED_RESOURCES))
        bad = [name for name, value in values.items() if not value > 0]
        if unknown or bad:
            raise ConfigError(f"calibration for {kind!r}: unknown resources {unknown} or non-positive factors {bad}; "
                              f"regenerate it with scripts/rtl_calibrate.py")
    FACTORS.clear()
    FACTORS.update({kind: dict(values) for kind, values in factors.items()})
    globals()["CALIBRATION"] = source if factors else UNCALIBRATED


def calibrated(kind: str | None, resource: str, value: float) -> int:
    """``value`` (a LUT or FF estimate of a unit of ``kind``) times its calibration factor."""
    return int(round(value * FACTORS.get(kind or "", {}).get(resource, 1.0)))


if CALIBRATION_FILE.is_file():
    _table = json.loads(CALIBRATION_FILE.read_text())
    set_calibration(_table["factors"], _table["source"])
