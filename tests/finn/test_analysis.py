"""Per-layer estimates over graphs that mix FINN's specialised layers and the sparse ops."""

from __future__ import annotations

from sparsekws.finn.ops.analysis import estimate_source, is_hw_node, layer_cycles, layer_resources
from sparsekws.finn.convert import make_sparse

PART = "xczu7ev-ffvc1156-2-e"


def _hwmatmul_layer(density):
    from support.fixtures import matmul_layer, to_hw_layers

    return to_hw_layers(matmul_layer(64, 16, density))


def test_finn_and_own_layers_are_estimated_and_tagged():
    from finn.transformation.fpgadataflow.specialize_layers import SpecializeLayers
    from qonnx.custom_op.registry import getCustomOp

    finn = _hwmatmul_layer(0.25).transform(SpecializeLayers(PART))
    node = finn.graph.node[0]
    assert node.op_type.startswith("MVAU_") and is_hw_node(node)
    assert estimate_source(node, getCustomOp(node)) == "finn-estimate"
    assert layer_cycles(finn) == {node.name: getCustomOp(node).get_exp_cycles()}
    assert layer_resources(finn, PART)[node.name]["model"] == "finn-estimate"

    sparse = _hwmatmul_layer(0.25)
    make_sparse(sparse, sparse.graph.node[0])
    res = layer_resources(sparse, PART)[sparse.graph.node[0].name]
    assert res["model"] == "sparsekws-model" and {"LUT", "FF", "BRAM_18K", "URAM", "DSP"} <= set(res)

    dense = _hwmatmul_layer(1.0)
    make_sparse(dense, dense.graph.node[0])
    assert layer_resources(dense, PART)[dense.graph.node[0].name]["model"] == "finn-estimate"  # the dense limit


def test_unspecialised_and_host_nodes_are_skipped():
    model = _hwmatmul_layer(0.25)
    assert layer_cycles(model) == {}  # FINN's abstract MVAU has no estimate until specialised
    assert not is_hw_node(model.graph.node[0].__class__(op_type="Mul"))
