"""Cycle-accurate simulation of a :class:`~sparsekws.rtl.cases.Case` with cocotb + Verilator.

The case's frames are streamed twice: first back to back with the output always ready (cycles
per frame measured from the output beat that ends each frame: the mean from the second frame on,
and the longest interval between two frame ends), then with random input gaps
and random output back-pressure. Every output beat is compared with the golden model.
"""

from __future__ import annotations

import json
import os
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

from sparsekws.rtl.cases import Case
from sparsekws.rtl.tools import apply_verilator_env


@dataclass
class SimResult:
    name: str
    frames: int
    beats_checked: int
    mismatches: int
    first_mismatch: str
    cycles_per_frame_sim: float
    cycles_per_frame_model: int
    first_frame_latency: int  # cycles from the first input beat offered to the frame's last output beat
    cycles_per_frame_worst: float = float("nan")  # the longest interval between two frame ends (steady state)
    intervals: list[int] = field(default_factory=list, repr=False)  # between frame ends, from the second frame

    @property
    def passed(self) -> bool:
        return self.mismatches == 0 and self.beats_checked > 0

    @property
    def cycle_error(self) -> float:
        """Relative difference of the simulated cycles per frame from the formula."""
        return abs(self.cycles_per_frame_sim - self.cycles_per_frame_model) / self.cycles_per_frame_model

    def as_dict(self) -> dict:
        """The summary fields (without the intervals)."""
        return {key: value for key, value in asdict(self).items() if key != "intervals"} | {
            "passed": self.passed, "cycle_error": self.cycle_error}


# C++ optimisation of the simulator: Verilator's default (-Os) takes minutes to compile a large unit
# with its trained constants (the scatter convolution: 9.5 min, against 20 s at -O0), more than a short
# run of frames gains from it
UNOPTIMISED_BUILD = "OPT_FAST=-O0 OPT_SLOW=-O0 OPT_GLOBAL=-O0"


def simulate(case: Case, work_dir: str | os.PathLike, seed: int = 0, back_pressure: bool = True,
             optimise: bool = False) -> SimResult:
    """Build ``case`` with Verilator in ``work_dir`` and run the cocotb bench; compare every beat
    (``back_pressure=False``: the free-running pass only, e.g. for a long run of frames;
    ``optimise``: compile the simulator with Verilator's default C++ optimisation, for long runs)."""
    if case.frames < 3:
        raise ValueError("simulate needs at least 3 frames to measure a steady-state rate")
    passes = 2 if back_pressure else 1
    apply_verilator_env()
    from cocotb_tools.runner import get_runner

    work = Path(work_dir).resolve()
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"{case.name}.v"
    source.write_text(case.verilog)
    expected = case.out_beats * passes
    spec = {"in_beats": [format(b, "x") for b in case.in_beats * passes], "n_out": len(expected),
            "free_in": len(case.in_beats), "free_out": len(case.out_beats), "seed": seed,
            "max_cycles": 20 * (case.frames * case.cycles_per_frame + 100) * passes}
    (work / "case.json").write_text(json.dumps(spec))
    result_path = work / "result.json"
    result_path.unlink(missing_ok=True)
    runner = get_runner("verilator")
    with _make_variables("" if optimise else UNOPTIMISED_BUILD):
        runner.build(sources=[source], hdl_toplevel=case.name, build_dir=work / "build", always=True,
                     # one C++ file: split output uses a precompiled header that the wheel's make rules
                     # do not build ("Vtop__pch.h.fast: linker input file not found")
                     build_args=["-O2", "--output-split", "0"], log_file=work / "build.log")
    runner.test(hdl_toplevel=case.name, test_module="sparsekws.rtl.bench", build_dir=work / "build",
                test_dir=work, extra_env={"SPARSEKWS_RTL_CASE": str(work / "case.json"),
                                          "SPARSEKWS_RTL_RESULT": str(result_path)},
                log_file=work / "sim.log")
    if not result_path.is_file():
        raise RuntimeError(f"simulation of {case.name} wrote no result; see {work / 'sim.log'}")
    return compare(case, json.loads(result_path.read_text()), passes)


@contextmanager
def _make_variables(assignments: str):
    """Pass make variable ``assignments`` to the simulator's build (cocotb's runner calls make with the
    process environment; MAKEFLAGS carries command-line variables)."""
    before = os.environ.get("MAKEFLAGS")
    if assignments:
        os.environ["MAKEFLAGS"] = f"{before} {assignments}" if before else assignments
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("MAKEFLAGS", None)
        else:
            os.environ["MAKEFLAGS"] = before


def compare(case: Case, result: dict, passes: int = 2) -> SimResult:
    """Check the simulated beats against the expected ones and measure cycles per frame."""
    expected = case.out_beats * passes
    got = [int(b, 16) for b in result["outputs"]]
    bad = [i for i, (g, e) in enumerate(zip(got, expected)) if g != e]
    mismatches = len(bad) + abs(len(expected) - len(got))
    first = ""
    if bad:
        first = f"beat {bad[0]}: got {got[bad[0]]:#x}, expected {expected[bad[0]]:#x}"
    elif len(got) != len(expected):
        first = f"{len(got)} output beats, expected {len(expected)} (timeout after {result['cycles']} cycles)"
    per_frame = len(case.out_beats) // case.frames
    ends = [result["out_cycles"][(f + 1) * per_frame - 1] for f in range(case.frames)
            if (f + 1) * per_frame - 1 < len(result["out_cycles"])]
    rate = (ends[-1] - ends[1]) / (len(ends) - 2) if len(ends) >= 3 else float("nan")
    intervals = [b - a for a, b in zip(ends[1:], ends[2:])]
    return SimResult(case.name, case.frames, len(got), mismatches, first, rate, case.cycles_per_frame,
                     ends[0] if ends else -1, max(intervals, default=float("nan")), intervals)
