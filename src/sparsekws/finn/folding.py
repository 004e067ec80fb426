"""Folding search: the fastest folding of one network, and the fastest chip, within a budget.

``search_folding(model, target, settings)`` works on a specialised FINN dataflow graph (HW
layers only). It walks down a ladder of cycle targets (halving steps of ``sqrt(2)`` from the
fully folded network) and, per target:

1. folds every layer to meet the target: FINN's ``SetFolding`` for FINN's own layers, and for
   any other HW layer (e.g. the project's sparse ops) the ``SIMD`` / ``PE`` pair (divisors of
   ``MW``/``MH``) whose ``get_exp_cycles()`` meets the target with the least of the chip
   (``cheapest_folding``; one-sided ops: the smallest ``PE`` that meets it), or the
   op's own ``fold_to(target)`` (``ScatterConv``: the PE/SIMD pair with the fewest LUTs that meets it;
   a constant-coefficient ``SparseMVAU``: its one fully parallel folding);
2. checks the weight-width limits itself (``SetFolding`` checks them only when a target is
   missed): per PE ``SIMD x weight bits <= mvau_wwidth_max`` and the weight stream
   ``<= MAX_STREAM_BITS`` (HLS ``ap_int`` limit) -- a folding that breaks one is refused;
3. estimates every layer with its own methods (``get_exp_cycles``, ``lut_estimation``,
   ``bram_estimation``, ``uram_estimation``, ``dsp_estimation``), so any op that implements
   them plugs in;
4. places resources (tuned settings only): per layer with a ``ram_style`` or ``resType``
   attribute, its memories (block / ultra / distributed, i.e. BRAM / URAM / LUTRAM: FINN's
   weight memories, the k-WTA's histograms and buffers) and its arithmetic (lut / dsp: FINN's
   and the project's matrix units, the scatter convolution), chosen to maximise the copies per
   chip under the budget (URAM weights are FINN's runtime-writeable kind, whose AXI-lite logic
   the estimates omit);
5. checks the fit (``finn.fit``) and names the binding resource.

Two designs are chosen from the same candidates: ``best``, the one with the fewest cycles per
frame (one network's throughput) that fits, ties to more copies per chip; and ``full_chip``, the
one with the most words/s of the whole chip (copies per chip / cycles per frame), ties to fewer
cycles. The search assumes resources grow with parallelism: a
ladder stops at the first folding that exceeds the budget (the fastest fitting one is then
behind it), and also after ``STALL_STEPS`` targets that bring no speed-up; wider weight limits
are tried only while the narrower ones ended for lack of speed, not of resources; each weight
mode (``mem_modes``) gets its own ladders. ``STOCK`` is the same search with FINN's default
attributes and width limit (no placement): the untuned baseline reported beside ``TUNED``.
Every number here comes from the layers' estimate methods (FINN's analytical models for
FINN's layers); the fit and the placement are this module's.
"""

from __future__ import annotations

import copy
import itertools
import logging
import math
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Mapping

from sparsekws.finn.fit import Budget, budget_text, budgets, fit_design, to_bram36
from sparsekws.finn.ops.analysis import estimate_source
from sparsekws.finn.ops.estimates import mvau_unit

log = logging.getLogger(__name__)

#: Per-layer attributes written to the folding config (FINN's ``ApplyConfig`` format).
FOLDING_ATTRS = ("PE", "SIMD", "parallel_window", "ram_style", "resType", "mem_mode", "runtime_writeable_weights",
                 "pairs_per_beat")
#: Widest weight stream an HLS layer can take (``ap_int`` limit, FINN's ``MAX_ALLOWED_AP_INT_W``).
MAX_STREAM_BITS = 8191
FINN_LOGGER = "finn_logger"
#: Ladder step between cycle targets.
LADDER_STEP = math.sqrt(2)
#: Largest number of placement combinations tried exhaustively (beyond: coordinate descent).
MAX_COMBINATIONS = 20_000
RESOURCE_KEYS = ("LUT", "FF", "BRAM_18K", "URAM", "DSP")
#: Ladder steps without a faster folding after which a width limit's ladder ends.
STALL_STEPS = 3


