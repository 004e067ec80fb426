"""A sparse-aware CPU inference path of our own (numpy, vectorised over a batch).

Built from a trained Brevitas model (``compile_network(model)``), it computes the same network in
the integer domain and exploits what the model's sparsity gives:

- **fixed fan-in weights**: every output unit of a sparse layer keeps ``K`` inputs, stored as
  index and integer-value arrays ``[out, K]``; a layer is a gather of the ``K`` inputs of each
  unit and a multiply-add (``K / in`` of the dense work), run by scipy's compiled CSR product
  over exactly these arrays (``indptr = 0, K, 2K, ...``);
- **active sets**: where few inputs are non-zero (after k-WTA, or ReLU zeros), a layer instead
  scatters only the active inputs into the outputs they feed (weights stored per input column,
  non-zeros only), so the work is ``active inputs x fan-out``. Each call picks the cheaper of
  the two from the batch's actual count of non-zero inputs;
- dense layers (density above ``DENSE_ABOVE``) and convolutions use a dense matrix product
  (im2col for convolutions, through BLAS): weight-sparse convolutions are stored as masked
  dense filters, because a numpy gather is slower than BLAS at their size.

Arithmetic: inputs and activations are integers times a per-tensor scale, weights are integers
times a scale, so accumulators are exact integers in float32 (far below 2^24 for these bit
widths); batch norm and the activation quantiser are applied as torch does in eval mode
(``x * (gamma / sqrt(var + eps)) + (beta - mean * gamma / sqrt(var + eps))``, then
``clamp(round(y / s), 0, 2^b - 1)``); k-WTA keeps the ``k`` largest boosted scores, ties to the
lower index, as ``sparsekws.models.kwinners``. Outputs are checked against the torch model with
``core.agreement`` by the caller.

This engine is the reference of the compiled path (``fast``, numba kernels), which
computes the same numbers bit for bit and is the one to time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.sparse
import torch
from torch import nn

DENSE_ABOVE = 0.5  # weight density above which a layer is computed as a dense matrix product


def _integer_weight(layer: nn.Module) -> tuple[np.ndarray, float]:
    """A Brevitas layer's quantised weight as (integer values float32, scale)."""
    quant = layer.quant_weight()
    scale = quant.scale.detach().reshape(-1)
    if scale.numel() != 1:
        raise ValueError(f"{type(layer).__name__}: per-channel weight scales are not supported")
    return quant.int().detach().numpy().astype(np.float32), float(scale)


@dataclass
class FanInLinear:
    """``y = x @ W.T`` with integer weights; inputs carry ``in_scale``, output is float (acc * scales)."""

    weight: np.ndarray                 # [out, in] integer values (float32)
    scale: float
    index: np.ndarray = field(init=False)   # [out, K] input index of each kept weight
    value: np.ndarray = field(init=False)   # [out, K] kept integer weights
    col_ptr: np.ndarray = field(init=False)  # CSC: per input, its non-zero (row, value) range
    col_row: np.ndarray = field(init=False)
    col_val: np.ndarray = field(init=False)
    dense: bool = field(init=False)

    def __post_init__(self) -> None:
        out, inp = self.weight.shape
        nonzero = self.weight != 0
        fan_in = int(nonzero.sum(1).max()) if out else 0
        self.dense = fan_in > DENSE_ABOVE * inp
        order = np.argsort(~nonzero, axis=1, kind="stable")[:, :max(fan_in, 1)]  # non-zeros first, by index
        self.index = order.astype(np.intp)
        self.value = np.take_along_axis(self.weight, order, axis=1)  # padded rows hold zeros
        rows, cols = np.nonzero(self.weight.T)  # column-major: per input, the outputs it feeds
        self.col_ptr = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=inp))]).astype(np.intp)
        self.col_row = cols.astype(np.intp)
        self.col_val = self.weight.T[rows, cols].astype(np.float64)
        self.weight_t = np.ascontiguousarray(self.weight.T)
        self.mean_fan_out = len(self.col_row) / max(inp, 1)
        k = self.index.shape[1]
        self.rows = scipy.sparse.csr_matrix(
            (self.value.ravel(), self.index.ravel(), np.arange(0, out * k + 1, k)), shape=(out, inp))

    @property
    def out_features(self) -> int:
        return self.weight.shape[0]

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        """Integer accumulators ``x @ W.T`` for a batch ``x`` [N, in] of integer-valued inputs."""
        if self.dense:
            return x @ self.weight_t
        active = np.count_nonzero(x)
        if active * self.mean_fan_out * 4 < x.shape[0] * self.index.size:  # few active inputs: scatter them
            samples, cols = np.nonzero(x)
            return self._scatter(x, samples, cols, self.col_ptr[cols + 1] - self.col_ptr[cols])
        return np.asarray(self.rows @ x.T).T  # row gather-multiply over the kept inputs (CSR)

    def _scatter(self, x, samples, cols, counts) -> np.ndarray:
        out = self.out_features
        total = int(counts.sum())
        starts = np.repeat(self.col_ptr[cols] - np.cumsum(counts) + counts, counts)
        positions = starts + np.arange(total)
        weights = self.col_val[positions] * np.repeat(x[samples, cols], counts)
        target = self.col_row[positions] + np.repeat(samples, counts) * out
        return np.bincount(target, weights=weights, minlength=x.shape[0] * out).reshape(x.shape[0], out).astype(
            np.float32)


