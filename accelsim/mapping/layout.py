"""How one pass of a core layer is cut into grants and pixels (spec sections 2, 3.3, 3.5, 7).

A core layer runs as passes, group outer, tile, strip inner (spec 7.2-7.4; generation 1: one
pass). Each pass is a complete run of the machine over every image of the batch: its reader
fetches the input, its PE array computes its output pixels (the strip's columns, the tile's ob
batches, the group's channels) and its writer writes them. :func:`make_passes` gives each pass
its :class:`PassLayout`, pure arrays the blocks read:

- Reads: the input rows some output row reads (:func:`~accelsim.mapping.geometry.read_rows`),
  image after image; fetched row ``R`` of the pass lives in line-buffer slot ``R mod rows``.
  Within a row the strip's columns ``c_lo .. c_hi``: one segment (contiguous in DDR) for a dense
  conv, one segment per pixel (the group's channel slice) for a grouped one. Segments are cut
  into chunks (grants) of at most ``grant_bytes // in_group`` groups, never spanning two.
- ``need_chunk[i]``: the chunk that completes conv pixel ``i``'s window: the one holding the
  last group of its bottom-right stored pixel ``(min(H-1, s*y-p+k-1), min(c_hi, s*x-p+k-1))``
  (reads complete in address order).
- ``free_px[k]``: chunk ``k`` of fetched row ``R >= rows`` overwrites row ``R - rows``; the
  stored pixel ``(r, c)`` at its last column is freed by conv pixel
  ``(min(H_o-1, (r+p)//s), min(x1, (c+p)//s))`` of the same image (-1: nothing to wait for).
- Outputs: a stream of groups, output pixel after output pixel (raster, image after image; a
  fused pool's pooled pixels), ``m`` groups each (the pass's ob batches). Output pixel ``o`` is
  emitted by conv pixel ``emitter[o]`` (itself without a pool); conv pixel ``i`` reserves
  ``reserve[i]`` FIFO groups when it starts. A write grant never crosses a segment of
  ``seg_groups`` groups: an output row of the pass, or one pixel's slice when the layer is
  tiled or grouped (spec 7.3).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.config.schema import HwConfig
from accelsim.mapping.addresses import AddressMap
from accelsim.mapping.geometry import pool_order, read_columns, read_rows
from accelsim.mapping.placement import LayerPlan, Placement
from accelsim.mapping.resources import ceil_div


@dataclass(frozen=True)
class WeightSet:
    """The weights of one (group, tile) of a core layer: one bank's load (spec 3.2, 7.3)."""

    index: int  # counts weight sets across the network; the bank is index % 2
    layer: int
    address: int
    nbytes: int
    grant_bytes: int

    @property
    def bank(self) -> int:
        return self.index % 2

    def grants(self) -> list[tuple[int, int]]:
        """(address, bytes) of the load's grants, in the order the PE consumes the weights."""
        return [
            (self.address + off, min(self.grant_bytes, self.nbytes - off))
            for off in range(0, self.nbytes, self.grant_bytes)
        ]


