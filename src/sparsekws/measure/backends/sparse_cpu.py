"""Our sparse-aware CPU path (``sparsekws.measure.sparse_engine``) on the host CPU.

Exploits fixed fan-in weights and active sets (k-WTA, ReLU zeros); its outputs must equal the
model's (checked on the timed run). Same threads, pinning, inputs and method as the dense paths.
"""

from __future__ import annotations

from sparsekws.measure.backends.torch_cpu import load_model
from sparsekws.measure.records import BackendUnavailable, Method, Workload, complete, measure_callable
from sparsekws.measure.sparse_engine import compile_network
from sparsekws.measure.timing import cpu_description, pinned_threads


class SparseCpu:
    name, platform = "sparse", "cpu"

    def measure(self, workload: Workload, settings: dict):
        model = load_model(workload)
        try:
            network = compile_network(model, workload.inputs.shape[1:])
        except ValueError as exc:
            raise BackendUnavailable(f"the sparse engine cannot run this model: {exc}") from None
        threads = settings["threads"]
        with pinned_threads(threads, settings["pin_cores"]) as pinning:
            rows = measure_callable(network, workload, Method.from_settings(settings), name=self.name, exact=True)
        return complete(rows, model=workload.model, platform=self.platform, backend=self.name,
                        device=f"{cpu_description()}, {pinning}", threads=threads,
                        method=f"sparsekws sparse engine (numpy + scipy CSR: fixed fan-in gather, active-set "
                        f"scatter; {network.describe()}); {Method.from_settings(settings).text()}",
                        **workload.provenance)
