"""The project's sparse ops with their Verilog: generated for the compile stage's hand-off
(``generate_sparse_hdl``), or moved into FINN's RTL domain for a Vivado build
(``specialize_sparse_to_rtl``, the FINN build step ``step_specialize_sparse_layers``) as
``SparseMVAU_rtl`` / ``KWinnersHW_rtl``, registered in FINN's RTL op table, so that FINN's
``PrepareIP`` writes their Verilog and ``CreateStitchedIP`` accepts them.
"""

from __future__ import annotations

import logging
from pathlib import Path

from sparsekws.finn.ops.hdl import HdlUnsupported, unit_generator
from sparsekws.finn.ops.kwinners_hw import KWinnersHW
from sparsekws.finn.ops.names import DOMAIN
from sparsekws.finn.ops.scatter_conv import ScatterConv
from sparsekws.finn.ops.sparse_mvau import SparseMVAU

log = logging.getLogger(__name__)


def generate_sparse_hdl(model, out_dir: str | Path) -> dict[str, str]:
    """Generate the Verilog of every sparse op of ``model`` into ``out_dir/<node>/``.

    Returns ``{node name: "generated" | "not generated: <reason>"}``; a node with Verilog has
    ``code_gen_dir_ipgen`` set, as FINN's ``PrepareIP`` leaves its own RTL layers.
    """
    from qonnx.custom_op.registry import getCustomOp

    status = {}
    for node in model.graph.node:
        if node.domain != DOMAIN:
            continue
        inst = getCustomOp(node)
        inst.set_nodeattr("code_gen_dir_ipgen", str(Path(out_dir) / node.name))
        try:
            inst.generate_hdl(model, "", 0.0)
            status[node.name] = "generated"
        except HdlUnsupported as exc:
            inst.set_nodeattr("code_gen_dir_ipgen", "")
            status[node.name] = f"not generated: {exc}"
    return status


# ---- FINN's RTL domain: what its PrepareIP and CreateStitchedIP accept ---------------------------
RTL_DOMAIN = "finn.custom_op.fpgadataflow.rtl"


def register_rtl_variants() -> None:
    """Register ``SparseMVAU_rtl``, ``KWinnersHW_rtl`` and ``ScatterConv_rtl`` (the ops plus FINN's ``RTLBackend``) in FINN's
    RTL op table, so that FINN's IP steps generate, and its stitching places, the generated Verilog."""
    import finn.custom_op.fpgadataflow.rtl as finn_rtl
    from finn.custom_op.fpgadataflow.rtlbackend import RTLBackend

    for base in (SparseMVAU, KWinnersHW, ScatterConv):
        name = f"{base.__name__}_rtl"
        if name in finn_rtl.custom_op:
            continue

        def get_nodeattr_types(self, _base=base):
            return _base.get_nodeattr_types(self) | RTLBackend.get_nodeattr_types(self)

        finn_rtl.custom_op[name] = type(name, (base, RTLBackend), {"get_nodeattr_types": get_nodeattr_types,
                                                                  "__module__": __name__})


def specialize_sparse_to_rtl(model) -> tuple[object, dict[str, str]]:
    """Move every sparse op with an RTL unit into FINN's RTL domain (``<op>_rtl``), for a Vivado build
    (run after FINN's ``SpecializeLayers``). Returns the model and ``{node: "rtl" | "not generated: why"}``;
    a node left in the project's domain makes FINN's stitching stop with its name."""
    from qonnx.custom_op.registry import getCustomOp

    register_rtl_variants()
    status = {}
    for node in model.graph.node:
        if node.domain != DOMAIN:
            continue
        try:
            unit_generator(getCustomOp(node), model)  # the Verilog itself is written by FINN's PrepareIP
        except HdlUnsupported as exc:
            status[node.name] = f"not generated: {exc}"
            continue
        node.domain, node.op_type = RTL_DOMAIN, f"{node.op_type}_rtl"
        status[node.name] = "rtl"
    return model, status


def step_specialize_sparse_layers(model, cfg):
    """FINN build step (after ``step_specialize_layers``): ``specialize_sparse_to_rtl``."""
    model, status = specialize_sparse_to_rtl(model)
    for name, state in status.items():
        log.info("%s: %s", name, state)
    return model
