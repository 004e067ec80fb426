"""Whole-network RTL simulation of a compiled model (what the ``netsim`` command runs).

The compile folder's dataflow graph (``finn/onnx/dataflow_model.onnx``, the tuned folding of one
network; for ``design="full_chip"`` with the full-chip design's folding applied,
``folding_config_full_chip.json``) becomes one Verilog module of the project's units (``finn.network``), stitched by FIFOs
and width converters and simulated with Verilator (``rtl.netsim``: FIFO depths from a sizing pass,
then a back-to-back measurement pass). The inputs are the first ``words`` words of the features
file (``network_words``: the test split first), as the QONNX model takes them; the expected outputs are the QONNX model's logits
(executed in Python) divided by the float scale the dataflow partition leaves on the host, which
must be integers: every word's simulated integer logits are compared with them.

A word whose simulated logits differ from QONNX's is run through FINN's own integer dataflow graph
(Python execution): equal there, the difference is QONNX's float32 threshold rounding (a
pre-activation within rounding of a threshold lands one level apart, ``finn.build.ROUNDING_NOTE``),
and the simulation passes; a word that differs from both fails it.

The record (``<design>.json``): the design, words, words whose logits differ from QONNX's (with the first) and from
FINN's integer graph, top-class
agreement, steady-state cycles per word (mean, p99, max), the first word's latency, the words/s at
the board clock that the compile stage assumed, the compile stage's modelled cycles beside them, the
FIFO depths (and the cycles per word with every FIFO at 2 words, ``fifos_of_2``), the FIFOs' and
width converters' Yosys counts and the compile stage's fit of the design with them added
(``fit_with_plumbing``: its copies per chip), every stage, provenance. ``source`` is ``simulated``.
"""

from __future__ import annotations

import logging
import math
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from sparsekws.core.files import read_json
from sparsekws.core.provenance import stamp
from sparsekws.finn.build import ROUNDING_NOTE
from sparsekws.finn.network import NetworkUnsupported, network_stages
from sparsekws.rtl import netsim

log = logging.getLogger(__name__)
SIMULATED = "simulated"
DESIGNS = ("fastest", "full_chip")  # the compile stage's two designs of a model and board
METHOD = ("Verilator (C++ testbench) of the whole network stitched from the project's Verilog units, FIFOs sized "
          "from a rate-limited pass; back-to-back words, output always ready; words/s at the board clock "
          "the compile stage assumed (no timing closure checked)")
ROUNDING = 0.05  # largest |QONNX logit / scale - integer| accepted as an integer (float32 rounding)


def host_io(parent) -> tuple[tuple[int, ...], float]:
    """The NCHW->NHWC permutation before the dataflow partition and the float scale after it."""
    from onnx import helper

    perm, scale = None, 1.0
    for node in parent.graph.node:
        if node.op_type == "Transpose":
            perm = tuple(helper.get_attribute_value(a) for a in node.attribute if a.name == "perm")[0]
        elif node.op_type == "Mul":
            value = parent.get_initializer(node.input[1])
            if value is None or np.size(value) != 1:
                raise NetworkUnsupported("the host's Mul after the dataflow partition is not one scalar scale")
            scale = float(np.asarray(value).reshape(()))
        elif node.op_type != "StreamingDataflowPartition":
            raise NetworkUnsupported(f"host node {node.name} ({node.op_type}) is not simulated")
    return perm or (0,), scale


def expected_logits(qonnx_logits: np.ndarray, scale: float) -> tuple[np.ndarray, float]:
    """The integer logits the hardware must produce and the largest distance of QONNX / scale from them."""
    ratio = np.asarray(qonnx_logits, dtype=np.float64) / scale
    rounded = np.round(ratio)
    return rounded.astype(np.int64), float(np.max(np.abs(ratio - rounded))) if ratio.size else 0.0


SPLITS = ("test", "validation", "train")  # words are drawn in this order


def network_words(features_path: Path, qonnx: Path, words: int) -> dict[str, np.ndarray]:
    """The first ``words`` words of the test split (then validation, then train, where the test
    split has fewer) in the QONNX model's input shape: ``x``, ``labels``, ``split`` per word and
    the QONNX model's ``logits``."""
    from qonnx.core.modelwrapper import ModelWrapper

    import sparsekws.finn.ops  # noqa: F401  (the k-WTA nodes execute through the project's ops)
    from sparsekws.export.qonnx import execute_graph
    from sparsekws.features.store import load_features

    features = load_features(features_path)
    wrapper = ModelWrapper(str(qonnx))
    shape = wrapper.get_tensor_shape(wrapper.graph.input[0].name)[1:]
    xs, ys, splits, left = [], [], [], words
    for split in SPLITS:
        x = features.x[split][:left].numpy()
        xs.append(x.reshape(-1, *shape).astype(np.float32))
        ys.append(features.y[split][:left].numpy())
        splits += [split] * len(x)
        left -= len(x)
    x = np.concatenate(xs)
    return {"x": x, "labels": np.concatenate(ys), "split": np.array(splits), "logits": execute_graph(wrapper, x)}


