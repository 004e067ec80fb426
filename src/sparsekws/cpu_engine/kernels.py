"""Compiled (numba) kernels of the sparse-aware CPU path: one call per weight layer and batch.

Every value is an integer: inputs, weights, activation levels, accumulators. Accumulators are
int16 where ``fast`` proves from the weights that they cannot overflow (|inputs| x
max_o sum|w_o| < 2^15; 32 SIMD lanes, weights stored as int8), else float32 (exact below 2^24;
sums of exact integers are exact in any order, so the kernels may reassociate: ``fastmath``).
Inner loops run over unsigned indices in fixed 64-element chunks of padded buffers: numba then
emits plain SIMD loads and stores, with no negative-index wrap-around, scalar tails or array
views (whose reference counting costs more than the arithmetic here).

A layer's kernel fuses: the accumulation, batch norm + quantised ReLU as per-channel integer
thresholds (``level = #{j: u >= T[j]}`` on ``u = sign * accumulator``; the sign is folded into
the weights), the 2x2 max-pool (on ``u``, before thresholding: the level is non-decreasing in
``u``), and k-WTA (below). Layer kinds:

- ``conv_dense_in``: a convolution of a dense input (the first layer). The input is split into
  its ``P x P`` polyphase components, so each pooling phase of each output channel is a
  contiguous ``y += w * x[offset:]`` over the output rows per kept weight (fixed fan-in: only
  the ``F`` non-zero taps of ``C x kh x kw``, four taps per pass), and the pool is an
  element-wise max of the phases.
- ``conv_dense_vnni``: the same with a 2x2 pool where the CPU has AVX-512 VNNI (``vnni``)
  and the accumulators are int16-safe: per output channel, 16 pooled columns per vector, each
  a ``vpdpwssd`` sum of int16-pair products (two adjacent taps of a kernel row per term, terms
  whose two weights are zero skipped) in int32, |sum| <= the int16 bound proved in
  ``fast``; the four pooling phases side by side, then their lane-wise max, thresholded
  in registers (levels and the per-channel counts k-WTA needs).
- ``conv_sparse_in``: a convolution of a k-WTA output (active list of (flat index, level)):
  each active input adds ``level x`` its filter column into every output it reaches (a
  contiguous stretch of ``kw x O`` accumulators per kernel row, channels-last); active inputs
  of one pixel share their targets and go four per pass. The filter column is stored dense over
  output channels: a 32-lane SIMD multiply-add of mostly-zero weights beats a scalar scatter of
  the non-zero ones at weight density above 1/32 (the zoo's is 0.2); likewise gathering each
  output's ``F`` weights and skipping zero inputs touches every output for ``k`` actives.
- ``linear_dense_in``: fixed fan-in gather ``sum_k x[index[o, k]] * w[o, k]`` (or a dense dot
  product where the layer is dense), float32.
- ``linear_sparse_in``: ``y += level x column`` over the active inputs only (sparse-sparse), the
  weight column dense over outputs (same reason as above).

k-WTA (global) keeps the ``k`` largest scores ``level x boost[c]`` (ties: lower flat index):
the ranks of all (channel, level) scores are precomputed (equal scores share a rank), a
histogram of the sample's ranks gives the threshold rank and how many of its ties fit, and one
pass in flat order emits the winners. Output: the active list, the next layer's input.
"""

from __future__ import annotations

import numpy as np

from sparsekws.cpu_engine import vnni

try:
    import numba
except Exception as exc:  # noqa: BLE001 - an absent or broken numba both mean: no compiled path
    numba = None
    NUMBA_ERROR: str | None = f"numba unavailable ({type(exc).__name__}: {exc})"
else:
    NUMBA_ERROR = None

CACHE_NOTE = ""
CHUNK = 64  # inner loops run over fixed 64-element chunks (buffers padded): full SIMD width, no scalar tails


