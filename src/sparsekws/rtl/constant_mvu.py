"""Verilog of the constant-coefficient matrix unit: one input vector per cycle, the trained weights
as logic (``units.constant``).

A bitstream holds one trained network, so a layer small enough to run fully parallel (every
output, every input, each cycle) needs no weight memory and no multipliers: each product
``w * x`` is ``x`` shifted and added by the canonical signed digits of the constant ``w``
(``units.constant.csd``), zero weights vanish, and each output is one adder tree over its terms,
then its thresholds (constants too). Ports as ``rtl.verilog`` (input beat = the whole vector,
output beat = every output); one vector per cycle, two register stages (input, output) with
back-pressure. Cycles per frame: 1 per vector.
"""

from __future__ import annotations

import numpy as np

from sparsekws.rtl.text import Text, const
from sparsekws.rtl.verilog import MvuShape, activation
from sparsekws.units.constant import csd


def _product_terms(weight: int, operand: str, width: int) -> list[str]:
    """``weight * operand`` as signed shifted copies of ``operand`` (``width`` bits, sign-extended)."""
    terms = []
    for shift, digit in csd(int(weight)):
        shifted = f"(x_{operand} <<< {shift})" if shift else f"x_{operand}"
        terms.append(("- " if digit < 0 else "+ ") + shifted)
    return terms


def constant_mvu(name: str, shape: MvuShape, weights: np.ndarray, thresholds: np.ndarray) -> str:
    """The fully parallel unit (``shape.pe`` = rows, ``shape.simd`` = cols) for integer ``weights``
    ``[rows, cols]`` and ascending ``thresholds`` ``[rows, 2^obits - 1]`` (clipped to the accumulator)."""
    weights = np.asarray(weights, dtype=np.int64)
    if weights.shape != (shape.rows, shape.cols):
        raise ValueError(f"weights must have shape {(shape.rows, shape.cols)}, got {weights.shape}")
    if (shape.pe, shape.simd) != (shape.rows, shape.cols):
        raise ValueError(f"constant_mvu computes a whole vector per cycle: PE must be {shape.rows} and SIMD "
                         f"{shape.cols}, got {shape.pe} and {shape.simd}")
    levels = (1 << shape.obits) - 1
    if np.shape(thresholds) != (shape.rows, levels):
        raise ValueError(f"thresholds must have shape {(shape.rows, levels)}, got {np.shape(thresholds)}")
    ab, accb = shape.abits, shape.acc_bits
    lo, hi = -(1 << (accb - 1)), (1 << (accb - 1)) - 1
    limits = np.clip(np.asarray(thresholds, dtype=np.int64), lo, hi)
    t = Text()
    t.header(name, f"constant-coefficient MVU {shape.rows}x{shape.cols} ({int((weights != 0).sum())} non-zero "
             f"weights) A{ab}->{shape.obits}", shape.cols * ab, shape.rows * shape.obits)
    t.add("  wire adv = !out_valid || out_ready;", "  assign in_ready = adv;",
          f"  reg [{shape.cols * ab - 1}:0] x_q;", "  reg v_q;",
          "  always @(posedge clk) begin",
          "    if (!rst_n) begin v_q <= 1'b0; out_valid <= 1'b0; end",
          "    else if (adv) begin v_q <= in_valid; out_valid <= v_q; end",
          "  end",
          "  always @(posedge clk) if (adv) x_q <= in_data;")
    for col in range(shape.cols):
        if weights[:, col].any():
            value = activation(f"x_q[{col * ab} +: {ab}]", ab, shape.in_signed)
            t.add("  /* verilator lint_off WIDTHEXPAND */", f"  wire signed [{accb - 1}:0] x_{col} = $signed({value});",
                  "  /* verilator lint_on WIDTHEXPAND */")
    outs = []
    for row in range(shape.rows):
        terms = [term for col in np.flatnonzero(weights[row]) for term in _product_terms(weights[row, col], str(col), accb)]
        total = " ".join(terms).lstrip("+ ") if terms else f"{accb}'sd0"
        t.add("  /* verilator lint_off WIDTHEXPAND */",
              f"  wire signed [{accb - 1}:0] s{row} = {total};",
              "  /* verilator lint_on WIDTHEXPAND */")
        compares = " + ".join(f"{{{shape.obits - 1}'d0, (s{row} >= $signed({const(accb, int(limit))}))}}"
                              if shape.obits > 1 else f"(s{row} >= $signed({const(accb, int(limit))}))"
                              for limit in limits[row])
        t.add(f"  wire [{shape.obits - 1}:0] q{row} = {compares};")
        outs.append(f"q{row}")
    t.add(f"  always @(posedge clk) if (adv) out_data <= {{{', '.join(reversed(outs))}}};")
    t.footer()
    return t.text()
