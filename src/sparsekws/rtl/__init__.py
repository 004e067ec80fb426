"""Synthesizable Verilog for the sparse units, cycle-accurate simulation and Yosys synthesis.

``golden`` holds the numpy models, ``verilog`` the generators, ``cycles`` the cycle formulas,
``sim`` the cocotb + Verilator harness, ``synth`` the Yosys runner, ``calibration`` the table
of synthesis counts at the real layer shapes and ``command`` the per-model report.
"""
