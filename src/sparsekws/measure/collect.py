"""Combine measurements, FINN estimates, whole-network RTL simulations and skipped backends into
the stage's two tables.

``throughput.csv``: every measured record, every estimate (``finn-estimate``) and every simulation
(``rtl-netsim``), each row keeping its ``source`` (measured / estimated / simulated), ``backend`` and ``method``; an estimate is never turned into
a measurement, and missing power stays missing (NaN). ``skipped.csv``: every backend that produced
no number, with the reason.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sparsekws.core.files import read_json
from sparsekws.measure import RECORD_COLUMNS, SKIPPED_COLUMNS
from sparsekws.measure.backends.finn_estimate import estimate_records, skipped_estimates
from sparsekws.measure.backends.rtl_netsim import simulated_records

__all__ = ["collect", "collect_skipped", "estimate_records"]


def collect(measurement_csvs: list[Path], estimate_jsons: list[Path], simulated_jsons: list[Path] = ()) -> pd.DataFrame:
    """One table of every measurement, estimate and simulation, in ``RECORD_COLUMNS`` order."""
    frames = [pd.read_csv(path) for path in measurement_csvs]
    rows = [row for path in estimate_jsons for row in estimate_records(read_json(path))]
    rows += [row for path in simulated_jsons for row in simulated_records(read_json(path))]
    frames.append(pd.DataFrame(rows, columns=RECORD_COLUMNS))
    frames = [f.reindex(columns=RECORD_COLUMNS) for f in frames if not f.empty]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=RECORD_COLUMNS)
    return table.sort_values(["platform", "model", "scope", "backend", "batch_size"], ignore_index=True)


def collect_skipped(skipped_csvs: list[Path], estimate_jsons: list[Path] = ()) -> pd.DataFrame:
    """Every backend that produced no number, with the reason (models FINN could not build too)."""
    frames = [pd.read_csv(path) for path in skipped_csvs]
    frames.append(pd.DataFrame([row for path in estimate_jsons for row in skipped_estimates(read_json(path))],
                               columns=SKIPPED_COLUMNS))
    frames = [f for f in frames if not f.empty]
    table = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SKIPPED_COLUMNS)
    return table[SKIPPED_COLUMNS].sort_values(["platform", "model", "backend"], ignore_index=True)
