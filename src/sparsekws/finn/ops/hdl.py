"""Verilog for the sparse ops: the IP-generation hooks FINN's stitching calls (``code_generation_ipgen``,
``get_rtl_file_list``, ``code_generation_ipi``), backed by the generators of ``sparsekws.rtl``.

What each op gets (``unit_generator``):

- ``SparseMVAU`` ``sparse_weights``: ``rtl.verilog.sparse_mvu``, the banked schedule its cost model
  counts, with the node's weights and thresholds baked in (unsigned threshold outputs, as after a
  ReLU; ``noActivation`` or a signed output is refused);
- ``SparseMVAU`` ``constant``: ``rtl.constant_mvu.constant_mvu`` (the weights as logic, fully parallel);
- ``SparseMVAU`` ``sparse_sparse`` with dense rows: ``rtl.verilog.sparse_sparse_mvu`` (lockstep);
- ``SparseMVAU`` ``sparse_sparse`` with sparse rows: ``rtl.verilog.sparse_sparse_scatter_mvu`` (the
  banked scatter its cost model counts, ``bank_depth`` measured per PE from the weights);
- ``KWinnersHW`` ``global`` (1-D or 2-D), values out: ``rtl.kwta_ranked.ranked_kwta`` with the node's
  rank ROM (boost and per-channel scales; ties in the reference's channel-major order);
- ``ScatterConv``: ``rtl.scatter_conv.scatter_conv`` with the node's weights and thresholds.

For a Vivado build, ``finn.specialize`` moves the ops with a unit into FINN's RTL domain, so
FINN's ``PrepareIP`` writes their Verilog and ``CreateStitchedIP`` accepts them.

Anything else raises ``HdlUnsupported`` with the reason (the ``local`` k-WTA, a k-WTA that streams
(index, value) pairs, a matrix unit in its dense limit: FINN's own MVAU). Every generated unit is
wrapped in a module with FINN's interface names (``ap_clk``, ``ap_rst_n``, ``in0_V_*``,
``out0_V_*``, widths padded to bytes), so that FINN's ``CreateStitchedIP`` can place it with
``create_bd_cell -type module -reference``.
"""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np

from sparsekws.core.files import write_text
from sparsekws.rtl import verilog
from sparsekws.rtl.constant_mvu import constant_mvu
from sparsekws.rtl.kwta_pairs import kwta_pairs
from sparsekws.rtl.kwta_ranked import ranked_kwta
from sparsekws.rtl.scatter_conv import scatter_conv
from sparsekws.rtl.text import with_memory_attribute
from sparsekws.rtl.verilog import MvuShape
from sparsekws.units import golden


class HdlUnsupported(ValueError):
    """This node's configuration has no RTL generator (the message says why)."""


def integers(array: np.ndarray, what: str) -> np.ndarray:
    values = np.asarray(array, dtype=np.float64)
    if not np.array_equal(values, np.round(values)):
        raise HdlUnsupported(f"{what} are not integers (streamline the model first)")
    return values.astype(np.int64)


def node_thresholds(inst, model, rows: int) -> np.ndarray:
    """The node's thresholds ``[rows, 2^obits - 1]`` as the RTL threshold stage takes them (unsigned output)."""
    if inst.get_nodeattr_types().get("noActivation") and inst.get_nodeattr("noActivation"):
        raise HdlUnsupported("no thresholds (noActivation=1): the RTL units end in a threshold stage")
    odt = inst.get_output_datatype()
    if odt.signed() or inst.get_nodeattr("ActVal"):
        raise HdlUnsupported(f"signed or biased outputs ({odt.name}, ActVal {inst.get_nodeattr('ActVal')})")
    thresholds = np.ceil(np.asarray(model.get_initializer(inst.onnx_node.input[2]), dtype=np.float64))
    levels = (1 << odt.bitwidth()) - 1
    if thresholds.shape[-1] > levels:
        raise HdlUnsupported(f"{thresholds.shape[-1]} thresholds for a {odt.bitwidth()}-bit output")
    thresholds = np.broadcast_to(thresholds, (rows, thresholds.shape[-1]))
    big = np.iinfo(np.int64).max // 4  # never reached; clipped to the accumulator by the generator
    return np.pad(thresholds, ((0, 0), (0, levels - thresholds.shape[-1])), constant_values=big).astype(np.int64)


