"""Window geometry (accelsim/mapping/geometry.py) against brute-force enumeration."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from accelsim.mapping.geometry import column_strips, pool_order, read_columns, read_rows


@st.composite
def windows(draw: st.DrawFn) -> tuple[int, int, int, int, int]:
    k = draw(st.sampled_from([1, 2, 3, 5, 7]))
    s = draw(st.sampled_from([1, 2]))
    p = draw(st.integers(0, k - 1))
    size = draw(st.integers(max(1, k - 2 * p), 30))
    out = (size + 2 * p - k) // s + 1
    return size, out, k, s, p


@settings(max_examples=200, deadline=None)
@given(windows())
def test_read_rows_are_the_rows_some_window_covers(case: tuple[int, int, int, int, int]) -> None:
    size, out, k, s, p = case
    want = sorted({r for y in range(out) for r in range(s * y - p, s * y - p + k) if 0 <= r < size})
    assert read_rows(size, out, k, s, p).tolist() == want


@settings(max_examples=200, deadline=None)
@given(windows(), st.data())
def test_column_strips_cover_the_outputs_and_fit(case, data) -> None:  # type: ignore[no-untyped-def]
    size, out, k, s, p = case
    limit = data.draw(st.integers(1, size))
    strips = column_strips(size, out, k, s, p, limit)
    one = read_columns(size, 0, 0, k, s, p)
    if strips is None:  # some single output column reads more than the limit
        assert any(
            (lambda lo, hi: hi - lo + 1)(*read_columns(size, x, x, k, s, p)) > limit
            for x in range(out)
        )
        return
    assert one[0] == 0
    assert strips[0][0] == 0 and strips[-1][1] == out - 1
    for (_, a1), (b0, _) in zip(strips, strips[1:], strict=False):
        assert b0 == a1 + 1  # contiguous, in order
    for x0, x1 in strips:
        lo, hi = read_columns(size, x0, x1, k, s, p)
        assert hi - lo + 1 <= limit
        # every column a window of the strip reads is inside [lo, hi]
        cols = {c for x in range(x0, x1 + 1) for c in range(s * x - p, s * x - p + k)}
        assert {c for c in cols if 0 <= c < size} <= set(range(lo, hi + 1))
        if x1 + 1 < out:  # greedy: one more column would not fit
            lo2, hi2 = read_columns(size, x0, x1 + 1, k, s, p)
            assert hi2 - lo2 + 1 > limit


@settings(max_examples=200, deadline=None)
@given(
    st.integers(1, 14), st.integers(1, 14), st.sampled_from([2, 3]), st.sampled_from([1, 2]),
    st.data(),
)  # fmt: skip
def test_pool_order_is_raster_and_waits_for_every_window(h, w, k, s, data) -> None:  # type: ignore[no-untyped-def]
    p = data.draw(st.integers(0, k - 1))
    ho, wo = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1
    if ho < 1 or wo < 1:
        return
    order = pool_order(h, w, ho, wo, k, s, p)
    emitted_at = order.emit
    assert np.all(np.diff(emitted_at) >= 0)  # raster order of the pooled map
    for o in range(ho * wo):
        py, px = divmod(o, wo)
        window = [
            r * w + c
            for r in range(max(0, py * s - p), min(h, py * s - p + k))
            for c in range(max(0, px * s - p), min(w, px * s - p + k))
        ]
        assert window, "every pooled window holds a conv pixel"
        assert emitted_at[o] >= max(window)  # complete when emitted
        assert order.first[o] == min(window)
        # and not later than needed: it is the latest completion among pooled pixels 0..o
        done = [max(0, min(h, py2 * s - p + k) - 1) * w + min(w, px2 * s - p + k) - 1
                for py2, px2 in (divmod(o2, wo) for o2 in range(o + 1))]  # fmt: skip
        assert emitted_at[o] == max(done)
    assert order.count.sum() == ho * wo
    assert order.max_emitted == int(np.bincount(emitted_at).max())
