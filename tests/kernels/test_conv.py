"""conv3x3 / conv_core (accelsim/kernels/conv.py) against the numpy oracle (ref.py), spec §2,
§3.4 and §7.2."""

from __future__ import annotations

import numba
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import accelsim.kernels.conv as conv_module
from accelsim.errors import AccelsimError
from accelsim.kernels import conv3x3, conv_core
from accelsim.kernels.conv import (
    _conv,
    _conv3x3,
    _lane_thresholds,
    _popcount,
    _signed_thresholds,
    output_size,
)
from accelsim.kernels.ref import conv3x3_ref, conv_core_ref
from accelsim.kernels.vnni import vnni_target
from tests.kernels.strategies import (
    JIT_DISABLED,
    ConvCase,
    conv_cases,
    core_cases,
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


def assert_same_codes(lean: object, full: object) -> None:
    """A ``with_acc=False`` result: no accumulators, the rest as the full call's."""
    assert lean.acc is None
    assert lean.overflow_count == full.overflow_count
    assert lean.first_overflow == full.first_overflow
    np.testing.assert_array_equal(lean.out, full.out)


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
@given(
    case=conv_cases(max_bits=2),
    path=st.sampled_from(["popcount", "planar", "combo", "vnni", "lut", "dense", "checked"]),
)
def test_every_path_matches_oracle(case: ConvCase, path: str) -> None:
    """The popcount, planar, combination, table and integer fast paths and the cycle replay
    agree."""
    assert_same(case.call(_conv3x3, path=path), case.call(conv3x3_ref))


@kernel_settings
@given(
    case=core_cases(kernels=(1, 3, 5), max_bits=8),
    path=st.sampled_from(
        ["auto", "popcount", "planar", "combo", "vnni", "lut", "dense", "checked"]
    ),
)
def test_without_acc_same_codes_and_overflow(case: ConvCase, path: str) -> None:
    """``with_acc=False`` (the functional model's call) returns no accumulators and the same
    codes and overflow report on every path, fast and checked pixels alike."""
    if path == "popcount" and max(case.kwargs["feature_bits"], case.kwargs["weight_bits"]) > 2:
        path = "auto"  # popcount takes widths up to 2 bits
    assert_same_codes(case.call(_conv, path=path, with_acc=False), case.call(_conv, path=path))


@kernel_settings
@given(
    data=st.data(),
    cin=st.integers(1, 4),
    cout=st.integers(1, 140),
    stride=st.sampled_from([1, 2]),
    padding=st.integers(0, 2),
    feature_bits=st.integers(1, 8),
    weight_bits=st.integers(1, 8),
    weight_encoding=st.sampled_from(["dorefa", "twos_complement"]),
    accumulator_bits=st.sampled_from([16, 24, 32]),
    out_bits=st.sampled_from([1, 2, 3]),
)
def test_vnni_image_layers_match_oracle(
    data: st.DataObject,
    cin: int,
    cout: int,
    stride: int,
    padding: int,
    feature_bits: int,
    weight_bits: int,
    weight_encoding: str,
    accumulator_bits: int,
    out_bits: int,
) -> None:
    """The int8 dot-product kernel's shapes (3x3, up to four input channels, any outputs
    across 64-channel blocks, strides, paddings, negative channels, up to seven thresholds),
    accumulators and codes, with and without the accumulators; where the host or the layer
    does not allow it (no VNNI, 8-bit dorefa weights, a window that may reach the limit), the
    automatic choice."""
    side = data.draw(st.integers(max(1, 3 - 2 * padding), 12 if JIT_DISABLED else 20))
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1)))
    case = make_case(
        rng,
        height=side,
        width=data.draw(st.integers(max(1, 3 - 2 * padding), 20)),
        cin=cin,
        cout=cout,
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow="saturate",
        weight_encoding=weight_encoding,
        out_bits=out_bits,
        ic_batch=16,
        oc_batch=16,
        core_feature_bits=2,
        core_weight_bits=1,
        kernel=3,
    )
    got = case.call(_conv, path="vnni")
    assert_same(got, case.call(conv_core_ref))
    assert_same_codes(case.call(_conv, path="vnni", with_acc=False), got)


