"""Feature reader and line buffer, as hardware (spec §3.3).

The reader walks the fetched rows of the layer's input (``rows_read`` rows of each image, image
after image: global row ``R``), each row in chunks of ``chunk_bytes`` from byte 0 to
``row_fetch_bytes``; a chunk never spans two rows. Row ``R`` lives in slot ``R mod rows``. A
chunk of row ``R >= rows`` may be requested once the output pixel that frees its columns of row
``R - rows`` has finished (spec §3.3): with ``(pb, pr)`` that row's image and row and ``c`` the
chunk's last column, pixel ``(pb, min(H_o-1, (pr+p) >> s), min(W_o-1, (c+p) >> s))``; the PE's
first unfinished pixel is compared with it in raster order. The chunk's last column is tracked
without a divider: ``(column, byte)`` of each chunk start advance by
``divmod(chunk_bytes, pix_bytes)`` (a register field).

Completion updates the read position ``(R_done, done_bytes)`` the PE compares its windows with:
rows ``< R_done`` are complete, and ``done_bytes`` bytes of row ``R_done``.

The line buffer is ``rows`` slots of :class:`~accelsim.rtl.lanes.LaneRam`; each has three read
ports, one per window column, shared by the three window rows (all rows read the same columns).
"""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module, Mux, Signal

from accelsim.rtl.lanes import LaneRam
from accelsim.rtl.params import ADDR_BITS, RtlParams
from accelsim.rtl.regmap import BIG, BYTES, COORD


