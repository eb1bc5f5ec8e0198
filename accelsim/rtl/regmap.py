"""The core's configuration port: what the host writes before a run (register map).

The host (the Zynq's ARM, here :mod:`accelsim.rtl.driver`) programs, over a 32-bit address /
64-bit data write port, while ``run`` is low:

- target 0, the layer table: one entry per core layer, in run order; field ``f`` of entry
  ``L`` at ``(0 << 30) | (L << 8) | f``. The fields are the layer's shape and the loop bounds a
  driver computes once per layer (products of shape numbers, fetched extents of spec §3.3,
  grant cut of a row); every timing rule (when a grant may go, when a pixel may start, when a
  slot is free, when the FIFO is full) is the core's own logic.
- target 1, global registers: ``n_layers`` at ``(1 << 30) | 0``.
- target 2, the threshold table: threshold ``k`` of lane ``o`` of output-channel group ``g`` at
  ``(2 << 30) | (g << 16) | (o * (2^A - 1) + k)``, clamped to the accumulator range plus one.
- target 3, the negative flags: lane ``o`` of group ``g`` at ``(3 << 30) | (g << 16) | o``.

Thresholds are not part of spec §3's traffic (the spec times weights and features only), so
they are loaded by the host like the layer table, before the run.
"""

from __future__ import annotations

from typing import NamedTuple


class Field(NamedTuple):
    name: str
    bits: int
    doc: str


COORD = 16  # heights, widths, channel batches
BYTES = 24  # byte counts within a row / a grant / a bank
BIG = 32  # addresses and whole-layer counts

LAYER_FIELDS: tuple[Field, ...] = (
    Field("chain", 1, "starts when the previous core layer ends (else waits for go)"),
    Field("batch", COORD, "images"),
    Field("in_h", COORD, "input height H"),
    Field("in_w", COORD, "input width W"),
    Field("out_h", COORD, "output height H_o"),
    Field("out_w", COORD, "output width W_o"),
    Field("stride2", 1, "stride 2 (else 1)"),
    Field("pad", 1, "padding 1 (else 0)"),
    Field("n_ib", COORD, "input channel batches"),
    Field("n_ob", COORD, "output channel batches"),
    Field("passes", 4, "activation passes: in_bits / feature_bits"),
    Field("in_bits_sel", 2, "index of in_bits in the core's supported widths"),
    Field("igb_log2", 4, "log2 of the input group bytes"),
    Field("pix_bytes", BYTES, "one input pixel in DDR and in a slot: n_ib * group bytes"),
    Field("row_stride", BYTES, "one input row in DDR: W * pix_bytes"),
    Field("rows_read", COORD, "input rows fetched per image (spec 3.3)"),
    Field("row_fetch_bytes", BYTES, "bytes fetched per row: columns read * pix_bytes"),
    Field("image_skip", BIG, "DDR bytes from an image's last fetched row to the next image"),
    Field("chunk_bytes", BYTES, "bytes of a full read grant"),
    Field("chunk_cols", COORD, "chunk_bytes // pix_bytes"),
    Field("chunk_rem", BYTES, "chunk_bytes % pix_bytes"),
    Field("in_base", BIG, "input address"),
    Field("out_base", BIG, "output address"),
    Field("w_base", BIG, "weights address"),
    Field("w_bytes", BIG, "weight bytes"),
    Field("out_row_groups", BIG, "output groups per output row: W_o * n_ob"),
    Field("n_groups", BIG, "output groups of the layer: batch * H_o * W_o * n_ob"),
    Field("thr_base", COORD, "first threshold-table group"),
    Field("last_lanes", 8, "real output channels in the last output batch"),
)
FIELD_INDEX = {f.name: i for i, f in enumerate(LAYER_FIELDS)}

TARGET_LAYER, TARGET_GLOBAL, TARGET_THRESHOLD, TARGET_NEGATIVE = 0, 1, 2, 3


def layer_field_addr(layer: int, name: str) -> int:
    return (TARGET_LAYER << 30) | (layer << 8) | FIELD_INDEX[name]


def global_addr(index: int) -> int:
    return (TARGET_GLOBAL << 30) | index


def threshold_addr(group: int, granule: int) -> int:
    return (TARGET_THRESHOLD << 30) | (group << 16) | granule


def negative_addr(group: int, lane: int) -> int:
    return (TARGET_NEGATIVE << 30) | (group << 16) | lane
