"""DoReFa-Net quantizers and the fold of batch-norm into integer thresholds (spec §2).

``shared/spec/conv-core.md`` §2: activations are unsigned A-bit codes, weights W-bit codes
(:mod:`accelsim.kernels.formats`), and "batch-norm, clipping and DoReFa activation quantization
fold into per-channel integer thresholds (as FINN's MultiThreshold)". This module defines the
float reference of that output stage precisely and folds it exactly.

Rounding
--------
``round`` below is IEEE round-half-to-even (``numpy.rint``), the rounding of ``tf.round`` used by
the DoReFa reference code (arXiv 1606.06160, tensorpack). ``quantize_k(r) = round((2^k-1) r)``
returns the *integer code*; the paper's real value is ``code / (2^k - 1)``.

Quantizers
----------
* activations: ``code = round((2^A - 1) * clip(x, 0, 1))``, value ``code / (2^A - 1)``;
* weights, k = 1: ``code = 1 if w >= 0 else 0`` (sign, with ``sign(0) = +1``), value
  ``E(|w|) * (2*code - 1)`` where ``E(|w|)`` is the layer's mean absolute weight;
* weights, k > 1: ``r = tanh(w) / (2 max|tanh(w)|) + 1/2`` (``r = 1/2`` if all weights are 0),
  ``code = round((2^k - 1) r)``, value
  ``2 code / (2^k - 1) - 1 = (2 code - (2^k - 1)) / (2^k - 1)``.

In both weight cases the value is ``weight_scale * v`` with ``v`` the ``dorefa`` odd integer of the
code, so a conv of dequantised values is ``scale * acc`` with the integer accumulator ``acc`` and
``scale = weight_scale / (2^A - 1)`` (:func:`layer_scale`).

The float output path (the definition the fold reproduces)
----------------------------------------------------------
For an output channel with per-channel float64 parameters::

    z   = float64(acc) * scale                 # the conv of dequantised values
    y   = gamma * (((z + bias) - mean) / sqrt(var + eps)) + beta
    out = round(clip(y, 0, 1) * (2^A_out - 1))  # quantize_k of the clipped activation

evaluated in float64 in exactly that order (``z`` is exact when the conv is summed over integer
values, which is how :func:`accelsim.kernels.ref.dorefa_float_layer` computes it). Every step is
a monotone function of ``acc`` (non-decreasing when ``gamma >= 0``, non-increasing when
``gamma < 0``), rounding included, so the integer outputs form a monotone staircase in ``acc``.
:func:`fold_thresholds` finds each stair by a binary search over the integers of the accumulator
range that evaluates *this very float expression*: the thresholds reproduce the float path for
every reachable accumulator value, ties and rounding included, with nothing left to an epsilon.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.kernels.formats import MAX_BITS

__all__ = [
    "FoldedThresholds",
    "QuantizedWeights",
    "activation_scale",
    "dequantize_activations",
    "dequantize_weights",
    "fold_thresholds",
    "layer_scale",
    "postprocess",
    "quantize_activations",
    "quantize_k",
    "quantize_weights",
]

MAX_ACCUMULATOR_BITS = 62


class QuantizedWeights(NamedTuple):
    """DoReFa weight codes (``dorefa`` encoding) and the real value of one unit of ``v``."""

    codes: np.ndarray
    scale: float


class FoldedThresholds(NamedTuple):
    """Per-channel thresholds ``(C, 2^A - 1)`` int64 (non-decreasing) and the ``negative`` flags.

    ``out_c = #{k : acc >= T[c, k]}``, or ``#{k : acc <= T[c, k]}`` where ``negative[c]``.
    """

    thresholds: np.ndarray
    negative: np.ndarray


def _check_bits(name: str, bits: int) -> None:
    if not isinstance(bits, (int, np.integer)) or not 1 <= bits <= MAX_BITS:
        raise AccelsimError(f"{name} must be an integer in 1..{MAX_BITS}, got {bits!r}")


def activation_scale(bits: int) -> float:
    """Real value of one activation code step: ``1 / (2^bits - 1)``."""
    _check_bits("feature_bits", bits)
    return 1.0 / ((1 << bits) - 1)


def quantize_k(r: np.ndarray, bits: int) -> np.ndarray:
    """DoReFa ``quantize_k`` as an integer code: ``round((2^k - 1) r)`` (half to even), uint8.

    ``r`` must lie in ``[0, 1]``.
    """
    _check_bits("bits", bits)
    r = np.asarray(r, dtype=np.float64)
    if r.size and (not np.all(np.isfinite(r)) or r.min() < 0.0 or r.max() > 1.0):
        raise AccelsimError("quantize_k needs values in [0, 1]")
    return np.rint(r * float((1 << bits) - 1)).astype(np.uint8)


def quantize_activations(x: np.ndarray, bits: int) -> np.ndarray:
    """Activation codes ``round((2^A - 1) * clip(x, 0, 1))`` (uint8, same shape as ``x``)."""
    x = np.asarray(x, dtype=np.float64)
    if x.size and np.any(np.isnan(x)):
        raise AccelsimError("activations contain NaN")
    return quantize_k(np.clip(x, 0.0, 1.0), bits)


def dequantize_activations(codes: np.ndarray, bits: int) -> np.ndarray:
    """Real activations ``code / (2^A - 1)`` (float64)."""
    _check_bits("feature_bits", bits)
    return np.asarray(codes, dtype=np.float64) / float((1 << bits) - 1)


def quantize_weights(w: np.ndarray, bits: int) -> QuantizedWeights:
    """DoReFa weight quantizer (see module docstring): ``dorefa`` codes and ``weight_scale``."""
    _check_bits("weight_bits", bits)
    w = np.asarray(w, dtype=np.float64)
    if w.size == 0:
        raise AccelsimError("cannot quantize an empty weight tensor")
    if not np.all(np.isfinite(w)):
        raise AccelsimError("weights contain NaN or infinity")
    if bits == 1:
        return QuantizedWeights((w >= 0.0).astype(np.uint8), float(np.mean(np.abs(w))))
    t = np.tanh(w)
    peak = float(np.max(np.abs(t)))
    r = np.full_like(t, 0.5) if peak == 0.0 else t / (2.0 * peak) + 0.5
    # r can leave [0, 1] by an ulp only through rounding of the division; clip is exact otherwise.
    return QuantizedWeights(quantize_k(np.clip(r, 0.0, 1.0), bits), 1.0 / float((1 << bits) - 1))


def dequantize_weights(codes: np.ndarray, bits: int, scale: float) -> np.ndarray:
    """Real weights ``scale * (2 code - (2^W - 1))`` of ``dorefa`` codes (float64)."""
    _check_bits("weight_bits", bits)
    v = 2.0 * np.asarray(codes, dtype=np.float64) - float((1 << bits) - 1)
    return float(scale) * v


def layer_scale(feature_bits: int, weight_scale: float | np.ndarray) -> float | np.ndarray:
    """Real value of one accumulator unit: ``weight_scale / (2^A - 1)`` (float64)."""
    _check_bits("feature_bits", feature_bits)
    return np.float64(weight_scale) / np.float64((1 << feature_bits) - 1)


def postprocess(
    acc: np.ndarray,
    *,
    scale: float | np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float,
    out_bits: int,
    bias: float | np.ndarray = 0.0,
) -> np.ndarray:
    """The float output path of the module docstring, on accumulators ``acc (..., C)``.

    Per-channel parameters broadcast against the last axis. Returns uint8 codes.
    """
    z = np.asarray(acc).astype(np.float64) * np.asarray(scale, dtype=np.float64)
    sd = np.sqrt(np.asarray(var, dtype=np.float64) + np.float64(eps))
    y = np.asarray(gamma, dtype=np.float64) * (
        ((z + np.asarray(bias, dtype=np.float64)) - np.asarray(mean, dtype=np.float64)) / sd
    ) + np.asarray(beta, dtype=np.float64)
    return np.rint(np.clip(y, 0.0, 1.0) * np.float64((1 << out_bits) - 1)).astype(np.uint8)


def _channel_params(gamma: np.ndarray, **others: float | np.ndarray) -> dict[str, np.ndarray]:
    g = np.asarray(gamma, dtype=np.float64)
    if g.ndim != 1 or g.size == 0:
        raise AccelsimError(f"gamma must be a 1-D array of per-channel values, got shape {g.shape}")
    out = {"gamma": g}
    problems: list[str] = []
    for name, value in others.items():
        arr = np.asarray(value, dtype=np.float64)
        if arr.ndim == 0:
            arr = np.full(g.shape, float(arr))
        if arr.shape != g.shape:
            problems.append(f"{name} must be a scalar or have shape {g.shape}, got {arr.shape}")
            continue
        out[name] = arr
    if problems:
        raise AccelsimError(problems)
    for name, arr in out.items():
        if not np.all(np.isfinite(arr)):
            problems.append(f"{name} must be finite")
    if problems:
        raise AccelsimError(problems)
    return out


def fold_thresholds(
    *,
    scale: float | np.ndarray,
    gamma: np.ndarray,
    beta: np.ndarray,
    mean: np.ndarray,
    var: np.ndarray,
    eps: float = 1e-5,
    bias: float | np.ndarray = 0.0,
    out_bits: int,
    accumulator_bits: int,
) -> FoldedThresholds:
    """Fold scale, bias, batch-norm, clip and ``quantize_k`` into integer thresholds (spec §2).

    ``scale`` (> 0, scalar or per channel) converts the accumulator to the float conv output
    (:func:`layer_scale`). The result is exact over the whole signed ``accumulator_bits`` range
    ``[lo, hi]``: for every integer ``acc`` there,
    ``#{k: acc >= T[c,k]}`` (``<=`` where negative) equals :func:`postprocess` of ``acc``.
    Levels reached by no accumulator value get ``T = hi + 1`` (positive) or ``lo - 1`` (negative);
    levels reached by all get ``lo`` (positive) or ``hi`` (negative).
    """
    _check_bits("out_bits", out_bits)
    if (
        not isinstance(accumulator_bits, (int, np.integer))
        or not 2 <= accumulator_bits <= MAX_ACCUMULATOR_BITS
    ):
        raise AccelsimError(
            f"accumulator_bits must be an integer in 2..{MAX_ACCUMULATOR_BITS}, "
            f"got {accumulator_bits!r}"
        )
    p = _channel_params(gamma, beta=beta, mean=mean, var=var, bias=bias, scale=scale)
    problems = []
    if np.any(p["scale"] <= 0.0):
        problems.append("scale must be > 0")
    if not np.isfinite(eps) or np.any(p["var"] + eps <= 0.0):
        problems.append("var + eps must be > 0")
    if problems:
        raise AccelsimError(problems)

    n = (1 << out_bits) - 1
    lo = -(1 << (accumulator_bits - 1))
    hi = (1 << (accumulator_bits - 1)) - 1
    col = {k: v[:, None] for k, v in p.items()}
    levels = np.arange(1, n + 1, dtype=np.int64)[None, :]
    shape = (p["gamma"].size, n)

    def reaches(a: np.ndarray) -> np.ndarray:
        """Whether the float path maps accumulator ``a`` (C, n) to at least level ``levels``."""
        codes = postprocess(
            a,
            scale=col["scale"],
            gamma=col["gamma"],
            beta=col["beta"],
            mean=col["mean"],
            var=col["var"],
            eps=eps,
            out_bits=out_bits,
            bias=col["bias"],
        )
        return codes.astype(np.int64) >= levels

    # Non-decreasing channels: smallest a in [lo, hi] reaching the level, hi + 1 if none.
    left = np.full(shape, lo, dtype=np.int64)
    right = np.full(shape, hi + 1, dtype=np.int64)
    while np.any(left < right):
        open_ = left < right
        mid = left + (right - left) // 2
        ok = reaches(mid)
        right = np.where(open_ & ok, mid, right)
        left = np.where(open_ & ~ok, mid + 1, left)
    up = left

    # Non-increasing channels: largest a in [lo, hi] reaching the level, lo - 1 if none.
    left = np.full(shape, lo - 1, dtype=np.int64)
    right = np.full(shape, hi, dtype=np.int64)
    while np.any(left < right):
        open_ = left < right
        mid = left + (right - left + 1) // 2
        ok = reaches(mid)
        left = np.where(open_ & ok, mid, left)
        right = np.where(open_ & ~ok, mid - 1, right)
    down = left[:, ::-1]  # T[k] = U[n - k]: level n first, so the row is non-decreasing

    negative = p["gamma"] < 0.0
    thresholds = np.where(negative[:, None], down, up).astype(np.int64)
    return FoldedThresholds(np.ascontiguousarray(thresholds), negative)
