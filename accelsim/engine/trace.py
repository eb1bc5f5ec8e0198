"""Exact step functions of time (occupancies), kept as integer arrays.

A :class:`StepTrace` collects ``(time, delta)`` changes, possibly out of order, and turns them
into the step function ``value(t)`` = sum of deltas at times <= t. Statistics are exact: the
maximum value and the time-weighted mean over an interval.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


class StepTrace:
    """Accumulates changes of an integer quantity over time."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._times: list[np.ndarray] = []
        self._deltas: list[np.ndarray | int] = []  # an int: the same change at every time
        self._t: list[int] = []  # scalar changes, kept as plain ints (cheap to append)
        self._d: list[int] = []

    def add(self, time: int, delta: int) -> None:
        self._t.append(time)
        self._d.append(delta)

    def add_many(self, times: np.ndarray, deltas: np.ndarray | int) -> None:
        """Changes at many times: ``deltas`` an array of the same shape, or one int for all."""
        t = np.asarray(times, dtype=np.int64).ravel()
        self._times.append(t)
        if isinstance(deltas, (int, np.integer)):
            self._deltas.append(int(deltas))
        else:
            d = np.asarray(deltas, dtype=np.int64)
            if d.size != t.size:
                d = np.broadcast_to(d, np.shape(times))
            self._deltas.append(d.ravel())

    def steps(self) -> Steps:
        from accelsim.engine.fold import fold_changes  # numba: loaded when a run is reduced

        n = sum(len(t) for t in self._times) + len(self._t)
        if n == 0:
            return Steps(np.zeros(1, np.int64), np.zeros(1, np.int64))
        # every change in two flat arrays, filled in place (no per-chunk temporaries)
        t = np.empty(n, dtype=np.int64)
        d = np.empty(n, dtype=np.int64)
        i = 0
        for times, deltas in zip(self._times, self._deltas, strict=True):
            j = i + len(times)
            t[i:j] = times
            d[i:j] = deltas
            i = j
        t[i:] = self._t
        d[i:] = self._d
        # The value after the last change at a time is the sum of every delta up to that time,
        # whatever order changes of one time come in: any sort will do.
        order = np.argsort(t, kind="stable")  # nearly sorted runs: the stable sort is fastest
        out_t = np.empty(n + 1, dtype=np.int64)
        out_v = np.empty(n + 1, dtype=np.int64)
        k = fold_changes(t, d, order, out_t, out_v)
        out_t.resize(k, refcheck=False)  # shrunk in place: no copy (nothing else refers to them)
        out_v.resize(k, refcheck=False)
        return Steps(out_t, out_v)


@dataclass(frozen=True)
class Steps:
    """A step function: ``values[i]`` holds from ``times[i]`` until ``times[i+1]``."""

    times: np.ndarray
    values: np.ndarray

    def value_at(self, t: int) -> int:
        i = int(np.searchsorted(self.times, t, side="right")) - 1
        return int(self.values[i]) if i >= 0 else 0

    def windows(self, starts: np.ndarray, ends: np.ndarray) -> tuple[list[int], list[float]]:
        """(max, time-weighted mean) over each ``[starts[i], ends[i])``, all at once (one numba
        pass, :func:`accelsim.engine.fold.window_stats`); the same numbers as :meth:`window`
        (the integral is exact in integers, divided once)."""
        from accelsim.engine.fold import window_stats  # numba: loaded when a run is reduced

        starts = np.asarray(starts, dtype=np.int64)
        ends = np.asarray(ends, dtype=np.int64)
        mx = np.empty(len(starts), dtype=np.int64)
        mean = np.empty(len(starts), dtype=np.float64)
        window_stats(self.times, self.values, starts, ends, mx, mean)
        return mx.tolist(), mean.tolist()

    def window(self, start: int, end: int) -> tuple[int, float]:
        """(max, time-weighted mean) over [start, end)."""
        if end <= start:
            v = self.value_at(start)
            return v, float(v)
        i0 = max(int(np.searchsorted(self.times, start, side="right")) - 1, 0)
        i1 = int(np.searchsorted(self.times, end, side="left"))
        t = self.times[i0:i1].copy()
        v = self.values[i0:i1]
        if len(t) == 0:
            return 0, 0.0
        t[0] = max(t[0], start)
        edges = np.append(t, end)
        dur = np.diff(edges)
        return int(v.max()), float((v * dur).sum() / (end - start))
