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

Events are coarse: the array is no simpy process but a callback. One numba call schedules every
pixel whose three conditions are already decided; the array then notes in its channels the one
record it lacks (its weights, a read chunk, or enough FIFO releases), and is woken when that
record appears. Each condition, once met, stays met, so a computed pixel start is final however
far ahead of the simulation clock it lies.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from accelsim.hw.channels import READY, WAIT_INPUT, WAIT_OUTPUT, WAIT_WEIGHTS, PassChannels

# The array's own buffer: its state (next pixel, end of the last scheduled pixel, release
# pointer, FIFO groups, cycles per pixel, the stall counters for weights, input, output), where
# its channels' records start (read chunks, releases' groups and times, pixel starts and ends),
# then per pixel: the chunk completing its window, its FIFO reservation, reservations so far.
_I, _T_PREV, _REL_PTR, _CAP, _CPP, _STALLS = 0, 1, 2, 3, 4, 5
_OFFSETS = 8  # chunk_done, rel_cum, rel_time, px_start, px_end
_HEADER = 13


@njit(cache=True)
def _advance(own: np.ndarray, rec: np.ndarray, t_w: int, n_rel: int) -> tuple[int, int, int]:
    """Schedule pixels from ``own[_I]`` while their conditions are decided.

    Returns (next pixel, status, what it waits for): the chunk (input) or the groups that must
    have been written (output).
    """
    i = own[_I]
    t_prev = own[_T_PREV]
    rel_ptr = own[_REL_PTR]
    cap = own[_CAP]
    cpp = own[_CPP]
    chunk_done = own[_OFFSETS]
    rel_cum = own[_OFFSETS + 1]
    rel_time = own[_OFFSETS + 2]
    px_start = own[_OFFSETS + 3]
    px_end = own[_OFFSETS + 4]
    n_px = (own.shape[0] - _HEADER) // 3
    need_at = _HEADER
    reserve_at = _HEADER + n_px
    cum_at = _HEADER + 2 * n_px
    status = READY
    what = 0
    while i < n_px:
        if t_w < 0:
            status = WAIT_WEIGHTS
            break
        chunk = own[need_at + i]
        t_in = rec[chunk_done + chunk]
        if t_in < 0:
            status, what = WAIT_INPUT, chunk
            break
        need = own[cum_at + i] - cap
        t_out = 0
        if own[reserve_at + i] > 0 and need > 0:
            while rel_ptr < n_rel and rec[rel_cum + rel_ptr] < need:
                rel_ptr += 1
            if rel_ptr >= n_rel:
                status, what = WAIT_OUTPUT, need
                break
            t_out = rec[rel_time + rel_ptr]
        a = max(t_prev, t_w)
        b = max(a, t_in)
        c = max(b, t_out)
        own[_STALLS] += a - t_prev
        own[_STALLS + 1] += b - a
        own[_STALLS + 2] += c - b
        rec[px_start + i] = c
        t_prev = c + cpp
        rec[px_end + i] = t_prev
        i += 1
    own[_I] = i
    own[_T_PREV] = t_prev
    own[_REL_PTR] = rel_ptr
    return i, status, what


class PeArray:
    """The PE array of one pass: schedules its conv pixels as their records appear."""

    def __init__(self, ch: PassChannels, fifo_groups: int) -> None:
        lay = ch.layout
        self.ch = ch
        n = lay.n_px
        own = np.zeros(_HEADER + 3 * n, dtype=np.int64)
        own[_CAP] = fifo_groups
        own[_CPP] = lay.cycles_per_px
        own[_OFFSETS:_HEADER] = ch.offsets
        own[_HEADER : _HEADER + n] = lay.need_chunk
        own[_HEADER + n : _HEADER + 2 * n] = lay.reserve
        own[_HEADER + 2 * n :] = lay.cum_reserve
        self.own = own
        ch.stalls = own[_STALLS:_OFFSETS]  # the stall records live in the array's buffer
        self.i = 0

    def start(self) -> None:
        """Begin at the pass start (``ch.start``) and schedule what can be scheduled."""
        self.own[_T_PREV] = self.ch.start
        self.advance()

    def advance(self) -> None:
        """Schedule every pixel whose conditions are decided; note what the next one lacks."""
        ch = self.ch
        i, ch.pe_waits, ch.pe_need = _advance(self.own, ch.records, ch.weights.ready, ch.n_rel)
        if i > self.i:
            self.i = i
            ch.scheduled_up_to(i)
