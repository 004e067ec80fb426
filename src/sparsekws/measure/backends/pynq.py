"""A FINN deployment package on a PYNQ board: on the board itself, or from a host over SSH.

Where: ``measure.pynq.host`` null -> in this process (``import pynq`` must work: you are on the
board); a host name -> the package, ``pynq_board.py`` and the measured inputs are copied with
``scp`` and run with ``ssh <user>@<host> sudo python3 ...``, which prints JSON. The board-side
code is ``pynq_board.py`` (FINN driver ``throughput_test`` + ``pynq`` rails with
``DataRecorder``); docs/measuring-on-boards.md lists the steps. Skipped, with the reason, where
no deployment package is configured (a bitstream needs Vivado), or neither pynq nor ssh is there.
"""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Callable

import numpy as np

from sparsekws.measure.backends import pynq_board
from sparsekws.measure.records import BackendUnavailable, Workload, check_outputs, complete


def board_records(result: dict[str, Any], workload: Workload, *, platform: str, backend: str, device: str,
                  method: str) -> "pd.DataFrame":  # noqa: F821
    """Records from ``pynq_board.measure_on_board``'s result: median and IQR over repeats per batch size."""
    import pandas as pd

    runs = pd.DataFrame(result["runs"])
    check = {"accuracy_on_measured": np.nan, "model_accuracy_on_measured": workload.model_accuracy,
             "outputs_match_model": np.nan, "n_measured": 0}
    if result.get("outputs") is not None:
        outputs = np.asarray(result["outputs"], dtype=np.float64)
        classes = outputs.argmax(1) if outputs.shape[1] > 1 else outputs[:, 0].astype(int)
        model_classes = workload.reference.argmax(1)
        check = {"accuracy_on_measured": float((classes == workload.labels).mean()),
                 "model_accuracy_on_measured": workload.model_accuracy,
                 "outputs_match_model": bool((classes == model_classes).all()), "n_measured": int(len(classes))}
        if outputs.shape[1] == workload.reference.shape[1]:
            check = check_outputs(backend, outputs, workload, exact=False)
    rows = []
    for batch_size, part in runs.groupby("batch_size", sort=False):
        q25, q50, q75 = np.percentile(part["throughput_words_per_s"], [25, 50, 75])
        p50, p95, p99 = np.percentile(part["runtime_ms"], [50, 95, 99])
        watts = part["power_w"].astype(float)
        power = float(watts.median()) if watts.notna().any() else np.nan
        rows.append({"batch_size": int(batch_size), "repeats": len(part), "throughput_words_per_s": float(q50),
                     "throughput_iqr_words_per_s": float(q75 - q25), "latency_p50_ms": float(p50),
                     "latency_p95_ms": float(p95), "latency_p99_ms": float(p99), "power_w": power,
                     "energy_per_word_j": power / q50 if not np.isnan(power) and q50 > 0 else np.nan, **check})
    clock = runs["fclk_mhz"].dropna()
    if len(clock):
        device += f" at {clock.iloc[0]:g} MHz"
    power_text = "pynq rails via DataRecorder, mean per repeat, median over repeats" if not result["power_reason"] \
        else f"no power: {result['power_reason']}"
    return complete(rows, model=workload.model, platform=platform, backend=backend, device=device, threads=np.nan,
                    method=f"{method}; {power_text}", **workload.provenance)


