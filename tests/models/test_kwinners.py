"""k-winners-take-all: exact k with ties, boosting, inference k, duty cycles, gradients, Brevitas."""

from __future__ import annotations

import pytest
import torch
from brevitas.nn import QuantReLU
from torch import nn

from sparsekws.models.kwinners import KWinners, k_winners_count, kwinners, update_boost_strength, winners_mask


def _layer(channels=8, k=0.25, **kw) -> KWinners:
    return KWinners(channels, k, **{"boost_strength": 0.0, **kw})


@pytest.mark.parametrize("units, fraction, k", [(1000, 0.1, 100), (12544, 0.095, 1192), (1600, 0.125, 200),
                                                (10, 0.01, 1), (10, 1.0, 10), (64, 0.095 * 1.5, 9)])
def test_k_count(units, fraction, k):
    assert k_winners_count(units, fraction) == k


def test_exactly_k_winners_with_ties_lower_index_wins():
    x = torch.tensor([[1.0, 3.0, 3.0, 3.0, 0.5, 3.0]])
    mask = winners_mask(x, 2)
    assert mask.tolist() == [[False, True, True, False, False, False]]
    zeros = torch.zeros(4, 10)  # all tied: the first k win
    assert winners_mask(zeros, 3).sum(dim=1).tolist() == [3, 3, 3, 3]
    assert winners_mask(zeros, 3)[:, :3].all()


@pytest.mark.parametrize("mode", ["global", "local"])
def test_exactly_k_winners_2d_with_quantised_ties(mode):
    torch.manual_seed(0)
    x = torch.randint(0, 3, (5, 6, 4, 4)).float()  # few levels: many ties
    layer = _layer(6, 0.25, mode=mode).train()
    out = layer(x)
    k = layer.k(x)
    if mode == "global":
        assert k == round(0.25 * 96)
        assert ((out != 0) | winners_mask(x, k, mode)).flatten(1).sum(1).tolist() == [k] * 5
        assert winners_mask(x, k, mode).flatten(1).sum(1).tolist() == [k] * 5
    else:
        assert k == round(0.25 * 6)
        assert winners_mask(x, k, mode).sum(dim=1).eq(k).all()  # k channels at every position
    mask = winners_mask(x, k, mode)
    assert torch.equal(out, torch.where(mask, x, torch.zeros(())))
    # winners are never smaller than losers, and a tie at the boundary went to the lower index
    rows = x.flatten(1) if mode == "global" else x.permute(0, 2, 3, 1).reshape(-1, 6)
    rmask = mask.flatten(1) if mode == "global" else mask.permute(0, 2, 3, 1).reshape(-1, 6)
    for row, keep in zip(rows, rmask):
        assert row[keep].min() >= row[~keep].max()
        threshold = row[keep].min()
        tied = (row == threshold).nonzero().flatten()
        kept_tied = tied[keep[tied]]
        assert torch.equal(kept_tied, tied[:len(kept_tied)])


def test_local_differs_from_global():
    x = torch.zeros(1, 4, 1, 2)
    x[0, :, 0, 0] = torch.tensor([5.0, 6.0, 7.0, 8.0])  # position 0 holds every large value
    x[0, :, 0, 1] = torch.tensor([1.0, 0.0, 0.0, 2.0])
    g = winners_mask(x, 2, "global")
    loc = winners_mask(x, 1, "local")
    assert g[0, :, 0, 1].sum() == 0 and g[0, :, 0, 0].tolist() == [False, False, True, True]
    assert loc[0, :, 0, 0].tolist() == [False, False, False, True]
    assert loc[0, :, 0, 1].tolist() == [False, False, False, True]


def test_inference_k_is_larger():
    layer = _layer(100, 0.1, k_inference_factor=1.5)
    x = torch.rand(3, 100) + 0.1
    assert (layer.train()(x) != 0).sum(dim=1).tolist() == [10] * 3
    assert (layer.eval()(x) != 0).sum(dim=1).tolist() == [15] * 3


def test_kept_values_unchanged_rest_exactly_zero_after_quant_relu():
    torch.manual_seed(1)
    act = QuantReLU(bit_width=3, return_quant_tensor=True)
    layer = _layer(20, 0.2).eval()
    quant = act(torch.randn(4, 20) * 2)
    q, scale = quant.value, float(quant.scale)
    out = layer(q)
    kept = out != 0
    assert torch.equal(out[kept], q[kept])
    assert torch.all(out[~kept] == 0)
    ints = out / scale
    assert torch.allclose(ints, ints.round(), atol=1e-5)  # still on the quantisation grid


def test_gradients_flow_only_through_winners():
    x = torch.tensor([[0.1, 0.9, 0.5, 0.7, 0.2]], requires_grad=True)
    out = _layer(5, 0.4).train()(x)
    out.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 0.0, 1.0, 0.0]]


