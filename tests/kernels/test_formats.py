"""Number formats and DDR byte layouts (accelsim/kernels/formats.py), spec §2, §3.2, §3.3."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelsim.errors import AccelsimError
from accelsim.kernels.formats import (
    feature_map_bytes,
    feature_row_bytes,
    pack_features,
    pack_weights,
    unpack_features,
    unpack_weights,
    weight_bytes,
    weight_codes,
    weight_range,
    weight_values,
)
from tests.kernels.strategies import kernel_settings


@pytest.mark.parametrize(
    ("bits", "encoding", "values"),
    [
        (1, "dorefa", [-1, 1]),
        (2, "dorefa", [-3, -1, 1, 3]),
        (3, "dorefa", [-7, -5, -3, -1, 1, 3, 5, 7]),
        (1, "twos_complement", [0, -1]),
        (2, "twos_complement", [0, 1, -2, -1]),
        (3, "twos_complement", [0, 1, 2, 3, -4, -3, -2, -1]),
    ],
)
def test_weight_encodings(bits: int, encoding: str, values: list[int]) -> None:
    codes = np.arange(1 << bits, dtype=np.uint8)
    assert weight_values(codes, bits, encoding).tolist() == values
    assert weight_codes(np.array(values), bits, encoding).tolist() == codes.tolist()
    assert weight_range(bits, encoding) == (min(values), max(values))


@pytest.mark.parametrize("encoding", ["dorefa", "twos_complement"])
@pytest.mark.parametrize("bits", range(1, 9))
def test_weight_codes_round_trip(bits: int, encoding: str) -> None:
    codes = np.arange(1 << bits, dtype=np.uint8)
    assert np.array_equal(weight_codes(weight_values(codes, bits, encoding), bits, encoding), codes)


def test_weight_codes_rejects_unrepresentable_values() -> None:
    with pytest.raises(
        AccelsimError,
        match=r"2-bit dorefa weights must be odd integers in "
        r"\[-3, 3\], got 2",
    ):
        weight_codes(np.array([1, 2]), 2, "dorefa")
    with pytest.raises(AccelsimError, match=r"got -3"):
        weight_codes(np.array([-3]), 2, "twos_complement")
    with pytest.raises(AccelsimError, match=r"weight_encoding must be one of"):
        weight_values(np.zeros(2, dtype=np.uint8), 2, "sign")


def test_byte_counts_match_spec() -> None:
    # the design note's line buffer: 16 ch x 2048 px x 2 bit = 8 KiB
    assert feature_row_bytes(2048, 16, 2, 16) == 8192
    # channels pad to whole ic_batch groups: 17 channels take two groups of 16
    assert feature_row_bytes(10, 17, 2, 16) == 10 * 2 * 16 * 2 // 8
    assert feature_map_bytes(7, 10, 17, 2, 16) == 7 * 80
    # weights: 9 * n_ib * n_ob * ic_batch * oc_batch * W / 8
    assert weight_bytes(64, 128, 1, 16, 16) == 9 * 4 * 8 * 16 * 16 // 8
    assert weight_bytes(3, 64, 2, 16, 16) == 9 * 1 * 4 * 16 * 16 * 2 // 8
    assert weight_bytes(33, 17, 3, 8, 8) == 9 * 5 * 3 * 8 * 8 * 3 // 8


def test_feature_layout_by_hand() -> None:
    # A = 2, ic_batch = 8: a group is 2 bytes; channel k at bits [2k, 2k+2) of the group
    x = np.array([[[1, 2, 3], [3, 0, 1]]], dtype=np.uint8)  # 1 x 2 pixels x 3 channels
    data = pack_features(x, 2, 8)
    assert data.tolist() == [1 | 2 << 2 | 3 << 4, 0, 3 | 1 << 4, 0]
    # A = 3: values straddle bytes; channel 2 sits at bits 6..8
    x3 = np.array([[[7, 0, 5, 0, 0, 0, 0, 1]]], dtype=np.uint8)
    data3 = pack_features(x3, 3, 8)
    stream = 7 | 5 << 6 | 1 << 21
    assert data3.tolist() == list(stream.to_bytes(3, "little"))
    # two groups per pixel: group (y, x, ib) at ((y * W + x) * n_ib + ib) * group bytes
    x2 = np.zeros((2, 2, 10), dtype=np.uint8)
    x2[1, 0, 9] = 1
    data2 = pack_features(x2, 1, 8)
    assert data2.size == 2 * 2 * 2
    assert np.flatnonzero(data2).tolist() == [(1 * 2 + 0) * 2 + 1]
    assert data2[5] == 1 << 1


def test_weight_layout_by_hand() -> None:
    """ob outer, ib inner; inside a block: oc lane, ky, kx, ic lane."""
    cout, cin, ic_batch, oc_batch, bits = 3, 10, 8, 2, 2
    rng = np.random.default_rng(1)
    w = rng.integers(0, 4, size=(cout, 3, 3, cin), dtype=np.uint8)
    order = []
    for ob in range(2):
        for ib in range(2):
            for o in range(oc_batch):
                for ky in range(3):
                    for kx in range(3):
                        for i in range(ic_batch):
                            c, k = ob * oc_batch + o, ib * ic_batch + i
                            order.append(int(w[c, ky, kx, k]) if c < cout and k < cin else 0)
    stream = sum(v << (bits * n) for n, v in enumerate(order))
    want = list(stream.to_bytes(len(order) * bits // 8, "little"))
    assert pack_weights(w, bits, ic_batch, oc_batch).tolist() == want
    assert len(want) == weight_bytes(cin, cout, bits, ic_batch, oc_batch)


@kernel_settings
@given(
    h=st.integers(1, 9),
    w=st.integers(1, 9),
    c=st.integers(1, 70),
    bits=st.integers(1, 8),
    ic_batch=st.sampled_from([8, 16, 24, 32, 64]),
    seed=st.integers(0, 2**32 - 1),
)
def test_features_round_trip(h: int, w: int, c: int, bits: int, ic_batch: int, seed: int) -> None:
    x = np.random.default_rng(seed).integers(0, 1 << bits, (h, w, c), dtype=np.uint8)
    data = pack_features(x, bits, ic_batch)
    assert data.dtype == np.uint8
    assert data.size == feature_map_bytes(h, w, c, bits, ic_batch)
    assert data.size == h * w * -(-c // ic_batch) * ic_batch * bits // 8
    assert np.array_equal(unpack_features(data, h, w, c, bits, ic_batch), x)
    assert np.array_equal(unpack_features(data.tobytes(), h, w, c, bits, ic_batch), x)


@kernel_settings
@given(
    cout=st.integers(1, 40),
    cin=st.integers(1, 40),
    bits=st.integers(1, 8),
    ic_batch=st.sampled_from([8, 16, 32]),
    oc_batch=st.sampled_from([8, 16, 32]),
    seed=st.integers(0, 2**32 - 1),
)
def test_weights_round_trip(
    cout: int, cin: int, bits: int, ic_batch: int, oc_batch: int, seed: int
) -> None:
    w = np.random.default_rng(seed).integers(0, 1 << bits, (cout, 3, 3, cin), dtype=np.uint8)
    data = pack_weights(w, bits, ic_batch, oc_batch)
    n_ib, n_ob = -(-cin // ic_batch), -(-cout // oc_batch)
    assert data.size == weight_bytes(cin, cout, bits, ic_batch, oc_batch)
    assert data.size == 9 * n_ib * n_ob * ic_batch * oc_batch * bits // 8
    assert np.array_equal(unpack_weights(data, cout, cin, bits, ic_batch, oc_batch), w)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: pack_features(np.full((2, 2, 3), 4, dtype=np.uint8), 2, 16),
            r"x_codes has code 4, above the 2-bit maximum 3",
        ),
        (
            lambda: pack_features(np.zeros((2, 2, 3), dtype=np.int16), 2, 16),
            r"x_codes must be a numpy uint8 array, got ndarray of int16",
        ),
        (
            lambda: pack_features(np.zeros((2, 2, 3), dtype=np.uint8), 3, 4),
            r"ic_batch \* bits must be a whole number of bytes, got 4 \* 3 bits",
        ),
        (
            lambda: pack_features(np.zeros((2, 2, 3), dtype=np.uint8), 9, 16),
            r"feature_bits must be an integer in 1\.\.8, got 9",
        ),
        (
            lambda: pack_weights(np.zeros((2, 1, 1, 3), dtype=np.uint8), 1, 16, 16),
            r"OHWI with a 3x3 kernel",
        ),
        (
            lambda: pack_weights(np.zeros((2, 3, 3, 3), dtype=np.uint8), 1, 16, 0),
            r"oc_batch must be a positive integer, got 0",
        ),
        (
            lambda: unpack_features(np.zeros(5, dtype=np.uint8), 1, 1, 16, 2, 16),
            r"feature data has 5 bytes, expected 4",
        ),
        (
            lambda: unpack_weights(b"\x00" * 3, 1, 1, 1, 8, 8),
            r"weight data has 3 bytes, expected 72",
        ),
    ],
)
def test_format_errors(call: object, message: str) -> None:
    with pytest.raises(AccelsimError, match=message):
        call()  # type: ignore[operator]
