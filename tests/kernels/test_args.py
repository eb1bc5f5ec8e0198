"""The public kernel's argument front (accelsim/kernels/args.py): what numpy users pass to
conv3x3 is accepted when it means the same codes, and refused with the argument's name when not."""

from __future__ import annotations

import numpy as np
import pytest

from accelsim.errors import AccelsimError
from accelsim.kernels import conv3x3

RNG = np.random.default_rng(3)
X = RNG.integers(0, 4, size=(5, 6, 8), dtype=np.uint8)
W = RNG.integers(0, 2, size=(4, 3, 3, 8), dtype=np.uint8)
T = np.sort(RNG.integers(-20, 20, size=(4, 3)), axis=1).astype(np.int64)
KW = dict(
    stride=1, padding=1, feature_bits=2, weight_bits=1, accumulator_bits=16,
    overflow="saturate", weight_encoding="dorefa",
)  # fmt: skip


def _same(result: object, reference: object) -> None:
    assert np.array_equal(result.out, reference.out)  # type: ignore[attr-defined]
    assert np.array_equal(result.acc, reference.acc)  # type: ignore[attr-defined]


@pytest.mark.parametrize("dtype", [np.int8, np.int16, np.int32, np.int64, np.uint16, np.uint64])
def test_any_integer_dtype_gives_the_same_result(dtype: type) -> None:
    ref = conv3x3(X, W, T, **KW)
    thr = T if np.iinfo(dtype).min < 0 else T - T.min()
    ref_thr = ref if thr is T else conv3x3(X, W, thr.astype(np.int64), **KW)
    _same(conv3x3(X.astype(dtype), W.astype(dtype), thr.astype(dtype), **KW), ref_thr)


def test_array_likes_are_accepted() -> None:
    ref = conv3x3(X, W, T, negative=np.zeros(4, dtype=bool), **KW)
    _same(conv3x3(X.tolist(), W.tolist(), T.tolist(), negative=[False] * 4, **KW), ref)
    _same(conv3x3(X, W, T, stride=np.int64(1), **{k: v for k, v in KW.items() if k != "stride"}),
          ref)  # fmt: skip


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"x_codes": X.astype(np.int16) - 1}, "x_codes has value -1, below 0"),
        ({"w_codes": W.astype(np.int32) + 300}, r"w_codes has value 301, above 255 \(uint8\)"),
        ({"thresholds": T.astype(np.uint64) + 2**63}, r"thresholds has value 92233720368547758"),
        ({"x_codes": X.astype(bool)}, "x_codes must be an integer array, got dtype bool"),
        ({"thresholds": T.astype(float)}, "thresholds must be an integer array, got dtype float64"),
        ({"x_codes": "codes"}, "x_codes must be an array, got str"),
        ({"w_codes": None}, "w_codes must be an array, got NoneType"),
        ({"x_codes": [[[1]], [[1, 2]]]}, "x_codes must be a rectangular array, got a ragged list"),
        ({"negative": [0, 1, 0, 0]}, "negative must be a bool array, got dtype int64"),
        ({"stride": True}, r"stride must be an integer, got True \(a bool\)"),
        ({"padding": np.bool_(False)}, r"padding must be an integer, got False \(a bool\)"),
    ],
)
def test_refused_arguments_are_named(change: dict, message: str) -> None:
    args = {"x_codes": X, "w_codes": W, "thresholds": T, **KW, **change}
    with pytest.raises(AccelsimError, match=message) as info:
        conv3x3(**args)
    assert all("\n" not in p for p in info.value.problems)
