"""Shared hypothesis settings and case builders for the kernel tests.

The number of examples adapts to how the tests run: small with ``NUMBA_DISABLE_JIT=1`` (the
kernels then run as plain Python), larger when jitted, and ``ACCELSIM_KERNEL_EXAMPLES`` overrides
both (CI's nightly step can raise it).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numba
import numpy as np
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

JIT_DISABLED: bool = bool(numba.config.DISABLE_JIT)
EXAMPLES: int = int(os.environ.get("ACCELSIM_KERNEL_EXAMPLES", "6" if JIT_DISABLED else "60"))
MAX_SIDE: int = 7 if JIT_DISABLED else 40
MAX_CHANNELS: int = 12 if JIT_DISABLED else 100

kernel_settings = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
slow_settings = settings(kernel_settings, max_examples=max(10 * EXAMPLES, 200))


@dataclass
class ConvCase:
    """Arguments of one ``conv3x3`` / ``conv_core`` call (positional arrays + keyword config)."""

    x: np.ndarray
    w: np.ndarray
    thresholds: np.ndarray
    kwargs: dict[str, Any] = field(default_factory=dict)

    def call(self, fn: Any, **extra: Any) -> Any:
        return fn(self.x, self.w, self.thresholds, **{**self.kwargs, **extra})


def random_thresholds(rng: np.random.Generator, cout: int, out_bits: int, span: int) -> np.ndarray:
    """Sorted random thresholds (C_out, 2^out_bits - 1) within +-span."""
    raw = rng.integers(-span, span + 1, size=(cout, (1 << out_bits) - 1))
    return np.sort(raw, axis=1).astype(np.int64)


def make_case(
    rng: np.random.Generator,
    *,
    height: int,
    width: int,
    cin: int,
    cout: int,
    stride: int,
    padding: int,
    feature_bits: int,
    weight_bits: int,
    accumulator_bits: int,
    overflow: str,
    weight_encoding: str,
    out_bits: int,
    ic_batch: int,
    oc_batch: int,
    saturated: bool = False,
    core_feature_bits: int | None = None,
    core_weight_bits: int | None = None,
    kernel: int | None = None,
    pack_1x1: bool = False,
) -> ConvCase:
    """Random codes; ``saturated`` pushes activations to the maximum and weights to one sign,
    so that narrow accumulators overflow. ``kernel=None``: a ``conv3x3`` case (3x3, no
    ``kernel`` / ``pack_1x1`` arguments); else a ``conv_core`` case."""
    k = 3 if kernel is None else kernel
    amax = (1 << feature_bits) - 1
    x = rng.integers(0, amax + 1, size=(height, width, cin), dtype=np.uint8)
    w = rng.integers(0, 1 << weight_bits, size=(cout, k, k, cin), dtype=np.uint8)
    if saturated:
        x[rng.random(x.shape) < 0.7] = amax
        top = (1 << weight_bits) - 1 if weight_encoding == "dorefa" else 1 << (weight_bits - 1)
        w[rng.random(w.shape) < 0.7] = top  # the most positive (dorefa) / most negative (twos)
    span = min(1 << (accumulator_bits - 1), k * k * cin * amax * ((1 << weight_bits) - 1) + 2)
    thresholds = random_thresholds(rng, cout, out_bits, span)
    negative = rng.random(cout) < 0.3
    extra = {} if kernel is None else dict(kernel=kernel, pack_1x1=pack_1x1)
    return ConvCase(
        x,
        w,
        thresholds,
        dict(
            **extra,
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
        ),
    )


@st.composite
def conv_cases(
    draw: st.DrawFn, *, max_bits: int = 4, narrow: bool | None = None, bit_serial: bool = False
) -> ConvCase:
    """Random layers: shapes, widths, encodings, overflow modes, batches; ``narrow`` forces a
    4..12-bit accumulator (``None``: either), ``bit_serial`` a narrower core."""
    padding = draw(st.sampled_from([0, 1]))
    stride = draw(st.sampled_from([1, 2]))
    height = draw(st.integers(3 - 2 * padding, MAX_SIDE))
    width = draw(st.integers(3 - 2 * padding, MAX_SIDE))
    cin = draw(st.integers(1, MAX_CHANNELS))
    cout = draw(st.integers(1, MAX_CHANNELS))
    feature_bits = draw(st.integers(1, max_bits))
    weight_bits = draw(st.integers(1, max_bits))
    if narrow is None:
        narrow = draw(st.booleans())
    accumulator_bits = draw(st.integers(4, 12)) if narrow else draw(st.sampled_from([24, 32, 62]))
    core_a = core_w = None
    if bit_serial:
        core_a = draw(st.integers(1, feature_bits))
        core_w = draw(st.integers(1, weight_bits))
    return make_case(
        np.random.default_rng(draw(st.integers(0, 2**32 - 1))),
        height=height,
        width=width,
        cin=cin,
        cout=cout,
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow=draw(st.sampled_from(["saturate", "wrap"])),
        weight_encoding=draw(st.sampled_from(["dorefa", "twos_complement"])),
        out_bits=draw(st.integers(1, 4)),
        ic_batch=draw(st.sampled_from([1, 3, 8, 16, 32])),
        oc_batch=draw(st.sampled_from([1, 4, 16])),
        saturated=narrow and draw(st.booleans()),
        core_feature_bits=core_a,
        core_weight_bits=core_w,
    )


@st.composite
def core_cases(
    draw: st.DrawFn,
    *,
    kernels: tuple[int, ...] = (1, 3, 5, 7),
    max_bits: int = 4,
    narrow: bool | None = None,
    bit_serial: bool | None = None,
) -> ConvCase:
    """Random ``conv_core`` layers: kernel sizes, strides, paddings 0..k-1, ``pack_1x1`` (k = 1),
    widths, encodings, overflow modes, bit-serial cores (``None``: either), ``narrow``
    accumulators built to overflow, and up to about 20 input slices (``ic_batch`` 1..3), so that
    a packed 1x1 ends on a partial step."""
    k = draw(st.sampled_from(kernels))
    padding = draw(st.integers(0, k - 1))
    stride = draw(st.sampled_from([1, 2]))
    side_max = max(k - 2 * padding, 1) + (4 if JIT_DISABLED else 12)
    height = draw(st.integers(max(1, k - 2 * padding), side_max))
    width = draw(st.integers(max(1, k - 2 * padding), side_max))
    ic_batch = draw(st.sampled_from([1, 2, 3, 8]))
    cin = draw(st.integers(1, min(20 * ic_batch, MAX_CHANNELS if k > 1 else 2 * MAX_CHANNELS)))
    cout = draw(st.integers(1, MAX_CHANNELS if k > 1 else 2 * MAX_CHANNELS))
    feature_bits = draw(st.integers(1, max_bits))
    weight_bits = draw(st.integers(1, max_bits))
    if narrow is None:
        narrow = draw(st.booleans())
    accumulator_bits = draw(st.integers(4, 12)) if narrow else draw(st.sampled_from([24, 32, 62]))
    if bit_serial is None:
        bit_serial = draw(st.booleans())
    core_a = core_w = None
    if bit_serial:
        core_a = draw(st.integers(1, feature_bits))
        core_w = draw(st.integers(1, weight_bits))
    return make_case(
        np.random.default_rng(draw(st.integers(0, 2**32 - 1))),
        height=height,
        width=width,
        cin=cin,
        cout=cout,
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow=draw(st.sampled_from(["saturate", "wrap"])),
        weight_encoding=draw(st.sampled_from(["dorefa", "twos_complement"])),
        out_bits=draw(st.integers(1, 4)),
        ic_batch=ic_batch,
        oc_batch=draw(st.sampled_from([1, 4, 16])),
        saturated=narrow and draw(st.booleans()),
        core_feature_bits=core_a,
        core_weight_bits=core_w,
        kernel=k,
        pack_1x1=k == 1 and draw(st.booleans()),
    )
