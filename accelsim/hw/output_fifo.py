"""Post-processing pipeline, output FIFO and writer (spec sections 3.5 and 7.1).

After the last cycle of output group ``(conv pixel i, ob)`` its thresholded result spends
``pipeline_latency_cycles`` in the pipeline and enters the FIFO at
``px_start[i] + (ob + 1) * step_ob + latency``. With a fused pool (spec 7.1) the FIFO receives
pooled pixels instead: every pooled pixel conv pixel ``i`` completes (in raster order of the
pooled map) enters with all its groups at ``px_start[i] + cycles_per_px + latency``. The FIFO
holds ``output_fifo.groups`` groups; groups in the pipeline count as taken (the PE reserves them
when the conv pixel starts).

The writer takes the oldest groups (raster order is address order) and requests a write grant
when the groups that have entered the FIFO and are not yet written

- fill a grant (``grant_bytes // out_group_bytes`` groups, not crossing a write segment: an
  output row of the pass, or one pixel's slice when the layer is tiled or grouped, spec 7.3), or
- reach the end of a segment (the pass's last group ends one), or
- fill the FIFO: ``output_fifo.groups - R + 1`` groups, ``R`` the largest reservation of a conv
  pixel (generation 1: ``n_ob``), so that the FIFO cannot take it (with any fewer the PE could
  still go on; with this many, waiting could deadlock).

The grant carries every such group present when it is requested, up to the grant/segment limit;
the groups leave the FIFO when the grant completes. One write grant is outstanding at a time.
"""

from __future__ import annotations

from collections.abc import Generator

import simpy

from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import PassChannels


def writer(
    env: simpy.Environment, ch: PassChannels, port: AxiPort, pipeline_latency: int
) -> Generator[simpy.Event, object, None]:
    """simpy process: write every output group of the pass; sets ``ch.end``."""
    lay = ch.layout
    m = lay.m
    step = lay.step_ob
    done_offset = lay.cycles_per_px + pipeline_latency
    seg = lay.seg_groups
    n_groups = lay.n_groups
    px_start = ch.px_start
    emitter = lay.emitter.tolist()
    out_addr = lay.out_addr.tolist()
    ogb = lay.out_group_bytes
    pooled = lay.pooled
    full = lay.fifo_full

    def arrival(g: int) -> int:
        o, ob = divmod(g, m)
        s = int(px_start[emitter[o]])
        if s < 0:
            return -1
        return s + done_offset if pooled else s + (ob + 1) * step + pipeline_latency

    g = 0
    end = ch.start
    while g < n_groups:
        k = min(lay.out_chunk_groups, (g // seg + 1) * seg - g)
        need = min(k, full)
        gm = g + need - 1
        wait = ch.until_scheduled(emitter[gm // m])
        if wait is not None:
            yield wait
        t = arrival(gm)
        if t > env.now:
            yield env.timeout(t - env.now)
        n = need
        while n < k:
            a = arrival(g + n)
            if a < 0 or a > env.now:
                break
            n += 1
        addr = out_addr[g // m] + (g % m) * ogb
        end = yield port.request("outputs", ch.index, addr, n * ogb, True)
        g += n
        ch.rel_cum[ch.n_rel] = g
        ch.rel_time[ch.n_rel] = end
        ch.n_rel += 1
        ch.write_progress.fire()
    ch.end = int(end)
