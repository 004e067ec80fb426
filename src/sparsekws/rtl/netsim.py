"""A whole network in RTL: its units stitched into one module by FIFOs and width converters, built
with Verilator and a C++ testbench, and run on many words.

``stitch`` connects the :class:`Stage` s in order: one value per beat in (converters up to the
first stage's lanes), a FIFO (``rtl.stream.fifo``) after every stage, width converters where lane
counts differ, one value per beat out. ``simulate`` builds the simulator once per Verilog text
(cached by its hash) and runs it in two passes:

1. **sizing**: the words offered no faster than the network's cycles per word (the model's, or a
   short back-to-back probe's where slower), every FIFO at its full capacity; each FIFO's peak occupancy is read at the end (``FIFO_REPORT``), and
   its depth set to peak + 1 (a FIFO of that depth never fills under this input, so it never
   stalls its producer);
2. **measurement**: the FIFOs limited to those depths, the input offered back to back (the output
   always ready): per word the cycle of its last output value; steady-state cycles per word are
   the mean interval from the second word on, with its 99th percentile and the first word's
   latency (cycles from the first input beat to the first word's last output).
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from sparsekws.core.files import write_text
from sparsekws.rtl.stream import converter_lanes, fifo, width_converter
from sparsekws.rtl.tools import verilator_env

FIFO_CAPACITY = 1024  # words of every FIFO in the sizing pass
TOP = "net"
_FIFO_LINE = re.compile(r"^FIFO (\S+) peak (\d+) limit (\d+)$", re.M)


@dataclass(frozen=True)
class Stage:
    """One unit of the network: module ``name`` (defined in ``verilog``), its input and output
    streams as lanes x bits per lane; ``what``: a short description (FINN node, unit kind)."""

    name: str
    verilog: str
    in_lanes: int
    in_bits: int
    out_lanes: int
    out_bits: int
    what: str = ""


@dataclass
class Network:
    """The stitched module ``TOP``, its FIFOs (name: width) and width converters (name: lane bits,
    lanes in, lanes out)."""

    verilog: str
    fifos: dict[str, int]
    in_bits: int
    out_bits: int
    stages: list[Stage] = field(default_factory=list)
    converters: dict[str, tuple[int, int, int]] = field(default_factory=dict)

    def plumbing(self, depths: dict[str, int]) -> dict[str, str]:
        """Verilog of every FIFO (at ``depths``) and width converter, by module name (for synthesis)."""
        out = {name: fifo(name, width, depths[name]) for name, width in self.fifos.items()}
        return out | {name: width_converter(name, *lanes) for name, lanes in self.converters.items()}

    @property
    def digest(self) -> str:
        return hashlib.sha256((self.verilog + TESTBENCH).encode()).hexdigest()[:16]


def _instance(lines: list[str], module: str, inst: str, src: str, dst: str) -> None:
    """``module inst`` reading stream ``src`` and driving stream ``dst`` (``<s>_data/_valid/_ready``)."""
    lines.append(f"  {module} {inst} (.clk(clk), .rst_n(rst_n), .in_data({src}_data), .in_valid({src}_valid), "
                 f".in_ready({src}_ready), .out_data({dst}_data), .out_valid({dst}_valid), .out_ready({dst}_ready));")


def _wires(lines: list[str], stream: str, width: int) -> None:
    lines.append(f"  wire [{width - 1}:0] {stream}_data;  wire {stream}_valid, {stream}_ready;")


def stitch(stages: list[Stage], capacity: int = FIFO_CAPACITY) -> Network:
    """The network module ``TOP`` (one value per beat in and out) and every module it instantiates."""
    if not stages:
        raise ValueError("a network needs at least one stage")
    modules, body, fifos, converters = [], [], {}, {}
    bits = stages[0].in_bits
    stream, lanes, n = "s_in", 1, 0

    def convert(to_lanes: int, lane_bits: int) -> None:
        nonlocal stream, lanes, n
        for a, b in converter_lanes(lanes, to_lanes):
            name = f"{TOP}_wc{n}"
            converters[name] = (lane_bits, a, b)
            modules.append(width_converter(name, lane_bits, a, b))
            _wires(body, f"s{n}", b * lane_bits)
            _instance(body, name, f"u_wc{n}", stream, f"s{n}")
            stream, lanes, n = f"s{n}", b, n + 1

    for i, stage in enumerate(stages):
        if stage.in_bits != bits:
            before = stages[i - 1].name if i else "the input"
            raise ValueError(f"{stage.name} takes {stage.in_bits}-bit values, {before} gives {bits}-bit values")
        convert(stage.in_lanes, bits)
        modules.append(stage.verilog)
        _wires(body, f"s{n}", stage.out_lanes * stage.out_bits)
        _instance(body, stage.name, f"u_{stage.name}", stream, f"s{n}")
        stream, lanes, bits, n = f"s{n}", stage.out_lanes, stage.out_bits, n + 1
        name = f"fifo_{stage.name}"
        fifos[name] = lanes * bits
        modules.append(fifo(name, lanes * bits, capacity))
        _wires(body, f"s{n}", lanes * bits)
        _instance(body, name, f"u_{name}", stream, f"s{n}")
        stream, n = f"s{n}", n + 1
    convert(1, bits)
    top = ["`default_nettype none", f"module {TOP} (", "  input  wire clk,", "  input  wire rst_n,",
           f"  input  wire [{stages[0].in_bits - 1}:0] in_data,", "  input  wire in_valid,", "  output wire in_ready,",
           f"  output wire [{bits - 1}:0] out_data,", "  output wire out_valid,", "  input  wire out_ready", ");",
           *_alias_in(stages[0].in_bits), *body,
           f"  assign out_data = {stream}_data;", f"  assign out_valid = {stream}_valid;",
           f"  assign {stream}_ready = out_ready;", "endmodule", "`default_nettype wire", ""]
    return Network("\n".join(modules + top), fifos, stages[0].in_bits, bits, list(stages), converters)


def _alias_in(width: int) -> list[str]:
    return [f"  wire [{width - 1}:0] s_in_data = in_data;", "  wire s_in_valid = in_valid;", "  wire s_in_ready;",
            "  assign in_ready = s_in_ready;"]


TESTBENCH = r"""// Testbench of the stitched network: input values from a file (one hex value per line), one per
// beat; word w offered no earlier than cycle w * throttle (0: back to back); output always ready.
// Writes "<cycle> <hex value>" per output beat. Generated by sparsekws.rtl.netsim; do not edit.
#include <cstdio>
#include <cstdlib>
#include <cinttypes>
#include <vector>
#include "Vnet.h"
#include "verilated.h"

