"""The int8 dot-product kernel (accelsim/kernels/vnni.py): its weight layouts, and both vector
widths against the numpy oracle (the host's width also runs through test_conv.py)."""

from __future__ import annotations

import types
from collections.abc import Callable

import numba
import numpy as np
import pytest

import accelsim.kernels.conv as conv_module
import accelsim.kernels.vnni as vnni
from accelsim.kernels.conv import _conv
from accelsim.kernels.ref import conv_core_ref
from tests.kernels.strategies import make_case


def _packssdw(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """What ``vpackssdw`` does with two vectors' lanes (no value saturates here): per 128-bit
    lane, four lanes of ``a`` then four of ``b``."""
    return np.concatenate(
        [np.concatenate([a[i : i + 4], b[i : i + 4]]) for i in range(0, a.size, 4)]
    )


@pytest.mark.parametrize("lanes", [8, 16])
def test_pack_order_packs_channels_in_order(lanes: int) -> None:
    order = vnni.pack_order(lanes)
    assert sorted(order) == list(range(vnni.VNNI_BLOCK))
    vectors = order.reshape(-1, lanes)  # the channel each lane of each sum vector holds
    packed = [_packssdw(vectors[2 * h], vectors[2 * h + 1]) for h in range(len(vectors) // 2)]
    np.testing.assert_array_equal(np.concatenate(packed), np.arange(vnni.VNNI_BLOCK))


@pytest.mark.parametrize("cin", [1, 3, 4])
@pytest.mark.parametrize("cout", [5, 64, 130])
def test_weight_layout(cin: int, cout: int) -> None:
    """Byte ``4 d + j`` of kernel row ``ky`` in lane ``o`` of block ``blk`` is the weight at
    ``kx * C_in + c = 4 d + j`` of output channel ``64 blk + o`` (packed: of the channel that
    :func:`pack_order` puts in that lane); zero past the row and for the padding channels."""
    rng = np.random.default_rng(cin * 1000 + cout)
    values = rng.integers(-128, 128, (cout, 3, 3, cin)).astype(np.int8)
    n_blk = -(-cout // 64)
    for packed_lanes in (0, 8, 16):
        got = vnni.vnni_weights(values, packed_lanes).reshape(n_blk, 3, 3, 64, 4)
        lane_channel = vnni.pack_order(packed_lanes) if packed_lanes else np.arange(64)
        want = np.zeros_like(got)
        for blk in range(n_blk):
            for lane, ch in enumerate(lane_channel):
                o = 64 * blk + ch
                if o < cout:
                    row = np.zeros((3, 12), dtype=np.int8)
                    row[:, : 3 * cin] = values[o].reshape(3, 3 * cin)
                    want[blk, :, :, lane] = row.reshape(3, 3, 4)
        np.testing.assert_array_equal(got, want)


def _kernel_of_width(lanes: int) -> Callable[..., None]:
    """:func:`conv_vnni` compiled for ``lanes`` int32 lanes: the module's own where that is
    its width, else a copy with its compile-time constants replaced (other globals), uncached."""
    if lanes == vnni.VNNI_LANES:
        return vnni.conv_vnni
    env = dict(vnni.__dict__, VNNI_LANES=lanes, _N_PX=vnni.VNNI_CHAINS * lanes // vnni.VNNI_BLOCK)
    row = vnni._row.py_func
    env["_row"] = numba.njit(types.FunctionType(row.__code__, env, row.__name__))
    conv = vnni.conv_vnni.py_func
    return numba.njit(parallel=True)(types.FunctionType(conv.__code__, env, conv.__name__))


@pytest.mark.skipif(not vnni.vnni_target(), reason="numba's target has no VNNI")
@pytest.mark.parametrize("lanes", [8, 16])
def test_both_vector_widths_match_oracle(monkeypatch: pytest.MonkeyPatch, lanes: int) -> None:
    """The 256-bit form (two pixels a call) and the 512-bit one (four), each with row tails,
    padding channels, negative channels, the packed int16 thresholds, the int32 ones and the
    stored sums: codes and accumulators equal the oracle's."""
    if lanes > vnni.vnni_lanes():
        pytest.skip(f"this host's VNNI has {vnni.vnni_lanes()} lanes")
    kernel = _kernel_of_width(lanes)
    calls = []
    monkeypatch.setattr(conv_module, "conv_vnni", lambda *a: calls.append(a[5].dtype) or kernel(*a))
    monkeypatch.setattr(conv_module, "VNNI_LANES", lanes)  # the packed weights' order
    rng = np.random.default_rng(lanes)
    for i in range(24):
        wide = i % 4 == 3  # 8-bit two's complement weights: sums past int16
        case = make_case(
            rng, height=int(rng.integers(1, 7)), width=int(rng.integers(1, 12)),
            cin=int(rng.integers(1, 5)), cout=int(rng.choice([3, 64, 100, 130])),
            stride=int(rng.integers(1, 3)), padding=1, feature_bits=8,
            weight_bits=8 if wide else int(rng.integers(1, 3)),
            accumulator_bits=32 if wide else 16, overflow="saturate",
            weight_encoding="twos_complement" if wide else "dorefa",
            out_bits=int(rng.integers(1, 4)), ic_batch=16, oc_batch=16,
            core_feature_bits=2, core_weight_bits=1, kernel=3,
        )  # fmt: skip
        want = case.call(conv_core_ref)
        full = case.call(_conv, path="vnni")
        np.testing.assert_array_equal(full.acc, want.acc)
        np.testing.assert_array_equal(full.out, want.out)
        lean = case.call(_conv, path="vnni", with_acc=False)
        np.testing.assert_array_equal(lean.out, want.out)
    assert np.dtype(np.int16) in calls and np.dtype(np.int32) in calls
