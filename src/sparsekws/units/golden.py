"""Numpy golden models of the hardware units (integer in, integer out, bit-exact targets).

Semantics (shared with the FINN custom ops):
- matrix-vector: ``acc = W @ x`` over integers; output = FINN thresholding, the number of a row's
  ascending thresholds ``t_j`` with ``acc >= t_j`` (an unsigned integer of ``obits`` bits);
- fixed fan-in sparse weights: every row keeps ``fan_in`` non-zero weights, stored as
  ``(index, value)`` pairs per row, indices ascending;
- sparse-sparse: the input arrives as ``(index, value)`` pairs of the active inputs only;
- convolution: maps channels last ``[N, H, W, C]``, torch weights ``[M, C, K, K]``, no padding,
  stride 1; outputs ``[N, OH, OW, M]``;
- k-WTA: keep the ``k`` largest values of a group, ties to the lower index, zero elsewhere.
"""

from __future__ import annotations

import numpy as np


def fan_in_for_density(in_features: int, density: float) -> int:
    """Non-zero weights per row at ``density`` (as in ``sparsekws.models.sparse_weights``)."""
    if not 0.0 < density <= 1.0:
        raise ValueError(f"density must be in (0, 1], got {density}")
    return max(1, min(in_features, round(density * in_features)))


def random_fixed_fan_in(rows: int, cols: int, fan_in: int, wbits: int,
                        rng: np.random.Generator) -> np.ndarray:
    """A dense int matrix (rows, cols) with exactly ``fan_in`` non-zero ``wbits``-bit signed weights per row."""
    lo, hi = -(1 << (wbits - 1)), (1 << (wbits - 1)) - 1
    values = rng.integers(lo, hi, size=(rows, fan_in), endpoint=True)
    values[values == 0] = 1  # keep the fan-in exact: a kept weight is non-zero
    weights = np.zeros((rows, cols), dtype=np.int64)
    for row in range(rows):
        weights[row, np.sort(rng.choice(cols, size=fan_in, replace=False))] = values[row]
    return weights


