"""A deliberately plain per-cycle model of the conv core, the test oracle for the event simulator.

It steps every cycle and shares nothing with ``accelsim.hw`` but the DDR model and the config /
placement objects. Within a cycle ``t``, in this order:

1. the grant ending at ``t`` completes (data usable, FIFO groups released, weights in);
2. a layer whose last write completed ends, and the next layer starts at ``t``;
3. the PE array: a pixel ending at ``t`` is done; if idle, the next pixel starts if weights,
   input and FIFO space are there, otherwise the cycle is a stall charged to the first missing;
4. post-processed groups due at ``t`` enter the FIFO;
5. reader, writer and weight loader post a request if they have none and their condition holds;
6. the arbiter picks a waiting request if the port is free.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from accelsim.config.schema import STREAMS, HwConfig
from accelsim.mapping import LayerPlan, Placement
from accelsim.network.model import INPUT


def _cdiv(a: int, b: int) -> int:
    return -(-a // b)


@dataclass
class RefLayer:
    name: str
    kind: str
    start: int = -1
    end: int = -1
    busy: int = 0
    stalls: dict = field(default_factory=lambda: {"weights": 0, "input": 0, "output": 0})
    last_pe_end: int = -1


class _Core:
    """One core layer's per-cycle state."""

    def __init__(self, plan: LayerPlan, hw: HwConfig, batch: int, in_base: int, out_base: int):
        lay = plan.layer
        self.plan = plan
        self.H, self.W, self.Ho, self.Wo = lay.in_h, lay.in_w, lay.out_h, lay.out_w
        self.s, self.p = lay.stride, lay.padding
        self.batch = batch
        self.n_ib, self.n_ob, self.P = plan.n_ib, plan.n_ob, plan.passes
        self.igb, self.ogb = plan.in_group_bytes, plan.out_group_bytes
        self.rows = hw.line_buffer.rows
        self.cap = hw.output_fifo.groups
        self.lat = hw.core.pipeline_latency_cycles
        self.Gi = max(1, hw.axi.grant_bytes // self.igb)
        self.Go = max(1, hw.axi.grant_bytes // self.ogb)
        # columns some output reads: the last is the right column of the last output's window
        self.cols_read = min(self.W, self.s * (self.Wo - 1) - self.p + 3)
        self.row_groups = self.cols_read * self.n_ib  # groups fetched per row
        self.cpr = _cdiv(self.row_groups, self.Gi)
        # rows some output reads: the last is the bottom row of the last output row's window
        self.rows_read = min(self.H, self.s * (self.Ho - 1) - self.p + 3)
        self.n_chunks = batch * self.rows_read * self.cpr
        self.n_px = batch * self.Ho * self.Wo
        self.n_groups = self.n_px * self.n_ob
        self.cpp = self.n_ob * self.n_ib * self.P
        self.in_base, self.out_base = in_base, out_base
        # state
        self.chunks_done = 0
        self.next_chunk = 0
        self.px_next = 0
        self.px_end = [-1] * self.n_px
        self.cur_end = -1  # end of the pixel in progress
        self.taken = 0  # FIFO groups reserved (pipeline + FIFO), released on write completion
        self.arrivals: dict[int, int] = {}  # time -> groups entering the FIFO then
        self.arrived = 0  # groups in the FIFO, not yet handed to a write grant
        self.written = 0  # groups handed to write grants (completed or in flight)
        self.completed_writes = 0

    # --- geometry, written out plainly
    def window_last_chunk(self, i: int) -> int:
        b, rem = divmod(i, self.Ho * self.Wo)
        y, x = divmod(rem, self.Wo)
        r = min(self.H - 1, self.s * y - self.p + 2)
        c = min(self.W - 1, self.s * x - self.p + 2)
        return (b * self.rows_read + r) * self.cpr + (c * self.n_ib + self.n_ib - 1) // self.Gi

    def chunk_range(self, k: int) -> tuple[int, int, int]:
        row, j = divmod(k, self.cpr)
        g0 = j * self.Gi
        g1 = min(g0 + self.Gi, self.row_groups)
        return row, g0, g1

    def freeing_pixel(self, k: int) -> int:
        row, g0, g1 = self.chunk_range(k)
        prev = row - self.rows
        if prev < 0:
            return -1
        b, r = divmod(prev, self.rows_read)
        c = (g1 - 1) // self.n_ib
        y = min(self.Ho - 1, (r + self.p) // self.s)
        x = min(self.Wo - 1, (c + self.p) // self.s)
        return (b * self.Ho + y) * self.Wo + x


def _addresses(placement: Placement) -> tuple[dict[str, int], dict[str, int]]:
    hw = placement.hw
    net = placement.network
    al = hw.memory.align_bytes
    batch = net.batch
    feat = {INPUT: hw.memory.feature_base}
    first = placement.plans[0]
    h, w, c = net.input_shape
    nin = first.in_bytes if first.where == "core" else 0
    nin = max(nin, _cdiv(h * w * c * net.input_bits, 8)) * batch
    nxt = hw.memory.feature_base + _cdiv(nin, al) * al
    wts = {}
    wn = hw.memory.weight_base
    for p in placement.plans:
        feat[p.name] = nxt
        nxt += _cdiv(max(p.out_bytes, 1) * batch, al) * al
        if p.where == "core":
            wts[p.name] = wn
            wn += _cdiv(p.weight_bytes, al) * al
    return feat, wts


def reference_run(placement: Placement, ddr: object, max_cycles: int = 5_000_000) -> list[RefLayer]:
    """Run the network cycle by cycle; return per-layer start/end/busy/stalls."""
    hw = placement.hw
    batch = placement.network.batch
    feat, wts = _addresses(placement)
    plans = list(placement.plans)
    out = [RefLayer(p.name, p.where) for p in plans]
    cores: dict[int, _Core] = {}
    core_order = [p.index for p in plans if p.where == "core"]
    for p in plans:
        if p.where == "core":
            cores[p.index] = _Core(p, hw, batch, feat[p.layer.inputs[0]], feat[p.name])
    # weight loader state
    wl_layer = 0  # position in core_order
    wl_offset = 0
    weights_ready = {i: False for i in core_order}
    # port
    n_streams = len(STREAMS)
    sid = {s: i for i, s in enumerate(STREAMS)}
    waiting: list[tuple | None] = [None] * n_streams
    outstanding = [False] * n_streams
    grant: tuple | None = None  # (end, stream, payload)
    rr = 0
    prio = [sid[s] for s in hw.axi.priority]
    cur = 0  # current layer index
    out[0].start = 0
    if plans[0].where == "host":
        out[0].end = plans[0].host_cycles * batch
    t = 0
    while True:
        if t > max_cycles:
            raise RuntimeError(f"reference model did not finish within {max_cycles} cycles")
        # 1. grant completion
        if grant is not None and grant[0] == t:
            _, s, payload = grant
            grant = None
            outstanding[s] = False
            if s == sid["features"]:
                cores[payload].chunks_done += 1
            elif s == sid["outputs"]:
                li, n = payload
                cores[li].taken -= n
                cores[li].completed_writes += n
                if cores[li].completed_writes == cores[li].n_groups:
                    out[li].end = t
            else:
                li, last = payload
                if last:
                    weights_ready[li] = True
        # 2. layer transitions
        while cur < len(plans) and out[cur].end != -1 and out[cur].end <= t:
            cur += 1
            if cur < len(plans):
                out[cur].start = t
                if plans[cur].where == "host":
                    out[cur].end = t + plans[cur].host_cycles * batch
        if cur >= len(plans):
            break
        # 3. PE array
        if plans[cur].where == "core":
            c = cores[cur]
            rl = out[cur]
            if c.cur_end == t:
                c.px_end[c.px_next - 1] = t
                c.cur_end = -1
            if c.cur_end == -1 and c.px_next < c.n_px:
                i = c.px_next
                if not weights_ready[cur]:
                    rl.stalls["weights"] += 1
                elif c.chunks_done <= c.window_last_chunk(i):
                    rl.stalls["input"] += 1
                elif c.taken + c.n_ob > c.cap:
                    rl.stalls["output"] += 1
                else:
                    c.taken += c.n_ob
                    step = c.n_ib * c.P
                    for ob in range(c.n_ob):
                        at = t + (ob + 1) * step + c.lat
                        c.arrivals[at] = c.arrivals.get(at, 0) + 1
                    c.cur_end = t + c.cpp
                    c.px_next += 1
                    if c.px_next == c.n_px:
                        rl.last_pe_end = c.cur_end
            if c.cur_end != -1:
                rl.busy += 1
            # 4. groups entering the FIFO
            c.arrived += c.arrivals.pop(t, 0)
            # 5a. reader
            f = sid["features"]
            if not outstanding[f] and c.next_chunk < c.n_chunks:
                k = c.next_chunk
                j = c.freeing_pixel(k)
                if j < 0 or (c.px_end[j] != -1 and c.px_end[j] <= t):
                    row, g0, g1 = c.chunk_range(k)
                    b, r = divmod(row, c.rows_read)
                    addr = c.in_base + ((b * c.H + r) * c.W * c.n_ib + g0) * c.igb
                    waiting[f] = (addr, (g1 - g0) * c.igb, False, cur)
                    outstanding[f] = True
                    c.next_chunk += 1
            # 5b. writer
            o = sid["outputs"]
            if not outstanding[o] and c.written < c.n_groups:
                g = c.written
                row_end = (g // (c.Wo * c.n_ob) + 1) * (c.Wo * c.n_ob)
                k = min(c.Go, row_end - g)
                m = min(k, c.cap - c.n_ob + 1)
                if c.arrived >= m:
                    n = min(c.arrived, k)
                    c.arrived -= n
                    c.written += n
                    waiting[o] = (c.out_base + g * c.ogb, n * c.ogb, True, (cur, n))
                    outstanding[o] = True
        # 5c. weight loader (works ahead across layers)
        w = sid["weights"]
        if not outstanding[w] and wl_layer < len(core_order):
            li = core_order[wl_layer]
            ok = True
            if wl_layer >= 2:
                prev = core_order[wl_layer - 2]
                pe = out[prev].last_pe_end
                ok = pe != -1 and pe <= t and cores[prev].px_next == cores[prev].n_px
            if ok:
                total = cores[li].plan.weight_bytes
                n = min(hw.axi.grant_bytes, total - wl_offset)
                last = wl_offset + n == total
                waiting[w] = (wts[cores[li].plan.name] + wl_offset, n, False, (li, last))
                outstanding[w] = True
                wl_offset += n
                if last:
                    wl_layer += 1
                    wl_offset = 0
        # 6. arbiter
        if grant is None and any(x is not None for x in waiting):
            if hw.axi.arbitration == "priority":
                pick = next(s for s in prio if waiting[s] is not None)
            else:
                pick = next(
                    (rr + k) % n_streams
                    for k in range(n_streams)
                    if waiting[(rr + k) % n_streams] is not None
                )
                rr = (pick + 1) % n_streams
            addr, nbytes, is_write, payload = waiting[pick]
            waiting[pick] = None
            lat = hw.axi.latency_cycles
            end = ddr.access(t + lat, addr, nbytes, is_write)  # type: ignore[attr-defined]
            end = max(int(end), t + lat + _cdiv(nbytes, hw.axi.bytes_per_cycle))
            grant = (end, pick, payload)
        t += 1
    return out