int main(int argc, char** argv) {
  Verilated::commandArgs(argc, argv);
  if (argc < 7) { std::fprintf(stderr, "usage: sim IN OUT BEATS_PER_WORD THROTTLE OUT_BEATS MAX_CYCLES [+fifo=N ...]\n"); return 2; }
  std::FILE* in = std::fopen(argv[1], "r");
  std::FILE* out = std::fopen(argv[2], "w");
  if (!in || !out) { std::perror("open"); return 2; }
  const long per_word = std::atol(argv[3]), throttle = std::atol(argv[4]);
  const long want = std::atol(argv[5]), max_cycles = std::atol(argv[6]);
  std::vector<uint64_t> beats;
  unsigned long long v;
  while (std::fscanf(in, "%llx", &v) == 1) beats.push_back(v);
  Vnet* top = new Vnet;
  top->clk = 0; top->rst_n = 0; top->in_valid = 0; top->out_ready = 1; top->in_data = 0;
  for (int i = 0; i < 4; ++i) { top->clk = 0; top->eval(); top->clk = 1; top->eval(); }
  top->rst_n = 1;
  long cycle = 0, sent = 0, got = 0;
  const long n = (long) beats.size();
  while (got < want && cycle < max_cycles) {
    const bool allowed = throttle == 0 || cycle >= (sent / per_word) * throttle;
    top->in_valid = sent < n && allowed;
    top->in_data = sent < n ? beats[sent] : 0;
    top->out_ready = 1;
    top->clk = 0; top->eval();
    const bool fire_in = top->in_valid && top->in_ready;
    const bool fire_out = top->out_valid;
    const uint64_t value = top->out_data;
    top->clk = 1; top->eval();
    if (fire_in) ++sent;
    if (fire_out) { std::fprintf(out, "%ld %" PRIx64 "\n", cycle, value); ++got; }
    ++cycle;
  }
  top->final();
  std::fclose(out);
  delete top;
  std::printf("cycles %ld sent %ld got %ld\n", cycle, sent, got);
  return got == want ? 0 : 1;
}
"""


def build(network: Network, cache: Path, jobs: int = 2, log=None) -> Path:
    """The simulator binary of ``network`` (built once per Verilog text under ``cache/<digest>``;
    each build in a folder of its own, so that jobs building the same network at once do not meet:
    the first to finish puts its build in place)."""
    if max(network.in_bits, network.out_bits) > 64:
        raise ValueError("the testbench streams values of up to 64 bits")
    folder = Path(cache) / network.digest
    binary = folder / "obj" / "sim"
    if binary.is_file():
        return binary
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f"{network.digest}.", suffix=".tmp"))
    write_text(work / "net.v", network.verilog)
    write_text(work / "tb.cpp", TESTBENCH)
    env = {**os.environ, **verilator_env()}
    command = ["verilator", "--cc", "--exe", "--build", "-j", str(jobs), "-Wno-fatal", "-Wno-lint", "-Wno-style",
               "--top-module", TOP, "--Mdir", "obj", "-o", "sim", "-O2", "--x-assign", "fast", "--x-initial", "fast",
               # the trained constants make large C++ functions: little C++ optimisation builds in a fraction of the
               # time; the PyPI wheel's make rules lack the flag that includes the precompiled header
               "-MAKEFLAGS", "OPT_FAST=-O1 OPT_SLOW=-O0 OPT_GLOBAL=-O1 CFG_CXXFLAGS_PCH_I=-include", "net.v", "tb.cpp"]
    done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True)
    write_text(work / "build.log", done.stdout + done.stderr)
    if done.returncode != 0:
        raise RuntimeError(f"Verilator build of the network failed; see {work / 'build.log'}:\n{done.stderr[-2000:]}")
    if not binary.is_file():
        shutil.rmtree(folder, ignore_errors=True)  # a folder without its binary: a build cut off
        try:
            os.replace(work, folder)
        except OSError:  # another job's build was put in place meanwhile
            pass
    shutil.rmtree(work, ignore_errors=True)
    return binary


@dataclass
class Pass:
    """One run: per output value its cycle and value; each FIFO's peak occupancy and limit."""

    cycles: np.ndarray
    values: np.ndarray
    peaks: dict[str, int]
    limits: dict[str, int]
    complete: bool


