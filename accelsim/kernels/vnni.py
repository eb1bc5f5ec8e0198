"""Int8 dot-product kernel for the first layer (the image): VNNI ``vpdpbusd`` through numba.

A 3x3 layer with at most four input channels reads, per output pixel and kernel row, at most
12 contiguous bytes of the padded HWC map (3 pixels x C_in channels): three dwords. Each is
broadcast and multiplied, four unsigned activation bytes by four signed weight bytes into one
int32 lane, against every output channel (``vpdpbusd``, 256 bits: 8 channels a vector); bytes
past the window meet zero weights. So a pixel costs ``9 * ceil(C_out / 8)`` instructions
whatever the weight width, needs no im2col, and leaves its sums pixel-major, the order of
the HWC output (no transpose). Exact: the products are integers summed in int32 lanes, and the
caller takes this kernel only when no window of the layer can reach the accumulator's limit
(then no pixel needs the checked pass) and every weight value fits a signed byte.

numba has no vector types; :func:`_dot_pixel` is an ``@intrinsic`` that emits the LLVM
intrinsic ``llvm.x86.avx512.vpdpbusd.256`` (selected as AVX512-VNNI/VL or AVX-VNNI), so it is
used only when numba compiles for this host and the host has one of them
(:func:`vnni_target`), never with ``NUMBA_DISABLE_JIT``.
"""

from __future__ import annotations

import functools

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import njit, prange, types
from numba.core import cgutils, config
from numba.extending import intrinsic

from accelsim.kernels.simd import wide_vectors

VNNI_GROUPS = 8  # output channels a kernel pixel call covers: 8 vectors of 8 int32 lanes
VNNI_BLOCK = 8 * VNNI_GROUPS  # 64
VNNI_ROW_BYTES = 12  # three dwords per kernel row
VNNI_KERNEL = 3

_I32 = ir.IntType(32)
_I64 = ir.IntType(64)
_V8 = ir.VectorType(_I32, 8)
_B8 = ir.VectorType(ir.IntType(8), 8)


@functools.cache
def vnni_target() -> bool:
    """Whether numba compiles for this host and the host has a 256-bit VNNI (AVX512-VNNI with
    AVX512-VL, or AVX-VNNI), with the JIT on. Read once: none of it changes in a process."""
    if config.DISABLE_JIT or config.CPU_NAME not in (None, "host"):
        return False
    features = set(llvm.get_host_cpu_features().flatten().split(","))
    return {"+avx512vnni", "+avx512vl"} <= features or "+avxvnni" in features


@intrinsic
def _dot_pixel(typingctx, xs, off, row_stride, wts, blk, acc, acc_off):  # type: ignore[no-untyped-def]  # numba's intrinsic signature
    """``acc[acc_off : acc_off + 64]`` (int32) = 64 output channels' sums over the window whose
    first byte is ``xs[off]``: per kernel row ``ky`` and dword ``d`` (bytes ``off + ky *
    row_stride + 4 d ..``), ``vpdpbusd`` of the broadcast dword against the weight vector
    ``(blk, ky, d, g)`` (8 channels x 4 signed bytes) into group ``g``'s sum, held in
    registers."""
    sig = types.void(xs, off, row_stride, wts, blk, acc, acc_off)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        xv, offv, rsv, wv, blkv, av, aoffv = args
        sums = _emit_sums(context, builder, signature, xv, offv, rsv, wv, blkv)
        aa = context.make_array(signature.args[5])(context, builder, av)
        o_ptr = builder.bitcast(builder.gep(aa.data, [aoffv]), _V8.as_pointer())
        for g in range(VNNI_GROUPS):
            builder.store(sums[g], builder.gep(o_ptr, [ir.Constant(_I64, g)]), align=4)
        return context.get_dummy_value()

    return sig, codegen


