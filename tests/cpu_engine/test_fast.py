"""The compiled sparse-aware path (``sparse_fast`` + ``sparse_kernels``) is bit-identical to the numpy engine.

The first test run compiles the numba kernels (cached on disk afterwards where writable).
"""

import numpy as np
import pytest
import torch

from sparsekws.cpu_engine import fast as sparse_fast
from sparsekws.cpu_engine.reference import BatchNormQuantReLU, KWinners, compile_network
from sparsekws.cpu_engine.fast import FastSparseNetwork, kwinners_ranks, thresholds
from sparsekws.core.agreement import compare_outputs

needs_numba = pytest.mark.skipif(sparse_fast.kernels.numba is None, reason="the compiled path needs numba")


def _model(cfg, shape, seed=5):
    from support.fixtures import warmed_up

    from sparsekws.models.zoo import build_model

    torch.manual_seed(seed)
    return warmed_up(build_model(cfg, shape, 12, seed=seed), shape)


def _inputs(shape, n, seed=2):
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape)).astype(np.float32)


def _assert_identical(model, shape, n=9):
    reference = compile_network(model, shape)
    fast = FastSparseNetwork(reference)
    assert fast.compiled, fast.reason
    x = _inputs(shape, n)
    want = reference(x)
    np.testing.assert_array_equal(fast(x), want)  # batch
    np.testing.assert_array_equal(np.concatenate([fast(x[i:i + 1]) for i in range(n)]), want)  # batch 1
    with torch.no_grad():
        assert compare_outputs(fast(x), model(torch.from_numpy(x)).numpy())["passed"]
    return fast


@needs_numba
def test_sparse_cnn_with_kwinners_is_bit_identical():
    from support.fixtures import cnn_config

    fast = _assert_identical(_model(cnn_config(), (1, 32, 32)), (1, 32, 32))
    kinds = [layer.kind for layer in fast.layers]
    first = "conv_dense_vnni" if sparse_fast.vnni.ENABLED else "conv_dense_in"
    assert kinds == [first, "conv_sparse_in", "linear_sparse_in", "linear_sparse_in"]
    assert all(layer.k > 0 for layer in fast.layers[:3]) and "int16" in fast.describe()


@needs_numba
def test_cnn_without_kwinners_and_the_mlps_are_bit_identical():
    from support.fixtures import cnn_config, mlp_config

    dense_cnn = cnn_config(kwinners=False, conv_weight_density=[1.0, 1.0], linear_weight_density=1.0)
    fast = _assert_identical(_model(dense_cnn, (1, 32, 32)), (1, 32, 32))
    first = "conv_dense_vnni" if sparse_fast.vnni.ENABLED else "conv_dense_in"
    assert [layer.kind for layer in fast.layers] == [first, first, "linear_dense_in", "linear_dense_in"]
    for density in (1.0, 0.1):
        _assert_identical(_model(mlp_config(density, (64, 64)), (490,)), (490,))


@needs_numba
def test_float32_accumulators_where_int16_could_overflow(monkeypatch):
    from support.fixtures import cnn_config

    monkeypatch.setattr(sparse_fast, "INT16_LIMIT", 10)  # no layer proves int16-safe: every one takes float32
    fast = _assert_identical(_model(cnn_config(), (1, 32, 32)), (1, 32, 32), n=3)
    assert "int16" not in fast.describe()


@needs_numba
def test_kwinners_ties_across_channels_match_the_engine():
    """Equal boosts make equal levels tie across channels: the lower flat index must win, as in the engine."""
    from support.fixtures import cnn_config

    model = _model(cnn_config(boost_strength=0.0), (1, 32, 32))
    _assert_identical(model, (1, 32, 32), n=4)


def test_thresholds_reproduce_the_engine_activation_exactly():
    rng = np.random.default_rng(0)
    alpha = np.array([0.7, -0.3, 0.0, 1e-3, -2.5], np.float32)
    beta = rng.normal(0, 2, 5).astype(np.float32)
    norm = BatchNormQuantReLU(alpha, beta, 0.37, 4)
    scale = np.float32(0.0123)
    sign, thr = thresholds(scale, norm)
    acc = np.arange(-40000, 40001, dtype=np.float32)
    want = norm(acc[:, None].repeat(5, 1) * scale).T  # the engine: accumulator * scale, then batch norm + ReLU
    u = acc[None, :] * sign[:, None]
    got = (u[:, :, None] >= thr[:, None, :]).sum(2)
    np.testing.assert_array_equal(got, want)


def test_kwinners_ranks_share_equal_scores():
    kwta = KWinners(np.array([1.0, 2.0, 1.0], np.float32), 0.5, "global")
    rank, count = kwinners_ranks(kwta, 3, 2)
    scores = np.arange(3, dtype=np.float32)[None, :] * kwta.boost[:, None]
    assert count == len(np.unique(scores))
    for a in range(9):
        for b in range(9):
            assert (rank.flat[a] < rank.flat[b]) == (scores.flat[a] > scores.flat[b])


def test_non_integer_inputs_and_missing_numba_fall_back_to_the_engine(monkeypatch):
    from support.fixtures import cnn_config

    model = _model(cnn_config(), (1, 32, 32))
    reference = compile_network(model, (1, 32, 32))
    fast = FastSparseNetwork(reference)
    x = _inputs((1, 32, 32), 2) + 0.5
    np.testing.assert_array_equal(fast(x), reference(x))
    assert fast.fallbacks == 1
    monkeypatch.setattr(sparse_fast.kernels, "NUMBA_ERROR", "numba unavailable (ImportError: test)")
    absent = FastSparseNetwork(reference)
    assert not absent.compiled and "numba unavailable" in absent.describe()
    np.testing.assert_array_equal(absent(x), reference(x))
