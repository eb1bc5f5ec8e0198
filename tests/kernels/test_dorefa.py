"""DoReFa quantizers and the exact threshold fold (accelsim/kernels/dorefa.py), spec §2."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.errors import AccelsimError
from accelsim.kernels import conv3x3
from accelsim.kernels.dorefa import (
    dequantize_activations,
    dequantize_weights,
    fold_thresholds,
    layer_scale,
    postprocess,
    quantize_activations,
    quantize_k,
    quantize_weights,
)
from accelsim.kernels.ref import dorefa_float_layer, float_conv3x3
from tests.kernels.strategies import MAX_SIDE, kernel_settings


def test_quantize_k_rounds_half_to_even() -> None:
    half = np.array([0.5])
    # (2^k - 1) / 2 is a tie for every k: 0.5 -> 0, 1.5 -> 2, 3.5 -> 4, 7.5 -> 8
    assert [int(quantize_k(half, k)[0]) for k in (1, 2, 3, 4)] == [0, 2, 4, 8]
    assert quantize_k(np.array([0.0, 1.0]), 2).tolist() == [0, 3]
    with pytest.raises(AccelsimError, match=r"quantize_k needs values in \[0, 1\]"):
        quantize_k(np.array([1.5]), 2)


def test_quantize_activations_clips() -> None:
    x = np.array([-1.0, 0.2, 0.5, 2.0])
    assert quantize_activations(x, 2).tolist() == [0, 1, 2, 3]
    assert dequantize_activations(np.array([0, 1, 3]), 2).tolist() == [0.0, 1 / 3, 1.0]


def test_binary_weights_are_sign_times_mean_abs() -> None:
    w = np.array([-0.5, 0.0, 0.25, 1.0])
    q = quantize_weights(w, 1)
    assert q.codes.tolist() == [0, 1, 1, 1]  # sign(0) = +1
    assert q.scale == pytest.approx(0.4375, abs=0)
    assert dequantize_weights(q.codes, 1, q.scale).tolist() == [-0.4375, 0.4375, 0.4375, 0.4375]


@pytest.mark.parametrize("bits", [2, 3, 4, 8])
def test_multibit_weights_follow_the_tanh_form(bits: int) -> None:
    w = np.random.default_rng(bits).normal(0.0, 0.7, size=500)
    q = quantize_weights(w, bits)
    n = (1 << bits) - 1
    t = np.tanh(w)
    paper = 2.0 * np.rint(n * (t / (2 * np.abs(t).max()) + 0.5)) / n - 1.0
    np.testing.assert_allclose(
        dequantize_weights(q.codes, bits, q.scale), paper, rtol=0, atol=1e-15
    )
    assert q.codes.min() == 0 and q.codes.max() == n  # the extremes reach -1 and +1
    assert quantize_weights(np.zeros(4), bits).codes.tolist() == [(n + 1) // 2] * 4


# ---------------------------------------------------------------------------------------------
# the fold

nice = st.sampled_from([0.0, 0.5, 1.0, 2.0, 0.25, 1 / 3, 3.0])
signed_nice = nice | nice.map(lambda v: -v)
any_float = st.floats(-4.0, 4.0, allow_nan=False, allow_subnormal=False)


@st.composite
def bn_channels(draw: st.DrawFn, channels: int) -> dict[str, np.ndarray]:
    def per_channel(strategy: st.SearchStrategy[float]) -> np.ndarray:
        return np.array([draw(strategy) for _ in range(channels)], dtype=np.float64)

    eps = draw(st.sampled_from([0.0, 1e-5, 1e-3]))
    var = per_channel(st.sampled_from([1.0, 0.25, 4.0, 1 / 9]) | st.floats(1e-3, 9.0))
    return dict(
        gamma=per_channel(signed_nice | any_float | st.just(-0.0)),
        beta=per_channel(signed_nice | any_float),
        mean=per_channel(signed_nice | st.floats(-40.0, 40.0)),
        var=var,
        eps=eps,
        bias=per_channel(signed_nice | any_float),
        scale=per_channel(
            st.sampled_from([1 / 3, 0.5, 1 / 6, 0.125, 1 / 21, 1.0]) | st.floats(1e-3, 2.0)
        ),
    )


@kernel_settings
@given(
    data=st.data(),
    channels=st.integers(1, 6),
    out_bits=st.integers(1, 4),
    accumulator_bits=st.integers(2, 11),
)
def test_fold_is_exact_over_the_whole_accumulator_range(
    data: st.DataObject, channels: int, out_bits: int, accumulator_bits: int
) -> None:
    p = data.draw(bn_channels(channels))
    folded = fold_thresholds(**p, out_bits=out_bits, accumulator_bits=accumulator_bits)
    t, neg = folded.thresholds, folded.negative
    assert t.shape == (channels, (1 << out_bits) - 1) and t.dtype == np.int64
    assert np.all(np.diff(t, axis=1) >= 0)
    assert neg.tolist() == (p["gamma"] < 0).tolist()
    acc = np.arange(-(1 << (accumulator_bits - 1)), 1 << (accumulator_bits - 1))
    want = postprocess(
        acc[:, None],
        scale=p["scale"],
        gamma=p["gamma"],
        beta=p["beta"],
        mean=p["mean"],
        var=p["var"],
        eps=p["eps"],
        out_bits=out_bits,
        bias=p["bias"],
    )
    above = (acc[:, None, None] >= t[None]).sum(axis=2)
    below = (acc[:, None, None] <= t[None]).sum(axis=2)
    got = np.where(neg[None, :], below, above)
    np.testing.assert_array_equal(got, want)


def test_fold_rounds_ties_to_even() -> None:
    one = np.ones(1)
    # y = acc / 2; one output bit: acc = 1 is the tie 0.5 -> 0, so the threshold is 2
    f = fold_thresholds(
        scale=0.5,
        gamma=one,
        beta=0 * one,
        mean=0 * one,
        var=one,
        eps=0.0,
        out_bits=1,
        accumulator_bits=8,
    )
    assert f.thresholds.tolist() == [[2]] and f.negative.tolist() == [False]
    # y = 1 - acc / 2: out = 1 for acc <= 0 (acc = 1 is again the tie -> 0)
    f = fold_thresholds(
        scale=0.5,
        gamma=-one,
        beta=one,
        mean=0 * one,
        var=one,
        eps=0.0,
        out_bits=1,
        accumulator_bits=8,
    )
    assert f.thresholds.tolist() == [[0]] and f.negative.tolist() == [True]


def test_fold_unreachable_and_constant_levels() -> None:
    one = np.ones(2)
    # gamma = 0: constant output beta -> rint(0.5 * 3) = 2 for every accumulator
    f = fold_thresholds(
        scale=1.0,
        gamma=np.array([0.0, -0.0]),
        beta=0.5 * one,
        mean=0 * one,
        var=one,
        eps=0.0,
        out_bits=2,
        accumulator_bits=6,
    )
    assert f.thresholds.tolist() == [[-32, -32, 32]] * 2  # levels 1, 2 always; 3 never
    assert f.negative.tolist() == [False, False]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(scale=0.0), r"scale must be > 0"),
        (dict(var=np.array([-1.0]), eps=0.5), r"var \+ eps must be > 0"),
        (dict(beta=np.zeros(2)), r"beta must be a scalar or have shape \(1,\), got \(2,\)"),
        (dict(mean=np.array([np.nan])), r"mean must be finite"),
        (dict(gamma=np.float64(1.0)), r"gamma must be a 1-D array"),
        (dict(accumulator_bits=63), r"accumulator_bits must be an integer in 2\.\.62"),
        (dict(out_bits=0), r"out_bits must be an integer in 1\.\.8"),
    ],
)
def test_fold_errors(change: dict, message: str) -> None:
    args = dict(
        scale=1.0,
        gamma=np.ones(1),
        beta=np.zeros(1),
        mean=np.zeros(1),
        var=np.ones(1),
        eps=1e-5,
        out_bits=2,
        accumulator_bits=16,
    )
    with pytest.raises(AccelsimError, match=message):
        fold_thresholds(**{**args, **change})


# ---------------------------------------------------------------------------------------------
# float path == integer path


def _layer(
    rng: np.random.Generator, cin: int, cout: int, side: int, feature_bits: int, weight_bits: int
) -> tuple[np.ndarray, np.ndarray, float]:
    x = quantize_activations(rng.uniform(-0.2, 1.2, size=(side, side + 2, cin)), feature_bits)
    q = quantize_weights(rng.normal(0.0, 0.5, size=(cout, 3, 3, cin)), weight_bits)
    return x, q.codes, q.scale


@kernel_settings
@given(
    data=st.data(),
    feature_bits=st.integers(1, 4),
    weight_bits=st.integers(1, 4),
    out_bits=st.integers(1, 4),
    stride=st.sampled_from([1, 2]),
    padding=st.sampled_from([0, 1]),
    seed=st.integers(0, 2**32 - 1),
)
def test_float_path_equals_integer_path(
    data: st.DataObject,
    feature_bits: int,
    weight_bits: int,
    out_bits: int,
    stride: int,
    padding: int,
    seed: int,
) -> None:
    """Tie-prone batch-norm parameters: the folded integer path reproduces the float path."""
    rng = np.random.default_rng(seed)
    cin, cout = int(rng.integers(1, 40)), int(rng.integers(1, 9))
    x, w, wscale = _layer(rng, cin, cout, min(MAX_SIDE, 9), feature_bits, weight_bits)
    p = data.draw(bn_channels(cout))
    p.pop("scale")
    p["mean"] = p["mean"] / 10  # keep the interesting region within reach of the conv
    scale = layer_scale(feature_bits, wscale)
    folded = fold_thresholds(**p, scale=scale, out_bits=out_bits, accumulator_bits=24)
    got = conv3x3(
        x,
        w,
        folded.thresholds,
        negative=folded.negative,
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=24,
        overflow="saturate",
        weight_encoding="dorefa",
    )
    assert got.overflow_count == 0
    want = dorefa_float_layer(
        x,
        w,
        weight_scale=wscale,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        out_bits=out_bits,
        stride=stride,
        padding=padding,
        **p,
    )
    np.testing.assert_array_equal(got.out, want)


@pytest.mark.parametrize(
    ("feature_bits", "weight_bits", "out_bits"),
    [(2, 1, 2), (2, 2, 2), (1, 1, 1), (4, 3, 4), (8, 8, 2)],
)
def test_dequantised_float_conv_equals_integer_path(
    feature_bits: int, weight_bits: int, out_bits: int
) -> None:
    """A plain float conv of the dequantised values, as a training framework would run it,
    gives the integer path's codes (random continuous parameters: no exact ties)."""
    rng = np.random.default_rng(11)
    cin, cout = 24, 12
    x, w, wscale = _layer(rng, cin, cout, min(MAX_SIDE, 10), feature_bits, weight_bits)
    z_probe = float_conv3x3(
        dequantize_activations(x, feature_bits),
        dequantize_weights(w, weight_bits, wscale),
        stride=1,
        padding=1,
    )
    gamma = rng.uniform(0.2, 2.0, cout) * np.where(rng.random(cout) < 0.3, -1, 1)
    mean = rng.uniform(z_probe.min(), z_probe.max(), cout)
    var = rng.uniform(0.5, 2.0, cout) * z_probe.var()
    beta = rng.uniform(0.0, 1.0, cout)
    bias = rng.normal(0.0, 0.1, cout)
    eps = 1e-5
    z = z_probe + bias
    y = gamma * ((z - mean) / np.sqrt(var + eps)) + beta
    want = np.rint(np.clip(y, 0.0, 1.0) * ((1 << out_bits) - 1)).astype(np.uint8)
    folded = fold_thresholds(
        scale=layer_scale(feature_bits, wscale),
        gamma=gamma,
        beta=beta,
        mean=mean,
        var=var,
        eps=eps,
        bias=bias,
        out_bits=out_bits,
        accumulator_bits=32,
    )
    got = conv3x3(
        x,
        w,
        folded.thresholds,
        negative=folded.negative,
        stride=1,
        padding=1,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=32,
        overflow="wrap",
        weight_encoding="dorefa",
    )
    assert len(np.unique(want)) > 1  # the test sees more than one output level
    np.testing.assert_array_equal(got.out, want)