def test_duty_cycle_updates_only_in_training():
    layer = _layer(4, 0.5, duty_cycle_period=10)
    x = torch.tensor([[4.0, 3.0, 2.0, 1.0]] * 5)
    layer.eval()(x)
    assert layer.duty_cycle.tolist() == [0.0] * 4 and int(layer.samples_seen) == 0
    layer.train()(x)  # 5 samples: channels 0 and 1 always win
    assert layer.duty_cycle.tolist() == [1.0, 1.0, 0.0, 0.0] and int(layer.samples_seen) == 5
    layer(torch.tensor([[1.0, 2.0, 3.0, 4.0]] * 5))  # now 2 and 3 win: period min(10, 10) = 10
    assert layer.duty_cycle.tolist() == pytest.approx([0.5, 0.5, 0.5, 0.5])
    layer(torch.tensor([[1.0, 2.0, 3.0, 4.0]] * 10))  # d = (d * 0 + 10) / 10 for the winners
    assert layer.duty_cycle.tolist() == pytest.approx([0.0, 0.0, 1.0, 1.0])


def test_duty_cycle_2d_is_per_channel_over_positions():
    layer = _layer(2, 0.5, mode="local")
    x = torch.zeros(1, 2, 2, 2)
    x[0, 0] = torch.tensor([[1.0, 1.0], [1.0, 0.0]])
    x[0, 1] = torch.tensor([[0.0, 0.0], [0.0, 1.0]])
    layer.train()(x)
    assert layer.duty_cycle.tolist() == pytest.approx([0.75, 0.25])


def test_duty_cycle_counting_samples_remembers_past_batches():
    """duty_cycle_counts: samples (nupic.torch) averages over positions and counts samples, so a
    period longer than one batch keeps a memory; positions makes the same period one batch."""
    def batch(channel):
        x = torch.zeros(2, 2, 3, 3)
        x[:, channel] = 1.0
        return x
    by_samples = _layer(2, 0.5, mode="local", duty_cycle_period=4, duty_cycle_counts="samples").train()
    by_positions = _layer(2, 0.5, mode="local", duty_cycle_period=4).train()
    for layer in (by_samples, by_positions):
        layer(batch(0))
        layer(batch(1))
    assert by_samples.duty_cycle.tolist() == pytest.approx([0.5, 0.5]) and int(by_samples.samples_seen) == 4
    assert by_positions.duty_cycle.tolist() == pytest.approx([0.0, 1.0])  # 18 positions > period 4
    with pytest.raises(ValueError, match="duty_cycle_counts"):
        _layer(2, 0.5, duty_cycle_counts="frames")


def test_boosting_changes_winners_as_documented():
    layer = KWinners(4, 0.5, boost_strength=2.0, duty_cycle_period=100, k_inference_factor=1.0)
    x = torch.tensor([[4.0, 3.0, 2.9, 1.0]])
    layer.eval()
    assert (layer(x) != 0).tolist() == [[True, True, False, False]]  # equal duty cycles: no effect
    layer.duty_cycle.copy_(torch.tensor([0.9, 0.9, 0.1, 0.1]))  # 0 and 1 won too often
    boost = torch.exp((0.5 - layer.duty_cycle) * 2.0)
    assert torch.allclose(layer.boost_factors(), boost)
    out = layer(x)
    # boosted scores 4*e^-0.8=1.80, 3*e^-0.8=1.35, 2.9*e^0.8=6.45, 1*e^0.8=2.23 -> channels 2 and 3
    assert (out != 0).tolist() == [[False, False, True, True]]
    assert torch.equal(out, torch.tensor([[0.0, 0.0, 2.9, 1.0]]))  # the output keeps x, not the boosted score
    layer.boost_strength.fill_(0.0)
    assert (layer(x) != 0).tolist() == [[True, True, False, False]]  # strength 0: no boosting


def test_boosting_spreads_activity_over_training():
    torch.manual_seed(0)
    bias = torch.linspace(2.0, 0.0, 16)  # without boosting, the first units would always win
    boosted, plain = KWinners(16, 0.25, boost_strength=3.0, duty_cycle_period=200), _layer(16, 0.25)
    for layer in (boosted, plain):
        layer.train()
        for _ in range(50):
            layer(torch.rand(20, 16) + bias)
    assert (plain.duty_cycle[-6:] == 0).all()  # the weakest units never win without boosting
    assert float(boosted.duty_cycle.min()) > 0.05  # with boosting every unit wins regularly


def test_update_boost_strength_decays_every_kwinners_module():
    model = nn.Sequential(KWinners(4, 0.5, boost_strength=1.5, boost_strength_factor=0.9), nn.ReLU(),
                          nn.Sequential(KWinners(4, 0.5, boost_strength=1.0, boost_strength_factor=0.5)))
    update_boost_strength(model)
    update_boost_strength(model)
    assert float(model[0].boost_strength) == pytest.approx(1.5 * 0.81)
    assert float(model[2][0].boost_strength) == pytest.approx(0.25)
    state = model.state_dict()
    assert {"0.boost_strength", "0.duty_cycle", "0.samples_seen"} <= set(state)  # saved with the model


def test_functional_and_bad_inputs():
    x = torch.tensor([[1.0, 2.0, 3.0]])
    assert kwinners(x, torch.tensor([1.0, 1.0, 0.1]), 1).tolist() == [[0.0, 2.0, 0.0]]
    with pytest.raises(ValueError):
        winners_mask(torch.zeros(2, 3, 4), 1)
    with pytest.raises(ValueError):
        KWinners(4, 0.0)
    with pytest.raises(ValueError):
        KWinners(4, 0.5, mode="lateral")
    with pytest.raises(ValueError):
        KWinners(4, 0.5)(torch.zeros(2, 5))
