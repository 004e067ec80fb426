"""The common record builder: time a backend's ``run(batch)`` at each batch size, check its
outputs against the model, and build tidy records (``RECORD_COLUMNS``) and skipped rows."""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from sparsekws.core.errors import UserError
from sparsekws.measure import RECORD_COLUMNS, SKIPPED_COLUMNS
from sparsekws.measure.power import NAN, energy_per_word_j
from sparsekws.measure.timing import make_batches, time_repeats
from sparsekws.core.provenance import utc_now
from sparsekws.core.agreement import compare_outputs

log = logging.getLogger(__name__)


class BackendUnavailable(Exception):
    """Raised by a backend whose hardware or library is absent; the message is the recorded reason."""


@dataclass
class Workload:
    """What every backend measures: one model on the test split, with the model's own outputs."""

    model: str
    model_config: dict[str, Any]
    inputs: np.ndarray          # [n, *input_shape] float32, integer-valued features
    labels: np.ndarray          # [n]
    reference: np.ndarray       # [n, classes]: the torch model's logits on ``inputs`` (eval mode)
    provenance: dict[str, str]  # config_hash, git_revision
    checkpoint: Path | None = None
    qonnx: Path | None = None
    work_dir: Path = Path(".")
    extras: dict[str, Any] = field(default_factory=dict)

    @property
    def model_accuracy(self) -> float:
        return float((self.reference.argmax(1) == self.labels).mean())


@dataclass
class Method:
    """How a backend times: warm-up, repeats, minimum duration per repeat, batch sizes."""

    batch_sizes: list[int]
    warmup_runs: int
    repeats: int
    duration_s: float

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> "Method":
        return cls(list(settings["batch_sizes"]), int(settings["warmup_runs"]), int(settings["repeats"]),
                   float(settings["duration_s"]))

    def text(self) -> str:
        return (f"{self.warmup_runs} warm-up batches, median of {self.repeats} repeats of >= {self.duration_s:g} s "
                "(the first over every test word), wall clock")


def check_outputs(name: str, logits: np.ndarray, workload: Workload, exact: bool) -> dict[str, Any]:
    """Accuracy of the timed outputs and whether they equal the model's (``core.agreement``).

    ``outputs_match_model`` is the strict rule of ``core.agreement``. ``exact`` backends must
    compute the model itself: a changed prediction (beyond exact ties) raises ``UserError``. A
    logit difference that changes no prediction is recorded (``outputs_match_model`` False) and
    logged, not fatal: float32 kernels sum in a batch-size-dependent order, and one activation on
    a rounding boundary of a low-bit quantiser can then move by one step (seen with ONNX Runtime
    at batch 1 and 64 on one of 240 words, identical at batch 240).
    """
    check = compare_outputs(logits, workload.reference)
    if exact and not check["passed"] and check["argmax_agreement"] == 1.0:
        log.warning("%s outputs of '%s' differ from the model's by up to %.3g (tolerance %.3g) without changing "
                    "a prediction; recorded as outputs_match_model=False", name, workload.model,
                    check["max_abs_diff"], check["tolerance"])
    elif exact and not check["passed"]:
        raise UserError(f"{name} outputs of model '{workload.model}' differ from the model's (max |diff| "
                        f"{check['max_abs_diff']:.3g}, tolerance {check['tolerance']:.3g}, argmax agreement "
                        f"{check['argmax_agreement']:.3f}); the measurement would not be of this network")
    return {"accuracy_on_measured": float((logits.argmax(1) == workload.labels).mean()),
            "model_accuracy_on_measured": workload.model_accuracy, "outputs_match_model": bool(check["passed"]),
            "n_measured": int(len(workload.labels))}


def measure_callable(run: Callable[[np.ndarray], np.ndarray], workload: Workload, method: Method, *,
                     name: str, exact: bool, power: Callable | None = None) -> list[dict[str, Any]]:
    """Time ``run`` at every batch size; one partial record per batch size.

    ``power`` (optional) is a context-manager factory ``power(timing_window) -> object`` with
    ``.watts(start, end)``; without it power is missing (NaN).
    """
    rows = []
    for batch_size in method.batch_sizes:
        batches = make_batches(workload.inputs, batch_size)
        windows: list[tuple[float, float]] = []
        meter = power() if power is not None else None
        if meter is not None:
            with meter:
                timing = time_repeats(run, batches, method.warmup_runs, method.repeats, method.duration_s,
                                      batch_size, on_repeat=lambda i, a, b: windows.append((a, b)))
            watts = [meter.watts(a, b) for a, b in windows]
            power_w = float(np.nanmedian(watts)) if not all(math.isnan(w) for w in watts) else NAN
        else:
            timing = time_repeats(run, batches, method.warmup_runs, method.repeats, method.duration_s, batch_size)
            power_w = NAN
        logits = np.concatenate([np.asarray(o) for o in timing.outputs])[:len(workload.labels)]
        summary = timing.summary()
        row = {"batch_size": batch_size, **summary, **check_outputs(name, logits, workload, exact),
               "power_w": power_w, "energy_per_word_j": energy_per_word_j(power_w, summary["throughput_words_per_s"])}
        log.info("%s %s batch %d: %.0f words/s (IQR %.0f), p50 %.3f ms, accuracy %.4f (model %.4f), power %s W",
                 workload.model, name, batch_size, row["throughput_words_per_s"], row["throughput_iqr_words_per_s"],
                 row["latency_p50_ms"], row["accuracy_on_measured"], row["model_accuracy_on_measured"], power_w)
        rows.append(row)
    return rows


def complete(rows: list[dict[str, Any]], **common: Any) -> pd.DataFrame:
    """Full records: ``common`` fields (model, platform, backend, device, ...) plus defaults, in order."""
    defaults = {"scope": "single network", "networks": 1, "source": "measured", "timestamp": utc_now(),
                "power_w": NAN, "energy_per_word_j": NAN}
    return pd.DataFrame([{**defaults, **common, **row} for row in rows], columns=RECORD_COLUMNS)


def skipped_row(model: str, platform: str, backend: str, reason: str, provenance: dict[str, str]) -> dict[str, Any]:
    """One row of ``skipped.csv``: this backend produced no number, and why."""
    return {"model": model, "platform": platform, "backend": backend, "reason": reason, "timestamp": utc_now(),
            **provenance}


def skipped_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=SKIPPED_COLUMNS)
