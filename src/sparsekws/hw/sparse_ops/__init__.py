"""The project's FINN HW layers for sparsity: k-WTA and the fixed fan-in sparse matrix unit.

Importing this package maps the ONNX domain ``DOMAIN`` to the module holding the ops, so that
``qonnx.custom_op.registry.getCustomOp`` and ``execute_onnx`` find them.

API for the FINN build:

- ``streamline_with_kwinners(model)``: FINN's ``Streamline`` plus the exact move of the float
  scale past each k-WTA layer (use it in place of ``Streamline`` for models with k-WTA);
- ``convert_to_sparse_hw(model, model_cfg, layers=None, mode=None)``: after FINN's conversion to
  HW layers, before ``CreateDataflowPartition``;
- ``layer_cycles(model)``, ``layer_resources(model, fpgapart)``: estimates of every HW layer,
  FINN's and ours (FINN's own analyses skip our domain); ``is_hw_node(node)`` for partition checks;
- ``cost.MatrixUnit`` / ``cost.KWinnersUnit``: the cycle and resource models as plain functions
  of shape and folding (for a folding search); constants in ``constants``; ``schedule``: the
  memory images and cycle-by-cycle schedules the model counts (for the RTL);
- ``analysis.estimate_source(node, inst)``: ``finn-estimate`` or ``sparsekws-model`` per layer
  (the ops' domain starts with ``finn.``, so a prefix test cannot tell them apart).

The ops are not specialised by FINN's ``SpecializeLayers`` nor folded by ``SetFolding`` (both
only handle FINN's own domains): set ``PE``/``SIMD`` on them with ``set_nodeattr``.
"""

from qonnx.custom_op.registry import add_domain_alias

from sparsekws.hw.sparse_ops.names import DOMAIN, MODULE

add_domain_alias(DOMAIN, MODULE)

from sparsekws.hw.sparse_ops.analysis import estimate_source, is_hw_node, layer_cycles, layer_resources  # noqa: E402
from sparsekws.hw.sparse_ops.convert import convert_to_sparse_hw, layer_densities  # noqa: E402
from sparsekws.hw.sparse_ops.kwinners_hw import KWinnersHW  # noqa: E402
from sparsekws.hw.sparse_ops.sparse_mvau import SparseMVAU  # noqa: E402
from sparsekws.hw.sparse_ops.streamline import MoveScaleMulPastKWinners, streamline_with_kwinners  # noqa: E402

__all__ = ["DOMAIN", "KWinnersHW", "MoveScaleMulPastKWinners", "SparseMVAU", "convert_to_sparse_hw",
           "estimate_source", "is_hw_node", "layer_cycles", "layer_densities", "layer_resources", "streamline_with_kwinners"]