def cycle_budget(words: int, beats_per_word: int, cycles_per_word: int = 0, throttle: int = 0) -> int:
    """The cycles a run may take before it counts as stuck: per word 100x its input beats plus 1,000, or
    4x the network's (or the throttle's) cycles per word where that is more, and room for the
    pipeline to fill. A deeply folded network takes millions of cycles per word; a budget from its
    input alone would cut it off and leave its words missing."""
    per_word = max(100 * (beats_per_word + 1000), 4 * max(cycles_per_word, throttle))
    return per_word * (words + 8)


def run(binary: Path, network: Network, inputs: np.ndarray, out_per_word: int, work: Path, throttle: int = 0,
        limits: dict[str, int] | None = None, max_cycles: int | None = None, cycles_per_word: int = 0) -> Pass:
    """Run ``binary`` of ``network`` on ``inputs`` ``[words, values]`` (one value per beat); the
    outputs as signed integers of the network's output width, ``out_per_word`` per word. The run stops
    after ``max_cycles`` (default ``cycle_budget`` for ``cycles_per_word``, the network's expected cycles
    per word); ``complete`` says whether every output came out before."""
    work.mkdir(parents=True, exist_ok=True)
    words, per_word = inputs.shape
    mask, out_bits = (1 << network.in_bits) - 1, network.out_bits
    write_text(work / "inputs.hex", "\n".join(format(int(v) & mask, "x") for v in inputs.reshape(-1)) + "\n")
    want = words * out_per_word
    budget = max_cycles or cycle_budget(words, per_word, cycles_per_word, throttle)
    args = [str(binary), str(work / "inputs.hex"), str(work / "outputs.txt"), str(per_word), str(throttle),
            str(want), str(budget)] + [f"+{name}={depth}" for name, depth in (limits or {}).items()]
    done = subprocess.run(args, capture_output=True, text=True)
    write_text(work / "sim.log", done.stdout + done.stderr)
    rows = np.loadtxt(work / "outputs.txt", dtype=str, ndmin=2) if (work / "outputs.txt").stat().st_size else \
        np.zeros((0, 2), dtype=str)
    cycles = rows[:, 0].astype(np.int64)
    raw = np.array([int(v, 16) for v in rows[:, 1]], dtype=object)
    sign = 1 << (out_bits - 1)
    values = np.array([int(v) - (1 << out_bits) if int(v) & sign else int(v) for v in raw], dtype=np.int64)
    found = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in _FIFO_LINE.finditer(done.stdout)}
    return Pass(cycles, values, {k: p for k, (p, _) in found.items()}, {k: lim for k, (_, lim) in found.items()},
                complete=done.returncode == 0 and len(values) == want)


