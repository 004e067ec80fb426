"""Statistics over repeated runs (seeds): mean, standard deviation and a t-interval of the mean, and
the difference of two means with its Welch interval."""

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


def difference_summary(base: list[float], other: list[float], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """``mean(other) - mean(base)`` with a two-sided Welch t-interval (None unless both have >= 2 values)."""
    return difference_of_summaries(confidence_summary(base), confidence_summary(other), confidence)


def difference_of_summaries(base: dict[str, Any], other: dict[str, Any], confidence: float = CONFIDENCE) -> dict[str, Any]:
    """``difference_summary`` from two ``confidence_summary`` results (``mean``, ``std``, ``n``)."""
    from scipy import stats

    difference = float(other["mean"] - base["mean"])
    summary = {"difference": difference, "ci_low": None, "ci_high": None, "confidence": confidence,
               "method": "Welch t-interval of the difference of means (measured over seeds)"}
    if min(base["n"], other["n"]) < 2:
        return summary
    var_b, var_o = base["std"] ** 2 / base["n"], other["std"] ** 2 / other["n"]
    se = math.sqrt(var_b + var_o)
    if se == 0:
        summary.update({"ci_low": difference, "ci_high": difference})
        return summary
    dof = (var_b + var_o) ** 2 / (var_b ** 2 / (base["n"] - 1) + var_o ** 2 / (other["n"] - 1))
    half = float(stats.t.ppf((1 + confidence) / 2, dof)) * se
    summary.update({"ci_low": difference - half, "ci_high": difference + half})
    return summary
