"""Window geometry of a core layer: what the reader fetches, strips, and the fused pool's order.

Pure integer functions (spec sections 3.3, 7.1, 7.2, 7.4) shared by the placement (which needs
counts and maxima) and the layout (which needs the arrays):

- :func:`read_rows`: the input rows some output row reads (a k x k window, stride s, padding p);
  contiguous from row 0 unless the kernel is narrower than the stride (1x1 stride 2 reads every
  other row);
- :func:`read_columns`: the contiguous range of input columns a range of output columns reads
  (the reader fetches from the first to the last, spec 7.2);
- :func:`column_strips`: the vertical strips of spec 7.4, as wide as fit a line-buffer slot;
- :func:`pool_order`: for a fused max-pool (spec 7.1), which conv pixel completes, opens and
  emits each pooled pixel, pooled pixels leaving in raster order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


def read_rows(size: int, out_size: int, kernel: int, stride: int, padding: int) -> np.ndarray:
    """Sorted input indices in ``[0, size)`` some output ``y`` reads (``s*y-p .. s*y-p+k-1``)."""
    starts = np.arange(out_size, dtype=np.int64) * stride - padding
    idx = (starts[:, None] + np.arange(kernel, dtype=np.int64)[None, :]).ravel()
    idx = idx[(idx >= 0) & (idx < size)]
    return np.unique(idx)


def read_columns(
    size: int, x0: int, x1: int, kernel: int, stride: int, padding: int
) -> tuple[int, int]:
    """First and last input column output columns ``x0 .. x1`` read: the fetched range."""
    return max(0, stride * x0 - padding), min(size - 1, stride * x1 - padding + kernel - 1)


def column_strips(
    size: int, out_size: int, kernel: int, stride: int, padding: int, max_columns: int
) -> tuple[tuple[int, int], ...] | None:
    """Output-column strips ``(x0, x1)``, greedy from the left, each reading at most
    ``max_columns`` input columns; ``None`` if a single output column reads more."""
    strips = []
    x0 = 0
    while x0 < out_size:
        lo, hi = read_columns(size, x0, x0, kernel, stride, padding)
        if hi - lo + 1 > max_columns:
            return None
        x1 = x0
        while x1 + 1 < out_size:
            lo, hi = read_columns(size, x0, x1 + 1, kernel, stride, padding)
            if hi - lo + 1 > max_columns:
                break
            x1 += 1
        strips.append((x0, x1))
        x0 = x1 + 1
    return tuple(strips)


@dataclass(frozen=True)
class PoolOrder:
    """A fused pool over one image's conv map (raster indices ``y * W + x`` of the conv map).

    ``emit[o]``: the conv pixel whose pipeline exit puts pooled pixel ``o`` (raster) into the FIFO
    (the latest completing conv pixel of pooled pixels ``0 .. o``); ``first[o]``: the conv pixel
    that opens it (the window's top-left); ``count[i]``: pooled pixels conv pixel ``i`` emits.
    """

    emit: np.ndarray
    first: np.ndarray
    count: np.ndarray

    @property
    def max_emitted(self) -> int:
        """The most pooled pixels one conv pixel emits at once."""
        return int(self.count.max()) if len(self.count) else 0

    @property
    def max_open(self) -> int:
        """The most pooled pixels open (partial maxima held) after some conv pixel's exit."""
        n = len(self.count)
        opened = np.cumsum(np.bincount(self.first, minlength=n))
        closed = np.cumsum(self.count)
        return int((opened - closed).max()) if n else 0


def pool_order(
    conv_h: int, conv_w: int, out_h: int, out_w: int, kernel: int, stride: int, padding: int
) -> PoolOrder:
    """The emission order of a max-pool fused after a conv (spec 7.1, one image)."""
    py = np.arange(out_h, dtype=np.int64)
    px = np.arange(out_w, dtype=np.int64)
    last_y = np.minimum(conv_h - 1, py * stride - padding + kernel - 1)
    last_x = np.minimum(conv_w - 1, px * stride - padding + kernel - 1)
    first_y = np.maximum(0, py * stride - padding)
    first_x = np.maximum(0, px * stride - padding)
    done = (last_y[:, None] * conv_w + last_x[None, :]).ravel()
    emit = np.maximum.accumulate(done)
    first = (first_y[:, None] * conv_w + first_x[None, :]).ravel()
    count = np.bincount(emit, minlength=conv_h * conv_w)
    return PoolOrder(emit=emit, first=first, count=count)
