"""PyTorch on the host CPU: the trained Brevitas model itself, in eval mode (fake-quantised float32)."""

from __future__ import annotations

import numpy as np

from sparsekws.measure.records import BackendUnavailable, Method, Workload, complete, measure_callable
from sparsekws.measure.timing import cpu_description, pinned_threads


def load_model(workload: Workload):
    """The workload's trained model (``model.pt``) in eval mode."""
    from sparsekws.export.qonnx import load_trained_model

    if "torch_model" not in workload.extras:
        if workload.checkpoint is None:
            raise BackendUnavailable("no checkpoint given (--checkpoint)")
        workload.extras["torch_model"] = load_trained_model(workload.checkpoint)[0]
    return workload.extras["torch_model"]


class TorchCpu:
    name, platform = "torch", "cpu"

    def measure(self, workload: Workload, settings: dict):
        import torch

        model = load_model(workload)
        threads = settings["threads"]
        previous = torch.get_num_threads()
        try:
            with pinned_threads(threads, settings["pin_cores"]) as pinning, torch.inference_mode():
                torch.set_num_threads(threads)

                def run(batch: np.ndarray) -> np.ndarray:
                    return model(torch.from_numpy(batch)).numpy()

                rows = measure_callable(run, workload, Method.from_settings(settings), name=self.name, exact=True)
        finally:
            torch.set_num_threads(previous)
        return complete(rows, model=workload.model, platform=self.platform, backend=self.name,
                        device=f"{cpu_description()}, {pinning}", threads=threads,
                        method=f"torch {torch.__version__} CPU, Brevitas model in eval mode (fake-quantised "
                        f"float32); {Method.from_settings(settings).text()}", **workload.provenance)
