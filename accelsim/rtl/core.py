"""The conv core as synthesizable hardware: the blocks of :mod:`accelsim.rtl` wired together
(spec §3.6 and the register map of :mod:`accelsim.rtl.regmap`).

Ports (all on one clock, ``sync``; cycle 0 is the first cycle with ``run`` high):

- ``cfg_we/cfg_addr/cfg_data``: the host's writes (layer table, ``n_layers``, thresholds), while
  ``run`` is low;
- ``run``: the machine runs (the weight loader starts at once, spec §3.2);
- ``go``: a core layer whose table entry has ``chain = 0`` starts in the cycle ``go`` is high
  (the host asserts it when the host layers before it are done, spec §5); a layer with
  ``chain = 1`` starts in the cycle the previous core layer ends (its last write completes);
- ``mem_req_*``: one grant, in the cycle the arbiter decides it (spec §3.1); the memory answers
  with ``mem_rvalid/mem_rdata`` beats (reads) or takes ``mem_wdata`` on ``mem_wready`` (writes),
  and pulses ``mem_done`` in the grant's last cycle;
- ``layer_done``: high in the cycle a core layer ends; ``st_*`` then hold that layer's start and
  end cycles, PE busy cycles, stalls by cause (weights, input, output), last PE cycle end,
  overflow events and the first one.
"""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module, Signal
from amaranth.lib.memory import Memory

from accelsim.rtl.arbiter import FEATURES, OUTPUTS, WEIGHTS, Arbiter
from accelsim.rtl.feature_reader import FeatureReader
from accelsim.rtl.output_fifo import OutputFifo
from accelsim.rtl.params import ADDR_BITS, CFG_DATA_BITS, RtlParams
from accelsim.rtl.pe_array import PeArray
from accelsim.rtl.regmap import (
    BIG,
    COORD,
    LAYER_FIELDS,
    TARGET_GLOBAL,
    TARGET_LAYER,
    TARGET_NEGATIVE,
    TARGET_THRESHOLD,
)
from accelsim.rtl.weight_loader import WeightLoader


