"""Synthesizable Verilog for the sparse units, cycle-accurate simulation and Yosys synthesis.

``text`` holds the shared Verilog pieces, ``verilog`` and ``kwta_ranked`` the generators,
``cycles`` the cycle formulas of the generated units, ``cases`` a unit under test, ``sim`` the
cocotb + Verilator harness (``bench`` its testbench), ``synth`` and ``tools`` the Yosys runner and
tool lookup, ``calibration`` the table of synthesis counts at the real layer shapes and the
factors fitted from it, ``layers`` a model's hardware layers, ``report`` the per-model report.
The golden models and cost models the units are checked against live in ``units``.
"""
