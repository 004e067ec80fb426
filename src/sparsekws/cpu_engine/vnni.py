"""AVX-512 VNNI for the sparse-aware CPU path: feature detection and numba intrinsics (LLVM IR).

``vpdpwssd`` adds, in each of 16 int32 lanes, the two products of a pair of int16 inputs by a
pair of int16 weights: exact integer arithmetic (no saturation, int32 sums). ``conv_pool``
computes one output channel of a convolution of a dense input followed by a 2x2 max-pool, 16
pooled columns per vector: lane ``px`` of the 32-bit word vector loaded at input column ``2k + b``
holds the input pair ``(2px + 2k + b, 2px + 2k + b + 1)``, i.e. the taps ``2k, 2k + 1`` of the
output at column ``2px + b`` (pooling phase ``b``), so one broadcast weight pair per term serves
16 outputs; the four pooling phases accumulate side by side and end in a lane-wise max, which
the per-channel thresholds turn into activation levels (and per-threshold counts) right away.

``compress_at_least`` emits k-WTA winners 16 units at a time (AVX-512 compress).

``ENABLED`` is true where the host CPU has AVX-512 VNNI (and the rest this module uses) and
numba compiles for it; set it to ``False`` before building a network to force the portable
kernels.
"""

from __future__ import annotations

try:
    import numba
    from llvmlite import ir
    from numba.core import cgutils, types
    from numba.extending import intrinsic
except Exception:  # noqa: BLE001 - without numba there is no compiled path at all
    numba = None

LANES = 16  # int32 outputs per vector
PAIR = 2    # taps per int32 lane and instruction (int16 pairs)


def host_has_vnni() -> bool:
    """True where numba compiles for this host and the host has AVX-512 VNNI, BW, VL and VBMI2 (16-bit compress)."""
    if numba is None or numba.config.CPU_NAME not in (None, "host"):
        return False
    try:
        from llvmlite import binding

        features = binding.get_host_cpu_features()
    except Exception:  # noqa: BLE001 - unknown host: no VNNI
        return False
    return all(features.get(name) for name in ("avx512vnni", "avx512bw", "avx512vl", "avx512vbmi2"))


ENABLED = host_has_vnni()