class ConvCore(Elaboratable):
    def __init__(self, p: RtlParams) -> None:
        self.p = p
        self.layer_bits = max(1, (p.max_layers - 1).bit_length())
        self.bytes_bits = max(p.grant_bytes.bit_length(), 1)
        self.run = Signal()
        self.go = Signal()
        self.cfg_we = Signal()
        self.cfg_addr = Signal(32)
        self.cfg_data = Signal(CFG_DATA_BITS)
        self.mem_req_valid = Signal()
        self.mem_req_addr = Signal(ADDR_BITS)
        self.mem_req_bytes = Signal(self.bytes_bits)
        self.mem_req_write = Signal()
        self.mem_req_stream = Signal(2)
        self.mem_rvalid = Signal()
        self.mem_rdata = Signal(p.beat_bytes * 8)
        self.mem_wready = Signal()
        self.mem_wdata = Signal(p.beat_bytes * 8)
        self.mem_done = Signal()
        self.cycle = Signal(BIG)
        self.layer_done = Signal()
        self.finished = Signal()
        self.st_layer = Signal(self.layer_bits + 1)
        self.st_start = Signal(BIG)
        self.st_end = Signal(BIG)
        self.st_busy = Signal(BIG)
        self.st_stall_w = Signal(BIG)
        self.st_stall_in = Signal(BIG)
        self.st_stall_out = Signal(BIG)
        self.st_last_pe_end = Signal(BIG)
        self.st_overflows = Signal(BIG)
        self.st_first_valid = Signal()
        self.st_first_b = Signal(COORD)
        self.st_first_y = Signal(COORD)
        self.st_first_x = Signal(COORD)
        self.st_first_c = Signal(COORD)

    def ports(self) -> list[Signal]:
        return [
            self.run, self.go, self.cfg_we, self.cfg_addr, self.cfg_data,
            self.mem_req_valid, self.mem_req_addr, self.mem_req_bytes, self.mem_req_write,
            self.mem_req_stream, self.mem_rvalid, self.mem_rdata, self.mem_wready,
            self.mem_wdata, self.mem_done, self.cycle, self.layer_done, self.finished,
            self.st_layer, self.st_start, self.st_end, self.st_busy, self.st_stall_w,
            self.st_stall_in, self.st_stall_out, self.st_last_pe_end, self.st_overflows,
            self.st_first_valid, self.st_first_b, self.st_first_y, self.st_first_x,
            self.st_first_c,
        ]  # fmt: skip

    def elaborate(self, platform: object) -> Module:
        m = Module()
        p = self.p
        lbits = self.layer_bits
        cur = Signal(lbits + 1)
        n_layers = Signal(lbits + 1)
        # ---- the layer table: one small memory per field, async read (LUT RAM)
        target = self.cfg_addr[30:32]
        field_sel = self.cfg_addr[0:8]
        entry = self.cfg_addr[8:8 + lbits]
        desc: dict[str, Signal] = {}
        wl_fields: dict[str, Signal] = {}
        wl = Signal(lbits + 1)
        next_chain = Signal()
        for idx, f in enumerate(LAYER_FIELDS):
            mem = Memory(shape=f.bits, depth=p.max_layers, init=[])
            m.submodules[f"tbl_{f.name}"] = mem
            wp = mem.write_port()
            m.d.comb += [
                wp.addr.eq(entry),
                wp.data.eq(self.cfg_data[: f.bits]),
                wp.en.eq(self.cfg_we & (target == TARGET_LAYER) & (field_sel == idx)),
            ]
            rp = mem.read_port(domain="comb")
            sig = Signal(f.bits, name=f"d_{f.name}")
            m.d.comb += [rp.addr.eq(cur), sig.eq(rp.data)]
            desc[f.name] = sig
            if f.name in ("w_base", "w_bytes"):
                rw = mem.read_port(domain="comb")
                s = Signal(f.bits, name=f"wl_{f.name}")
                m.d.comb += [rw.addr.eq(wl), s.eq(rw.data)]
                wl_fields[f.name] = s
            if f.name == "chain":
                rn = mem.read_port(domain="comb")
                m.d.comb += [rn.addr.eq(cur + 1), next_chain.eq(rn.data)]
        with m.If(self.cfg_we & (target == TARGET_GLOBAL) & (self.cfg_addr[0:8] == 0)):
            m.d.sync += n_layers.eq(self.cfg_data)
        # ---- blocks
        m.submodules.arbiter = arb = Arbiter(p, self.bytes_bits)
        m.submodules.loader = wld = WeightLoader(p, self.bytes_bits, lbits)
        m.submodules.reader = rdr = FeatureReader(p, self.bytes_bits, desc)
        m.submodules.pe = pe = PeArray(p, desc, lbits)
        m.submodules.fifo = fifo = OutputFifo(p, self.bytes_bits, desc)
        # ---- sequencing of layers
        IDLE, ACTIVE, FINISHED = 0, 1, 2
        state = Signal(2)
        active = Signal()
        m.d.comb += active.eq(
            self.run
            & ((state == ACTIVE) | ((state == IDLE) & self.go & (cur < n_layers)))
        )
        complete = Signal()
        m.d.comb += complete.eq(active & fifo.layer_complete)
        start_cycle = Signal(BIG)
        with m.If(self.run):
            m.d.sync += self.cycle.eq(self.cycle + 1)
        with m.If((state == IDLE) & active):
            m.d.sync += [state.eq(ACTIVE), start_cycle.eq(self.cycle)]
        m.d.sync += self.layer_done.eq(complete)
        with m.If(complete):
            m.d.sync += [
                cur.eq(cur + 1),
                self.st_layer.eq(cur), self.st_start.eq(start_cycle),
                self.st_end.eq(self.cycle + 1), self.st_busy.eq(pe.busy_cycles),
                self.st_stall_w.eq(pe.stall_w), self.st_stall_in.eq(pe.stall_in),
                self.st_stall_out.eq(pe.stall_out), self.st_last_pe_end.eq(pe.last_pe_end),
                self.st_overflows.eq(pe.overflows), self.st_first_valid.eq(pe.first_valid),
                self.st_first_b.eq(pe.first_b), self.st_first_y.eq(pe.first_y),
                self.st_first_x.eq(pe.first_x), self.st_first_c.eq(pe.first_c),
            ]  # fmt: skip
            with m.If(cur + 1 >= n_layers):
                m.d.sync += state.eq(FINISHED)
            with m.Elif(next_chain):
                m.d.sync += [state.eq(ACTIVE), start_cycle.eq(self.cycle + 1)]
            with m.Else():
                m.d.sync += state.eq(IDLE)
        m.d.comb += self.finished.eq(state == FINISHED)
        # ---- wiring
        m.d.comb += [
            arb.run.eq(self.run),
            arb.mem_done.eq(self.mem_done),
            self.mem_req_valid.eq(arb.req_valid),
            self.mem_req_addr.eq(arb.req_addr),
            self.mem_req_bytes.eq(arb.req_bytes),
            self.mem_req_write.eq(arb.req_write),
            self.mem_req_stream.eq(arb.req_stream),
            # weight loader
            wld.run.eq(self.run), wld.n_layers.eq(n_layers),
            wl.eq(wld.wl), wld.w_base.eq(wl_fields["w_base"]), wld.w_bytes.eq(wl_fields["w_bytes"]),
            wld.pe_layers_done.eq(pe.pe_layers_done),
            arb.post[WEIGHTS].eq(wld.post), arb.addr[WEIGHTS].eq(wld.addr),
            arb.nbytes[WEIGHTS].eq(wld.nbytes), wld.done.eq(arb.done[WEIGHTS]),
            wld.beat.eq(self.mem_rvalid & (arb.inflight == WEIGHTS)),
            wld.beat_data.eq(self.mem_rdata),
            wld.r_bank.eq(pe.w_bank), wld.r_block.eq(pe.w_block), pe.w_data.eq(wld.r_data),
            # reader
            rdr.active.eq(active), rdr.reset.eq(complete),
            rdr.pe_b.eq(pe.pos_b), rdr.pe_y.eq(pe.pos_y), rdr.pe_x.eq(pe.pos_x),
            rdr.pe_all.eq(pe.all_done),
            arb.post[FEATURES].eq(rdr.post), arb.addr[FEATURES].eq(rdr.addr),
            arb.nbytes[FEATURES].eq(rdr.nbytes), rdr.done.eq(arb.done[FEATURES]),
            rdr.beat.eq(self.mem_rvalid & (arb.inflight == FEATURES)),
            rdr.beat_data.eq(self.mem_rdata),
            # PE
            pe.active.eq(active), pe.reset.eq(complete), pe.layer.eq(cur), pe.cycle.eq(self.cycle),
            pe.weights_ok.eq(wld.loaded > cur),
            pe.r_done.eq(rdr.r_done), pe.done_bytes.eq(rdr.done_bytes),
            pe.release.eq(fifo.release),
            pe.thr_we.eq(self.cfg_we & (target == TARGET_THRESHOLD)),
            pe.neg_we.eq(self.cfg_we & (target == TARGET_NEGATIVE)),
            pe.thr_group.eq(self.cfg_addr[16:30]),
            pe.thr_granule.eq(self.cfg_addr[0:16]),
            pe.thr_value.eq(self.cfg_data),
            pe.neg_lane.eq(self.cfg_addr[0:16]),
            pe.neg_value.eq(self.cfg_data[0]),
            # FIFO / writer
            fifo.active.eq(active), fifo.reset.eq(complete),
            fifo.we.eq(pe.fifo_we), fifo.wdata_group.eq(pe.fifo_data), fifo.arrive.eq(pe.arrive),
            arb.post[OUTPUTS].eq(fifo.post), arb.addr[OUTPUTS].eq(fifo.addr),
            arb.nbytes[OUTPUTS].eq(fifo.nbytes), fifo.done.eq(arb.done[OUTPUTS]),
            fifo.granted.eq(arb.granted[OUTPUTS]), fifo.wready.eq(self.mem_wready),
            self.mem_wdata.eq(fifo.wdata),
        ]  # fmt: skip
        for dx in range(3):
            m.d.comb += rdr.lb_addr[dx].eq(pe.lb_addr[dx])
            for s in range(p.rows):
                m.d.comb += pe.lb_data[s][dx].eq(rdr.lb_data[s][dx])
        return m