def simulate(network: Network, inputs: np.ndarray, out_per_word: int, model_cycles: int, cache: Path,
             work: Path, probe_words: int = 64) -> tuple[Pass, Pass]:
    """The sizing and measurement passes of the module docstring. The sizing pass offers a word
    every ``max(model_cycles, probed)`` cycles, ``probed`` the mean cycles per word of a back-to-back
    probe of the first ``probe_words`` words at full FIFO capacity (a network slower than its model
    would otherwise fill the FIFOs before its bottleneck)."""
    binary = build(network, cache)
    probe = run(binary, network, inputs[:probe_words], out_per_word, work / "probe", cycles_per_word=model_cycles)
    probed = timing(probe.cycles, out_per_word)["cycles_per_word_mean"]
    interval = max(model_cycles, math.ceil(probed) if math.isfinite(probed) else 0)
    sizing = run(binary, network, inputs, out_per_word, work / "sizing", throttle=interval)
    measured = run(binary, network, inputs, out_per_word, work / "measure", limits=depths(sizing.peaks),
                   cycles_per_word=interval)
    return sizing, measured


def depths(peaks: dict[str, int]) -> dict[str, int]:
    """FIFO depths from a sizing pass's peaks: peak + 1, at least 2."""
    return {name: max(2, peak + 1) for name, peak in peaks.items()}


def timing(cycles: np.ndarray, out_per_word: int) -> dict[str, float]:
    """Cycles per word from the output cycles of a back-to-back pass (see the module docstring)."""
    ends = cycles[out_per_word - 1::out_per_word]
    intervals = np.diff(ends[1:]) if len(ends) > 2 else np.array([], dtype=np.int64)
    return {"words_timed": int(len(intervals)),
            "cycles_per_word_mean": float(intervals.mean()) if len(intervals) else math.nan,
            "cycles_per_word_p99": float(np.percentile(intervals, 99)) if len(intervals) else math.nan,
            "cycles_per_word_max": float(intervals.max()) if len(intervals) else math.nan,
            "first_word_latency": int(ends[0]) + 1 if len(ends) else -1}
