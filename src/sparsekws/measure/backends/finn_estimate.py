"""The ``finn-estimate`` platform: the compile stage's FINN numbers as records, labelled estimated.

One record per (model, board) for a single network and one for the full chip, where the design
fits the board within the compile budget; a model FINN could not build, or whose best design
does not fit, is listed in ``skipped.csv`` with the reason instead. Power is missing (FINN's analytic model gives none; Vivado's power estimate needs Vivado).
"""

from __future__ import annotations

from sparsekws.finn.compile import NOT_MAPPABLE
from sparsekws.measure.records import skipped_row

NAN = float("nan")
BACKEND = "finn-estimate"


def estimate_records(estimate: dict) -> list[dict]:
    """Rows for one (model, board) estimate: single network, and full chip where it fits; none
    for a model FINN could not build (``status: not-mappable``, see ``skipped_estimates``)."""
    if estimate.get("status") == NOT_MAPPABLE or not _fits(estimate):
        return []
    common = {
        "model": estimate["model"], "platform": estimate["board"], "backend": BACKEND,
        "device": f"{estimate['board']} ({estimate['part']}) at {estimate['clock_mhz']:g} MHz",
        "batch_size": 1, "threads": NAN, "repeats": NAN, "throughput_iqr_words_per_s": NAN,
        "power_w": NAN, "energy_per_word_j": NAN, "source": "estimated",
        "method": (f"{estimate['estimator']}: analytic cycle model (FINN's for its layers, the project's "
                   "for sparse units; cycles without FIFOs or DMA; networks per chip with the shell reserved)"),
        "accuracy_on_measured": NAN, "model_accuracy_on_measured": NAN, "outputs_match_model": NAN,
        "n_measured": 0, "timestamp": "", **estimate["provenance"],
    }
    rows = [{**common, "scope": "single network", "networks": 1,
             "throughput_words_per_s": estimate["fps"], **_latency(estimate["latency"]["ms"])}]
    copies = estimate.get("networks_per_chip", 0)
    if copies:  # copies of the search's full-chip design where there is one (it may be more folded)
        full_chip = estimate.get("full_chip") or estimate
        rows.append({**common, "scope": "full chip", "networks": copies,
                     "throughput_words_per_s": estimate["full_chip_fps"], **_latency(full_chip["latency"]["ms"])})
    return rows


def _latency(ms: float) -> dict:
    return {"latency_p50_ms": ms, "latency_p95_ms": ms, "latency_p99_ms": ms}


def _fits(estimate: dict) -> bool:
    if "fit" in estimate:
        return bool(estimate["fit"].get("fits"))
    return estimate.get("networks_per_chip", 0) > 0


def skipped_estimates(estimate: dict) -> list[dict]:
    """The ``skipped.csv`` row of a model FINN could not build (FINN's reason) or whose best
    design does not fit the board (the binding resource)."""
    if estimate.get("status") == NOT_MAPPABLE:
        reason = estimate["reason"]
    elif not _fits(estimate):
        fit = estimate.get("fit", {})
        binding = fit.get("binding_resource")
        reason = (f"no folding fits {estimate['board']} within the compile budget"
                  + (f" (binding resource {binding}, budget {fit['budget'][binding]:.0%})" if binding else ""))
    else:
        return []
    return [skipped_row(estimate["model"], estimate["board"], BACKEND, reason, estimate["provenance"])]
