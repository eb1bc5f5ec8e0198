"""conv3x3 (accelsim/kernels/conv.py) against the numpy oracle (ref.py), spec §2 and §3.4."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.errors import AccelsimError
from accelsim.kernels import conv3x3
from accelsim.kernels.conv import _conv3x3, _popcount, output_size
from accelsim.kernels.ref import conv3x3_ref
from tests.kernels.strategies import (
    JIT_DISABLED,
    ConvCase,
    conv_cases,
    kernel_settings,
    make_case,
    slow_settings,
)


def assert_same(got: object, want: object) -> None:
    assert got.overflow_count == want.overflow_count
    assert got.first_overflow == want.first_overflow
    np.testing.assert_array_equal(got.acc, want.acc)
    np.testing.assert_array_equal(got.out, want.out)
    assert got.out.dtype == np.uint8


# ---------------------------------------------------------------------------------------------
# kernel == oracle


@kernel_settings
@given(case=conv_cases())
def test_kernel_matches_oracle(case: ConvCase) -> None:
    assert_same(case.call(conv3x3), case.call(conv3x3_ref))


@kernel_settings
@given(case=conv_cases(narrow=True))
def test_kernel_matches_oracle_narrow_accumulator(case: ConvCase) -> None:
    assert_same(case.call(conv3x3), case.call(conv3x3_ref))


@kernel_settings
@given(case=conv_cases(max_bits=2), path=st.sampled_from(["generic", "checked"]))
def test_every_path_matches_oracle(case: ConvCase, path: str) -> None:
    """The popcount fast path, the integer fast path and the cycle replay agree."""
    assert_same(case.call(_conv3x3, path=path), case.call(conv3x3_ref))


@kernel_settings
@given(case=conv_cases(bit_serial=True))
def test_bit_serial_matches_oracle(case: ConvCase) -> None:
    assert_same(case.call(conv3x3), case.call(conv3x3_ref))


@kernel_settings
@given(case=conv_cases(max_bits=8, narrow=False, bit_serial=True))
def test_bit_serial_equals_wide_pass_without_overflow(case: ConvCase) -> None:
    serial = case.call(conv3x3)
    wide = case.call(conv3x3, core_feature_bits=None, core_weight_bits=None)
    assert serial.overflow_count == wide.overflow_count == 0
    np.testing.assert_array_equal(serial.acc, wide.acc)
    np.testing.assert_array_equal(serial.out, wide.out)


@pytest.mark.slow
@slow_settings
@given(case=conv_cases(bit_serial=False) | conv_cases(bit_serial=True))
def test_kernel_matches_oracle_long(case: ConvCase) -> None:
    assert_same(case.call(conv3x3), case.call(conv3x3_ref))
    assert_same(case.call(_conv3x3, path="checked"), case.call(conv3x3_ref))


@pytest.mark.parametrize("weight_encoding", ["dorefa", "twos_complement"])
@pytest.mark.parametrize(("feature_bits", "weight_bits"), [(1, 1), (2, 1), (1, 2), (2, 2), (3, 2)])
def test_fixed_layers_match_oracle(
    weight_encoding: str, feature_bits: int, weight_bits: int
) -> None:
    """Deterministic layers covering both window layouts of the popcount path (C_in < 64
    packed as a whole window, C_in = 64 / 130 gathered per tap) and stride 2."""
    rng = np.random.default_rng(7)
    for cin, stride in [(3, 1), (64, 2), (130, 1)]:
        side = 6 if JIT_DISABLED else 11
        case = make_case(
            rng,
            height=side,
            width=side + 1,
            cin=cin,
            cout=17,
            stride=stride,
            padding=1,
            feature_bits=feature_bits,
            weight_bits=weight_bits,
            accumulator_bits=32,
            overflow="wrap",
            weight_encoding=weight_encoding,
            out_bits=2,
            ic_batch=16,
            oc_batch=16,
        )
        assert_same(case.call(conv3x3), case.call(conv3x3_ref))


# ---------------------------------------------------------------------------------------------
# hand-computed numbers


def _ones_layer(cin: int, cout: int, accumulator_bits: int, overflow: str) -> dict:
    """3x3 input of 2-bit 3s, dorefa W1 weights all +1, one output pixel."""
    x = np.full((3, 3, cin), 3, dtype=np.uint8)
    w = np.ones((cout, 3, 3, cin), dtype=np.uint8)
    return dict(
        x_codes=x,
        w_codes=w,
        thresholds=np.zeros((cout, 1), dtype=np.int64),
        stride=1,
        padding=0,
        feature_bits=2,
        weight_bits=1,
        accumulator_bits=accumulator_bits,
        overflow=overflow,
        weight_encoding="dorefa",
        ic_batch=16,
    )


def test_saturate_by_hand() -> None:
    # each ib adds 9 * 16 * 3 = 432; 10-bit range is [-512, 511]: the 2nd addition overflows
    r = conv3x3(**_ones_layer(32, 2, 10, "saturate"))
    assert r.acc.tolist() == [[[511, 511]]]
    assert r.overflow_count == 2
    assert r.first_overflow == (0, 0, 0)
    assert r.out.tolist() == [[[1, 1]]]


def test_wrap_by_hand() -> None:
    r = conv3x3(**_ones_layer(48, 1, 10, "wrap"))
    # 432 -> 864 wraps to -160 (event) -> 272
    assert r.acc.tolist() == [[[272]]]
    assert r.overflow_count == 1


def test_no_overflow_when_wide_enough() -> None:
    r = conv3x3(**_ones_layer(32, 2, 11, "saturate"))
    assert r.acc.tolist() == [[[864, 864]]]
    assert r.overflow_count == 0
    assert r.first_overflow is None


def test_first_overflow_order_ob_before_cycle_before_channel() -> None:
    """ob outer, then the cycle (ib), then the lowest channel (spec §3.4)."""
    cin, cout = 32, 24  # two cycles (ic_batch 16) per ob; ob 0 = channels 0-15, ob 1 = 16-23
    x = np.full((3, 3, cin), 3, dtype=np.uint8)
    balanced = np.tile(np.array([0, 1], dtype=np.uint8), 8)  # 8 x (-1) + 8 x (+1): slice sum 0

    def layer(overflowing: dict[int, int]) -> np.ndarray:
        """Weights where channel c overflows first at cycle overflowing[c], others never."""
        w = np.empty((cout, 3, 3, cin), dtype=np.uint8)
        w[:] = np.concatenate([balanced, balanced])
        for c, cycle in overflowing.items():
            w[c, :, :, 16 * cycle : 16 * cycle + 16] = 0  # all -1: the slice adds -432
        return w

    kwargs = dict(
        stride=1,
        padding=0,
        feature_bits=2,
        weight_bits=1,
        accumulator_bits=9,
        overflow="saturate",
        weight_encoding="dorefa",
        ic_batch=16,
        oc_batch=16,
    )
    thresholds = np.zeros((cout, 1), dtype=np.int64)
    for overflowing, first in [
        ({9: 1, 3: 1, 12: 0, 17: 0}, 12),  # ob 0 first; in it cycle 0 beats lower channels
        ({9: 1, 3: 1, 17: 0}, 3),  # ob 0 before ob 1 even if ob 1 overflows at an earlier cycle
        ({20: 1, 22: 0}, 22),  # earlier cycle beats lower channel
        ({21: 1, 19: 1}, 19),  # same cycle: lowest channel
    ]:
        w = layer(overflowing)
        got = conv3x3(x, w, thresholds, **kwargs)
        want = conv3x3_ref(x, w, thresholds, **kwargs)
        assert got.first_overflow == want.first_overflow == (0, 0, first)
        assert got.overflow_count == want.overflow_count == len(overflowing)
        assert sorted(np.flatnonzero(got.acc[0, 0] == -256)) == sorted(overflowing)


def test_first_overflow_raster_order() -> None:
    x = np.zeros((5, 6, 16), dtype=np.uint8)
    x[3, 4] = 3
    x[2, 5] = 3
    w = np.ones((2, 3, 3, 16), dtype=np.uint8)
    r = conv3x3(
        x,
        w,
        np.zeros((2, 1), dtype=np.int64),
        stride=1,
        padding=1,
        feature_bits=2,
        weight_bits=1,
        accumulator_bits=6,
        overflow="wrap",
        weight_encoding="dorefa",
    )
    # x[2, 5] is first read by output pixel (1, 4); x[3, 4] by (2, 3): raster order picks (1, 4)
    assert r.first_overflow == (1, 4, 0)


def test_thresholds_and_negative_channels() -> None:
    x = np.full((3, 3, 1), 1, dtype=np.uint8)  # acc = 9 * (+1 or -1)
    w = np.array([1, 0, 1, 0], dtype=np.uint8).reshape(4, 1, 1, 1).repeat(3, 1).repeat(3, 2)
    t = np.array([[-9, 0, 9], [-9, 0, 9], [-10, 9, 20], [-10, -9, 20]], dtype=np.int64)
    neg = np.array([False, False, True, True])
    r = conv3x3(
        x,
        w,
        t,
        stride=1,
        padding=0,
        feature_bits=2,
        weight_bits=1,
        accumulator_bits=8,
        overflow="saturate",
        weight_encoding="dorefa",
        negative=neg,
    )
    assert r.acc.ravel().tolist() == [9, -9, 9, -9]
    # acc >= T: 3 and 1; acc <= T: 9 <= [-10, 9, 20] -> 2, -9 <= [-10, -9, 20] -> 2
    assert r.out.ravel().tolist() == [3, 1, 2, 2]


@pytest.mark.parametrize(
    ("size", "stride", "padding", "want"),
    [(224, 1, 1, 224), (224, 2, 1, 112), (5, 2, 0, 2), (3, 1, 0, 1), (1, 1, 1, 1), (4, 2, 1, 2)],
)
def test_output_size(size: int, stride: int, padding: int, want: int) -> None:
    assert output_size(size, stride, padding) == want
    x = np.zeros((size, 3, 1), dtype=np.uint8)
    r = conv3x3(
        x,
        np.zeros((1, 3, 3, 1), dtype=np.uint8),
        np.zeros((1, 1), dtype=np.int64),
        stride=stride,
        padding=padding,
        feature_bits=1,
        weight_bits=1,
        accumulator_bits=8,
        overflow="wrap",
        weight_encoding="dorefa",
    )
    assert r.out.shape[0] == want


@pytest.mark.skipif(JIT_DISABLED, reason="threads exist only when jitted")
def test_result_does_not_depend_on_thread_count() -> None:
    rng = np.random.default_rng(3)
    case = make_case(
        rng,
        height=30,
        width=17,
        cin=40,
        cout=33,
        stride=1,
        padding=1,
        feature_bits=2,
        weight_bits=2,
        accumulator_bits=7,
        overflow="saturate",
        weight_encoding="dorefa",
        out_bits=2,
        ic_batch=8,
        oc_batch=16,
        saturated=True,
    )
    before = numba.get_num_threads()
    try:
        results = []
        for n in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(n)
            results.append(case.call(conv3x3))
    finally:
        numba.set_num_threads(before)
    for r in results[1:]:
        assert_same(r, results[0])
    assert results[0].overflow_count > 0


def test_popcount_bit_trick() -> None:
    rng = np.random.default_rng(5)
    words = rng.integers(0, 2**64, size=200, dtype=np.uint64)
    words[:3] = [0, 2**64 - 1, 2**63]

    @numba.njit
    def counts(a: np.ndarray) -> np.ndarray:
        out = np.empty(a.size, dtype=np.int64)
        for i in range(a.size):
            out[i] = _popcount(a[i])
        return out

    assert counts(words).tolist() == [int(v).bit_count() for v in words]


# ---------------------------------------------------------------------------------------------
# argument checking


def _good() -> dict:
    return dict(
        x_codes=np.zeros((4, 4, 3), dtype=np.uint8),
        w_codes=np.zeros((5, 3, 3, 3), dtype=np.uint8),
        thresholds=np.zeros((5, 3), dtype=np.int64),
        stride=1,
        padding=1,
        feature_bits=2,
        weight_bits=1,
        accumulator_bits=16,
        overflow="saturate",
        weight_encoding="dorefa",
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            dict(x_codes=np.zeros((4, 4, 3), dtype=np.int32)),
            r"x_codes must have dtype uint8, got int32",
        ),
        (dict(x_codes=np.zeros((4, 4), dtype=np.uint8)), r"x_codes must have 3 dimensions"),
        (dict(x_codes=[[[0]]]), r"x_codes must be a numpy uint8 array, got list"),
        (
            dict(x_codes=np.full((4, 4, 3), 4, dtype=np.uint8)),
            r"x_codes has code 4, above the 2-bit maximum 3",
        ),
        (
            dict(w_codes=np.full((5, 3, 3, 3), 2, dtype=np.uint8)),
            r"w_codes has code 2, above the 1-bit maximum 1",
        ),
        (dict(w_codes=np.zeros((5, 1, 1, 3), dtype=np.uint8)), r"OHWI with a 3x3 kernel"),
        (
            dict(w_codes=np.zeros((5, 3, 3, 4), dtype=np.uint8)),
            r"w_codes has 4 input channels, x_codes has 3",
        ),
        (
            dict(thresholds=np.array([[0, 5, 4]] * 5, dtype=np.int64)),
            r"thresholds must be non-decreasing: channel 0 has T\[1\] = 5 > T\[2\] = 4 \(4 more\)",
        ),
        (dict(thresholds=np.zeros((5, 2), dtype=np.int64)), r"2\^A_out - 1 columns"),
        (dict(thresholds=np.zeros((4, 3), dtype=np.int64)), r"thresholds has 4 rows"),
        (dict(thresholds=np.zeros((5, 3), dtype=np.int32)), r"thresholds must have dtype int64"),
        (dict(stride=3), r"stride must be 1 or 2, got 3"),
        (dict(padding=2), r"padding must be 0 or 1, got 2"),
        (dict(feature_bits=9), r"feature_bits must be an integer in 1\.\.8, got 9"),
        (dict(weight_bits=0), r"weight_bits must be an integer in 1\.\.8, got 0"),
        (dict(accumulator_bits=63), r"accumulator_bits must be an integer in 2\.\.62"),
        (dict(overflow="clamp"), r"overflow must be one of saturate, wrap, got 'clamp'"),
        (dict(weight_encoding="sign"), r"weight_encoding must be one of dorefa, twos_complement"),
        (dict(negative=np.zeros(4, dtype=bool)), r"negative has 4 entries"),
        (dict(negative=np.zeros(5, dtype=np.int8)), r"negative must have dtype bool"),
        (dict(ic_batch=0), r"ic_batch must be an integer in 1\.\."),
        (dict(core_feature_bits=0), r"core_feature_bits must be an integer in 1\.\.8"),
        (
            dict(x_codes=np.zeros((1, 4, 3), dtype=np.uint8), padding=0),
            r"input 1x4 with padding 0 is smaller than the 3x3 kernel",
        ),
    ],
)
def test_argument_errors(change: dict, message: str) -> None:
    with pytest.raises(AccelsimError, match=message):
        conv3x3(**{**_good(), **change})


def test_all_problems_reported_one_line_each() -> None:
    with pytest.raises(AccelsimError) as info:
        conv3x3(
            **{
                **_good(),
                "stride": 0,
                "overflow": "x",
                "feature_bits": 1,
                "x_codes": np.full((4, 4, 3), 3, dtype=np.uint8),
            }
        )
    problems = info.value.problems
    assert len(problems) == 3
    assert str(info.value).count("\n") == 2
    assert any("x_codes has code 3, above the 1-bit maximum 1" in p for p in problems)


def test_extreme_thresholds() -> None:
    """Thresholds beyond the accumulator range (even int64 extremes) count as always / never."""
    big, small = np.iinfo(np.int64).max, np.iinfo(np.int64).min
    x = np.full((3, 3, 2), 1, dtype=np.uint8)
    w = np.ones((2, 3, 3, 2), dtype=np.uint8)  # acc = 18
    t = np.array([[small, 18, big], [small, 18, big]], dtype=np.int64)
    r = conv3x3(
        x,
        w,
        t,
        stride=1,
        padding=0,
        feature_bits=1,
        weight_bits=1,
        accumulator_bits=8,
        overflow="wrap",
        weight_encoding="dorefa",
        negative=np.array([False, True]),
    )
    assert r.out.ravel().tolist() == [2, 2]
