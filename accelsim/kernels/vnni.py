"""Int8 dot-product kernel for the first layer (the image): VNNI ``vpdpbusd`` through numba.

A 3x3 layer with at most four input channels reads, per output pixel and kernel row, at most
12 contiguous bytes of the padded HWC map (3 pixels x C_in channels): three dwords. Each is
broadcast and multiplied, four unsigned activation bytes by four signed weight bytes into one
int32 lane, against every output channel (``vpdpbusd``); bytes past the window meet zero
weights. So a pixel costs ``9 * 64 / lanes`` instructions per 64 output channels whatever the
weight width, needs no im2col, and leaves its sums pixel-major, the order of the HWC output
(no transpose). Exact: the products are integers summed in int32 lanes, and the caller takes
this kernel only when no window of the layer can reach the accumulator's limit (then no pixel
needs the checked pass) and every weight value fits a signed byte.

One call of :func:`_pixels` covers ``n_px`` neighbouring pixels and 64 output channels: each
weight vector is loaded once for all of them, and their ``n_px * 64 / lanes`` sums are
independent chains (16 of them: enough to keep ``vpdpbusd``'s latency hidden, few enough for the
32 vector registers). With three thresholds it applies them in registers and stores only the
codes; when every sum fits int16 (the usual 16-bit accumulator), it first packs two sum vectors
into one of int16 (``vpackssdw``), so each comparison covers twice the channels. ``vpackssdw``
interleaves its operands per 128-bit lane; the weights are laid out so that the packed lanes come
out in channel order (:func:`pack_order`).

numba has no vector types; :func:`_pixels` is an ``@intrinsic`` emitting the LLVM intrinsics
``llvm.x86.avx512.vpdpbusd.{256,512}`` and the ``packssdw`` of the same width, so it is used
only when numba compiles for this host and the host has VNNI (:func:`vnni_lanes`: 512-bit with
AVX512-VNNI and AVX512-BW, else 256-bit with AVX512-VNNI/VL or AVX-VNNI), never with
``NUMBA_DISABLE_JIT``.
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

VNNI_BLOCK = 64  # output channels a kernel call covers
VNNI_ROW_BYTES = 12  # three dwords per kernel row
VNNI_KERNEL = 3
VNNI_CHAINS = 16  # independent sums per call: pixels x (64 / lanes)
#: the packed (int16) thresholds need every window's sum bound below this
VNNI_INT16_LIMIT = (1 << 15) - 1

_I8 = ir.IntType(8)
_I16 = ir.IntType(16)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


@functools.cache
def vnni_lanes() -> int:
    """int32 lanes of this host's ``vpdpbusd`` as numba compiles it: 16 with AVX512-VNNI and
    AVX512-BW (512-bit vectors), 8 with AVX512-VNNI and AVX512-VL or AVX-VNNI (256-bit), 0
    without VNNI, without the JIT or when numba compiles for another CPU. Read once: none of
    it changes in a process."""
    if config.DISABLE_JIT or config.CPU_NAME not in (None, "host"):
        return 0
    features = set(llvm.get_host_cpu_features().flatten().split(","))
    if {"+avx512vnni", "+avx512bw", "+avx512vl"} <= features:
        return 16
    if {"+avx512vnni", "+avx512vl"} <= features or "+avxvnni" in features:
        return 8
    return 0


def vnni_target() -> bool:
    """Whether this host runs :func:`conv_vnni` (:func:`vnni_lanes` is not 0)."""
    return vnni_lanes() > 0


def pack_order(lanes: int) -> np.ndarray:
    """``order[g * lanes + j]``: the channel (of a 64-channel block) that lane ``j`` of sum
    vector ``g`` holds when the sums are to be packed, so that ``vpackssdw`` of vectors ``2h``
    and ``2h + 1`` (four lanes of each per 128-bit lane, in turn) gives channels ``2 h lanes
    ..`` in order."""
    g, j = np.divmod(np.arange(VNNI_BLOCK), lanes)
    return 2 * lanes * (g // 2) + 8 * (j // 4) + 4 * (g % 2) + j % 4


def _vec(elem: ir.Type, n: int) -> ir.VectorType:
    return ir.VectorType(elem, n)


@intrinsic
def _pixels(
    typingctx, lanes, n_px, xs, off, step, row_stride, wts, blk, thr, flip, dst, d_off, d_step
):  # type: ignore[no-untyped-def]  # numba's intrinsic signature
    """One 64-channel block (``blk``) of ``n_px`` pixels whose windows start at bytes ``off +
    p * step`` of ``xs``, per kernel row ``ky`` at ``+ ky * row_stride``; ``lanes`` and
    ``n_px`` are compile-time constants. With an int32 ``dst``, the sums go to ``dst[d_off +
    p * d_step ..][:64]`` (``thr`` and ``flip`` unused). With a uint8 ``dst``, the codes
    ``#{q : sum ^ flip[o] >= thr[q, o]}`` over the three rows of ``thr`` ((3, C_pad), C-
    contiguous, column ``64 blk + o`` for channel ``o``) go there and no sum is stored; an
    int16 ``thr`` (and ``flip``) means every sum fits int16: they are packed first, and the
    weights must follow :func:`pack_order`."""
    if not isinstance(lanes, types.IntegerLiteral) or not isinstance(n_px, types.IntegerLiteral):
        return None  # numba retries with the literal values
    n_lanes, n_pix = lanes.literal_value, n_px.literal_value
    sig = types.void(
        lanes, n_px, xs, off, step, row_stride, wts, blk, thr, flip, dst, d_off, d_step
    )

    def codegen(context, builder, signature, args):  # type: ignore[no-untyped-def]
        _, _, xv, offv, stepv, rsv, wv, blkv, tv, fv, dv, doffv, dstepv = args
        sums = _emit_sums(context, builder, n_lanes, xs, wts, xv, offv, stepv, n_pix, rsv, wv, blkv)
        da = context.make_array(dst)(context, builder, dv)
        outs = [
            builder.gep(da.data, [builder.add(doffv, builder.mul(dstepv, ir.Constant(_I64, p)))])
            for p in range(n_pix)
        ]
        if dst.dtype == types.int32:
            vt = _vec(_I32, n_lanes)
            for px_sums, o in zip(sums, outs, strict=True):
                o_ptr = builder.bitcast(o, vt.as_pointer())
                for g, s in enumerate(px_sums):
                    builder.store(s, builder.gep(o_ptr, [ir.Constant(_I64, g)]), align=4)
        else:
            ta = context.make_array(thr)(context, builder, tv)
            fa = context.make_array(flip)(context, builder, fv)
            _emit_codes(builder, n_lanes, thr.dtype == types.int16, sums, ta, fa, blkv, outs)
        return context.get_dummy_value()

    return sig, codegen


def _emit_sums(context, builder, lanes, x_ty, w_ty, xv, offv, stepv, n_px, rsv, wv, blkv):  # type: ignore[no-untyped-def]
    """IR of the window sums of :func:`_pixels`: per pixel, ``64 / lanes`` vectors of int32,
    held in registers."""
    vt = _vec(_I32, lanes)
    n_grp = VNNI_BLOCK // lanes
    xa = context.make_array(x_ty)(context, builder, xv)
    wa = context.make_array(w_ty)(context, builder, wv)
    dp = cgutils.get_or_insert_function(
        builder.module, ir.FunctionType(vt, [vt, vt, vt]), f"llvm.x86.avx512.vpdpbusd.{32 * lanes}"
    )
    n_vec = VNNI_KERNEL * 3 * n_grp  # weight vectors of one block
    w_ptr = builder.gep(
        builder.bitcast(wa.data, vt.as_pointer()), [builder.mul(blkv, ir.Constant(_I64, n_vec))]
    )
    offs = [builder.add(offv, builder.mul(stepv, ir.Constant(_I64, p))) for p in range(n_px)]
    zero = ir.Constant(vt, [0] * lanes)
    sums = [[zero] * n_grp for _ in offs]
    for ky in range(VNNI_KERNEL):
        ky_off = builder.mul(rsv, ir.Constant(_I64, ky))
        rows = [
            builder.bitcast(builder.gep(xa.data, [builder.add(o, ky_off)]), _I32.as_pointer())
            for o in offs
        ]
        for d in range(3):
            acts = []  # each pixel's dword, broadcast
            for r in rows:
                a = builder.load(builder.gep(r, [ir.Constant(_I64, d)]), align=1)
                a = builder.insert_element(ir.Constant(vt, ir.Undefined), a, ir.Constant(_I32, 0))
                acts.append(builder.shuffle_vector(a, ir.Constant(vt, ir.Undefined), zero))
            for g in range(n_grp):
                w_vec = builder.gep(w_ptr, [ir.Constant(_I64, (ky * 3 + d) * n_grp + g)])
                w = builder.load(w_vec, align=1)
                for p, a in enumerate(acts):
                    sums[p][g] = builder.call(dp, [sums[p][g], a, w])
    return sums


def _emit_codes(builder, lanes, narrow, sums, ta, fa, blkv, outs):  # type: ignore[no-untyped-def]
    """IR of :func:`_pixels`' codes: per vector of ``width`` channels (``2 lanes`` int16 when
    ``narrow``, else ``lanes`` int32), ``sum ^ flip`` compared with the three threshold rows in
    registers and the counts stored as bytes."""
    width = 2 * lanes if narrow else lanes
    vt = _vec(_I16 if narrow else _I32, width)
    ct = _vec(_I8, width)
    cpad = builder.extract_value(ta.shape, 1)
    c0 = builder.mul(blkv, ir.Constant(_I64, VNNI_BLOCK))

    def row(data, start):  # type: ignore[no-untyped-def]
        return builder.load(builder.bitcast(builder.gep(data, [start]), vt.as_pointer()), align=1)

    limits = []  # per vector: flip and the three thresholds, loaded once for all the pixels
    for v in range(VNNI_BLOCK // width):
        col = builder.add(c0, ir.Constant(_I64, v * width))
        ts = [
            row(ta.data, builder.add(col, builder.mul(cpad, ir.Constant(_I64, q))))
            for q in range(3)
        ]
        limits.append((row(fa.data, col), ts))
    if narrow:
        wt = _vec(_I32, lanes)
        name = "llvm.x86.avx512.packssdw.512" if lanes == 16 else "llvm.x86.avx2.packssdw"
        pack = cgutils.get_or_insert_function(builder.module, ir.FunctionType(vt, [wt, wt]), name)
        sums = [
            [builder.call(pack, [s[2 * v], s[2 * v + 1]]) for v in range(len(s) // 2)] for s in sums
        ]
    for px_vecs, o in zip(sums, outs, strict=True):
        for v, (s, (f, ts)) in enumerate(zip(px_vecs, limits, strict=True)):
            s = builder.xor(s, f)
            n = ir.Constant(ct, [0] * width)
            for t in ts:
                n = builder.add(n, builder.zext(builder.icmp_signed(">=", s, t), ct))
            dst = builder.gep(o, [ir.Constant(_I64, v * width)])
            builder.store(n, builder.bitcast(dst, ct.as_pointer()), align=1)


def vnni_weights(values: np.ndarray, packed_lanes: int = 0) -> np.ndarray:
    """Weight vectors of :func:`conv_vnni` from the signed values ``(C_out, 3, 3, C_in)``
    (``C_in <= 4``, each in ``[-128, 127]``): per 64-channel block, kernel row and dword, one
    int32 lane per channel (4 bytes); byte ``j`` of dword ``d`` is the weight at ``kx * C_in +
    c = 4 d + j`` of the row (zero past the row's ``3 C_in`` bytes and for the padding
    channels). Channels in order, or with ``packed_lanes`` in their :func:`pack_order` (for
    the int16 thresholds)."""
    cout, k, _, cin = values.shape
    n_blk = -(-cout // VNNI_BLOCK)
    w = np.zeros((n_blk, VNNI_BLOCK, k, VNNI_ROW_BYTES), dtype=np.int8)
    w.reshape(-1, k, VNNI_ROW_BYTES)[:cout, :, : k * cin] = values.reshape(cout, k, k * cin)
    if packed_lanes:
        w = w[:, pack_order(packed_lanes)]
    return np.ascontiguousarray(
        w.reshape(n_blk, VNNI_BLOCK, k, 3, 4).transpose(0, 2, 3, 1, 4)
    ).reshape(-1)


#: int32 lanes :func:`conv_vnni` is compiled for (a compile-time constant; 8 where it never
#: runs), and the pixels of one :func:`_pixels` call: 4 with 512-bit vectors, 2 with 256
VNNI_LANES = vnni_lanes() or 8
_N_PX = VNNI_CHAINS * VNNI_LANES // VNNI_BLOCK


@njit(cache=True)
def _row(
    xs: np.ndarray,
    row: int,
    px_step: int,
    row_stride: int,
    wts: np.ndarray,
    thr_x: np.ndarray,
    flip: np.ndarray,
    dst: np.ndarray,
    n_blk: int,
) -> None:
    """One output row of :func:`conv_vnni` into ``dst`` (its codes, uint8, or its sums,
    int32; pixel-major, ``n_blk`` blocks of 64 channels a pixel), its windows starting at byte
    ``row`` of ``xs``: ``_N_PX`` pixels a call, the rest one by one."""
    wide_vectors()  # 512-bit vectors legal in this function (the intrinsics use them)
    cpad = n_blk * VNNI_BLOCK
    wo = dst.size // cpad
    n_full = wo - wo % _N_PX
    for b in range(n_blk):  # block outer: its weight vectors stay put along the row
        for xo in range(0, n_full, _N_PX):
            a = xo * cpad + b * VNNI_BLOCK
            off = row + xo * px_step
            _pixels(
                VNNI_LANES, _N_PX, xs, off, px_step, row_stride, wts, b, thr_x, flip, dst, a, cpad
            )
        for xo in range(n_full, wo):
            a = xo * cpad + b * VNNI_BLOCK
            off = row + xo * px_step
            _pixels(VNNI_LANES, 1, xs, off, px_step, row_stride, wts, b, thr_x, flip, dst, a, cpad)


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
    64-channel blocks: the padding channels' codes mean nothing). ``xs``: the padded HWC map
    flattened, with at least 12 bytes of slack after it; ``row_stride``: bytes per padded row;
    ``px_step``: bytes between neighbouring output pixels' windows (``stride * C_in``);
    ``wts``: :func:`vnni_weights`. Thresholds as the combination kernel's: ``acc ^ flip[o] >=
    thr_x[q, o]`` counted over ``q`` (``thr_x`` int32 or int16, padded to a multiple of three
    with an unreachable value); ``thr_x`` and ``flip`` have a column per padded channel. With
    three threshold rows and no accumulators asked for (the functional model's call on 1-2 bit
    outputs), :func:`_pixels` applies them in registers and no sum is stored; int16
    thresholds (every sum fits int16) take the packed form, with ``wts`` in
    :func:`pack_order`."""
    ho, wo, cpad = out.shape
    n_blk = cpad // VNNI_BLOCK
    n_q = thr_x.shape[0]
    fused = n_q == 3 and not keep_acc  # thresholds in registers, no sums stored
    for yo in prange(ho):
        wide_vectors()
        row = yo * stride * row_stride
        if fused:
            _row(xs, row, px_step, row_stride, wts, thr_x, flip, out[yo].reshape(-1), n_blk)
        else:
            acc = np.empty(cpad * wo, dtype=np.int32)
            _row(xs, row, px_step, row_stride, wts, thr_x, flip, acc, n_blk)
            # unsigned indices: no wrap-around checks, so the constant-length loops vectorise
            orow = out[yo].reshape(-1)
            t0, t1, t2 = thr_x[0], thr_x[1], thr_x[2]
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
