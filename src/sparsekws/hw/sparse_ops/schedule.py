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
"""

from __future__ import annotations

import numpy as np


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
