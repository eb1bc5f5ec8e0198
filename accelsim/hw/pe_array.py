"""The PE array (spec sections 3.4 and 7).

Conv pixels of a pass in raster order, image after image; each takes ``m * step_ob`` cycles
(ob outer; per ob the sub-kernels, bit-serial passes and ib steps, one ic_batch x oc_batch x
3 x 3 step a cycle), back to back, never reordered. Pixel ``i`` may start once (a) its weight
set is in its bank, (b) the read chunk completing its window has completed, and (c) the output
FIFO can take the groups it reserves (``reserve[i]``: its ``m`` groups; with a fused pool those
of the pooled pixels it completes, possibly none, spec 7.1): groups taken (reserved at pixel
start, released when the write grant carrying them completes) plus ``reserve[i]`` must not
exceed ``output_fifo.groups``. An idle cycle is charged to the first unmet condition in the
order weights, input, output.

Events are coarse: the process schedules, in one numba call, every pixel whose three conditions
are already decided, and sleeps until the record it lacks appears. Each condition, once met,
stays met, so a computed pixel start is final however far ahead of the simulation clock it lies.
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy
from numba import njit

from accelsim.hw.channels import PassChannels

READY, WAIT_WEIGHTS, WAIT_INPUT, WAIT_OUTPUT = 0, 1, 2, 3


@njit(cache=True)
def _advance(
    i: int,
    n_px: int,
    t_prev: int,
    t_w: int,
    need_chunk: np.ndarray,
    chunk_done: np.ndarray,
    rel_cum: np.ndarray,
    rel_time: np.ndarray,
    n_rel: int,
    rel_ptr: int,
    cap: int,
    reserve: np.ndarray,
    cum_reserve: np.ndarray,
    cpp: int,
    px_start: np.ndarray,
    px_end: np.ndarray,
    stalls: np.ndarray,
) -> tuple[int, int, int, int]:
    """Schedule pixels from ``i`` while their conditions are decided.

    Returns (next pixel, end of the last scheduled pixel, status, release pointer).
    """
    while i < n_px:
        if t_w < 0:
            return i, t_prev, WAIT_WEIGHTS, rel_ptr
        t_in = chunk_done[need_chunk[i]]
        if t_in < 0:
            return i, t_prev, WAIT_INPUT, rel_ptr
        need = cum_reserve[i] - cap
        t_out = 0
        if reserve[i] > 0 and need > 0:
            while rel_ptr < n_rel and rel_cum[rel_ptr] < need:
                rel_ptr += 1
            if rel_ptr >= n_rel:
                return i, t_prev, WAIT_OUTPUT, rel_ptr
            t_out = rel_time[rel_ptr]
        a = max(t_prev, t_w)
        b = max(a, t_in)
        c = max(b, t_out)
        stalls[0] += a - t_prev
        stalls[1] += b - a
        stalls[2] += c - b
        px_start[i] = c
        t_prev = c + cpp
        px_end[i] = t_prev
        i += 1
    return i, t_prev, READY, rel_ptr


def pe_array(
    env: simpy.Environment, ch: PassChannels, fifo_groups: int
) -> Generator[simpy.Event, object, None]:
    """simpy process: schedule every conv pixel of the pass."""
    lay = ch.layout
    n_px = lay.n_px
    cpp = lay.cycles_per_px
    i = 0
    t_prev = ch.start
    rel_ptr = 0
    while True:
        i_new, t_prev, status, rel_ptr = _advance(
            i, n_px, t_prev, ch.weights.ready, lay.need_chunk, ch.chunk_done,
            ch.rel_cum, ch.rel_time, ch.n_rel, rel_ptr, fifo_groups, lay.reserve,
            lay.cum_reserve, cpp,
            ch.px_start, ch.px_end, ch.stalls,
        )  # fmt: skip
        if i_new > i:
            i = i_new
            ch.scheduled_up_to(i)
        if status == READY:
            return
        if status == WAIT_WEIGHTS:
            yield ch.weights.progress.wait()
        elif status == WAIT_INPUT:
            yield ch.read_progress.wait()
        else:
            yield ch.write_progress.wait()
