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


def _naive_steps(changes: list[tuple[int, int]]) -> tuple[list[int], list[int]]:
    """The step function by definition: the sum of deltas at times <= t at time 0 and at every
    change time, then each run of equal values cut to its first entry."""
    times = sorted({0} | {t for t, _ in changes})
    values = [sum(d for u, d in changes if u <= t) for t in times]
    keep = [0] + [i for i in range(1, len(times)) if values[i] != values[i - 1]]
    return [times[i] for i in keep], [values[i] for i in keep]


def test_steps_equal_the_definition_on_random_changes() -> None:
    """Array chunks (some with one delta for all), scalar changes, repeated times, changes that
    cancel, with and without a change at time 0."""
    rng = np.random.default_rng(11)
    for _ in range(150):
        tr = StepTrace("r")
        changes: list[tuple[int, int]] = []
        for _ in range(int(rng.integers(0, 5))):
            times = rng.integers(0, 40, int(rng.integers(0, 12)))
            if rng.random() < 0.4:
                delta = int(rng.integers(-3, 4))
                tr.add_many(times, delta)
                changes += [(int(t), delta) for t in times]
            else:
                deltas = rng.integers(-3, 4, len(times))
                tr.add_many(times, deltas)
                changes += list(zip(times.tolist(), deltas.tolist(), strict=True))
        for _ in range(int(rng.integers(0, 6))):
            t, d = int(rng.integers(0, 40)), int(rng.integers(-3, 4))
            tr.add(t, d)
            changes.append((t, d))
        s = tr.steps()
        want_t, want_v = _naive_steps(changes)
        assert s.times.tolist() == want_t and s.values.tolist() == want_v


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