class FeatureReader(Elaboratable):
    def __init__(self, p: RtlParams, bytes_bits: int, desc: dict[str, Signal]) -> None:
        self.p = p
        self.d = desc  # the current layer's fields
        self.active = Signal()
        self.reset = Signal()  # per-layer state back to zero (at the edge)
        # PE progress: first unfinished pixel, or all finished
        self.pe_b = Signal(COORD)
        self.pe_y = Signal(COORD)
        self.pe_x = Signal(COORD)
        self.pe_all = Signal()
        # read progress for the PE
        self.r_done = Signal(BIG)
        self.done_bytes = Signal(BYTES)
        # port
        self.post = Signal()
        self.addr = Signal(ADDR_BITS)
        self.nbytes = Signal(bytes_bits)
        self.done = Signal()
        self.beat = Signal()
        self.beat_data = Signal(p.beat_bytes * 8)
        self.pending = Signal()
        # line buffer read: three column word addresses, data per slot and column
        self.lb_addr = [Signal(range(max(2, p.lb_depth)), name=f"lb_addr{dx}") for dx in range(3)]
        self.lb_data = [
            [Signal(p.lb_word_bytes * 8, name=f"lb_data{s}_{dx}") for dx in range(3)]
            for s in range(p.rows)
        ]

    def elaborate(self, platform: object) -> Module:
        m = Module()
        p = self.p
        d = self.d
        total_rows = Signal(BIG)
        m.d.comb += total_rows.eq(d["batch"] * d["rows_read"])
        # walker of the next chunk
        big_r = Signal(BIG)
        r_in = Signal(COORD)
        slot = Signal(range(p.rows))
        row_off = Signal(BIG)  # DDR offset of the next row from in_base
        g0 = Signal(BYTES)
        c0 = Signal(COORD)
        rem0 = Signal(BYTES)
        # walker of the freeing row R - rows (valid once R >= rows)
        pb = Signal(COORD)
        pr = Signal(COORD)
        # the chunk
        g_end = Signal(BYTES + 1)
        last_in_row = Signal()
        m.d.comb += [
            g_end.eq(g0 + d["chunk_bytes"]),
            last_in_row.eq(g_end >= d["row_fetch_bytes"]),
        ]
        g1 = Signal(BYTES)
        m.d.comb += g1.eq(Mux(last_in_row, d["row_fetch_bytes"], g_end))
        # next chunk start (column, byte within pixel)
        rem_sum = Signal(BYTES + 1)
        carry = Signal()
        c0n = Signal(COORD)
        rem0n = Signal(BYTES)
        m.d.comb += [
            rem_sum.eq(rem0 + d["chunk_rem"]),
            carry.eq(rem_sum >= d["pix_bytes"]),
            c0n.eq(c0 + d["chunk_cols"] + carry),
            rem0n.eq(Mux(carry, rem_sum - d["pix_bytes"], rem_sum)),
        ]
        # freeing pixel
        s2 = d["stride2"]
        pad = d["pad"]
        c_hi = Signal(COORD)
        m.d.comb += c_hi.eq(Mux(rem0n == 0, c0n - 1, c0n))
        fy_raw = Signal(COORD)
        fx_raw = Signal(COORD)
        fy = Signal(COORD)
        fx = Signal(COORD)
        m.d.comb += [
            fy_raw.eq(Mux(s2, (pr + pad) >> 1, pr + pad)),
            fx_raw.eq(Mux(s2, (c_hi + pad) >> 1, c_hi + pad)),
            fy.eq(Mux(fy_raw > d["out_h"] - 1, d["out_h"] - 1, fy_raw)),
            fx.eq(Mux(last_in_row | (fx_raw > d["out_w"] - 1), d["out_w"] - 1, fx_raw)),
        ]
        finished = Signal()
        m.d.comb += finished.eq(
            self.pe_all
            | (pb < self.pe_b)
            | ((pb == self.pe_b) & (fy < self.pe_y))
            | ((pb == self.pe_b) & (fy == self.pe_y) & (fx < self.pe_x))
        )
        free = Signal()
        m.d.comb += free.eq((big_r < p.rows) | finished)
        m.d.comb += [
            self.post.eq(self.active & ~self.pending & (big_r < total_rows) & free),
            self.addr.eq(d["in_base"] + row_off + g0),
            self.nbytes.eq(g1 - g0),
        ]
        # in flight
        fl_slot = Signal.like(slot)
        fl_last = Signal()
        fl_g1 = Signal(BYTES)
        bo = Signal(BYTES)  # slot byte offset of the next beat
        left = Signal(len(self.nbytes))
        with m.If(self.post):
            m.d.sync += [
                self.pending.eq(1), fl_slot.eq(slot), fl_last.eq(last_in_row), fl_g1.eq(g1),
                bo.eq(g0), left.eq(g1 - g0),
            ]  # fmt: skip
            with m.If(last_in_row):
                m.d.sync += [
                    big_r.eq(big_r + 1),
                    slot.eq(Mux(slot == p.rows - 1, 0, slot + 1)),
                    g0.eq(0), c0.eq(0), rem0.eq(0),
                ]  # fmt: skip
                with m.If(r_in + 1 == d["rows_read"]):
                    m.d.sync += [r_in.eq(0), row_off.eq(row_off + d["image_skip"])]
                with m.Else():
                    m.d.sync += [r_in.eq(r_in + 1), row_off.eq(row_off + d["row_stride"])]
                with m.If(big_r >= p.rows):
                    with m.If(pr + 1 == d["rows_read"]):
                        m.d.sync += [pr.eq(0), pb.eq(pb + 1)]
                    with m.Else():
                        m.d.sync += pr.eq(pr + 1)
            with m.Else():
                m.d.sync += [g0.eq(g_end), c0.eq(c0n), rem0.eq(rem0n)]
        with m.If(self.done):
            m.d.sync += self.pending.eq(0)
            with m.If(fl_last):
                m.d.sync += [self.r_done.eq(self.r_done + 1), self.done_bytes.eq(0)]
            with m.Else():
                m.d.sync += self.done_bytes.eq(fl_g1)
        # line buffer
        word_log2 = p.lb_word_bytes.bit_length() - 1
        lane_log2 = p.lb_lane_bytes.bit_length() - 1
        nb = Signal(range(p.beat_bytes + 1))
        m.d.comb += nb.eq(Mux(left < p.beat_bytes, left, p.beat_bytes))
        for s in range(p.rows):
            ram = LaneRam(
                word_bytes=p.lb_word_bytes, lane_bytes=p.lb_lane_bytes, beat_bytes=p.beat_bytes,
                depth=p.lb_depth, n_read=3, straddle=p.lb_straddle,
            )  # fmt: skip
            m.submodules[f"slot{s}"] = ram
            m.d.comb += [
                ram.w_en.eq(self.beat & (fl_slot == s)),
                ram.w_word.eq(bo >> word_log2),
                ram.w_lane.eq((bo & (p.lb_word_bytes - 1)) >> lane_log2),
                ram.w_nlanes.eq(nb >> lane_log2),
                ram.w_data.eq(self.beat_data),
            ]
            for dx in range(3):
                m.d.comb += [ram.r_addr[dx].eq(self.lb_addr[dx]),
                             self.lb_data[s][dx].eq(ram.r_data[dx])]  # fmt: skip
        with m.If(self.beat):
            m.d.sync += [bo.eq(bo + nb), left.eq(left - nb)]
        # per-layer reset (after everything else: last assignment wins)
        with m.If(self.reset):
            m.d.sync += [
                big_r.eq(0), r_in.eq(0), slot.eq(0), g0.eq(0), c0.eq(0), rem0.eq(0),
                pb.eq(0), pr.eq(0), self.r_done.eq(0), self.done_bytes.eq(0),
                row_off.eq(0),
            ]  # fmt: skip
        return m