@dataclass(frozen=True)
class PassLayout:
    """Grant and pixel geometry of one pass of a core layer (all images of the batch)."""

    layer: int  # the layer's index in the network
    name: str
    number: int  # the pass's number within its layer
    weight_set: WeightSet
    batch: int
    in_h: int
    in_w: int
    out_h: int  # conv output rows
    x0: int  # the strip's output columns
    x1: int
    kernel: int
    stride: int
    padding: int
    n_ib: int
    m: int  # ob batches of this pass
    step_ob: int  # PE cycles per (conv pixel, ob batch)
    rows: int  # line-buffer row slots
    in_group_bytes: int
    out_group_bytes: int
    fetched_rows: np.ndarray  # input rows of one image the reader fetches
    c_lo: int  # the pass's fetched columns
    c_hi: int
    grouped: bool  # one read segment per pixel (a grouped conv)
    chunk_groups: int  # groups per full read chunk
    chunk_addr: np.ndarray  # per read chunk
    chunk_bytes: np.ndarray
    need_chunk: np.ndarray  # per conv pixel
    free_px: np.ndarray  # per read chunk
    pooled: bool  # a fused pool: outputs are pooled pixels
    out_px: int  # output pixels of the pass (all images)
    emitter: np.ndarray  # per output pixel: the conv pixel that emits it
    opener: np.ndarray  # per output pixel: the conv pixel that opens it (pool buffer)
    reserve: np.ndarray  # per conv pixel: FIFO groups reserved at its start
    cum_reserve: np.ndarray  # per conv pixel: groups reserved through it
    fifo_full: int  # waiting groups at which the writer flushes: groups - max reservation + 1
    seg_groups: int  # groups per write segment
    out_chunk_groups: int  # groups per full write grant
    out_addr: np.ndarray  # per output pixel: DDR address of its first group

    @property
    def out_w(self) -> int:
        """Conv output columns of the pass (the strip's width)."""
        return self.x1 - self.x0 + 1

    @property
    def n_px(self) -> int:
        """Conv pixels of the pass (all images)."""
        return self.batch * self.out_h * self.out_w

    @property
    def n_chunks(self) -> int:
        return len(self.chunk_addr)

    @property
    def n_groups(self) -> int:
        """Output groups of the pass (all images)."""
        return self.out_px * self.m

    @property
    def cycles_per_px(self) -> int:
        return self.m * self.step_ob

    def stored_pixels(self) -> tuple[np.ndarray, np.ndarray]:
        """For every stored input pixel: (chunk holding its last group, conv pixel freeing it)."""
        nr = len(self.fetched_rows)
        ncols = self.c_hi - self.c_lo + 1
        b = np.arange(self.batch, dtype=np.int64)[:, None, None]
        i = np.arange(nr, dtype=np.int64)[None, :, None]
        c = np.arange(self.c_lo, self.c_hi + 1, dtype=np.int64)[None, None, :]
        last = _chunk_of(
            b * nr + i, c, self.c_lo, ncols, self.n_ib, self.chunk_groups, self.grouped
        )
        r = self.fetched_rows[i]
        fy = np.minimum(self.out_h - 1, (r + self.padding) // self.stride)
        fx = np.minimum(self.x1, (c + self.padding) // self.stride) - self.x0
        freed = (b * self.out_h + fy) * self.out_w + fx
        shape = (self.batch, nr, ncols)
        return np.broadcast_to(last, shape).ravel(), np.broadcast_to(freed, shape).ravel()


def _segments(ncols: int, n_ib: int, cg: int, grouped: bool) -> tuple[int, int, int]:
    """(segments per fetched row, groups per segment, chunks per segment)."""
    if grouped:
        return ncols, n_ib, ceil_div(n_ib, cg)
    groups = ncols * n_ib
    return 1, groups, ceil_div(groups, cg)


def _chunk_of(
    row: np.ndarray, col: np.ndarray, c_lo: int, ncols: int, n_ib: int, cg: int, grouped: bool
) -> np.ndarray:
    """The chunk holding the last group of stored pixel ``col`` of fetched row ``row``."""
    segs, _, cps = _segments(ncols, n_ib, cg, grouped)
    if grouped:
        return (row * segs + (col - c_lo)) * cps + cps - 1
    return row * cps + ((col - c_lo) * n_ib + n_ib - 1) // cg


@dataclass(frozen=True)
class _Shared:
    """What the passes of one (group, strip) share whatever their output-channel tile: the read
    side, the windows and the output pixels (arrays are never written after they are made)."""

    rows_img: np.ndarray
    c_lo: int
    c_hi: int
    cg: int
    addr: np.ndarray
    nbytes: np.ndarray
    free: np.ndarray
    need: np.ndarray
    emitter: np.ndarray
    opener: np.ndarray
    count: np.ndarray
    out_w: int
    img_px: int
    out_addr: np.ndarray  # without the tile's slice offset


def _shared_part(
    plan: LayerPlan, hw: HwConfig, batch: int, amap: AddressMap, group: int,
    strip: tuple[int, int],
) -> _Shared:  # fmt: skip
    h, w, ho, wo = plan.in_h, plan.in_w, plan.out_h, plan.out_w
    k, s, p = plan.kernel, plan.stride, plan.padding
    n_ib, igb, ogb = plan.n_ib, plan.in_group_bytes, plan.out_group_bytes
    x0, x1 = strip
    wp = x1 - x0 + 1
    grouped = plan.groups > 1
    rows_img = read_rows(h, ho, k, s, p)
    nr = len(rows_img)
    c_lo, c_hi = read_columns(w, x0, x1, k, s, p)
    ncols = c_hi - c_lo + 1
    cg = max(1, hw.axi.grant_bytes // igb)
    segs, seg_g, cps = _segments(ncols, n_ib, cg, grouped)
    # --- read chunks: image, fetched row, segment, chunk
    px_in = plan.groups * n_ib * igb
    in_base = amap.feature[plan.layer.inputs[0]]
    n_rows = batch * nr
    R = np.repeat(np.arange(n_rows, dtype=np.int64), segs * cps)
    seg = np.tile(np.repeat(np.arange(segs, dtype=np.int64), cps), n_rows)
    j = np.tile(np.arange(cps, dtype=np.int64), n_rows * segs)
    b, i = np.divmod(R, nr)
    r = rows_img[i]
    g0 = j * cg
    g1 = np.minimum(g0 + cg, seg_g)
    col0 = c_lo + seg  # first column of the segment (dense: c_lo)
    addr = in_base + ((b * h + r) * w + col0) * px_in + group * n_ib * igb + g0 * igb
    nbytes = (g1 - g0) * igb
    last_col = col0 + (g1 - 1) // n_ib
    prev = R - hw.line_buffer.rows
    pb, pi = np.divmod(np.maximum(prev, 0), nr)
    pr = rows_img[pi]
    fy = np.minimum(ho - 1, (pr + p) // s)
    fx = np.minimum(x1, (last_col + p) // s)
    assert np.all(fx >= x0)
    free = np.where(prev >= 0, (pb * ho + fy) * wp + (fx - x0), -1)
    # --- windows: the chunk completing each conv pixel's window
    y = np.arange(ho, dtype=np.int64)
    x = np.arange(x0, x1 + 1, dtype=np.int64)
    r_last = np.minimum(h - 1, s * y - p + k - 1)
    i_last = np.searchsorted(rows_img, r_last)
    c_last = np.minimum(c_hi, s * x - p + k - 1)
    bb = np.arange(batch, dtype=np.int64)[:, None, None]
    need = _chunk_of(
        bb * nr + i_last[None, :, None], c_last[None, None, :], c_lo, ncols, n_ib, cg, grouped
    )
    need = np.ascontiguousarray(np.broadcast_to(need, (batch, ho, wp)).ravel())
    # --- outputs
    n_px = batch * ho * wp
    out_base = amap.feature[plan.name]
    out_px_bytes = plan.groups * plan.n_ob * ogb
    pool = plan.pool
    if pool is None:
        out_h, out_w = ho, wo
        emitter = np.arange(n_px, dtype=np.int64)
        opener = emitter
        count = np.ones(n_px, dtype=np.int64)
        oy, ox = np.divmod(np.arange(ho * wp, dtype=np.int64), wp)
        ox = ox + x0
    else:
        assert (x0, x1) == (0, wo - 1), "a fused pool's conv runs in one strip"
        out_h, out_w = pool.out_h, pool.out_w
        order = pool_order(ho, wo, out_h, out_w, pool.kernel, pool.stride, pool.padding)
        per = out_h * out_w
        shift = np.arange(batch, dtype=np.int64)[:, None] * (ho * wo)
        emitter = (order.emit[None, :] + shift).ravel()
        opener = (order.first[None, :] + shift).ravel()
        count = np.tile(order.count, batch)
        oy, ox = np.divmod(np.arange(per, dtype=np.int64), out_w)
    ob_idx = np.arange(batch, dtype=np.int64)[:, None]
    out_addr = (out_base + ((ob_idx * out_h + oy[None, :]) * out_w + ox[None, :]) * out_px_bytes
                + group * plan.n_ob * ogb).ravel()  # fmt: skip
    return _Shared(
        rows_img=rows_img, c_lo=c_lo, c_hi=c_hi, cg=cg, addr=addr, nbytes=nbytes, free=free,
        need=need, emitter=emitter, opener=opener, count=count, out_w=out_w, img_px=len(oy),
        out_addr=out_addr,
    )  # fmt: skip


def _pass_layout(
    plan: LayerPlan, hw: HwConfig, batch: int, number: int, wset: WeightSet, tile: int,
    strip: tuple[int, int], sh: _Shared,
) -> PassLayout:  # fmt: skip
    """One pass: the (group, strip)'s shared part and what its tile changes."""
    x0, x1 = strip
    wp = x1 - x0 + 1
    t_lo, t_hi = plan.tile_range(tile)
    m = t_hi - t_lo
    ogb = plan.out_group_bytes
    reserve = sh.count * m
    per_pixel_slices = plan.groups > 1 or plan.tiles > 1
    seg_groups = m if per_pixel_slices else (sh.out_w if plan.pool is not None else wp) * m
    out_addr = sh.out_addr + t_lo * ogb if t_lo else sh.out_addr
    return PassLayout(
        layer=plan.index, name=plan.name, number=number, weight_set=wset, batch=batch,
        in_h=plan.in_h, in_w=plan.in_w, out_h=plan.out_h, x0=x0, x1=x1, kernel=plan.kernel,
        stride=plan.stride, padding=plan.padding, n_ib=plan.n_ib, m=m, step_ob=plan.step_ob,
        rows=hw.line_buffer.rows, in_group_bytes=plan.in_group_bytes, out_group_bytes=ogb,
        fetched_rows=sh.rows_img, c_lo=sh.c_lo, c_hi=sh.c_hi, grouped=plan.groups > 1,
        chunk_groups=sh.cg, chunk_addr=sh.addr, chunk_bytes=sh.nbytes, need_chunk=sh.need,
        free_px=sh.free, pooled=plan.pool is not None, out_px=batch * sh.img_px,
        emitter=sh.emitter, opener=sh.opener, reserve=reserve, cum_reserve=np.cumsum(reserve),
        fifo_full=hw.output_fifo.groups - int(reserve.max()) + 1,
        seg_groups=seg_groups, out_chunk_groups=max(1, hw.axi.grant_bytes // ogb),
        out_addr=out_addr,
    )  # fmt: skip


def make_passes(placement: Placement, amap: AddressMap) -> list[list[PassLayout]]:
    """Every core layer's passes, in network order (group outer, tile, strip inner); weight
    sets are numbered across the network, so set ``n`` loads into bank ``n % 2``."""
    hw = placement.hw
    batch = placement.network.batch
    out: list[list[PassLayout]] = []
    n_set = 0
    for plan in placement.plans:
        if plan.where != "core":
            continue
        passes: list[PassLayout] = []
        base = amap.weight[plan.name]
        for group in range(plan.groups):
            shared = {strip: _shared_part(plan, hw, batch, amap, group, strip)
                      for strip in plan.strips}  # fmt: skip
            for tile in range(plan.tiles):
                lo, hi = plan.tile_range(tile)
                wset = WeightSet(
                    index=n_set, layer=plan.index,
                    address=base + (group * plan.n_ob + lo) * plan.ob_weight_bytes,
                    nbytes=(hi - lo) * plan.ob_weight_bytes, grant_bytes=hw.axi.grant_bytes,
                )  # fmt: skip
                n_set += 1
                for strip in plan.strips:
                    passes.append(
                        _pass_layout(
                            plan, hw, batch, len(passes), wset, tile, strip, shared[strip]
                        )
                    )
        out.append(passes)
    return out
