"""Measure a FINN deployment package with the ``pynq`` library: runs on the board (or an Alveo host).

Self-contained (standard library, numpy, pynq and the package's own FINN driver), so that it can be
copied to a PYNQ board and run there: ``sudo python3 pynq_board.py --deployment DIR ...`` prints
one JSON object. ``sparsekws.measure.backends.pynq`` runs it in-process or over SSH.

Throughput comes from the FINN-generated driver's ``throughput_test()`` (its
``throughput[images/s]`` and ``runtime[ms]`` per batch, ``fclk[mhz]``), repeated; power from
``pynq.get_rails()`` rails recorded with ``pynq.DataRecorder`` during each repeat (the named rails
summed; none named or none present -> power missing, with the reason). The outputs of
``execute()`` on the measured words are returned for the correctness check.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import sys
from pathlib import Path

import numpy as np


class RailPower:
    """Power of named ``pynq`` rails during a ``with`` block, through ``pynq.DataRecorder``."""

    def __init__(self, pynq, rails: list[str], interval_s: float):
        available = pynq.get_rails()
        self.names = [r for r in rails if r in available]
        self.reason = "" if self.names else (
            f"none of the rails {rails} on this board (rails: {sorted(available) or 'none'})")
        self.recorder = pynq.DataRecorder(*[available[r].power for r in self.names]) if self.names else None
        self.interval_s = interval_s
        self._context = None

    def __enter__(self):
        if self.recorder is not None:
            self._context = self.recorder.record(self.interval_s)
            self._context.__enter__()
            self.recorder.mark()
        return self

    def __exit__(self, *exc):
        if self._context is not None:
            self._context.__exit__(*exc)

    def watts(self) -> float:
        """Mean over the samples after the last mark of the summed rail powers; NaN without rails."""
        if self.recorder is None:
            return math.nan
        frame = self.recorder.frame
        frame = frame[frame["Mark"] == frame["Mark"].max()]
        columns = [c for c in frame.columns if c != "Mark"]
        return float(frame[columns].sum(axis=1).mean()) if len(frame) else math.nan


def measure_on_board(overlay, batch_sizes: list[int], repeats: int, power_factory, inputs=None) -> dict:
    """Repeated ``throughput_test`` per batch size with power; ``execute(inputs)`` outputs if given.

    ``power_factory()`` returns a context manager with ``watts()`` and ``reason``.
    """
    runs = []
    reason = ""
    for batch_size in batch_sizes:
        overlay.batch_size = batch_size
        overlay.throughput_test()  # warm-up
        for repeat in range(repeats):
            power = power_factory()
            with power:
                metrics = overlay.throughput_test()
            reason = power.reason
            runs.append({"batch_size": batch_size, "repeat": repeat,
                         "throughput_words_per_s": float(metrics["throughput[images/s]"]),
                         "runtime_ms": float(metrics["runtime[ms]"]), "fclk_mhz": float(metrics.get("fclk[mhz]", math.nan)),
                         "power_w": power.watts()})
    outputs = None
    if inputs is not None:
        overlay.batch_size = len(inputs)
        outputs = np.asarray(overlay.execute(inputs)).reshape(len(inputs), -1).tolist()
    return {"runs": runs, "power_reason": reason, "outputs": outputs}


def load_overlay(deployment: Path, platform: str, batch_size: int):
    """The FINN driver of a deployment package (``driver/``, ``bitfile/``) as a loaded overlay."""
    driver_dir = deployment / "driver"
    sys.path.insert(0, str(driver_dir))
    driver = importlib.import_module("driver")
    base = importlib.import_module("driver_base")
    bitfiles = sorted((deployment / "bitfile").glob("*.bit")) + sorted((deployment / "bitfile").glob("*.xclbin"))
    if not bitfiles:
        raise FileNotFoundError(f"no .bit or .xclbin in {deployment / 'bitfile'}")
    weights = driver_dir / "runtime_weights"
    return base.FINNExampleOverlay(bitfile_name=str(bitfiles[0]), platform=platform, io_shape_dict=driver.io_shape_dict,
                                   batch_size=batch_size, runtime_weight_dir=str(weights))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deployment", required=True, help="FINN deployment package (driver/, bitfile/)")
    parser.add_argument("--platform", default="zynq-iodma", help="FINN driver platform (zynq-iodma or alveo)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", required=True)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rails", nargs="*", default=[], help="pynq rails whose power is summed")
    parser.add_argument("--interval-s", type=float, default=0.05)
    parser.add_argument("--inputs", help="inputs.npy to execute for the correctness check")
    args = parser.parse_args(argv)
    import pynq

    overlay = load_overlay(Path(args.deployment), args.platform, args.batch_sizes[0])
    inputs = np.load(args.inputs) if args.inputs else None
    result = measure_on_board(overlay, args.batch_sizes, args.repeats,
                              lambda: RailPower(pynq, args.rails, args.interval_s), inputs)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
