"""What the blocks of one pass share: completion records and progress notices.

The wiring (``hw/core.py``) creates one :class:`PassChannels` per pass of a core layer (spec 7:
generation 1 has one pass per layer) and one :class:`WeightSetState` per weight set, and hands
them to the feature reader, PE array, writer and weight loader; blocks never reference each
other. Every record is a completion time that is final once written (time never runs backwards
and every start condition of the machine is monotone), so a block may act on another's record
as soon as it appears, even one that lies ahead of the simulation clock.

Progress notices are plain callbacks, not simpy events (spec 3.6 ordering is kept by the AXI
port, the only block that waits on the clock): a record's writer calls the notice at once, and
the PE array, the one block that waits on records, re-examines its next pixel only when the
record it waits for has appeared.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from accelsim.mapping.layout import PassLayout, WeightSet

# A master's answer when the port asks when its next request is posted (else a cycle >= 0).
NOT_YET, DONE = -1, -2  # waits on a record not yet written; has no request left

# What a PE array waits for (spec 3.4, charged in this order).
READY, WAIT_WEIGHTS, WAIT_INPUT, WAIT_OUTPUT = 0, 1, 2, 3


def _nothing() -> None:
    return None


class WeightSetState:
    """One weight set's load into its bank (spec 3.2): the loader's records."""

    def __init__(self, wset: WeightSet) -> None:
        self.wset = wset
        self.first_request = -1
        self.ready = -1  # all weights in the bank, -1 until then
        self.users: list[PassChannels] = []  # the passes computing from it, in order

    def loaded(self, t: int) -> None:
        """The loader's last grant of the set completed at ``t``: wake the PE arrays waiting."""
        self.ready = t
        for ch in self.users:
            if ch.pe_waits == WAIT_WEIGHTS:
                ch.wake_pe()


class PassChannels:
    """Shared records of one pass of a core layer."""

    def __init__(self, layout: PassLayout, weights: WeightSetState) -> None:
        self.index = layout.layer  # grants are owned by the layer
        self.name = layout.name
        self.layout = layout
        self.weights = weights
        self.n_px = layout.n_px
        self.n_groups = layout.n_groups
        self.start = -1  # pass start (previous pass's or layer's end), -1 until known
        self.end = -1
        # Every record in one buffer, so that the PE array's kernel takes one array. The
        # releases come last and stay unwritten until used (n_rel of them are ever read): their
        # memory is not touched up front.
        n_c, n_p, n_r = layout.n_chunks, layout.n_px, layout.n_groups + 1
        # where chunk_done, rel_cum, rel_time, px_start and px_end start
        self.offsets = o = [0, n_c + 2 * n_p, n_c + 2 * n_p + n_r, n_c, n_c + n_p]
        self.records = rec = np.empty(n_c + 2 * n_p + 2 * n_r, dtype=np.int64)
        rec[: n_c + 2 * n_p] = -1
        # reader -> PE: completion time of every read chunk (-1: not yet)
        self.chunk_done = rec[:n_c]
        self.chunks_done = 0
        # PE -> reader, writer, loader: start/end of every conv pixel (-1: not yet scheduled)
        self.px_start = rec[n_c : n_c + n_p]
        self.px_end = rec[n_c + n_p : n_c + 2 * n_p]
        # writer -> PE: FIFO releases (cumulative groups written, completion time), n_rel of them
        self.rel_cum = rec[o[1] : o[2]]
        self.rel_time = rec[o[2] :]
        self.px_scheduled = 0
        self.n_rel = 0
        self.last_write = -1  # completion of the last write grant, -1 until then
        self.stalls = np.zeros(3, dtype=np.int64)  # weights, input, output
        # What the PE waits for (WAIT_*) and, for input, the chunk / for output, the groups.
        self.pe_waits = READY
        self.pe_need = 0
        # Notices, set by the wiring: wake the PE array; the pass has ended.
        self.wake_pe: Callable[[], None] = _nothing
        self.on_end: Callable[[PassChannels], None] = lambda _ch: None

    def chunk_completed(self, t: int) -> None:
        """The reader's next chunk completed at ``t`` (chunks complete in order)."""
        k = self.chunks_done
        self.chunk_done[k] = t
        self.chunks_done = k + 1
        if self.pe_waits == WAIT_INPUT and k >= self.pe_need:
            self.wake_pe()

    def groups_released(self, written: int, t: int) -> None:
        """A write grant completed at ``t``: ``written`` groups of the pass have left the FIFO."""
        n = self.n_rel
        self.rel_cum[n] = written
        self.rel_time[n] = t
        self.n_rel = n + 1
        if written == self.n_groups:
            self.last_write = t
            self._maybe_end()
        if self.pe_waits == WAIT_OUTPUT and written >= self.pe_need:
            self.wake_pe()

    def scheduled_up_to(self, n: int) -> None:
        """The PE has scheduled pixels ``0 .. n-1`` (their start and end are final)."""
        self.px_scheduled = n
        if n == self.n_px:
            self._maybe_end()

    def _maybe_end(self) -> None:
        """Spec 3.6: the pass ends when its last write grant has completed, and its PE array's
        last pixel (with a fused pool the last conv pixels may emit nothing and finish after
        the last write)."""
        if self.end < 0 and self.last_write >= 0 and self.px_scheduled == self.n_px:
            last_px = self.px_end.item(-1)
            self.end = self.last_write if self.last_write > last_px else last_px
            self.on_end(self)
