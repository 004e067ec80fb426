"""The race (the blog's Graph 2): words processed over time, dense with a head start vs sparse.

The dense network starts at time 0 and processes ``d`` words/s; the sparse one starts
``head_start_s`` later and processes ``s`` words/s. Words done at time ``t`` (seconds since the
dense start) are ``d * t`` and ``s * max(0, t - head_start_s)``. The sparse network overtakes
when both are equal: ``tau = head_start_s * d / (s - d)`` seconds after it started (exact, no
time stepping), i.e. at ``head_start_s + tau`` on the dense clock. It never overtakes when
``s <= d`` (``tau`` is infinite); a dense model that does not fit (``d = 0``) is overtaken at
once (``tau = 0``) by any sparse model with ``s > 0``.

Each platform races the two models' best configurations (``comparison.best_configuration``:
full chip where networks fit, otherwise a single network; measured preferred to estimated).
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np
import pandas as pd

from sparsekws.figures.comparison import configuration_label, pair_label, source_text

# The blog's Graph 2 gives the dense network a 5-minute head start.
HEAD_START_S = 300.0
RACE_COLUMNS = [
    "comparison", "platform", "dense_model", "dense_configuration", "dense_words_per_s",
    "sparse_model", "sparse_configuration", "sparse_words_per_s", "head_start_s",
    "overtake_after_s", "overtake_at_s", "words_at_overtake", "source",
]


def words_processed(words_per_s: float, t: np.ndarray | float, start_s: float = 0.0) -> np.ndarray:
    """Words processed by time ``t`` by a network running at ``words_per_s`` from ``start_s``."""
    return words_per_s * np.maximum(0.0, np.asarray(t, dtype=float) - start_s)


def overtaking_time(dense_words_per_s: float, sparse_words_per_s: float, head_start_s: float = HEAD_START_S) -> float:
    """Seconds after the sparse network starts until it has processed as many words as the dense one.

    ``math.inf`` when it never does (sparse not faster).
    """
    d, s = float(dense_words_per_s), float(sparse_words_per_s)
    if d < 0 or s < 0 or head_start_s < 0:
        raise ValueError("throughputs and head start must be non-negative")
    if s <= d:
        return math.inf
    return head_start_s * d / (s - d)


def race_table(best: pd.DataFrame, pairs: list[tuple[str, str]], head_start_s: float = HEAD_START_S) -> pd.DataFrame:
    """One race per (pair, platform) where both models have a configuration."""
    rows = []
    for dense, sparse in pairs:
        d_rows = best[best["model"] == dense].set_index("platform")
        s_rows = best[best["model"] == sparse].set_index("platform")
        for platform in sorted(set(d_rows.index) & set(s_rows.index)):
            d, s = d_rows.loc[platform], s_rows.loc[platform]
            tau = overtaking_time(d["throughput_words_per_s"], s["throughput_words_per_s"], head_start_s)
            rows.append({
                "comparison": pair_label((dense, sparse)), "platform": platform,
                "dense_model": dense, "dense_configuration": configuration_label(d),
                "dense_words_per_s": d["throughput_words_per_s"],
                "sparse_model": sparse, "sparse_configuration": configuration_label(s),
                "sparse_words_per_s": s["throughput_words_per_s"], "head_start_s": head_start_s,
                "overtake_after_s": tau, "overtake_at_s": head_start_s + tau,
                "words_at_overtake": s["throughput_words_per_s"] * tau if math.isfinite(tau) else math.inf,
                "source": source_text([d, s]),
            })
    return pd.DataFrame(rows, columns=RACE_COLUMNS)


def race_window(race: Mapping[str, float]) -> float:
    """The end of the time axis (s since the dense start): past the overtaking point, or 2 head starts."""
    h, tau = race["head_start_s"], race["overtake_after_s"]
    if not math.isfinite(tau):
        return 2.0 * h if h > 0 else 1.0
    return h + max(3.0 * tau, 0.05 * h, 1e-3)


def race_curves(race: Mapping[str, float], points: int = 400) -> pd.DataFrame:
    """Words processed over time by both models of one race (for plotting)."""
    h = race["head_start_s"]
    t = np.unique(np.concatenate([np.linspace(0.0, race_window(race), points), [h]]))
    return pd.DataFrame({
        "time_s": np.concatenate([t, t]),
        "words": np.concatenate([words_processed(race["dense_words_per_s"], t),
                                 words_processed(race["sparse_words_per_s"], t, h)]),
        "model": [race["dense_model"]] * len(t) + [race["sparse_model"]] * len(t),
    })


def describe(race: Mapping[str, float]) -> str:
    """One line saying who wins the race and when."""
    tau = race["overtake_after_s"]
    if not math.isfinite(tau):
        return (f"{race['sparse_model']} never overtakes: not faster here "
                f"(x{race['sparse_words_per_s'] / race['dense_words_per_s']:.2f})"
                if race["dense_words_per_s"] > 0 else "neither model runs here")
    if race["dense_words_per_s"] == 0:
        return f"{race['dense_model']} does not fit: {race['sparse_model']} leads from its start"
    return f"{race['sparse_model']} overtakes {format_seconds(tau)} after it starts"


def format_seconds(seconds: float) -> str:
    if seconds >= 120:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"
