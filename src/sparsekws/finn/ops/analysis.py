"""Per-layer cycles and resources of a dataflow graph that mixes FINN's HW layers and the sparse ops.

FINN's ``exp_cycles_per_layer`` and ``res_estimation`` only visit nodes of the exact domains
``finn.custom_op.fpgadataflow.hls`` / ``.rtl``, so they skip the project's ops; these
functions visit every HW layer (``backend="fpgadataflow"``) that has estimate methods and
tag each entry with the model that produced it.
"""

from __future__ import annotations

from typing import Any

from sparsekws.finn.ops.names import DOMAIN

FINN_ESTIMATE_DOMAINS = ("finn.custom_op.fpgadataflow.hls", "finn.custom_op.fpgadataflow.rtl")


def is_hw_node(node) -> bool:
    """True for FINN's HW layers and the project's sparse ops (what may go into the accelerator)."""
    from finn.util.fpgadataflow import is_fpgadataflow_node

    return node.domain.startswith("finn.custom_op.fpgadataflow") and is_fpgadataflow_node(node)


def _estimated_nodes(model):
    from qonnx.custom_op.registry import getCustomOp

    for node in model.graph.node:
        if node.domain in FINN_ESTIMATE_DOMAINS or node.domain == DOMAIN:
            yield node, getCustomOp(node)


def estimate_source(node, inst) -> str:
    """``finn-estimate`` for FINN's layers and sparse units in their dense limit, else ``sparsekws-model``."""
    if node.domain != DOMAIN:
        return "finn-estimate"
    unit = inst.cost_unit()
    return "finn-estimate" if getattr(unit, "dense_limit", False) else "sparsekws-model"


def layer_cycles(model) -> dict[str, int]:
    """Expected cycles per frame of each HW layer (like FINN's ``exp_cycles_per_layer``)."""
    return {node.name: int(inst.get_exp_cycles()) for node, inst in _estimated_nodes(model)}


def layer_resources(model, fpgapart: str) -> dict[str, dict[str, Any]]:
    """LUT, FF (sparse ops only; FINN has no FF model), BRAM_18K, URAM, DSP per HW layer, with ``model`` tag."""
    out = {}
    for node, inst in _estimated_nodes(model):
        res = dict(inst.node_res_estimation(fpgapart))
        res["model"] = estimate_source(node, inst)
        out[node.name] = res
    return out
