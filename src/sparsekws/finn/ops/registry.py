"""The Python module behind the ONNX domain ``finn.custom_op.fpgadataflow.sparsekws``.

QONNX's ``getCustomOp`` imports the module a node's domain names and looks the op type up in
its ``__all__`` (or ``custom_op`` dict). The domain is mapped to this module with
``qonnx.custom_op.registry.add_domain_alias`` when ``sparsekws.finn.ops`` is imported.
"""

from sparsekws.finn.ops.kwinners_hw import KWinnersHW
from sparsekws.finn.ops.scatter_conv import ScatterConv
from sparsekws.finn.ops.sparse_mvau import SparseMVAU

custom_op = {"KWinnersHW": KWinnersHW, "ScatterConv": ScatterConv, "SparseMVAU": SparseMVAU}

__all__ = ["KWinnersHW", "ScatterConv", "SparseMVAU", "custom_op"]
