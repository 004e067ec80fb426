"""FINN dataflow build (estimates) of one exported model for one board (what ``compile`` runs).

Runs the FINN estimate flow (``finn.build``) for the board's FPGA part and clock, searches the
folding (``finn.folding``, with FINN's stock settings and tuned: the fastest folding of one
network that fits the board within the budget ``compile.budget``, and the folding with the most
words/s per chip), checks the fit (``finn.fit``) and writes, atomically, into the output folder:

- ``estimate.json``: per-layer folding, cycles and resources (each tagged with its estimator),
  totals, throughput at the board clock, latency and fit (binding resource) of the fastest
  (tuned) network; networks per chip and full-chip throughput of the full-chip design
  (``full_chip``); ``stock`` and ``tuned`` sections side by side; the Python-execution check,
  what FINN steps ran and which need Vivado, provenance;
- ``folding_config.json``: the fastest network's folding in FINN's ``ApplyConfig`` format
  (reusable as a given folding, and by the Vivado build); ``folding_config_full_chip.json``: the
  full-chip design's, when searched;
- ``finn/``: FINN's own reports (``report/``), the graph after the main steps (``onnx/``),
  the dataflow partition and the per-layer HLS/RTL code (``codegen/``, the Vivado hand-off).

A given folding config is applied as is and refused (``FitError``, naming
the binding resource) if it exceeds the budget. Without Vivado the flow stops at estimates and
HLS code; no bitstream is produced and the record says so. A model with a node that has no
hardware layer gets ``"status": "not-mappable"`` and the reason instead of numbers, so that the
rest of the workflow still runs.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from sparsekws.core.files import atomic_dir, write_json
from sparsekws.core.provenance import stamp
from sparsekws.core.environment import vivado_status
from sparsekws.finn.build import BuildTarget, NotMappableError, estimate_dataflow
from sparsekws.finn.fit import DEFAULT_BUDGET, budgets, describe_fit, fit_design, require_fit
from sparsekws.finn.folding import RESOURCE_KEYS
from sparsekws.units import calibration

log = logging.getLogger(__name__)

ESTIMATOR = "finn-estimate"
ESTIMATED, NOT_MAPPABLE = "estimated", "not-mappable"  # estimate.json "status"
SPARSITY_NOTE = ("FINN's MVAU cost depends on the matrix shape and folding only: zero weights are "
                 "stored and multiplied like any other, so unstructured sparsity changes neither "
                 "cycles nor memory in these estimates")
SPARSE_HW_NOTE = ("layers in 'sparse_hw_layers' are the project's own HW ops (k-WTA, sparse matrix unit): "
                  "their cycles and resources come from the project's cost model (estimator 'sparsekws-model'); "
                  "FINN's own layers keep FINN's estimates, which ignore zero weights")
NO_FIT_NOTE = ("no folding fits this board within the budget: the numbers are those of the design closest to "
               "fitting (networks_per_chip 0)")
SEARCH_ESTIMATOR = "sparsekws-model"  # folding search, placement and fit, on the layers' estimates
SOURCES = {
    "layers": "each layer's 'estimator': finn-estimate (FINN's analytical model) or sparsekws-model "
              "(LUT/FF with the Yosys calibration named in 'resource_calibration')",
    "totals, max_cycles, fps, latency": "sums / board-clock arithmetic over the layer estimates",
    "fit, networks_per_chip, full_chip_fps, stock, tuned": "sparsekws-model (sparsekws.finn.folding / finn.fit "
                                                          "on the layer estimates)",
    "vivado": "vivado (only when reports from a Vivado run exist: vivado/ next to this file)",
}
BOARD_NOTE = ("FINN's estimate flow does not differentiate boards beyond layer specialisation for the "
              "part and the folding target at the board clock: per-layer estimates may be identical "
              "across boards; clock, fps and fit differ")


def build_target(compile_cfg: dict[str, Any], board: dict[str, Any], folding_config: Path | None = None
                 ) -> BuildTarget:
    """The FINN build target for ``board``: a folding search within ``compile.budget`` unless a config is given."""
    return BuildTarget(fpga_part=board["part"], clock_mhz=float(board["clock_mhz"]),
                       target_fps=float(compile_cfg["target_fps"]),
                       mvau_wwidth_max=int(compile_cfg["mvau_wwidth_max"]),
                       folding_config=folding_config, board=board,
                       budget=budgets(compile_cfg.get("budget", DEFAULT_BUDGET)))


def search_section(search: dict[str, Any], clock_hz: float) -> dict[str, Any]:
    """The ``stock`` / ``tuned`` record of one search: the fastest fitting network (``fps``, its fit,
    ``copies_of_fastest``) and the full-chip design (``full_chip``; ``networks_per_chip`` and
    ``full_chip_fps`` are its)."""
    chosen = search["chosen"]
    full_chip = full_chip_design(search.get("full_chip"), clock_hz)
    return {"estimator": SEARCH_ESTIMATOR, "settings": search["settings"], "fits": chosen["fits"],
            "max_cycles": chosen["max_cycles"], "fps": clock_hz / chosen["max_cycles"], "totals": chosen["totals"],
            "binding_resource": chosen["binding_resource"], "utilisation": chosen["fit"]["utilisation"],
            "copies_of_fastest": chosen["networks_per_chip"],
            "networks_per_chip": full_chip["networks_per_chip"] if full_chip else 0,
            "full_chip_fps": full_chip["full_chip_fps"] if full_chip else 0.0,
            "wwidth_max": chosen["wwidth_max"], "refused": chosen["refused"], "folding": _folding(chosen),
            "layer_estimators": {name: layer["estimator"] for name, layer in chosen["layers"].items()},
            "full_chip": full_chip, "candidates": search["candidates"]}


def _folding(candidate: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {name: {k: v for k, v in attrs.items() if k != "op_type"} for name, attrs in candidate["folding"].items()}


def full_chip_design(candidate: dict[str, Any] | None, clock_hz: float) -> dict[str, Any] | None:
    """The search's design with the most words/s per chip (copies x fps; ``folding.best_full_chip``):
    its per-network speed, latency, copies (per region too: ``finn.fit.regions``), binding resource
    and folding; ``None`` if nothing fits."""
    if not candidate:
        return None
    fps = clock_hz / candidate["max_cycles"]
    latency_cycles = sum(layer["cycles"] for layer in candidate["layers"].values())
    return {"max_cycles": candidate["max_cycles"], "fps": fps, "networks_per_chip": candidate["networks_per_chip"],
            "full_chip_fps": candidate["networks_per_chip"] * fps, "binding_resource": candidate["binding_resource"],
            "utilisation": candidate["fit"]["utilisation"], "totals": candidate["totals"],
            "regions": [{key: region[key] for key in ("name", "copies", "binding_resource")}
                        for region in candidate["fit"].get("regions", [])],
            "latency": {"cycles": latency_cycles, "ms": latency_cycles / clock_hz * 1e3},
            "target_cycles": candidate["target_cycles"], "wwidth_max": candidate["wwidth_max"],
            "mem_mode": candidate.get("mem_mode"), "folding": _folding(candidate)}


def resource_calibration() -> dict[str, Any]:
    """What the sparse layers' LUT/FF estimates rest on (``units.calibration``)."""
    factors = calibration.factors()
    return {"source": calibration.source(), "factors": factors, "calibrated": bool(factors)}


