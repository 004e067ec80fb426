"""Regenerate config/calibration/yosys_units.csv: Yosys synth_xilinx counts of the dense, sparse,
sparse-sparse and k-WTA units at the real layer shapes (resumable: rows already in the CSV are kept),
then fit the LUT/FF calibration factors of the sparse units' resource model from it
(config/calibration/factors.json, applied by the compile stage).

Usage: python scripts/rtl_calibrate.py [--out CSV] [--work DIR] [--only LAYER-SUBSTRING] [--fresh]
                                       [--fit-only] [--factors JSON]
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path

import pandas as pd

from sparsekws.rtl.calibration import run, write_factors

CALIBRATION = Path(__file__).resolve().parents[1] / "config" / "calibration"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=CALIBRATION / "yosys_units.csv",
                        help="CSV to write (default: the committed table)")
    parser.add_argument("--work", type=Path, default=None, help="Yosys work folder (default: a temporary one)")
    parser.add_argument("--only", default=None, help="only layers whose name contains this")
    parser.add_argument("--fresh", action="store_true", help="start a new table instead of resuming")
    parser.add_argument("--fit-only", action="store_true", help="no synthesis: fit the factors from --out")
    parser.add_argument("--factors", type=Path, default=CALIBRATION / "factors.json",
                        help="factors JSON to write (default: the committed one, which the workflow passes to compile)")
    args = parser.parse_args()
    if args.fit_only:
        table = pd.read_csv(args.out)
    else:
        if args.fresh and args.out.is_file():
            args.out.unlink()
        with tempfile.TemporaryDirectory(prefix="rtl_calibrate_") as tmp:
            table = run(args.out, args.work or tmp, args.only, log=lambda msg: print(msg, flush=True))
        print(f"{len(table)} rows in {args.out}")
    record = write_factors(table, args.factors)
    print(json.dumps(record, indent=2))


if __name__ == "__main__":
    main()
