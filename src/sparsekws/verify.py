"""The one rule for "two executions of a network agree", used by every output check.

Outputs agree when ``max|got - want| <= RTOL * max|want| + ATOL`` and, on every sample, the
class ``got`` ranks first has a ``want`` logit within that tolerance of the top ``want``
logit. Low-bit quantised logits often tie exactly, and rounding noise of 1e-7 then picks
either tied class, so exact argmax equality is reported but not required.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RTOL = 1e-4
ATOL = 1e-5
RULE = (f"max_abs_diff <= {RTOL:g} * max|reference| + {ATOL:g}, and each sample's top class is a top class "
        "of the reference within that tolerance (low-bit logits often tie exactly)")


def compare_outputs(got: np.ndarray, want: np.ndarray) -> dict[str, Any]:
    """Compare outputs ``got`` with reference outputs ``want`` (both [samples, classes])."""
    got = np.asarray(got, dtype=np.float64)
    want = np.asarray(want, dtype=np.float64)
    if got.shape != want.shape or want.size == 0:
        return {"samples": int(len(want)), "max_abs_diff": float("inf"), "tolerance": 0.0, "tolerance_rule": RULE,
                "argmax_agreement": 0.0, "argmax_exact_agreement": 0.0, "passed": False,
                "error": f"shape {got.shape} != reference shape {want.shape}"}
    diff = float(np.abs(got - want).max())
    tolerance = RTOL * float(np.abs(want).max()) + ATOL
    top = got.argmax(axis=1)
    rows = np.arange(len(want))
    agreement = float(np.mean(want[rows, top] >= want.max(axis=1) - tolerance))
    return {
        "samples": int(len(want)),
        "max_abs_diff": diff,
        "tolerance": tolerance,
        "tolerance_rule": RULE,
        "argmax_agreement": agreement,
        "argmax_exact_agreement": float(np.mean(top == want.argmax(axis=1))),
        "passed": bool(diff <= tolerance and agreement == 1.0),
    }