if numba is not None:
    _I16, _I32, _I64 = ir.IntType(16), ir.IntType(32), ir.IntType(64)
    _V16 = ir.VectorType(_I32, LANES)

    def _data(context, builder, arrty, arr, pointee):
        """The data pointer of array ``arr`` as a ``pointee*``."""
        return builder.bitcast(context.make_array(arrty)(context, builder, arr).data, pointee.as_pointer())

    def _int64(context, builder, value, ty):
        return context.cast(builder, value, ty, types.int64)

    def _splat(builder, value):
        """An i32 ``value`` in all 16 lanes."""
        return builder.shuffle_vector(builder.insert_element(ir.Constant(_V16, ir.Undefined), value,
                                                             ir.Constant(_I32, 0)),
                                      ir.Constant(_V16, ir.Undefined), ir.Constant(_V16, None))

    def _load64(builder, pointer, index):
        value = builder.load(builder.gep(pointer, [index]))
        return builder.sext(value, _I64) if value.type.width < 64 else value

    @intrinsic
    def conv_pool(typingctx, out, out_off, rows, cols, image, row_len, pairs, offsets, first, last, thr, counts,
                  thr_off, levels):
        """Levels ``out[out_off + py*cols:][:16] = #{j < levels: u >= thr[thr_off + j]}`` of the pooled sums

        ``u = max_{a,b} sum_{t in [first, last)} dpwssd(image[offsets[t] + (2py + a)*row_len + b:][:32], pairs[t])``
        for ``py`` in ``[0, rows)``; ``counts[thr_off + j] += #{valid lanes: u >= thr[thr_off + j]}``
        (the first ``cols`` lanes are valid). ``out`` int16, ``image`` int16 (readable 32 elements
        past every offset), ``pairs`` int32 (two int16 weights, the lower for the lower column),
        ``offsets`` and ``counts`` int64, ``thr`` int16. Lanes beyond the row's pooled columns hold
        values nobody reads (the next row or the padding overwrites them).
        """
        sig = types.void(out, out_off, rows, cols, image, row_len, pairs, offsets, first, last, thr, counts,
                         thr_off, levels)

        def codegen(context, builder, signature, args):
            tys = signature.args
            out_v, out_off_v, rows_v, cols_v, img_v, len_v, pairs_v, offs_v, first_v, last_v = args[:10]
            thr_v, counts_v, thr_off_v, levels_v = args[10:]
            dpwssd = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V16, [_V16] * 3),
                                                    "llvm.x86.avx512.vpdpwssd.512")
            smax = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_V16, [_V16] * 2),
                                                  "llvm.smax.v16i32")
            out_p = _data(context, builder, tys[0], out_v, _I16)
            img_p = _data(context, builder, tys[4], img_v, _I16)
            pairs_p = _data(context, builder, tys[6], pairs_v, _I32)
            offs_p = _data(context, builder, tys[7], offs_v, _I64)
            thr_p = _data(context, builder, tys[10], thr_v, _I16)
            counts_p = _data(context, builder, tys[11], counts_v, _I64)
            thr_off, nthr = _int64(context, builder, thr_off_v, tys[12]), _int64(context, builder, levels_v, tys[13])
            ctpop = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I16, [_I16]), "llvm.ctpop.i16")
            mask_t = ir.VectorType(ir.IntType(1), LANES)
            out_off, nrows, ncols, row_len, t0, t1 = (_int64(context, builder, v, ty) for v, ty in
                                                      zip(args[1:4] + (len_v, first_v, last_v),
                                                          tys[1:4] + (tys[5], tys[8], tys[9])))
            zero, one = ir.Constant(_V16, None), ir.Constant(_I64, 1)
            phase = [(a, b) for a in range(2) for b in range(2)]

            pre = builder.block
            rows_bb = builder.append_basic_block("rows")
            row_bb = builder.append_basic_block("row")
            terms_bb = builder.append_basic_block("terms")
            term_bb = builder.append_basic_block("term")
            store_bb = builder.append_basic_block("store")
            thrs_bb = builder.append_basic_block("thresholds")
            thr_bb = builder.append_basic_block("threshold")
            emit_bb = builder.append_basic_block("emit")
            done_bb = builder.append_basic_block("done")
            builder.branch(rows_bb)

            builder.position_at_end(rows_bb)
            py = builder.phi(_I64)
            py.add_incoming(ir.Constant(_I64, 0), pre)
            builder.cbranch(builder.icmp_signed("<", py, nrows), row_bb, done_bb)

            builder.position_at_end(row_bb)
            top = builder.mul(builder.add(py, py), row_len)  # input row 2py: pooling phase a = 0
            builder.branch(terms_bb)

            builder.position_at_end(terms_bb)
            t = builder.phi(_I64)
            acc = [builder.phi(_V16) for _ in phase]
            t.add_incoming(t0, row_bb)
            for a in acc:
                a.add_incoming(zero, row_bb)
            builder.cbranch(builder.icmp_signed("<", t, t1), term_bb, store_bb)

            builder.position_at_end(term_bb)
            base = builder.add(top, _load64(builder, offs_p, t))
            word = builder.load(builder.gep(pairs_p, [t]))
            splat = _splat(builder, word)
            new = []
            for (a, b), c in zip(phase, acc):
                at = builder.add(base, builder.add(builder.mul(row_len, ir.Constant(_I64, a)), ir.Constant(_I64, b)))
                vec = builder.load(builder.bitcast(builder.gep(img_p, [at]), _V16.as_pointer()), align=2)
                new.append(builder.call(dpwssd, [c, vec, splat]))
            t.add_incoming(builder.add(t, one), term_bb)
            for c, v in zip(acc, new):
                c.add_incoming(v, term_bb)
            builder.branch(terms_bb)

            builder.position_at_end(store_bb)
            best = builder.call(smax, [builder.call(smax, acc[:2]), builder.call(smax, acc[2:])])
            lane = ir.Constant(_V16, list(range(LANES)))
            cols_splat = _splat(builder, builder.trunc(ncols, _I32))
            valid = builder.icmp_signed("<", lane, cols_splat)
            builder.branch(thrs_bb)

            builder.position_at_end(thrs_bb)
            j = builder.phi(_I64)
            level = builder.phi(_V16)
            j.add_incoming(ir.Constant(_I64, 0), store_bb)
            level.add_incoming(zero, store_bb)
            builder.cbranch(builder.icmp_signed("<", j, nthr), thr_bb, emit_bb)

            builder.position_at_end(thr_bb)
            at = builder.add(thr_off, j)
            bound = builder.sext(builder.load(builder.gep(thr_p, [at])), _I32)
            bound = _splat(builder, bound)
            above = builder.icmp_signed(">=", best, bound)
            bits = builder.bitcast(builder.and_(above, valid), _I16)
            slot = builder.gep(counts_p, [at])
            builder.store(builder.add(builder.load(slot), builder.zext(builder.call(ctpop, [bits]), _I64)), slot)
            j.add_incoming(builder.add(j, one), thr_bb)
            level.add_incoming(builder.sub(level, builder.sext(above, _V16)), thr_bb)
            builder.branch(thrs_bb)

            builder.position_at_end(emit_bb)
            at = builder.add(out_off, builder.mul(py, ncols))
            builder.store(builder.trunc(level, ir.VectorType(_I16, LANES)),
                          builder.bitcast(builder.gep(out_p, [at]), ir.VectorType(_I16, LANES).as_pointer()), align=2)
            py.add_incoming(builder.add(py, one), emit_bb)
            builder.branch(rows_bb)

            builder.position_at_end(done_bb)
            return context.get_dummy_value()

        return sig, codegen

    @intrinsic
    def compress_at_least(typingctx, levels, offset, count, least, base, out_idx, out_val, n):
        """Append the ``s < count`` with ``levels[offset + s] >= least`` to ``out_idx/out_val`` from ``n``;
        returns the new ``n``.

        ``out_idx[n'] = base + s``, ``out_val[n'] = levels[offset + s]`` in flat order, 16 at a time
        (AVX-512 compress into a register, then a whole 16-lane store: both outputs need 16
        writable slots past the last entry kept); ``levels`` int16 (readable in whole 16s past
        ``count``), ``out_idx`` int32, ``out_val`` int16, int32 or float32.
        """
        if out_val.dtype not in (types.int16, types.int32, types.float32):
            return None
        sig = types.int64(levels, offset, count, least, base, out_idx, out_val, n)

        def codegen(context, builder, signature, args):
            tys = signature.args
            value_t = context.get_value_type(tys[6].dtype)
            vec_t, idx_t, mask_t = ir.VectorType(value_t, LANES), _V16, ir.VectorType(ir.IntType(1), LANES)
            lev_p = _data(context, builder, tys[0], args[0], _I16)
            idx_p = _data(context, builder, tys[5], args[5], _I32)
            val_p = _data(context, builder, tys[6], args[6], value_t)
            offset, count, least, base, n0 = (_int64(context, builder, args[i], tys[i]) for i in (1, 2, 3, 4, 7))
            pack_idx = cgutils.get_or_insert_function(builder.module, ir.FunctionType(idx_t, [idx_t, idx_t, mask_t]),
                                                      "llvm.x86.avx512.mask.compress.v16i32")
            pack_val = cgutils.get_or_insert_function(
                builder.module, ir.FunctionType(vec_t, [vec_t, vec_t, mask_t]),
                f"llvm.x86.avx512.mask.compress.v16{'f32' if tys[6].dtype == types.float32 else value_t}")
            ctpop = cgutils.get_or_insert_function(builder.module, ir.FunctionType(_I16, [_I16]), "llvm.ctpop.i16")


            lane = ir.Constant(_V16, list(range(LANES)))
            least_v = _splat(builder, builder.trunc(least, _I32))
            pre = builder.block
            loop_bb = builder.append_basic_block("chunks")
            body_bb = builder.append_basic_block("chunk")
            done_bb = builder.append_basic_block("compressed")
            builder.branch(loop_bb)

            builder.position_at_end(loop_bb)
            s = builder.phi(_I64)
            n = builder.phi(_I64)
            s.add_incoming(ir.Constant(_I64, 0), pre)
            n.add_incoming(n0, pre)
            builder.cbranch(builder.icmp_signed("<", s, count), body_bb, done_bb)

            builder.position_at_end(body_bb)
            chunk = builder.load(builder.bitcast(builder.gep(lev_p, [builder.add(offset, s)]),
                                                 ir.VectorType(_I16, LANES).as_pointer()), align=2)
            wide = builder.sext(chunk, _V16)
            position = builder.add(_splat(builder, builder.trunc(s, _I32)), lane)
            keep = builder.and_(builder.icmp_signed(">=", wide, least_v),
                                builder.icmp_signed("<", position, _splat(builder, builder.trunc(count, _I32))))
            index = builder.add(_splat(builder, builder.trunc(base, _I32)), position)
            values = {types.int16: chunk, types.int32: wide}.get(tys[6].dtype)
            if values is None:
                values = builder.sitofp(wide, vec_t)
            packed = builder.call(pack_idx, [index, ir.Constant(idx_t, None), keep])
            builder.store(packed, builder.bitcast(builder.gep(idx_p, [n]), idx_t.as_pointer()), align=4)
            packed = builder.call(pack_val, [values, ir.Constant(vec_t, None), keep])
            builder.store(packed, builder.bitcast(builder.gep(val_p, [n]), vec_t.as_pointer()), align=2)
            s.add_incoming(builder.add(s, ir.Constant(_I64, LANES)), body_bb)
            n.add_incoming(builder.add(n, builder.zext(builder.call(ctpop, [builder.bitcast(keep, _I16)]), _I64)),
                           body_bb)
            builder.branch(loop_bb)

            builder.position_at_end(done_bb)
            return n

        return sig, codegen