@dataclass(frozen=True)
class Settings:
    """What the search may change besides PE/SIMD.

    ``wwidth_max``: the per-PE weight-width limits tried (``SIMD x weight bits``);
    ``ram_styles`` / ``res_types``: weight memories and arithmetic tried per layer, or ``None``
    to leave FINN's defaults; ``mem_modes``: FINN HLS weight modes tried for all layers at once
    (``internal_embedded`` bakes the weights into the layer: no weight stream, so no stream-width
    cap on PE x SIMD), or ``None`` for FINN's default (``internal_decoupled``).
    """

    name: str
    wwidth_max: tuple[int, ...] = (36,)
    ram_styles: tuple[str, ...] | None = None
    res_types: tuple[str, ...] | None = None
    mem_modes: tuple[str, ...] | None = None


STOCK = Settings("stock")
#: ``ram_style`` values that put memories in URAM (``split``: the k-WTA's, part of them).
URAM_STYLES = ("ultra", "split")
TUNED = Settings("tuned", wwidth_max=(36, 72, 144, 288, 576),
                 ram_styles=("block", "ultra", "distributed", "split"),
                 res_types=("lut", "dsp"), mem_modes=("internal_decoupled", "internal_embedded"))


@dataclass
class Candidate:
    """One evaluated folding: per-layer attributes and estimates, fit and throughput."""

    target_cycles: int
    wwidth_max: int
    mem_mode: str | None
    attrs: dict[str, dict[str, Any]]
    layers: dict[str, dict[str, Any]]
    totals: dict[str, float]
    max_cycles: int
    fit: dict[str, Any]
    refused: list[str] = field(default_factory=list)

    @property
    def fits(self) -> bool:
        return not self.refused and self.fit["fits"]

    def summary(self, detail: bool = False) -> dict[str, Any]:
        """Plain-data record; ``detail`` adds the totals, the fit and the per-layer folding/estimates."""
        out = {"target_cycles": self.target_cycles, "wwidth_max": self.wwidth_max, "mem_mode": self.mem_mode,
               "max_cycles": self.max_cycles,
               "fits": self.fits, "binding_resource": self.fit["binding_resource"],
               "networks_per_chip": (self.fit["networks_per_chip"] or 0) if self.fits else 0,
               "refused": self.refused}
        if detail:
            out.update(totals=self.totals, fit=self.fit, folding=self.attrs, layers=self.layers)
        return out


# ---- per-node estimates --------------------------------------------------------------------

def hw_nodes(model) -> list:
    """The dataflow (HW) nodes of a graph: FINN's and any other op with ``backend=fpgadataflow``."""
    from finn.util.fpgadataflow import is_fpgadataflow_node

    return [node for node in model.graph.node if is_fpgadataflow_node(node)]


#: FINN's own HW-layer domains (the project's ops live in a sub-domain of the first one).
FINN_HW_DOMAINS = frozenset({"finn.custom_op.fpgadataflow", "finn.custom_op.fpgadataflow.hls",
                             "finn.custom_op.fpgadataflow.rtl"})


def is_finn_layer(node) -> bool:
    """Whether ``node`` is one of FINN's own HW layers (not one of the project's ops)."""
    return node.domain in FINN_HW_DOMAINS


def node_estimate(inst, part: str) -> dict[str, Any]:
    """Cycles and resources of one HW layer from its own estimate methods. FINN estimates no FF: a
    FINN matrix unit's FF are the project's dense-unit model's (``ops.estimates.mvau_unit``), the
    project's ops model their own; FINN's other layers count 0 FF (``ff_modelled`` False)."""
    from finn.custom_op.fpgadataflow.matrixvectoractivation import MVAU

    out = {"cycles": int(inst.get_exp_cycles()), "LUT": float(inst.lut_estimation(part)),
           "BRAM_18K": float(inst.bram_estimation(part)), "URAM": float(inst.uram_estimation(part)),
           "DSP": float(inst.dsp_estimation(part)), "FF": 0.0, "ff_modelled": True}
    if hasattr(inst, "ff_estimation"):
        out["FF"] = float(inst.ff_estimation(part))
    elif isinstance(inst, MVAU):
        out["FF"] = float(mvau_unit(inst).ffs())
    else:
        out["ff_modelled"] = False
    return out


