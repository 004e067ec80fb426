"""cocotb testbench: stream a case's input beats, collect every output beat with its cycle.

Reads the JSON named by $SPARSEKWS_RTL_CASE (``in_beats``, ``n_out``, ``free_in``, ``free_out``,
``seed``) and writes ``outputs``/``out_cycles`` to $SPARSEKWS_RTL_RESULT. The first ``free_in``
input beats are offered back to back and the first ``free_out`` output beats are taken at once
(for the cycle count); after that input valid and output ready are random (back-pressure).
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ReadOnly, RisingEdge


@cocotb.test()
async def stream(dut):
    case = json.loads(Path(os.environ["SPARSEKWS_RTL_CASE"]).read_text())
    beats = [int(b, 16) for b in case["in_beats"]]
    rng = random.Random(case["seed"])
    cocotb.start_soon(Clock(dut.clk, 10, unit="ns").start())
    dut.rst_n.value = 0
    dut.in_valid.value = 0
    dut.in_data.value = 0
    dut.out_ready.value = 0
    for _ in range(3):
        await RisingEdge(dut.clk)
    dut.rst_n.value = 1
    outputs, out_cycles, sent, cycle = [], [], 0, 0
    limit = case["max_cycles"]
    while len(outputs) < case["n_out"] and cycle < limit:
        valid = sent < len(beats) and (sent < case["free_in"] or rng.random() < 0.7)
        ready = len(outputs) < case["free_out"] or rng.random() < 0.5
        dut.in_valid.value = int(valid)
        dut.in_data.value = beats[sent] if sent < len(beats) else 0
        dut.out_ready.value = int(ready)
        await ReadOnly()
        took = valid and bool(dut.in_ready.value)
        if ready and bool(dut.out_valid.value):
            outputs.append(format(dut.out_data.value.to_unsigned(), "x"))
            out_cycles.append(cycle)
        await RisingEdge(dut.clk)
        sent += took
        cycle += 1
    Path(os.environ["SPARSEKWS_RTL_RESULT"]).write_text(
        json.dumps({"outputs": outputs, "out_cycles": out_cycles, "cycles": cycle}))