def ssh_measure(settings: dict, deployment: Path, inputs: np.ndarray, batch_sizes: list[int], repeats: int,
                run: Callable = subprocess.run) -> dict:
    """Copy the package, ``pynq_board.py`` and the inputs to the board and measure there; the JSON result."""
    target = f"{settings['user']}@{settings['host']}"
    remote = settings["remote_dir"].rstrip("/")
    with tempfile.TemporaryDirectory() as tmp:
        np.save(Path(tmp) / "inputs.npy", inputs)
        steps = [
            ["ssh", target, "mkdir", "-p", remote],
            ["scp", "-r", "-q", str(deployment), f"{target}:{remote}/deploy"],
            ["scp", "-q", pynq_board.__file__, str(Path(tmp) / "inputs.npy"), f"{target}:{remote}/"],
        ]
        for step in steps:
            run(step, check=True, capture_output=True, text=True)
        command = [settings["python"], f"{remote}/pynq_board.py", "--deployment", f"{remote}/deploy",
                   "--platform", "zynq-iodma", "--batch-sizes", *map(str, batch_sizes), "--repeats", str(repeats),
                   "--interval-s", str(settings["power_interval_s"]), "--inputs", f"{remote}/inputs.npy",
                   "--rails", *settings["power_rails"]]
        done = run(["ssh", target, "sudo", "-E", shlex.join(command)], check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def no_deployment(settings: dict, platform: str, why_missing: str) -> str | None:
    """Why there is nothing to measure when ``measure.<platform>.deployment`` is not set, else None."""
    if settings.get("deployment"):
        return None
    return f"measure.{platform}.deployment is not set: {why_missing}; see docs/measuring-on-boards.md"


def deployment_package(settings: dict, platform: str, model: str, why_missing: str) -> Path:
    """The model's FINN deployment package from ``measure.<platform>.deployment`` (``{model}``
    is replaced by the model name); ``BackendUnavailable`` when the key is not set."""
    reason = no_deployment(settings, platform, why_missing)
    if reason:
        raise BackendUnavailable(reason)
    return Path(settings["deployment"].format(model=model))


NO_PYNQ_PACKAGE = "no FINN deployment package (the compile stage stops at estimates; a bitstream needs Vivado)"


class PynqFinn:
    name, platform = "finn-pynq-driver", "pynq"

    @staticmethod
    def unavailable(settings: dict) -> str | None:
        """Why this backend cannot run, found without loading a model (None: try it)."""
        return no_deployment(settings, "pynq", NO_PYNQ_PACKAGE)

    def measure(self, workload: Workload, settings: dict):
        deployment = deployment_package(settings, "pynq", workload.model, NO_PYNQ_PACKAGE)
        if not (deployment / "driver").is_dir():
            raise BackendUnavailable(f"{deployment} is not a FINN deployment package (no driver/ folder)")
        inputs = workload.inputs.reshape(len(workload.inputs), -1)
        batch_sizes, repeats = settings["batch_sizes"], settings["repeats"]
        if settings.get("host"):
            if shutil.which("ssh") is None or shutil.which("scp") is None:
                raise BackendUnavailable("measure.pynq.host is set but ssh/scp are not installed here")
            try:
                result = ssh_measure(settings, deployment, inputs, batch_sizes, repeats)
            except (subprocess.CalledProcessError, json.JSONDecodeError) as exc:
                raise BackendUnavailable(f"measuring on {settings['host']} failed: {exc}") from None
            where = f"{settings['board']} at {settings['host']} over SSH"
        else:
            try:
                import pynq
            except ImportError:
                raise BackendUnavailable("the pynq library is not installed (not on a PYNQ board) and "
                                         "measure.pynq.host is not set") from None
            overlay = pynq_board.load_overlay(deployment, "zynq-iodma", batch_sizes[0])
            result = self.on_board(pynq, overlay, settings, inputs)
            where = f"{settings['board']} (this board)"
        return board_records(result, workload, platform=self.platform, backend=self.name, device=where,
                             method=f"FINN driver throughput_test, {repeats} repeats per batch size after one "
                             "warm-up, median and IQR; correctness: execute() on every test word")

    @staticmethod
    def on_board(pynq, overlay, settings: dict, inputs: np.ndarray) -> dict:
        """Measure with a loaded overlay and the ``pynq`` module (real, or a fake in the tests)."""
        return pynq_board.measure_on_board(
            overlay, settings["batch_sizes"], settings["repeats"],
            lambda: pynq_board.RailPower(pynq, settings["power_rails"], settings["power_interval_s"]), inputs)