@pytest.mark.skipif(not vnni_target(), reason="numba's target has no 256-bit VNNI")
@pytest.mark.parametrize("weight_bits", [1, 2])
def test_vnni_is_the_image_layer_kernel_on_a_vnni_host(
    monkeypatch: pytest.MonkeyPatch, weight_bits: int
) -> None:
    """On a VNNI host the automatic choice for a conv1_1-like layer is the dot-product kernel,
    and its codes and accumulators equal the oracle's."""
    calls = []
    kernel = conv_module.conv_vnni
    monkeypatch.setattr(conv_module, "conv_vnni", lambda *a: calls.append(1) or kernel(*a))
    rng = np.random.default_rng(4)
    case = make_case(
        rng, height=17, width=23, cin=3, cout=64, stride=1, padding=1, feature_bits=8,
        weight_bits=weight_bits, accumulator_bits=16, overflow="saturate",
        weight_encoding="dorefa", out_bits=2, ic_batch=16, oc_batch=16, core_feature_bits=2,
        core_weight_bits=1,
    )  # fmt: skip
    assert_same(case.call(conv3x3), case.call(conv3x3_ref))
    assert calls == [1]


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
# conv_core: k x k kernels as sub-kernels on the 3x3 array (spec §7.2)


@kernel_settings
@given(case=core_cases())
def test_core_matches_oracle(case: ConvCase) -> None:
    assert_same(case.call(conv_core), case.call(conv_core_ref))


@kernel_settings
@given(case=core_cases(narrow=True))
def test_core_matches_oracle_narrow_accumulator(case: ConvCase) -> None:
    assert_same(case.call(conv_core), case.call(conv_core_ref))


@kernel_settings
@given(case=core_cases(kernels=(1,), narrow=True))
def test_core_1x1_matches_oracle(case: ConvCase) -> None:
    """1x1 with and without packing, many ib groups (a packed layer's last step is partial)."""
    assert_same(case.call(conv_core), case.call(conv_core_ref))


@kernel_settings
@given(
    case=core_cases(kernels=(1, 2, 3, 4, 5, 6, 7, 8, 9), max_bits=2),
    path=st.sampled_from(["popcount", "planar", "combo", "vnni", "lut", "dense", "checked"]),
)
def test_core_every_path_matches_oracle(case: ConvCase, path: str) -> None:
    """Every kernel size 1..9; the popcount, planar, combination, table, integer and
    cycle-replay paths agree."""
    assert_same(case.call(_conv, path=path), case.call(conv_core_ref))


@kernel_settings
@given(
    case=core_cases(kernels=(1, 3, 5, 7), max_bits=8),
    path=st.sampled_from(["planar", "combo", "vnni", "lut", "dense", "checked"]),
)
def test_core_wide_operands_every_path(case: ConvCase, path: str) -> None:
    """Activations and weights up to 8 bits (the first layer's image): planar, combination
    (beyond 6-bit weights it falls back to planar), table, integer and cycle-replay paths
    against the oracle."""
    assert_same(case.call(_conv, path=path), case.call(conv_core_ref))


@pytest.mark.parametrize("accumulator_bits", [12, 16, 32, 40])
@pytest.mark.parametrize(
    ("weight_bits", "weight_encoding"), [(1, "dorefa"), (2, "twos_complement")]
)
def test_first_layer_shape_matches_oracle(
    accumulator_bits: int, weight_bits: int, weight_encoding: str
) -> None:
    """An 8-bit 3-channel image into 16 channels on a 2-bit / 1-bit core (4 or 8 passes): the
    table path's channel-major output stage (8 x 8 byte transposes for widths that are a
    multiple of 8, 16/32-bit arithmetic) and the checked pass for pixels that may overflow."""
    rng = np.random.default_rng(8)
    side = 9 if JIT_DISABLED else 24
    case = make_case(
        rng,
        height=side,
        width=side,
        cin=3,
        cout=16,
        stride=1,
        padding=1,
        feature_bits=8,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow="saturate",
        weight_encoding=weight_encoding,
        out_bits=2,
        ic_batch=16,
        oc_batch=16,
        core_feature_bits=2,
        core_weight_bits=1,
        kernel=3,
        saturated=accumulator_bits == 12,
    )
    got = case.call(conv_core)
    assert_same(got, case.call(conv_core_ref))
    assert (
        got.acc.dtype == {12: np.int16, 16: np.int16, 32: np.int32, 40: np.int64}[accumulator_bits]
    )
    if accumulator_bits == 12:
        assert got.overflow_count > 0  # some pixels took the checked pass


