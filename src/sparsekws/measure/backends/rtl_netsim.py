"""Whole-network RTL simulations (``finn.netsim``, ``<design>.json``) as records, labelled simulated.

One row per simulated design of a (model, board): the fastest network's a single-network row,
the full-chip design's a full-chip row of its copies per chip with its simulated FIFOs and width
converters counted (``fit_with_plumbing``; the compile stage's count where Yosys did not count
them, and the method says so). Words/s from the simulated steady-state cycles per word at the
clock the compile stage assumed, latency of the first word; the method names the simulator and
the number of words. A simulation whose logits differ from the model's gives no row (its record
says why), nor does a design that does not fit its board.
"""

from __future__ import annotations

NAN = float("nan")
BACKEND = "rtl-netsim"


def simulated_records(record: dict) -> list[dict]:
    """The row of one simulation record (none when the simulation did not pass, or when the simulated
    design does not fit its board: the estimate's row says so)."""
    if not record.get("passed") or not record.get("design_fits", True):
        return []
    latency = record["latency_ms"]
    scope, networks, copies_note = "single network", 1, ""
    if record.get("design") == "full_chip":
        fit = record.get("fit_with_plumbing", {})
        counted = fit.get("status") == "counted"
        scope, networks = "full chip", fit["copies_per_chip"] if counted else fit.get("copies_per_chip_without")
        copies_note = ("; copies per chip with the simulated FIFOs and width converters" if counted
                       else f"; copies per chip without FIFOs ({fit.get('status', 'not counted')})")
        if not networks:
            return []
    return [{
        "model": record["model"], "platform": record["board"], "backend": BACKEND,
        "device": f"{record['board']} RTL in {record['simulator']} at {record['clock_mhz']:g} MHz (assumed clock)",
        "scope": scope, "networks": networks, "batch_size": 1, "threads": NAN, "repeats": NAN,
        "throughput_words_per_s": networks * record["words_per_second"], "throughput_iqr_words_per_s": NAN,
        "latency_p50_ms": latency, "latency_p95_ms": latency, "latency_p99_ms": latency,
        "power_w": NAN, "energy_per_word_j": NAN, "source": "simulated",
        "method": (f"{record['method']}; {record['words']} words, mean {record['cycles_per_word_mean']:.1f} "
                   f"cycles/word (p99 {record['cycles_per_word_p99']:.0f}), latency = the first word's{copies_note}"),
        "accuracy_on_measured": record["test_accuracy_simulated"], "model_accuracy_on_measured": NAN,
        "outputs_match_model": 1.0 - record["words_mismatching"] / record["words"],
        "n_measured": record["words"], "timestamp": "", **record["provenance"],
    }]