def padded(size: int) -> int:
    """``size`` rounded up to whole chunks."""
    return -(-size // CHUNK) * CHUNK


def _jit(fastmath: bool = False, inline: str = "never"):
    """``numba.njit`` with an on-disk cache where a cache directory is writable; the plain function without numba.

    ``inline="always"`` inlines a small helper into its callers at numba's level (its loops then
    see the callers' constant chunk sizes and no call overhead per use).
    """

    def wrap(fn):
        global CACHE_NOTE
        if numba is None:
            return fn
        try:
            return numba.njit(cache=True, fastmath=fastmath, nogil=True, inline=inline)(fn)
        except RuntimeError as exc:  # numba found no writable cache location
            CACHE_NOTE = f"no JIT cache ({exc})"
            return numba.njit(cache=False, fastmath=fastmath, nogil=True, inline=inline)(fn)

    return wrap


@_jit()
def inputs_are_integers(x, limit):
    """True when every value of ``x`` is an integer of magnitude <= ``limit``."""
    flat = x.reshape(-1)
    for i in range(flat.size):
        v = flat[i]
        if not (abs(v) <= limit and v == np.floor(v)):
            return False
    return True


@_jit(fastmath=True, inline="always")
def _axpy(dst, doff, src, soff, v, length):
    """``dst[doff:doff+length] += v * src[soff:soff+length]`` (1-D arrays; ``length`` a multiple of 64).

    Unsigned indices and fixed 64-element chunks: numba then emits plain SIMD loads and stores
    (no negative-index wrap-around, no scalar tail, no array views and their reference counts).
    """
    d0, s0 = np.uint64(doff), np.uint64(soff)
    for e0 in range(np.uint64(0), np.uint64(length), np.uint64(64)):
        for e in range(np.uint64(64)):
            dst[d0 + e0 + e] += v * src[s0 + e0 + e]


@_jit(fastmath=True, inline="always")
def _axpy4(dst, doff, src, o1, o2, o3, o4, v1, v2, v3, v4, length):
    """``dst[doff:doff+length] += sum_i v_i * src[o_i:o_i+length]``: four terms per load and store of ``dst``."""
    d0, a, b, c, d = np.uint64(doff), np.uint64(o1), np.uint64(o2), np.uint64(o3), np.uint64(o4)
    for e0 in range(np.uint64(0), np.uint64(length), np.uint64(64)):
        for e in range(np.uint64(64)):
            i = e0 + e
            dst[d0 + i] += v1 * src[a + i] + v2 * src[b + i] + v3 * src[c + i] + v4 * src[d + i]


@_jit(fastmath=True, inline="always")
def _maximum(dst, doff, src, soff, length):
    """``dst[doff:doff+length] = max(dst[...], src[soff:soff+length])`` (as ``_axpy``)."""
    d0, s0 = np.uint64(doff), np.uint64(soff)
    for e0 in range(np.uint64(0), np.uint64(length), np.uint64(64)):
        for e in range(np.uint64(64)):
            dst[d0 + e0 + e] = max(dst[d0 + e0 + e], src[s0 + e0 + e])


@_jit(fastmath=True)
def _levels(u, thr, lev, ge):
    """``lev[o, s] = #{j: u[o, s] >= thr[j, o]}``; ``ge[o, j]``: channel ``o``'s count above ``j`` (``S > 1``)."""
    channels, size = u.shape
    if size == 1:  # one unit per channel (linear layers): vectorise over channels
        col = lev.reshape(channels)
        col[:] = 0
        src = u.reshape(channels)
        for j in range(thr.shape[0]):
            t = thr[j]
            for o in range(channels):
                col[o] += src[o] >= t[o]
        return
    flat_u, flat_lev = u.reshape(-1), lev.reshape(-1)
    flat_lev[:] = 0
    counts = np.empty(64, np.int32)
    for o in range(channels):
        base = np.uint64(o * size)
        for j in range(thr.shape[0]):
            t = thr[j, o]
            counts[:] = 0
            for e0 in range(np.uint64(0), np.uint64(size), np.uint64(64)):
                for e in range(np.uint64(64)):
                    above = flat_u[base + e0 + e] >= t
                    flat_lev[base + e0 + e] += above
                    counts[e] += above
            ge[o, j] = counts.sum()


@_jit()
def _rank_cut(hist, k):
    """The rank of the k-th winner in the rank histogram ``hist`` (rank 0 first) and the room left at it for ties."""
    cut, above = 0, 0
    while above + hist[cut] < k:
        above += hist[cut]
        cut += 1
    return cut, k - above


@_jit()
def _kwinners_scan(lev, rank, nranks, k, hist, out_idx, out_val):
    """k-WTA of ``lev [C, S]`` by two passes over every unit; returns the count of non-zero winners."""
    channels, size = lev.shape
    hist[:nranks] = 0
    for o in range(channels):
        for s in range(size):
            hist[rank[o, int(lev[o, s])]] += 1
    cut, room = _rank_cut(hist, k)
    used, n = 0, 0
    for o in range(channels):
        for s in range(size):
            level = lev[o, s]
            r = rank[o, int(level)]
            if r > cut or (r == cut and used >= room):
                continue
            used += r == cut
            if level != 0:
                out_idx[n] = o * size + s
                out_val[n] = level
                n += 1
    return n


@_jit()
def _kwinners_channels(lev, size, ge, rank, nranks, k, hist, out_idx, out_val, compress=False):
    """k-WTA of ``lev [C, S]`` from the per-channel level counts ``ge``: one compaction pass per channel.

    Within a channel the score ``level * boost`` does not fall with the level, so the winners of
    a channel are the levels ``>= keep`` plus, in flat order while room is left, the tied levels
    ``[tie, keep)``. ``lev`` rows hold ``size`` units (then padding); ``compress``: int16 rows
    padded to whole 16s, compacted by AVX-512 compress stores (``vnni``).
    """
    channels = lev.shape[0]
    flat = lev.reshape(-1)
    top = ge.shape[1]
    hist[:nranks] = 0
    for o in range(channels):
        below = size
        for level in range(top + 1):
            at_least = ge[o, level] if level < top else 0
            hist[rank[o, level]] += below - at_least
            below = at_least
    cut, room = _rank_cut(hist, k)
    used, n = 0, 0
    for o in range(channels):
        keep, tie = top + 1, top + 1
        for level in range(top, -1, -1):
            if rank[o, level] < cut:
                keep = level
            if rank[o, level] <= cut:
                tie = level
        row, base = lev[o], o * size
        if tie == keep or used >= room:  # no ties left to place: keep the levels >= keep (non-zero)
            least = max(keep, 1)
            if compress:
                n = vnni.compress_at_least(flat, o * lev.shape[1], size, least, base, out_idx, out_val, n)
                continue
            for s in range(size):
                level = row[s]
                out_idx[n] = base + s
                out_val[n] = level
                n += level >= least
        else:
            for s in range(size):
                level = row[s]
                if level < tie or (level < keep and used >= room):
                    continue
                used += level < keep
                if level != 0:
                    out_idx[n] = base + s
                    out_val[n] = level
                    n += 1
    return n


@_jit()
def _finish(u, size, thr, scale, rank, nranks, k, lev, ge, hist, dense_out, idx_out, val_out):
    """Thresholds (logits where ``thr`` has no rows), then k-WTA (``k > 0``) or dense output; returns actives.

    ``u``/``lev`` rows hold ``size`` units then padding (below every threshold).
    """
    channels = u.shape[0]
    if thr.shape[0] == 0:
        for o in range(channels):
            for s in range(size):
                dense_out[o * size + s] = np.float32(u[o, s]) * scale
        return 0
    _levels(u, thr, lev, ge)
    if k == 0:
        for o in range(channels):
            for s in range(size):
                dense_out[o * size + s] = lev[o, s]
        return 0
    if u.shape[1] == 1:
        return _kwinners_scan(lev, rank, nranks, k, hist, idx_out, val_out)
    return _kwinners_channels(lev, size, ge, rank, nranks, k, hist, idx_out, val_out)


@_jit(fastmath=True)
def _conv_dense_sample(x, C, H, W, P, PH, PW, tap_src, tap_base, tap_w, ntap, floor, phases, acc, u):
    """Pooled ``u [O, >=PH*PW]`` of one dense input ``x [C*H*W]`` (see module docstring)."""
    Hq, Wq = (H + P - 1) // P, (W + P - 1) // P
    comp = phases.shape[1]
    for c in range(C):
        for ry in range(P):
            for rx in range(P):
                buf = phases[(c * P + ry) * P + rx]
                for qy in range(Hq):
                    y = qy * P + ry
                    for qx in range(Wq):
                        xx = qx * P + rx
                        buf[qy * Wq + qx] = x[(c * H + y) * W + xx] if (y < H and xx < W) else 0
    components, rows = phases.reshape(-1), acc.reshape(-1)
    length = acc.shape[1]  # PH * Wq, padded to chunks
    size = PH * PW
    for o in range(tap_w.shape[0]):
        rows[:] = 0
        taps = ntap[o]
        for ph in range(P * P):
            t = 0
            while t + 4 <= taps:
                _axpy4(rows, ph * length, components, tap_src[o, ph, t] * comp + tap_base[o, ph, t],
                       tap_src[o, ph, t + 1] * comp + tap_base[o, ph, t + 1],
                       tap_src[o, ph, t + 2] * comp + tap_base[o, ph, t + 2],
                       tap_src[o, ph, t + 3] * comp + tap_base[o, ph, t + 3],
                       tap_w[o, t], tap_w[o, t + 1], tap_w[o, t + 2], tap_w[o, t + 3], length)
                t += 4
            while t < taps:
                _axpy(rows, ph * length, components, tap_src[o, ph, t] * comp + tap_base[o, ph, t], tap_w[o, t],
                      length)
                t += 1
        for ph in range(1, P * P):
            _maximum(rows, 0, rows, ph * length, length)
        uo = u[o]
        for py in range(PH):
            uo[py * PW:(py + 1) * PW] = rows[py * Wq:py * Wq + PW]
        uo[size:] = floor


@_jit(fastmath=True)
def conv_dense_in(x, C, H, W, P, kh, kw, tap_src, tap_base, tap_w, ntap, thr, floor, scale, rank, nranks, k,
                  dense_out, idx_out, val_out, n_out):
    """A convolution layer (+ thresholds, pool, k-WTA) on a dense batch ``x [N, C*H*W]``.

    Tap ``t`` of output channel ``o`` in pooling phase ``ph`` reads polyphase component
    ``tap_src[o, ph, t]`` from offset ``tap_base[o, ph, t]``, weight ``tap_w[o, t]``. Accumulates in
    ``tap_w``'s dtype (int16 where ``fast`` proved it cannot overflow, else float32);
    ``floor`` pads rows (below every threshold).
    """
    O = tap_w.shape[0]
    PH, PW = (H - kh + 1) // P, (W - kw + 1) // P
    Hq, Wq = (H + P - 1) // P, (W + P - 1) // P
    length = -(-(PH * Wq) // 64) * 64
    size = PH * PW
    spad = -(-size // 64) * 64
    phases = np.zeros((C * P * P, Hq * Wq + Wq + length), tap_w.dtype)
    acc = np.empty((P * P, length), tap_w.dtype)
    u = np.empty((O, spad), tap_w.dtype)
    lev = np.empty((O, spad), tap_w.dtype)
    ge = np.empty((O, max(thr.shape[0], 1)), np.int64)
    hist = np.empty(max(nranks, 1), np.int64)
    for n in range(x.shape[0]):
        _conv_dense_sample(x[n], C, H, W, P, PH, PW, tap_src, tap_base, tap_w, ntap, floor, phases, acc, u)
        n_out[n] = _finish(u, size, thr, scale, rank, nranks, k, lev, ge, hist,
                           dense_out[n], idx_out[n], val_out[n])


@_jit()
def conv_dense_vnni(x, C, H, W, P, kh, kw, pairs, offsets, first, thr, floor, scale, rank, nranks, k, dense_out,
                    idx_out, val_out, n_out):
    """``conv_dense_in`` by ``vpdpwssd`` (module docstring) on a dense batch ``x [N, C*H*W]``, ``P = 2``, ``PW <= 16``.

    Output channel ``o`` sums the terms ``[first[o], first[o+1])``: weight pair ``pairs[t]`` (taps
    ``2j, 2j+1`` of a kernel row, int16 each) times the input pair at ``offsets[t]`` (+ the
    output's position) of the sample stored as int16; the thresholds ``thr`` (at least one row)
    are applied in the same pass.
    """
    L, O = thr.shape
    PH, PW = (H - kh + 1) // 2, (W - kw + 1) // 2
    size = PH * PW
    spad = -(-(size + 16) // 64) * 64  # the last pooled row's 16-lane store stays inside the row
    image = np.zeros(C * H * W + kw + 64, np.int16)  # vector loads reach up to kw + 32 elements past a row
    lev = np.empty((O, spad), thr.dtype)
    flat_lev = lev.reshape(-1)
    columns = np.empty(O * L, thr.dtype)  # the thresholds channel by channel
    for o in range(O):
        for j in range(L):
            columns[o * L + j] = thr[j, o]
    counts = np.empty(O * L, np.int64)
    ge = counts.reshape(O, L)
    hist = np.empty(max(nranks, 1), np.int64)
    for n in range(x.shape[0]):
        sample = x[n]
        for i in range(C * H * W):
            image[i] = np.int16(sample[i])
        counts[:] = 0
        for o in range(O):
            vnni.conv_pool(flat_lev, o * spad, PH, PW, image, W, pairs, offsets, first[o], first[o + 1],
                                  columns, counts, o * L, L)
        if k == 0:
            for o in range(O):
                for s in range(size):
                    dense_out[n, o * size + s] = lev[o, s]
            n_out[n] = 0
        else:
            n_out[n] = _kwinners_channels(lev, size, ge, rank, nranks, k, hist, idx_out[n], val_out[n], True)


@_jit(fastmath=True)
def conv_sparse_in(idx, val, nact, C, H, W, P, kh, kw, unit_c, unit_y, unit_x, columns, thr, floor, scale, rank,
                   nranks, k, dense_out, idx_out, val_out, n_out):
    """A convolution layer (+ thresholds, pool, k-WTA) on active lists ``idx/val [N, >=kmax]``, ``nact [N]``.

    ``columns [C, kh, >=(kw-1)*O + padded(kw*O)]``: ``columns[c, dy, j*O + o] = w[o, c, dy, kw-1-j]``,
    zero beyond ``j = kw-1``; ``unit_c/y/x``: channel, row, column of each flat input index.
    Accumulates in ``thr``'s dtype, channels-last ``[OH, OW*O]`` (+ padding that the zero weights
    and the clipped right edge write into and nothing reads).
    """
    O = thr.shape[1]
    OH, OW = H - kh + 1, W - kw + 1
    PH, PW = OH // P, OW // P
    size = PH * PW
    spad = -(-size // 64) * 64
    acc = np.empty((OH, (OW - 1) * O + -(-(kw * O) // 64) * 64), thr.dtype)
    m = np.empty(O, thr.dtype)
    u = np.empty((O, spad), thr.dtype)
    lev = np.empty((O, spad), thr.dtype)
    ge = np.empty((O, max(thr.shape[0], 1)), np.int64)
    hist = np.empty(max(nranks, 1), np.int64)
    flat_acc, flat_col = acc.reshape(-1), columns.reshape(-1)
    row, col_c, col_dy = acc.shape[1], columns.shape[1] * columns.shape[2], columns.shape[2]
    pixels = H * W
    first = np.empty(pixels + 1, np.int64)
    column = np.empty(idx.shape[1], np.int64)  # per sorted active: its channel's offset in ``columns``
    level = np.empty(idx.shape[1], thr.dtype)  # per sorted active: its level
    for n in range(idx.shape[0]):
        acc[:] = 0
        # the active inputs grouped by pixel (counting sort): those of one pixel share their targets
        first[:] = 0
        for a in range(nact[n]):
            first[idx[n, a] - unit_c[idx[n, a]] * pixels + 1] += 1
        for p in range(pixels):
            first[p + 1] += first[p]
        for a in range(nact[n]):
            c = unit_c[idx[n, a]]
            p = idx[n, a] - c * pixels
            column[first[p]] = c * col_c
            level[first[p]] = val[n, a]
            first[p] += 1
        end = 0
        for p in range(pixels):
            begin, end = end, first[p]
            if begin == end:
                continue
            iy, ix = unit_y[p], unit_x[p]
            lo, hi = max(0, ix - kw + 1), min(OW - 1, ix)
            shift = (lo - ix + kw - 1) * O
            length = -(-((hi - lo + 1) * O) // 64) * 64
            for dy in range(kh):
                oy = iy - dy
                if oy < 0 or oy >= OH:
                    continue
                target, offset = oy * row + lo * O, shift + dy * col_dy
                a = begin
                while a + 4 <= end:
                    _axpy4(flat_acc, target, flat_col, column[a] + offset, column[a + 1] + offset,
                           column[a + 2] + offset, column[a + 3] + offset, level[a], level[a + 1], level[a + 2],
                           level[a + 3], length)
                    a += 4
                while a < end:
                    _axpy(flat_acc, target, flat_col, column[a] + offset, level[a], length)
                    a += 1
        for py in range(PH):
            for px in range(PW):
                corner = np.uint64(py * P * row + px * P * O)
                for o in range(np.uint64(O)):
                    m[o] = flat_acc[corner + o]
                for a in range(P):
                    for b in range(P):
                        other = np.uint64((py * P + a) * row + (px * P + b) * O)
                        for o in range(np.uint64(O)):
                            m[o] = max(m[o], flat_acc[other + o])
                for o in range(O):
                    u[o, py * PW + px] = m[o]
        u[:, size:] = floor
        n_out[n] = _finish(u, size, thr, scale, rank, nranks, k, lev, ge, hist,
                           dense_out[n], idx_out[n], val_out[n])


@_jit(fastmath=True)
def linear_dense_in(x, index, weight, thr, floor, scale, rank, nranks, k, dense_out, idx_out, val_out, n_out):
    """A linear layer on a dense batch ``x [N, in]`` (float32): fixed fan-in gather over ``index/weight [O, F]``.

    ``index`` with no columns means a dense layer: ``weight [O, in]``, a dot product per output.
    """
    O = weight.shape[0]
    u = np.empty((O, 1), np.float32)
    lev = np.empty((O, 1), np.float32)
    ge = np.empty((O, 1), np.int64)
    hist = np.empty(max(nranks, 1), np.int64)
    gather = index.shape[1] > 0
    for n in range(x.shape[0]):
        row = x[n]
        for o in range(O):
            s = np.float32(0.0)
            w = weight[o]
            if gather:
                ix = index[o]
                for t in range(ix.shape[0]):
                    s += row[ix[t]] * w[t]
            else:
                for t in range(w.shape[0]):
                    s += row[t] * w[t]
            u[o, 0] = s
        n_out[n] = _finish(u, 1, thr, scale, rank, nranks, k, lev, ge, hist, dense_out[n], idx_out[n], val_out[n])


@_jit(fastmath=True)
def linear_sparse_in(idx, val, nact, columns, thr, floor, scale, rank, nranks, k, dense_out, idx_out, val_out, n_out):
    """A linear layer on active lists: ``u += level * columns[input]``.

    ``columns [in, padded(O)]``: the weights of each input, dense over the outputs, zero-padded.
    """
    O, stride = thr.shape[1], columns.shape[1]
    u = np.empty((O, 1), thr.dtype)
    lev = np.empty((O, 1), thr.dtype)
    ge = np.empty((O, 1), np.int64)
    hist = np.empty(max(nranks, 1), np.int64)
    acc = np.empty(stride, thr.dtype)
    flat_col = columns.reshape(-1)
    for n in range(idx.shape[0]):
        acc[:] = 0
        for a in range(nact[n]):
            _axpy(acc, 0, flat_col, idx[n, a] * stride, val[n, a], stride)
        u[:, 0] = acc[:O]
        n_out[n] = _finish(u, 1, thr, scale, rank, nranks, k, lev, ge, hist, dense_out[n], idx_out[n], val_out[n])
