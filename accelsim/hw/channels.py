"""What the blocks of one pass share: completion records and progress signals.

The wiring (``hw/core.py``) creates one :class:`PassChannels` per pass of a core layer (spec 7:
generation 1 has one pass per layer) and one :class:`WeightSetState` per weight set, and hands
them to the feature reader, PE array, writer and weight loader; blocks never reference each
other. Every record is a completion time that is final once written (time never runs backwards
and every start condition of the machine is monotone), so a block may act on another's record
as soon as it appears, and wait on the matching :class:`~accelsim.engine.events.Signal` until
then.
"""

from __future__ import annotations

import heapq

import numpy as np
import simpy

from accelsim.engine.events import Signal
from accelsim.mapping.layout import PassLayout, WeightSet


class WeightSetState:
    """One weight set's load into its bank (spec 3.2): the loader's records."""

    def __init__(self, env: simpy.Environment, wset: WeightSet) -> None:
        self.wset = wset
        self.first_request = -1
        self.ready = -1  # all weights in the bank, -1 until then
        self.log: list[tuple[int, int]] = []  # (completion time, bytes) per grant
        self.progress = Signal(env)
        self.users: list[PassChannels] = []  # the passes computing from it, in order


class PassChannels:
    """Shared records of one pass of a core layer."""

    def __init__(self, env: simpy.Environment, layout: PassLayout, weights: WeightSetState) -> None:
        self.index = layout.layer  # grants are owned by the layer
        self.name = layout.name
        self.layout = layout
        self.weights = weights
        self.start = -1  # pass start (previous pass's or layer's last write), -1 until known
        self.end = -1
        # reader -> PE: completion time of every read chunk (-1: not yet)
        self.chunk_done = np.full(layout.n_chunks, -1, dtype=np.int64)
        # PE -> reader, writer, loader: start/end of every conv pixel (-1: not yet scheduled)
        self.px_start = np.full(layout.n_px, -1, dtype=np.int64)
        self.px_end = np.full(layout.n_px, -1, dtype=np.int64)
        self.px_scheduled = 0
        # writer -> PE: FIFO releases (cumulative groups written, completion time)
        self.rel_cum = np.zeros(layout.n_groups + 1, dtype=np.int64)
        self.rel_time = np.zeros(layout.n_groups + 1, dtype=np.int64)
        self.n_rel = 0
        self.stalls = np.zeros(3, dtype=np.int64)  # weights, input, output
        self.read_progress = Signal(env)
        self.write_progress = Signal(env)
        self._env = env
        # (pixel, sequence, event): woken in order once the pixel is scheduled
        self._px_waiters: list[tuple[int, int, simpy.Event]] = []
        self._waiter_seq = 0

    def until_scheduled(self, pixel: int) -> simpy.Event | None:
        """An event that fires once the PE has scheduled ``pixel``; None if it already has."""
        if self.px_scheduled > pixel:
            return None
        ev = self._env.event()
        heapq.heappush(self._px_waiters, (pixel, self._waiter_seq, ev))
        self._waiter_seq += 1
        return ev

    def scheduled_up_to(self, n: int) -> None:
        """The PE has scheduled pixels ``0 .. n-1``: wake whoever waited for one of them."""
        self.px_scheduled = n
        waiters = self._px_waiters
        while waiters and waiters[0][0] < n:
            heapq.heappop(waiters)[2].succeed()
