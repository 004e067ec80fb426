"""The project's FINN HW layers for sparsity: k-WTA (``KWinnersHW``) and the fixed fan-in sparse
matrix unit (``SparseMVAU``), with sparse-sparse mode, and the scatter convolution on a k-WTA's
winners (``ScatterConv``).

Importing this package maps the ONNX domain ``names.DOMAIN`` to ``registry``, so that
``qonnx.custom_op.registry.getCustomOp`` and ``execute_onnx`` find the ops. Their estimates come
from the cost models of ``units.cost`` (``estimates``), their Verilog from ``rtl`` (``hdl``);
``analysis`` lists every HW layer's estimates, FINN's and ours. The ops are not specialised by
FINN's ``SpecializeLayers`` nor folded by ``SetFolding`` (both only handle FINN's own domains):
the folding search sets ``PE``/``SIMD`` on them.
"""

from qonnx.custom_op.registry import add_domain_alias

from sparsekws.finn.ops.names import DOMAIN, MODULE

add_domain_alias(DOMAIN, MODULE)

from sparsekws.finn.ops.kwinners_hw import KWinnersHW  # noqa: E402
from sparsekws.finn.ops.scatter_conv import ScatterConv  # noqa: E402
from sparsekws.finn.ops.sparse_mvau import SparseMVAU  # noqa: E402

__all__ = ["DOMAIN", "KWinnersHW", "ScatterConv", "SparseMVAU"]
