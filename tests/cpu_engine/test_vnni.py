"""The AVX-512 VNNI convolution (``sparse_vnni`` + ``sparse_kernels.conv_dense_vnni``) is exact and optional."""

import numpy as np
import pytest
import torch

from sparsekws.cpu_engine import fast as sparse_fast, vnni as sparse_vnni
from sparsekws.cpu_engine.reference import compile_network
from sparsekws.cpu_engine.fast import FastSparseNetwork

needs_vnni = pytest.mark.skipif(not sparse_vnni.host_has_vnni(), reason="the CPU (or numba's target) lacks AVX-512 VNNI")


def _cnn(shape, seed=5):
    from support.fixtures import cnn_config, warmed_up

    from sparsekws.models.zoo import build_model

    torch.manual_seed(seed)
    return warmed_up(build_model(cnn_config(), shape, 12, seed=seed), shape)


def _fast(model, shape, enabled, monkeypatch):
    monkeypatch.setattr(sparse_vnni, "ENABLED", enabled)
    reference = compile_network(model, shape)
    fast = FastSparseNetwork(reference)
    assert fast.compiled, fast.reason
    x = np.random.default_rng(3).integers(-128, 129, (6, *shape)).astype(np.float32)
    x[0] = 128  # the input bound: the largest accumulators
    x[1] = -128
    want = reference(x)
    np.testing.assert_array_equal(fast(x), want)
    np.testing.assert_array_equal(np.concatenate([fast(x[i:i + 1]) for i in range(len(x))]), want)
    return fast


@needs_vnni
def test_vnni_first_layer_is_bit_identical(monkeypatch):
    fast = _fast(_cnn((1, 32, 32)), (1, 32, 32), True, monkeypatch)
    assert fast.layers[0].kind == "conv_dense_vnni"


@pytest.mark.skipif(sparse_fast.kernels.numba is None, reason="the compiled path needs numba")
def test_the_switch_forces_the_portable_kernel(monkeypatch):
    fast = _fast(_cnn((1, 32, 32)), (1, 32, 32), False, monkeypatch)
    assert fast.layers[0].kind == "conv_dense_in"


@needs_vnni
def test_more_than_16_pooled_columns_keep_the_portable_kernel(monkeypatch):
    fast = _fast(_cnn((1, 32, 40)), (1, 32, 40), True, monkeypatch)  # 18 pooled columns
    assert fast.layers[0].kind == "conv_dense_in"


@needs_vnni
def test_conv_pool_levels_and_counts_are_exact():
    import numba

    rng = np.random.default_rng(0)
    C, H, W, kh, kw, O, levels = 2, 13, 17, 5, 3, 3, 4
    x = rng.integers(-300, 301, (C, H, W))
    weight = rng.integers(-9, 10, (O, C, kh, kw)) * (rng.random((O, C, kh, kw)) < 0.5)
    x[0, 0, :4] = 32766  # int16 extremes: exact int32 pair sums, compared in int32
    weight[0, 0, 0, :2] = 9
    pairs, offsets, first = sparse_fast._vnni_terms(weight, (C, H, W))
    image = np.zeros(C * H * W + kw + 64, np.int16)
    image[:C * H * W] = x.ravel()
    PH, PW = (H - kh + 1) // 2, (W - kw + 1) // 2
    OH, OW = H - kh + 1, W - kw + 1
    full = sum(np.einsum("cyx,oc->oyx", x[:, dy:dy + OH, dx:dx + OW], weight[:, :, dy, dx])
               for dy in range(kh) for dx in range(kw))
    pooled = full[:, :2 * PH, :2 * PW].reshape(O, PH, 2, PW, 2).max((2, 4)).reshape(O, -1)
    thr = np.sort(rng.choice(np.arange(-30000, 30000), (O, levels)), axis=1)
    thr[:, 1] = np.median(pooled, axis=1)  # a threshold some outputs reach exactly
    thr = np.sort(thr, axis=1).astype(np.int16)
    spad = 64
    out, counts = np.zeros(O * spad, np.int16), np.zeros(O * levels, np.int64)

    @numba.njit
    def run(out, image, pairs, offsets, first, thr, counts):
        for o in range(O):
            sparse_vnni.conv_pool(out, o * spad, PH, PW, image, W, pairs, offsets, first[o], first[o + 1], thr, counts,
                                  o * levels, levels)

    run(out, image, pairs, offsets, first, thr.reshape(-1), counts)
    above = pooled[:, :, None] >= thr[:, None, :]  # [O, PH*PW, levels]
    assert np.abs(pooled).max() > 2 ** 15  # the test reaches beyond int16
    np.testing.assert_array_equal(out.reshape(O, spad)[:, :PH * PW], above.sum(2))
    np.testing.assert_array_equal(counts.reshape(O, levels), above.sum(1))


@needs_vnni
@pytest.mark.parametrize("dtype", [np.int16, np.float32])
def test_compress_at_least_keeps_flat_order(dtype):
    import numba

    rng = np.random.default_rng(1)
    levels = rng.integers(0, 16, 2 * 48).astype(np.int16)
    idx, val = np.full(60, -1, np.int32), np.zeros(60, dtype)

    @numba.njit
    def run(levels, idx, val):
        n = sparse_vnni.compress_at_least(levels, 48, 37, 9, 1000, idx, val, 2)  # row 1, 37 units, from slot 2
        return n

    n = run(levels, idx, val)
    row = levels[48:48 + 37]
    keep = np.flatnonzero(row >= 9)
    assert n == 2 + len(keep)
    np.testing.assert_array_equal(idx[2:n], 1000 + keep)
    np.testing.assert_array_equal(val[2:n], row[keep].astype(dtype))
    assert (idx[:2] == -1).all()
