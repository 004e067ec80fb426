"""PyTorch on a CUDA GPU, with board power sampled through NVML during the timed repeats.

Skipped (with the reason) where torch sees no CUDA device. Power needs ``pynvml``
(``nvidia-ml-py``); without it, or where the GPU does not report power, power is missing (NaN).
"""

from __future__ import annotations

import numpy as np

from sparsekws.measure.backends.torch_cpu import load_model
from sparsekws.measure.power import PowerSampler
from sparsekws.measure.records import BackendUnavailable, Method, Workload, complete, measure_callable


def nvml_reader(index: int):
    """A ``read_w()`` for GPU ``index`` through NVML, or (None, reason) where NVML is unusable."""
    try:
        import pynvml
    except ImportError:
        return None, "pynvml (nvidia-ml-py) is not installed"
    try:
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(index)
        pynvml.nvmlDeviceGetPowerUsage(handle)
    except Exception as exc:  # NVMLError subclasses; a GPU without a power sensor lands here
        return None, f"NVML cannot read power: {exc}"
    return (lambda: pynvml.nvmlDeviceGetPowerUsage(handle) / 1000.0), ""


class SampledPower:
    """Context manager for ``measure_callable``: samples ``read_w`` and averages per repeat window."""

    def __init__(self, read_w, interval_s: float):
        self.sampler = PowerSampler(read_w, interval_s)

    def __enter__(self):
        self.sampler.__enter__()
        return self

    def __exit__(self, *exc):
        self.sampler.__exit__(*exc)

    def watts(self, start: float, end: float) -> float:
        return self.sampler.mean_w(start, end)


class TorchCuda:
    name, platform = "torch-cuda", "cuda"

    @staticmethod
    def unavailable(settings: dict) -> str | None:
        """Why this backend cannot run, found without loading a model (None: try it)."""
        import torch

        if torch.cuda.is_available():
            return None
        return (f"no CUDA device: torch.cuda.is_available() is False (torch {torch.__version__}, "
                f"built with CUDA {torch.version.cuda or 'none'})")

    def measure(self, workload: Workload, settings: dict):
        reason = self.unavailable(settings)
        if reason:
            raise BackendUnavailable(reason)
        index = settings["device"]
        device = torch.device("cuda", index)
        model = load_model(workload).to(device)
        read_w, reason = nvml_reader(index)

        def run(batch: np.ndarray) -> np.ndarray:
            out = model(torch.from_numpy(batch).to(device, non_blocking=False))
            return out.cpu().numpy()  # the copy synchronises: each latency covers the whole batch

        power = (lambda: SampledPower(read_w, settings["power_interval_s"])) if read_w else None
        try:
            with torch.inference_mode():
                rows = measure_callable(run, workload, Method.from_settings(settings), name=self.name, exact=False,
                                        power=power)
        finally:
            model.to("cpu")
        name = torch.cuda.get_device_name(index)
        power_text = "NVML board power, mean per repeat, median over repeats" if read_w else f"no power: {reason}"
        return complete(rows, model=workload.model, platform=self.platform, backend=self.name,
                        device=f"{name} (CUDA {torch.version.cuda})", threads=np.nan,
                        method=f"torch {torch.__version__} CUDA, Brevitas model in eval mode, host->device copy "
                        f"included; {power_text}; {Method.from_settings(settings).text()}", **workload.provenance)
