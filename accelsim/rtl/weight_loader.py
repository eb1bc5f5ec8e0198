"""Weight loader and the two ping-pong weight banks, as hardware (spec §3.2).

The loader walks the core layers in order (``wl``), independently of the layer being computed.
Layer ``wl`` loads into bank ``wl mod 2``; for ``wl >= 2`` its first request waits until the PE
array has finished layer ``wl - 2`` (the bank's previous user): ``pe_layers_done >= wl - 1``.
Each request is at most ``grant_bytes``, in address order (the order the PE consumes the
weights); one is outstanding at a time. ``loaded`` counts layers whose last grant completed: the
PE may start layer ``L`` once ``loaded > L``.

The banks are one memory of ``2 * bank_blocks`` words, a word being one PE cycle's weights
(``9 * ic * oc * weight_bits`` bits); bank ``b`` is the address range
``[b * bank_blocks, (b + 1) * bank_blocks)``. Beats are written where they belong in the stream
of the layer's words (lanes of :class:`~accelsim.rtl.lanes.LaneRam`).
"""

from __future__ import annotations

from amaranth.hdl import Elaboratable, Module, Mux, Signal

from accelsim.rtl.lanes import LaneRam
from accelsim.rtl.params import ADDR_BITS, RtlParams


class WeightLoader(Elaboratable):
    def __init__(self, p: RtlParams, bytes_bits: int, layer_bits: int) -> None:
        self.p = p
        self.run = Signal()
        self.n_layers = Signal(layer_bits + 1)
        self.wl = Signal(layer_bits + 1)  # layer being requested (to the layer table)
        self.w_base = Signal(ADDR_BITS)  # of layer wl
        self.w_bytes = Signal(ADDR_BITS)  # of layer wl
        self.pe_layers_done = Signal(layer_bits + 1)
        self.loaded = Signal(layer_bits + 1)
        # port
        self.post = Signal()
        self.addr = Signal(ADDR_BITS)
        self.nbytes = Signal(bytes_bits)
        self.done = Signal()
        self.beat = Signal()  # a read beat of this stream's grant
        self.beat_data = Signal(p.beat_bytes * 8)
        # bank read (PE)
        self.r_bank = Signal()
        self.r_block = Signal(range(max(2, p.bank_blocks)))
        self.r_data = Signal(p.block_bits)
        # occupancy / state for the outside
        self.pending = Signal()

    def elaborate(self, platform: object) -> Module:
        m = Module()
        p = self.p
        lane = p.wb_lane_bytes
        m.submodules.banks = banks = LaneRam(
            word_bytes=p.block_bytes, lane_bytes=lane, beat_bytes=p.beat_bytes,
            depth=2 * p.bank_blocks, n_read=1, straddle=p.wb_straddle,
        )  # fmt: skip
        off = Signal(ADDR_BITS)  # bytes of layer wl requested so far
        fl_layer = Signal.like(self.wl)  # layer of the request in flight
        fl_last = Signal()
        # where the next beat lands: word (block) and byte offset within it; bytes left in grant
        blk = Signal(range(max(2, p.bank_blocks + 1)))
        boff = Signal(range(max(2, p.block_bytes)))
        left = Signal(len(self.nbytes))
        remaining = Signal(ADDR_BITS)
        n = Signal(len(self.nbytes))
        m.d.comb += [
            remaining.eq(self.w_bytes - off),
            n.eq(Mux(remaining < p.grant_bytes, remaining, p.grant_bytes)),
        ]
        bank_free = Signal()
        m.d.comb += bank_free.eq((self.wl < 2) | (self.pe_layers_done + 1 >= self.wl))
        m.d.comb += [
            self.post.eq(self.run & ~self.pending & (self.wl < self.n_layers) & bank_free),
            self.addr.eq(self.w_base + off),
            self.nbytes.eq(n),
        ]
        with m.If(self.post):
            last = off + n == self.w_bytes
            m.d.sync += [self.pending.eq(1), fl_layer.eq(self.wl), fl_last.eq(last),
                         left.eq(n)]  # fmt: skip
            with m.If(off == 0):
                m.d.sync += [blk.eq(0), boff.eq(0)]
            with m.If(last):
                m.d.sync += [self.wl.eq(self.wl + 1), off.eq(0)]
            with m.Else():
                m.d.sync += off.eq(off + n)
        # beats
        nb = Signal(range(p.beat_bytes + 1))
        m.d.comb += nb.eq(Mux(left < p.beat_bytes, left, p.beat_bytes))
        lane_log2 = lane.bit_length() - 1
        m.d.comb += [
            banks.w_en.eq(self.beat),
            banks.w_word.eq(Mux(fl_layer[0], p.bank_blocks, 0) + blk),
            banks.w_lane.eq(boff >> lane_log2),
            banks.w_nlanes.eq(nb >> lane_log2),
            banks.w_data.eq(self.beat_data),
        ]
        with m.If(self.beat):
            m.d.sync += left.eq(left - nb)
            nxt = boff + nb
            with m.If(nxt >= p.block_bytes):
                m.d.sync += [blk.eq(blk + 1), boff.eq(nxt - p.block_bytes)]
            with m.Else():
                m.d.sync += boff.eq(nxt)
        with m.If(self.done):
            m.d.sync += self.pending.eq(0)
            with m.If(fl_last):
                m.d.sync += self.loaded.eq(self.loaded + 1)
        m.d.comb += [
            banks.r_addr[0].eq(Mux(self.r_bank, p.bank_blocks, 0) + self.r_block),
            self.r_data.eq(banks.r_data[0]),
        ]
        return m