def summarise(model_name: str, board: dict[str, Any], target: BuildTarget, result: dict[str, Any]) -> dict[str, Any]:
    """The ``estimate.json`` record from the FINN flow's result."""
    layers = []
    for name, cycles in result["layer_cycles"].items():
        res = result["layer_resources"].get(name, {})
        fold = result["folding"].get(name, {})
        layers.append({
            "name": name,
            "op_type": fold.get("op_type", ""),
            "PE": fold.get("PE"),
            "SIMD": fold.get("SIMD"),
            "cycles": int(cycles),
            **{key: float(res.get(key, 0)) for key in RESOURCE_KEYS},
            "weight_zero_fraction": result["weight_zero_fraction"].get(name),
            "estimator": result["layer_estimators"].get(name, ESTIMATOR),
        })
    totals = {key: float(sum(layer[key] for layer in layers)) for key in RESOURCE_KEYS}
    max_cycles = max(layer["cycles"] for layer in layers)
    latency_cycles = sum(layer["cycles"] for layer in layers)
    clock_hz = target.clock_mhz * 1e6
    fps = clock_hz / max_cycles
    budget = target.budget
    fit = {**fit_design(totals, board, budget), "ff_unmodelled": result.get("ff_unmodelled", [])}
    search = result.get("search")
    tuned = search_section(search["tuned"], clock_hz) if search else None
    if tuned:  # the full chip runs the search's full-chip design, not copies of the fastest network
        networks, full_chip_fps = tuned["networks_per_chip"], tuned["full_chip_fps"]
    else:
        networks = (fit["networks_per_chip"] or 0) if fit["fits"] else 0
        full_chip_fps = networks * fps
    estimators = sorted({layer["estimator"] for layer in layers})
    own_layers = [layer["name"] for layer in layers if layer["estimator"] != ESTIMATOR]
    method = "folding_config" if target.folding_config else ("search" if search else "SetFolding")
    macs = {k: v for k, v in result["ops_and_params"].get("total", {}).items() if k.startswith("op_")}
    params = {k: v for k, v in result["ops_and_params"].get("total", {}).items() if k.startswith("param_")}
    return {
        "model": model_name,
        "board": board["name"],
        "part": board["part"],
        "clock_mhz": target.clock_mhz,
        "estimator": "+".join(estimators),
        "status": ESTIMATED,
        "provenance_kind": "estimated",
        "finn_plus_version": result["finn_version"],
        "layers": layers,
        "totals": totals,
        "max_cycles": max_cycles,
        "bottleneck_layer": result["performance"].get("max_cycles_node_name"),
        "fps": fps,
        "latency": {"cycles": latency_cycles, "ms": latency_cycles / clock_hz * 1e3,
                    "finn_critical_path_cycles": int(result["performance"].get("critical_path_cycles", 0))},
        "folding": {
            "method": method,
            "chosen_from": "tuned" if search else None,
            "budget": budget,
            "folding_config_file": str(target.folding_config) if target.folding_config else None,
            "target_fps": target.target_fps,
            "target_cycles_per_frame": result["target_cycles_per_frame"],
            "target_met": (max_cycles <= result["target_cycles_per_frame"]
                           if result["target_cycles_per_frame"] else None),
            "mvau_wwidth_max": target.mvau_wwidth_max,
            "layers": result["folding"],
        },
        "ops": macs,
        "params": params,
        "fit": fit,
        "networks_per_chip": networks,
        "full_chip_fps": full_chip_fps,
        "full_chip": tuned["full_chip"] if tuned else None,
        "stock": search_section(search["stock"], clock_hz) if search else None,
        "tuned": tuned,
        "sources": SOURCES,
        "sparsity": {"weight_zero_fraction": result["weight_zero_fraction"],
                     "visible_to_finn": False, "sparse_hw_layers": own_layers,
                     "sparse_hw_pass": bool(result.get("sparse_pass")),
                     "note": SPARSE_HW_NOTE if own_layers else SPARSITY_NOTE},
        "resource_calibration": resource_calibration() if own_layers else None,
        "host_nodes": result["host_nodes"],
        "dataflow_partitions": 1,
        "python_execution": {"passed": all(c["passed"] for c in result["python_checks"]),
                             "top_classes_agree": all(c["argmax_agreement"] == 1.0 for c in result["python_checks"]),
                             "checks": result["python_checks"]},
        "codegen": {k: v for k, v in result["codegen"].items() if k != "files"},
        "steps": result["steps"],
        "steps_not_run": result["steps_not_run"],
        "vivado": {"available": result["vivado"]["available"], "reason": result["vivado"]["reason"]},
        "bitstream": None,
        "notes": [BOARD_NOTE, fit["note"],
                  "full_chip_fps assumes every copy runs at the board clock with its own I/O",
                  *(["the full chip runs copies of the search's full-chip design ('full_chip': most words/s "
                     "per chip), which may be more folded than the one-network design ('fps', 'layers')"]
                    if tuned else []),
                  *([] if fit["fits"] else [NO_FIT_NOTE]),
                  "top-level numbers are the tuned folding's when searched; 'stock' keeps FINN's default "
                  "attributes and weight-width limit (ram_style auto = BRAM, resType default, "
                  "mvau_wwidth_max 36) and searches PE/SIMD only"],
    }


