"""Simulate an RTL case with cocotb + Verilator, or skip the test where the tools are missing."""

from __future__ import annotations

import pytest


def simulate_or_skip(case, work_dir, seed=0):
    from sparsekws.rtl.sim import simulate
    from sparsekws.rtl.tools import ToolMissing, apply_verilator_env

    try:
        apply_verilator_env()
    except ToolMissing as exc:
        pytest.skip(str(exc))
    return simulate(case, work_dir, seed=seed)