def _emit_sums(context, builder, signature, xv, offv, rsv, wv, blkv):  # type: ignore[no-untyped-def]
    """IR of the 64 channels' window sums (``VNNI_GROUPS`` vectors of 8 int32) held in
    registers: the body the two intrinsics share (``signature.args[0]`` is the map's type,
    ``[3]`` the weights')."""
    xa = context.make_array(signature.args[0])(context, builder, xv)
    wa = context.make_array(signature.args[3])(context, builder, wv)
    fnty = ir.FunctionType(_V8, [_V8, _V8, _V8])
    dp = cgutils.get_or_insert_function(builder.module, fnty, "llvm.x86.avx512.vpdpbusd.256")
    n_vec = VNNI_KERNEL * 3 * VNNI_GROUPS  # weight vectors of one 64-channel block
    w_base = builder.mul(blkv, ir.Constant(_I64, n_vec))
    w_ptr = builder.gep(builder.bitcast(wa.data, _V8.as_pointer()), [w_base])
    zero = ir.Constant(_V8, [0] * 8)
    sums = [zero] * VNNI_GROUPS
    for ky in range(VNNI_KERNEL):
        row = builder.add(offv, builder.mul(rsv, ir.Constant(_I64, ky)))
        a_ptr = builder.bitcast(builder.gep(xa.data, [row]), _I32.as_pointer())
        for d in range(3):
            a = builder.load(builder.gep(a_ptr, [ir.Constant(_I64, d)]), align=1)
            a = builder.insert_element(ir.Constant(_V8, ir.Undefined), a, ir.Constant(_I32, 0))
            a = builder.shuffle_vector(a, ir.Constant(_V8, ir.Undefined), zero)
            for g in range(VNNI_GROUPS):
                vec = builder.gep(w_ptr, [ir.Constant(_I64, (ky * 3 + d) * VNNI_GROUPS + g)])
                sums[g] = builder.call(dp, [sums[g], a, builder.load(vec, align=1)])
    return sums


@intrinsic
def _code_pixel(typingctx, xs, off, row_stride, wts, blk, thr, flip, codes, c_off):  # type: ignore[no-untyped-def]  # numba's intrinsic signature
    """:func:`_dot_pixel` with three thresholds applied in registers: the 64 codes
    ``#{q : sum ^ flip[o] >= thr[q, o]}`` go to ``codes[c_off : c_off + 64]`` (uint8), and the
    sums are never stored. ``thr``: ``(3, C_pad)`` int32, C-contiguous; ``flip``: ``(C_pad,)``;
    channel ``o`` of block ``blk`` is column ``64 blk + o``."""
    sig = types.void(xs, off, row_stride, wts, blk, thr, flip, codes, c_off)

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        xv, offv, rsv, wv, blkv, tv, fv, cv, coffv = args
        sums = _emit_sums(context, builder, signature, xv, offv, rsv, wv, blkv)
        ta = context.make_array(signature.args[5])(context, builder, tv)
        fa = context.make_array(signature.args[6])(context, builder, fv)
        ca = context.make_array(signature.args[7])(context, builder, cv)
        cpad = builder.extract_value(ta.shape, 1)
        c0 = builder.mul(blkv, ir.Constant(_I64, VNNI_BLOCK))
        f_ptr = builder.bitcast(builder.gep(fa.data, [c0]), _V8.as_pointer())
        t_ptrs = [
            builder.bitcast(
                builder.gep(ta.data, [builder.add(c0, builder.mul(cpad, ir.Constant(_I64, q)))]),
                _V8.as_pointer(),
            )
            for q in range(3)
        ]
        o_ptr = builder.bitcast(builder.gep(ca.data, [coffv]), _B8.as_pointer())
        for g in range(VNNI_GROUPS):
            gi = ir.Constant(_I64, g)
            v = builder.xor(sums[g], builder.load(builder.gep(f_ptr, [gi]), align=4))
            n = ir.Constant(_B8, [0] * 8)
            for t_ptr in t_ptrs:
                hit = builder.icmp_signed(">=", v, builder.load(builder.gep(t_ptr, [gi]), align=4))
                n = builder.add(n, builder.zext(hit, _B8))
            builder.store(n, builder.gep(o_ptr, [gi]), align=1)
        return context.get_dummy_value()

    return sig, codegen


