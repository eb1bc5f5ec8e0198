"""A word memory written one AXI beat at a time at any lane-aligned byte offset.

Used by the line-buffer row slots (spec §3.3) and the weight banks (spec §3.2): a beat of
``beat_bytes`` lands at byte offset ``lane * lane_bytes`` of word ``word`` and, when it crosses
the word's end, continues at the start of word ``word + 1`` (``straddle``). Without straddling
the memory is one RAM with a write enable per lane; with it, each lane is its own RAM with its
own write address. Reads are whole words, synchronous (block-RAM style), one port per reader.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Elaboratable, Module, Mux, Signal

from accelsim.rtl.ram import SyncRam


class LaneRam(Elaboratable):
    """``depth`` words of ``word_bytes``; beats of ``beat_bytes`` written in ``lane_bytes`` lanes."""

    def __init__(
        self,
        *,
        word_bytes: int,
        lane_bytes: int,
        beat_bytes: int,
        depth: int,
        n_read: int,
        straddle: bool,
    ) -> None:
        assert word_bytes % lane_bytes == 0 and beat_bytes % lane_bytes == 0
        assert beat_bytes <= word_bytes
        self.word_bytes = word_bytes
        self.lane_bytes = lane_bytes
        self.beat_bytes = beat_bytes
        self.depth = depth
        self.lanes = word_bytes // lane_bytes
        self.beat_lanes = beat_bytes // lane_bytes
        self.straddle = straddle
        self.w_en = Signal()
        self.w_word = Signal(range(max(2, depth)))
        self.w_lane = Signal(range(max(2, self.lanes)))
        self.w_nlanes = Signal(range(self.beat_lanes + 1))  # lanes of the beat that are valid
        self.w_data = Signal(beat_bytes * 8)
        self.r_addr = [Signal(range(max(2, depth)), name=f"r_addr{i}") for i in range(n_read)]
        self.r_data = [Signal(word_bytes * 8, name=f"r_data{i}") for i in range(n_read)]

    def elaborate(self, platform: object) -> Module:
        m = Module()
        lb = self.lane_bytes * 8
        if not self.straddle:
            ram = SyncRam(self.word_bytes * 8, self.depth, gran=lb, n_read=len(self.r_addr))
            m.submodules.mem = ram
            beat_mask = Signal(self.lanes)
            # lanes written: [w_lane, w_lane + w_nlanes)
            m.d.comb += [
                beat_mask.eq(((Const(1, self.lanes + 1) << self.w_nlanes) - 1)[: self.lanes]),
                ram.waddr.eq(self.w_word),
                ram.wdata.eq(self.w_data << (self.w_lane * lb)),
                ram.we.eq(Mux(self.w_en, (beat_mask << self.w_lane)[: self.lanes], 0)),
            ]
            for a, d, ra, rd in zip(self.r_addr, self.r_data, ram.raddr, ram.rdata, strict=True):
                m.d.comb += [ra.eq(a), d.eq(rd)]
            return m
        # one RAM per lane, each with its own write address
        lane_data = [[] for _ in self.r_addr]
        for lane in range(self.lanes):
            ram = SyncRam(lb, self.depth, n_read=len(self.r_addr), name=f"lane{lane}")
            m.submodules[f"lane{lane}"] = ram
            # beat lane i lands on lane (w_lane + i) mod lanes: this lane gets i = lane - w_lane
            i = Signal(range(self.lanes), name=f"src{lane}")
            wrapped = Signal(name=f"wrap{lane}")
            m.d.comb += [
                wrapped.eq(lane < self.w_lane),
                i.eq(Mux(wrapped, lane + self.lanes - self.w_lane, lane - self.w_lane)),
            ]
            srcs = [self.w_data[k * lb : (k + 1) * lb] for k in range(self.beat_lanes)]
            sel = Signal(lb, name=f"wd{lane}")
            with m.Switch(i):
                for k, s in enumerate(srcs):
                    with m.Case(k):
                        m.d.comb += sel.eq(s)
            m.d.comb += [
                ram.waddr.eq(self.w_word + wrapped),
                ram.wdata.eq(sel),
                ram.we.eq(self.w_en & (i < self.w_nlanes)),
            ]
            for r, a in enumerate(self.r_addr):
                m.d.comb += ram.raddr[r].eq(a)
                lane_data[r].append(ram.rdata[r])
        for r, d in enumerate(self.r_data):
            m.d.comb += d.eq(Cat(*lane_data[r]))
        return m
