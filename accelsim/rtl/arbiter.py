"""The AXI memory port and its arbiter, as hardware (spec §3.1).

Three streams (0 weights, 1 features, 2 outputs) each post at most one request: ``post`` is
high in the cycle the stream's condition first holds, with the request's address and bytes;
the arbiter keeps it waiting until granted. The arbiter decides last in a cycle: it sees the
requests posted in that very cycle, and when the port is free (a grant completing at ``t``
frees it at ``t``) it grants one, in that cycle, by

- ``round_robin``: the first waiting stream from ``rr``, then ``rr`` moves past it;
- ``priority``: the first waiting stream in the configured order.

The grant leaves on ``mem_req_*`` for one cycle. The memory answers with beats and a
``mem_done`` pulse in the grant's last cycle (``end - 1``), so that at ``end`` the completion
is in every register: the port is free again and the stream may post its next request.
"""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module, Mux, Signal

from accelsim.rtl.params import ADDR_BITS, RtlParams

N_STREAMS = 3
WEIGHTS, FEATURES, OUTPUTS = 0, 1, 2


class Arbiter(Elaboratable):
    def __init__(self, p: RtlParams, bytes_bits: int) -> None:
        self.p = p
        self.post = [Signal(name=f"post{s}") for s in range(N_STREAMS)]
        self.addr = [Signal(ADDR_BITS, name=f"addr{s}") for s in range(N_STREAMS)]
        self.nbytes = [Signal(bytes_bits, name=f"nbytes{s}") for s in range(N_STREAMS)]
        self.granted = [Signal(name=f"granted{s}") for s in range(N_STREAMS)]
        self.done = [Signal(name=f"done{s}") for s in range(N_STREAMS)]
        self.mem_done = Signal()
        self.run = Signal()
        # to the memory
        self.req_valid = Signal()
        self.req_addr = Signal(ADDR_BITS)
        self.req_bytes = Signal(bytes_bits)
        self.req_write = Signal()
        self.req_stream = Signal(2)
        # grant in flight
        self.busy = Signal()
        self.inflight = Signal(2)
        self.waiting_count = Signal(2)

    def elaborate(self, platform: object) -> Module:
        m = Module()
        p = self.p
        waiting = [Signal(name=f"waiting{s}") for s in range(N_STREAMS)]
        waddr = [Signal(ADDR_BITS, name=f"waddr{s}") for s in range(N_STREAMS)]
        wbytes = [Signal(len(self.nbytes[0]), name=f"wbytes{s}") for s in range(N_STREAMS)]
        valid = [Signal(name=f"valid{s}") for s in range(N_STREAMS)]
        eaddr = [Signal(ADDR_BITS, name=f"eaddr{s}") for s in range(N_STREAMS)]
        ebytes = [Signal(len(self.nbytes[0]), name=f"ebytes{s}") for s in range(N_STREAMS)]
        for s in range(N_STREAMS):
            m.d.comb += [
                valid[s].eq(waiting[s] | self.post[s]),
                eaddr[s].eq(Mux(waiting[s], waddr[s], self.addr[s])),
                ebytes[s].eq(Mux(waiting[s], wbytes[s], self.nbytes[s])),
            ]
        rr = Signal(2)
        pick = Signal(2)
        any_valid = Signal()
        m.d.comb += any_valid.eq(valid[0] | valid[1] | valid[2])
        if p.round_robin:
            # first valid stream in the order rr, rr+1, rr+2 (mod 3)
            for start in range(N_STREAMS):
                order = [(start + k) % N_STREAMS for k in range(N_STREAMS)]
                with m.If(rr == start):
                    # lowest priority first so the highest wins (last assignment)
                    for s in reversed(order):
                        with m.If(valid[s]):
                            m.d.comb += pick.eq(s)
        else:
            for s in reversed(p.priority):
                with m.If(valid[s]):
                    m.d.comb += pick.eq(s)
        grant = Signal()
        m.d.comb += grant.eq(self.run & ~self.busy & any_valid)
        for s in range(N_STREAMS):
            m.d.comb += [
                self.granted[s].eq(grant & (pick == s)),
                self.done[s].eq(self.mem_done & self.busy & (self.inflight == s)),
            ]
        with m.Switch(pick):
            for s in range(N_STREAMS):
                with m.Case(s):
                    m.d.comb += [self.req_addr.eq(eaddr[s]), self.req_bytes.eq(ebytes[s])]
        m.d.comb += [
            self.req_valid.eq(grant),
            self.req_write.eq(pick == OUTPUTS),
            self.req_stream.eq(pick),
        ]
        for s in range(N_STREAMS):
            with m.If(self.granted[s]):
                m.d.sync += waiting[s].eq(0)
            with m.Elif(self.post[s]):
                m.d.sync += [waiting[s].eq(1), waddr[s].eq(self.addr[s]),
                             wbytes[s].eq(self.nbytes[s])]  # fmt: skip
        with m.If(grant):
            m.d.sync += [self.busy.eq(1), self.inflight.eq(pick)]
            if p.round_robin:
                m.d.sync += rr.eq(Mux(pick == N_STREAMS - 1, 0, pick + 1))
        with m.Elif(self.mem_done):
            m.d.sync += self.busy.eq(0)
        m.d.comb += self.waiting_count.eq(waiting[0] + waiting[1] + waiting[2])
        return m
