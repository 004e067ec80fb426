"""The compile stage's results as one table: per (model, board) the tuned design beside the
stock-settings one, with throughput, resources, fit and networks per chip (all estimated)."""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import pandas as pd

NAN = float("nan")
COMPILE_NOTE = ("tuned: the folding search over PE/SIMD, weight memory and arithmetic style; stock: FINN's "
                "default settings with only PE/SIMD searched; both within the utilisation budget "
                "(compile.budget); fps, cycles and resources: the fastest network; networks per chip and full-chip "
                "fps: the search's full-chip design (most words/s per chip), whose cycles and binding resource "
                "are the full_chip_ columns")
COLUMNS = ["model", "board", "status", "estimator", "fps", "max_cycles", "latency_ms", "LUT", "FF", "BRAM36", "URAM",
           "DSP", "fits", "binding_resource", "networks_per_chip", "full_chip_fps", "full_chip_max_cycles",
           "full_chip_binding_resource", "stock_fps",
           "stock_networks_per_chip", "stock_binding_resource", "stock_full_chip_fps", "tuned_over_stock_full_chip",
           "sparse_calibration", "note"]


def _design(estimate: Mapping[str, Any]) -> dict[str, Any]:
    used = estimate.get("fit", {}).get("used", {})
    stock = estimate.get("stock") or {}
    full_chip = estimate.get("full_chip_fps", NAN) if estimate.get("networks_per_chip") else 0.0
    stock_full = stock.get("full_chip_fps", NAN) if stock.get("networks_per_chip") else (0.0 if stock else NAN)
    return {
        "estimator": estimate.get("estimator", ""), "fps": estimate.get("fps", NAN),
        "max_cycles": estimate.get("max_cycles", NAN), "latency_ms": estimate.get("latency", {}).get("ms", NAN),
        **{key: used.get(key, NAN) for key in ("LUT", "FF", "BRAM36", "URAM", "DSP")},
        "fits": estimate.get("fit", {}).get("fits"), "binding_resource": estimate.get("fit", {}).get("binding_resource"),
        "networks_per_chip": estimate.get("networks_per_chip", 0), "full_chip_fps": full_chip,
        "full_chip_max_cycles": (estimate.get("full_chip") or {}).get("max_cycles", NAN),
        "full_chip_binding_resource": (estimate.get("full_chip") or {}).get("binding_resource"),
        "stock_fps": stock.get("fps", NAN), "stock_networks_per_chip": stock.get("networks_per_chip", NAN),
        "stock_binding_resource": stock.get("binding_resource"), "stock_full_chip_fps": stock_full,
        "tuned_over_stock_full_chip": full_chip / stock_full if stock_full else NAN,
        "sparse_calibration": _calibration(estimate.get("resource_calibration")),
        "note": "" if estimate.get("fit", {}).get("fits", True) else "no folding fits within the budget",
    }


def _calibration(record: Mapping[str, Any] | None) -> str:
    """``yosys-calibrated`` / ``uncalibrated`` for a design with sparse layers, empty otherwise."""
    if not record:
        return ""
    return "yosys-calibrated" if record.get("calibrated") else "uncalibrated"


def compile_table(estimates: Iterable[Mapping[str, Any]]) -> pd.DataFrame:
    """One row per ``estimate.json``; a model FINN could not build keeps its reason in ``note``."""
    rows = []
    for estimate in estimates:
        row = {"model": estimate["model"], "board": estimate["board"], "status": estimate.get("status", "")}
        if estimate.get("status") == "estimated":
            row.update(_design(estimate))
        else:
            row["note"] = estimate.get("reason", "")
        rows.append(row)
    return pd.DataFrame(rows, columns=COLUMNS).sort_values(["model", "board"], ignore_index=True)
