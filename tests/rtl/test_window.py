"""Window generator and max pool: every output value against numpy, with random back-pressure, and
the steady-state cycles per frame of the cycle formula."""

import numpy as np
import pytest
from support.rtl_sim import simulate_or_skip

from sparsekws.rtl.cases import Case, pack_frames
from sparsekws.rtl.window import WindowShape, conv_reads, conv_window, cycles, max_pool, pool_reads


def windows(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """``[frames, positions, K*K*C]``: every window of ``x`` ``[frames, H, W, C]`` in (row, column, channel) order."""
    frames, height, width, _ = x.shape
    return np.stack([x[:, oy:oy + kernel, ox:ox + kernel, :].reshape(frames, -1)
                     for oy in range(0, height - kernel + 1, stride) for ox in range(0, width - kernel + 1, stride)], 1)


def _case(shape: WindowShape, op: str, rng) -> Case:
    lo, hi = (-(1 << (shape.bits - 1)), 1 << (shape.bits - 1)) if shape.signed else (0, 1 << shape.bits)
    x = rng.integers(lo, hi, size=(4, shape.height, shape.width, shape.channels))
    found = windows(x, shape.kernel, shape.stride)
    if op == "max":
        y = found.reshape(4, found.shape[1], shape.kernel ** 2, shape.channels).max(axis=2).reshape(4, -1)
        text, beats = max_pool("u", shape), len(pool_reads(shape))
    else:
        y, text, beats = found.reshape(4, -1), conv_window("u", shape), len(conv_reads(shape))
    return Case("u", text, pack_frames(x.reshape(4, -1), shape.group * shape.in_words, shape.bits),
                pack_frames(y, shape.lanes, shape.bits), 4, cycles(shape, beats), shape)


@pytest.mark.parametrize("shape, op", [
    (WindowShape(6, 6, 1, 3, 1, group=1, lanes=9, bits=8, signed=True), "window"),  # a whole window per beat
    (WindowShape(6, 6, 4, 3, 1, group=2, lanes=2, bits=4), "window"),  # a pixel in two beats
    (WindowShape(6, 6, 8, 3, 1, group=1, lanes=6, bits=4, in_words=8), "window"),  # lanes across pixels
    (WindowShape(8, 8, 4, 2, 2, group=2, lanes=2, bits=4), "max"),
    (WindowShape(7, 7, 2, 3, 2, group=2, lanes=2, bits=4, signed=True), "max"),
], ids=["whole-window", "channel-folds", "pixel-per-beat", "pool", "pool-signed-k3"])
def test_window_units_are_exact_at_their_cycle_formula(shape, op, tmp_path):
    result = simulate_or_skip(_case(shape, op, np.random.default_rng(0)), tmp_path)
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == result.cycles_per_frame_model


def test_reads_follow_finn_window_order():
    shape = WindowShape(5, 5, 2, 2, 1, group=1, lanes=4, bits=4)
    # (ky, kx, c) = (0,0,0) (0,0,1) (0,1,0) (0,1,1) | (1,0,0) ...: words of a 5-wide, 2-channel map
    assert conv_reads(shape) == [[0, 1, 2, 3], [10, 11, 12, 13]]
    assert pool_reads(WindowShape(4, 4, 4, 2, 2, group=2, lanes=2, bits=4)) == [[0, 2, 8, 10], [1, 3, 9, 11]]


def test_shapes_it_cannot_build_are_refused():
    with pytest.raises(ValueError, match="without padding"):
        conv_reads(WindowShape(6, 6, 1, 3, 2, group=1, lanes=9, bits=8))
    with pytest.raises(ValueError, match="divide the 72 values"):
        conv_reads(WindowShape(6, 6, 8, 3, 1, group=1, lanes=5, bits=4))
    with pytest.raises(ValueError, match="must equal"):
        pool_reads(WindowShape(4, 4, 4, 2, 2, group=2, lanes=4, bits=4))
