"""How a k-WTA unit decides on integers: ranks of the float scores, and winners by a histogram threshold.

A rank ROM maps (channel, level) to the dense rank of the float32 score ``(level * scale_c) *
boost_c`` (the reference's own arithmetic), so comparing small integer ranks orders and ties
exactly as the float reference does; ``select_winners`` is the hardware's two-step decision.
"""

from __future__ import annotations

import numpy as np


def score_ranks(levels: np.ndarray, scale: np.ndarray, boost: np.ndarray) -> np.ndarray:
    """Rank ROM ``[C, len(levels)]``: dense rank of the float32 score ``(level * scale_c) * boost_c``.

    Equal scores get equal ranks, so integer comparison of ranks orders (and ties) exactly as
    the float reference does.
    """
    values = levels.astype(np.float32).reshape(1, -1) * scale.astype(np.float32).reshape(-1, 1)
    scores = values * boost.astype(np.float32).reshape(-1, 1)
    _, ranks = np.unique(scores, return_inverse=True)
    return ranks.reshape(scores.shape).astype(np.int64)


def select_winners(ranks: np.ndarray, k: int) -> np.ndarray:
    """Mask of the ``k`` largest ``ranks`` per row (ties: lower column wins), by histogram threshold.

    The hardware's two steps: the threshold rank ``t`` is the largest with ``count(rank >= t) >=
    k``; all ranks above ``t`` win, and the first ``k - count(rank > t)`` ranks equal to ``t``.
    """
    rows, width = ranks.shape
    k = max(1, min(int(k), width))
    order = np.sort(ranks, axis=1)[:, ::-1]
    threshold = order[:, k - 1:k]
    above = ranks > threshold
    tied = ranks == threshold
    quota = k - above.sum(axis=1, keepdims=True)
    admitted = tied & (np.cumsum(tied, axis=1) <= quota)
    return above | admitted
