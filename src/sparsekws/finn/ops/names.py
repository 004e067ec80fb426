"""Names shared by the sparse HW ops: their ONNX domain and the Python module behind it.

The domain starts with ``finn.custom_op.fpgadataflow`` because finn-plus recognises HW layers
partly by that prefix (``unsupported_layers``, the builder's partition step) and partly by the
node attribute ``backend="fpgadataflow"`` (``CreateDataflowPartition``, ``InsertFIFO``, width
minimisation); the ``.sparsekws`` suffix keeps the ops in the project's own namespace, apart
from FINN's ``.hls``/``.rtl`` domains (so ``SpecializeLayers`` leaves them alone). QONNX maps
the domain to ``MODULE`` through ``add_domain_alias``, done on import of
``sparsekws.finn.ops``.
"""

DOMAIN = "finn.custom_op.fpgadataflow.sparsekws"
MODULE = "sparsekws.finn.ops.registry"
KWINNERS_DOMAIN = "sparsekws.custom_op"   # the QONNX-level KWinners node (models.kwinners, custom_op)
