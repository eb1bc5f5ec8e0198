"""Feature reader and line buffer (spec sections 3.3, 7.2 and 7.4).

The reader fetches its pass's input in address order, chunk after chunk of
:class:`~accelsim.mapping.layout.PassLayout` (grants that never span two rows, nor two pixels
of a grouped conv). Fetched row ``R`` goes to slot ``R mod rows``; a chunk of row ``R >= rows``
is requested once every pixel of row ``R - rows`` it overwrites is no longer needed, i.e. once
the conv pixel ``free_px[k]`` has finished its last PE cycle. Data is usable when the grant
completes. One grant is outstanding at a time.

Occupancy (bytes valid) rises by a grant's bytes when it completes and falls by a pixel's bytes
when that pixel is no longer needed (or when it arrives, if it was never needed).
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from accelsim.engine.trace import StepTrace
from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import PassChannels


def feature_reader(
    env: simpy.Environment, ch: PassChannels, port: AxiPort
) -> Generator[simpy.Event, object, None]:
    """simpy process: read every chunk of the pass's input in order."""
    lay = ch.layout
    free_px = lay.free_px
    px_end = ch.px_end
    addrs = lay.chunk_addr.tolist()
    sizes = lay.chunk_bytes.tolist()
    for k in range(lay.n_chunks):
        j = int(free_px[k])
        if j >= 0:
            wait = ch.until_scheduled(j)
            if wait is not None:
                yield wait
            t = int(px_end[j])
            if t > env.now:
                yield env.timeout(t - env.now)
        end = yield port.request("features", ch.index, addrs[k], sizes[k], False)
        ch.chunk_done[k] = end
        ch.read_progress.fire()


def line_buffer_occupancy(ch: PassChannels, trace: StepTrace) -> None:
    """Add the pass's line-buffer bytes-valid changes to ``trace`` (after the pass ran)."""
    lay = ch.layout
    trace.add_many(ch.chunk_done, lay.chunk_bytes)
    last_chunk, freeing = lay.stored_pixels()
    freed = ch.px_end[freeing]
    arrive = ch.chunk_done[last_chunk]
    # a pixel split across two chunks came in with both; it leaves in one piece
    trace.add_many(np.maximum(freed, arrive), -lay.n_ib * lay.in_group_bytes)
