"""Feature reader and line buffer (spec section 3.3).

The reader fetches the layer's input in address order, in grants that never span two rows
(``LayerLayout.chunk``). Row ``R`` goes to slot ``R mod rows``; a grant into row ``R >= rows`` is
requested once every pixel of row ``R - rows`` it overwrites is no longer needed, i.e. once the
output pixel ``LayerLayout.free_px[k]`` has finished its last PE cycle. Data is usable when the
grant completes. One grant is outstanding at a time.

Occupancy (bytes valid) rises by a grant's bytes when it completes and falls by a pixel's bytes
when that pixel is no longer needed (or when it arrives, if it was never needed).
"""

from __future__ import annotations

from collections.abc import Generator

import numpy as np
import simpy

from accelsim.engine.trace import StepTrace
from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import LayerChannels


def feature_reader(
    env: simpy.Environment, ch: LayerChannels, port: AxiPort
) -> Generator[simpy.Event, object, None]:
    """simpy process: read every chunk of the layer's input in order."""
    lay = ch.layout
    free_px = lay.free_px
    px_end = ch.px_end
    for k in range(lay.n_chunks):
        j = int(free_px[k])
        if j >= 0:
            wait = ch.until_scheduled(j)
            if wait is not None:
                yield wait
            t = int(px_end[j])
            if t > env.now:
                yield env.timeout(t - env.now)
        addr, nbytes, _ = lay.chunk(k)
        end = yield port.request("features", ch.index, addr, nbytes, False)
        ch.chunk_done[k] = end
        ch.read_progress.fire()


def line_buffer_occupancy(ch: LayerChannels, trace: StepTrace) -> None:
    """Add the layer's line-buffer bytes-valid changes to ``trace`` (after the layer ran)."""
    lay = ch.layout
    trace.add_many(ch.chunk_done, lay.chunk_bytes())
    # every stored input pixel leaves when its freeing output pixel completes
    h, w, n_ib = lay.rows_used, lay.cols_used, lay.n_ib
    b = np.arange(lay.batch, dtype=np.int64)
    r = np.arange(h, dtype=np.int64)
    c = np.arange(w, dtype=np.int64)
    fy = np.minimum(lay.out_h - 1, (r + lay.padding) // lay.stride)
    fx = np.minimum(lay.out_w - 1, (c + lay.padding) // lay.stride)
    px = (b[:, None, None] * lay.out_h + fy[None, :, None]) * lay.out_w + fx[None, None, :]
    freed = ch.px_end[px.reshape(-1)]
    # a pixel's last group arrives with the chunk holding it
    row = (b[:, None, None] * h + r[None, :, None]) * lay.chunks_per_row
    last_chunk = row + ((c * n_ib + n_ib - 1) // lay.chunk_groups)[None, None, :]
    arrive = ch.chunk_done[last_chunk.reshape(-1)]
    # a pixel split across two chunks came in with both; it leaves in one piece
    trace.add_many(np.maximum(freed, arrive), -n_ib * lay.in_group_bytes)
