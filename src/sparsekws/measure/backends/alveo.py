"""A FINN deployment package on an Alveo card through XRT, with the card's power from XRT.

Throughput: the FINN driver (``platform="alveo"``, the ``pynq`` library on XRT) and its
``throughput_test``, as for PYNQ (``pynq_board.measure_on_board``). Power: sampled during each
repeat from ``pyxrt`` (``device.get_info(xrt_info_device.electrical)``, its
``power_consumption_watts``) or, without pyxrt, from
``xbutil examine -d <bdf> --report electrical --format JSON``. Skipped, with the reason, where no
deployment package is configured or neither pynq/XRT is installed.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Callable

from sparsekws.measure.backends import pynq_board
from sparsekws.measure.backends.pynq import board_records, deployment_package, no_deployment
from sparsekws.measure.power import PowerSampler
from sparsekws.measure.records import BackendUnavailable, Workload


def electrical_watts(report: dict) -> float:
    """``power_consumption_watts`` from an XRT electrical report (pyxrt's or xbutil's JSON)."""
    if "devices" in report:
        report = report["devices"][0]
    report = report.get("electrical", report)
    value = report.get("power_consumption_watts")
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def pyxrt_reader(pyxrt, device_index: int) -> Callable[[], float]:
    device = pyxrt.device(device_index)
    return lambda: electrical_watts(json.loads(device.get_info(pyxrt.xrt_info_device.electrical)))


def xbutil_reader(bdf: str, run: Callable = subprocess.run) -> Callable[[], float]:
    def read() -> float:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "electrical.json"
            run(["xbutil", "examine", "-d", bdf, "--report", "electrical", "--format", "JSON", "-o", str(out),
                 "--force"], check=True, capture_output=True)
            return electrical_watts(json.loads(out.read_text()))
    return read


class SampledCardPower:
    """``pynq_board`` power context: samples an XRT reader during the block."""

    def __init__(self, read_w: Callable[[], float] | None, interval_s: float, reason: str = ""):
        self.sampler = PowerSampler(read_w, interval_s) if read_w else None
        self.reason = reason

    def __enter__(self):
        if self.sampler:
            self.sampler.__enter__()
        return self

    def __exit__(self, *exc):
        if self.sampler:
            self.sampler.__exit__(*exc)

    def watts(self) -> float:
        return self.sampler.mean_w() if self.sampler else math.nan


def power_reader(settings: dict):
    """(read_w, how, reason): pyxrt if importable, else xbutil if on PATH, else none."""
    try:
        import pyxrt
        return pyxrt_reader(pyxrt, settings["device_index"]), "pyxrt electrical report", ""
    except ImportError:
        pass
    if shutil.which("xbutil") and settings.get("bdf"):
        return xbutil_reader(settings["bdf"]), "xbutil examine --report electrical", ""
    return None, "", "neither pyxrt nor xbutil (with measure.alveo.bdf) available"


NO_ALVEO_PACKAGE = "no FINN Alveo deployment package (an xclbin needs Vitis/Vivado)"


class AlveoFinn:
    name, platform = "finn-alveo-xrt", "alveo"

    @staticmethod
    def unavailable(settings: dict) -> str | None:
        """Why this backend cannot run, found without loading a model (None: try it)."""
        return no_deployment(settings, "alveo", NO_ALVEO_PACKAGE)

    def measure(self, workload: Workload, settings: dict):
        deployment = deployment_package(settings, "alveo", workload.model, NO_ALVEO_PACKAGE)
        try:
            import pynq  # noqa: F401  (the FINN Alveo driver runs on pynq's XRT backend)
        except ImportError:
            raise BackendUnavailable("the pynq library (with XRT) is not installed: no Alveo host") from None
        overlay = pynq_board.load_overlay(deployment, "alveo", settings["batch_sizes"][0])
        read_w, how, reason = power_reader(settings)
        result = self.on_host(overlay, settings, workload.inputs.reshape(len(workload.inputs), -1), read_w, reason)
        return board_records(result, workload, platform=self.platform, backend=self.name,
                             device=f"{settings['card']} (device {settings['device_index']})",
                             method=f"FINN Alveo driver throughput_test via XRT, {settings['repeats']} repeats per "
                             f"batch size, median and IQR; power: {how or 'none'}")

    @staticmethod
    def on_host(overlay, settings: dict, inputs, read_w, reason: str = "") -> dict:
        """Measure with a loaded overlay and a power reader (real, or fakes in the tests)."""
        return pynq_board.measure_on_board(
            overlay, settings["batch_sizes"], settings["repeats"],
            lambda: SampledCardPower(read_w, settings["power_interval_s"], reason), inputs)