def not_mappable(model_name: str, board: dict[str, Any], target: BuildTarget, reason: str) -> dict[str, Any]:
    """The ``estimate.json`` record of a model FINN cannot build: no numbers, the reason."""
    return {"model": model_name, "board": board["name"], "part": board["part"], "clock_mhz": target.clock_mhz,
            "estimator": ESTIMATOR, "status": NOT_MAPPABLE, "reason": reason,
            "vivado": {k: v for k, v in vivado_status().items() if k != "path"}, "bitstream": None}


def compile_model(model_name: str, model_cfg: dict[str, Any], compile_cfg: dict[str, Any], board: dict[str, Any],
                  qonnx: Path, reference_io: Path, out_dir: Path, folding_config: Path | None = None
                  ) -> dict[str, Any]:
    """Build one model (``models.<name>`` entry ``model_cfg``) for one board (``core.config.load_board``)
    under the ``compile`` settings; write ``out_dir`` atomically; return the estimate record."""
    board_name = board["name"]
    target = build_target(compile_cfg, board, folding_config)
    start = time.perf_counter()
    provenance = stamp({"model": model_cfg, "compile": compile_cfg, "board": board})
    with atomic_dir(out_dir) as staging:
        try:
            result = estimate_dataflow(qonnx, reference_io, target, staging / "finn", model_cfg=model_cfg)
        except NotMappableError as exc:  # recorded, so the workflow completes what it can
            record = not_mappable(model_name, board, target, str(exc))
            log.error("%s on %s: no FINN estimate: %s", model_name, board_name, exc)
            folding = {}
        else:
            record = summarise(model_name, board, target, result)
            if folding_config is not None:
                require_fit(record["fit"], board_name)  # a given folding must fit: refused otherwise
            folding = {"Defaults": {}}
            for name, attrs in result["folding"].items():
                folding[name] = {k: v for k, v in attrs.items() if k != "op_type"}
            if record.get("full_chip"):
                write_json(staging / "folding_config_full_chip.json", {"Defaults": {}, **record["full_chip"]["folding"]})
        record["compile_seconds"] = round(time.perf_counter() - start, 3)
        record["provenance"] = provenance
        write_json(staging / "folding_config.json", folding)
        write_json(staging / "estimate.json", record)
    if record["status"] == NOT_MAPPABLE:
        return record
    log.info("%s on %s: %d cycles/frame, %.0f fps at %g MHz; %s", model_name, board_name, record["max_cycles"],
             record["fps"], target.clock_mhz, describe_fit(record["fit"], board_name))
    return record
