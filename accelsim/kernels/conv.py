"""Bit-exact functional model of the conv core datapath, any kernel size up to 9x9.

Spec: ``shared/spec/conv-core.md`` §2 (numbers), §3.4 (PE array order) and §7.2 (other kernel
sizes on the 3x3 array).

:func:`conv_core` computes one layer on unpacked integer codes exactly as the PE array does;
:func:`conv3x3` is the generation-1 layer (3x3, padding 0 or 1), the same numbers.

* output pixels in raster order; the input window of output ``(y, x)`` is rows
  ``s*y - p .. s*y - p + k - 1`` and columns ``s*x - p .. s*x - p + k - 1`` (zero padding);
* for each pixel and output channel the signed ``accumulator_bits`` accumulator is cleared, then
  adds, once per PE cycle, the exact partial sum of that cycle (below); each addition saturates
  (``overflow="saturate"``) or wraps two's-complement (``"wrap"``);
* an *overflow event* is one addition (per output channel, per cycle) whose exact result left
  ``[-2^(B-1), 2^(B-1) - 1]``; all are counted, and the first in hardware order is reported:
  pixel raster, then ``ob = c // oc_batch``, then the cycle inside ``(y, x, ob)``, then the lowest
  channel;
* the final accumulator goes through the per-channel thresholds (§2, FINN MultiThreshold):
  ``out = #{q: acc >= T[c, q]}``, or ``#{q: acc <= T[c, q]}`` for a ``negative`` channel.

Cycles of one ``(y, x, ob)`` (§7.2, the lead's order)
-----------------------------------------------------
A ``k x k`` kernel runs as ``d^2`` sub-kernels, ``d = ceil(k/3)``: sub-kernel ``(a, b)`` holds the
taps of rows ``3a .. 3a+2`` and columns ``3b .. 3b+2``; taps beyond ``k`` are masked (add 0). From
first to last::

    for a in range(d):                       # sub-kernel row, outer
        for b in range(d):                   # sub-kernel column
            for j in range(ceil(A/Ac)):      # activation chunk (bit-serial pass)
                for i in range(ceil(W/Wc)):  # weight chunk
                    for ib in range(n_ib):   # input-channel slice, innermost
                        acc += psum(a, b, x_j, w_i, ib) << (j*Ac + i*Wc)   # saturate / wrap

``psum`` is the exact sum over the ``ic_batch`` channels of slice ``ib`` and the (up to) 3 x 3 taps
of sub-kernel ``(a, b)``. So cycle ``t = ((((a*d + b) * ceil(A/Ac) + j) * ceil(W/Wc) + i) * n_ib +
ib``; with ``k = 3`` (``d = 1``) this is the generation-1 order of §2 / §3.4, and ``k = 1`` uses
the centre tap only (one ib group per cycle). With ``pack_1x1`` (``k = 1`` only) the nine tap
positions take nine consecutive ib groups of the same pixel: the innermost loop runs over steps
``q = 0 .. ceil(n_ib/9) - 1`` and step ``q`` adds, in one addition, the exact partial sum over ib
groups ``9q .. min(n_ib, 9q + 9) - 1`` (all their channels).

Bit-serial layers (§2, "wider layers")
--------------------------------------
With ``feature_bits > core_feature_bits`` or ``weight_bits > core_weight_bits`` every sub-kernel
runs in ``ceil(A/Ac) * ceil(W/Wc)`` passes (order above). The chunk decompositions (exact, so the
sum of all passes is the wide product and the result equals one wide pass while nothing
overflows):

* activations (unsigned): ``x = sum_j x_j 2^(j Ac)``, ``x_j = (x >> j Ac) & (2^Ac - 1)``;
* ``dorefa`` weights, code ``n``, value ``2n - (2^W - 1)``: the code splits into chunks
  ``n_i = (n >> i Wc) & (2^b_i - 1)`` with ``b_i = Wc`` except the top chunk, which has the
  remaining ``b = W - (m-1) Wc`` bits; each chunk contributes the *dorefa value of its own width*
  ``w_i = 2 n_i - (2^b_i - 1)`` (an odd integer the Wc-bit dorefa core can hold), and indeed
  ``sum_i w_i 2^(i Wc) = 2n - (2^W - 1)``;
* ``twos_complement`` weights, value ``v``: the low chunks are unsigned,
  ``w_i = (v >> i Wc) & (2^Wc - 1)`` for ``i < m - 1``, and the top chunk is signed,
  ``w_(m-1) = v >> (m-1) Wc`` (arithmetic shift). The low chunks are thus unsigned magnitudes
  (the PE's bit-serial mode reads them so, as in BISMO-style bit-serial arithmetic): a signed
  ``Wc``-bit digit set cannot represent every value, e.g. ``Wc = 1`` digits ``{-1, 0}``.

Grouped convolutions, output-channel tiles, column strips and fc layers need nothing here: the
caller slices channels / columns (views are fine: the kernels copy what they read) and calls the
kernel once per pass, so the first overflow comes out per pass.

Implementation
--------------
Private ``@njit(cache=True, parallel=True)`` kernels run output rows in parallel (``prange``);
each row records its own overflow count and first event and the wrapper reduces rows in order,
so the report does not depend on thread scheduling. Per output pixel the kernel first bounds
every partial accumulator: each term ``x_j w_i 2^shift`` has the sign of ``w_i`` (``x_j >= 0``),
so ``|acc| <= S_x * M_w`` with ``S_x`` the window's activation sum and ``M_w`` the largest
positive or negative part of ``sum_i w_i 2^(i Wc)`` over all codes (``2^W - 1`` for ``dorefa``,
``2^(W-1)`` for ``twos_complement``); this holds for every prefix of the cycle order whatever the
sub-kernels, passes and slices. If that bound fits the accumulator no addition can overflow, and
the pixel is computed as one exact dot product per channel over the whole ``k x k`` window (fast
path); otherwise every cycle's partial sum is formed (vectorised over the output channels) and
the additions are replayed in hardware order with saturation / wrap (checked path). The fast dot
product is

* bit-plane / popcount for feature and weight widths <= 2: channels packed 64 per uint64 word,
  ``x = sum_a 2^a X_a`` (activation planes), code bits ``N_b``;
  ``dorefa``: ``sum x v = sum_{a,b} 2^(a+b+1) popcount(X_a & N_b) - (2^W - 1) S_x``;
  ``twos_complement``: ``sum x v = sum_{a,b} +-2^(a+b) popcount(X_a & N_b)`` (``-`` for the top
  bit ``b = W - 1``); the popcount is the SWAR bit trick, which LLVM turns into ``popcnt``;
* int8 dot products (:mod:`accelsim.kernels.vnni`), for 3 x 3 kernels with at most four input
  channels (the first layer's image; chosen first) on a host whose VNNI numba can reach, when
  the weight values fit a signed byte and no window of the layer can reach the accumulator's
  limit: per pixel and kernel row three dwords of the padded map against every output
  channel, int32 sums left pixel-major (no transpose), four pixels a call on 512-bit vectors
  (two on 256), three thresholds applied in registers (on sums packed to int16 where they
  fit);
* combination, for kernels up to 3 x 3 with at most ``PLANAR_MAX_CIN`` input channels (the
  first layer's image; chosen before the popcount) and weights up to ``COMBO_MAX_BITS`` bits:
  vectorised over an output row's pixels; per input row and chunk of ``g = min(C_in, 6 // W)``
  channels the sums ``sum_i v(n_i) x_i`` over every combination of the chunk's weight codes
  ``n_i`` (``2^(W g) <= 64`` of them) are formed once, so ``sum x v`` of an output channel is
  one run per (tap, chunk) added up: additions only, no weight planes, no ``S_x`` offset (one
  pass for 2-bit weights), in 16- or 32-bit lanes that wrap (exact on the pixels whose bound
  fits the lane); the combinations are built in a ring of ``k`` input rows per block of output
  rows, the blocks in parallel;
* planar, any widths (wider weights, same few channels and kernels; 1 x 1 goes to the tables
  then): vectorised over an output row's
  pixels; the sums over every subset of each chunk of three channels are formed once per input
  row, and ``sum x v = sum_b c_b T_b + c S_x`` (the plane coefficients above) adds, per output
  channel and weight bit plane ``b``, one such run per (tap, chunk): additions only, in 16- or
  32-bit lanes that wrap (exact on the pixels whose bound fits the lane);
* an integer multiply-add vectorised over the output channels for other widths, in 16-bit lanes
  when no window of the layer can reach ``2^15`` (wrapping lanes are exact then), else 32 or 64.

All arithmetic is integer (no fastmath). :mod:`accelsim.kernels.ref` is the numpy oracle.
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numba
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from accelsim.errors import AccelsimError
from accelsim.kernels.formats import MAX_BITS, WEIGHT_ENCODINGS
from accelsim.kernels.simd import byte_bits, some_bits, wide_vectors
from accelsim.kernels.vnni import (
    VNNI_BLOCK,
    VNNI_INT16_LIMIT,
    VNNI_KERNEL,
    VNNI_LANES,
    VNNI_ROW_BYTES,
    conv_vnni,
    vnni_target,
    vnni_weights,
)

__all__ = ["MAX_KERNEL", "ConvResult", "conv3x3", "conv_core", "output_size", "set_threads"]

MAX_ACCUMULATOR_BITS = 62
MAX_KERNEL = 9
OVERFLOW_MODES: tuple[str, ...] = ("saturate", "wrap")
PACK_1X1_GROUPS = 9  # ib groups one packed 1x1 step takes (the nine tap positions of the PE)
_IM2COL_MAX_BYTES = 1 << 28  # cap of the im2col byte copy (beyond it windows are gathered)
PLANAR_MAX_CIN = 8  # auto: combo / planar kernels for k <= 3 and up to this many input channels
COMBO_MAX_BITS = 6  # combination sums: at most 2^6 per chunk of channels and input pixel
COMBO_BLOCKS_PER_THREAD = 2  # the combination kernel's row blocks (each builds its rows once)

_M1 = np.uint64(0x5555555555555555)
_M2 = np.uint64(0x3333333333333333)
_M4 = np.uint64(0x0F0F0F0F0F0F0F0F)
_H01 = np.uint64(0x0101010101010101)
_S1 = np.uint64(1)
_S2 = np.uint64(2)
_S4 = np.uint64(4)
_S56 = np.uint64(56)
_LO32 = np.uint64(0x00000000FFFFFFFF)
_HI32 = np.uint64(0xFFFFFFFF00000000)
_MASK16 = np.uint64(0x0000FFFF0000FFFF)
_MASK8 = np.uint64(0x00FF00FF00FF00FF)


class ConvResult(NamedTuple):
    """Result of :func:`conv_core` / :func:`conv3x3`."""

    out: np.ndarray
    """Output activation codes, ``(H_o, W_o, C_out)`` uint8."""
    overflow_count: int
    """Number of accumulator additions whose exact result left the accumulator range."""
    first_overflow: tuple[int, int, int] | None
    """``(y, x, c)`` of the first overflow event in hardware order, or ``None``."""
    acc: np.ndarray | None
    """Final accumulator values (after saturation / wrap), ``(H_o, W_o, C_out)``, in the narrowest
    of int16 / int32 / int64 that holds ``accumulator_bits``; possibly a non-contiguous view.
    ``None`` when the call asked for none (``with_acc=False``)."""


def output_size(size: int, stride: int, padding: int, kernel: int = 3) -> int:
    """``floor((size + 2p - k) / s) + 1`` (spec §2, §7.2); < 1 means the layer has no output."""
    return (size + 2 * padding - kernel) // stride + 1


# ----------------------------------------------------------------------------------------------
# popcount: pure Python when NUMBA_DISABLE_JIT, the SWAR bit trick (-> popcnt) when jitted


def _popcount(x: np.uint64) -> int:
    """Number of set bits of a uint64 (pure-Python path, used with ``NUMBA_DISABLE_JIT=1``)."""
    return int(x).bit_count()


@overload(_popcount, jit_options={"cache": True})
def _popcount_jit(x):  # type: ignore[no-untyped-def]  # numba wants the bare signature
    if isinstance(x, types.Integer):

        def impl(x):  # type: ignore[no-untyped-def]
            v = np.uint64(x)
            v = v - ((v >> _S1) & _M1)
            v = (v & _M2) + ((v >> _S2) & _M2)
            v = (v + (v >> _S4)) & _M4
            return np.int64((v * _H01) >> _S56)

        return impl
    return None


# ----------------------------------------------------------------------------------------------
# a narrowing store that wraps, jitted or not


def _store_wrapped(dst: np.ndarray, i: int, v: int) -> None:
    """``dst[i] = v`` wrapped into ``dst``'s integer type, as jitted code stores (pure-Python
    path: numpy refuses an out-of-range scalar store)."""
    dst[i] = np.asarray(v).astype(dst.dtype)


@overload(_store_wrapped, jit_options={"cache": True})
def _store_wrapped_jit(dst, i, v):  # type: ignore[no-untyped-def]  # numba wants the bare signature
    def impl(dst, i, v):  # type: ignore[no-untyped-def]
        dst[i] = v

    return impl


# ----------------------------------------------------------------------------------------------
# per-pixel pieces shared by the kernels


@njit(cache=True)
def _checked_pixel(
    xc: np.ndarray,
    wct: np.ndarray,
    shifts: np.ndarray,
    k: int,
    group: int,
    y0: int,
    x0: int,
    oc_batch: int,
    lo: int,
    hi: int,
    wrap: bool,
    ps: np.ndarray,
    acc: np.ndarray,
) -> tuple[int, int]:
    """Replay every PE cycle of one output pixel; return (events, key of the first event).

    ``xc``: (ma, Hp, Wp, C) activation chunks; ``wct``: (mw, k*k, C, C_out) weight chunk values;
    ``group``: channels per cycle (``ic_batch``, times 9 for a packed 1x1); ``ps``: scratch of at
    least (n_cycles, C_out), wide enough for one cycle's partial sum. The partial sums of all
    cycles are formed first (channel loop innermost, vectorised), then added in cycle order.
    The key ``((ob * n_cycles + t) * C_out + c)`` orders events in hardware order (-1: none).
    """
    ma = xc.shape[0]
    mw = wct.shape[0]
    cin = xc.shape[3]
    cout = wct.shape[3]
    d = (k + 2) // 3
    n_g = (cin + group - 1) // group
    n_pass = ma * mw
    n_cycles = d * d * n_pass * n_g
    for t in range(n_cycles):
        for o in range(cout):
            ps[t, o] = 0
    for a in range(d):
        for b in range(d):
            sub = a * d + b
            for ty in range(3 * a, min(3 * a + 3, k)):
                for tx in range(3 * b, min(3 * b + 3, k)):
                    tap = ty * k + tx
                    for j in range(ma):
                        xrow = xc[j, y0 + ty, x0 + tx]
                        for c in range(cin):
                            xv = np.int64(xrow[c])
                            if xv == 0:
                                continue
                            g = c // group
                            for i in range(mw):
                                prow = ps[((sub * ma + j) * mw + i) * n_g + g]
                                wr = wct[i, tap, c]
                                for o in range(cout):
                                    prow[o] += xv * wr[o]
    span = hi - lo + 1
    events = 0
    best = -1
    for o in range(cout):
        s = 0
        first_t = -1
        for t in range(n_cycles):
            v = s + (np.int64(ps[t, o]) << shifts[(t // n_g) % n_pass])
            if v < lo or v > hi:
                events += 1
                if first_t < 0:
                    first_t = t
                if wrap:
                    v = (v - lo) % span + lo
                elif v < lo:
                    v = lo
                else:
                    v = hi
            s = v
        acc[o] = s
        if first_t >= 0:
            key = ((o // oc_batch) * n_cycles + first_t) * cout + o
            if best < 0 or key < best:
                best = key
    return events, best


@njit(cache=True, inline="always")
def _finish_pixel(
    acc: np.ndarray,
    thr_t: np.ndarray,
    sign: np.ndarray,
    out: np.ndarray,
    acc_out: np.ndarray,
    yo: int,
    xo: int,
    cnt: np.ndarray,
) -> None:
    """Store ``acc`` and the threshold unit's codes ``#{q : sign[o] * acc[o] >= thr_t[q, o]}``
    (``thr_t = sign * T``, transposed) at output pixel ``(yo, xo)``, counted in ``cnt`` (int64,
    ``C_out``): one byte store per channel. Plain index loops, channel loop innermost: no array
    views (each costs reference counting per pixel)."""
    cout = acc.shape[0]
    for o in range(cout):
        acc_out[yo, xo, o] = acc[o]
        cnt[o] = 0
    for q in range(thr_t.shape[0]):
        for o in range(cout):
            cnt[o] += sign[o] * acc[o] >= thr_t[q, o]
    for o in range(cout):
        out[yo, xo, o] = np.uint8(cnt[o])


# ----------------------------------------------------------------------------------------------
# the kernels: identical except for the fast dot product


PLANE_CHUNK = 3  # weight words per pass of _accumulate_planes (wbt is padded to it)
# _conv_popcount's window layouts: taps gathered from the padded planes, word t * nw + w; whole
# windows packed densely (im2col); 3 x 3 windows read in place, chunk (ky, w) = word w of taps
# (ky, 0..2), A = 2 (_accumulate_rows3)
LAYOUT_TAPS, LAYOUT_IM2COL, LAYOUT_ROWS = 0, 1, 2


@njit(cache=True, inline="always")
def _pc2(x0: np.uint64, x1: np.uint64, v: np.uint64) -> int:
    """``popcount(X_0 & v) + 2 popcount(X_1 & v)``."""
    return _popcount(x0 & v) + (_popcount(x1 & v) << 1)


@njit(cache=True)
def _accumulate_planes(
    win: np.ndarray, wbt: np.ndarray, twos: bool, n_px: int, sums: np.ndarray
) -> None:
    """``sums[p, o] = S_0 + 2 S_1`` (dorefa) or ``S_0 - 2 S_1`` (two's complement) for the
    windows ``win[p]`` (``p < n_px``, at most 2, sharing every weight load), with
    ``S_b = sum_w popcount(X_0 & N_b) + 2 popcount(X_1 & N_b)`` (no ``N_1`` for 1-bit weights).
    The words go ``PLANE_CHUNK`` at a time (``wbt``'s word count is a multiple of it), their
    activation words held in locals: the channel loop, innermost, is vectorised by LLVM and
    updates ``sums`` once per chunk, not per word. A chunk of zero activation words (padding,
    ReLU zeros) is skipped."""
    wide_vectors()
    cout = sums.shape[1]
    n_words = wbt.shape[0]
    two_b = wbt.shape[1] == 2
    su = np.int64(-2 if twos else 2)  # the weight's top bit plane counts -2 or +2
    for p in range(n_px):
        for o in range(cout):
            sums[p, o] = 0
    for w0 in range(0, n_words, PLANE_CHUNK):
        a0, a1, b0, b1 = win[0, 0, w0], win[0, 1, w0], win[1, 0, w0], win[1, 1, w0]
        w1 = w0 + 1
        c0, c1, d0, d1 = win[0, 0, w1], win[0, 1, w1], win[1, 0, w1], win[1, 1, w1]
        w2 = w0 + 2
        e0, e1, f0, f1 = win[0, 0, w2], win[0, 1, w2], win[1, 0, w2], win[1, 1, w2]
        if (a0 | a1 | b0 | b1 | c0 | c1 | d0 | d1 | e0 | e1 | f0 | f1) == 0:
            continue
        for o in range(cout):
            v, vv, vvv = wbt[w0, 0, o], wbt[w1, 0, o], wbt[w2, 0, o]
            sums[0, o] += _pc2(a0, a1, v) + _pc2(c0, c1, vv) + _pc2(e0, e1, vvv)
            sums[1, o] += _pc2(b0, b1, v) + _pc2(d0, d1, vv) + _pc2(f0, f1, vvv)
        if two_b:
            for o in range(cout):
                u, uu, uuu = wbt[w0, 1, o], wbt[w1, 1, o], wbt[w2, 1, o]
                sums[0, o] += su * (_pc2(a0, a1, u) + _pc2(c0, c1, uu) + _pc2(e0, e1, uuu))
                sums[1, o] += su * (_pc2(b0, b1, u) + _pc2(d0, d1, uu) + _pc2(f0, f1, uuu))


@njit(cache=True)
def _accumulate_rows3(
    xw: np.ndarray, y0: int, xa: int, xb: int, pair: bool, wbt: np.ndarray, twos: bool,
    sums: np.ndarray,
) -> None:  # fmt: skip
    """:func:`_accumulate_planes` for 3 x 3 windows and two activation planes, read straight
    from the padded planes ``xw`` (no gathered copy): pixel 0's window at columns ``xa ..``,
    pixel 1's at ``xb ..`` (``pair`` False: pixel 1 adds nothing). A chunk of three words is
    word ``w`` of kernel row ``ky``'s three taps; ``wbt`` holds them side by side, chunk
    ``ky * nw + w`` (the "rows" layout of :func:`_conv`)."""
    wide_vectors()
    cout = sums.shape[1]
    two_b = wbt.shape[1] == 2
    su = np.int64(-2 if twos else 2)  # the weight's top bit plane counts -2 or +2
    zero = np.uint64(0)
    for p in range(2):
        for o in range(cout):
            sums[p, o] = 0
    nw = xw.shape[3]
    for ky in range(3):
        r = y0 + ky
        for w in range(nw):
            a0, a1 = xw[r, xa, 0, w], xw[r, xa, 1, w]
            c0, c1 = xw[r, xa + 1, 0, w], xw[r, xa + 1, 1, w]
            e0, e1 = xw[r, xa + 2, 0, w], xw[r, xa + 2, 1, w]
            b0, b1, d0, d1, f0, f1 = zero, zero, zero, zero, zero, zero
            if pair:
                b0, b1 = xw[r, xb, 0, w], xw[r, xb, 1, w]
                d0, d1 = xw[r, xb + 1, 0, w], xw[r, xb + 1, 1, w]
                f0, f1 = xw[r, xb + 2, 0, w], xw[r, xb + 2, 1, w]
            if (a0 | a1 | b0 | b1 | c0 | c1 | d0 | d1 | e0 | e1 | f0 | f1) == 0:
                continue
            w0 = 3 * (ky * nw + w)
            w1 = w0 + 1
            w2 = w0 + 2
            if not two_b:
                for o in range(cout):
                    v, vv, vvv = wbt[w0, 0, o], wbt[w1, 0, o], wbt[w2, 0, o]
                    sums[0, o] += _pc2(a0, a1, v) + _pc2(c0, c1, vv) + _pc2(e0, e1, vvv)
                    sums[1, o] += _pc2(b0, b1, v) + _pc2(d0, d1, vv) + _pc2(f0, f1, vvv)
                continue
            for o in range(cout):  # both weight planes in one pass: sums loaded, stored once
                v, vv, vvv = wbt[w0, 0, o], wbt[w1, 0, o], wbt[w2, 0, o]
                u, uu, uuu = wbt[w0, 1, o], wbt[w1, 1, o], wbt[w2, 1, o]
                sums[0, o] += (
                    _pc2(a0, a1, v) + _pc2(c0, c1, vv) + _pc2(e0, e1, vvv)
                    + su * (_pc2(a0, a1, u) + _pc2(c0, c1, uu) + _pc2(e0, e1, uuu))
                )  # fmt: skip
                sums[1, o] += (
                    _pc2(b0, b1, v) + _pc2(d0, d1, vv) + _pc2(f0, f1, vvv)
                    + su * (_pc2(b0, b1, u) + _pc2(d0, d1, uu) + _pc2(f0, f1, uuu))
                )  # fmt: skip


@njit(cache=True, parallel=True)
def _conv_popcount(
    xw: np.ndarray,
    layout: int,
    wbt: np.ndarray,
    scale: int,
    offset: int,
    twos: bool,
    k: int,
    thr_t: np.ndarray,
    sign: np.ndarray,
    stride: int,
    limit: int,
    bound_w: int,
    out: np.ndarray,
    acc_out: np.ndarray,
    pending: np.ndarray,
) -> None:
    """Popcount kernel for activation widths 1-2 and weight widths 1-2.

    ``xw``: activation bit planes, either per padded input pixel ``(Hp, Wp, A, nw)`` or, with
    ``layout`` ``LAYOUT_IM2COL``, per output window ``(H_o, W_o, A, n_words)`` (bit
    ``t * C_in + c`` of the window). ``wbt``: ``(n_words, Wb, C_out)`` weight code bit planes in
    the layout's word order (``LAYOUT_TAPS``: a window is gathered tap by tap, word
    ``t * nw + w``; ``LAYOUT_ROWS``: read in place by :func:`_accumulate_rows3`), zero words up
    to a multiple of ``PLANE_CHUNK``. Per channel ``acc = scale * sums + offset * S_x``
    (:func:`_accumulate_planes` or :func:`_accumulate_rows3` forms ``sums``).
    A pixel whose bound ``S_x * M_w`` exceeds ``limit`` is left to the checked pass
    (``pending``).
    """
    ho, wo, cout = out.shape
    n_a = xw.shape[2]
    n_words = wbt.shape[0]
    nw = xw.shape[3]
    im2col = layout == LAYOUT_IM2COL
    direct = layout == LAYOUT_ROWS  # _accumulate_rows3
    for yo in prange(ho):
        wide_vectors()
        sums = np.zeros((2, cout), dtype=np.int64)
        win = np.zeros((2, 2, n_words), dtype=np.uint64)
        sx = np.zeros(2, dtype=np.int64)
        fast = np.zeros(2, dtype=np.bool_)
        acc = np.zeros(cout, dtype=np.int64)
        cnt = np.zeros(cout, dtype=np.int64)
        colsum = np.zeros(xw.shape[1] if direct else 0, dtype=np.int64)
        y0 = yo * stride
        if direct:  # S_x of the three rows' columns: a window's S_x is three of them
            for x in range(colsum.shape[0]):
                s = 0
                for ky in range(3):
                    for w in range(nw):
                        s += _popcount(xw[y0 + ky, x, 0, w])
                        s += _popcount(xw[y0 + ky, x, 1, w]) << 1
                colsum[x] = s
        for xb in range(0, wo, 2):
            n_px = min(2, wo - xb)
            n_fast = 0
            for p in range(n_px):
                xo = xb + p
                x0 = xo * stride
                if direct:
                    s = colsum[x0] + colsum[x0 + 1] + colsum[x0 + 2]
                    sx[p] = s
                    fast[p] = s * bound_w <= limit
                    n_fast += fast[p]
                    continue
                if im2col:  # (words past xw's are the chunk padding: zeros)
                    for a in range(n_a):
                        for w in range(nw):
                            win[p, a, w] = xw[yo, xo, a, w]
                else:  # tap (ky, kx) at words t * nw ..: no division per tap
                    for ky in range(k):
                        for kx in range(k):
                            t = ky * k + kx
                            for a in range(n_a):
                                for w in range(nw):
                                    win[p, a, t * nw + w] = xw[y0 + ky, x0 + kx, a, w]
                s = 0
                for a in range(n_a):
                    for w in range(n_words):
                        s += _popcount(win[p, a, w]) << a
                sx[p] = s
                fast[p] = s * bound_w <= limit
                n_fast += fast[p]
            if n_fast > 0 and direct:
                pair = n_px == 2 and fast[1]
                _accumulate_rows3(xw, y0, xb * stride, (xb + 1) * stride, pair, wbt, twos, sums)
            elif n_fast > 0:
                if n_px == 1 or not fast[1]:  # a lone fast window pairs with zeros
                    for a in range(2):
                        for w in range(n_words):
                            win[1, a, w] = 0
                _accumulate_planes(win, wbt, twos, 2, sums)
            for p in range(n_px):
                xo = xb + p
                if fast[p]:
                    base = offset * sx[p]
                    for o in range(cout):
                        acc[o] = base + scale * sums[p, o]
                    _finish_pixel(acc, thr_t, sign, out, acc_out, yo, xo, cnt)
                else:
                    pending[yo, xo] = True


@njit(cache=True, parallel=True)
def _conv_dense(
    xp: np.ndarray,
    wt: np.ndarray,
    k: int,
    thr_t: np.ndarray,
    sign: np.ndarray,
    stride: int,
    limit: int,
    bound_w: int,
    out: np.ndarray,
    acc_out: np.ndarray,
    pending: np.ndarray,
) -> None:
    """Integer kernel for any widths. ``xp``: (Hp, Wp, C) uint8 padded codes; ``wt``:
    (k*k*C, C_out) weight values in the lane type (int16 / int32 / int64, chosen by the wrapper
    so that no window's exact sum leaves it: then wrapping lane arithmetic is exact)."""
    ho, wo, cout = out.shape
    cin = xp.shape[2]
    n_taps = k * k
    for yo in prange(ho):
        lanes = np.zeros(cout, dtype=wt.dtype)
        acc = np.zeros(cout, dtype=np.int64)
        cnt = np.zeros(cout, dtype=np.int64)
        y0 = yo * stride
        for xo in range(wo):
            x0 = xo * stride
            sx = 0
            for ty in range(k):
                for tx in range(k):
                    xrow = xp[y0 + ty, x0 + tx]
                    for c in range(cin):
                        sx += np.int64(xrow[c])
            if sx * bound_w <= limit:
                lanes[:] = 0
                for t in range(n_taps):
                    xrow = xp[y0 + t // k, x0 + t % k]
                    for c in range(cin):
                        xv = np.int64(xrow[c])
                        if xv == 0:
                            continue
                        wr = wt[t * cin + c]
                        for o in range(cout):
                            lanes[o] += xv * wr[o]
                for o in range(cout):
                    acc[o] = lanes[o]
                _finish_pixel(acc, thr_t, sign, out, acc_out, yo, xo, cnt)
            else:
                pending[yo, xo] = True


@njit(cache=True)
def _lut_build(
    xs: np.ndarray,
    qoff: np.ndarray,
    rowbase: np.ndarray,
    n_rows: int,
    wo: int,
    g0: int,
    g1: int,
    npx: int,
    tab: np.ndarray,
) -> None:
    """Subset sums of groups ``g0 .. g1 - 1`` for the block's pixels: entry ``e`` of group
    ``g`` at pixel ``px`` is the sum of the activations of the group's four window positions
    ``4g + i`` with bit ``i`` of ``e`` set. ``xs`` flat activations, position ``q`` of output row
    ``r`` at ``rowbase[r] + qoff[q] + x_o``. Each entry is one loop with one or two loads and a
    store (entry ``e`` = entry ``e`` without its top bit + that bit's activation), few enough
    streams for LLVM to vectorise over the pixels."""
    unpx = np.uint64(npx)
    uwo = np.uint64(wo)
    for g in range(g0, g1):
        base = np.uint64((g - g0) * 16 * npx)
        for r in range(n_rows):
            p = base + np.uint64(r * wo)
            for xo in range(uwo):
                tab[p + xo] = 0
            for i in range(4):
                src = np.uint64(rowbase[r] + qoff[4 * g + i])
                dst = p + np.uint64(1 << i) * unpx
                for xo in range(uwo):
                    tab[dst + xo] = xs[src + xo]
                for e in range((1 << i) + 1, 1 << (i + 1)):
                    lo_e = p + np.uint64(e - (1 << i)) * unpx
                    d = p + np.uint64(e) * unpx
                    for xo in range(uwo):
                        tab[d + xo] = tab[lo_e + xo] + tab[dst + xo]


@njit(cache=True)
def _lut_accumulate(
    tab: np.ndarray, poff: np.ndarray, g0: int, g1: int, npx: int, lanes: np.ndarray
) -> None:
    """``lanes[(o, b), px] += sum_g tab[g, pattern(o, b, g), px]`` over groups ``g0 .. g1 - 1``
    (four at a time; ``poff`` holds each pattern's table row offset). The pixel loop is innermost
    and indexed unsigned (no wraparound checks), so LLVM vectorises it."""
    n_ob = poff.shape[0]
    unpx = np.uint64(npx)
    for ob in range(n_ob):
        a = np.uint64(ob) * unpx
        for g in range(g0, g1, 4):
            u0 = np.uint64(poff[ob, g])
            u1 = np.uint64(poff[ob, g + 1])
            u2 = np.uint64(poff[ob, g + 2])
            u3 = np.uint64(poff[ob, g + 3])
            for px in range(unpx):
                lanes[a + px] += tab[u0 + px] + tab[u1 + px] + tab[u2 + px] + tab[u3 + px]


@njit(cache=True)
def _swap_bytes(a: np.uint64, b: np.uint64, shift: np.uint64, mask: np.uint64) -> tuple:
    """One butterfly step of an 8 x 8 byte transpose held in uint64 words: the ``shift``-bit
    fields of ``a`` and ``b`` that ``mask`` leaves out trade places."""
    return (a & mask) | ((b & mask) << shift), ((a >> shift) & mask) | (b & ~mask)


@njit(cache=True)
def _codes_scratch(cout: int, wo: int) -> np.ndarray:
    """Scratch words of :func:`_store_codes` for one output row."""
    return np.empty(max(1, cout * (wo // 8)), dtype=np.uint64)


@njit(cache=True)
def _store_codes(
    cnt: np.ndarray, npx: int, base: int, wo: int, out: np.ndarray, yo: int, t: np.ndarray
) -> None:
    """``out[yo, x, o] = cnt[o * npx + base + x]``: channel-major codes into the pixel-major output
    row, as 8 x 8 byte transposes in uint64 words when ``C_out``, ``npx`` and ``base`` are
    multiples of 8 (three butterfly steps, element-wise over the row's blocks of 8 pixels, so
    that they vectorise; then each pixel's ``C_out`` bytes are written in one go), else byte
    by byte. Indices are unsigned and the rows are views: no wrap-around checks in the loops
    (the sizes are not known at compile time). ``t``: scratch of at least
    ``C_out * (W_o // 8)`` uint64 words (:func:`_codes_scratch`)."""
    cout = out.shape[2]
    if (cout & 7) == 0 and (npx & 7) == 0 and (base & 7) == 0:
        out64 = out[yo].reshape(wo * cout).view(np.uint64)
        cnt64 = cnt.view(np.uint64)
        n8, nx8, p8 = cout >> 3, wo >> 3, npx >> 3
        s32, s16, s8 = np.uint64(32), np.uint64(16), np.uint64(8)
        unx8 = np.uint64(nx8)
        t = t[: n8 * 8 * nx8].reshape(n8, 8, nx8)  # [o8, j, x8]: pixel 8 x8 + j, channels 8 o8..
        for o8 in range(n8):
            r = o8 * 8 * p8 + (base >> 3)  # word of channel 8 * o8, pixel base
            a0 = cnt64[r : r + nx8]
            a1 = cnt64[r + p8 : r + p8 + nx8]
            a2 = cnt64[r + 2 * p8 : r + 2 * p8 + nx8]
            a3 = cnt64[r + 3 * p8 : r + 3 * p8 + nx8]
            a4 = cnt64[r + 4 * p8 : r + 4 * p8 + nx8]
            a5 = cnt64[r + 5 * p8 : r + 5 * p8 + nx8]
            a6 = cnt64[r + 6 * p8 : r + 6 * p8 + nx8]
            a7 = cnt64[r + 7 * p8 : r + 7 * p8 + nx8]
            tb = t[o8]
            t0, t1, t2, t3, t4, t5, t6, t7 = tb[0], tb[1], tb[2], tb[3], tb[4], tb[5], tb[6], tb[7]
            for x8 in range(unx8):
                w0, w4 = _swap_bytes(a0[x8], a4[x8], s32, _LO32)
                w1, w5 = _swap_bytes(a1[x8], a5[x8], s32, _LO32)
                w2, w6 = _swap_bytes(a2[x8], a6[x8], s32, _LO32)
                w3, w7 = _swap_bytes(a3[x8], a7[x8], s32, _LO32)
                w0, w2 = _swap_bytes(w0, w2, s16, _MASK16)
                w1, w3 = _swap_bytes(w1, w3, s16, _MASK16)
                w4, w6 = _swap_bytes(w4, w6, s16, _MASK16)
                w5, w7 = _swap_bytes(w5, w7, s16, _MASK16)
                t0[x8], t1[x8] = _swap_bytes(w0, w1, s8, _MASK8)
                t2[x8], t3[x8] = _swap_bytes(w2, w3, s8, _MASK8)
                t4[x8], t5[x8] = _swap_bytes(w4, w5, s8, _MASK8)
                t6[x8], t7[x8] = _swap_bytes(w6, w7, s8, _MASK8)
        tf = t.reshape(-1)
        un8 = np.uint64(n8)
        uo = np.uint64(8 * nx8)  # stride of o8 in tf
        if n8 == 8:  # 64 channels: a constant inner trip count unrolls (3x faster)
            u8 = np.uint64(8)
            for xo in range(np.uint64(wo - wo % 8)):
                src = (xo & np.uint64(7)) * unx8 + (xo >> np.uint64(3))
                dst = xo * u8
                for o8 in range(u8):
                    out64[dst + o8] = tf[src + o8 * uo]
        else:
            for xo in range(np.uint64(wo - wo % 8)):
                src = (xo & np.uint64(7)) * unx8 + (xo >> np.uint64(3))
                dst = xo * un8
                for o8 in range(un8):
                    out64[dst + o8] = tf[src + o8 * uo]
        for xo in range(wo - wo % 8, wo):
            for o in range(cout):
                out[yo, xo, o] = cnt[o * npx + base + xo]
    else:
        for xo in range(wo):
            for o in range(cout):
                out[yo, xo, o] = cnt[o * npx + base + xo]


@njit(cache=True, parallel=True)
def _conv_lut(
    xs: np.ndarray,
    qoff: np.ndarray,
    row_stride: int,
    poff: np.ndarray,
    bcoef: np.ndarray,
    offset: int,
    rows: int,
    npx: int,
    gchunk: int,
    thr_fast: np.ndarray,
    narrow: bool,
    k: int,
    thr_t: np.ndarray,
    sign: np.ndarray,
    stride: int,
    limit: int,
    bound_w: int,
    out: np.ndarray,
    acc_t: np.ndarray,
    pending: np.ndarray,
) -> None:
    """Table kernel for any widths (used for activations wider than 2 bits).

    A block of ``rows`` output rows (``npx`` pixel lanes) at a time: the window positions are
    cut into groups of four; for each group the 16 subset sums of its activations are tabled per
    pixel (:func:`_lut_build`), and each (channel, weight bit plane) adds the entry its 4-bit
    weight pattern selects (:func:`_lut_accumulate`): ``T_b = sum x * n_b`` with one addition
    per four positions. ``acc = sum_b bcoef[b] T_b + offset S_x``, ``S_x`` from the all-ones
    entry (a pixel takes this fast path if ``S_x * M_w < limit``). ``thr_fast``: thresholds
    clipped to ``+-limit`` (``narrow``: 32-bit arithmetic, for a 32-bit ``acc_t``).
    ``xs``: flat activations in the lane type, ``row_stride`` apart per output row;
    ``poff``: ``(C_out * Wb, G)`` row offsets (groups padded to a multiple of four with
    all-zero positions).
    """
    ho, wo, cout = out.shape
    n_b = bcoef.shape[0]
    n_g = poff.shape[1]
    n_blocks = (ho + rows - 1) // rows
    for blk in prange(n_blocks):
        y_first = blk * rows
        n_rows = min(rows, ho - y_first)
        tab = np.zeros(gchunk * 16 * npx, dtype=xs.dtype)  # pad lanes stay 0
        lanes = np.zeros(cout * n_b * npx, dtype=xs.dtype)
        sx = np.zeros(npx, dtype=np.int64)
        cnt = np.empty(cout * npx, dtype=np.uint8)
        tsc = _codes_scratch(cout, wo)
        unpx = np.uint64(npx)
        rowbase = np.empty(n_rows, dtype=np.int64)
        for r in range(n_rows):
            rowbase[r] = (y_first + r) * row_stride
        for g0 in range(0, n_g, gchunk):
            g1 = min(n_g, g0 + gchunk)
            _lut_build(xs, qoff, rowbase, n_rows, wo, g0, g1, npx, tab)
            for g in range(g1 - g0):
                e = np.uint64(g * 16 * npx + 15 * npx)
                for px in range(unpx):
                    sx[px] += tab[e + px]
            _lut_accumulate(tab, poff, g0, g1, npx, lanes)
        # output stage, vectorised over the pixels per channel: accumulators straight into the
        # channel-major acc_t, codes into a (channel, pixel) buffer stored pixel-major below.
        # With a 32-bit accumulator in 32-bit arithmetic (wrapping: exact wherever the result
        # fits, i.e. on every fast pixel) against thresholds clipped to +-limit (the fast
        # pixels' |acc| < limit, so the clip changes no count)
        n_q = thr_t.shape[0]
        uwo = np.uint64(wo)
        v32 = np.empty(wo, dtype=np.int32)
        lim32_hi = np.int32(min(limit, 2**31 - 1))
        lim32_lo = np.int32(-lim32_hi)
        for o in range(cout):
            ob = np.uint64(o) * unpx
            for r in range(n_rows):
                yo = y_first + r
                rb = np.uint64(r * wo)
                row = acc_t[yo, o]
                c = cnt[ob + rb : ob + rb + uwo]
                for xo in range(uwo):
                    c[xo] = 0
                if narrow:  # int32 sums in scratch, stored clipped (a no-op on fast pixels)
                    off32 = np.int32(offset)
                    for xo in range(uwo):
                        v32[xo] = np.int32(off32 * np.int32(sx[rb + xo]))
                    for b in range(n_b):
                        cb = np.int32(bcoef[b])
                        lb = np.uint64(o * n_b + b) * unpx + rb
                        for xo in range(uwo):
                            v32[xo] = np.int32(v32[xo] + cb * np.int32(lanes[lb + xo]))
                    for xo in range(uwo):
                        row[xo] = max(lim32_lo, min(lim32_hi, v32[xo]))
                    so = np.int32(sign[o])
                    for q in range(n_q):
                        t = np.int32(thr_fast[q, o])
                        for xo in range(uwo):
                            c[xo] = np.uint8(c[xo] + np.uint8(np.int32(so * v32[xo]) >= t))
                else:
                    for xo in range(uwo):
                        row[xo] = offset * sx[rb + xo]
                    for b in range(n_b):
                        cb = bcoef[b]
                        lb = np.uint64(o * n_b + b) * unpx + rb
                        for xo in range(uwo):
                            row[xo] += cb * np.int64(lanes[lb + xo])
                    so = sign[o]
                    for q in range(n_q):
                        t = thr_fast[q, o]
                        for xo in range(uwo):
                            c[xo] = np.uint8(c[xo] + np.uint8(so * row[xo] >= t))
        for r in range(n_rows):
            yo = y_first + r
            _store_codes(cnt, npx, r * wo, wo, out, yo, tsc)
            for xo in range(wo):
                if sx[r * wo + xo] * bound_w >= limit:
                    pending[yo, xo] = True


@njit(cache=True)
def _add_runs(
    xs: np.ndarray,
    rb: np.uint64,
    offs: np.ndarray,
    j: int,
    cb: int,
    wo: int,
    part: np.ndarray,
    first: bool,
) -> None:
    """``part (+)= cb * sum_i xs[rb + offs[j + i] + x]`` for ``x < wo`` over nine runs ``i`` in
    one pass over the row; ``first`` assigns instead of adding. Lane arithmetic wraps: exact
    modulo the lane width."""
    uwo = np.uint64(wo)
    u0, u1, u2 = rb + np.uint64(offs[j]), rb + np.uint64(offs[j + 1]), rb + np.uint64(offs[j + 2])
    u3, u4, u5 = (
        rb + np.uint64(offs[j + 3]),
        rb + np.uint64(offs[j + 4]),
        rb + np.uint64(offs[j + 5]),
    )
    u6, u7, u8 = (
        rb + np.uint64(offs[j + 6]),
        rb + np.uint64(offs[j + 7]),
        rb + np.uint64(offs[j + 8]),
    )
    if first:
        for xo in range(uwo):
            part[xo] = cb * (
                xs[u0 + xo]
                + xs[u1 + xo]
                + xs[u2 + xo]
                + xs[u3 + xo]
                + xs[u4 + xo]
                + xs[u5 + xo]
                + xs[u6 + xo]
                + xs[u7 + xo]
                + xs[u8 + xo]
            )
    else:
        for xo in range(uwo):
            part[xo] += cb * (
                xs[u0 + xo]
                + xs[u1 + xo]
                + xs[u2 + xo]
                + xs[u3 + xo]
                + xs[u4 + xo]
                + xs[u5 + xo]
                + xs[u6 + xo]
                + xs[u7 + xo]
                + xs[u8 + xo]
            )


@njit(cache=True, parallel=True)
def _conv_planar(
    xs: np.ndarray,
    all_off: np.ndarray,
    row_stride: int,
    sel: np.ndarray,
    n_sel: np.ndarray,
    bcoef: np.ndarray,
    offset: int,
    thr_x: np.ndarray,
    flip: np.ndarray,
    limit: int,
    bound_w: int,
    out: np.ndarray,
    acc_t: np.ndarray,
    pending: np.ndarray,
    keep_acc: bool,
) -> None:
    """Planar kernel for few input channels (the first layer's image), any widths.

    Per output row, vectorised over its pixels. ``xs`` holds the padded map's channel-subset
    sums (:func:`_subset_layout`): the sum over any subset of a chunk of up to three channels
    at one kernel tap, for all the row's pixels, is a contiguous run at ``row * row_stride +
    offset``. ``T_b = sum x * n_b`` for each output channel ``o`` and weight bit plane ``b``
    adds one run per (tap, chunk) whose code bits are not all zero (``sel[o, b]``, ``n_sel[o,
    b]`` of them, padded to a multiple of nine, at least nine, with a zero run): additions
    only, nine runs per pass over the row; ``S_x`` (the box sum) adds the all-channels runs
    ``all_off``. ``acc = sum_b bcoef[b] T_b + offset S_x`` in the lane type of ``xs``, whose
    arithmetic wraps: exact on the pixels whose bound ``S_x * M_w < limit`` fits (``limit`` is
    at most the lane's maximum); the others are marked ``pending`` for the checked pass. The
    last pass also writes ``acc`` to the channel-major ``acc_t`` (only with ``keep_acc``; else
    ``acc_t`` may be any placeholder) and counts thresholds:
    ``acc ^ flip[o] >= thr_x[q, o]`` (``flip`` 0, or -1 for a negative channel:
    ``~acc = -acc - 1``, and ``thr_x`` = the thresholds in the ``sign * acc`` form clipped to
    ``+-limit`` and padded to a multiple of three with ``limit``, less ``1`` when flipped;
    neither clipping nor padding changes a count of a fast pixel). Codes go through a
    channel-major buffer to ``out``.
    """
    ho, wo, cout = out.shape
    n_b = bcoef.shape[0]
    n_q = thr_x.shape[0]
    npx = (wo + 7) // 8 * 8
    unpx = np.uint64(npx)
    uwo = np.uint64(wo)
    one = bcoef[0] // bcoef[0]  # 1 in the lane type
    for yo in prange(ho):
        sx = np.empty(wo, dtype=xs.dtype)
        part = np.empty(wo, dtype=xs.dtype)
        cnt = np.empty(cout * npx, dtype=np.uint8)
        tsc = _codes_scratch(cout, wo)
        rb = np.uint64(yo * row_stride)
        for j in range(0, all_off.shape[0], 9):
            _add_runs(xs, rb, all_off, j, one, wo, sx, j == 0)
        for o in range(cout):
            first = True
            for b in range(n_b):
                for j in range(0, n_sel[o, b], 9):
                    _add_runs(xs, rb, sel[o, b], j, bcoef[b], wo, part, first)
                    first = False
            if first:
                part[:] = 0
            m = flip[o]
            ob = np.uint64(o) * unpx
            c = cnt[ob : ob + uwo]
            t0, t1, t2 = thr_x[0, o], thr_x[1, o], thr_x[2, o]
            # acc wraps in the lane, as the runs did: exact for a fast pixel (it fits the lane
            # and acc_t's type); a pending pixel's acc and codes are replaced by the checked pass
            for xo in range(uwo):
                _store_wrapped(part, xo, part[xo] + offset * sx[xo])
            if keep_acc:
                dst = acc_t[yo, o]
                for xo in range(uwo):
                    _store_wrapped(dst, xo, part[xo])
            for xo in range(uwo):
                v = part[xo] ^ m
                c[xo] = np.uint8(v >= t0) + np.uint8(v >= t1) + np.uint8(v >= t2)
            for q in range(3, n_q, 3):
                t0, t1, t2 = thr_x[q, o], thr_x[q + 1, o], thr_x[q + 2, o]
                for xo in range(uwo):
                    v = part[xo] ^ m
                    c[xo] += np.uint8(v >= t0) + np.uint8(v >= t1) + np.uint8(v >= t2)
        _store_codes(cnt, npx, 0, wo, out, yo, tsc)
        for xo in range(wo):
            if np.int64(sx[xo]) * bound_w >= limit:
                pending[yo, xo] = True


@njit(cache=True)
def _sum_runs9(
    buf: np.ndarray, offs: np.ndarray, j: int, wo: int, part: np.ndarray, first: bool
) -> None:
    """``part (+)= sum_i buf[offs[j + i] + x]`` for ``x < wo`` over nine runs ``i`` in one pass
    over the row; ``first`` assigns instead of adding. Lane arithmetic wraps."""
    wide_vectors()
    uwo = np.uint64(wo)
    u0, u1, u2 = offs[j], offs[j + 1], offs[j + 2]
    u3, u4, u5 = offs[j + 3], offs[j + 4], offs[j + 5]
    u6, u7, u8 = offs[j + 6], offs[j + 7], offs[j + 8]
    if first:
        for xo in range(uwo):
            part[xo] = (
                buf[u0 + xo]
                + buf[u1 + xo]
                + buf[u2 + xo]
                + buf[u3 + xo]
                + buf[u4 + xo]
                + buf[u5 + xo]
                + buf[u6 + xo]
                + buf[u7 + xo]
                + buf[u8 + xo]
            )
    else:
        for xo in range(uwo):
            part[xo] += (
                buf[u0 + xo]
                + buf[u1 + xo]
                + buf[u2 + xo]
                + buf[u3 + xo]
                + buf[u4 + xo]
                + buf[u5 + xo]
                + buf[u6 + xo]
                + buf[u7 + xo]
                + buf[u8 + xo]
            )


@njit(cache=True)
def _sum_runs3(
    buf: np.ndarray, offs: np.ndarray, j: int, wo: int, part: np.ndarray, first: bool
) -> None:
    """:func:`_sum_runs9` over three runs."""
    wide_vectors()
    uwo = np.uint64(wo)
    u0, u1, u2 = offs[j], offs[j + 1], offs[j + 2]
    if first:
        for xo in range(uwo):
            part[xo] = buf[u0 + xo] + buf[u1 + xo] + buf[u2 + xo]
    else:
        for xo in range(uwo):
            part[xo] += buf[u0 + xo] + buf[u1 + xo] + buf[u2 + xo]


@njit(cache=True)
def _sum_all_runs(
    buf: np.ndarray, offs: np.ndarray, j0: int, n: int, wo: int, part: np.ndarray
) -> None:
    """``part = sum_i buf[offs[j0 + i] + x]`` over ``n`` runs (a multiple of three; none:
    zeros), nine at a time, then three."""
    wide_vectors()
    j = j0
    end = j0 + n
    if n >= 9:
        _sum_runs9(buf, offs, j, wo, part, True)
        j += 9
    elif n >= 3:
        _sum_runs3(buf, offs, j, wo, part, True)
        j += 3
    else:
        part[:wo] = 0
    while j + 9 <= end:
        _sum_runs9(buf, offs, j, wo, part, False)
        j += 9
    while j < end:
        _sum_runs3(buf, offs, j, wo, part, False)
        j += 3


@njit(cache=True)
def _combo_row(
    xp: np.ndarray,
    y: int,
    stride: int,
    g: int,
    wbits: int,
    vals: np.ndarray,
    tab: np.ndarray,
    base: int,
    pv: np.ndarray,
) -> None:
    """Write input row ``y`` of the padded map ``xp`` as one slot of :func:`_conv_combo`: rows
    ``base ..`` of ``tab`` (rows of ``W_q`` lanes), laid out ``(s, n_ch, 2^(W g) + 2)``: column
    phase, chunk ``ch`` of ``g`` channels, then combination ``m`` of their weight codes (code of
    channel ``ch*g + i`` in bits ``W i .. W i + W - 1`` of ``m``), whose row is
    ``sum_i vals[code_i] x[ch*g + i]`` over the phase's columns; row ``2^(W g)`` holds the plain
    channel sum, row ``2^(W g) + 1`` is not used. A chunk of ``g_c < g`` channels (the last)
    fills only ``m < 2^(W g_c)``. Columns past the phase's are left as they are (never read).
    ``pv``: (2^W + C_in, W_q) scratch, zeros on the first call: one channel's ``vals[n] x`` in
    its first rows, so that the combinations are pure additions (narrow lanes; a product would
    widen them), then the phase's columns of every channel (zeros past them)."""
    wide_vectors()
    wp, cin = xp.shape[1], xp.shape[2]
    wq = tab.shape[1]
    buf = tab.reshape(-1)
    pflat = pv.reshape(-1)
    ncode = 1 << wbits
    ns = 1 << (wbits * g)
    n_ch = (cin + g - 1) // g
    xrow = xp[y].reshape(-1)  # the padded map is C-contiguous
    ustep = np.uint64(stride * cin)
    xw = np.uint64(ncode * wq)  # the channels' rows of pv
    uwq = np.uint64(wq)
    for ph in range(stride):
        ncol = (wp - ph + stride - 1) // stride
        uncol = np.uint64(wq)  # whole rows: W_q is a multiple of 32 lanes, the tail stays 0
        # the phase's columns of every channel (flat unsigned indices: no wrap-around checks)
        if stride == 1 and cin == 3:  # the RGB image: a constant stride, the loads vectorise
            u3 = np.uint64(3)
            for col in range(np.uint64(ncol)):
                pflat[xw + col] = xrow[u3 * col]
                pflat[xw + uwq + col] = xrow[u3 * col + np.uint64(1)]
                pflat[xw + np.uint64(2) * uwq + col] = xrow[u3 * col + np.uint64(2)]
        else:
            for c in range(cin):
                uc = xw + np.uint64(c * wq)
                u = np.uint64(ph * cin + c)
                for col in range(np.uint64(ncol)):
                    pflat[uc + col] = xrow[u + col * ustep]
                for col in range(np.uint64(ncol), uncol):
                    pflat[uc + col] = 0
        for ch in range(n_ch):
            gc = min(g, cin - ch * g)
            blk = base + (ph * n_ch + ch) * (ns + 2)
            us = np.uint64((blk + ns) * wq)  # the channel sum
            for i in range(gc):
                ux = xw + np.uint64((ch * g + i) * wq)
                for n in range(ncode):
                    v = vals[n]
                    up = np.uint64(n * wq)
                    for col in range(uncol):
                        pflat[up + col] = v * pflat[ux + col]
                if i == 0:
                    for col in range(uncol):
                        buf[us + col] = pflat[ux + col]
                    for n in range(ncode):
                        ud = np.uint64((blk + n) * wq)
                        for col in range(uncol):
                            buf[ud + col] = pv[n, col]
                    continue
                for col in range(uncol):
                    buf[us + col] += pflat[ux + col]
                # block n > 0 of the new channel from block 0, then block 0 itself
                span = ncode**i
                for n in range(ncode - 1, 0, -1):
                    up = np.uint64(n * wq)
                    for m in range(span):
                        ua = np.uint64((blk + m) * wq)
                        ud = np.uint64((blk + m + n * span) * wq)
                        for col in range(uncol):
                            buf[ud + col] = buf[ua + col] + pflat[up + col]
                for m in range(span):  # in place: one index, so the loop vectorises
                    ua = np.uint64((blk + m) * wq)
                    for col in range(uncol):
                        buf[ua + col] += pflat[col]


@njit(cache=True, parallel=True)
def _conv_combo(
    xp: np.ndarray,
    vals: np.ndarray,
    g: int,
    wbits: int,
    stride: int,
    k: int,
    run_ky: np.ndarray,
    run_off: np.ndarray,
    n_run: np.ndarray,
    sx_ky: np.ndarray,
    sx_off: np.ndarray,
    block: int,
    thr_x: np.ndarray,
    flip: np.ndarray,
    limit: int,
    bound_w: int,
    out: np.ndarray,
    acc_t: np.ndarray,
    pending: np.ndarray,
    keep_acc: bool,
) -> None:
    """Combination kernel for few input channels and weights of at most ``6 // g`` bits (the
    first layer's image), vectorised over an output row's pixels.

    Per input row, for each chunk of ``g`` channels, the sums ``sum_i v(n_i) x_i`` over every
    combination of the chunk's weight codes ``n_i`` (``vals``: the code values) are formed once
    (:func:`_combo_row`), in a ring of ``k`` row slots per block of ``block`` output rows (each
    block, one ``prange`` iteration, builds its rows once). Output channel ``o``'s ``acc`` is
    then the sum of one run per (tap, chunk): at slot ``run_ky[o, r]`` (``k``: the zero run
    past the slots), offset ``run_off[o, r]``; ``n_run[o]`` of them, the runs of zero
    combinations left out, padded to a multiple of three with zero runs. Additions only, in
    the lane type of ``vals``, whose arithmetic wraps: exact on the pixels whose bound
    ``S_x * M_w < limit`` fits (``limit`` at most the lane's maximum). ``S_x`` (the runs
    ``sx_ky``, ``sx_off`` over the channel sums) is formed only when some window's bound may
    not fit (``sx_ky`` not empty); those pixels are marked ``pending`` for the checked pass.
    Thresholds, codes and ``keep_acc`` as :func:`_conv_planar`."""
    ho, wo, cout = out.shape
    wp, cin = xp.shape[1], xp.shape[2]
    n_ch = (cin + g - 1) // g
    ns = 1 << (wbits * g)
    wq = ((wp + stride - 1) // stride + 31) // 32 * 32  # as _combo_operands
    slot_rows = stride * n_ch * (ns + 2)
    slot = slot_rows * wq
    n_q = thr_x.shape[0]
    n_r = run_ky.shape[1]
    n_sx = sx_ky.shape[0]
    npx = (wo + 7) // 8 * 8
    unpx = np.uint64(npx)
    uwo = np.uint64(wo)
    n_blk = (ho + block - 1) // block
    acc_flat = acc_t.reshape(-1)  # (H_o, C_out, W_o), C-contiguous
    for bi in prange(n_blk):
        wide_vectors()
        tab = np.zeros((k * slot_rows + 1, wq), dtype=vals.dtype)  # k row slots, a zero run
        buf = tab.reshape(-1)
        pv = np.zeros(((1 << wbits) + cin, wq), dtype=vals.dtype)
        sx = np.empty(wo, dtype=vals.dtype)
        part = np.empty(wo, dtype=vals.dtype)
        cnt = np.empty(cout * npx, dtype=np.uint8)
        tsc = _codes_scratch(cout, wo)
        # absolute run offsets for each phase y0 % k of the ring (slot of row y: y % k)
        uoff = np.empty(k * cout * n_r, dtype=np.uint64)
        uoff_sx = np.empty(k * n_sx, dtype=np.uint64)
        sbase = np.empty(k + 1, dtype=np.int64)
        sbase[k] = k * slot
        for ph in range(k):
            for ky in range(k):
                sbase[ky] = ((ph + ky) % k) * slot
            for o in range(cout):
                for r in range(n_r):
                    uoff[(ph * cout + o) * n_r + r] = sbase[run_ky[o, r]] + run_off[o, r]
            for r in range(n_sx):
                uoff_sx[ph * n_sx + r] = sbase[sx_ky[r]] + sx_off[r]
        built = -1  # rows up to this one are in the ring
        for yo in range(bi * block, min(ho, (bi + 1) * block)):
            y0 = yo * stride
            for y in range(max(built + 1, y0), y0 + k):
                _combo_row(xp, y, stride, g, wbits, vals, tab, (y % k) * slot_rows, pv)
            built = y0 + k - 1
            ph = y0 % k
            if n_sx > 0:
                _sum_all_runs(buf, uoff_sx, ph * n_sx, n_sx, wo, sx)
                for xo in range(wo):
                    if np.int64(sx[xo]) * bound_w >= limit:
                        pending[yo, xo] = True
            for o in range(cout):
                # flat unsigned indices, no views: this runs once per (row, channel). A fast
                # pixel's acc fits the lane and acc_t's type; a pending pixel's acc and codes
                # are replaced by the checked pass
                m = flip[o]
                ob = np.uint64(o) * unpx
                t0, t1, t2 = thr_x[0, o], thr_x[1, o], thr_x[2, o]
                _sum_all_runs(buf, uoff, (ph * cout + o) * n_r, n_run[o], wo, part)
                if keep_acc:
                    ua = np.uint64(yo * cout + o) * uwo
                    for xo in range(uwo):
                        _store_wrapped(acc_flat, ua + xo, part[xo])
                for xo in range(uwo):
                    v = part[xo] ^ m
                    cnt[ob + xo] = np.uint8(v >= t0) + np.uint8(v >= t1) + np.uint8(v >= t2)
                for q in range(3, n_q, 3):
                    t0, t1, t2 = thr_x[q, o], thr_x[q + 1, o], thr_x[q + 2, o]
                    for xo in range(uwo):
                        v = part[xo] ^ m
                        cnt[ob + xo] += np.uint8(v >= t0) + np.uint8(v >= t1) + np.uint8(v >= t2)
            _store_codes(cnt, npx, 0, wo, out, yo, tsc)


@njit(cache=True, parallel=True)
def _conv_checked(
    xc: np.ndarray,
    wct: np.ndarray,
    shifts: np.ndarray,
    ps_proto: np.ndarray,
    k: int,
    group: int,
    stride: int,
    oc_batch: int,
    lo: int,
    hi: int,
    wrap: bool,
    pending: np.ndarray,
    thr_t: np.ndarray,
    sign: np.ndarray,
    out: np.ndarray,
    acc_out: np.ndarray,
    row_events: np.ndarray,
    row_first: np.ndarray,
) -> None:
    """The checked pass: every ``pending`` pixel replays its PE cycles
    (:func:`_checked_pixel`); per output row the overflow count and the first event (the row's
    first pixel with one, and its key), in raster order."""
    ho, wo, cout = out.shape
    for yo in prange(ho):
        acc = np.zeros(cout, dtype=np.int64)
        cnt = np.zeros(cout, dtype=np.int64)
        ps = np.empty((ps_proto.shape[0], cout), dtype=ps_proto.dtype)
        events = 0
        first_x = -1
        first_key = -1
        for xo in range(wo):
            if not pending[yo, xo]:
                continue
            n, key = _checked_pixel(
                xc, wct, shifts, k, group, yo * stride, xo * stride, oc_batch, lo, hi, wrap, ps, acc
            )
            if n > 0:
                events += n
                if first_x < 0:
                    first_x = xo
                    first_key = key
            _finish_pixel(acc, thr_t, sign, out, acc_out, yo, xo, cnt)
        row_events[yo] = events
        row_first[yo, 0] = first_x
        row_first[yo, 1] = first_key


# ----------------------------------------------------------------------------------------------
# operand preparation (numpy)


@njit(cache=True, parallel=True)
def _pack_grid(x: np.ndarray, dst: np.ndarray) -> None:
    """``dst[i, j, a, w]`` = bit ``a`` of codes ``x[i, j, 64 w ..]`` (at most 64 of them) as a
    word, item ``c`` at bit ``c % 64``; ``x``: (H, W, C) uint8, C-contiguous; ``dst``: (H, W,
    bits, words), any strides (a view into a larger, zero-bordered array is filled in place)."""
    h, w, c = x.shape
    bits, words = dst.shape[2], dst.shape[3]
    full = c // 64  # whole words: one vector compare each (byte_bits)
    for i in prange(h):
        for j in range(w):
            base = (i * w + j) * c
            for a in range(bits):
                for v in range(full):
                    dst[i, j, a, v] = byte_bits(x, base + v * 64, a)
                for v in range(full, words):  # the last, partial word
                    dst[i, j, a, v] = some_bits(x, base + v * 64, c - v * 64, a)


def _pack_rows(codes: np.ndarray, bits: int, words: int) -> np.ndarray:
    """(R, L) uint8 codes -> (R, bits, words) uint64 planes; item c at bit c%64 of word c//64."""
    n_rows, length = codes.shape
    out = np.zeros((n_rows, 1, bits, words), dtype=np.uint64)
    _pack_grid(np.ascontiguousarray(codes).reshape(n_rows, 1, length), out)
    return out.reshape(n_rows, bits, words)


def _pack_padded(x: np.ndarray, pad: int, bits: int, words: int) -> np.ndarray:
    """(H, W, C) uint8 codes -> (H + 2 pad, W + 2 pad, bits, words) uint64 planes of the
    zero-padded map, packed straight into the border's interior (with 64 channels or more the
    planes take at most a quarter of the codes' bytes: a cheaper copy than padding the
    codes)."""
    h, w, _ = x.shape
    out = np.zeros((h + 2 * pad, w + 2 * pad, bits, words), dtype=np.uint64)
    _pack_grid(np.ascontiguousarray(x), out[pad : pad + h, pad : pad + w])
    return out


def _pad_map(x: np.ndarray, pad: int) -> np.ndarray:
    """The (H + 2 pad, W + 2 pad, C) zero-padded copy of ``x``."""
    h, w, c = x.shape
    xp = np.zeros((h + 2 * pad, w + 2 * pad, c), dtype=np.uint8)
    xp[pad : pad + h, pad : pad + w] = x
    return xp


def _weight_values(codes: np.ndarray, bits: int, encoding: str) -> np.ndarray:
    """Signed integer meaning of weight codes (spec §2), int16."""
    n = codes.astype(np.int16)
    if encoding == "dorefa":
        return (2 * n - ((1 << bits) - 1)).astype(np.int16)
    return np.where(n >= (1 << (bits - 1)), n - (1 << bits), n).astype(np.int16)


def _weight_chunks(
    values: np.ndarray, codes: np.ndarray, bits: int, core_bits: int, encoding: str
) -> tuple[np.ndarray, list[int]]:
    """Chunk values (m, ...) int16 and shifts of the weights (module docstring)."""
    m = -(-bits // core_bits)
    chunks = np.empty((m,) + values.shape, dtype=np.int16)
    shifts = []
    for i in range(m):
        sh = i * core_bits
        shifts.append(sh)
        width = core_bits if i < m - 1 else bits - sh
        if encoding == "dorefa":
            n = (codes.astype(np.int16) >> sh) & ((1 << width) - 1)
            chunks[i] = 2 * n - ((1 << width) - 1)
        elif i < m - 1:
            chunks[i] = (values >> sh) & ((1 << core_bits) - 1)
        else:
            chunks[i] = values >> sh
    return chunks, shifts


def _plane_layout(
    xp: np.ndarray, k: int, stride: int, lane: type, n_q: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The padded map ``xp`` (H_p, W_p, C_in) as flat planes ``(H_p, s, C_in + 1, W_q)`` in the
    lane type (column phase ``s``, then a zero channel), so that window position
    ``q = tap * C_in + c`` of the output pixels ``x_o = 0, 1, ...`` of output row ``y_o`` is the
    contiguous run at ``y_o * row_stride + qoff[q] + x_o``; positions ``q >= k*k*C_in`` (up to
    ``n_q``) read the zero channel. Returns ``(xs, qoff, row_stride)``."""
    hp, wp, cin = xp.shape
    n_pos = k * k * cin
    wq = -(-wp // stride)
    xs = np.zeros((hp, stride, cin + 1, wq), dtype=lane)
    for ph in range(stride):
        cols = xp[:, ph::stride, :]
        xs[:, ph, :cin, : cols.shape[1]] = cols.transpose(0, 2, 1)
    q = np.arange(n_q)
    tap, c = q // cin, q % cin
    ky, kx = tap // k, tap % k
    qoff = ((ky * stride + kx % stride) * (cin + 1) + c) * wq + kx // stride
    qoff[n_pos:] = cin * wq  # padding positions read the zero channel
    return xs.reshape(-1), qoff.astype(np.int64), stride * stride * (cin + 1) * wq


def _plane_coefficients(weight_bits: int, weight_encoding: str) -> tuple[np.ndarray, int]:
    """``(bcoef, offset)`` with ``v = sum_b bcoef[b] n_b + offset`` for the code bits ``n_b``:
    dorefa ``v = 2n - (2^W - 1)``; two's complement, the top bit counts ``-2^(W-1)``."""
    if weight_encoding == "dorefa":
        bcoef = np.array([1 << (b + 1) for b in range(weight_bits)], dtype=np.int64)
        return bcoef, -((1 << weight_bits) - 1)
    bcoef = np.array([1 << b for b in range(weight_bits)], dtype=np.int64)
    bcoef[-1] = -bcoef[-1]
    return bcoef, 0


@njit(cache=True, parallel=True)
def _subset_sums(xp: np.ndarray, g: int, xs: np.ndarray) -> None:
    """Fill ``xs`` (H_p, s, n_ch, 2^g, W_q), zeroed, with the channel-subset sums of the padded
    map ``xp`` (:func:`_subset_layout`)."""
    hp, wp, cin = xp.shape
    stride, n_ch, ns = xs.shape[1], xs.shape[2], xs.shape[3]
    for y in prange(hp):
        for ph in range(stride):
            for ch in range(n_ch):
                dst = xs[y, ph, ch]
                for m in range(1, ns):
                    low = 0
                    while not (m >> low) & 1:
                        low += 1
                    c = ch * g + low
                    if c < cin:
                        rest = dst[m & (m - 1)]
                        for col in range((wp - ph + stride - 1) // stride):
                            dst[m, col] = rest[col] + xp[y, ph + col * stride, c]
                    else:
                        dst[m] = dst[m & (m - 1)]


def _subset_layout(
    xp: np.ndarray, k: int, stride: int, lane: type
) -> tuple[np.ndarray, np.ndarray, int, int, int]:
    """The padded map ``xp`` (H_p, W_p, C_in) as channel-subset sums, flat
    ``(H_p, s, n_ch, 2^g, W_q)`` in the lane type: column phase ``s``, chunk ``ch`` of ``g``
    channels (``g = min(C_in, 3)``, the last chunk zero-filled), subset ``m`` of the chunk's
    channels (bit ``i`` of ``m``: channel ``ch * g + i``; ``m = 0`` is a zero run). The sum over
    subset ``m`` of chunk ``ch`` at tap ``(ky, kx)`` for the output pixels ``x_o = 0, 1, ...`` of
    output row ``y_o`` is the contiguous run at ``y_o * row_stride + base[tap, ch] + m * W_q +
    x_o``. Returns ``(xs, base, row_stride, g, W_q)``."""
    hp, wp, cin = xp.shape
    g = min(cin, 3)
    n_ch = -(-cin // g)
    ns = 1 << g
    wq = -(-wp // stride)
    xs = np.zeros((hp, stride, n_ch, ns, wq), dtype=lane)
    _subset_sums(xp, g, xs)
    ky, kx = np.divmod(np.arange(k * k), k)
    ch = np.arange(n_ch)
    base = (((ky * stride + kx % stride)[:, None] * n_ch + ch[None, :]) * ns) * wq + (kx // stride)[
        :, None
    ]
    return xs.reshape(-1), base.astype(np.int64), stride * stride * n_ch * ns * wq, g, wq


@njit(cache=True)
def _signed_thresholds(
    thresholds: np.ndarray, negative: np.ndarray, lo: int, hi: int
) -> np.ndarray:
    """``(n_q, C_out)`` int64: ``T`` clipped to ``[lo - 1, hi + 1]``, negated on the negative
    channels (the ``sign * acc >= T`` form of :func:`_conv`)."""
    cout, nq = thresholds.shape
    thr = np.empty((nq, cout), dtype=np.int64)
    for o in range(cout):
        s = -1 if negative[o] else 1
        for q in range(nq):
            thr[q, o] = min(max(thresholds[o, q], lo - 1), hi + 1) * s
    return thr


@njit(cache=True)
def _lane_thresholds(thr: np.ndarray, negative: np.ndarray, plim: int, dst: np.ndarray) -> None:
    """``dst`` (``n_q`` rounded up to a multiple of three, ``C_out``), the row kernels' form:
    ``thr`` clipped to ``[-plim, plim]``, the padding rows the unreachable ``plim``, minus one on
    the negative channels (they compare ``~acc = -acc - 1 >= T - 1``)."""
    nq, cout = thr.shape
    for q in range(dst.shape[0]):
        for o in range(cout):
            t = plim if q >= nq else min(max(thr[q, o], -plim), plim)
            dst[q, o] = t - (1 if negative[o] else 0)


def _pad_to(offs: np.ndarray, step: int, fill: int) -> np.ndarray:
    """``offs`` (..., n) padded along the last axis to a multiple of ``step`` (at least
    ``step``) with ``fill``."""
    n = offs.shape[-1]
    pad = max(step, -(-n // step) * step) - n
    return np.concatenate([offs, np.full(offs.shape[:-1] + (pad,), fill, dtype=offs.dtype)], -1)


def _planar_operands(
    xp: np.ndarray,
    wcodes: np.ndarray,
    k: int,
    stride: int,
    weight_bits: int,
    weight_encoding: str,
    lane: type,
) -> tuple:
    """Operands of :func:`_conv_planar` up to the thresholds: the subset sums of
    :func:`_subset_layout`, the all-channels runs (``S_x``), per channel and weight bit the runs
    of the (tap, chunk)s whose code bits are set, the plane coefficients."""
    cout, n_taps, cin = wcodes.shape
    xs, base, row_stride, g, wq = _subset_layout(xp, k, stride, lane)
    n_ch = base.shape[1]
    ns = 1 << g
    zero = int(base[0, 0])  # subset 0 of tap 0, chunk 0: a zero run
    all_off = _pad_to((base + (ns - 1) * wq).reshape(-1), 9, zero)
    wc = np.zeros((cout, n_taps, n_ch * g), dtype=np.int64)
    wc[:, :, :cin] = wcodes
    wc = wc.reshape(cout, 1, n_taps, n_ch, g)
    bits = (wc >> np.arange(weight_bits)[None, :, None, None, None]) & 1
    m = (bits << np.arange(g)).sum(axis=-1).reshape(cout, weight_bits, n_taps * n_ch)
    offs = np.where(m != 0, base.reshape(-1) + m * wq, zero)
    order = np.argsort(m == 0, axis=-1, kind="stable")  # the set runs first, in tap order
    sel = np.ascontiguousarray(_pad_to(np.take_along_axis(offs, order, axis=-1), 9, zero))
    n_sel = (m != 0).sum(axis=-1).astype(np.int64)
    bcoef, offset = _plane_coefficients(weight_bits, weight_encoding)
    return xs, all_off, row_stride, sel, n_sel, bcoef.astype(lane), offset


@njit(cache=True)
def _combo_runs(
    wcodes: np.ndarray,
    k: int,
    stride: int,
    g: int,
    wbits: int,
    wq: int,
    zero_code: bool,
    sums: bool,
    run_ky: np.ndarray,
    run_off: np.ndarray,
    n_run: np.ndarray,
) -> None:
    """Runs of :func:`_conv_combo`, per row ``o`` of ``run_ky`` / ``run_off``: for every (tap,
    chunk) in order, the slot ``ky`` and the offset in the slot (:func:`_combo_row`) of output
    channel ``o``'s combination of codes, or with ``sums`` of the channel-sum row; with
    ``zero_code`` (code 0 has value 0) the all-zero combination is left out. The rest is
    padded with the zero run (slot ``k``, offset 0); ``n_run[o]``: the runs, rounded up to a
    multiple of three."""
    cin = wcodes.shape[2]
    n_taps = k * k
    n_ch = (cin + g - 1) // g
    ns = 1 << (wbits * g)
    for o in range(run_ky.shape[0]):
        r = 0
        for tap in range(n_taps):
            ky, kx = tap // k, tap % k
            for ch in range(n_ch):
                m = ns
                if not sums:
                    m = 0
                    for i in range(min(g, cin - ch * g)):
                        m |= np.int64(wcodes[o, tap, ch * g + i]) << (wbits * i)
                    if m == 0 and zero_code:
                        continue
                run_ky[o, r] = ky
                run_off[o, r] = (((kx % stride) * n_ch + ch) * (ns + 2) + m) * wq + kx // stride
                r += 1
        n_run[o] = (r + 2) // 3 * 3
        for q in range(r, run_ky.shape[1]):
            run_ky[o, q] = k
            run_off[o, q] = 0


def _combo_operands(
    xp: np.ndarray,
    wcodes: np.ndarray,
    k: int,
    stride: int,
    weight_bits: int,
    weight_encoding: str,
    lane: type,
    need_sx: bool,
) -> tuple:
    """Operands of :func:`_conv_combo` up to ``block``: the padded map, the code values, the
    chunk size ``g = min(C_in, 6 // W)``, and per output channel the runs (slot, offset) of
    its (tap, chunk)s, zero combinations left out (:func:`_combo_runs`), then the ``S_x`` runs
    (none unless ``need_sx``). Offsets follow the slot layout of :func:`_combo_row`."""
    cout, n_taps, cin = wcodes.shape
    g = min(cin, COMBO_MAX_BITS // weight_bits)
    wq = (-(-xp.shape[1] // stride) + 31) // 32 * 32  # rows of whole 32-lane vectors
    vals = _weight_values(np.arange(1 << weight_bits), weight_bits, weight_encoding).astype(lane)
    n_ch = -(-cin // g)
    n_r = -(-(n_taps * n_ch) // 3) * 3
    run_ky = np.empty((cout, n_r), dtype=np.int64)
    run_off = np.empty((cout, n_r), dtype=np.int64)
    n_run = np.empty(cout, dtype=np.int64)
    _combo_runs(wcodes, k, stride, g, weight_bits, wq, vals[0] == 0, False, run_ky, run_off, n_run)
    sx_ky = np.empty((1, n_r if need_sx else 0), dtype=np.int64)
    sx_off = np.empty_like(sx_ky)
    if need_sx:
        _combo_runs(wcodes, k, stride, g, weight_bits, wq, False, True, sx_ky, sx_off, n_run[:1])
    return xp, vals, g, weight_bits, stride, k, run_ky, run_off, n_run, sx_ky[0], sx_off[0]


def _lut_operands(
    xp: np.ndarray,
    wcodes: np.ndarray,
    k: int,
    stride: int,
    wo: int,
    weight_bits: int,
    weight_encoding: str,
    lane: type,
) -> tuple:
    """Operands of :func:`_conv_lut`: the padded map as flat lanes ``(H_p, s, C_in + 1, W_q)``
    (column phase ``s``, a zero channel for the padding positions), each window position's
    offset in it, the weight patterns' table row offsets, plane coefficients and block sizes."""
    cout, n_taps, cin = wcodes.shape
    n_pos = n_taps * cin
    n_g = -(-n_pos // 16) * 4  # groups of four positions, a multiple of four groups
    xs, qoff, row_stride = _plane_layout(xp, k, stride, lane, n_g * 4)

    rows = max(1, -(-64 // wo))
    npx = -(-(rows * wo) // 16) * 16
    per_group = 16 * npx * np.dtype(lane).itemsize
    gchunk = min(n_g, max(4, (24 * 1024 // per_group) // 4 * 4))

    flat = np.zeros((cout, n_g * 4), dtype=np.int64)
    flat[:, :n_pos] = wcodes.reshape(cout, n_pos)
    g_local = (np.arange(n_g) % gchunk) * 16
    poff = np.empty((cout, weight_bits, n_g), dtype=np.int64)
    for b in range(weight_bits):
        bits = ((flat >> b) & 1).reshape(cout, n_g, 4)
        pattern = bits[..., 0] | (bits[..., 1] << 1) | (bits[..., 2] << 2) | (bits[..., 3] << 3)
        poff[:, b] = (g_local[None, :] + pattern) * npx
    bcoef, offset = _plane_coefficients(weight_bits, weight_encoding)
    return (
        xs,
        qoff,
        row_stride,
        poff.reshape(cout * weight_bits, n_g),
        bcoef,
        offset,
        rows,
        npx,
        gchunk,
    )


def _lane_dtype(bound: int) -> type:
    """Narrowest signed integer type holding ``[-bound, bound]``."""
    for dtype in (np.int16, np.int32):
        if bound <= np.iinfo(dtype).max:
            return dtype
    return np.int64


# ----------------------------------------------------------------------------------------------
# argument checking


def _check_int(name: str, value: object, lo: int, hi: int, problems: list[str]) -> bool:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, np.integer))
        or not (lo <= value <= hi)
    ):
        problems.append(f"{name} must be an integer in {lo}..{hi}, got {value!r}")
        return False
    return True


def _check_array(name: str, arr: object, dtype: type, ndim: int, problems: list[str]) -> bool:
    if not isinstance(arr, np.ndarray):
        problems.append(
            f"{name} must be a numpy {np.dtype(dtype).name} array, got {type(arr).__name__}"
        )
        return False
    ok = True
    if arr.dtype != dtype:
        problems.append(f"{name} must have dtype {np.dtype(dtype).name}, got {arr.dtype}")
        ok = False
    if arr.ndim != ndim:
        problems.append(f"{name} must have {ndim} dimensions, got shape {arr.shape}")
        ok = False
    return ok


def _validate(
    x_codes: np.ndarray,
    w_codes: np.ndarray,
    thresholds: np.ndarray,
    negative: np.ndarray | None,
    *,
    kernel: int,
    stride: int,
    padding: int,
    feature_bits: int,
    weight_bits: int,
    accumulator_bits: int,
    overflow: str,
    weight_encoding: str,
    ic_batch: int,
    oc_batch: int,
    core_feature_bits: int | None,
    core_weight_bits: int | None,
    pack_1x1: bool,
    gen1: bool,
) -> None:
    """Collect every problem with the arguments; raise one :class:`AccelsimError` listing them.
    ``gen1``: the :func:`conv3x3` rules (padding 0 or 1)."""
    problems: list[str] = []
    k_ok = _check_int("kernel", kernel, 1, MAX_KERNEL, problems)
    k = int(kernel) if k_ok else None
    if not isinstance(stride, (int, np.integer)) or stride not in (1, 2):
        problems.append(f"stride must be 1 or 2, got {stride!r}")
    p_ok = True
    if gen1:
        if not isinstance(padding, (int, np.integer)) or padding not in (0, 1):
            problems.append(f"padding must be 0 or 1, got {padding!r}")
            p_ok = False
    elif k is not None:
        p_ok = _check_int("padding", padding, 0, k - 1, problems)
    if not isinstance(pack_1x1, (bool, np.bool_)):
        problems.append(f"pack_1x1 must be True or False, got {pack_1x1!r}")
    elif pack_1x1 and k is not None and k != 1:
        problems.append(f"pack_1x1 needs a 1x1 kernel, got kernel {k}")
    a_ok = _check_int("feature_bits", feature_bits, 1, MAX_BITS, problems)
    w_ok = _check_int("weight_bits", weight_bits, 1, MAX_BITS, problems)
    _check_int("accumulator_bits", accumulator_bits, 2, MAX_ACCUMULATOR_BITS, problems)
    _check_int("ic_batch", ic_batch, 1, 1 << 20, problems)
    _check_int("oc_batch", oc_batch, 1, 1 << 20, problems)
    for name, value in (
        ("core_feature_bits", core_feature_bits),
        ("core_weight_bits", core_weight_bits),
    ):
        if value is not None:
            _check_int(name, value, 1, MAX_BITS, problems)
    if overflow not in OVERFLOW_MODES:
        problems.append(f"overflow must be one of {', '.join(OVERFLOW_MODES)}, got {overflow!r}")
    if weight_encoding not in WEIGHT_ENCODINGS:
        problems.append(
            f"weight_encoding must be one of {', '.join(WEIGHT_ENCODINGS)}, got {weight_encoding!r}"
        )

    x_ok = _check_array("x_codes", x_codes, np.uint8, 3, problems)
    wt_ok = _check_array("w_codes", w_codes, np.uint8, 4, problems)
    t_ok = _check_array("thresholds", thresholds, np.int64, 2, problems)
    if wt_ok and k is not None and w_codes.shape[1:3] != (k, k):
        problems.append(f"w_codes must be OHWI with a {k}x{k} kernel, got shape {w_codes.shape}")
        wt_ok = False
    if x_ok and wt_ok and x_codes.shape[2] != w_codes.shape[3]:
        problems.append(
            f"w_codes has {w_codes.shape[3]} input channels, x_codes has {x_codes.shape[2]}"
        )
    if x_ok and 0 in x_codes.shape:
        problems.append(f"x_codes must not be empty, got shape {x_codes.shape}")
        x_ok = False
    if wt_ok and w_codes.shape[0] == 0:
        problems.append("w_codes must have at least one output channel")
        wt_ok = False
    if x_ok and a_ok and int(x_codes.max()) >= (1 << feature_bits):
        problems.append(
            f"x_codes has code {int(x_codes.max())}, above the {feature_bits}-bit "
            f"maximum {(1 << feature_bits) - 1}"
        )
    if wt_ok and w_ok and int(w_codes.max()) >= (1 << weight_bits):
        problems.append(
            f"w_codes has code {int(w_codes.max())}, above the {weight_bits}-bit "
            f"maximum {(1 << weight_bits) - 1}"
        )
    if t_ok:
        levels = thresholds.shape[1] + 1
        if levels < 2 or levels & (levels - 1) or levels > (1 << MAX_BITS):
            problems.append(
                f"thresholds must have 2^A_out - 1 columns (A_out in 1..{MAX_BITS}), "
                f"got {thresholds.shape[1]}"
            )
        if wt_ok and thresholds.shape[0] != w_codes.shape[0]:
            problems.append(
                f"thresholds has {thresholds.shape[0]} rows, w_codes has "
                f"{w_codes.shape[0]} output channels"
            )
        if thresholds.shape[1] > 1:
            down = thresholds[:, 1:] < thresholds[:, :-1]
            if down.any():
                bad = np.argwhere(down)
                c, q = (int(v) for v in bad[0])
                problems.append(
                    f"thresholds must be non-decreasing: channel {c} has T[{q}] = "
                    f"{int(thresholds[c, q])} > T[{q + 1}] = {int(thresholds[c, q + 1])}"
                    + (f" ({len(bad) - 1} more)" if len(bad) > 1 else "")
                )
    if negative is not None and _check_array("negative", negative, np.bool_, 1, problems):
        if wt_ok and negative.shape[0] != w_codes.shape[0]:
            problems.append(
                f"negative has {negative.shape[0]} entries, w_codes has "
                f"{w_codes.shape[0]} output channels"
            )
    if x_ok and k is not None and p_ok and isinstance(stride, (int, np.integer)):
        h, w = x_codes.shape[:2]
        if min(h, w) + 2 * padding < k:
            problems.append(
                f"input {h}x{w} with padding {padding} is smaller than the {k}x{k} kernel"
            )
    if problems:
        raise AccelsimError(problems)


# ----------------------------------------------------------------------------------------------
# public entry points


def conv_core(
    x_codes: np.ndarray,
    w_codes: np.ndarray,
    thresholds: np.ndarray,
    *,
    kernel: int,
    stride: int,
    padding: int,
    feature_bits: int,
    weight_bits: int,
    accumulator_bits: int,
    overflow: Literal["saturate", "wrap"],
    weight_encoding: Literal["dorefa", "twos_complement"],
    negative: np.ndarray | None = None,
    ic_batch: int = 16,
    oc_batch: int = 16,
    core_feature_bits: int | None = None,
    core_weight_bits: int | None = None,
    pack_1x1: bool = False,
    with_acc: bool = True,
) -> ConvResult:
    """One ``k x k`` conv layer of the core on unpacked codes (spec §2, §3.4, §7.2; module
    docstring for the cycle order).

    Args:
        x_codes: input activations, HWC uint8, each ``< 2^feature_bits``. Any strides (views of
            a larger map are fine).
        w_codes: weights, OHWI ``(C_out, k, k, C_in)`` uint8 codes, each ``< 2^weight_bits``.
        thresholds: ``(C_out, 2^A_out - 1)`` int64, non-decreasing per channel; ``A_out`` (1..8)
            follows from the shape.
        kernel: ``k``, 1..9 (the machine's §7.2 sizes are 1, 3, 5, 7).
        stride: 1 or 2. padding: 0..k-1 (the input plus padding must hold one window).
        feature_bits, weight_bits: operand widths 1..8.
        accumulator_bits: signed accumulator width 2..62.
        overflow: ``"saturate"`` or ``"wrap"`` per addition.
        weight_encoding: ``"dorefa"`` or ``"twos_complement"`` (:mod:`accelsim.kernels.formats`).
        negative: ``(C_out,)`` bool, channels that use ``acc <= T``; default all False.
        ic_batch: channels per partial sum (one PE cycle); oc_batch: output lanes (orders events).
        core_feature_bits, core_weight_bits: widths of the PE array. ``None`` means as wide as the
            layer; a narrower core runs the layer bit-serially (module docstring).
        pack_1x1: ``k = 1`` only: nine ib groups per cycle (§7.2 ``core.pack_1x1``).
        with_acc: return the final accumulators in ``ConvResult.acc``; ``False`` returns
            ``None`` there and spares the first-layer kernels their store (the functional
            model reads only the codes and the overflow report).

    Raises:
        AccelsimError: one line per problem with the arguments.
    """
    from accelsim.kernels.args import normalize  # array-likes, any integer dtype, no bools

    x_codes, w_codes, thresholds, negative = normalize(
        x_codes, w_codes, thresholds, negative, stride=stride, padding=padding
    )
    return _conv(
        x_codes,
        w_codes,
        thresholds,
        kernel=kernel,
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow=overflow,
        weight_encoding=weight_encoding,
        negative=negative,
        ic_batch=ic_batch,
        oc_batch=oc_batch,
        core_feature_bits=core_feature_bits,
        core_weight_bits=core_weight_bits,
        pack_1x1=pack_1x1,
        with_acc=with_acc,
    )


def conv3x3(
    x_codes: np.ndarray,
    w_codes: np.ndarray,
    thresholds: np.ndarray,
    *,
    stride: int,
    padding: int,
    feature_bits: int,
    weight_bits: int,
    accumulator_bits: int,
    overflow: Literal["saturate", "wrap"],
    weight_encoding: Literal["dorefa", "twos_complement"],
    negative: np.ndarray | None = None,
    ic_batch: int = 16,
    oc_batch: int = 16,
    core_feature_bits: int | None = None,
    core_weight_bits: int | None = None,
    with_acc: bool = True,
) -> ConvResult:
    """One 3x3 conv layer of the generation-1 core (spec §2, §3.4): :func:`conv_core` with
    ``kernel=3`` and padding 0 or 1.

    Args:
        x_codes: input activations, HWC uint8, each ``< 2^feature_bits``.
        w_codes: weights, OHWI ``(C_out, 3, 3, C_in)`` uint8 codes, each ``< 2^weight_bits``.
        thresholds: ``(C_out, 2^A_out - 1)`` int64, non-decreasing per channel; ``A_out`` (1..8)
            follows from the shape.
        stride, padding: 1 or 2; 0 or 1.
        feature_bits, weight_bits: operand widths 1..8.
        accumulator_bits: signed accumulator width 2..62.
        overflow: ``"saturate"`` or ``"wrap"`` per addition.
        weight_encoding: ``"dorefa"`` or ``"twos_complement"`` (:mod:`accelsim.kernels.formats`).
        negative: ``(C_out,)`` bool, channels that use ``acc <= T``; default all False.
        ic_batch: channels per partial sum (one PE cycle); oc_batch: output lanes (orders events).
        core_feature_bits, core_weight_bits: widths of the PE array. ``None`` means as wide as the
            layer; a narrower core runs the layer bit-serially (module docstring).
        with_acc: as :func:`conv_core`.

    Raises:
        AccelsimError: one line per problem with the arguments.
    """
    from accelsim.kernels.args import normalize  # array-likes, any integer dtype, no bools

    x_codes, w_codes, thresholds, negative = normalize(
        x_codes, w_codes, thresholds, negative, stride=stride, padding=padding
    )
    return _conv(
        x_codes,
        w_codes,
        thresholds,
        kernel=3,
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow=overflow,
        weight_encoding=weight_encoding,
        negative=negative,
        ic_batch=ic_batch,
        oc_batch=oc_batch,
        core_feature_bits=core_feature_bits,
        core_weight_bits=core_weight_bits,
        gen1=True,
        with_acc=with_acc,
    )


def _conv3x3(x_codes: np.ndarray, w_codes: np.ndarray, thresholds: np.ndarray, **kw) -> ConvResult:  # noqa: ANN003
    """:func:`conv3x3` with the test-only ``path`` override of :func:`_conv`."""
    return _conv(x_codes, w_codes, thresholds, kernel=3, gen1=True, **kw)


def _conv(
    x_codes: np.ndarray,
    w_codes: np.ndarray,
    thresholds: np.ndarray,
    *,
    kernel: int,
    stride: int,
    padding: int,
    feature_bits: int,
    weight_bits: int,
    accumulator_bits: int,
    overflow: str,
    weight_encoding: str,
    negative: np.ndarray | None = None,
    ic_batch: int = 16,
    oc_batch: int = 16,
    core_feature_bits: int | None = None,
    core_weight_bits: int | None = None,
    pack_1x1: bool = False,
    gen1: bool = False,
    with_acc: bool = True,
    path: Literal[
        "auto", "popcount", "planar", "combo", "vnni", "lut", "dense", "checked"
    ] = "auto",
) -> ConvResult:
    """:func:`conv_core` with a ``path`` override for tests and benchmarks: the fast dot
    product of ``popcount`` (widths <= 2 only), ``planar`` (runs of channel-subset sums),
    ``combo`` (runs of weight-combination sums), ``vnni`` (int8 dot products; where the host
    or the layer does not allow them, the ``auto`` choice), ``lut`` (tables) or ``dense``
    (multiply-add); ``checked`` replays every cycle for every pixel."""
    _validate(
        x_codes,
        w_codes,
        thresholds,
        negative,
        kernel=kernel,
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow=overflow,
        weight_encoding=weight_encoding,
        ic_batch=ic_batch,
        oc_batch=oc_batch,
        core_feature_bits=core_feature_bits,
        core_weight_bits=core_weight_bits,
        pack_1x1=pack_1x1,
        gen1=gen1,
    )
    k = int(kernel)
    n_taps = k * k
    h, w, cin = x_codes.shape
    cout = w_codes.shape[0]
    ho, wo = output_size(h, stride, padding, k), output_size(w, stride, padding, k)
    a_core = min(feature_bits, core_feature_bits or feature_bits)
    w_core = min(weight_bits, core_weight_bits or weight_bits)
    if negative is None:
        negative = np.zeros(cout, dtype=np.bool_)
    lo = -(1 << (accumulator_bits - 1))
    hi = (1 << (accumulator_bits - 1)) - 1
    group = ic_batch * (PACK_1X1_GROUPS if pack_1x1 else 1)  # channels per cycle
    amax = (1 << feature_bits) - 1

    wcodes = np.ascontiguousarray(w_codes.reshape(cout, n_taps, cin))

    # M_w (module docstring): every term x_j w_i 2^shift has the sign of w_i, so a prefix sum is
    # bounded by S_x * max(positive part, negative part) of sum_i w_i 2^(i Wc) over the codes:
    # dorefa 2^W - 1 (all chunks positive / negative), twos' complement 2^(W-1) (the value -2^(W-1))
    bound_w = (1 << weight_bits) - 1 if weight_encoding == "dorefa" else 1 << (weight_bits - 1)
    limit = min(hi, -lo)

    out = np.empty((ho, wo, cout), dtype=np.uint8)
    # the accumulator's values fit its width: the narrowest of int16 / int32 / int64 holding it
    acc_dtype = _lane_dtype(hi)
    pending = np.zeros((ho, wo), dtype=np.bool_)  # pixels left to the checked pass
    # a negative channel counts acc <= T, i.e. -acc >= -T: one comparison form for all channels.
    # acc stays in [lo, hi], so clipping T to [lo - 1, hi + 1] changes no count (and cannot
    # overflow when negated)
    sign = np.where(negative, -1, 1).astype(np.int64)
    thr = _signed_thresholds(thresholds, negative, lo, hi)
    fast_args = (thr, sign, stride, limit, bound_w)

    # planar lanes hold S_x and every fast pixel's |acc| (< limit and <= the window's bound)
    n_pos = n_taps * cin
    planar_lane = _lane_dtype(max(min(limit, n_pos * amax * bound_w), n_pos * amax))
    planar_limit = min(limit, int(np.iinfo(planar_lane).max))
    # the image on a VNNI host (accelsim/kernels/vnni.py): a 3x3 window row in three dwords,
    # weight values in signed bytes, and no window that could reach the accumulator's limit
    # (so no pixel for the checked pass)
    vnni = (
        path in ("auto", "vnni")
        and k == VNNI_KERNEL
        and k * cin <= VNNI_ROW_BYTES
        and bound_w <= (127 if weight_encoding == "dorefa" else 128)
        and n_pos * amax * bound_w < limit
        and vnni_target()
    )
    if path == "vnni" and not vnni:
        path = "auto"
    if path == "auto":
        # few input channels (the image): int8 dot products where the host has them (also
        # for 1-bit weights: faster than the combinations since 512-bit vectors, see the
        # README's datapath figures), else adding runs beats words / tables; for weights
        # wider than the combinations take, planar runs, except a 1x1 kernel (tables are faster)
        few = cin <= PLANAR_MAX_CIN and k <= 3 and planar_lane != np.int64
        if vnni:
            path = "vnni"
        elif few and weight_bits <= COMBO_MAX_BITS:
            path = "combo"
        elif few and k > 1:
            path = "planar"
        else:
            path = "popcount" if feature_bits <= 2 and weight_bits <= 2 else "lut"
    lane = _lane_dtype(n_taps * cin * amax * bound_w)
    if path == "lut" and lane == np.int64:
        path = "dense"  # the table lanes hold at most 32 bits
    if path == "combo" and weight_bits > COMBO_MAX_BITS:
        path = "planar"  # 2^W codes of one channel would not fit the combination rows
    if path in ("planar", "combo") and planar_lane == np.int64:
        path = "dense"
    # the zero-padded map; the popcount kernel's per-pixel planes are packed from x_codes
    # directly (_pack_padded), so it is made there only if the checked pass needs it
    xp: np.ndarray | None = None
    if path != "popcount":
        xp = _pad_map(x_codes, padding)
    # the first-layer kernels store acc only when asked (a placeholder otherwise)
    keep_acc = with_acc or path not in ("planar", "combo", "vnni")
    if path in ("lut", "planar", "combo"):
        # the row kernels work channel-major: their accumulators come back as a transposed
        # view (same shape and values, other strides)
        acc_t = np.empty((ho, cout, wo) if keep_acc else (1, 1, 1), dtype=acc_dtype)
        acc = acc_t.transpose(0, 2, 1)
    else:
        acc = np.empty((ho, wo, cout) if keep_acc else (1, 1, 1), dtype=acc_dtype)
    if path == "checked":
        pending[:] = True
    elif path == "popcount":
        if not (feature_bits <= 2 and weight_bits <= 2):
            raise ValueError("the popcount path takes widths up to 2 bits")
        nw = -(-cin // 64)
        n_win = -(-n_taps * cin // 64)
        im2col = n_win < n_taps * nw and ho * wo * n_taps * cin <= _IM2COL_MAX_BYTES
        if im2col:  # small or ragged C_in: pack the whole k x k x C_in window densely
            xp = _pad_map(x_codes, padding)
            taps = [
                xp[
                    ky : ky + stride * (ho - 1) + 1 : stride,
                    kx : kx + stride * (wo - 1) + 1 : stride,
                ]
                for ky in range(k)
                for kx in range(k)
            ]
            windows = np.stack(taps, axis=2).reshape(ho * wo, n_taps * cin)
            xw = _pack_rows(windows, feature_bits, n_win).reshape(ho, wo, feature_bits, n_win)
            wb = _pack_rows(wcodes.reshape(cout, n_taps * cin), weight_bits, n_win)
            wbt = np.ascontiguousarray(wb.transpose(2, 1, 0))
            layout = LAYOUT_IM2COL
        else:
            xw = _pack_padded(x_codes, padding, feature_bits, nw)
            wb = _pack_rows(wcodes.reshape(cout * n_taps, cin), weight_bits, nw)
            wb = wb.reshape(cout, k, k, weight_bits, nw)
            if k == 3 and feature_bits == 2:  # chunk (ky, w): taps (ky, 0..2), side by side
                layout = LAYOUT_ROWS
                wbt = np.ascontiguousarray(wb.transpose(1, 4, 2, 3, 0))
            else:  # word t * nw + w
                layout = LAYOUT_TAPS
                wbt = np.ascontiguousarray(wb.transpose(1, 2, 4, 3, 0))
            wbt = wbt.reshape(n_taps * nw, weight_bits, cout)
        # sums = S_0 + 2 S_1 (dorefa) or S_0 - 2 S_1 (two's complement), S_b the activations
        # under weight code bit b; dorefa v = 2n - (2^W - 1) = 2 (S_0 + 2 S_1) - (2^W - 1) S_x;
        # two's complement W = 1: v = -n
        # whole chunks of weight words for _accumulate_planes (zero words add nothing)
        n_pad = -wbt.shape[0] % PLANE_CHUNK
        if n_pad:
            wbt = np.concatenate([wbt, np.zeros((n_pad, *wbt.shape[1:]), dtype=wbt.dtype)])
        twos = weight_encoding != "dorefa"
        if not twos:
            scale, offset = 2, -((1 << weight_bits) - 1)
        else:
            scale, offset = (-1 if weight_bits == 1 else 1), 0
        _conv_popcount(xw, layout, wbt, scale, offset, twos, k, *fast_args, out, acc, pending)
    elif path == "lut":
        narrow = acc.dtype != np.int64
        thr_fast = np.clip(thr, -limit, limit).astype(acc.dtype)
        _conv_lut(
            *_lut_operands(xp, wcodes, k, stride, wo, weight_bits, weight_encoding, lane),
            thr_fast,
            narrow,
            k,
            *fast_args,
            out,
            acc_t,
            pending,
        )
    elif path == "planar":
        # thresholds of the sign * acc >= T form, padded with the unreachable limit; a negative
        # channel compares ~acc = -acc - 1 >= T - 1
        thr_x = np.empty((max(3, -(-thr.shape[0] // 3) * 3), cout), dtype=planar_lane)
        _lane_thresholds(thr, negative, planar_limit, thr_x)
        with np.errstate(over="ignore"):  # lanes wrap (numpy scalars warn without the JIT)
            _conv_planar(
                *_planar_operands(xp, wcodes, k, stride, weight_bits, weight_encoding, planar_lane),
                thr_x,
                -np.asarray(negative, dtype=planar_lane),
                planar_limit,
                bound_w,
                out,
                acc_t,
                pending,
                keep_acc,
            )
    elif path == "combo":
        thr_x = np.empty((max(3, -(-thr.shape[0] // 3) * 3), cout), dtype=planar_lane)
        _lane_thresholds(thr, negative, planar_limit, thr_x)
        need_sx = n_pos * amax * bound_w >= planar_limit  # else every window's bound fits
        with np.errstate(over="ignore"):  # lanes wrap (numpy scalars warn without the JIT)
            _conv_combo(
                *_combo_operands(
                    xp, wcodes, k, stride, weight_bits, weight_encoding, planar_lane, need_sx
                ),
                max(1, -(-ho // (COMBO_BLOCKS_PER_THREAD * numba.get_num_threads()))),
                thr_x,
                -np.asarray(negative, dtype=planar_lane),
                planar_limit,
                bound_w,
                out,
                acc_t,
                pending,
                keep_acc,
            )
    elif path == "vnni":
        n_rows = max(3, -(-thr.shape[0] // 3) * 3)
        # three thresholds applied in registers: in int16 lanes when every sum fits them
        narrow = n_rows == 3 and not keep_acc and n_pos * amax * bound_w < VNNI_INT16_LIMIT
        vdt = np.int16 if narrow else np.int32
        vlim = min(limit, int(np.iinfo(vdt).max))  # every |acc| is below it
        cpad = -(-cout // VNNI_BLOCK) * VNNI_BLOCK  # thresholds of the padding channels: any
        thr_x = np.zeros((n_rows, cpad), dtype=vdt)
        _lane_thresholds(thr, negative, vlim, thr_x[:, :cout])
        flip = np.zeros(cpad, dtype=vdt)
        flip[:cout] = -np.asarray(negative, dtype=vdt)
        xs = np.zeros(xp.size + VNNI_ROW_BYTES, dtype=np.uint8)  # the padded map, read slack
        xs[: xp.size] = xp.reshape(-1)
        wvals = _weight_values(wcodes, weight_bits, weight_encoding).reshape(cout, k, k, cin)
        out_pad = out if cpad == cout else np.empty((ho, wo, cpad), dtype=np.uint8)
        conv_vnni(
            xs,
            xp.shape[1] * cin,
            stride,
            stride * cin,
            vnni_weights(wvals, VNNI_LANES if narrow else 0),
            thr_x,
            flip,
            out_pad,
            acc,
            keep_acc,
        )
        if out_pad is not out:
            out[:] = out_pad[..., :cout]
    else:
        wvals = _weight_values(wcodes, weight_bits, weight_encoding)
        wt = np.ascontiguousarray(wvals.reshape(cout, n_taps * cin).T.astype(lane))
        _conv_dense(xp, wt, k, *fast_args, out, acc, pending)

    if not pending.any():  # every pixel's bound fits: no overflow
        return ConvResult(out, 0, None, acc if with_acc else None)
    if not keep_acc:  # the checked pass writes the pending pixels' accumulators (same layout)
        acc = np.empty((ho, cout, wo), dtype=acc_dtype).transpose(0, 2, 1)
    row_events = np.zeros(ho, dtype=np.int64)
    row_first = np.full((ho, 2), -1, dtype=np.int64)
    # some window could push the accumulator out of range: replay its cycles
    ma = -(-feature_bits // a_core)
    if xp is None:
        xp = _pad_map(x_codes, padding)
    xc = np.empty((ma,) + xp.shape, dtype=np.uint8)
    for j in range(ma):
        xc[j] = (xp >> (j * a_core)) & ((1 << a_core) - 1)
    wvals = _weight_values(wcodes, weight_bits, weight_encoding)
    chunks, w_shifts = _weight_chunks(wvals, wcodes, weight_bits, w_core, weight_encoding)
    shifts = np.array([j * a_core + s for j in range(ma) for s in w_shifts], dtype=np.int64)
    n_cycles = ((k + 2) // 3) ** 2 * len(shifts) * -(-cin // group)
    # one cycle's partial sum: at most 9 taps x group channels x chunk maxima
    ps_bound = 9 * min(group, cin) * ((1 << a_core) - 1) * (1 << w_core)
    ps_proto = np.zeros((n_cycles, 1), dtype=_lane_dtype(ps_bound))
    wct = np.ascontiguousarray(chunks.transpose(0, 2, 3, 1))  # (mw, k*k, C_in, C_out)
    _conv_checked(
        xc,
        wct,
        shifts,
        ps_proto,
        k,
        group,
        stride,
        oc_batch,
        lo,
        hi,
        overflow == "wrap",
        pending,
        thr,
        sign,
        out,
        acc,
        row_events,
        row_first,
    )

    first: tuple[int, int, int] | None = None
    hit = np.flatnonzero(row_first[:, 0] >= 0)
    if hit.size:
        y = int(hit[0])
        first = (y, int(row_first[y, 0]), int(row_first[y, 1] % cout))
    return ConvResult(out, int(row_events.sum()), first, acc if with_acc else None)


def set_threads(n: int) -> None:
    """Set the number of numba threads used by the kernels (``numba.set_num_threads``)."""
    numba.set_num_threads(n)
