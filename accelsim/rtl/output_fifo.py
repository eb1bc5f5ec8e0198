"""Output FIFO and writer, as hardware (spec §3.5).

The FIFO is a ring of groups (``output_fifo.groups`` rounded up to whole beats), written one
group at a time by the threshold unit, read one AXI beat at a time by the write stream.

The writer counts ``arrived`` groups (in the FIFO, not yet in a grant). In cycle ``t`` without a
write outstanding it posts a grant for the oldest groups when they

- fill a grant (``grant_bytes // out_group_bytes`` groups, not crossing an output row), or
- reach the end of an output row, or
- fill the FIFO: ``output_fifo.groups - n_ob + 1`` groups (README, "Clarifications"),

carrying every counted group up to the grant / row limit. A group counted in cycle ``t`` (its
``arrive`` pulse) takes part in that cycle's decision. The groups leave (``release``) when the
grant completes; the layer ends when its last write completes.

Beats: from the grant on, the beat at the current byte position is on ``wdata`` (a synchronous
read addressed one cycle ahead), and each ``wready`` moves to the next beat.
"""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module, Mux, Signal

from accelsim.rtl.params import ADDR_BITS, RtlParams
from accelsim.rtl.ram import SyncRam
from accelsim.rtl.regmap import BIG


class OutputFifo(Elaboratable):
    def __init__(self, p: RtlParams, bytes_bits: int, desc: dict[str, Signal]) -> None:
        self.p = p
        self.d = desc
        self.active = Signal()
        self.reset = Signal()
        self.we = Signal()
        self.wdata_group = Signal(p.out_group_bytes * 8)
        self.arrive = Signal()
        # port
        self.post = Signal()
        self.addr = Signal(ADDR_BITS)
        self.nbytes = Signal(bytes_bits)
        self.granted = Signal()
        self.done = Signal()
        self.wready = Signal()
        self.wdata = Signal(p.beat_bytes * 8)
        self.pending = Signal()
        # to the PE / sequencer
        self.release = Signal(BIG)
        self.layer_complete = Signal()
        self.occupancy = Signal(BIG)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        p = self.p
        d = self.d
        ogb = p.out_group_bytes
        full = p.fifo_groups - d["n_ob"] + 1
        g = Signal(BIG)  # groups handed to grants
        gr = Signal(BIG)  # position in the output row
        arrived = Signal(BIG)
        completed = Signal(BIG)
        fl_n = Signal(BIG)
        fl_start = Signal(range(p.fifo_phys_groups))  # ring index of the grant's first group
        rd_idx = Signal(range(p.fifo_phys_groups))  # ring index of the next group to hand out
        arrived_now = Signal(BIG)
        m.d.comb += arrived_now.eq(arrived + self.arrive)
        k = Signal(BIG)
        row_left = Signal(BIG)
        m.d.comb += [
            row_left.eq(d["out_row_groups"] - gr),
            k.eq(Mux(row_left < p.out_chunk_groups, row_left, p.out_chunk_groups)),
        ]
        mth = Signal(BIG)
        m.d.comb += mth.eq(Mux(k < full, k, full))
        n = Signal(BIG)
        m.d.comb += n.eq(Mux(arrived_now < k, arrived_now, k))
        m.d.comb += [
            self.post.eq(
                self.active & ~self.pending & (g < d["n_groups"]) & (arrived_now >= mth)
            ),
            self.addr.eq(d["out_base"] + g * ogb),
            self.nbytes.eq(n * ogb),
        ]
        with m.If(self.post):
            nxt_rd = rd_idx + n
            m.d.sync += [
                self.pending.eq(1), fl_n.eq(n), fl_start.eq(rd_idx), g.eq(g + n),
                gr.eq(Mux(gr + n == d["out_row_groups"], 0, gr + n)),
                arrived.eq(arrived_now - n),
                rd_idx.eq(Mux(nxt_rd >= p.fifo_phys_groups, nxt_rd - p.fifo_phys_groups, nxt_rd)),
            ]  # fmt: skip
        with m.Else():
            m.d.sync += arrived.eq(arrived_now)
        m.d.comb += [
            self.release.eq(Mux(self.done, fl_n, 0)),
            self.layer_complete.eq(self.done & (completed + fl_n == d["n_groups"])),
        ]
        with m.If(self.done):
            m.d.sync += [self.pending.eq(0), completed.eq(completed + fl_n)]
        m.d.comb += self.occupancy.eq(g - completed + arrived)
        # ---- the ring (a grant in its posting cycle starts at rd_idx, not yet latched)
        start = Signal.like(fl_start)
        m.d.comb += start.eq(Mux(self.post, rd_idx, fl_start))
        self._ring(m, start)
        with m.If(self.reset):
            m.d.sync += [g.eq(0), gr.eq(0), arrived.eq(0), completed.eq(0)]
        return m

    def _ring(self, m: Module, fl_start: Signal) -> None:
        p = self.p
        ogb = p.out_group_bytes
        bpc = p.beat_bytes
        phys = p.fifo_phys_groups
        wr_idx = Signal(range(phys))
        with m.If(self.we):
            m.d.sync += wr_idx.eq(Mux(wr_idx == phys - 1, 0, wr_idx + 1))
        if ogb >= bpc:
            # one group per word; a beat is a slice of a group
            per = ogb // bpc
            mem = SyncRam(ogb * 8, phys, name="ring")
            m.submodules.ring = mem
            m.d.comb += [mem.waddr.eq(wr_idx), mem.wdata.eq(self.wdata_group), mem.we.eq(self.we)]
            gi = Signal(range(phys))  # group of the beat on wdata
            part = Signal(range(max(2, per)))
            gi_n = Signal(range(phys))
            part_n = Signal(range(max(2, per)))
            with m.If(self.granted):
                m.d.comb += [gi_n.eq(fl_start), part_n.eq(0)]
            with m.Elif(self.wready):
                if per == 1:
                    m.d.comb += [gi_n.eq(Mux(gi == phys - 1, 0, gi + 1)), part_n.eq(0)]
                else:
                    with m.If(part == per - 1):
                        m.d.comb += [gi_n.eq(Mux(gi == phys - 1, 0, gi + 1)), part_n.eq(0)]
                    with m.Else():
                        m.d.comb += [gi_n.eq(gi), part_n.eq(part + 1)]
            with m.Else():
                m.d.comb += [gi_n.eq(gi), part_n.eq(part)]
            m.d.sync += [gi.eq(gi_n), part.eq(part_n)]
            m.d.comb += mem.raddr[0].eq(gi_n)
            with m.Switch(part):
                for q in range(per):
                    with m.Case(q):
                        m.d.comb += self.wdata.eq(mem.rdata[0][q * bpc * 8 : (q + 1) * bpc * 8])
            return
        # several groups per beat: lane l holds ring groups i with i mod G == l at i div G
        lanes = bpc // ogb
        depth = phys // lanes
        gs = Signal(range(phys))  # ring index of the beat's first group
        gs_n = Signal(range(phys))
        with m.If(self.granted):
            m.d.comb += gs_n.eq(fl_start)
        with m.Elif(self.wready):
            nxt = gs + lanes
            m.d.comb += gs_n.eq(Mux(nxt >= phys, nxt - phys, nxt))
        with m.Else():
            m.d.comb += gs_n.eq(gs)
        m.d.sync += gs.eq(gs_n)
        lane_log2 = lanes.bit_length() - 1
        w_lane = wr_idx & (lanes - 1)
        w_addr = wr_idx >> lane_log2
        n_lane = gs_n & (lanes - 1)
        n_word = gs_n >> lane_log2
        datas = []
        for lane in range(lanes):
            mem = SyncRam(ogb * 8, depth, name=f"ring{lane}")
            m.submodules[f"ring{lane}"] = mem
            m.d.comb += [
                mem.waddr.eq(w_addr), mem.wdata.eq(self.wdata_group),
                mem.we.eq(self.we & (w_lane == lane)),
            ]  # fmt: skip
            a = n_word + (lane < n_lane)
            m.d.comb += mem.raddr[0].eq(Mux(a >= depth, a - depth, a))
            datas.append(mem.rdata[0])
        # beat group i comes from lane (gs + i) mod lanes
        cur_lane = gs & (lanes - 1)
        for i in range(lanes):
            v = Signal(ogb * 8, name=f"beat_g{i}")
            with m.Switch(cur_lane):
                for c in range(lanes):
                    with m.Case(c):
                        m.d.comb += v.eq(datas[(c + i) % lanes])
            m.d.comb += self.wdata[i * ogb * 8 : (i + 1) * ogb * 8].eq(v)