def random_bank_balanced(rows: int, cols: int, fan_in: int, banks: int, wbits: int,
                         rng: np.random.Generator) -> np.ndarray:
    """Like ``random_fixed_fan_in``, with each row's non-zeros spread evenly over the ``banks``
    input banks ``i mod banks`` (``ceil(fan_in/banks)`` at most per bank)."""
    if cols % banks or fan_in > cols:
        raise ValueError(f"{banks} banks must divide {cols} inputs and fan-in {fan_in} must not exceed them")
    weights = random_fixed_fan_in(rows, cols, fan_in, wbits, rng)
    words = cols // banks
    for row in range(rows):
        values = weights[row][weights[row] != 0]
        per_bank = np.full(banks, fan_in // banks)
        per_bank[rng.choice(banks, size=fan_in % banks, replace=False)] += 1
        picks = [bank + banks * np.sort(rng.choice(words, size=n, replace=False)) for bank, n in enumerate(per_bank)]
        weights[row] = 0
        weights[row, np.sort(np.concatenate(picks))] = values
    return weights


def to_fixed_fan_in(weights: np.ndarray, fan_in: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(indices, values)``, each (rows, fan_in), of a matrix with at most ``fan_in`` non-zeros per row.

    Rows with fewer non-zeros are padded with zero weights at unused indices (the hardware
    multiplies them like any other), so every row has the same count.
    """
    weights = np.asarray(weights, dtype=np.int64)
    nnz = (weights != 0).sum(axis=1)
    fan_in = int(nnz.max()) if fan_in is None else fan_in
    if fan_in < 1 or (nnz > fan_in).any():
        raise ValueError(f"a row has {int(nnz.max())} non-zero weights, more than fan-in {fan_in}")
    rows, cols = weights.shape
    indices = np.array([_padded(np.flatnonzero(line), cols, fan_in) for line in weights], dtype=np.int64)
    indices = indices.reshape(rows, fan_in)
    return indices, np.take_along_axis(weights, indices, axis=1)


def _padded(kept: np.ndarray, size: int, width: int) -> np.ndarray:
    """``kept`` indices plus the lowest unused ones of ``range(size)`` up to ``width``, ascending."""
    pad = np.setdiff1d(np.arange(size), kept)[: width - kept.size]
    return np.sort(np.concatenate([kept, pad]))


def bank_depth(weights: np.ndarray, simd: int) -> int:
    """Schedule words per row of the banked sparse unit: the most non-zeros of one row among the
    inputs ``i mod SIMD = s`` (``ceil(fan_in/SIMD)`` for a bank-balanced mask)."""
    weights = np.asarray(weights)
    rows, cols = weights.shape
    per_bank = (weights != 0).reshape(rows, cols // simd, simd).sum(axis=1)
    return int(max(1, per_bank.max(initial=0)))


def random_thresholds(acc_lo: int, acc_hi: int, rows: int, obits: int,
                      rng: np.random.Generator) -> np.ndarray:
    """Ascending integer thresholds (rows, 2**obits - 1) spread over ``[acc_lo, acc_hi]``."""
    draws = rng.integers(acc_lo, acc_hi, size=(rows, (1 << obits) - 1), endpoint=True)
    return np.sort(draws, axis=1)


def threshold(acc: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """FINN multi-thresholding: per row, count the thresholds ``<= acc`` (acc: (..., rows))."""
    return (np.asarray(acc)[..., None] >= thresholds).sum(axis=-1).astype(np.int64)


def mvu(x: np.ndarray, weights: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Matrix-vector unit, dense or sparse (same result): ``threshold(W @ x)`` for frames x (n, cols)."""
    return threshold(np.asarray(x, dtype=np.int64) @ np.asarray(weights, dtype=np.int64).T, thresholds)


def sparse_mvu(x: np.ndarray, indices: np.ndarray, values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Fixed fan-in unit from its stored form: ``acc[r] = sum_f values[r, f] * x[indices[r, f]]``."""
    acc = (np.asarray(x, dtype=np.int64)[:, indices] * values).sum(axis=-1)
    return threshold(acc, thresholds)


def active_pairs(x: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` (index, value) pairs per frame that a k-WTA output delivers, indices ascending.

    Frames with fewer than ``k`` non-zeros are padded with zero values at unused indices.
    """
    x = np.asarray(x, dtype=np.int64)
    indices = np.array([_padded(np.flatnonzero(frame)[:k], frame.size, k) for frame in x], dtype=np.int64)
    indices = indices.reshape(x.shape[0], k)
    return indices, np.take_along_axis(x, indices, axis=1)


def sparse_sparse_mvu(indices: np.ndarray, values: np.ndarray, weights: np.ndarray,
                      thresholds: np.ndarray) -> np.ndarray:
    """Sparse-sparse unit: ``acc[r] = sum_a W[r, indices[a]] * values[a]`` over the active pairs."""
    weights = np.asarray(weights, dtype=np.int64)
    acc = np.einsum("nar,na->nr", weights.T[np.asarray(indices)], np.asarray(values, dtype=np.int64))
    return threshold(acc, thresholds)


def kwta(x: np.ndarray, k: int) -> np.ndarray:
    """k-WTA over the last axis: keep the ``k`` largest values (ties: lower index), zero the rest."""
    x = np.asarray(x, dtype=np.int64)
    k = max(1, min(int(k), x.shape[-1]))
    order = np.argsort(-x, axis=-1, kind="stable")[..., :k]
    mask = np.zeros(x.shape, dtype=bool)
    np.put_along_axis(mask, order, True, axis=-1)
    return np.where(mask, x, 0)


def conv2d(maps: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Valid 2-D convolution (cross-correlation, as torch) of channels-last maps: ``[N, OH, OW, M]``."""
    maps, weights = np.asarray(maps, dtype=np.int64), np.asarray(weights, dtype=np.int64)
    kernel = weights.shape[-1]
    windows = np.lib.stride_tricks.sliding_window_view(maps, (kernel, kernel), axis=(1, 2))  # [N, OH, OW, C, K, K]
    return np.einsum("nhwcij,mcij->nhwm", windows, weights)
