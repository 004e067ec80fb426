"""Yosys ``synth_xilinx`` of one generated module: LUT/FF/BRAM/DSP counts and logic depth.

Counts follow Vivado's utilisation categories: ``lut_logic`` (LUT1..LUT6), ``lut_mem``
(LUTs used as distributed RAM or shift registers), ``ff``, ``bram18`` (RAMB18 = 1, RAMB36 = 2),
``uram``, ``dsp`` and ``carry``. ``depth`` is Yosys' ``ltp`` over the combinational cells
(flip-flops and block RAMs cut paths): cells on the longest register-to-register path (LUTs,
CARRY4 slices, MUXF7-9, DSPs), a proxy for the critical path. Yosys 0.23 maps carries to
CARRY4 also for UltraScale+; counts are from Yosys, not Vivado (no place and route).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from sparsekws.rtl.tools import yosys_path

LUT_RAM = {"RAM16X1S": 1, "RAM32X1S": 1, "RAM64X1S": 1, "RAM128X1S": 2, "RAM256X1S": 4,
           "RAM32X1D": 2, "RAM64X1D": 2, "RAM128X1D": 4, "RAM32M": 4, "RAM64M": 4, "RAM32M16": 8,
           "RAM64M8": 8, "SRL16E": 1, "SRLC32E": 1, "SRLC16E": 1}
FLIP_FLOPS = {"FDRE", "FDSE", "FDCE", "FDPE"}
BRAM18 = {"RAMB18E2": 1, "RAMB36E2": 2, "RAMB18E1": 1, "RAMB36E1": 2}


@dataclass
class SynthResult:
    top: str
    lut: int  # lut_logic + lut_mem
    lut_logic: int
    lut_mem: int
    ff: int
    bram18: int
    uram: int
    dsp: int
    carry: int
    depth: int
    seconds: float

    def as_dict(self) -> dict:
        return asdict(self)


def count_cells(cells: dict[str, int]) -> dict[str, int]:
    """Utilisation categories from a cell-type histogram."""
    lut_logic = sum(n for kind, n in cells.items() if re.fullmatch(r"LUT[1-6]", kind))
    lut_mem = sum(LUT_RAM.get(kind, 0) * n for kind, n in cells.items())
    return {"lut": lut_logic + lut_mem, "lut_logic": lut_logic, "lut_mem": lut_mem,
            "ff": sum(n for kind, n in cells.items() if kind in FLIP_FLOPS),
            "bram18": sum(BRAM18.get(kind, 0) * n for kind, n in cells.items()),
            "uram": cells.get("URAM288", 0),
            "dsp": sum(n for kind, n in cells.items() if kind.startswith("DSP48")),
            "carry": sum(n for kind, n in cells.items() if kind.startswith("CARRY"))}


class SynthTimeout(RuntimeError):
    """Yosys ran longer than allowed."""


def parse_depth(log: str) -> int:
    """The length from ``ltp``'s 'Longest topological path ... (length=N)' line."""
    match = re.search(r"Longest topological path in \S+ \(length=(\d+)\)", log)
    if not match:
        raise RuntimeError("yosys ltp printed no longest path")
    return int(match.group(1))


#: Vivado's attribute values Yosys spells otherwise: a ROM in LUTs is "distributed" to Vivado and
#: "logic" to Yosys (whose LUT-RAM mapping wants a write port)
YOSYS_SPELLING = {'rom_style = "distributed"': 'rom_style = "logic"'}


def synthesize(verilog: str, top: str, work_dir: str | os.PathLike, family: str = "xcup",
               timeout_s: float = 3600, dsp: bool = True) -> SynthResult:
    """Run ``synth_xilinx -family <family> -flatten`` on ``verilog`` (module ``top``); ``dsp=False``
    adds ``-nodsp`` (multipliers in LUTs)."""
    work = Path(work_dir)
    work.mkdir(parents=True, exist_ok=True)
    source = work / f"{top}.v"
    for vivado, yosys in YOSYS_SPELLING.items():
        verilog = verilog.replace(vivado, yosys)
    source.write_text(verilog)
    stat = work / "stat.json"
    # ltp's -noff does not know Xilinx flip-flops: select the combinational cells by hand
    script = (f"read_verilog {source.name}; synth_xilinx -family {family} -top {top} -flatten -noiopad"
              f"{'' if dsp else ' -nodsp'}; "
              f"tee -q -o {stat.name} stat -json; "
              "select -set comb t:* t:FD* %d t:RAMB* %d t:URAM* %d; ltp w:* @comb %u")
    start = time.perf_counter()
    try:
        proc = subprocess.run([yosys_path(), "-q", "-l", "yosys.log", "-p", script], cwd=work,
                              capture_output=True, text=True, timeout=timeout_s)
    except subprocess.TimeoutExpired:
        raise SynthTimeout(f"yosys did not finish {top} within {timeout_s:.0f} s (the unit is too large for "
                           "this machine; synthesise it where there is more time)") from None
    seconds = time.perf_counter() - start
    log = (work / "yosys.log").read_text() if (work / "yosys.log").is_file() else proc.stderr
    if proc.returncode != 0:
        raise RuntimeError(f"yosys failed on {top} (exit {proc.returncode}): {proc.stderr.strip()[-500:]}")
    cells = _cells(stat, top)
    return SynthResult(top=top, **count_cells(cells), depth=parse_depth(log), seconds=round(seconds, 2))


def _cells(stat: Path, top: str) -> dict[str, int]:
    data = json.loads(stat.read_text())
    modules = data.get("modules", {})
    module = modules.get(f"\\{top}") or modules.get(top) or next(iter(modules.values()))
    return {kind.lstrip("\\"): int(n) for kind, n in module.get("num_cells_by_type", {}).items()}
