"""The compiled sparse-aware path: a ``SparseNetwork`` regrouped into fused layers for ``kernels``.

``FastSparseNetwork(network)`` takes the layers of the numpy engine (``reference``) and
groups each weight layer with what follows it (batch norm + quantised ReLU, 2x2 max-pool, k-WTA)
into one kernel call per layer and batch. It computes exactly what the numpy engine computes
(bit for bit; tests): the batch-norm/ReLU step becomes per-channel integer thresholds found by
evaluating the engine's own float32 formula, and k-WTA keeps the engine's scores and tie rule.
A pooled first convolution takes the AVX-512 VNNI kernel where the CPU has it (``vnni``).
Where it cannot run (numba absent, a layer sequence it does not fuse, accumulators that could
reach 2^24, inputs that are not integers), it runs the numpy engine instead and says why in
``reason``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sparsekws.cpu_engine import kernels
from sparsekws.cpu_engine import vnni
from sparsekws.cpu_engine.reference import BatchNormQuantReLU, KWinners, SparseNetwork
from sparsekws.models.spec import k_winners_count

EXACT_LIMIT = 2 ** 24   # float32 holds every integer below this exactly
INT16_LIMIT = 2 ** 15 - 2  # int16 accumulators hold |u| up to this (thresholds clip one beyond)
INPUT_LIMIT = 2 ** 15   # largest input magnitude the compiled path accepts
FEATURE_LIMIT = 128     # int8 features: the least input range the first layer must cover
GATHER_BELOW = 0.5     # weight density below which a dense-input linear layer gathers its fan-in


def _levels_of(acc: np.ndarray, in_scale: np.float32, norm: BatchNormQuantReLU) -> np.ndarray:
    """The numpy engine's activation level of accumulators ``acc [O, M]`` (its exact float32 steps)."""
    pending = acc.astype(np.float32) * in_scale
    z = pending * norm.alpha.astype(np.float32)[:, None]
    z += norm.beta.astype(np.float32)[:, None]
    z /= np.float32(norm.act_scale)
    np.round(z, out=z)
    return np.clip(z, 0, 2 ** norm.bits - 1, out=z)