def vnni_weights(values: np.ndarray) -> np.ndarray:
    """Weight vectors of :func:`conv_vnni` from the signed values ``(C_out, 3, 3, C_in)``
    (``C_in <= 4``, each in ``[-128, 127]``): per 64-channel block, kernel row, dword and group
    of 8 channels, 8 x 4 bytes; byte ``j`` of dword ``d`` is the weight at ``kx * C_in + c = 4 d
    + j`` of the row (zero past the row's ``3 C_in`` bytes and for the padding channels)."""
    cout, k, _, cin = values.shape
    n_blk = -(-cout // VNNI_BLOCK)
    w = np.zeros((n_blk * VNNI_BLOCK, k, VNNI_ROW_BYTES), dtype=np.int8)
    w[:cout, :, : k * cin] = values.reshape(cout, k, k * cin)
    w = w.reshape(n_blk, VNNI_GROUPS, 8, k, 3, 4).transpose(0, 3, 4, 1, 2, 5)
    return np.ascontiguousarray(w).reshape(-1)


@njit(cache=True, parallel=True)
def conv_vnni(
    xs: np.ndarray,
    row_stride: int,
    stride: int,
    px_step: int,
    wts: np.ndarray,
    thr_x: np.ndarray,
    flip: np.ndarray,
    out: np.ndarray,
    acc_out: np.ndarray,
    keep_acc: bool,
) -> None:
    """Codes (and with ``keep_acc`` the accumulators, else ``acc_out`` may be any placeholder)
    of a 3x3 layer, output rows in parallel; ``out`` has a channel per padded channel (whole
    64-channel blocks: the padding channels' codes mean nothing). ``xs``: the padded HWC map flattened, with at
    least 12 bytes of slack after it; ``row_stride``: bytes per padded row; ``px_step``: bytes
    between neighbouring output pixels' windows (``stride * C_in``); ``wts``:
    :func:`vnni_weights`. Thresholds as the combination kernel's: ``acc ^ flip[o] >= thr_x[q,
    o]`` counted over ``q`` (``thr_x`` int32, padded to a multiple of three with an unreachable
    value); ``thr_x`` and ``flip`` have a column per padded channel (whole 64-channel
    blocks). With three threshold rows and no accumulators asked for (the functional model's
    call on 1-2 bit outputs), :func:`_code_pixel` applies them in registers and no sum is
    stored."""
    ho, wo, cpad = out.shape
    n_blk = cpad // VNNI_BLOCK
    n_q = thr_x.shape[0]
    fused = n_q == 3 and not keep_acc  # thresholds in registers, no sums stored
    for yo in prange(ho):
        wide_vectors()
        acc = np.empty(0 if fused else cpad * wo, dtype=np.int32)
        t0, t1, t2 = thr_x[0], thr_x[1], thr_x[2]  # row views once per output row
        row = yo * stride * row_stride
        orow = out[yo].reshape(-1)
        if fused:
            for b in range(n_blk):
                for xo in range(wo):
                    a = xo * cpad + b * VNNI_BLOCK
                    _code_pixel(xs, row + xo * px_step, row_stride, wts, b, thr_x, flip, orow, a)
        else:
            for b in range(n_blk):  # block outer: its weight vectors stay put along the row
                for xo in range(wo):
                    a = xo * cpad + b * VNNI_BLOCK
                    _dot_pixel(xs, row + xo * px_step, row_stride, wts, b, acc, a)
            # unsigned indices: no wrap-around checks, so the constant-length loops vectorise
            for xo in range(wo):
                for b in range(n_blk):
                    c0 = np.uint64(b * VNNI_BLOCK)
                    a = np.uint64(xo * cpad) + c0
                    for o in range(np.uint64(VNNI_BLOCK)):
                        v = acc[a + o] ^ flip[c0 + o]
                        orow[a + o] = (
                            np.uint8(v >= t0[c0 + o])
                            + np.uint8(v >= t1[c0 + o])
                            + np.uint8(v >= t2[c0 + o])
                        )
                    for q in range(3, n_q, 3):
                        u0, u1, u2 = thr_x[q], thr_x[q + 1], thr_x[q + 2]
                        for o in range(np.uint64(VNNI_BLOCK)):
                            v = acc[a + o] ^ flip[c0 + o]
                            orow[a + o] += (
                                np.uint8(v >= u0[c0 + o])
                                + np.uint8(v >= u1[c0 + o])
                                + np.uint8(v >= u2[c0 + o])
                            )
        if keep_acc:
            cout = acc_out.shape[2]
            for xo in range(wo):
                a = xo * cpad
                for o in range(cout):
                    acc_out[yo, xo, o] = acc[a + o]
