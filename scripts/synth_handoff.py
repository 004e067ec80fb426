"""Synthesise a compiled design's generated Verilog with Yosys, layer by layer, beside its estimate.

Usage: python scripts/synth_handoff.py results/hw/<dataset>/<model>/<board> [--only LAYER-SUBSTRING]
                                       [--out CSV] [--work DIR] [--yosys-table CSV] [--timeout S]
Writes <compile folder>/yosys_handoff.csv unless --out is given (``sparsekws.rtl.handoff_synth``).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from sparsekws.core.files import write_csv
from sparsekws.rtl.handoff_synth import synth_handoff

TABLE = Path(__file__).resolve().parents[1] / "config" / "calibration" / "yosys_units.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("compile_dir", type=Path, help="a compile stage folder: results/hw/<dataset>/<model>/<board>")
    parser.add_argument("--only", default=None, help="only layers whose name contains this (e.g. KWinnersHW_2)")
    parser.add_argument("--out", type=Path, default=None, help="CSV to write (default: <compile_dir>/yosys_handoff.csv)")
    parser.add_argument("--work", type=Path, default=None, help="Yosys work folder (default: a temporary one)")
    parser.add_argument("--yosys-table", type=Path, default=TABLE,
                        help="calibration table whose dense units set FINN's LUT scale (default: the committed one)")
    parser.add_argument("--timeout", type=float, default=3600, help="seconds of Yosys per layer (default %(default)s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="synth_handoff_") as tmp:
        table = synth_handoff(args.compile_dir, Path(args.work or tmp), args.yosys_table, args.only, args.timeout,
                              log=lambda msg: print(msg, flush=True))
    out = args.out or args.compile_dir / "yosys_handoff.csv"
    write_csv(out, table)
    print(table.to_string(index=False))
    print(f"written: {out}")


if __name__ == "__main__":
    main()