@dataclass
class Conv2d:
    """Valid 2-D convolution (stride 1, no bias) with integer weights, as im2col + matrix product."""

    weight: np.ndarray  # [out, in, kh, kw] integer values
    scale: float

    def __post_init__(self) -> None:
        self.matrix_t = np.ascontiguousarray(self.weight.reshape(self.weight.shape[0], -1).T)

    def accumulate(self, x: np.ndarray) -> np.ndarray:
        n, c, h, w = x.shape
        kh, kw = self.weight.shape[2:]
        windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(2, 3))  # [n, c, H, W, kh, kw]
        oh, ow = windows.shape[2], windows.shape[3]
        patches = windows.transpose(0, 2, 3, 1, 4, 5).reshape(n * oh * ow, c * kh * kw)
        out = patches @ self.matrix_t
        return out.reshape(n, oh, ow, -1).transpose(0, 3, 1, 2)


@dataclass
class BatchNormQuantReLU:
    """Eval-mode batch norm followed by an unsigned ``bits``-bit quantised ReLU of scale ``act_scale``."""

    alpha: np.ndarray
    beta: np.ndarray
    act_scale: float
    bits: int

    def __call__(self, y: np.ndarray) -> np.ndarray:
        """Float pre-activations -> integer activation levels (float32)."""
        shape = (1, -1) + (1,) * (y.ndim - 2)
        z = y * self.alpha.reshape(shape)
        z += self.beta.reshape(shape)
        z /= np.float32(self.act_scale)
        np.round(z, out=z)
        return np.clip(z, 0, 2 ** self.bits - 1, out=z)


@dataclass
class KWinners:
    """Eval-mode k-WTA: keep the ``k`` largest of ``x * boost`` per sample (ties: lower index)."""

    boost: np.ndarray
    fraction: float
    mode: str

    def __call__(self, x: np.ndarray) -> np.ndarray:
        from sparsekws.models.spec import k_winners_count

        if x.ndim == 4 and self.mode == "local":
            raise ValueError("the sparse engine implements global k-WTA only")
        shape = (1, -1) + (1,) * (x.ndim - 2)
        scores = (x * self.boost.reshape(shape)).reshape(len(x), -1)
        k = k_winners_count(scores.shape[1], self.fraction)
        threshold = -np.partition(-scores, k - 1, axis=1)[:, k - 1:k]
        above = scores > threshold
        tied = scores == threshold
        room = k - above.sum(1, keepdims=True)
        keep = above | (tied & (np.cumsum(tied, axis=1) <= room))
        return np.where(keep, x.reshape(len(x), -1), np.float32(0)).reshape(x.shape)


def _maxpool2(x: np.ndarray) -> np.ndarray:
    n, c, h, w = x.shape
    h2, w2 = h // 2, w // 2
    return x[:, :, :h2 * 2, :w2 * 2].reshape(n, c, h2, 2, w2, 2).max(axis=(3, 5))


def _act_quant_params(act: nn.Module, channels_shape: tuple[int, ...]) -> tuple[float, int]:
    """Scale and bit width of a Brevitas QuantReLU (from one eval-mode call)."""
    previous = act.return_quant_tensor
    act.return_quant_tensor = True
    try:
        with torch.no_grad():
            out = act(torch.ones((1, *channels_shape)))
    finally:
        act.return_quant_tensor = previous
    return float(out.scale.reshape(-1)[0]), int(out.bit_width)