def finn_graph_logits(onnx_dir: Path, x: np.ndarray, scale: float) -> np.ndarray:
    """Integer logits of FINN's HW-layer graph (``hw_layers.onnx``: integer thresholds, before the
    layers are specialised to HLS/RTL) executed in Python on the words ``x`` (the QONNX input shape)."""
    from qonnx.core.modelwrapper import ModelWrapper

    from sparsekws.finn.build import execute_graph

    graph = ModelWrapper(str(Path(onnx_dir) / "hw_layers.onnx"))
    return np.rint(execute_graph(graph, np.asarray(x, dtype=np.float32)) / scale).astype(np.int64)


def plumbing_cost(network: netsim.Network, depths: dict[str, int], work: Path) -> dict:
    """Yosys counts (``synth_xilinx``, UltraScale+) of the network's FIFOs at their sized depths and of its
    width converters, each module alone, and their total."""
    from sparsekws.rtl.synth import synthesize
    from sparsekws.rtl.tools import ToolMissing, yosys_path

    try:
        yosys_path()
    except ToolMissing as exc:
        return {"status": f"not counted: {exc}"}
    def count(item: tuple[str, str]) -> tuple[str, dict]:
        name, verilog = item
        found = synthesize(verilog, name, work / name, timeout_s=600)
        return name, {"LUT": found.lut, "FF": found.ff, "BRAM_18K": found.bram18, "DSP": found.dsp}

    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # one Yosys process per module
        modules = dict(pool.map(count, network.plumbing(depths).items()))
    total = {key: sum(m[key] for m in modules.values()) for key in ("LUT", "FF", "BRAM_18K", "DSP")}
    return {"status": "counted", "tool": "yosys synth_xilinx -family xcup", "total": total, "modules": modules}


def fit_with_plumbing(used: dict, copies: int, budget: dict, board: dict, plumbing: dict) -> dict:
    """The compile stage's fit of a design (``used``: its resources, ``copies``: its copies per chip)
    with its simulated FIFOs and width converters added (``finn.fit.fit_design`` at ``budget``)."""
    from sparsekws.finn.fit import fit_design, to_bram36

    if plumbing.get("status") != "counted":
        return {"status": plumbing.get("status", "not counted"), "copies_per_chip_without": copies}
    extra = plumbing["total"]
    used = to_bram36(used)
    for key in ("LUT", "FF", "DSP"):
        used[key] += extra[key]
    used["BRAM36"] += extra["BRAM_18K"] / 2
    fit = fit_design(used, board, budget)
    return {"status": "counted", "fits": fit["fits"], "binding_resource": fit["binding_resource"],
            "utilisation": fit["utilisation"], "utilisation_of": fit["utilisation_of"],
            "copies_per_chip": fit["networks_per_chip"], "copies_per_chip_without": copies}


def design_of(model, compile_dir: Path, estimate: dict, design: str):
    """The dataflow graph of ``design`` (``DESIGNS``), its modelled cycles per word, resources and
    copies per chip, as the compile stage made it."""
    if design not in DESIGNS:
        raise NetworkUnsupported(f"design {design!r} unknown; use one of {', '.join(DESIGNS)}")
    if design == "fastest":
        return model, int(estimate["max_cycles"]), estimate["fit"]["used"], estimate["fit"]["networks_per_chip"]
    chip = estimate.get("full_chip")
    if not chip:
        raise NetworkUnsupported("the compile stage made no full-chip design (a given folding, or no design fits)")
    from finn.transformation.general import ApplyConfig

    model = model.transform(ApplyConfig(str(Path(compile_dir) / "folding_config_full_chip.json")))
    return model, int(chip["max_cycles"]), chip["totals"], estimate["networks_per_chip"]