def thresholds(in_scale: np.float32, norm: BatchNormQuantReLU) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``sign`` and ascending thresholds ``T [O, L]``: level(acc) = #{j: sign*acc >= T[j]}.

    The level is monotonic in the accumulator (every float32 step rounds monotonically), rising
    where ``sign = +1`` and falling where ``sign = -1``; ``T[j]`` is the least integer ``u`` in
    ``[-2^24, 2^24]`` whose level reaches ``j`` (binary search), ``-inf``/``+inf`` where all/none do.
    """
    alpha = norm.alpha.astype(np.float32)
    sign = np.where(alpha < 0, np.float32(-1), np.float32(1))
    top = 2 ** norm.bits - 1
    channels = len(alpha)
    target = np.arange(1, top + 1, dtype=np.float32)[None, :].repeat(channels, 0)  # [O, L]

    def level(u: np.ndarray) -> np.ndarray:
        return _levels_of(u * sign[:, None], in_scale, norm)

    lo = np.full((channels, top), -EXACT_LIMIT, np.int64)
    hi = np.full((channels, top), EXACT_LIMIT, np.int64)
    never, always = level(hi) < target, level(lo) >= target
    while np.any(hi - lo > 1):  # invariant: level(lo) < j <= level(hi) (where neither extreme decides)
        mid = (lo + hi) // 2
        up = level(mid) >= target
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    out = hi.astype(np.float32)
    out[always] = -np.inf
    out[never] = np.inf
    return sign, out


def kwinners_ranks(kwta: KWinners, channels: int, top: int) -> tuple[np.ndarray, int]:
    """Rank ``[C, top+1]`` of every (channel, level) score ``level * boost`` (0 = largest; ties share a rank)."""
    boost = np.broadcast_to(kwta.boost.astype(np.float32), (channels,))
    scores = np.arange(top + 1, dtype=np.float32)[None, :] * boost[:, None]
    distinct = np.unique(scores)
    rank = len(distinct) - 1 - np.searchsorted(distinct, scores)
    return rank.astype(np.int32), len(distinct)


@dataclass
class FusedLayer:
    """One kernel call: a weight layer with its thresholds (none: logits), pool and k-WTA."""

    kind: str                   # conv_dense_in (or conv_dense_vnni), conv_sparse_in, linear_dense_in, linear_sparse_in
    weights: tuple              # the kernel's weight arguments
    geometry: tuple             # conv: (C, H, W, P, kh, kw); linear: ()
    out_shape: tuple            # (O, PH, PW) or (O,)
    dtype: type                 # accumulator dtype: int16 or float32
    thr: np.ndarray = None      # [L, O] thresholds in ``dtype``; [0, O] for logits
    floor: object = None        # a value below every threshold (pads rows), in ``dtype``
    scale: np.float32 = np.float32(1)  # logits: accumulator scale
    rank: np.ndarray = None     # [O, L+1] k-WTA ranks
    nranks: int = 1
    k: int = 0                  # winners (0: no k-WTA, dense output)

    @property
    def out_size(self) -> int:
        return int(np.prod(self.out_shape))

    def run(self, inputs: tuple, buffers: tuple) -> tuple:
        getattr(kernels, self.kind)(*inputs, *self.geometry, *self.weights, self.thr, self.floor, self.scale, self.rank,
                                    self.nranks, self.k, *buffers)
        dense, idx, val, count = buffers
        return (dense,) if self.k == 0 else (idx, val, count)


def _abs_row_sum(weight: np.ndarray, active: int | None = None) -> float:
    """The largest sum of |weights| of one output over at most ``active`` non-zero inputs (all: None).

    Times the input magnitude bound, this bounds |accumulator|.
    """
    if not weight.size:
        return 0.0
    magnitude = np.abs(weight.reshape(weight.shape[0], -1))
    if active is not None and active < magnitude.shape[1]:
        magnitude = -np.partition(-magnitude, active - 1, axis=1)[:, :active]
    return float(magnitude.sum(1).max())


class UnsupportedNetwork(ValueError):
    """The compiled path cannot run this network (the reason is the message)."""


def _groups(steps: list) -> list[tuple]:
    """(weight op kind, op, batch norm or None, pool, k-WTA or None) per weight layer; flatten steps dropped."""
    steps = [s for s in steps if s[0] != "flatten"]
    groups, i = [], 0
    while i < len(steps):
        kind, op, _ = steps[i]
        if kind not in ("linear", "conv"):
            raise UnsupportedNetwork(f"a {kind} step does not follow a weight layer + batch norm")
        j = i + 1
        norm = steps[j][1] if j < len(steps) and steps[j][0] == "bnrelu" else None
        j += norm is not None
        pool = norm is not None and j < len(steps) and steps[j][0] == "pool"
        j += pool
        kwta = steps[j][1] if norm is not None and j < len(steps) and steps[j][0] == "kwta" else None
        j += kwta is not None
        if norm is None and j < len(steps):
            raise UnsupportedNetwork("only the last weight layer may lack batch norm + quantised ReLU")
        groups.append((kind, op, norm, pool, kwta))
        i = j
    if not groups or groups[-1][2] is not None:
        raise UnsupportedNetwork("the network must end in a weight layer giving the logits")
    return groups


def fuse(network: SparseNetwork) -> tuple[list[FusedLayer], float]:
    """Regroup the engine's steps into fused layers; returns them and the input magnitude limit.

    Accumulators are int16 where ``input bound x max_o sum|w_o| <= INT16_LIMIT`` (the first
    layer's input bound is chosen so, from int8 features up), else float32 (below 2^24).
    """
    shape, in_scale, bound, sparse_in, input_limit = network.input_shape, 1.0, None, False, 0.0
    layers: list[FusedLayer] = []
    for kind, op, norm, pool, kwta in _groups(network.steps):
        weight_sum = max(_abs_row_sum(op.weight, layers[-1].k if sparse_in else None), 1.0)
        dense_linear = kind == "linear" and not sparse_in
        if bound is None:  # first layer: the largest inputs it computes exactly
            int16 = not dense_linear and FEATURE_LIMIT * weight_sum <= INT16_LIMIT
            input_limit = INT16_LIMIT // weight_sum if int16 else min(INPUT_LIMIT, (EXACT_LIMIT - 1) // weight_sum)
            bound = input_limit
        int16 = not dense_linear and bound * weight_sum <= INT16_LIMIT
        if bound * weight_sum >= EXACT_LIMIT:
            raise UnsupportedNetwork(f"{kind} layer {len(layers)}: accumulators could reach 2^24 (float32 exactness)")
        dtype = np.int16 if int16 else np.float32
        scale32 = np.float32(op.scale * in_scale)
        out_channels = op.weight.shape[0]
        if norm is not None:
            sign, thr = thresholds(scale32, norm)
            top = 2 ** norm.bits - 1
        else:
            sign, thr, top = np.ones(out_channels, np.float32), np.zeros((out_channels, 0), np.float32), 0
        signed = op.weight * sign.reshape((-1,) + (1,) * (op.weight.ndim - 1))
        layer = (_conv_layer if kind == "conv" else _linear_layer)(signed, op, shape, pool, sparse_in, dtype)
        limit = INT16_LIMIT if int16 else EXACT_LIMIT
        thr = np.clip(thr, -limit - 1, limit + 1)  # |u| <= limit: the clipped ends decide alike
        layer.thr, layer.floor, layer.scale = np.ascontiguousarray(thr.T, dtype=dtype), dtype(-limit - 2), scale32
        layer.rank = np.zeros((out_channels, top + 1), np.int32)
        if kwta is not None:
            if kwta.mode == "local" and kind == "conv":
                raise UnsupportedNetwork("local k-WTA is not compiled")
            layer.rank, layer.nranks = kwinners_ranks(kwta, out_channels, top)
            layer.k = k_winners_count(layer.out_size, kwta.fraction)
        layers.append(layer)
        shape, sparse_in, bound = layer.out_shape, kwta is not None, top
        in_scale = norm.act_scale if norm is not None else in_scale
    return layers, float(input_limit)


def _storage(weight: np.ndarray, dtype: type) -> np.ndarray:
    """Weights as stored for a kernel: int8 (or int16) beside int16 accumulators, else float32."""
    if dtype is np.float32:
        return np.ascontiguousarray(weight, dtype=np.float32)
    return np.ascontiguousarray(weight, dtype=np.int8 if np.abs(weight).max(initial=0) <= 127 else np.int16)


def _vnni_terms(weight: np.ndarray, shape: tuple) -> tuple:
    """``conv_dense_vnni`` terms: weight pairs (int32 of two int16), input offsets, first term per output channel."""
    O, C, kh, kw = weight.shape
    _, H, W = shape
    pairs = -(-kw // vnni.PAIR)
    full = np.zeros((O, C, kh, pairs * vnni.PAIR), np.int64)
    full[..., :kw] = weight
    low, high = full[..., 0::2].reshape(O, -1), full[..., 1::2].reshape(O, -1)  # [O, C*kh*pairs]
    c, dy, j = (a.ravel() for a in np.indices((C, kh, pairs)))
    offset = (c * H + dy) * W + j * vnni.PAIR
    keep = (low != 0) | (high != 0)
    word = ((low & 0xFFFF) | (high << 16)).astype(np.uint32).view(np.int32)
    first = np.concatenate([[0], np.cumsum(keep.sum(1))]).astype(np.int64)
    return word[keep], np.broadcast_to(offset, keep.shape)[keep].astype(np.int64), first


def _conv_layer(weight, op, shape, pool, sparse_in, dtype) -> FusedLayer:
    if shape is None or len(shape) != 3:
        raise UnsupportedNetwork("a convolution needs a [C, H, W] input (give the input shape)")
    C, H, W = shape
    O, _, kh, kw = weight.shape
    P = 2 if pool else 1
    geometry, out_shape = (C, H, W, P, kh, kw), (O, (H - kh + 1) // P, (W - kw + 1) // P)
    if sparse_in:  # per input channel and kernel row: the filter taps dense over outputs, zero-padded
        columns = np.zeros((C, kh, (kw - 1) * O + kernels.padded(kw * O)), np.float32)
        columns[:, :, :kw * O] = weight[:, :, :, ::-1].transpose(1, 2, 3, 0).reshape(C, kh, kw * O)
        units = [a.astype(np.int32).ravel() for a in np.indices((C, H, W))]
        return FusedLayer("conv_sparse_in", (*units, _storage(columns, dtype)), geometry, out_shape, dtype)
    if vnni.ENABLED and dtype is np.int16 and P == 2 and out_shape[2] <= vnni.LANES:
        # int16 inputs and weights (both below the int16 bound), int32 sums within it
        return FusedLayer("conv_dense_vnni", _vnni_terms(weight, shape), geometry, out_shape, dtype)
    nonzero = (weight != 0).reshape(O, -1)
    order = np.argsort(~nonzero, axis=1, kind="stable")[:, :max(int(nonzero.sum(1).max()), 1)]
    c, dy, dx = np.unravel_index(order, (C, kh, kw))  # [O, F] each
    phase_y, phase_x = np.divmod(np.arange(P * P), P)
    y = dy[:, None, :] + phase_y[None, :, None]  # [O, P*P, F]: input row offset of each tap in each pooling phase
    x = dx[:, None, :] + phase_x[None, :, None]
    source = (c[:, None, :] * P + y % P) * P + x % P   # polyphase component (channel, row phase, column phase)
    base = (y // P) * -(-W // P) + x // P              # offset inside the component
    values = np.ascontiguousarray(np.take_along_axis(weight.reshape(O, -1), order, axis=1), dtype=dtype)
    return FusedLayer("conv_dense_in", (np.ascontiguousarray(source, dtype=np.int32),
                                        np.ascontiguousarray(base, dtype=np.int32), values,
                                        nonzero.sum(1).astype(np.int32)), geometry, out_shape, dtype)


def _linear_layer(weight, op, shape, pool, sparse_in, dtype) -> FusedLayer:
    O, inputs = weight.shape
    if sparse_in:
        columns = np.zeros((inputs, kernels.padded(O)), np.float32)
        columns[:, :O] = weight.T
        return FusedLayer("linear_sparse_in", (_storage(columns, dtype),), (), (O,), dtype)
    if (weight != 0).sum(1).max() < GATHER_BELOW * inputs:
        values = np.take_along_axis(weight, op.index, axis=1)
        weights = (np.ascontiguousarray(op.index, dtype=np.int32), np.ascontiguousarray(values, dtype=np.float32))
    else:
        weights = (np.zeros((O, 0), np.int32), np.ascontiguousarray(weight, dtype=np.float32))
    return FusedLayer("linear_dense_in", weights, (), (O,), np.float32)


class FastSparseNetwork:
    """The compiled path of a ``SparseNetwork``: ``__call__(inputs)`` -> logits, bit-identical to the engine."""

    def __init__(self, network: SparseNetwork):
        self.reference = network
        self.layers: list[FusedLayer] = []
        self.input_limit = 0.0
        self._buffers: dict[int, list[tuple]] = {}
        self.reason = kernels.NUMBA_ERROR
        if self.reason is None:
            try:
                self.layers, self.input_limit = fuse(network)
            except UnsupportedNetwork as exc:
                self.reason = f"not compiled: {exc}"
        self.fallbacks = 0  # batches the numpy engine ran (inputs outside the compiled path's range)

    @property
    def compiled(self) -> bool:
        return self.reason is None

    def _buffers_for(self, n: int) -> list[tuple]:
        """Per-layer output buffers for batches of ``n`` (reused: one call at a time per network)."""
        if n not in self._buffers:
            if len(self._buffers) >= 4:
                self._buffers.clear()
            consumers = [layer.dtype for layer in self.layers[1:]] + [np.float32]
            slack = 1 + vnni.LANES  # compressed k-WTA output is written 16 lanes at a time
            self._buffers[n] = [(np.zeros((n, layer.out_size), np.float32), np.zeros((n, layer.k + slack), np.int32),
                                 np.zeros((n, layer.k + slack), dtype), np.zeros(n, np.int64))
                                for layer, dtype in zip(self.layers, consumers)]
        return self._buffers[n]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=np.float32)
        if not self.compiled:
            return self.reference(x)
        n = len(x)
        flat = x.reshape(n, -1)
        if not kernels.inputs_are_integers(flat, self.input_limit):
            self.fallbacks += 1
            return self.reference(x)
        data: tuple = (flat,)
        for layer, buffers in zip(self.layers, self._buffers_for(n)):
            data = layer.run(data, buffers)
        return data[0].copy()

    def warm_up(self, input_shape: tuple[int, ...]) -> None:
        """Compile every kernel (numba JIT) on a zero batch of 1 and of 2, outside any timing."""
        for n in (1, 2):
            self(np.zeros((n, *input_shape), np.float32))

    def describe(self) -> str:
        if not self.compiled:
            return f"numpy engine ({self.reason}): {self.reference.describe()}"
        parts = [f"{layer.kind} {np.dtype(layer.dtype).name}" + (f" k-WTA {layer.k}" if layer.k else "")
                 for layer in self.layers]
        return "numba kernels: " + ", ".join(parts) + (f"; {kernels.CACHE_NOTE}" if kernels.CACHE_NOTE else "")
