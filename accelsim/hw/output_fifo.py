"""Post-processing pipeline, output FIFO and writer (spec sections 3.5 and 7.1).

After the last cycle of output group ``(conv pixel i, ob)`` its thresholded result spends
``pipeline_latency_cycles`` in the pipeline and enters the FIFO at
``px_start[i] + (ob + 1) * step_ob + latency``. With a fused pool (spec 7.1) the FIFO receives
pooled pixels instead: every pooled pixel conv pixel ``i`` completes (in raster order of the
pooled map) enters with all its groups at ``px_start[i] + cycles_per_px + latency``. The FIFO
holds ``output_fifo.groups`` groups; groups in the pipeline count as taken (the PE reserves them
when the conv pixel starts). Groups enter in order, so arrival times never decrease along the
stream.

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
The writer is a master of the AXI port (:class:`~accelsim.hw.arbiter.Master`): its next request
is posted when the groups it needs have entered the FIFO, known once the PE array has scheduled
the conv pixel emitting the last of them.
"""

from __future__ import annotations

from accelsim.hw.channels import DONE, NOT_YET, PassChannels


def _same(o: int) -> int:
    return o


class Writer:
    """The output stream's master for one pass."""

    def __init__(self, ch: PassChannels, pipeline_latency: int) -> None:
        lay = ch.layout
        self.ch = ch
        self.owner = ch.index
        self.m = lay.m
        self.step = lay.step_ob
        self.latency = pipeline_latency
        self.done_offset = lay.cycles_per_px + pipeline_latency
        self.pooled = lay.pooled
        self.seg = lay.seg_groups
        self.grant_groups = lay.out_chunk_groups
        self.full = max(1, lay.fifo_full)  # >= 1 whenever the FIFO holds a pixel (placement)
        self.n_groups = lay.n_groups
        self.ogb = lay.out_group_bytes
        # the conv pixel emitting output pixel o: o itself without a pool; looked up a few
        # times per grant, so no list copies
        self.emitter = lay.emitter.item if lay.pooled else _same
        self.out_addr = lay.out_addr.item
        self.px_start = ch.px_start
        self.g = 0  # next group to write
        self.free_at = ch.start
        self.k = 0  # the next grant's limit (grant size, segment end), once computed
        self.need = 0  # groups that must be present before it is posted
        self.n = 0  # groups carried by the grant being served
        self.wait_ch: PassChannels | None = None  # NOT_YET until wait_ch schedules wait_px
        self.wait_px = 0

    def post_time(self) -> int:
        """Cycle the next request is posted; NOT_YET while unknown, DONE when nothing is left."""
        g = self.g
        if g >= self.n_groups:
            return DONE
        seg = self.seg
        k = (g // seg + 1) * seg - g
        if k > self.grant_groups:
            k = self.grant_groups
        need = k if k < self.full else self.full
        o, ob = divmod(g + need - 1, self.m)
        e = self.emitter(o)
        if self.ch.px_scheduled <= e:
            self.wait_ch, self.wait_px = self.ch, e
            return NOT_YET
        self.wait_ch = None
        self.k = k
        self.need = need
        if self.pooled:
            t = self.px_start.item(e) + self.done_offset
        else:
            t = self.px_start.item(e) + (ob + 1) * self.step + self.latency
        return t if t > self.free_at else self.free_at

    def take(self, posted: int) -> tuple[int, int, int, bool]:
        """The request (posted at ``posted``) is granted now: every group present by then, up
        to the grant / segment limit."""
        g = self.g
        k = self.k
        n = self.need
        if n < k:
            # Arrivals never decrease: count the groups present by `posted`, pixel by pixel.
            m = self.m
            scheduled = self.ch.px_scheduled
            px_start = self.px_start
            emitter = self.emitter
            while n < k:
                o, ob = divmod(g + n, m)
                e = emitter(o)
                if e >= scheduled:
                    break
                s = px_start.item(e)
                if self.pooled:
                    if s + self.done_offset > posted:
                        break
                    n = min(k, n + m - ob)
                else:
                    # groups ob' < present of pixel o are in: (ob' + 1) * step + latency <= posted - s
                    present = (posted - s - self.latency) // self.step
                    if present <= ob:
                        break
                    n = min(k, n + min(m, present) - ob)
                    if present < m:
                        break
        self.n = n
        m = self.m
        return self.owner, self.out_addr(g // m) + (g % m) * self.ogb, n * self.ogb, True

    def done(self, end: int) -> None:
        """The grant completed at ``end``: its groups leave the FIFO."""
        self.g += self.n
        self.free_at = end
        self.ch.groups_released(self.g, end)