def set_folding(model, target_cycles: int, wwidth_max: int, relax: bool):
    """FINN's ``SetFolding`` on FINN's own layers; a graph without any is returned unchanged
    (``SetFolding`` fails on a graph whose HW layers are all the project's)."""
    from finn.transformation.fpgadataflow.set_folding import SetFolding

    if not any(is_finn_layer(node) for node in model.graph.node):
        return model
    return model.transform(SetFolding(target_cycles, mvau_wwidth_max=wwidth_max, two_pass_relaxation=relax))


def layer_estimates(model, part: str) -> dict[str, dict[str, Any]]:
    """Per-layer cycles/resources of every HW node, each tagged with its ``estimator``."""
    from qonnx.custom_op.registry import getCustomOp

    layers = {}
    for node in hw_nodes(model):
        inst = getCustomOp(node)
        layers[node.name] = {"op_type": node.op_type, "estimator": estimate_source(node, inst),
                             **node_estimate(inst, part)}
    return layers


def dataflow_performance(model, layers: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Slowest layer and critical path (sum of cycles along the longest input-to-output path),
    as FINN's ``dataflow_performance`` computes them, over every HW layer in ``layers``."""
    latency: dict[str, int] = {}
    for node in hw_nodes(model):
        before = [latency[p.name] for p in (model.find_direct_predecessors(node) or []) if p.name in latency]
        latency[node.name] = layers[node.name]["cycles"] + max(before, default=0)
    slowest = max(layers, key=lambda name: layers[name]["cycles"])
    return {"critical_path_cycles": int(max(latency.values())), "max_cycles": int(layers[slowest]["cycles"]),
            "max_cycles_node_name": slowest}


def sum_resources(layers: Mapping[str, Mapping[str, Any]]) -> dict[str, float]:
    return {key: float(sum(layer[key] for layer in layers.values())) for key in RESOURCE_KEYS}


# ---- folding ---------------------------------------------------------------------------------

def _divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def _bound(inst, names: tuple[str, ...]) -> int | None:
    known = inst.get_nodeattr_types()
    for name in names:
        if name in known:
            value = inst.get_nodeattr(name)
            if isinstance(value, int) and value > 0:
                return value
    return None


def fold_other_ops(model, target_cycles: int, part: str | None = None, board: Mapping[str, Any] | None = None,
                   wwidth_max: int | None = None):
    """Fold HW nodes ``SetFolding`` skips (not FINN's HLS/RTL domains): the op's own choice where it
    makes one (``fold_to(target)`` returns True: ``ScatterConv``, a ``SparseMVAU`` in constant mode);
    with a ``board``, the SIMD/PE pair that meets the target with the least of the chip
    (``cheapest_folding``, within ``wwidth_max``); else the smallest SIMD, then PE."""
    from finn.util.fpgadataflow import is_hls_node, is_rtl_node
    from qonnx.custom_op.registry import getCustomOp

    for node in reversed(hw_nodes(model)):  # consumers first: a k-WTA's pairs per beat is its consumer's SIMD
        if is_hls_node(node) or is_rtl_node(node):
            continue
        inst = getCustomOp(node)
        _match_pairs(model, node, inst)
        if hasattr(inst, "fold_to") and inst.fold_to(target_cycles):
            continue
        known = inst.get_nodeattr_types()
        bounds = {attr: _bound(inst, names) for attr, names in (("SIMD", ("MW", "NumChannels", "Channels")),
                                                                ("PE", ("MH", "NumChannels", "Channels")))
                  if attr in known}
        bounds = {attr: bound for attr, bound in bounds.items() if bound is not None}
        if board is not None and set(bounds) == {"SIMD", "PE"}:
            cheapest_folding(inst, target_cycles, bounds, part, board, wwidth_max)
            continue
        for attr, bound in bounds.items():
            for value in _divisors(bound):
                inst.set_nodeattr(attr, value)
                if inst.get_exp_cycles() <= target_cycles:
                    break
    return model


def chip_share(estimate: Mapping[str, float], board: Mapping[str, Any]) -> float:
    """Sum over LUT, BRAM, URAM and DSP of the fraction of the chip a layer estimate uses."""
    available = board["resources"]
    return sum(value / float(available[key]) if available.get(key) else (math.inf if value else 0.0)
               for key, value in to_bram36(estimate).items() if key != "FF")


def cheapest_folding(inst, target_cycles: int, bounds: Mapping[str, int], part: str, board: Mapping[str, Any],
                     wwidth_max: int | None = None) -> None:
    """Set the (SIMD, PE) divisor pair that meets ``target_cycles`` with the smallest ``chip_share``
    (ties: fewer lanes) among those within the weight-width limits (``width_problems``); the
    fastest such pair where none meets it. Per SIMD only the smallest PE that meets the target is
    a candidate (more PE lanes at the same SIMD only cost more)."""
    options = []
    for simd in _divisors(bounds["SIMD"]):
        inst.set_nodeattr("SIMD", simd)
        fastest = None  # this SIMD's widest allowed PE, kept when no PE meets the target
        for pe in _divisors(bounds["PE"]):
            inst.set_nodeattr("PE", pe)
            if wwidth_max is not None and width_problems("", inst, wwidth_max) and (simd, pe) != (1, 1):
                break  # wider is wider still
            cycles = inst.get_exp_cycles()
            if cycles <= target_cycles:
                options.append((False, chip_share(node_estimate(inst, part), board), 0, simd * pe, simd, pe))
                fastest = None
                break
            fastest = (True, math.inf, cycles, simd * pe, simd, pe)
        if fastest:
            options.append(fastest)
    *_, simd, pe = min(options)
    inst.set_nodeattr("SIMD", simd)
    inst.set_nodeattr("PE", pe)


def _streams_weights(inst) -> bool:
    """Whether a layer's weights stream (the width limits apply): an op may say they do not."""
    return inst.streams_weights() if hasattr(inst, "streams_weights") else True


def repair_weight_width(model, target_cycles: int, wwidth_max: int):
    """Where SIMD x weight bits exceeds ``wwidth_max`` (``SetFolding`` stops checking once the
    target is met), take the widest SIMD within the limit and make up with PE, keeping the weight
    stream within ``MAX_STREAM_BITS``."""
    from qonnx.custom_op.registry import getCustomOp

    for node in hw_nodes(model):
        inst = getCustomOp(node)
        known = inst.get_nodeattr_types()
        if not {"SIMD", "PE", "MW", "MH", "mem_mode"} <= set(known) or not _streams_weights(inst):
            continue
        wbits = inst.get_input_datatype(1).bitwidth()
        if inst.get_nodeattr("SIMD") * wbits <= wwidth_max:
            continue
        simd = max([d for d in _divisors(inst.get_nodeattr("MW")) if d * wbits <= wwidth_max], default=1)
        inst.set_nodeattr("SIMD", simd)
        previous = 1
        streamed = inst.get_nodeattr("mem_mode") == "internal_decoupled"
        for pe in _divisors(inst.get_nodeattr("MH")):
            if streamed and pe * simd * wbits > MAX_STREAM_BITS:
                inst.set_nodeattr("PE", previous)
                break
            inst.set_nodeattr("PE", pe)
            previous = pe
            if inst.get_exp_cycles() <= target_cycles:
                break
    return model


def set_mem_mode(model, mem_mode: str | None):
    """Set ``mem_mode`` on every FINN HLS layer that allows it (in place); ``None``: unchanged."""
    from finn.util.fpgadataflow import is_hls_node
    from qonnx.custom_op.registry import getCustomOp

    if mem_mode is None:
        return model
    for node in hw_nodes(model):
        if is_hls_node(node):
            inst = getCustomOp(node)
            if mem_mode in _allowed(inst, "mem_mode", (mem_mode,)):
                inst.set_nodeattr("mem_mode", mem_mode)
    return model


def fold(model, target_cycles: int, wwidth_max: int, mem_mode: str | None = None, part: str | None = None,
         board: Mapping[str, Any] | None = None):
    """A copy of ``model`` folded towards ``target_cycles`` per frame within the width limits (the
    project's SIMD/PE layers at their cheapest on ``board`` when one is given)."""
    model = set_mem_mode(copy.deepcopy(model), mem_mode)
    # no two-pass relaxation: FINN's pass analyses only FINN's layers; the ladder relaxes instead
    folded = set_folding(model, target_cycles, wwidth_max, relax=False)
    return match_pair_streams(repair_weight_width(fold_other_ops(folded, target_cycles, part, board, wwidth_max),
                                                  target_cycles, wwidth_max))


def match_pair_streams(model):
    """A k-WTA that streams pairs sends as many per beat as its consumer takes (its SIMD)."""
    from qonnx.custom_op.registry import getCustomOp

    for node in hw_nodes(model):
        _match_pairs(model, node, getCustomOp(node))
    return model


def _match_pairs(model, node, inst) -> None:
    from qonnx.custom_op.registry import getCustomOp

    if "pairs_per_beat" in inst.get_nodeattr_types() and inst.get_nodeattr("output_format") == "pairs":
        consumer = model.find_consumer(node.output[0])
        if consumer is not None:
            inst.set_nodeattr("pairs_per_beat", getCustomOp(consumer).get_nodeattr("SIMD"))


def weight_width_violations(model, wwidth_max: int) -> list[str]:
    """Layers whose weight widths break ``SIMD x wbits <= wwidth_max`` or the stream limit."""
    from qonnx.custom_op.registry import getCustomOp

    return [problem for node in hw_nodes(model) for problem in width_problems(node.name, getCustomOp(node), wwidth_max)]


def width_problems(name: str, inst, wwidth_max: int) -> list[str]:
    """One layer's weight-width problems (none for a layer that streams no weights)."""
    known = inst.get_nodeattr_types()
    if "SIMD" not in known or "mem_mode" not in known or not _streams_weights(inst):
        return []  # only layers that stream weights
    problems = []
    wbits = inst.get_input_datatype(1).bitwidth()
    per_pe = inst.get_nodeattr("SIMD") * wbits
    if per_pe > wwidth_max:
        problems.append(f"{name}: SIMD x weight bits = {per_pe} > mvau_wwidth_max {wwidth_max}")
    stream = per_pe * (inst.get_nodeattr("PE") if "PE" in known else 1)
    if inst.get_nodeattr("mem_mode") == "internal_decoupled" and stream > MAX_STREAM_BITS:
        problems.append(f"{name}: weight stream {stream} bits > {MAX_STREAM_BITS}")
    return problems


def folding_attrs(model, names: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    from qonnx.custom_op.registry import getCustomOp

    out = {}
    for node in hw_nodes(model):
        inst = getCustomOp(node)
        known = inst.get_nodeattr_types()
        out[node.name] = {"op_type": node.op_type, **{a: inst.get_nodeattr(a) for a in names if a in known}}
    return out


def apply_attrs(model, attrs: Mapping[str, Mapping[str, Any]]):
    """Set per-layer attributes (``{layer: {attr: value}}``, ``op_type`` ignored) in place."""
    from qonnx.custom_op.registry import getCustomOp

    for node in hw_nodes(model):
        inst = getCustomOp(node)
        for key, value in attrs.get(node.name, {}).items():
            if key != "op_type":
                inst.set_nodeattr(key, value)
    return model


# ---- resource placement ----------------------------------------------------------------------

def _allowed(inst, attr: str, wanted: tuple[str, ...] | None) -> list[str]:
    spec = inst.get_nodeattr_types().get(attr)
    if wanted is None or spec is None or len(spec) < 4 or not spec[3]:
        return []
    return [value for value in wanted if value in spec[3]]


def placement_options(model, part: str, settings: Settings, board: Mapping[str, Any]) -> dict[str, list]:
    """Per tunable layer: the distinct (attrs, estimate) pairs its ram_style/resType choices give."""
    from finn.util.fpgadataflow import is_rtl_node
    from qonnx.custom_op.registry import getCustomOp

    has_uram = float(board["resources"].get("URAM", 0) or 0) > 0
    options: dict[str, list] = {}
    for node in hw_nodes(model):
        inst = getCustomOp(node)
        styles = [s for s in _allowed(inst, "ram_style", settings.ram_styles) if has_uram or s not in URAM_STYLES]
        # FINN's RTL MVU is DSP-only: its resType is not a choice
        types = [] if is_rtl_node(node) else _allowed(inst, "resType", settings.res_types)
        if not styles and not types:
            continue
        original = {a: inst.get_nodeattr(a) for a in ("ram_style", "resType", "runtime_writeable_weights")
                    if a in inst.get_nodeattr_types()}
        seen, choices = set(), []
        for style, res in itertools.product(styles or [None], types or [None]):
            attrs = {k: v for k, v in (("ram_style", style), ("resType", res)) if v is not None}
            if style is not None and "runtime_writeable_weights" in inst.get_nodeattr_types():
                # FINN's URAM weight memory on UltraScale+ is the runtime-writeable (AXI-lite) one
                attrs["runtime_writeable_weights"] = int(style == "ultra")
            for key, value in attrs.items():
                inst.set_nodeattr(key, value)
            est = node_estimate(inst, part)
            key = tuple(est[k] for k in RESOURCE_KEYS)
            if key not in seen:
                seen.add(key)
                choices.append((attrs, est))
        for key, value in original.items():
            inst.set_nodeattr(key, value)
        if len(choices) > 1:
            options[node.name] = choices
    return options


def _worst(fit: Mapping[str, Any]) -> float:
    """The highest utilisation of a fit relative to its resource's budget (infinite for a resource
    the chip lacks)."""
    return max((u / fit["budget"][name] if u is not None else math.inf) for name, u in fit["utilisation"].items())


def _score(totals: Mapping[str, float], board: Mapping[str, Any], budget: Budget) -> tuple:
    fit = fit_design(totals, board, budget)
    return (fit["networks_per_chip"] or 0, -_worst(fit))


def best_placement(base: Mapping[str, dict[str, Any]], options: Mapping[str, list], board: Mapping[str, Any],
                   budget: Budget) -> dict[str, dict[str, Any]]:
    """Choose one option per layer maximising copies per chip, then minimising the worst utilisation.

    ``base``: per-layer estimates at the current attributes. Returns ``{layer: attrs}``.
    """
    names = list(options)
    if not names:
        return {}
    fixed = sum_resources({k: v for k, v in base.items() if k not in options})

    def totals_of(pick: tuple[int, ...]) -> dict[str, float]:
        out = dict(fixed)
        for name, index in zip(names, pick):
            for key in RESOURCE_KEYS:
                out[key] += options[name][index][1][key]
        return out

    sizes = [len(options[n]) for n in names]
    if math.prod(sizes) <= MAX_COMBINATIONS:
        best = max(itertools.product(*(range(s) for s in sizes)), key=lambda p: _score(totals_of(p), board, budget))
    else:  # coordinate descent from the first option of each layer
        best = [0] * len(names)
        improved = True
        while improved:
            improved = False
            for i, size in enumerate(sizes):
                current = _score(totals_of(tuple(best)), board, budget)
                for j in range(size):
                    trial = best[:i] + [j] + best[i + 1:]
                    if _score(totals_of(tuple(trial)), board, budget) > current:
                        best, improved = trial, True
                        current = _score(totals_of(tuple(best)), board, budget)
    return {name: dict(options[name][index][0]) for name, index in zip(names, best)}


# ---- the search ------------------------------------------------------------------------------

def evaluate(model, part: str, board: Mapping[str, Any], budget: Budget, settings: Settings,
             target_cycles: int, wwidth_max: int, mem_mode: str | None = None) -> tuple[Candidate, Any]:
    """Fold, place, estimate and fit one candidate; return it and its folded model."""
    folded = fold(model, target_cycles, wwidth_max, mem_mode, part, board)
    refused = weight_width_violations(folded, wwidth_max)
    base = layer_estimates(folded, part)
    placement = best_placement(base, placement_options(folded, part, settings, board), board, budget)
    if placement:
        apply_attrs(folded, placement)
        base = layer_estimates(folded, part)
    totals = sum_resources(base)
    candidate = Candidate(target_cycles=target_cycles, wwidth_max=wwidth_max, mem_mode=mem_mode,
                          attrs=folding_attrs(folded, FOLDING_ATTRS), layers=base, totals=totals,
                          max_cycles=max(layer["cycles"] for layer in base.values()),
                          fit=fit_design(totals, board, budget), refused=refused)
    return candidate, folded


def cycle_ladder(slowest: int) -> list[int]:
    """Cycle targets from ``slowest`` down to 1, in steps of ``LADDER_STEP``."""
    targets, value = [], float(slowest)
    while value >= 1:
        if not targets or int(value) != targets[-1]:
            targets.append(int(value))
        value /= LADDER_STEP
    return targets if targets[-1] == 1 else targets + [1]


def chip_rate(candidate: Candidate) -> float:
    """Copies per chip / cycles per frame of a fitting candidate (the full-chip objective), else 0."""
    return (candidate.fit["networks_per_chip"] or 0) / candidate.max_cycles if candidate.fits else 0.0


def best_full_chip(candidates: list[Candidate]) -> Candidate | None:
    """The fitting candidate with the most words/s per chip (ties: fewer cycles), or ``None``."""
    fitting = [c for c in candidates if chip_rate(c) > 0]
    return max(fitting, key=lambda c: (chip_rate(c), -c.max_cycles)) if fitting else None


@dataclass
class SearchResult:
    """``best``: the fastest fitting network (and ``model``, folded so); ``full_chip``: the most
    words/s per chip (``None`` when nothing fits)."""

    settings: Settings
    best: Candidate
    model: Any
    candidates: list[Candidate]
    full_chip: Candidate | None = None

    def summary(self) -> dict[str, Any]:
        return {"settings": {"name": self.settings.name, "wwidth_max": list(self.settings.wwidth_max),
                             "ram_styles": list(self.settings.ram_styles) if self.settings.ram_styles else None,
                             "res_types": list(self.settings.res_types) if self.settings.res_types else None,
                             "mem_modes": list(self.settings.mem_modes) if self.settings.mem_modes else None},
                "fits": self.best.fits, "chosen": self.best.summary(detail=True),
                "full_chip": self.full_chip.summary(detail=True) if self.full_chip else None,
                "candidates": [c.summary() for c in self.candidates]}


@contextmanager
def _quiet_finn():
    """FINN's ``SetFolding`` warns at every missed target; the search misses most on purpose."""
    finn_log = logging.getLogger(FINN_LOGGER)
    level = finn_log.level
    finn_log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        finn_log.setLevel(level)


def search_folding(model, part: str, board: Mapping[str, Any], budget: Budget, settings: Settings) -> SearchResult:
    """Fastest folding that fits ``board`` within ``budget``; if none fits, the most folded one."""
    with _quiet_finn():
        return _search(model, part, board, budget, settings)


def _search(model, part: str, board: Mapping[str, Any], budget: Budget, settings: Settings) -> SearchResult:
    slowest, _ = evaluate(model, part, board, budget, STOCK, 10**12, min(settings.wwidth_max))
    candidates = []
    best: tuple[Candidate, Any] | None = None
    ladder = cycle_ladder(slowest.max_cycles)
    for mem_mode in settings.mem_modes or (None,):
        start = 0
        for wwidth in settings.wwidth_max:
            # above the previous limit's floor a wider limit changes nothing: start at that floor
            previous, stalled, out_of_resources, floor, used = None, 0, False, start, math.inf
            for index in range(start, len(ladder)):
                candidate, folded = evaluate(model, part, board, budget, settings, ladder[index], wwidth, mem_mode)
                if previous is not None and candidate.max_cycles >= previous:
                    stalled += 1
                    if stalled >= STALL_STEPS:
                        break  # the floor of this width limit
                    continue
                previous, stalled, floor = candidate.max_cycles, 0, index
                candidates.append(candidate)
                if candidate.fits and (best is None or _better(candidate, best[0])):
                    best = (candidate, folded)
                if not candidate.refused and not candidate.fit["fits"] and _worst(candidate.fit) >= used:
                    out_of_resources = True  # more parallelism only costs more: stop this ladder
                    break
                # (a folding too slow to fit can still shrink with more parallelism: memories of
                # embedded weights a few bits wide and very deep fill more blocks than wide ones)
                used = _worst(candidate.fit) if not candidate.refused else used
            if out_of_resources:
                break  # a wider weight limit only allows more parallelism, which no longer fits
            start = floor
    if best is None:
        fallback = min(candidates, key=lambda c: _worst(c.fit))
        folded = apply_attrs(fold(model, fallback.target_cycles, fallback.wwidth_max, fallback.mem_mode, part, board),
                             fallback.attrs)
        best = (fallback, folded)
        log.warning("%s settings: no folding fits within the budget (%s); closest: %s", settings.name,
                    budget_text(budgets(budget)), fallback.fit["binding_resource"])
    return SearchResult(settings=settings, best=best[0], model=best[1], candidates=candidates,
                        full_chip=best_full_chip(candidates))


def _better(a: Candidate, b: Candidate) -> bool:
    return (a.max_cycles, -(a.fit["networks_per_chip"] or 0)) < (b.max_cycles, -(b.fit["networks_per_chip"] or 0))
