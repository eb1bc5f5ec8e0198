"""Step-function traces: exact values, maxima and time-weighted means."""

from __future__ import annotations

import numpy as np

from accelsim.engine.trace import StepTrace


def test_steps_from_unordered_changes() -> None:
    tr = StepTrace("x")
    tr.add(10, 5)
    tr.add_many(np.array([2, 10, 20]), np.array([3, -1, -7]))
    s = tr.steps()
    assert s.times.tolist() == [0, 2, 10, 20]
    assert s.values.tolist() == [0, 3, 7, 0]
    assert s.value_at(1) == 0 and s.value_at(2) == 3 and s.value_at(15) == 7
    mx, mean = s.window(0, 20)
    assert mx == 7
    assert mean == (3 * 8 + 7 * 10) / 20
    assert s.window(12, 14) == (7, 7.0)


def test_empty_trace_is_zero() -> None:
    s = StepTrace("e").steps()
    assert s.value_at(100) == 0 and s.window(0, 10) == (0, 0.0)


def test_windows_equal_window_on_every_interval() -> None:
    """The vectorised per-layer reduction gives exactly the scalar one's numbers."""
    rng = np.random.default_rng(7)
    tr = StepTrace("r")
    tr.add_many(rng.integers(0, 500, 300), rng.integers(-5, 9, 300))
    s = tr.steps()
    starts = rng.integers(0, 600, 200)
    ends = starts + rng.integers(-3, 120, 200)  # some empty and reversed windows too
    starts = np.append(starts, [0, 0, 499, 700])
    ends = np.append(ends, [0, 1000, 500, 800])
    mx, mean = s.windows(starts, ends)
    for a, b, m, v in zip(starts.tolist(), ends.tolist(), mx, mean, strict=True):
        assert (m, v) == s.window(a, b)
        assert type(m) is int and type(v) is float
    assert s.windows(np.zeros(0, np.int64), np.zeros(0, np.int64)) == ([], [])
