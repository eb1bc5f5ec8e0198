"""Post-processing pipeline, output FIFO and writer (spec section 3.5).

After the last ib of output group ``(pixel i, ob)`` its thresholded result spends
``pipeline_latency_cycles`` in the pipeline and enters the FIFO at
``px_start[i] + (ob + 1) * n_ib * passes + latency``. The FIFO holds ``output_fifo.groups``
groups; groups in the pipeline count as taken (the PE reserves a pixel's groups when it starts).

The writer takes the oldest groups (raster order is address order) and requests a write grant
when the groups that have entered the FIFO and are not yet written

- fill a grant (``grant_bytes // out_group_bytes`` groups, not crossing an output row), or
- reach the end of an output row (the layer's last group ends a row), or
- fill the FIFO: ``output_fifo.groups - n_ob + 1`` groups, so that the FIFO cannot take another
  pixel (with any fewer the PE could still add a pixel; with this many, waiting could deadlock).

The grant carries every such group present when it is requested, up to the grant/row limit; the
groups leave the FIFO when the grant completes. One write grant is outstanding at a time.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import LayerChannels


def writer(
    env: simpy.Environment,
    ch: LayerChannels,
    port: AxiPort,
    fifo_groups: int,
    pipeline_latency: int,
) -> Generator[simpy.Event, object, None]:
    """simpy process: write every output group of the layer; sets ``ch.end``."""
    lay = ch.layout
    n_ob = lay.n_ob
    step = lay.n_ib * lay.passes
    row_groups = lay.out_row_groups
    n_groups = lay.n_groups
    px_start = ch.px_start
    full = fifo_groups - n_ob + 1

    def arrival(g: int) -> int:
        s = int(px_start[g // n_ob])
        return -1 if s < 0 else s + (g % n_ob + 1) * step + pipeline_latency

    g = 0
    end = ch.start
    while g < n_groups:
        k = min(lay.out_chunk_groups, (g // row_groups + 1) * row_groups - g)
        m = min(k, full)
        gm = g + m - 1
        wait = ch.until_scheduled(gm // n_ob)
        if wait is not None:
            yield wait
        t = arrival(gm)
        if t > env.now:
            yield env.timeout(t - env.now)
        n = m
        while n < k:
            a = arrival(g + n)
            if a < 0 or a > env.now:
                break
            n += 1
        addr = lay.out_base + g * lay.out_group_bytes
        end = yield port.request("outputs", ch.index, addr, n * lay.out_group_bytes, True)
        g += n
        ch.rel_cum[ch.n_rel] = g
        ch.rel_time[ch.n_rel] = end
        ch.n_rel += 1
        ch.write_progress.fire()
    ch.end = int(end)
