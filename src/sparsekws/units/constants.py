"""Every constant of the sparse units' resource model, in one place, and the synthesis calibration.

Two kinds of numbers live here:

- ``FINN_*``: the constants of FINN's own MVAU estimate (FINN-R, Blott et al. 2018, as used by
  finn-plus ``MVAU_hls.lut_estimation`` / ``MVAU.bram_estimation``). They make the sparse
  unit's estimate equal FINN's in the dense limit; do not change them to calibrate.
- ``SPARSE_*``, ``KWTA_*``, ``FF_*``: this project's own model of the extra logic of the
  sparse units (index memories, operand gather, scatter accumulators, k-WTA histogram and
  buffers, registers): first-principles counts of Xilinx primitives (LUT6, 64-deep LUTRAM,
  RAMB18/URAM288 aspect ratios).

The calibration of the LUT and FF estimates against synthesis is ``units.calibration``;
``cost.py`` stays the raw model the factors are fitted to.
"""

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
SCATTER_POSITION_LUTS = 16     # scatter convolution, per lane and position bank: offset, bounds check, address

# ---- k-WTA layer ---------------------------------------------------------------------------
KWTA_LUT_BASE = 120            # control, stream handshake, threshold search FSM
KWTA_LUTS_PER_COMPARE_BIT = 0.5  # carry-chain comparator: 2 bits per LUT
KWTA_GROUP_BUFFERS = 2         # local mode: ping-pong group registers
KWTA_LUTRAM_MAX_BITS = 4096    # frame buffers up to this size go to LUTRAM, larger ones to BRAM18

# ---- flip-flops (FINN has no FF estimate; own model in both limits) --------------------------
FF_BASE = 100                  # handshake and control registers per unit
FF_PER_OPERAND_BIT = 1         # pipeline register per multiplier operand bit
FF_PER_ACC_BIT = 2             # accumulator register plus one pipeline stage
