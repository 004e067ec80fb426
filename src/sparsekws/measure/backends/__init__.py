"""Measurement backends and their registry: ``BACKENDS[platform]`` lists the backends of a platform.

A backend is a class with ``name``, ``platform`` and ``measure(workload, settings) -> DataFrame``
(records in ``RECORD_COLUMNS``); it raises ``BackendUnavailable(reason)`` when its hardware or
library is absent, and the reason is written to ``skipped.csv``. A backend that can tell this
from its settings alone has ``unavailable(settings) -> reason | None``: a platform none of whose
backends can run is then skipped without loading the model (``unavailable_platform``). Modules are imported only when
their platform is measured, so a missing optional library never breaks another platform.
"""

from __future__ import annotations

import importlib

# platform -> [(module, class)], in measuring order
BACKENDS = {
    "cpu": [("onnxruntime_cpu", "OnnxRuntimeFloat32"), ("onnxruntime_cpu", "OnnxRuntimeInt8"),
            ("torch_cpu", "TorchCpu"), ("sparse_cpu", "SparseCpu")],
    "cuda": [("cuda", "TorchCuda")],
    "pynq": [("pynq", "PynqFinn")],
    "alveo": [("alveo", "AlveoFinn")],
}
ESTIMATE_PLATFORM = "finn-estimate"  # read from the compile stage by ``collect``, not measured
PLATFORMS = [*BACKENDS, ESTIMATE_PLATFORM]


def backend_classes(platform: str) -> list[type]:
    """The backend classes of ``platform``, imported now."""
    return [getattr(importlib.import_module(f"{__name__}.{module}"), cls) for module, cls in BACKENDS[platform]]


def unavailable_platform(platform: str, settings: dict) -> dict[str, str] | None:
    """Backend name -> why, when no backend of ``platform`` can run by its ``unavailable`` check; else None."""
    reasons = {}
    for backend in backend_classes(platform):
        if "backends" in settings and backend.name not in settings["backends"]:
            continue
        check = getattr(backend, "unavailable", None)
        reason = check(settings) if check else None
        if not reason:
            return None
        reasons[backend.name] = reason
    return reasons or None
