"""How one core layer's data is laid out and cut into grants (spec sections 2, 3.3, 3.5).

Pure functions of a layer plan and the config; the blocks get these arrays from the wiring.

- The input is a stream of rows (image after image, HWC in DDR, channels padded to ``n_ib``
  groups of ``ic_batch``). Only the rows and columns some output reads are fetched: rows
  ``0 .. min(H, s*(H_o-1) - p + 3) - 1`` of each image and, of each, the columns
  ``0 .. min(W, s*(W_o-1) - p + 3) - 1`` (a stride-2 layer may never read its last row or
  column; fetching them would let the layer's last write complete while the reader still runs,
  which spec 3.6 does not allow for). The ``R``-th fetched row lives in line-buffer slot ``R mod rows``.
  Each row is read in chunks of at most ``grant_bytes // in_group_bytes`` groups, never spanning
  two rows.
- Output pixels run in raster order, image after image; pixel ``i`` is ``(b, y, x)``. Its window
  needs input rows ``s*y-p .. s*y-p+2`` and columns ``s*x-p .. s*x-p+2`` (clipped to the image);
  since reads complete in address order, the window is usable once the chunk holding the last
  group of its bottom-right stored pixel is: ``need_chunk[i]``.
- A chunk of row ``R >= rows`` may be requested once the pixels of row ``R - rows`` it overwrites
  are no longer needed: input pixel ``(r, c)`` is freed by output pixel
  ``(min(H_o-1, (r+p)//s), min(W_o-1, (c+p)//s))`` of the same image: ``free_px[k]``.
- Outputs are a stream of groups ``(b, y, x, ob)``; group ``g`` belongs to pixel ``g // n_ob``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from accelsim.config.schema import HwConfig
from accelsim.mapping.placement import LayerPlan, fetched_extent
from accelsim.mapping.resources import ceil_div


@dataclass(frozen=True)
class LayerLayout:
    """Grant and pixel geometry of one core layer run (all images of the batch)."""

    batch: int
    in_h: int
    in_w: int
    out_h: int
    out_w: int
    stride: int
    padding: int
    n_ib: int
    n_ob: int
    passes: int
    rows: int  # line-buffer row slots
    in_group_bytes: int
    out_group_bytes: int
    in_base: int
    out_base: int
    weight_base: int
    weight_bytes: int
    grant_bytes: int
    chunks_per_row: int
    chunk_groups: int  # groups per read grant (the last chunk of a row may be shorter)
    out_chunk_groups: int  # groups per full write grant
    need_chunk: np.ndarray  # per output pixel: the read chunk that completes its window
    free_px: np.ndarray  # per read chunk: the output pixel that frees its slot, or -1

    @property
    def n_px(self) -> int:
        return self.batch * self.out_h * self.out_w

    @property
    def rows_used(self) -> int:
        """Rows of each image the reader fetches (the last row any output reads, plus one)."""
        return fetched_extent(self.in_h, self.out_h, self.stride, self.padding)

    @property
    def n_chunks(self) -> int:
        return self.batch * self.rows_used * self.chunks_per_row

    @property
    def cols_used(self) -> int:
        """Columns of each row the reader fetches (the last column any output reads, plus one)."""
        return fetched_extent(self.in_w, self.out_w, self.stride, self.padding)

    @property
    def row_groups(self) -> int:
        """Groups fetched per row."""
        return self.cols_used * self.n_ib

    @property
    def ddr_row_groups(self) -> int:
        """Groups per row in DDR (the row stride)."""
        return self.in_w * self.n_ib

    @property
    def out_row_groups(self) -> int:
        return self.out_w * self.n_ob

    @property
    def n_groups(self) -> int:
        return self.n_px * self.n_ob

    @property
    def cycles_per_px(self) -> int:
        return self.n_ob * self.n_ib * self.passes

    def chunk(self, k: int) -> tuple[int, int, int]:
        """(address, bytes, first group in row) of read chunk ``k``."""
        big_r, j = divmod(k, self.chunks_per_row)
        b, r = divmod(big_r, self.rows_used)
        g0 = j * self.chunk_groups
        g1 = min(g0 + self.chunk_groups, self.row_groups)
        row_start = (b * self.in_h + r) * self.ddr_row_groups
        addr = self.in_base + (row_start + g0) * self.in_group_bytes
        return addr, (g1 - g0) * self.in_group_bytes, g0

    def chunk_bytes(self) -> np.ndarray:
        """Bytes of every read chunk."""
        j = np.arange(self.n_chunks, dtype=np.int64) % self.chunks_per_row
        g0 = j * self.chunk_groups
        g1 = np.minimum(g0 + self.chunk_groups, self.row_groups)
        return (g1 - g0) * self.in_group_bytes

    def weight_chunks(self) -> list[tuple[int, int]]:
        """(address, bytes) of the weight grants, in the order the PE consumes the weights."""
        out = []
        off = 0
        while off < self.weight_bytes:
            n = min(self.grant_bytes, self.weight_bytes - off)
            out.append((self.weight_base + off, n))
            off += n
        return out


def make_layout(
    plan: LayerPlan, hw: HwConfig, batch: int, in_base: int, out_base: int, weight_base: int
) -> LayerLayout:
    lay = plan.layer
    h, w = lay.in_h, lay.in_w
    ho, wo = lay.out_h, lay.out_w
    s, p = lay.stride, lay.padding
    n_ib = plan.n_ib
    rows = hw.line_buffer.rows
    chunk_groups = max(1, hw.axi.grant_bytes // plan.in_group_bytes)
    rows_used = fetched_extent(h, ho, s, p)
    cols_used = fetched_extent(w, wo, s, p)
    row_groups = cols_used * n_ib
    cpr = ceil_div(row_groups, chunk_groups)
    # need_chunk: bottom-right stored pixel of each output pixel's window
    y = np.arange(ho, dtype=np.int64)
    x = np.arange(wo, dtype=np.int64)
    r_last = np.minimum(h - 1, s * y - p + 2)
    c_last = np.minimum(w - 1, s * x - p + 2)
    chunk_in_row = (c_last * n_ib + n_ib - 1) // chunk_groups
    b = np.arange(batch, dtype=np.int64)
    need = (b[:, None, None] * rows_used + r_last[None, :, None]) * cpr + chunk_in_row[
        None, None, :
    ]
    # free_px: for chunk k of row R >= rows, the output pixel freeing row R - rows's columns
    n_chunks = batch * rows_used * cpr
    k = np.arange(n_chunks, dtype=np.int64)
    big_r, j = np.divmod(k, cpr)
    g1 = np.minimum((j + 1) * chunk_groups, row_groups)
    c_hi = (g1 - 1) // n_ib
    prev = big_r - rows
    pb, pr = np.divmod(np.maximum(prev, 0), rows_used)
    fy = np.minimum(ho - 1, (pr + p) // s)
    fx = np.minimum(wo - 1, (c_hi + p) // s)
    free = np.where(prev >= 0, (pb * ho + fy) * wo + fx, -1)
    return LayerLayout(
        batch=batch, in_h=h, in_w=w, out_h=ho, out_w=wo, stride=s, padding=p,
        n_ib=n_ib, n_ob=plan.n_ob, passes=plan.passes, rows=rows,
        in_group_bytes=plan.in_group_bytes, out_group_bytes=plan.out_group_bytes,
        in_base=in_base, out_base=out_base, weight_base=weight_base,
        weight_bytes=plan.weight_bytes, grant_bytes=hw.axi.grant_bytes,
        chunks_per_row=cpr, chunk_groups=chunk_groups,
        out_chunk_groups=max(1, hw.axi.grant_bytes // plan.out_group_bytes),
        need_chunk=need.reshape(-1), free_px=free,
    )  # fmt: skip
