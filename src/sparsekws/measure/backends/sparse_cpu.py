"""Our sparse-aware CPU path on the host CPU: ``sparse_engine`` compiled to ``sparse_fast``'s numba kernels.

Exploits fixed fan-in weights and active sets (k-WTA); its outputs must equal the model's (checked
on the timed run). JIT compilation happens before the timed run. Where the compiled path cannot
run (numba absent, an unsupported layer sequence) the numpy engine runs, and the record's method
says so. Same threads, pinning, inputs and method as the dense paths.
"""

from __future__ import annotations

from sparsekws.measure.backends.torch_cpu import load_model
from sparsekws.measure.records import BackendUnavailable, Method, Workload, complete, measure_callable
from sparsekws.cpu_engine.fast import FastSparseNetwork
from sparsekws.cpu_engine.reference import compile_network
from sparsekws.measure.timing import cpu_description, pinned_threads


class SparseCpu:
    name, platform = "sparse", "cpu"

    def measure(self, workload: Workload, settings: dict):
        model = load_model(workload)
        shape = tuple(workload.inputs.shape[1:])
        try:
            network = FastSparseNetwork(compile_network(model, shape))
        except ValueError as exc:
            raise BackendUnavailable(f"the sparse engine cannot run this model: {exc}") from None
        threads = settings["threads"]
        with pinned_threads(threads, settings["pin_cores"]) as pinning:
            network.warm_up(shape)
            rows = measure_callable(network, workload, Method.from_settings(settings), name=self.name, exact=True)
        return complete(rows, model=workload.model, platform=self.platform, backend=self.name,
                        device=f"{cpu_description()}, {pinning}", threads=threads,
                        method=f"sparsekws sparse-aware path ({network.describe()}; fixed fan-in gather, "
                        f"active-set scatter, fused thresholds/pool/k-WTA); {Method.from_settings(settings).text()}",
                        **workload.provenance)
