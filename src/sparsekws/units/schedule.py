"""The memory images and cycle-by-cycle schedules that the sparse unit's cycle model assumes.

These are the layouts ``cost.MatrixUnit`` counts (banked operand style) and what an RTL
implementation of ``SparseMVAU`` loads into its memories; ``run_*`` executes them step by step
in numpy, returning the result and the cycles the schedule takes, so the cycle model can be
checked against the schedule (and later the schedule against RTL simulation).

``sparse_weights``: output ``j = f*PE + p`` (FINN's folded output order) is computed by PE
``p`` in fold ``f``; its SIMD lane ``s`` walks the non-zero inputs ``i`` with ``i mod SIMD = s``
in ascending order, reading word ``i // SIMD`` of its input bank. Image ``[NF, depth, PE, SIMD]``.

``sparse_sparse``: the non-zero weights of input row ``i`` are banked by output (lane ``p``
takes the outputs ``j`` with ``j mod PE = p``, ascending), stored with the output word
``j // PE``. Image ``[MW, depth, PE]``; SIMD active inputs run side by side, each into its own
copy of the accumulators, reduced at the end of the vector.

``compress_columns`` / ``compress_rows``: the compressed storage per output column (input indices
and values of its non-zero weights) or per input row, which the FINN op executes;
``weight_structure`` and ``bank_depths``: the largest non-zero counts and the padded bank depth of
every folding, measured from the weights.
"""

from __future__ import annotations

import numpy as np

from sparsekws.units.golden import bank_depth


def _banked(lines: np.ndarray, banks: int) -> tuple[np.ndarray, np.ndarray]:
    """For each line of ``lines`` ([L, N], zeros = pruned), the non-zeros per bank ``n mod banks``.

    Returns ``(word [L, depth, banks], value [L, depth, banks])`` padded with word 0, value 0.
    """
    count, length = lines.shape
    per_bank = lines.reshape(count, length // banks, banks)  # [L, word, bank]
    nonzero = per_bank != 0
    depth = int(max(1, nonzero.sum(axis=1).max(initial=0)))
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :depth, :]  # non-zero words first, ascending
    values = np.take_along_axis(per_bank, order, axis=1)
    keep = np.arange(depth)[None, :, None] < nonzero.sum(axis=1)[:, None, :]
    return np.where(keep, order, 0), np.where(keep, values, 0)


def sparse_weights_image(weights: np.ndarray, pe: int, simd: int) -> tuple[np.ndarray, np.ndarray]:
    """Weight memory of the ``sparse_weights`` unit: ``(input word, weight)``, each ``[NF, depth, PE, SIMD]``."""
    mw, mh = weights.shape
    word, value = _banked(np.asarray(weights).T, simd)  # [MH, depth, SIMD]
    depth = word.shape[1]
    shape = (mh // pe, pe, depth, simd)
    return (word.reshape(shape).transpose(0, 2, 1, 3), value.reshape(shape).transpose(0, 2, 1, 3))


def run_sparse_weights(image: tuple[np.ndarray, np.ndarray], x: np.ndarray) -> tuple[np.ndarray, int]:
    """Execute the ``sparse_weights`` schedule on one input vector: (dot products [MH], cycles)."""
    word, value = image
    nf, depth, pe, simd = word.shape
    banks = x.reshape(-1, simd)  # [SF, SIMD]: bank s holds x[w*SIMD + s] at word w
    acc = np.zeros((nf, pe))
    cycles = 0
    for fold in range(nf):
        for step in range(depth):  # one cycle: every PE and SIMD lane reads one operand
            operands = banks[word[fold, step], np.arange(simd)[None, :]]  # [PE, SIMD]
            acc[fold] += (operands * value[fold, step]).sum(axis=1)
            cycles += 1
    return acc.reshape(-1), max(cycles, banks.shape[0])


def sparse_sparse_image(weights: np.ndarray, pe: int) -> tuple[np.ndarray, np.ndarray]:
    """Row memory of the ``sparse_sparse`` unit: ``(output word, weight)``, each ``[MW, depth, PE]``."""
    return _banked(np.asarray(weights), pe)


def run_sparse_sparse(image: tuple[np.ndarray, np.ndarray], x: np.ndarray, simd: int,
                      mh: int) -> tuple[np.ndarray, int]:
    """Execute the ``sparse_sparse`` schedule on one input vector (its non-zeros are the active
    inputs): (dot products [MH], cycles including the drain of the ``MH/PE`` outputs)."""
    word, value = image
    _, depth, pe = word.shape
    active = np.flatnonzero(x)
    lanes = np.zeros((simd, mh // pe, pe))  # lane-private accumulators: [lane, word, PE bank]
    cycles = 0
    for start in range(0, len(active), simd):
        for step in range(depth):  # one cycle: every lane adds PE products of its row
            for lane, row in enumerate(active[start:start + simd]):
                lanes[lane, word[row, step], np.arange(pe)] += x[row] * value[row, step]
            cycles += 1
    return lanes.sum(axis=0).reshape(-1), max(cycles, mh // pe)


def compress_columns(weights: np.ndarray, fan_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Per output column, the input indices and values of its non-zero weights, padded to ``fan_in``.

    Returns ``(index [MH, K], value [MH, K])``; padding entries have index 0 and value 0.
    """
    return _compress(np.asarray(weights).T, fan_in, "fan_in (non-zero weights per output)")


def compress_rows(weights: np.ndarray, row_nnz: int) -> tuple[np.ndarray, np.ndarray]:
    """Per input row, the output indices and values of its non-zero weights, padded to ``row_nnz``."""
    return _compress(np.asarray(weights), row_nnz, "row_nnz (non-zero weights per input)")


def _compress(lines: np.ndarray, width: int, what: str) -> tuple[np.ndarray, np.ndarray]:
    nonzero = lines != 0
    counts = nonzero.sum(axis=1)
    if counts.max(initial=0) > width:
        raise ValueError(f"a weight line has {int(counts.max())} non-zeros, more than {what} = {width}")
    # stable sort puts the non-zero positions first, in ascending index order
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :width]
    values = np.take_along_axis(lines, order, axis=1)
    keep = np.arange(width)[None, :] < counts[:, None]
    return np.where(keep, order, 0), np.where(keep, values, 0)


def weight_structure(weights: np.ndarray) -> dict[str, int]:
    """Largest non-zero count per output column (fan_in) and per input row (row_nnz) of ``[MW, MH]``."""
    nonzero = np.asarray(weights) != 0
    return {"fan_in": int(max(1, nonzero.sum(axis=0).max(initial=0))),
            "row_nnz": int(max(1, nonzero.sum(axis=1).max(initial=0)))}


def divisors(n: int) -> list[int]:
    return [d for d in range(1, n + 1) if n % d == 0]


def bank_depths(weights: np.ndarray, mode: str) -> dict[int, int]:
    """Padded schedule words per bank for every folding: ``{SIMD: depth}`` (sparse_weights: the most
    non-zeros of one output among the inputs ``i mod SIMD = s``) or ``{PE: depth}`` (sparse_sparse:
    the most non-zeros of one input row among the outputs ``j mod PE = p``)."""
    nonzero = np.asarray(weights) != 0  # [MW, MH]
    lines = nonzero.T if mode == "sparse_weights" else nonzero  # one line per output / per input row
    return {fold: bank_depth(lines, fold) for fold in divisors(lines.shape[1])}
