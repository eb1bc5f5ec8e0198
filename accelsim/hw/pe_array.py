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

# Rows of the per-pass static table handed to the kernel.
_NEED, _RESERVE, _CUM = 0, 1, 2
# The array's state vector: next pixel, end of the last scheduled pixel, release pointer,
# FIFO groups, cycles per pixel, then the stall counters (weights, input, output).
_I, _T_PREV, _REL_PTR, _CAP, _CPP, _STALLS = 0, 1, 2, 3, 4, 5


@njit(cache=True)
def _advance(
    st: np.ndarray,
    static: np.ndarray,
    chunk_done: np.ndarray,
    rel: np.ndarray,
    px: np.ndarray,
    t_w: int,
    n_rel: int,
) -> tuple[int, int, int]:
    """Schedule pixels from ``st[_I]`` while their conditions are decided.

    Returns (next pixel, status, what it waits for): the chunk (input) or the groups that must
    have been written (output).
    """
    i = st[_I]
    t_prev = st[_T_PREV]
    rel_ptr = st[_REL_PTR]
    cap = st[_CAP]
    cpp = st[_CPP]
    n_px = static.shape[1]
    status = READY
    what = 0
    while i < n_px:
        if t_w < 0:
            status = WAIT_WEIGHTS
            break
        chunk = static[_NEED, i]
        t_in = chunk_done[chunk]
        if t_in < 0:
            status, what = WAIT_INPUT, chunk
            break
        need = static[_CUM, i] - cap
        t_out = 0
        if static[_RESERVE, i] > 0 and need > 0:
            while rel_ptr < n_rel and rel[0, rel_ptr] < need:
                rel_ptr += 1
            if rel_ptr >= n_rel:
                status, what = WAIT_OUTPUT, need
                break
            t_out = rel[1, rel_ptr]
        a = max(t_prev, t_w)
        b = max(a, t_in)
        c = max(b, t_out)
        st[_STALLS] += a - t_prev
        st[_STALLS + 1] += b - a
        st[_STALLS + 2] += c - b
        px[0, i] = c
        t_prev = c + cpp
        px[1, i] = t_prev
        i += 1
    st[_I] = i
    st[_T_PREV] = t_prev
    st[_REL_PTR] = rel_ptr
    return i, status, what


class PeArray:
    """The PE array of one pass: schedules its conv pixels as their records appear."""

    def __init__(self, ch: PassChannels, fifo_groups: int) -> None:
        lay = ch.layout
        self.ch = ch
        self.static = np.ascontiguousarray(
            np.stack([lay.need_chunk, lay.reserve, lay.cum_reserve]), dtype=np.int64
        )
        self.st = np.zeros(_STALLS + 3, dtype=np.int64)
        self.st[_CAP] = fifo_groups
        self.st[_CPP] = lay.cycles_per_px
        ch.stalls = self.st[_STALLS:]  # the stall records live in the state vector
        self.i = 0

    def start(self) -> None:
        """Begin at the pass start (``ch.start``) and schedule what can be scheduled."""
        self.st[_T_PREV] = self.ch.start
        self.advance()

    def advance(self) -> None:
        """Schedule every pixel whose conditions are decided; note what the next one lacks."""
        ch = self.ch
        i, ch.pe_waits, ch.pe_need = _advance(
            self.st, self.static, ch.chunk_done, ch.rel, ch.px, ch.weights.ready, ch.n_rel
        )
        if i > self.i:
            self.i = i
            ch.scheduled_up_to(i)
