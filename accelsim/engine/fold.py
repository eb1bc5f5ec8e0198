"""The one compiled pass of :meth:`accelsim.engine.trace.StepTrace.steps` (numba, loaded on use:
reports and the quick commands import the traces without it)."""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def fold_changes(
    times: np.ndarray, deltas: np.ndarray, order: np.ndarray, out_t: np.ndarray, out_v: np.ndarray
) -> int:
    """Fold changes ``(times[i], deltas[i])``, taken in the time order ``order``, into a step
    function: ``out_v[j]`` is the sum of every delta at times ``<= out_t[j]``, one entry per
    time at which the sum changes, led by ``(0, 0)`` when no change is at time 0 (an entry at
    time 0 is kept even when its sum is 0). ``out_t`` / ``out_v`` hold at least ``len(order) +
    1`` entries; returns how many were written."""
    n = order.shape[0]
    k = 0
    v = 0
    for i in range(n):
        j = order[i]
        v += deltas[j]
        t = times[j]
        if i + 1 < n and times[order[i + 1]] == t:
            continue  # the sum after the last change at t counts
        if k == 0 and t != 0:
            out_t[0] = 0
            out_v[0] = 0
            k = 1
        if k == 0 or v != out_v[k - 1]:
            out_t[k] = t
            out_v[k] = v
            k += 1
    return k


@njit(cache=True)
def window_stats(
    times: np.ndarray,
    values: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    mx: np.ndarray,
    mean: np.ndarray,
) -> None:
    """Max and time-weighted mean of the step function ``(times, values)`` (0 before
    ``times[0]``) over each window ``[starts[w], ends[w])``: the step holding at the start, then
    every step that begins inside. The integral is exact in integers and divided once. An
    empty window (``end <= start``) takes the value at its start for both."""
    n = times.shape[0]
    for w in range(starts.shape[0]):
        s = starts[w]
        e = ends[w]
        i = np.searchsorted(times, s, side="right") - 1
        cur = values[i] if i >= 0 else 0
        if e <= s:
            mx[w] = cur
            mean[w] = cur
            continue
        top = cur
        area = 0
        t = s
        j = i + 1
        while j < n and times[j] < e:
            area += cur * (times[j] - t)
            t = times[j]
            cur = values[j]
            top = max(top, cur)
            j += 1
        area += cur * (e - t)
        mx[w] = top
        mean[w] = np.float64(area) / np.float64(e - s)