def mvu_unit(inst, model):
    """``(generator kind, MvuShape, weights [rows, cols], thresholds)`` of a ``SparseMVAU`` node."""
    node, unit = inst.onnx_node, inst.cost_unit()
    thresholds = node_thresholds(inst, model, unit.mh)
    odt = inst.get_output_datatype()
    weights = integers(model.get_initializer(node.input[1]), "weights").T  # [MH, MW]
    common = dict(rows=unit.mh, cols=unit.mw, pe=unit.pe, simd=unit.simd, wbits=unit.weight_bits,
                  abits=unit.input_bits, obits=odt.bitwidth(), in_signed=unit.input_signed)
    if unit.mode == "constant":
        return "constant", MvuShape(**common, fan_in=inst.get_nodeattr("fan_in")), weights, thresholds
    if unit.mode == "sparse_weights" and not unit.dense_limit:
        if not unit.banked:
            raise HdlUnsupported("operand_style 'replicated' has no RTL unit (use 'banked')")
        depth = golden.bank_depth(weights, unit.simd)  # equals the model's unit.words when the op's tables are set
        return "sparse", MvuShape(**common, fan_in=unit.k, bank_depth=depth), weights, thresholds
    if unit.mode == "sparse_sparse" and not unit.dense_limit:
        # the producer pads the k active (index, value) pairs to whole beats with zero values
        active = math.ceil(unit.active / unit.simd) * unit.simd
        if unit.lockstep:
            return "sparse_sparse", MvuShape(**common, active=active), weights, thresholds
        if not unit.banked:
            raise HdlUnsupported("operand_style 'replicated' has no RTL unit (use 'banked')")
        depth = golden.bank_depth(weights.T, unit.pe)  # per input row, outputs banked j mod PE (unit.words)
        return "sparse_sparse_scatter", MvuShape(**common, active=active, bank_depth=depth), weights, thresholds
    raise HdlUnsupported(f"mode {unit.mode} in its dense limit: FINN's own MVAU is needed")


def kwta_unit(inst):
    """``(RankedKwtaShape, rank table)`` of a ``KWinnersHW`` node (``rtl.kwta_ranked``), with its
    ``PairsShape`` (``rtl.kwta_pairs``) when it streams pairs."""
    unit = inst.cost_unit()
    if unit.mode != "global":
        raise HdlUnsupported("the local (per position) k-WTA has no RTL unit")
    shape = replace(unit.rtl_shape(), signed=inst.get_input_datatype().signed())
    return (shape, inst.rank_table()) + ((unit.pairs,) if unit.pairs else ())


def unit_generator(inst, model):
    """``(generator, arguments after the module name)`` of the node's unit (raises ``HdlUnsupported``)."""
    if inst.onnx_node.op_type.startswith("KWinnersHW"):
        arguments = kwta_unit(inst)
        return (kwta_pairs if len(arguments) == 3 else ranked_kwta), arguments
    if inst.onnx_node.op_type.startswith("ScatterConv"):
        shape = inst.cost_unit()
        weights = inst.torch_weights(integers(model.get_initializer(inst.onnx_node.input[1]), "weights"))
        return scatter_conv, (shape, weights, node_thresholds(inst, model, shape.outputs))
    kind, shape, weights, thresholds = mvu_unit(inst, model)
    generators = {"constant": constant_mvu, "sparse": verilog.sparse_mvu, "sparse_sparse": verilog.sparse_sparse_mvu,
                  "sparse_sparse_scatter": verilog.sparse_sparse_scatter_mvu}
    return generators[kind], (shape, weights, thresholds)


#: the weight memories of the sparse matrix units (``rtl.verilog``)
WEIGHT_ROMS = r"wmem\d+(_\d+)?|rmem\d+"


