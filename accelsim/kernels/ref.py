"""Plain numpy oracle of the conv core datapath (``shared/spec/conv-core.md`` §2, §3.4, §7.2).

Written independently of :mod:`accelsim.kernels.conv` (shares no helper with it): it forms every
partial sum of every PE cycle for all pixels and channels at once, then replays the cycles in
order with whole-array saturate / wrap. Slow and simple on purpose; the tests compare the numba
kernels with it bit for bit. Also holds the DoReFa float path (:func:`dorefa_float_layer`) that
the threshold fold of :mod:`accelsim.kernels.dorefa` must reproduce.

Cycle order per ``(y, x, ob)`` (see the conv module): sub-kernel ``(a, b)`` of a ``k x k`` kernel
outer (``d = ceil(k/3)``, taps rows ``3a..3a+2``, columns ``3b..3b+2``, those beyond ``k``
masked), then activation chunk ``j``, weight chunk ``i``, and input slice ``ib`` innermost (or,
for a packed 1x1, the step of nine ib groups); the cycle index counts up in that order.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = [
    "RefResult",
    "conv3x3_ref",
    "conv_core_ref",
    "dorefa_float_layer",
    "float_conv3x3",
]


class RefResult(NamedTuple):
    """Same fields as :class:`accelsim.kernels.conv.ConvResult`."""

    out: np.ndarray
    overflow_count: int
    first_overflow: tuple[int, int, int] | None
    acc: np.ndarray


def _decode(codes: np.ndarray, bits: int, encoding: str) -> np.ndarray:
    """Signed integer meaning of weight codes (spec §2), int64."""
    n = codes.astype(np.int64)
    if encoding == "dorefa":
        return 2 * n - (2**bits - 1)
    sign = 2 ** (bits - 1)
    return (n ^ sign) - sign  # two's complement by flipping the sign bit


def _windows(
    xp: np.ndarray, stride: int, ho: int, wo: int, taps: list[tuple[int, int]] | None = None
) -> np.ndarray:
    """(Ho, Wo, n_taps, C) float64 windows of the padded map at the kernel offsets ``taps``
    ((ky, kx) pairs; default the 3x3 taps in raster order)."""
    if taps is None:
        taps = [(ky, kx) for ky in range(3) for kx in range(3)]
    views = [
        xp[ky : ky + stride * (ho - 1) + 1 : stride, kx : kx + stride * (wo - 1) + 1 : stride]
        for ky, kx in taps
    ]
    return np.stack(views, axis=2).astype(np.float64)


def _dot(win: np.ndarray, w: np.ndarray) -> np.ndarray:
    """sum over (tap, channel) of win (Ho, Wo, n, c) times w (Co, n, c), exact, int64.

    float64 matmul is exact here: every term and partial sum is an integer below 2^53.
    """
    ho, wo = win.shape[:2]
    lhs = win.reshape(ho * wo, -1)
    rhs = w.reshape(w.shape[0], -1).astype(np.float64).T
    return np.rint(lhs @ rhs).astype(np.int64).reshape(ho, wo, w.shape[0])


def _act_digits(x: np.ndarray, bits: int, core_bits: int) -> list[tuple[np.ndarray, int]]:
    """Unsigned base-2^core_bits digits of activations, with their weights (shifts)."""
    base = 2**core_bits
    count = -(-bits // core_bits)
    return [((x.astype(np.int64) // base**j) % base, j * core_bits) for j in range(count)]


def _weight_digits(
    codes: np.ndarray, bits: int, core_bits: int, encoding: str
) -> list[tuple[np.ndarray, int]]:
    """Weight chunk values and shifts (dorefa: per-chunk dorefa values; twos: unsigned low
    chunks and a signed top chunk)."""
    count = -(-bits // core_bits)
    base = 2**core_bits
    n = codes.astype(np.int64)
    v = _decode(codes, bits, encoding)
    digits = []
    for i in range(count):
        top = i == count - 1
        if encoding == "dorefa":
            width = bits - i * core_bits if top else core_bits
            d = (n // base**i) % 2**width
            digits.append((2 * d - (2**width - 1), i * core_bits))
        else:
            d = v // base**i if top else (v // base**i) % base  # floor division = arithmetic shift
            digits.append((d, i * core_bits))
    return digits


def conv_core_ref(
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
) -> RefResult:
    """Oracle of :func:`accelsim.kernels.conv.conv_core` (same arguments, no input checking).

    Cycles per ``(y, x, ob)``: sub-kernel ``(a, b)`` outer (``a`` first), then activation chunk,
    weight chunk, and innermost the input slice ``ib`` -- or, with ``pack_1x1``, the step ``q``
    whose one addition is the sum of the partial sums of ib groups ``9q .. 9q + 8``.
    """
    k = kernel
    h, w, cin = x_codes.shape
    cout = w_codes.shape[0]
    ho = (h + 2 * padding - k) // stride + 1
    wo = (w + 2 * padding - k) // stride + 1
    xp = np.pad(x_codes, ((padding, padding), (padding, padding), (0, 0)))
    a_core = min(feature_bits, core_feature_bits or feature_bits)
    w_core = min(weight_bits, core_weight_bits or weight_bits)
    lo, hi = -(2 ** (accumulator_bits - 1)), 2 ** (accumulator_bits - 1) - 1
    n_ib = -(-cin // ic_batch)
    d = -(-k // 3)
    if pack_1x1:
        steps = [list(range(9 * q, min(n_ib, 9 * q + 9))) for q in range(-(-n_ib // 9))]
    else:
        steps = [[ib] for ib in range(n_ib)]

    acc = np.zeros((ho, wo, cout), dtype=np.int64)
    first_t = np.full((ho, wo, cout), -1, dtype=np.int64)
    count = 0
    t = 0
    for a in range(d):
        for b in range(d):
            taps = [
                (ky, kx)
                for ky in range(3 * a, 3 * a + 3)
                for kx in range(3 * b, 3 * b + 3)
                if ky < k and kx < k  # taps beyond the kernel are masked: they add nothing
            ]
            for xj, xshift in _act_digits(xp, feature_bits, a_core):
                win = _windows(xj, stride, ho, wo, taps)
                for wi, wshift in _weight_digits(w_codes, weight_bits, w_core, weight_encoding):
                    wsub = np.stack([wi[:, ky, kx, :] for ky, kx in taps], axis=1)
                    for step in steps:
                        psum = np.zeros((ho, wo, cout), dtype=np.int64)
                        for ib in step:
                            sl = slice(ib * ic_batch, min(cin, (ib + 1) * ic_batch))
                            psum += _dot(win[..., sl], wsub[..., sl])
                        exact = acc + psum * 2 ** (xshift + wshift)
                        event = (exact < lo) | (exact > hi)
                        count += int(event.sum())
                        first_t[event & (first_t < 0)] = t
                        if overflow == "wrap":
                            acc = np.mod(exact - lo, 2**accumulator_bits) + lo
                        else:
                            acc = np.clip(exact, lo, hi)
                        t += 1

    first = None
    ys, xs, cs = np.nonzero(first_t >= 0)
    if ys.size:
        order = np.lexsort((cs, first_t[ys, xs, cs], cs // oc_batch, xs, ys))
        first_k = order[0]
        first = (int(ys[first_k]), int(xs[first_k]), int(cs[first_k]))

    neg = np.zeros(cout, dtype=bool) if negative is None else np.asarray(negative, dtype=bool)
    above = (acc[..., None] >= thresholds[None, None]).sum(axis=-1)
    below = (acc[..., None] <= thresholds[None, None]).sum(axis=-1)
    out = np.where(neg[None, None, :], below, above).astype(np.uint8)
    return RefResult(out, count, first, acc)


def conv3x3_ref(
    x_codes: np.ndarray,
    w_codes: np.ndarray,
    thresholds: np.ndarray,
    *,
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
) -> RefResult:
    """Oracle of :func:`accelsim.kernels.conv.conv3x3`: :func:`conv_core_ref` with k = 3."""
    return conv_core_ref(
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
    )


def float_conv3x3(x: np.ndarray, w: np.ndarray, *, stride: int, padding: int) -> np.ndarray:
    """Float64 3x3 conv of HWC ``x`` with OHWI ``w`` (cross-correlation, as the core)."""
    h, wd, cin = x.shape
    ho = (h + 2 * padding - 3) // stride + 1
    wo = (wd + 2 * padding - 3) // stride + 1
    xp = np.pad(np.asarray(x, dtype=np.float64), ((padding, padding), (padding, padding), (0, 0)))
    win = _windows(xp, stride, ho, wo).reshape(ho * wo, 9 * cin)
    wf = np.asarray(w, dtype=np.float64).reshape(w.shape[0], 9 * cin)
    return (win @ wf.T).reshape(ho, wo, w.shape[0])


def dorefa_float_layer(
    x_codes: np.ndarray,
    w_codes: np.ndarray,
    *,
    weight_scale: float,
    feature_bits: int,
    weight_bits: int,
    out_bits: int,
    stride: int,
    padding: int,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
    bias: float | np.ndarray = 0.0,
    weight_encoding: str = "dorefa",
) -> np.ndarray:
    """The DoReFa float path of one layer (definition in :mod:`accelsim.kernels.dorefa`).

    The conv of the dequantised values ``(x / (2^A - 1)) * (weight_scale * v)`` is taken as
    ``z_int * scale`` with ``z_int`` the conv of the integer values (exact in float64) and
    ``scale = weight_scale / (2^A - 1)``; then bias, batch-norm, clip to [0, 1] and
    ``quantize_k`` (round half to even). Returns the ``out_bits`` codes (uint8).
    """
    values = _decode(w_codes, weight_bits, weight_encoding).astype(np.float64)
    z_int = float_conv3x3(x_codes.astype(np.float64), values, stride=stride, padding=padding)
    scale = np.float64(weight_scale) / np.float64(2**feature_bits - 1)
    z = z_int * scale
    sd = np.sqrt(np.asarray(var, dtype=np.float64) + np.float64(eps))
    y = np.asarray(gamma, np.float64) * (
        ((z + np.asarray(bias, np.float64)) - np.asarray(mean, np.float64)) / sd
    )
    y = y + np.asarray(beta, np.float64)
    levels = np.float64(2**out_bits - 1)
    return np.rint(np.minimum(np.maximum(y, 0.0), 1.0) * levels).astype(np.uint8)
