"""The RTL stages (``rtl.netsim.Stage``) of a compiled FINN dataflow graph, one per HW layer, in
stream order, each from the project's own Verilog:

- ``ConvolutionInputGenerator``: the window generator ``rtl.window.conv_window``, emitting as many
  values per beat as the matrix unit after it takes (its ``SIMD``), taking a pixel per beat;
- a depthwise ``ConvolutionInputGenerator`` followed by a max ``Pool``: one ``rtl.window.max_pool``
  unit, the ``Pool``'s ``PE`` channels per beat;
- ``MVAU`` (FINN's dense matrix unit, HLS or RTL): ``rtl.verilog.dense_mvu`` at the node's folding
  with its weights and thresholds (the last layer, ``noActivation``, outputs its accumulators);
- ``SparseMVAU``, ``KWinnersHW``, ``ScatterConv``: the Verilog of their IP generation
  (``finn.ops.hdl.unit_verilog``).

Any other node raises ``NetworkUnsupported``.
"""

from __future__ import annotations

import dataclasses
import math
import re

from sparsekws.core.errors import UserError
from sparsekws.finn.ops import hdl
from sparsekws.rtl.netsim import Stage
from sparsekws.rtl.scatter_conv import pair_bits
from sparsekws.rtl.verilog import MvuShape, dense_mvu, out_bits
from sparsekws.rtl.window import WindowShape, conv_window, max_pool
from sparsekws.units.bits import clog2


class NetworkUnsupported(UserError):
    """A node of the dataflow graph has no RTL unit here."""


def module_name(node) -> str:
    """A Verilog module name for a node."""
    return "u_" + re.sub(r"\W", "_", node.name)


def network_stages(model) -> list[Stage]:
    """The stages of the dataflow graph ``model`` (a qonnx ``ModelWrapper``), input first."""
    from qonnx.custom_op.registry import getCustomOp

    import sparsekws.finn.ops  # noqa: F401  (registers the project's ops)

    nodes = list(model.graph.node)
    groups, i = [], 0
    while i < len(nodes):  # a depthwise window generator and the max pool after it are one unit
        pool = nodes[i + 1] if i + 1 < len(nodes) else None
        if (nodes[i].op_type.startswith("ConvolutionInputGenerator") and pool is not None
                and pool.op_type.startswith("Pool") and getCustomOp(nodes[i]).get_nodeattr("depthwise")):
            groups.append((nodes[i], pool))
            i += 2
        else:
            groups.append((nodes[i],))
            i += 1
    stages: list[Stage] = []
    for group in reversed(groups):  # a window generator takes its lanes from the stage after it
        stages.insert(0, _stage(model, group, stages[0] if stages else None, getCustomOp))
    return stages


def _stage(model, group: tuple, after: Stage | None, get_op) -> Stage:
    node, inst = group[0], get_op(group[0])
    name, op = module_name(node), node.op_type
    if len(group) == 2:
        return _pool(name, inst, get_op(group[1]))
    if op.startswith("ConvolutionInputGenerator"):
        if after is None:
            raise NetworkUnsupported(f"{node.name}: a window generator must feed a matrix unit")
        return _window(name, inst, after.in_lanes)
    if op.startswith("MVAU"):
        return _dense(name, inst, model)
    if op.startswith(("SparseMVAU", "KWinnersHW", "ScatterConv")):
        return _sparse(name, inst, model)
    raise NetworkUnsupported(f"{node.name} ({op}) has no RTL unit in sparsekws (see sparsekws.finn.network)")


def _map_shape(inst, group: int, lanes: int) -> WindowShape:
    (h, w), c = inst.get_nodeattr("IFMDim"), inst.get_nodeattr("IFMChannels")
    k, s = inst.get_nodeattr("ConvKernelDim"), inst.get_nodeattr("Stride")
    if len(set(k)) != 1 or len(set(s)) != 1 or any(d != 1 for d in inst.get_nodeattr("Dilation")):
        raise NetworkUnsupported(f"{inst.onnx_node.name}: only square kernels and strides without dilation")
    dt = inst.get_input_datatype()
    shape = WindowShape(h, w, c, k[0], s[0], group, lanes, dt.bitwidth(), dt.signed())
    if tuple(inst.get_nodeattr("OFMDim")) != (shape.out_height, shape.out_width):
        raise NetworkUnsupported(f"{inst.onnx_node.name}: padding has no RTL window unit")
    return shape


def _window(name: str, inst, lanes: int) -> Stage:
    channels = inst.get_nodeattr("IFMChannels")
    group = math.gcd(lanes, channels)
    shape = dataclasses.replace(_map_shape(inst, group, lanes), in_words=channels // group)  # a pixel per beat
    return Stage(name, conv_window(name, shape), channels, shape.bits, lanes, shape.bits,
                 f"{inst.onnx_node.name}: window generator")


def _pool(name: str, window, pool) -> Stage:
    if pool.get_nodeattr("Function") != "MaxPool":
        raise NetworkUnsupported(f"{pool.onnx_node.name}: only max pooling has an RTL unit")
    pe = pool.get_nodeattr("PE")
    shape = _map_shape(window, pe, pe)
    return Stage(name, max_pool(name, shape), pe, shape.bits, pe, shape.bits,
                 f"{window.onnx_node.name} + {pool.onnx_node.name}: max pool")


def _dense(name: str, inst, model) -> Stage:
    node = inst.onnx_node
    weights = hdl.integers(model.get_initializer(node.input[1]), "weights").T
    idt, odt = inst.get_input_datatype(), inst.get_output_datatype()
    rows, cols = inst.get_nodeattr("MH"), inst.get_nodeattr("MW")
    raw = bool(inst.get_nodeattr("noActivation"))
    shape = MvuShape(rows=rows, cols=cols, pe=inst.get_nodeattr("PE"), simd=inst.get_nodeattr("SIMD"),
                     wbits=inst.get_input_datatype(1).bitwidth(), abits=idt.bitwidth(),
                     obits=odt.bitwidth(), in_signed=idt.signed())
    thresholds = None if raw else hdl.node_thresholds(inst, model, rows)
    return Stage(name, dense_mvu(name, shape, weights, thresholds), shape.simd, shape.abits, shape.pe,
                 out_bits(shape, thresholds), f"{node.name}: dense MVU" + (" (accumulators out)" if raw else ""))


def _sparse(name: str, inst, model) -> Stage:
    op = inst.onnx_node.op_type
    verilog = hdl.unit_verilog(inst, model, name)
    if op.startswith("KWinnersHW"):
        shape, _, *pairs = hdl.kwta_unit(inst)
        out = (pairs[0].simd, pairs[0].pair_bits) if pairs else (shape.simd, shape.bits)
        return Stage(name, verilog, shape.simd, shape.bits, *out,
                     f"{inst.onnx_node.name}: k-WTA" + (" with pairs out" if pairs else ""))
    if op.startswith("ScatterConv"):
        shape = inst.cost_unit()
        return Stage(name, verilog, shape.simd, pair_bits(shape), shape.pe, shape.obits,
                     f"{inst.onnx_node.name}: scatter convolution")
    kind, shape, _, _ = hdl.mvu_unit(inst, model)
    in_bits = shape.abits + (clog2(shape.cols) if kind.startswith("sparse_sparse") else 0)
    return Stage(name, verilog, shape.simd, in_bits, shape.pe, shape.obits, f"{inst.onnx_node.name}: {kind} MVU")
