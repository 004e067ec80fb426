"""The sparse-aware engine computes the model itself (``sparsekws.verify``), on both of its paths."""

import numpy as np
import torch

from sparsekws.cpu_engine.reference import FanInLinear, KWinners, compile_network
from sparsekws.models.kwinners import kwinners
from sparsekws.core.agreement import compare_outputs


def _model(cfg, shape):
    from support.fixtures import warmed_up

    from sparsekws.models.zoo import build_model

    torch.manual_seed(0)
    return warmed_up(build_model(cfg, shape, 12, seed=5), shape)


def _inputs(shape, n=16, seed=2):
    return np.random.default_rng(seed).integers(-128, 128, (n, *shape)).astype(np.float32)


def test_sparse_mlp_equals_the_model_at_any_batch():
    from support.fixtures import mlp_config

    for density in (1.0, 0.1):
        model = _model(mlp_config(density, (64, 64)), (490,))
        x = _inputs((490,), n=33)
        with torch.no_grad():
            want = model(torch.from_numpy(x)).numpy()
        net = compile_network(model, (490,))
        assert compare_outputs(net(x), want)["passed"]
        assert compare_outputs(np.concatenate([net(x[i:i + 1]) for i in range(len(x))]), want)["passed"]
        assert ("dense" in net.describe()) == (density == 1.0)


def test_sparse_cnn_with_kwinners_equals_the_model():
    from support.fixtures import cnn_config

    model = _model(cnn_config(), (1, 32, 32))
    x = _inputs((1, 32, 32), n=6)
    with torch.no_grad():
        want = model(torch.from_numpy(x)).numpy()
    net = compile_network(model, (1, 32, 32))
    check = compare_outputs(net(x), want)
    assert check["passed"], check
    assert "kwta" in net.describe() and "conv" in net.describe()


def test_gather_and_scatter_paths_agree_with_dense_product():
    rng = np.random.default_rng(0)
    weight = np.zeros((40, 100), np.float32)
    for row in weight:
        row[rng.choice(100, 10, replace=False)] = rng.integers(-3, 4, 10)
    layer = FanInLinear(weight, 0.5)
    assert not layer.dense and layer.index.shape == (40, 10)
    dense_x = rng.integers(-5, 6, (7, 100)).astype(np.float32)
    sparse_x = np.where(rng.random((7, 100)) < 0.03, dense_x, 0).astype(np.float32)
    for x in (dense_x, sparse_x):  # the dense input takes the CSR gather, the sparse one the scatter
        np.testing.assert_array_equal(layer.accumulate(x), x @ weight.T)


def test_kwinners_ties_go_to_the_lower_index_as_in_torch():
    x = np.array([[3, 1, 3, 3, 0, 2], [1, 1, 1, 1, 1, 1]], np.float32)
    boost = np.ones(6, np.float32)
    got = KWinners(boost, 0.5, "global")(x)
    want = kwinners(torch.from_numpy(x), torch.ones(6), 3, "global").numpy()
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(got[1], [1, 1, 1, 0, 0, 0])


def test_kwta_inputs_are_the_levels_the_hardware_k_wta_ranks():
    from support.fixtures import cnn_config

    from sparsekws.units.kwta import RankedKwtaShape, reference
    from sparsekws.units.ranking import score_ranks

    model = _model(cnn_config(), (1, 32, 32))
    x = _inputs((1, 32, 32), n=4)
    net = compile_network(model, (1, 32, 32))
    found = net.kwta_inputs(x)
    assert len(found) == net.describe().count("kwta") and found
    levels, scale, op = found[0]
    n, channels, height, width = levels.shape
    assert np.array_equal(levels, np.round(levels)) and 0 <= levels.min() and levels.max() < 16
    frames = levels.transpose(0, 2, 3, 1).reshape(n, -1).astype(np.int64)  # the stream: channels last
    table = score_ranks(np.arange(16), np.full(channels, scale), op.boost)
    from sparsekws.models.spec import k_winners_count

    k = k_winners_count(channels * height * width, op.fraction)
    shape = RankedKwtaShape(channels, height * width, k, 1, 4, bins=int(table.max()) + 1)
    engine = op(levels).transpose(0, 2, 3, 1).reshape(n, -1)
    assert np.array_equal(reference(frames, shape, table) != 0, engine != 0)
