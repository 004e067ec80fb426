"""k-winners-take-all (k-WTA): keep the k largest activations, set the rest to exactly 0.

Works on 1-D activations ``[N, C]`` and 2-D activations ``[N, C, H, W]``, for example the
output of a Brevitas ``QuantReLU`` (a plain tensor of quantised values): the kept values are
returned unchanged, every other value becomes exactly 0, so the output is still on the
quantisation grid.

Parameters (documented once, used by ``KWinners``):

- ``k_fraction``: fraction of the units that win during training. The units are the
  ``C`` values of a 1-D input; for a 2-D input the ``C x H x W`` values in ``mode="global"``,
  or the ``C`` channels at each position ``(h, w)`` in ``mode="local"``.
  ``k = round(k_fraction * units)`` (Python rounding), clamped to ``1..units``.
- ``k_inference_factor``: in eval mode ``k = round(k_fraction * k_inference_factor * units)``,
  clamped likewise (Numenta: 1.5, i.e. 50 % more winners at inference).
- ``boost_strength`` (``beta``), ``boost_strength_factor``, ``duty_cycle_period``: boosting by
  duty cycle. Each channel has a duty cycle ``d_c``, the running fraction of its outputs that
  were non-zero (averaged over positions for 2-D inputs). Winners are chosen by the *boosted*
  score ``x * exp((k_fraction - d_c) * beta)``: a channel that wins less often than the target
  ``k_fraction`` is favoured, one that wins more often is penalised. The output keeps ``x``
  itself, not the boosted score. Boosting applies in training and in eval mode (with the
  current ``beta``); ``update_boost_strength(model)`` multiplies ``beta`` by
  ``boost_strength_factor`` (call it once per epoch). ``beta = 0`` turns boosting off.
- Duty cycles are updated only in training mode, from each batch's output:
  ``d <- (d * (p - n) + active) / p`` with ``p = max(min(duty_cycle_period, units seen), n)``.
  ``duty_cycle_counts`` says what a unit is for 2-D inputs: ``positions`` (``n`` = samples x H x
  W, ``active`` = the count of non-zero outputs per channel: a period shorter than one batch's
  positions keeps no memory beyond the batch) or ``samples`` (nupic.torch: ``n`` = samples,
  ``active`` = that count divided by H x W, the channel's mean activity over positions). 1-D
  inputs count samples either way. Duty cycles, ``beta`` and the count are buffers: saved
  with the model.

Ties are broken deterministically: among equal boosted scores the **lower flat index wins**
(index over ``C`` for 1-D, over ``C x H x W`` in C-major order for global 2-D, over ``C`` for
local). Hence ``k`` winners exactly, always. Gradients flow only through the winners.

In ONNX export (``torch.onnx.is_in_onnx_export()``) the layer becomes one ``KWinners`` node of
the domain ``sparsekws.custom_op`` (attributes ``k``, ``mode``, ``boost``: the per-channel boost
factors at export time); ``sparsekws.custom_op`` holds its numpy implementation.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from sparsekws.models.spec import k_winners_count

MODES = ("global", "local")
DUTY_CYCLE_COUNTS = ("positions", "samples")
ONNX_DOMAIN = "sparsekws.custom_op"


def _as_rows(scores: torch.Tensor, mode: str) -> torch.Tensor:
    """Rearrange ``scores`` so that each row holds the units that compete with each other."""
    if scores.dim() == 2 or mode == "global":
        return scores.reshape(scores.shape[0], -1)
    n, c, h, w = scores.shape
    return scores.permute(0, 2, 3, 1).reshape(n * h * w, c)


def _from_rows(rows: torch.Tensor, shape: torch.Size, mode: str) -> torch.Tensor:
    if len(shape) == 2 or mode == "global":
        return rows.reshape(shape)
    n, c, h, w = shape
    return rows.reshape(n, h, w, c).permute(0, 3, 1, 2)


def winners_mask(scores: torch.Tensor, k: int, mode: str = "global") -> torch.Tensor:
    """Boolean mask of the ``k`` largest ``scores`` per competition group (ties: lower index wins)."""
    if mode not in MODES:
        raise ValueError(f"k-WTA mode must be one of {MODES}, got {mode!r}")
    if scores.dim() not in (2, 4):
        raise ValueError(f"k-WTA expects [N, C] or [N, C, H, W] activations, got shape {tuple(scores.shape)}")
    rows = _as_rows(scores, mode)
    # the k-th largest score of each row; every larger score wins, and as many of the scores equal
    # to it as are still needed, lowest index first (3x faster than a stable sort)
    kth = torch.topk(rows, k, dim=1, sorted=False).values.min(dim=1, keepdim=True).values
    above, tied = rows > kth, rows == kth
    needed = k - above.sum(dim=1, keepdim=True)
    mask = above | (tied & (tied.cumsum(dim=1) <= needed))
    return _from_rows(mask, scores.shape, mode)


def _channel_view(values: torch.Tensor, dims: int) -> torch.Tensor:
    """Per-channel values shaped to broadcast against activations with ``dims`` dimensions."""
    return values.view(1, -1) if dims == 2 else values.view(1, -1, 1, 1)


def kwinners(x: torch.Tensor, boost: torch.Tensor, k: int, mode: str = "global") -> torch.Tensor:
    """Keep ``x`` at the ``k`` winners of ``x * boost`` (per channel boost), exactly 0 elsewhere."""
    with torch.no_grad():
        mask = winners_mask(x * _channel_view(boost, x.dim()), k, mode)
    return torch.where(mask, x, torch.zeros((), dtype=x.dtype, device=x.device))


class _KWinnersExport(torch.autograd.Function):
    """Forward as ``kwinners``; exported by TorchScript ONNX export as a ``KWinners`` custom node."""

    @staticmethod
    def forward(ctx, x, boost: list[float], k: int, mode: str):
        return kwinners(x, torch.tensor(boost, dtype=x.dtype, device=x.device), k, mode)

    @staticmethod
    def symbolic(g, x, boost: list[float], k: int, mode: str):
        out = g.op(f"{ONNX_DOMAIN}::KWinners", x, k_i=k, mode_s=mode, boost_f=boost)
        out.setType(x.type())
        return out


class KWinners(nn.Module):
    """k-winners-take-all over ``channels`` channels with duty-cycle boosting (see module docstring)."""

    def __init__(self, channels: int, k_fraction: float, k_inference_factor: float = 1.5,
                 boost_strength: float = 1.5, boost_strength_factor: float = 0.9,
                 duty_cycle_period: int = 1000, mode: str = "global", duty_cycle_counts: str = "positions"):
        super().__init__()
        if not 0.0 < k_fraction <= 1.0:
            raise ValueError(f"k_fraction must be in (0, 1], got {k_fraction}")
        if k_inference_factor <= 0 or boost_strength < 0 or not 0 <= boost_strength_factor <= 1:
            raise ValueError("k_inference_factor must be > 0, boost_strength >= 0, boost_strength_factor in [0, 1]")
        if duty_cycle_period < 1:
            raise ValueError(f"duty_cycle_period must be >= 1, got {duty_cycle_period}")
        if mode not in MODES:
            raise ValueError(f"k-WTA mode must be one of {MODES}, got {mode!r}")
        if duty_cycle_counts not in DUTY_CYCLE_COUNTS:
            raise ValueError(f"duty_cycle_counts must be one of {DUTY_CYCLE_COUNTS}, got {duty_cycle_counts!r}")
        self.duty_cycle_counts = duty_cycle_counts
        self.channels = channels
        self.k_fraction = k_fraction
        self.k_inference_factor = k_inference_factor
        self.boost_strength_factor = boost_strength_factor
        self.duty_cycle_period = duty_cycle_period
        self.mode = mode
        self.register_buffer("boost_strength", torch.tensor(float(boost_strength), dtype=torch.float64))
        self.register_buffer("duty_cycle", torch.zeros(channels))
        self.register_buffer("samples_seen", torch.zeros((), dtype=torch.long))

    def units(self, x: torch.Tensor) -> int:
        """How many units compete in one group for input ``x``."""
        shape = [int(d) for d in x.shape]  # plain ints, also while tracing for export
        if x.dim() == 2 or self.mode == "local":
            return shape[1]
        return math.prod(shape[1:])

    def k(self, x: torch.Tensor, training: bool | None = None) -> int:
        """Winners per group for input ``x`` (training k, or inference k in eval mode)."""
        training = self.training if training is None else training
        fraction = self.k_fraction if training else self.k_fraction * self.k_inference_factor
        return k_winners_count(self.units(x), fraction)

    def boost_factors(self) -> torch.Tensor:
        """Per-channel boost ``exp((k_fraction - duty_cycle) * boost_strength)`` (float32)."""
        strength = self.boost_strength.to(self.duty_cycle.dtype)
        return torch.exp((self.k_fraction - self.duty_cycle) * strength)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[1] != self.channels or x.dim() not in (2, 4):
            raise ValueError(f"KWinners({self.channels}) got input of shape {tuple(x.shape)}")
        k = self.k(x)
        if torch.onnx.is_in_onnx_export():
            boost = [float(v) for v in self.boost_factors().detach().cpu().tolist()]
            return _KWinnersExport.apply(x, boost, k, self.mode)
        out = kwinners(x, self.boost_factors(), k, self.mode)
        if self.training:
            self.update_duty_cycle(out)
        return out

    @torch.no_grad()
    def update_duty_cycle(self, out: torch.Tensor) -> None:
        """Fold one training batch's output activity into the duty cycles."""
        dims = (0,) if out.dim() == 2 else (0, 2, 3)
        positions = 1 if out.dim() == 2 else out.shape[2] * out.shape[3]
        active = (out != 0).sum(dim=dims, dtype=torch.float32)
        batch = out.shape[0] * positions
        if self.duty_cycle_counts == "samples":
            batch, active = out.shape[0], active / positions
        self.samples_seen += batch
        period = float(max(min(self.duty_cycle_period, int(self.samples_seen)), batch))
        self.duty_cycle.mul_(period - batch).add_(active).div_(period)
        self.duty_cycle.clamp_(min=0.0)

    def decay_boost_strength(self) -> None:
        """Multiply the boost strength by ``boost_strength_factor`` (once per epoch)."""
        self.boost_strength.mul_(self.boost_strength_factor)

    def extra_repr(self) -> str:
        return (f"channels={self.channels}, k_fraction={self.k_fraction}, mode={self.mode}, "
                f"k_inference_factor={self.k_inference_factor}, boost_strength={float(self.boost_strength):.4g}, "
                f"boost_strength_factor={self.boost_strength_factor}, duty_cycle_period={self.duty_cycle_period}, "
                f"duty_cycle_counts={self.duty_cycle_counts}")


def kwinners_layers(model: nn.Module) -> list[tuple[str, KWinners]]:
    """Every k-WTA module of ``model`` with its module path, in definition order."""
    return [(name, module) for name, module in model.named_modules() if isinstance(module, KWinners)]


@torch.no_grad()
def update_boost_strength(model: nn.Module) -> None:
    """Apply the per-epoch boost-strength decay to every k-WTA module of ``model``."""
    for _, module in kwinners_layers(model):
        module.decay_boost_strength()