@kernel_settings
@given(
    data=st.data(),
    kernel=st.sampled_from([1, 3, 5]),
    cin=st.integers(1, 9),
    feature_bits=st.sampled_from([1, 2, 3, 8]),
    weight_bits=st.integers(1, 4),
    accumulator_bits=st.sampled_from([8, 10, 12, 14, 16, 24]),
    overflow=st.sampled_from(["saturate", "wrap"]),
)
def test_planar_few_channels_matches_oracle(
    data: st.DataObject,
    kernel: int,
    cin: int,
    feature_bits: int,
    weight_bits: int,
    accumulator_bits: int,
    overflow: str,
) -> None:
    """The planar kernel (few input channels: the image, or low-bit maps) against the oracle:
    channel chunks of three with a partial last one, column phases of stride 2, widths off
    the multiples of 8, 1..15 thresholds, negative channels, and accumulators narrow enough
    that pixels whose bound does not fit go to the checked pass (both overflow modes)."""
    stride = data.draw(st.integers(1, 2))
    padding = data.draw(st.integers(0, kernel - 1))
    side = max(kernel - 2 * padding, 1)
    case = make_case(
        np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))),
        height=data.draw(st.integers(side, side + (4 if JIT_DISABLED else 14))),
        width=data.draw(st.integers(side, side + (4 if JIT_DISABLED else 30))),
        cin=cin,
        cout=data.draw(st.sampled_from([1, 5, 8, 16])),
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow=overflow,
        weight_encoding=data.draw(st.sampled_from(["dorefa", "twos_complement"])),
        out_bits=data.draw(st.integers(1, 4)),
        ic_batch=data.draw(st.sampled_from([1, 2, 16])),
        oc_batch=16,
        saturated=data.draw(st.booleans()),
        core_feature_bits=data.draw(st.integers(1, feature_bits)),
        core_weight_bits=data.draw(st.integers(1, weight_bits)),
        kernel=kernel,
    )
    want = case.call(conv_core_ref)
    assert_same(case.call(_conv, path="planar"), want)
    assert_same(case.call(_conv, path="combo"), want)
    assert_same(case.call(conv_core), want)  # the automatic choice


def test_planar_fast_pixel_whose_weight_planes_overflow_the_lane() -> None:
    """Found by hypothesis: 8-bit image, 3-bit weights, 2 channels, 3x3 in int16 lanes under a
    24-bit (int32) accumulator. The weight-plane sums (2 x 7 x 255 x 18 = 64,260) wrap the
    lane while acc (64,260 - 7 x 4,590 = 32,130) fits it: the offset term must be added in
    the lane too, not in int64 after the wrap."""
    case = make_case(
        np.random.default_rng(3),
        height=3,
        width=3,
        cin=2,
        cout=1,
        stride=1,
        padding=0,
        feature_bits=8,
        weight_bits=3,
        accumulator_bits=24,
        overflow="saturate",
        weight_encoding="dorefa",
        out_bits=2,
        ic_batch=16,
        oc_batch=16,
        core_feature_bits=8,
        core_weight_bits=3,
        kernel=3,
    )
    case.x[...] = 255
    case.w[...] = 7  # dorefa code 7: weight +7
    got = case.call(_conv, path="planar")
    assert_same(got, case.call(conv_core_ref))
    assert int(got.acc[0, 0, 0]) == 32130


def test_planar_pending_pixels_beyond_the_accumulator_type() -> None:
    """Found by CI with the JIT off: a pixel whose bound does not fit (pending, replayed by the
    checked pass) may have an acc beyond the accumulator's numpy type (here 8-bit image x
    4-bit weights x 5x5 x 8 channels in int32 lanes, an 8-bit accumulator stored as int16).
    It is clipped to +-limit on the way, so plain Python stores it as jitted code does."""
    case = make_case(
        np.random.default_rng(5),
        height=5,
        width=5,
        cin=8,
        cout=1,
        stride=1,
        padding=0,
        feature_bits=8,
        weight_bits=4,
        accumulator_bits=8,
        overflow="saturate",
        weight_encoding="dorefa",
        out_bits=2,
        ic_batch=16,
        oc_batch=16,
        core_feature_bits=8,
        core_weight_bits=4,
        kernel=5,
    )
    case.x[...] = 255
    case.w[...] = 0  # dorefa code 0: weight -1, so acc = -(255 x 200), far below int16
    got = case.call(_conv, path="planar")
    assert_same(got, case.call(conv_core_ref))
    assert got.overflow_count > 0


