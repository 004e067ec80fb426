"""Where each network's FPGA throughput goes: per layer and per chip, for every hardware model and board.

Reads the compile stage's estimates (``results/hw/<dataset>/<model>/<board>/estimate.json``, from
``snakemake --cores all`` or the compile rule alone) and prints, per model and board, every layer
of the chosen (tuned) design — cycles per word, folding (PE, SIMD), LUT, FF, BRAM36, URAM, DSP,
the layer's share of the chip's binding resource — then the chip-level numbers of the stock and
tuned designs: cycles, words/s of the fastest network, how many copies of it fit and the
resource that binds it, then the full-chip design (the search's most words/s per chip: its
cycles, copies, binding resource and words/s), and each sparse model's ratio to its dense baseline (tuned and stock) on the same board. Every number is
the compile stage's estimate (FINN's analytical model for FINN's layers, the project's cost
model for its own units), labelled so in the JSON. Writes results/benchmarks/fpga.json (or --out).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Mapping

from workflow_config import REPO_ROOT, load as load_config  # noqa: E402  (puts src/ on the path)

from sparsekws.core.config import load_board  # noqa: E402
from sparsekws.core.files import read_json, write_json  # noqa: E402
from sparsekws.core.provenance import stamp, utc_now  # noqa: E402
from sparsekws.figures.comparison import model_pairs  # noqa: E402
from sparsekws.figures.results import hardware_models  # noqa: E402
from sparsekws.finn.fit import RESOURCES, to_bram36  # noqa: E402

LAYER_COLUMNS = ("name", "op_type", "cycles", "PE", "SIMD", "LUT", "FF", "BRAM36", "URAM", "DSP", "binding",
                 "chip_share")
DESIGNS = ("stock", "tuned")


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(REPO_ROOT / "config" / "config.yaml"), help="config YAML")
    parser.add_argument("--hw-dir", help="folder with <model>/<board>/estimate.json "
                                         "(default: results/hw/<the config's dataset name>)")
    parser.add_argument("--models", nargs="*", help="models (default: the config's hardware models)")
    parser.add_argument("--boards", nargs="*", help="boards (default: the config's compile.boards)")
    parser.add_argument("--out", default=str(REPO_ROOT / "results" / "benchmarks" / "fpga.json"))
    return parser.parse_args(argv)


def layer_row(layer: Mapping[str, Any], available: Mapping[str, float], max_cycles: int) -> dict[str, Any]:
    """One layer: cycles, folding, resources (BRAM in BRAM36) and the resource it uses most of the chip."""
    used = to_bram36(layer)
    shares = {name: used[name] / available[name] for name in RESOURCES if available.get(name)}
    binding = max(shares, key=shares.get) if any(shares.values()) else None
    return {"name": layer["name"], "op_type": layer["op_type"], "estimator": layer.get("estimator"),
            "cycles": layer["cycles"], "bottleneck": layer["cycles"] == max_cycles,
            "PE": layer.get("PE"), "SIMD": layer.get("SIMD"), "LUT": used["LUT"], "FF": layer.get("FF"),
            "BRAM36": used["BRAM36"], "URAM": used["URAM"], "DSP": used["DSP"], "binding": binding,
            "chip_share": shares.get(binding) if binding else 0.0}


def design_row(section: Mapping[str, Any]) -> dict[str, Any]:
    """The chip-level numbers of one search (stock or tuned) of an estimate: its fastest network and
    its full-chip design."""
    return {"max_cycles": section.get("max_cycles"), "fps": section.get("fps"), "fits": section.get("fits"),
            "copies_of_fastest": section.get("copies_of_fastest"), "binding_resource": section.get("binding_resource"),
            "networks_per_chip": section.get("networks_per_chip"), "full_chip_fps": section.get("full_chip_fps"),
            "full_chip": section.get("full_chip")}


def summarise(estimate: Mapping[str, Any], available: Mapping[str, float]) -> dict[str, Any]:
    """Per layer and per chip, from one estimate.json; a reason instead when it holds no estimate."""
    if estimate.get("status") != "estimated":
        return {"status": estimate.get("status"), "reason": estimate.get("reason")}
    max_cycles = estimate["max_cycles"]
    return {"status": "estimated", "clock_mhz": estimate["clock_mhz"], "bottleneck_layer": estimate.get("bottleneck_layer"),
            "layers": [layer_row(layer, available, max_cycles) for layer in estimate["layers"]],
            **{design: design_row(estimate.get(design) or {}) for design in DESIGNS}}


def ratios(results: Mapping[str, Mapping[str, Any]], pairs: list[tuple[str, str]], board: str) -> list[dict[str, Any]]:
    """Each sparse model against its dense baseline on ``board``: one network and full chip, against the
    baseline's tuned and stock designs (the sparse model's tuned design on top)."""
    rows = []
    for dense, sparse in pairs:
        ours, theirs = results.get(sparse, {}).get(board, {}), results.get(dense, {}).get(board, {})
        if ours.get("status") != "estimated" or theirs.get("status") != "estimated":
            continue
        row = {"board": board, "model": sparse, "baseline": dense, "fits": ours["tuned"]["fits"]}
        for design in DESIGNS:
            row[f"baseline_{design}_fits"] = theirs[design]["fits"]
            for key in ("fps", "full_chip_fps"):
                top, bottom = ours["tuned"].get(key), theirs[design].get(key)
                both_fit = ours["tuned"]["fits"] and theirs[design]["fits"]
                row[f"{key}_vs_{design}"] = top / bottom if both_fit and top and bottom else None
        rows.append(row)
    return rows


def _number(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1 else f"{value:,.0f}"
    return str(value)


def _ratios_line(row: Mapping[str, Any]) -> str:
    head = f"{row['model']} (tuned) / {row['baseline']} on {row['board']}: "
    if not row["fits"]:
        return head + f"{row['model']} does not fit"
    return head + "; ".join(
        f"vs {design}: {row['baseline']} does not fit" if not row[f"baseline_{design}_fits"] else
        f"vs {design}: one network {row[f'fps_vs_{design}']:.2f}x, full chip {row[f'full_chip_fps_vs_{design}']:.2f}x"
        for design in DESIGNS)


def print_summary(model: str, board: str, summary: Mapping[str, Any]) -> None:
    print(f"\n== {model} on {board}")
    if summary["status"] != "estimated":
        print(f"   no estimate ({summary['status']}): {summary.get('reason')}")
        return
    widths = {"name": 32, "op_type": 30}
    print("   " + " ".join(f"{column:>{widths.get(column, 9)}}" for column in LAYER_COLUMNS))
    for layer in summary["layers"]:
        mark = "  <- slowest" if layer["bottleneck"] else ""
        print("   " + " ".join(f"{_number(layer[column]):>{widths.get(column, 9)}}" for column in LAYER_COLUMNS) + mark)
    for design in DESIGNS:
        chip = summary[design]
        full = chip["full_chip"]
        regions = full.get("regions", []) if full else []
        per_region = ("; per SLR " + ", ".join(f"{r['name']} {r['copies']} ({r['binding_resource']})" for r in regions)
                      if len(regions) > 1 else "")
        chip_text = (f"full chip {_number(chip['full_chip_fps'])} words/s = {_number(full['networks_per_chip'])} x "
                     f"{_number(full['fps'])} ({_number(full['max_cycles'])} cycles, {full['binding_resource']}"
                     f"{per_region})" if full else "no design fits the chip")
        print(f"   {design:>5}: fastest network {_number(chip['max_cycles'])} cycles, {_number(chip['fps'])} "
              f"words/s, {_number(chip['copies_of_fastest'])} per chip ({chip['binding_resource']}); {chip_text}")


def main(argv=None) -> int:
    args = parse_args(argv)
    cfg = load_config(args.config)
    hw_dir = Path(args.hw_dir or REPO_ROOT / "results" / "hw" / cfg["dataset"]["name"])
    hardware = hardware_models(cfg["models"])
    models = args.models or list(hardware)
    unknown = sorted(set(models) - set(cfg["models"]))
    if unknown:
        raise SystemExit(f"bench_fpga: {', '.join(unknown)} not in {args.config}'s models")
    boards = args.boards or list(cfg["compile"]["boards"])
    results: dict[str, dict[str, Any]] = {}
    for model in models:
        for board in boards:
            path = hw_dir / model / board / "estimate.json"
            if path.exists():
                available = load_board(REPO_ROOT / "config" / "boards" / f"{board}.yaml")["resources"]
                summary = summarise(read_json(path), available)
            else:
                summary = {"status": "missing", "reason": f"{path} does not exist: run snakemake --cores all {path}"}
            results.setdefault(model, {})[board] = summary
            print_summary(model, board, summary)
    pairs = [pair for pair in model_pairs({m: cfg["models"][m] for m in models}) if set(pair) <= set(models)]
    compared = [row for board in boards for row in ratios(results, pairs, board)]
    for row in compared:
        print("\n" + _ratios_line(row))
    write_json(args.out, {
        "benchmark": "fpga",
        "what": "per layer and per chip, the compile stage's estimates (not measured): FINN's analytical model "
                "for FINN's layers, the project's cost model (Yosys-calibrated) for its own units",
        "source": "estimated",
        "hw_dir": str(hw_dir),
        "results": results,
        "ratios": compared,
        "created": utc_now(),
        "provenance": stamp({"models": {m: cfg["models"][m] for m in models}, "compile": cfg["compile"],
                             "boards": boards}),
    })
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
