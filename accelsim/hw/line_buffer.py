"""Feature reader and line buffer (spec sections 3.3, 7.2 and 7.4).

The reader fetches its pass's input in address order, chunk after chunk of
:class:`~accelsim.mapping.layout.PassLayout` (grants that never span two rows, nor two pixels
of a grouped conv). Fetched row ``R`` goes to slot ``R mod rows``; a chunk of row ``R >= rows``
is requested once every pixel of row ``R - rows`` it overwrites is no longer needed, i.e. once
the conv pixel ``free_px[k]`` has finished its last PE cycle. Data is usable when the grant
completes. One grant is outstanding at a time: the next request is posted when the previous
grant completes (the first at the pass start), or later when its slot frees.

The reader is a master of the AXI port (:class:`~accelsim.hw.arbiter.Master`), not a simpy
process: the port asks it when its next request is posted, which is known as soon as the PE
array has scheduled the pixel that frees the slot.

Occupancy (bytes valid) rises by a grant's bytes when it completes and falls by a pixel's bytes
when that pixel is no longer needed (or when it arrives, if it was never needed).
"""

from __future__ import annotations

import numpy as np

from accelsim.engine.trace import StepTrace
from accelsim.hw.channels import DONE, NOT_YET, PassChannels


class FeatureReader:
    """The feature stream's master for one pass."""

    def __init__(self, ch: PassChannels) -> None:
        lay = ch.layout
        self.ch = ch
        self.owner = ch.index
        self.free_px = lay.free_px.tolist()
        self.addrs = lay.chunk_addr.tolist()
        self.sizes = lay.chunk_bytes.tolist()
        self.n = lay.n_chunks
        self.k = 0
        self.free_at = ch.start  # the stream may post from here (pass start, last completion)
        self.wait_ch: PassChannels | None = None  # NOT_YET until wait_ch schedules wait_px
        self.wait_px = 0

    def post_time(self) -> int:
        """Cycle the next request is posted; NOT_YET while unknown, DONE when nothing is left."""
        k = self.k
        if k >= self.n:
            return DONE
        j = self.free_px[k]
        if j < 0:
            return self.free_at
        ch = self.ch
        if ch.px_scheduled <= j:
            self.wait_ch, self.wait_px = ch, j
            return NOT_YET
        self.wait_ch = None
        t = ch.px_end.item(j)
        return t if t > self.free_at else self.free_at

    def take(self, posted: int) -> tuple[int, int, int, bool]:
        """The request (posted at ``posted``) is granted now: (owner, address, bytes, write)."""
        k = self.k
        return self.owner, self.addrs[k], self.sizes[k], False

    def done(self, end: int) -> None:
        """The grant completed at ``end``."""
        self.k += 1
        self.free_at = end
        self.ch.chunk_completed(end)


def line_buffer_occupancy(ch: PassChannels, trace: StepTrace) -> None:
    """Add the pass's line-buffer bytes-valid changes to ``trace`` (after the pass ran)."""
    lay = ch.layout
    trace.add_many(ch.chunk_done, lay.chunk_bytes)
    last_chunk, freeing = lay.stored_pixels()
    freed = ch.px_end[freeing]
    arrive = ch.chunk_done[last_chunk]
    # a pixel split across two chunks came in with both; it leaves in one piece
    trace.add_many(np.maximum(freed, arrive), -lay.n_ib * lay.in_group_bytes)