@pytest.mark.parametrize("path", ["planar", "combo"])
@pytest.mark.parametrize("overflow", ["saturate", "wrap"])
@pytest.mark.parametrize(("feature_bits", "weight_bits"), [(8, 1), (8, 2), (2, 1), (2, 2)])
def test_planar_first_layer_mixes_fast_and_checked_pixels(
    overflow: str, feature_bits: int, weight_bits: int, path: str
) -> None:
    """A VGG16 conv1_1-like layer (3 channels, 3x3, 2-bit / 1-bit core) on a narrow accumulator
    with a bright patch: the pixels whose bound fits the accumulator are computed by the planar
    kernel, the patch's pixels (some overflow) are replayed by the checked pass; outputs,
    accumulators and overflow report equal the oracle's."""
    rng = np.random.default_rng(21)
    side = 12 if JIT_DISABLED else 29
    amax = (1 << feature_bits) - 1
    case = make_case(
        rng,
        height=side,
        width=side,
        cin=3,
        cout=16,
        stride=1,
        padding=1,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=12 if feature_bits == 8 else 7,
        overflow=overflow,
        weight_encoding="dorefa",
        out_bits=2,
        ic_batch=16,
        oc_batch=16,
        core_feature_bits=2,
        core_weight_bits=1,
        kernel=3,
    )
    case.x[: side // 2] //= 16 if feature_bits == 8 else 3  # dim rows: bounds fit
    case.x[side // 2 :, side // 2 :] = amax  # bright patch: bounds do not
    case.w[:8] = (1 << weight_bits) - 1  # channels 0..7 add only positive weights: they overflow
    # the premise: both kinds of pixels, by the bound S_x * M_w < limit of the fast path
    xp = np.pad(case.x.astype(np.int64), ((1, 1), (1, 1), (0, 0))).sum(axis=2)
    s_x = sum(xp[dy : dy + side, dx : dx + side] for dy in range(3) for dx in range(3))
    fits = s_x * ((1 << weight_bits) - 1) < (1 << (case.kwargs["accumulator_bits"] - 1)) - 1
    assert fits.any() and not fits.all()
    got = case.call(_conv, path=path)
    assert_same(got, case.call(conv_core_ref))
    assert got.overflow_count > 0
    assert_same(case.call(conv_core), got)
    assert_same_codes(case.call(_conv, path=path, with_acc=False), got)


@kernel_settings
@given(
    data=st.data(),
    kernel=st.sampled_from([1, 2, 3]),
    cin=st.integers(1, 8),
    weight_bits=st.integers(1, 6),
    accumulator_bits=st.sampled_from([8, 12, 16, 24]),
    overflow=st.sampled_from(["saturate", "wrap"]),
)
def test_combo_matches_oracle(
    data: st.DataObject,
    kernel: int,
    cin: int,
    weight_bits: int,
    accumulator_bits: int,
    overflow: str,
) -> None:
    """The combination kernel against the oracle: weights of 1..6 bits (chunks of
    ``6 // W`` channels, a partial last one), kernels 1..3, stride 2 column phases, padding 0,
    odd widths, negative channels, accumulators narrow enough for checked pixels."""
    stride = data.draw(st.integers(1, 2))
    padding = data.draw(st.integers(0, kernel - 1))
    side = max(kernel - 2 * padding, 1)
    feature_bits = data.draw(st.sampled_from([1, 2, 8]))
    case = make_case(
        np.random.default_rng(data.draw(st.integers(0, 2**32 - 1))),
        height=data.draw(st.integers(side, side + (4 if JIT_DISABLED else 20))),
        width=data.draw(st.integers(side, side + (4 if JIT_DISABLED else 30))),
        cin=cin,
        cout=data.draw(st.sampled_from([1, 5, 8, 16])),
        stride=stride,
        padding=padding,
        feature_bits=feature_bits,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow=overflow,
        weight_encoding=data.draw(st.sampled_from(["dorefa", "twos_complement"])),
        out_bits=data.draw(st.integers(1, 4)),
        ic_batch=16,
        oc_batch=16,
        saturated=data.draw(st.booleans()),
        core_feature_bits=data.draw(st.integers(1, feature_bits)),
        core_weight_bits=data.draw(st.integers(1, weight_bits)),
        kernel=kernel,
    )
    assert_same(case.call(_conv, path="combo"), case.call(conv_core_ref))


@pytest.mark.parametrize("weight_encoding", ["dorefa", "twos_complement"])
@pytest.mark.parametrize("overflow", ["saturate", "wrap"])
@pytest.mark.parametrize("accumulator_bits", [12, 16])
@pytest.mark.parametrize(("stride", "padding"), [(1, 1), (2, 0)])
def test_combo_w2_image_layer(
    stride: int, padding: int, accumulator_bits: int, overflow: str, weight_encoding: str
) -> None:
    """conv1_1 in small, W2 (one pass over the 64 combinations of three 2-bit codes): 8-bit
    image, 3 channels, more rows than one block of the kernel, an odd width. A 16-bit
    accumulator holds every window (no S_x is formed); a 12-bit one does not (checked
    pixels, which overflow)."""
    case = make_case(
        np.random.default_rng(accumulator_bits + stride),
        height=35 if not JIT_DISABLED else 19,
        width=23 if not JIT_DISABLED else 7,
        cin=3,
        cout=64,  # the 64-channel store of the codes
        stride=stride,
        padding=padding,
        feature_bits=8,
        weight_bits=2,
        accumulator_bits=accumulator_bits,
        overflow=overflow,
        weight_encoding=weight_encoding,
        out_bits=2,
        ic_batch=16,
        oc_batch=16,
        core_feature_bits=2,
        core_weight_bits=1,
    )
    want = case.call(conv3x3_ref)
    got = case.call(_conv3x3, path="combo")
    assert_same(got, want)
    assert (got.overflow_count > 0) == (accumulator_bits == 12)
    assert_same(case.call(conv3x3), want)  # the automatic choice is the combination kernel


@pytest.mark.parametrize("weight_bits", [1, 2])
@pytest.mark.parametrize("overflow", ["saturate", "wrap"])
@pytest.mark.parametrize(("accumulator_bits", "saturated"), [(16, False), (10, True)])
@pytest.mark.parametrize("padding", [0, 1])
def test_combo_rgb_rows(
    weight_bits: int, overflow: str, accumulator_bits: int, saturated: bool, padding: int
) -> None:
    """The three-channel stride-1 row load of the combination kernel (the image layer: the
    channels are split out of the padded rows at a constant stride): W1 and W2, padding 0 and
    1, an odd width, 3-bit outputs (thresholds padded to a multiple of three), negative
    channels; a 10-bit accumulator on saturated codes leaves pixels to the checked pass."""
    case = make_case(
        np.random.default_rng(weight_bits * 100 + accumulator_bits + padding),
        height=13 if not JIT_DISABLED else 5,
        width=37 if not JIT_DISABLED else 9,
        cin=3,
        cout=16,
        stride=1,
        padding=padding,
        feature_bits=8,
        weight_bits=weight_bits,
        accumulator_bits=accumulator_bits,
        overflow=overflow,
        weight_encoding="dorefa",
        out_bits=3,
        ic_batch=16,
        oc_batch=16,
        saturated=saturated,
        core_feature_bits=2,
        core_weight_bits=1,
    )
    want = case.call(conv3x3_ref)
    got = case.call(_conv3x3, path="combo")
    assert_same(got, want)
    assert (got.overflow_count > 0) == saturated


def test_threshold_forms() -> None:
    """The jitted threshold forms equal their numpy definitions: ``T`` clipped to
    ``[lo - 1, hi + 1]`` and negated on negative channels; then, for the row kernels, clipped
    to ``[-plim, plim]``, padded to a multiple of three rows with ``plim``, minus the negative
    flag."""
    rng = np.random.default_rng(3)
    lo, hi, plim = -(1 << 11), (1 << 11) - 1, 2000
    for nq in (1, 3, 4, 7):
        t = np.sort(rng.integers(-5000, 5000, (6, nq)), axis=1).astype(np.int64)
        neg = rng.random(6) < 0.5
        thr = _signed_thresholds(t, neg, lo, hi)
        sign = np.where(neg, -1, 1)
        want = (np.clip(t, lo - 1, hi + 1) * sign[:, None]).T
        assert thr.dtype == np.int64 and np.array_equal(thr, want)
        rows = max(3, -(-nq // 3) * 3)
        got = np.empty((rows, 6), dtype=np.int16)
        _lane_thresholds(thr, neg, plim, got)
        padded = np.full((rows, 6), plim, dtype=np.int64)
        padded[:nq] = np.clip(want, -plim, plim)
        assert np.array_equal(got, padded - neg[None, :])
        assert (np.abs(want) > plim).any()  # the clipping is exercised


def test_combo_all_zero_weights_twos_complement() -> None:
    """Two's complement code 0 is the value 0: every run of an all-zero channel is left out
    (no runs at all) and its accumulator is 0."""
    case = make_case(
        np.random.default_rng(9),
        height=9,
        width=10,
        cin=3,
        cout=8,
        stride=1,
        padding=1,
        feature_bits=8,
        weight_bits=2,
        accumulator_bits=16,
        overflow="wrap",
        weight_encoding="twos_complement",
        out_bits=2,
        ic_batch=16,
        oc_batch=16,
    )
    case.w[:4] = 0
    case.w[4:, :, :, 1] = 0  # some runs left out
    got = case.call(_conv3x3, path="combo")
    assert_same(got, case.call(conv3x3_ref))
    assert not got.acc[..., :4].any() and got.acc[..., 4:].any()


@kernel_settings
@given(case=core_cases(kernels=(5, 7), max_bits=8, narrow=False, bit_serial=True))
def test_core_bit_serial_equals_wide_pass_without_overflow(case: ConvCase) -> None:
    serial = case.call(conv_core)
    wide = case.call(conv_core, core_feature_bits=None, core_weight_bits=None)
    assert serial.overflow_count == wide.overflow_count == 0
    np.testing.assert_array_equal(serial.acc, wide.acc)
    np.testing.assert_array_equal(serial.out, wide.out)


@kernel_settings
@given(case=conv_cases(bit_serial=True))
def test_core_k3_equals_conv3x3(case: ConvCase) -> None:
    assert_same(case.call(conv_core, kernel=3, pack_1x1=False), case.call(conv3x3))


@pytest.mark.slow
@slow_settings
@given(case=core_cases(kernels=(1, 2, 3, 4, 5, 6, 7, 8, 9)))
def test_core_matches_oracle_long(case: ConvCase) -> None:
    assert_same(case.call(conv_core), case.call(conv_core_ref))
    assert_same(case.call(_conv, path="checked"), case.call(conv_core_ref))


def _direct_conv(x: np.ndarray, values: np.ndarray, stride: int, padding: int) -> np.ndarray:
    """Exact integer conv by the definition (window rows s*y - p .. s*y - p + k - 1)."""
    h, w, _ = x.shape
    cout, k = values.shape[:2]
    ho, wo = (h + 2 * padding - k) // stride + 1, (w + 2 * padding - k) // stride + 1
    out = np.zeros((ho, wo, cout), dtype=np.int64)
    for y in range(ho):
        for xo in range(wo):
            for ky in range(k):
                for kx in range(k):
                    r, c = stride * y - padding + ky, stride * xo - padding + kx
                    if 0 <= r < h and 0 <= c < w:
                        out[y, xo] += values[:, ky, kx, :] @ x[r, c].astype(np.int64)
    return out


@pytest.mark.parametrize("weight_encoding", ["dorefa", "twos_complement"])
@pytest.mark.parametrize(
    ("kernel", "stride", "padding", "pack_1x1"),
    [(1, 1, 0, False), (1, 2, 0, True), (5, 1, 2, False), (5, 2, 4, False), (7, 2, 3, False)],
)
def test_core_equals_direct_convolution(
    weight_encoding: str, kernel: int, stride: int, padding: int, pack_1x1: bool
) -> None:
    """Without overflow the accumulator is the plain convolution (windows, padding, stride)."""
    rng = np.random.default_rng(11)
    x = rng.integers(0, 4, size=(9, 8, 21), dtype=np.uint8)
    w = rng.integers(0, 4, size=(6, kernel, kernel, 21), dtype=np.uint8)
    n = w.astype(np.int64)
    values = 2 * n - 3 if weight_encoding == "dorefa" else np.where(n >= 2, n - 4, n)
    r = conv_core(
        x,
        w,
        np.zeros((6, 1), dtype=np.int64),
        kernel=kernel,
        stride=stride,
        padding=padding,
        feature_bits=2,
        weight_bits=2,
        accumulator_bits=32,
        overflow="saturate",
        weight_encoding=weight_encoding,
        ic_batch=2,
        core_feature_bits=1,
        core_weight_bits=1,
        pack_1x1=pack_1x1,
    )
    np.testing.assert_array_equal(r.acc, _direct_conv(x, values, stride, padding))
    assert r.overflow_count == 0


def _ones_core(kernel: int, cin: int, **kw: object) -> dict:
    return dict(
        x_codes=np.ones((kernel, kernel, cin), dtype=np.uint8),
        thresholds=np.zeros((1, 1), dtype=np.int64),
        kernel=kernel,
        stride=1,
        padding=0,
        feature_bits=1,
        weight_bits=2,
        accumulator_bits=5,  # [-16, 15]
        overflow="saturate",
        weight_encoding="twos_complement",  # codes 1 = +1, 3 = -1, 0 = 0
        **kw,
    )


def test_core_sub_kernel_before_slice_by_hand() -> None:
    """5x5: sub-kernel (0,0) of 9 taps adds +9 per slice, (0,1) of 6 taps -6 per slice, the
    bottom sub-kernels 0. Hardware order (sub-kernel outer, slice inner): 9, 18 -> 15 (event),
    9, 3. Slice outer would give 9, 3, 3, 3, 12, 6 and no event."""
    w = np.zeros((1, 5, 5, 2), dtype=np.uint8)
    w[0, 0:3, 0:3, :] = 1
    w[0, 0:3, 3:5, :] = 3
    for fn, kw in ((conv_core, {}), (conv_core_ref, {})):
        r = fn(w_codes=w, **_ones_core(5, 2, ic_batch=1, **kw))
        assert r.acc.tolist() == [[[3]]]
        assert r.overflow_count == 1
        assert r.first_overflow == (0, 0, 0)


def test_core_sub_kernel_before_pass_by_hand() -> None:
    """5x5, 2-bit activations 3 on a 1-bit core: per sub-kernel the passes j = 0, 1 add the
    partial sum x1 and x2. Hardware order: +9, +18 -> 15 (event), -6 -> 9, -12 -> -3."""
    w = np.zeros((1, 5, 5, 1), dtype=np.uint8)
    w[0, 0:3, 0:3, :] = 1
    w[0, 0:3, 3:5, :] = 3
    args = _ones_core(5, 1, ic_batch=1, core_feature_bits=1)
    args.update(feature_bits=2, x_codes=np.full((5, 5, 1), 3, dtype=np.uint8))
    for fn in (conv_core, conv_core_ref):
        r = fn(w_codes=w, **args)
        assert r.acc.tolist() == [[[-3]]]
        assert r.overflow_count == 1


@pytest.mark.parametrize(("pack_1x1", "events"), [(True, 2), (False, 3)])
def test_core_pack_1x1_by_hand(pack_1x1: bool, events: int) -> None:
    """20 channels, ic_batch 2, all +1: packed steps add 18 (9 groups) then 2 (the last, partial
    step): 18 -> 15 (event), 17 -> 15 (event). Unpacked: ten cycles of +2, events at the 8th,
    9th and 10th."""
    w = np.ones((1, 1, 1, 20), dtype=np.uint8)
    for fn in (conv_core, conv_core_ref):
        r = fn(w_codes=w, **_ones_core(1, 20, ic_batch=2, pack_1x1=pack_1x1))
        assert r.acc.tolist() == [[[15]]]
        assert r.overflow_count == events


def test_core_accepts_views() -> None:
    """Grouped convs, tiles and strips slice channels / columns: views give the same result as
    contiguous copies."""
    rng = np.random.default_rng(4)
    x = rng.integers(0, 4, size=(10, 14, 12), dtype=np.uint8)
    w = rng.integers(0, 2, size=(9, 5, 5, 12), dtype=np.uint8)
    t = np.sort(rng.integers(-40, 40, size=(9, 3)), axis=1).astype(np.int64)
    xs, ws, ts = x[:, 1::2, 3:9], w[2:7, :, :, 3:9], t[2:7]
    args = dict(
        kernel=5,
        stride=1,
        padding=2,
        feature_bits=2,
        weight_bits=1,
        accumulator_bits=7,
        overflow="saturate",
        weight_encoding="dorefa",
        negative=np.array([True, False] * 4 + [True])[2:7],
        ic_batch=4,
    )
    got = conv_core(xs, ws, ts, **args)
    assert_same(got, conv_core(*(np.ascontiguousarray(a) for a in (xs, ws, ts)), **args))
    assert_same(got, conv_core_ref(xs, ws, ts, **args))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (dict(kernel=0), r"kernel must be an integer in 1\.\.9, got 0"),
        (dict(kernel=10), r"kernel must be an integer in 1\.\.9, got 10"),
        (dict(padding=5), r"padding must be an integer in 0\.\.4, got 5"),
        (dict(pack_1x1=True), r"pack_1x1 needs a 1x1 kernel, got kernel 5"),
        (dict(pack_1x1=1), r"pack_1x1 must be True or False, got 1"),
        (dict(kernel=3), r"w_codes must be OHWI with a 3x3 kernel, got shape \(2, 5, 5, 3\)"),
        (
            dict(x_codes=np.zeros((2, 6, 3), dtype=np.uint8), padding=1),
            r"input 2x6 with padding 1 is smaller than the 5x5 kernel",
        ),
    ],
)
def test_core_argument_errors(change: dict, message: str) -> None:
    good = dict(
        x_codes=np.zeros((6, 6, 3), dtype=np.uint8),
        w_codes=np.zeros((2, 5, 5, 3), dtype=np.uint8),
        thresholds=np.zeros((2, 1), dtype=np.int64),
        kernel=5,
        stride=2,
        padding=4,
        feature_bits=2,
        weight_bits=1,
        accumulator_bits=16,
        overflow="saturate",
        weight_encoding="dorefa",
    )
    conv_core(**good)  # the base case is valid
    with pytest.raises(AccelsimError, match=message):
        conv_core(**{**good, **change})


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
@pytest.mark.parametrize(
    ("feature_bits", "accumulator_bits", "cin"), [(2, 7, 40), (8, 14, 40), (8, 12, 3)]
)
def test_result_does_not_depend_on_thread_count(
    feature_bits: int, accumulator_bits: int, cin: int
) -> None:
    """Popcount (2-bit), table (8-bit) and planar (3 channels) kernels, with checked pixels."""
    rng = np.random.default_rng(3)
    case = make_case(
        rng,
        height=30,
        width=17,
        cin=cin,
        cout=33,
        stride=1,
        padding=1,
        feature_bits=feature_bits,
        weight_bits=2,
        accumulator_bits=accumulator_bits,
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
            dict(x_codes=np.zeros((4, 4, 3), dtype=np.float32)),
            r"x_codes must be an integer array, got dtype float32",
        ),
        (dict(x_codes=np.zeros((4, 4), dtype=np.uint8)), r"x_codes must have 3 dimensions"),
        (dict(x_codes=[[[0]], [[0, 1]]]), r"x_codes must be a rectangular array, got a ragged"),
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
        (
            dict(thresholds=np.zeros((5, 3))),
            r"thresholds must be an integer array, got dtype float64",
        ),
        (dict(stride=3), r"stride must be 1 or 2, got 3"),
        (dict(padding=2), r"padding must be 0 or 1, got 2"),
        (dict(feature_bits=9), r"feature_bits must be an integer in 1\.\.8, got 9"),
        (dict(weight_bits=0), r"weight_bits must be an integer in 1\.\.8, got 0"),
        (dict(accumulator_bits=63), r"accumulator_bits must be an integer in 2\.\.62"),
        (dict(overflow="clamp"), r"overflow must be one of saturate, wrap, got 'clamp'"),
        (dict(weight_encoding="sign"), r"weight_encoding must be one of dorefa, twos_complement"),
        (dict(negative=np.zeros(4, dtype=bool)), r"negative has 4 entries"),
        (
            dict(negative=np.zeros(5, dtype=np.int8)),
            r"negative must be a bool array, got dtype int8",
        ),
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