def unit_verilog(inst, model, name: str) -> str:
    """Verilog of the node's unit as module ``name`` (raises ``HdlUnsupported``); a sparse matrix
    unit's weight ROMs carry the ``rom_style`` its cost model counts (block RAM, else LUTs)."""
    generator, arguments = unit_generator(inst, model)
    text = generator(name, *arguments)
    if inst.onnx_node.op_type.startswith("SparseMVAU") and inst.get_nodeattr("sparse_mode") != "constant":
        style = "block" if inst.cost_unit().bram18() else "distributed"
        text = with_memory_attribute(text, WEIGHT_ROMS, f'(* rom_style = "{style}" *)')
    return text


def wrapper_verilog(top: str, unit: str, in_width: int, out_width: int) -> str:
    """A module ``top`` with FINN's port names around ``unit`` (stream widths padded to bytes)."""
    pad_in, pad_out = 8 * math.ceil(in_width / 8), 8 * math.ceil(out_width / 8)
    out_data = "out_data" if pad_out == out_width else f"{{{pad_out - out_width}'d0, out_data}}"
    return "\n".join([
        f"// FINN interface of {unit}. Generated by sparsekws.finn.ops.hdl; do not edit.",
        "`default_nettype none",
        f"module {top} (",
        "  input  wire ap_clk,", "  input  wire ap_rst_n,",
        f"  input  wire [{pad_in - 1}:0] in0_V_TDATA,", "  input  wire in0_V_TVALID,", "  output wire in0_V_TREADY,",
        f"  output wire [{pad_out - 1}:0] out0_V_TDATA,", "  output wire out0_V_TVALID,", "  input  wire out0_V_TREADY",
        ");",
        f"  wire [{out_width - 1}:0] out_data;",
        "  /* verilator lint_off PINCONNECTEMPTY */",
        f"  {unit} core (.clk(ap_clk), .rst_n(ap_rst_n), .in_data(in0_V_TDATA[{in_width - 1}:0]),"
        " .in_valid(in0_V_TVALID), .in_ready(in0_V_TREADY),",
        "    .out_data(out_data), .out_valid(out0_V_TVALID), .out_ready(out0_V_TREADY));",
        "  /* verilator lint_on PINCONNECTEMPTY */",
        f"  assign out0_V_TDATA = {out_data};",
        "endmodule", "`default_nettype wire", ""])


class HdlBackend:
    """Mixin: FINN's RTL-backend hooks for an op with a generator in ``unit_verilog``."""

    def get_verilog_top_module_name(self):
        return f"{self.onnx_node.name}_wrapper"

    def generate_hdl(self, model, fpgapart, clk):
        """Write ``<node>.v`` (the unit) and ``<node>_wrapper.v`` into ``code_gen_dir_ipgen``."""
        folder = Path(self.get_nodeattr("code_gen_dir_ipgen"))
        name = self.onnx_node.name
        unit = unit_verilog(self, model, name)
        write_text(folder / f"{name}.v", unit)
        write_text(folder / f"{name}_wrapper.v", wrapper_verilog(self.get_verilog_top_module_name(), name,
                                                                 self.get_instream_width(), self.get_outstream_width()))
        self.set_nodeattr("ipgen_path", str(folder))
        self.set_nodeattr("ip_path", str(folder))

    def code_generation_ipgen(self, model, fpgapart, clk):
        self.generate_hdl(model, fpgapart, clk)

    def get_rtl_file_list(self, abspath=False):
        folder = Path(self.get_nodeattr("code_gen_dir_ipgen"))
        files = [f"{self.onnx_node.name}.v", f"{self.onnx_node.name}_wrapper.v"]
        return [str((folder / f).resolve()) if abspath else f for f in files]

    def code_generation_ipi(self):
        commands = [f"add_files -norecurse {path}" for path in self.get_rtl_file_list(abspath=True)]
        return commands + [f"create_bd_cell -type module -reference {self.get_verilog_top_module_name()} "
                           f"{self.onnx_node.name}"]

    def get_verilog_top_module_intf_names(self):
        """Clock, reset, one input and one output stream: weights are baked in (no AXI-lite, no weight stream)."""
        return {"clk": ["ap_clk"], "rst": ["ap_rst_n"], "s_axis": [("in0_V", self.get_instream_width_padded(0))],
                "m_axis": [("out0_V", self.get_outstream_width_padded(0))], "aximm": [], "axilite": [], "ap_none": []}