def simulate_compiled(compile_dir: Path, data: dict[str, np.ndarray], work_dir: Path, cache_dir: Path,
                      board: dict | None = None, design: str = "fastest") -> dict:
    """Simulate one of the compiled designs (``DESIGNS``) on the words of ``data`` (``network_words``);
    its record (with ``board``, the board file: the fit with the FIFOs and width converters counted).
    A model that does not fit its board is not simulated: its record says so (``simulated`` False)."""
    from qonnx.core.modelwrapper import ModelWrapper

    started = time.time()
    compile_dir = Path(compile_dir)
    estimate = read_json(compile_dir / "estimate.json")
    if not estimate.get("fit", {}).get("fits", True):
        return {"model": estimate.get("model"), "board": estimate.get("board"), "design": design,
                "source": SIMULATED, "simulated": False, "passed": False, "design_fits": False,
                "reason": f"not simulated: no design of it fits {estimate.get('board')} (binding resource "
                          f"{estimate['fit'].get('binding_resource')}); the compile stage's record says why",
                "provenance": stamp({"compile_dir": str(compile_dir), "design": design})}
    onnx_dir = compile_dir / "finn" / "onnx"
    model, model_cycles, used, copies = design_of(ModelWrapper(str(onnx_dir / "dataflow_model.onnx")), compile_dir,
                                                  estimate, design)
    perm, scale = host_io(ModelWrapper(str(onnx_dir / "dataflow_parent.onnx")))
    x, labels, qonnx_logits = data["x"], data["labels"], data["logits"]
    hw_in = x.transpose(perm).reshape(len(x), -1)
    if not np.array_equal(hw_in, np.round(hw_in)):
        raise NetworkUnsupported("the network's inputs are not integers: the simulation streams integer inputs")
    expected, rounding = expected_logits(qonnx_logits, scale)
    if rounding > ROUNDING:
        raise NetworkUnsupported(f"QONNX logits / host scale {scale} are not integers (off by {rounding:.3g})")
    stages = network_stages(model)
    network = netsim.stitch(stages)
    log.info("%s on %s, %s design: %d stages, %d words", estimate.get("model"), estimate.get("board"), design,
             len(stages), len(x))
    sizing, measured = netsim.simulate(network, hw_in.astype(np.int64), expected.shape[1], model_cycles,
                                       Path(cache_dir), Path(work_dir))
    # the same words with every FIFO at 2 words: what the sized depths buy
    tight = netsim.run(netsim.build(network, Path(cache_dir)), network, hw_in.astype(np.int64), expected.shape[1],
                       Path(work_dir) / "fifos_of_2", limits={name: 2 for name in network.fifos},
                       cycles_per_word=model_cycles)
    plumbing = plumbing_cost(network, measured.limits, Path(work_dir) / "plumbing")
    classes = expected.shape[1]
    got = np.full(expected.shape, np.iinfo(np.int64).min)
    got.reshape(-1)[:len(measured.values)] = measured.values[:expected.size]
    wrong = np.flatnonzero((got != expected).any(axis=1))
    # a word off the QONNX logits is run through FINN's own integer graph: equal there, the difference is
    # QONNX's float32 threshold rounding (finn.build.ROUNDING_NOTE), not the hardware
    graph = finn_graph_logits(onnx_dir, x[wrong], scale) if len(wrong) else np.zeros((0, expected.shape[1]))
    unexplained = [int(w) for w, want in zip(wrong, graph) if not np.array_equal(got[w], want)]
    timing = netsim.timing(measured.cycles, classes)
    clock_hz = float(estimate["clock_mhz"]) * 1e6
    mean = timing["cycles_per_word_mean"]
    test = data["split"] == "test"
    words_out = len(measured.values) // classes
    first = "" if measured.complete else f"only {words_out} of {len(x)} words came out within the cycle budget; "
    if len(wrong):
        w = int(wrong[0])
        first += (f"word {w}: got {got[w].tolist()}, QONNX {expected[w].tolist()}, FINN's integer graph "
                 f"{graph[0].astype(int).tolist()}")
    return {
        "model": estimate.get("model"), "board": estimate.get("board"), "design": design, "source": SIMULATED,
        "simulated": True, "method": METHOD,
        "simulator": "verilator", "clock_mhz": float(estimate["clock_mhz"]), "words": int(len(x)),
        "complete": bool(measured.complete), "words_out": int(words_out), "words_mismatching": int(len(wrong)),
        "first_mismatch": first,
        "words_mismatching_finn_graph": len(unexplained),
        "passed": bool(measured.complete and not unexplained),
        "rounding_note": ROUNDING_NOTE if len(wrong) and not unexplained else "",
        "top_class_agreement": float(np.mean(np.argmax(got, 1) == np.argmax(qonnx_logits, 1))),
        "words_per_split": {split: int((data["split"] == split).sum()) for split in SPLITS},
        "test_accuracy_simulated": float(np.mean((np.argmax(got, 1) == labels)[test])) if test.any() else math.nan,
        **timing,
        "words_per_second": clock_hz / mean if mean and math.isfinite(mean) else math.nan,
        "latency_ms": timing["first_word_latency"] / clock_hz * 1e3,
        "design_fits": bool(estimate.get("fit", {}).get("fits", True)),
        "modelled_cycles_per_word": model_cycles, "modelled_words_per_second": clock_hz / model_cycles,
        "cycles_vs_model": mean / model_cycles if math.isfinite(mean) else math.nan,
        "host_scale": scale, "qonnx_rounding": rounding,
        "fifo_depths": measured.limits, "fifo_peaks_sizing": sizing.peaks,
        "fifo_capacity_reached": sorted(k for k, v in sizing.peaks.items() if v >= netsim.FIFO_CAPACITY),
        "fifos_of_2": {"cycles_per_word_mean": netsim.timing(tight.cycles, classes)["cycles_per_word_mean"],
                       "outputs_equal": bool(tight.complete and np.array_equal(tight.values, measured.values))},
        "plumbing": plumbing,
        "fit_with_plumbing": (fit_with_plumbing(used, copies, estimate["fit"]["budget"], board, plumbing) if board
                              else {"status": "no board file", "copies_per_chip_without": copies}),
        "stages": [{"name": s.name, "what": s.what, "in": f"{s.in_lanes} x {s.in_bits} bits",
                    "out": f"{s.out_lanes} x {s.out_bits} bits"} for s in stages],
        "verilog_sha256": network.digest, "seconds": round(time.time() - started, 1),
        "provenance": stamp({"compile_dir": str(compile_dir), "design": design, "words": int(len(x))}),
    }
