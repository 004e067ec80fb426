"""The project's own ONNX custom ops (domain ``sparsekws.custom_op``) with numpy reference
implementations, so that ``qonnx.core.onnx_exec.execute_onnx`` can run graphs that use them.

QONNX resolves a node's domain as a Python module and looks the op type up in its
``custom_op`` dict: a node ``KWinners`` of domain ``sparsekws.custom_op`` runs ``KWinnersOp``.
"""

from sparsekws.custom_op.kwinners import KWinnersOp, kwinners_reference

custom_op = {"KWinners": KWinnersOp}

__all__ = ["KWinners", "KWinnersOp", "kwinners_reference", "custom_op"]

KWinners = KWinnersOp  # the name QONNX's registry looks up first (via __all__)