class SparseNetwork:
    """The compiled network: ``__call__(inputs)`` maps integer-valued inputs [N, ...] to logits [N, classes]."""

    def __init__(self, steps: list[tuple[str, object, float]], input_shape: tuple[int, ...] | None = None):
        self.steps = steps
        self.input_shape = input_shape

    def __call__(self, x: np.ndarray) -> np.ndarray:
        return self.run(x)

    def kwta_inputs(self, x: np.ndarray) -> list[tuple[np.ndarray, float, KWinners]]:
        """Per k-WTA step: its input levels (integers as float32, NCHW or NC), their scale and the step."""
        found = []
        self.run(x, lambda levels, scale, op: found.append((levels, scale, op)))
        return found

    def run(self, x: np.ndarray, before_kwta=None) -> np.ndarray:
        """The network on ``x``; ``before_kwta(levels, scale, op)`` sees each k-WTA step's input."""
        x = np.asarray(x, dtype=np.float32)
        scale = 1.0  # inputs are integer features: scale 1 (the model sees the integers themselves)
        pending = None
        for kind, op, extra in self.steps:
            if kind in ("linear", "conv"):
                pending = op.accumulate(x.reshape(len(x), -1) if kind == "linear" else x) * np.float32(
                    op.scale * scale)
                x = pending
            elif kind == "bnrelu":
                x = op(pending)
                scale = op.act_scale
            elif kind == "pool":
                x = _maxpool2(x)
            elif kind == "kwta":
                if before_kwta is not None:
                    before_kwta(x, scale, op)
                x = op(x)
            elif kind == "flatten":
                x = x.reshape(len(x), -1)
        return x

    def describe(self) -> str:
        parts = []
        for kind, op, _ in self.steps:
            if kind == "linear":
                out, inp = op.weight.shape
                parts.append(f"linear {inp}->{out} " + ("dense" if op.dense else f"fan-in {op.index.shape[1]}"))
            elif kind in ("conv", "kwta", "pool"):
                parts.append(kind)
        return ", ".join(parts)


def compile_network(model: nn.Module, input_shape: tuple[int, ...]) -> SparseNetwork:
    """Compile an eval-mode zoo model (MLP or CNN ``nn.Sequential``) for the sparse engine."""
    from brevitas.nn import QuantConv2d, QuantLinear, QuantReLU

    from sparsekws.models.kwinners import KWinners as TorchKWinners
    from sparsekws.models.sparse_weights import SparseWeights

    model = model.eval()
    layers = [m.module if isinstance(m, SparseWeights) else m for m in model]
    steps: list[tuple[str, object, float]] = []
    shape = tuple(input_shape)
    with torch.no_grad():
        probe = torch.zeros((1, *shape))
        i = 0
        while i < len(layers):
            layer = layers[i]
            if isinstance(layer, (QuantLinear, QuantConv2d)):
                weight, scale = _integer_weight(layer)
                if isinstance(layer, QuantLinear):
                    steps.append(("linear", FanInLinear(weight, scale), 0.0))
                else:
                    steps.append(("conv", Conv2d(weight, scale), 0.0))
                probe = layer(probe)
            elif isinstance(layer, (nn.BatchNorm1d, nn.BatchNorm2d)):
                act = layers[i + 1] if i + 1 < len(layers) else None
                if not isinstance(act, QuantReLU):
                    raise ValueError("the sparse engine expects batch norm followed by a QuantReLU")
                invstd = 1.0 / torch.sqrt(layer.running_var + layer.eps)
                alpha = (layer.weight * invstd).float().numpy()
                beta = (layer.bias - layer.running_mean * layer.weight * invstd).float().numpy()
                act_scale, bits = _act_quant_params(act, tuple(probe.shape[1:]))
                steps.append(("bnrelu", BatchNormQuantReLU(alpha, beta, act_scale, bits), 0.0))
                probe = act(layer(probe))
                i += 1
            elif isinstance(layer, nn.MaxPool2d):
                steps.append(("pool", None, 0.0))
                probe = layer(probe)
            elif isinstance(layer, TorchKWinners):
                fraction = layer.k_fraction * layer.k_inference_factor
                steps.append(("kwta", KWinners(layer.boost_factors().float().numpy(), fraction, layer.mode), 0.0))
                probe = layer(probe)
            elif isinstance(layer, nn.Flatten):
                steps.append(("flatten", None, 0.0))
                probe = layer(probe)
            else:
                raise ValueError(f"the sparse engine cannot compile layer {type(layer).__name__}")
            i += 1
    return SparseNetwork(steps, tuple(input_shape))
