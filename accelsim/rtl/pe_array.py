"""The PE array, as hardware: pixel sequencer, adder tree, accumulators, threshold unit
(spec §2, §3.4).

Sequencer. Output pixels in raster order, image after image; per pixel ``n_ob`` output batches,
each ``passes`` activation passes of ``n_ib`` input batches (ob outer, ib inner: cycle
``ob * n_ib * passes + j * n_ib + ib``). When idle in cycle ``t`` with pixels left, pixel
``(b, y, x)`` starts in that cycle if, in this order,

1. its layer's weights are in (``loaded > layer``), else the cycle is a *weights* stall;
2. every stored input pixel of its window is usable: the read position ``(R_done,
   done_bytes)`` has passed the window's bottom row ``b * rows_read + min(H-1, s*y - p + 2)``
   up to byte ``min(W, s*x - p + 3) * pix_bytes``, else an *input* stall;
3. the FIFO can take its ``n_ob`` groups (groups taken + ``n_ob`` <= ``output_fifo.groups``;
   taken at pixel start, released when the write grant carrying them completes), else an
   *output* stall.

A pixel's last cycle is ``t0 + cycles - 1``; at ``t0 + cycles`` it counts as finished (the
reader's slot freeing compares against the first unfinished pixel).

Datapath. The cycle's window and weight word are read from the line-buffer slots and the bank in
the cycle itself (synchronous RAMs), so the data is there one cycle later (stage 1): the
ic x 3 x 3 activations of the pass (bit slice ``j`` of each channel), zero outside the image,
meet the oc x ic x 3 x 3 weight codes; the partial sum of each output lane is
``2 * sum(x * n) - (2^W - 1) * sum(x)`` for ``dorefa`` codes (value ``2n - (2^W - 1)``) and
``sum(x * n) - 2^W * sum(x * msb(n))`` for two's complement, through a balanced adder tree, into
a register. ``latency - 2`` more registers follow. Then the accumulator stage adds the partial
sum shifted by ``j * A`` (bit-serial passes), cleared at the first cycle of each ``(pixel, ob)``,
saturating or wrapping at ``accumulator_bits``, counts the lanes whose exact sum left the range
(overflow events, real channels only), and on the ``(pixel, ob)``'s last cycle compares the new
value with the lane's thresholds (``>=``, or ``<=`` for a negative channel) and writes the
``oc`` codes to the output FIFO. So a group written at the end of cycle ``t_last + latency`` is
in the FIFO at ``t_last + 1 + latency``, the cycle the writer counts it in (spec §3.4, §3.5).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Elaboratable, Module, Mux, Signal, signed

from accelsim.rtl.params import RtlParams
from accelsim.rtl.ram import SyncRam
from accelsim.rtl.regmap import BIG, BYTES, COORD


def _sext0(v: object) -> object:
    """An unsigned value as a signed one (one more bit)."""
    return Cat(v, Const(0, 1)).as_signed()


def _tree(terms: list) -> object:
    """Balanced sum of expressions."""
    while len(terms) > 1:
        nxt = [terms[i] + terms[i + 1] for i in range(0, len(terms) - 1, 2)]
        if len(terms) % 2:
            nxt.append(terms[-1])
        terms = nxt
    return terms[0]


class PeArray(Elaboratable):
    def __init__(self, p: RtlParams, desc: dict[str, Signal], layer_bits: int) -> None:
        self.p = p
        self.d = desc
        self.active = Signal()
        self.reset = Signal()
        self.layer = Signal(layer_bits + 1)
        self.cycle = Signal(BIG)
        self.weights_ok = Signal()
        self.r_done = Signal(BIG)
        self.done_bytes = Signal(BYTES)
        self.release = Signal(BIG)  # groups whose write completed (this cycle, at the edge)
        # progress for the reader
        self.pos_b = Signal(COORD)
        self.pos_y = Signal(COORD)
        self.pos_x = Signal(COORD)
        self.all_done = Signal()
        self.pe_layers_done = Signal(layer_bits + 1)
        # line buffer and weight bank reads
        self.lb_addr = [Signal(range(max(2, p.lb_depth)), name=f"pe_lb_addr{dx}") for dx in range(3)]
        self.lb_data = [
            [Signal(p.lb_word_bytes * 8, name=f"pe_lb_data{s}_{dx}") for dx in range(3)]
            for s in range(p.rows)
        ]
        self.w_bank = Signal()
        self.w_block = Signal(range(max(2, p.bank_blocks)))
        self.w_data = Signal(p.block_bits)
        # output FIFO
        self.fifo_we = Signal()
        self.fifo_data = Signal(p.out_group_bytes * 8)
        self.arrive = Signal()  # a group enters the FIFO (counted) this cycle
        # threshold / negative tables (host writes)
        self.thr_we = Signal()
        self.thr_group = Signal(range(max(2, p.threshold_groups)))
        self.thr_granule = Signal(range(max(2, p.oc * p.thresholds_per_lane)))
        self.thr_value = Signal(signed(p.threshold_bits))
        self.neg_we = Signal()
        self.neg_lane = Signal(range(max(2, p.oc)))
        self.neg_value = Signal()
        # statistics of the layer
        self.busy_cycles = Signal(BIG)
        self.stall_w = Signal(BIG)
        self.stall_in = Signal(BIG)
        self.stall_out = Signal(BIG)
        self.overflows = Signal(BIG)
        self.first_valid = Signal()
        self.first_b = Signal(COORD)
        self.first_y = Signal(COORD)
        self.first_x = Signal(COORD)
        self.first_c = Signal(COORD)
        self.last_pe_end = Signal(BIG)
        self.taken = Signal(BIG)

    # ------------------------------------------------------------------ sequencer
    def elaborate(self, platform: object) -> Module:
        m = Module()
        p = self.p
        d = self.d
        s2 = d["stride2"]
        pad = d["pad"]
        pix = d["pix_bytes"]
        busy = Signal()
        b = Signal(COORD)
        y = Signal(COORD)
        x = Signal(COORD)
        ob = Signal(COORD)
        j = Signal(4)
        ib = Signal(COORD)
        blk_base = Signal(BIG)
        ib_off = Signal(BYTES)
        rb = Signal(BIG)
        all_started = Signal()
        fresh = Signal(init=1)
        c_left_r = Signal(signed(COORD + 1))
        col0_r = Signal(signed(BYTES + 1))
        need_r = Signal(BYTES + 2)
        r_top_r = Signal(signed(COORD + 1))
        slot_r = Signal(range(p.rows))
        # effective values (a fresh layer takes its first pixel's from its own fields)
        c_left = Signal(signed(COORD + 1))
        col0 = Signal(signed(BYTES + 1))
        need = Signal(BYTES + 2)
        r_top = Signal(signed(COORD + 1))
        slot_top = Signal(range(p.rows))
        pad_bytes = Signal(BYTES)
        m.d.comb += pad_bytes.eq(Mux(pad, pix, 0))
        c_first = Signal(signed(COORD + 1))
        m.d.comb += c_first.eq(Mux(pad, -1, 0))
        m.d.comb += [
            c_left.eq(Mux(fresh, c_first, c_left_r)),
            col0.eq(Mux(fresh, -pad_bytes.as_signed(), col0_r)),
            need.eq(Mux(fresh, (pix << 1) + pix - pad_bytes, need_r)),
            r_top.eq(Mux(fresh, c_first, r_top_r)),
            slot_top.eq(Mux(fresh, Mux(pad, p.rows - 1, 0), slot_r)),
        ]
        # start conditions
        r_last = Signal(BIG)
        bottom = Signal(signed(COORD + 2))
        m.d.comb += bottom.eq(r_top + 2)
        m.d.comb += r_last.eq(rb + Mux(bottom > d["in_h"] - 1, d["in_h"] - 1, bottom))
        need_bytes = Signal(BYTES + 2)
        m.d.comb += need_bytes.eq(Mux(need > d["row_stride"], d["row_stride"], need))
        in_ok = Signal()
        m.d.comb += in_ok.eq(
            (self.r_done > r_last) | ((self.r_done == r_last) & (self.done_bytes >= need_bytes))
        )
        out_ok = Signal()
        m.d.comb += out_ok.eq(self.taken + d["n_ob"] <= p.fifo_groups)
        idle = Signal()
        m.d.comb += idle.eq(self.active & ~busy & ~all_started)
        start = Signal()
        m.d.comb += start.eq(idle & self.weights_ok & in_ok & out_ok)
        pe_cycle = Signal()
        m.d.comb += pe_cycle.eq(self.active & (busy | start))
        # this cycle's loop indices
        cob = Signal(COORD)
        cj = Signal(4)
        cib = Signal(COORD)
        cib_off = Signal(BYTES)
        cblk_base = Signal(BIG)
        m.d.comb += [
            cob.eq(Mux(start, 0, ob)),
            cj.eq(Mux(start, 0, j)),
            cib.eq(Mux(start, 0, ib)),
            cib_off.eq(Mux(start, 0, ib_off)),
            cblk_base.eq(Mux(start, 0, blk_base)),
        ]
        last_ib = Signal()
        last_j = Signal()
        last_ob = Signal()
        m.d.comb += [
            last_ib.eq(cib == d["n_ib"] - 1),
            last_j.eq(cj == d["passes"] - 1),
            last_ob.eq(cob == d["n_ob"] - 1),
        ]
        px_last = Signal()
        m.d.comb += px_last.eq(last_ib & last_j & last_ob)
        final_px = Signal()
        m.d.comb += final_px.eq(
            (x == d["out_w"] - 1) & (y == d["out_h"] - 1) & (b == d["batch"] - 1)
        )
        igb = Signal(BYTES)
        m.d.comb += igb.eq(Const(1, BYTES) << d["igb_log2"])
        # statistics
        with m.If(pe_cycle):
            m.d.sync += self.busy_cycles.eq(self.busy_cycles + 1)
        with m.Elif(idle):
            with m.If(~self.weights_ok):
                m.d.sync += self.stall_w.eq(self.stall_w + 1)
            with m.Elif(~in_ok):
                m.d.sync += self.stall_in.eq(self.stall_in + 1)
            with m.Else():
                m.d.sync += self.stall_out.eq(self.stall_out + 1)
        # FIFO reservations
        m.d.sync += self.taken.eq(self.taken + Mux(start, d["n_ob"], 0) - self.release)
        # advance
        with m.If(pe_cycle):
            with m.If(px_last):
                m.d.sync += [busy.eq(0), ob.eq(0), j.eq(0), ib.eq(0), blk_base.eq(0),
                             ib_off.eq(0), fresh.eq(0)]  # fmt: skip
                with m.If(x == d["out_w"] - 1):
                    m.d.sync += [
                        x.eq(0), c_left_r.eq(c_first), col0_r.eq(-pad_bytes.as_signed()),
                        need_r.eq((pix << 1) + pix - pad_bytes),
                    ]  # fmt: skip
                    with m.If(y == d["out_h"] - 1):
                        jump = Signal(range(4))
                        m.d.comb += jump.eq(
                            d["rows_read"] - Mux(s2, (d["out_h"] - 1) << 1, d["out_h"] - 1)
                        )
                        wrapped = slot_top + jump
                        m.d.sync += [
                            y.eq(0), b.eq(b + 1), rb.eq(rb + d["rows_read"]),
                            r_top_r.eq(c_first),
                            slot_r.eq(Mux(wrapped >= p.rows, wrapped - p.rows, wrapped)),
                        ]  # fmt: skip
                    with m.Else():
                        step = Mux(s2, 2, 1)
                        wrapped = slot_top + step
                        m.d.sync += [
                            y.eq(y + 1), r_top_r.eq(r_top + step),
                            slot_r.eq(Mux(wrapped >= p.rows, wrapped - p.rows, wrapped)),
                        ]  # fmt: skip
                with m.Else():
                    stride_bytes = Mux(s2, pix << 1, pix)
                    m.d.sync += [
                        x.eq(x + 1), c_left_r.eq(c_left + Mux(s2, 2, 1)),
                        col0_r.eq(col0 + stride_bytes), need_r.eq(need + stride_bytes),
                        r_top_r.eq(r_top), slot_r.eq(slot_top),
                    ]  # fmt: skip
                with m.If(final_px):
                    m.d.sync += [
                        all_started.eq(1),
                        self.pe_layers_done.eq(self.pe_layers_done + 1),
                        self.last_pe_end.eq(self.cycle + 1),
                    ]  # fmt: skip
            with m.Else():
                m.d.sync += busy.eq(1)
                with m.If(last_ib):
                    m.d.sync += [ib.eq(0), ib_off.eq(0)]
                    with m.If(last_j):
                        m.d.sync += [j.eq(0), ob.eq(cob + 1), blk_base.eq(cblk_base + d["n_ib"])]
                    with m.Else():
                        m.d.sync += [j.eq(cj + 1), ob.eq(cob), blk_base.eq(cblk_base)]
                with m.Else():
                    m.d.sync += [ib.eq(cib + 1), ib_off.eq(cib_off + igb), j.eq(cj),
                                 ob.eq(cob), blk_base.eq(cblk_base)]  # fmt: skip
        m.d.comb += [
            self.pos_b.eq(b),
            self.pos_y.eq(y),
            self.pos_x.eq(x),
            self.all_done.eq(all_started & ~busy),
        ]
        # ---- stage 0: addresses
        word_log2 = p.lb_word_bytes.bit_length() - 1
        cg_log2 = p.core_group_bytes.bit_length() - 1
        n_pos = p.lb_word_bytes // p.core_group_bytes
        tap_valid = Signal(9)
        slot_dy = [Signal(range(p.rows), name=f"slot_dy{dy}") for dy in range(3)]
        gpos = [Signal(range(max(2, n_pos)), name=f"gpos{dx}") for dx in range(3)]
        for dy in range(3):
            row = r_top + dy
            rv = (row >= 0) & (row < d["in_h"])
            ws = slot_top + dy
            m.d.comb += slot_dy[dy].eq(Mux(ws >= p.rows, ws - p.rows, ws))
            for dx in range(3):
                col = c_left + dx
                cv = (col >= 0) & (col < d["in_w"])
                m.d.comb += tap_valid[dy * 3 + dx].eq(rv & cv)
        for dx in range(3):
            off = Signal(signed(BYTES + 3), name=f"off{dx}")
            m.d.comb += off.eq(col0 + dx * pix + cib_off)
            m.d.comb += [
                self.lb_addr[dx].eq(off.as_unsigned() >> word_log2),
                gpos[dx].eq((off.as_unsigned() & (p.lb_word_bytes - 1)) >> cg_log2),
            ]
        m.d.comb += [self.w_bank.eq(self.layer[0]), self.w_block.eq(cblk_base + cib)]
        # ---- control bundle down the pipeline
        lanes = Signal(range(p.oc + 1))
        m.d.comb += lanes.eq(Mux(last_ob, d["last_lanes"], p.oc))
        bundle = [
            ("valid", pe_cycle, 1), ("taps", tap_valid, 9),
            ("slot0", slot_dy[0], len(slot_dy[0])), ("slot1", slot_dy[1], len(slot_dy[1])),
            ("slot2", slot_dy[2], len(slot_dy[2])),
            ("g0", gpos[0], len(gpos[0])), ("g1", gpos[1], len(gpos[1])),
            ("g2", gpos[2], len(gpos[2])),
            ("j", cj, 4), ("sel", d["in_bits_sel"], 2), ("ob", cob, COORD),
            ("first", (cib == 0) & (cj == 0), 1), ("last", last_ib & last_j, 1),
            ("lanes", lanes, len(lanes)), ("b", b, COORD), ("y", y, COORD), ("x", x, COORD),
            ("thr", d["thr_base"] + cob, COORD),
        ]  # fmt: skip
        stages = []
        prev = {name: val for name, val, _ in bundle}
        for k in range(1, p.latency + 1):
            cur = {}
            for name, _, width in bundle:
                s = Signal(width, name=f"s{k}_{name}")
                m.d.sync += s.eq(prev[name])
                cur[name] = s
            # the per-layer clear of the pipeline is not needed: a layer's last group has left
            # the pipeline long before its last write completes
            stages.append(cur)
            prev = cur
        s1 = stages[0]
        s_acc = stages[-1]  # valid in the accumulate cycle
        # ---- stage 1: activations, weights, partial sums
        acts = self._activations(m, s1)
        psum = self._psums(m, acts)
        # register chain: psum valid at stage k >= 2
        pw = len(psum[0])
        chain = psum
        for k in range(2, p.latency + 1):
            nxt = []
            for o in range(p.oc):
                r = Signal(signed(pw), name=f"ps{k}_{o}")
                m.d.sync += r.eq(chain[o])
                nxt.append(r)
            chain = nxt
        psum_acc = chain
        # thresholds: read with the stage before the accumulate cycle
        k_per = p.thresholds_per_lane
        thr_mem = SyncRam(p.oc * k_per * p.threshold_bits, p.threshold_groups,
                          gran=p.threshold_bits, name="thr")  # fmt: skip
        neg_mem = SyncRam(p.oc, p.threshold_groups, gran=1, name="neg")
        m.submodules.thr_mem = thr_mem
        m.submodules.neg_mem = neg_mem
        m.d.comb += [
            thr_mem.waddr.eq(self.thr_group),
            thr_mem.wdata.eq(Cat(*[self.thr_value for _ in range(p.oc * k_per)])),
            thr_mem.we.eq(Mux(self.thr_we, Const(1, p.oc * k_per) << self.thr_granule, 0)),
            neg_mem.waddr.eq(self.thr_group),
            neg_mem.wdata.eq(Cat(*[self.neg_value for _ in range(p.oc)])),
            neg_mem.we.eq(Mux(self.neg_we, Const(1, p.oc) << self.neg_lane, 0)),
        ]
        pre = stages[-2]  # latency >= 2
        m.d.comb += [thr_mem.raddr[0].eq(pre["thr"]), neg_mem.raddr[0].eq(pre["thr"])]
        self._accumulate(m, s_acc, psum_acc, thr_mem.rdata[0], neg_mem.rdata[0])
        # arrival in the FIFO (counted): t_last + 1 + latency
        arr = Signal(p.latency + 1)
        m.d.sync += arr.eq(Cat(pe_cycle & last_ib & last_j, arr[:-1]))
        m.d.comb += self.arrive.eq(arr[-1])
        # per-layer reset (last: wins over the updates above)
        with m.If(self.reset):
            m.d.sync += [
                busy.eq(0), b.eq(0), y.eq(0), x.eq(0), ob.eq(0), j.eq(0), ib.eq(0),
                blk_base.eq(0), ib_off.eq(0), rb.eq(0), all_started.eq(0), fresh.eq(1),
                self.busy_cycles.eq(0), self.stall_w.eq(0), self.stall_in.eq(0),
                self.stall_out.eq(0), self.overflows.eq(0), self.first_valid.eq(0),
            ]  # fmt: skip
        return m

    # ------------------------------------------------------------------ datapath
    def _activations(self, m: Module, s1: dict) -> list[list]:
        """ic activations (A bits) of each of the 9 taps, zero outside the image."""
        p = self.p
        a = p.feature_bits
        cg_bits = p.core_group_bytes * 8
        gmax = p.max_group_bytes * 8
        acts = []
        for dy in range(3):
            for dx in range(3):
                tap = dy * 3 + dx
                word = Signal(p.lb_word_bytes * 8, name=f"win{tap}")
                with m.Switch(s1[f"slot{dy}"]):
                    for s in range(p.rows):
                        with m.Case(s):
                            m.d.comb += word.eq(self.lb_data[s][dx])
                grp = Signal(gmax, name=f"grp{tap}")
                n_pos = p.lb_word_bytes // p.core_group_bytes
                with m.Switch(s1[f"g{dx}"]):
                    for pos in range(n_pos):
                        with m.Case(pos):
                            hi = min(p.lb_word_bytes * 8, pos * cg_bits + gmax)
                            m.d.comb += grp.eq(word[pos * cg_bits : hi])
                row = []
                for k in range(p.ic):
                    v = Signal(a, name=f"x{tap}_{k}")
                    with m.Switch(s1["sel"]):
                        for si, bits in enumerate(p.in_bits_options):
                            with m.Case(si):
                                npass = bits // a
                                if npass == 1:
                                    m.d.comb += v.eq(grp[k * bits : k * bits + a])
                                else:
                                    with m.Switch(s1["j"]):
                                        for jj in range(npass):
                                            with m.Case(jj):
                                                lo = k * bits + jj * a
                                                m.d.comb += v.eq(grp[lo : lo + a])
                    xm = Signal(a, name=f"xm{tap}_{k}")
                    m.d.comb += xm.eq(Mux(s1["taps"][tap], v, 0))
                    row.append(xm)
                acts.append(row)
        return acts

    def _psums(self, m: Module, acts: list[list]) -> list:
        """Per output lane, the cycle's exact partial sum (signed)."""
        p = self.p
        wb = p.weight_bits
        ic = p.ic
        xs = [v for row in acts for v in row]  # tap-major, then ic lane
        total_x = Signal(range(9 * ic * ((1 << p.feature_bits) - 1) + 1), name="sum_x")
        m.d.comb += total_x.eq(_tree(list(xs)))
        out = []
        for o in range(p.oc):
            prods = []
            msbs = []
            for tap in range(9):
                for i in range(ic):
                    base = ((o * 9 + tap) * ic + i) * wb
                    code = self.w_data[base : base + wb]
                    xv = acts[tap][i]
                    if wb == 1:
                        prods.append(Mux(code, xv, 0))
                    else:
                        prods.append(xv * code)
                        msbs.append(Mux(code[wb - 1], xv, 0))
            s = Signal(range(9 * ic * ((1 << p.feature_bits) - 1) * ((1 << wb) - 1) + 1),
                       name=f"sum_xn{o}")  # fmt: skip
            m.d.comb += s.eq(_tree(prods))
            ps = Signal(signed(len(s) + wb + 2), name=f"psum{o}")
            if p.dorefa:
                m.d.comb += ps.eq((_sext0(s) << 1) - _sext0(total_x) * ((1 << wb) - 1))
            elif wb == 1:
                m.d.comb += ps.eq(-_sext0(s))
            else:
                mm = Signal(range(9 * ic * ((1 << p.feature_bits) - 1) + 1), name=f"sum_msb{o}")
                m.d.comb += mm.eq(_tree(msbs))
                m.d.comb += ps.eq(_sext0(s) - (_sext0(mm) << wb))
            out.append(ps)
        return out

    def _accumulate(self, m: Module, st: dict, psum: list, thr_word: object, neg_word: object):
        p = self.p
        a = p.feature_bits
        ab = p.acc_bits
        lo = -(1 << (ab - 1))
        hi = (1 << (ab - 1)) - 1
        max_shift = (p.max_passes - 1) * a
        pw = len(psum[0])
        ew = max(ab, pw + max_shift) + 2
        k_per = p.thresholds_per_lane
        tb = p.threshold_bits
        ovf_bits = []
        codes = []
        lane_ok = []
        for o in range(p.oc):
            acc = Signal(signed(ab), name=f"acc{o}")
            sh = Signal(signed(pw + max_shift), name=f"shifted{o}")
            if p.max_passes == 1:
                m.d.comb += sh.eq(psum[o])
            else:
                with m.Switch(st["j"]):
                    for jj in range(p.max_passes):
                        with m.Case(jj):
                            m.d.comb += sh.eq(psum[o] << (jj * a))
            exact = Signal(signed(ew), name=f"exact{o}")
            m.d.comb += exact.eq(Mux(st["first"], 0, acc) + sh)
            over = Signal(name=f"over{o}")
            under = Signal(name=f"under{o}")
            m.d.comb += [over.eq(exact > hi), under.eq(exact < lo)]
            new = Signal(signed(ab), name=f"accn{o}")
            if p.saturate:
                m.d.comb += new.eq(Mux(over, hi, Mux(under, lo, exact)))
            else:
                m.d.comb += new.eq(exact[:ab].as_signed())
            with m.If(st["valid"]):
                m.d.sync += acc.eq(new)
            ok = Signal(name=f"lane_ok{o}")
            m.d.comb += ok.eq(o < st["lanes"])
            lane_ok.append(ok)
            ovf_bits.append(st["valid"] & (over | under) & ok)
            # thresholds
            cmps = []
            neg = neg_word[o]
            for k in range(k_per):
                t = thr_word[(o * k_per + k) * tb : (o * k_per + k + 1) * tb].as_signed()
                cmps.append(Mux(neg, new <= t, new >= t))
            code = Signal(a, name=f"code{o}")
            m.d.comb += code.eq(Mux(ok, _tree([c.as_unsigned() for c in cmps]), 0))
            codes.append(code)
        m.d.comb += [
            self.fifo_we.eq(st["valid"] & st["last"]),
            self.fifo_data.eq(Cat(*codes)),
        ]
        n_ovf = Signal(range(p.oc + 1))
        m.d.comb += n_ovf.eq(_tree([v.as_unsigned() for v in ovf_bits]))
        m.d.sync += self.overflows.eq(self.overflows + n_ovf)
        any_ovf = Signal()
        m.d.comb += any_ovf.eq(Cat(*ovf_bits).any())
        first_lane = Signal(range(max(2, p.oc)))
        for o in reversed(range(p.oc)):
            with m.If(ovf_bits[o]):
                m.d.comb += first_lane.eq(o)
        with m.If(any_ovf & ~self.first_valid):
            m.d.sync += [
                self.first_valid.eq(1), self.first_b.eq(st["b"]), self.first_y.eq(st["y"]),
                self.first_x.eq(st["x"]), self.first_c.eq(st["ob"] * p.oc + first_lane),
            ]  # fmt: skip
