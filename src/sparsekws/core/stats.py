"""Statistics over repeated runs (seeds): mean, standard deviation and a t-interval of the mean."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

CONFIDENCE = 0.95


def confidence_summary(values: list[float], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """Mean, sample standard deviation and a two-sided t-interval of the mean of ``values``.

    With one value there is no spread to estimate: std and the interval are None and ``note``
    says so.
    """
    from scipy import stats

    n = len(values)
    if n == 0:
        raise ValueError("no values")
    mean = float(np.mean(values))
    summary = {"n": n, "mean": mean, "std": None, "confidence": confidence, "ci_low": None, "ci_high": None,
               "method": f"mean +- t({(1 + confidence) / 2:g}, n-1) * std / sqrt(n), std with n-1 "
                         "(measured over seeds)"}
    if n == 1:
        summary["note"] = "one seed: no standard deviation or confidence interval (raise train.seeds)"
        return summary
    std = float(np.std(values, ddof=1))
    half = float(stats.t.ppf((1 + confidence) / 2, n - 1)) * std / math.sqrt(n)
    summary.update({"std": std, "ci_low": mean - half, "ci_high": mean + half})
    return summary
