"""What the RTL generator builds from a :class:`~accelsim.config.schema.HwConfig`.

The hardware config (spec §3: batches, bit widths, accumulator, line buffer, banks, FIFO, AXI
port, arbitration, pipeline latency) fixes every width and depth of the generated core. This
module derives them and rejects, one line per field, what the generator cannot build:

- ``core.ic_batch``, ``core.oc_batch``, ``axi.bytes_per_cycle``: powers of two (lanes and
  beats are cut by shifts, not dividers);
- ``core.feature_bits``, ``core.weight_bits``: 1, 2, 4 or 8;
- ``core.accumulator_bits``: at most 62 (thresholds are loaded through a 64-bit port);
- ``core.pipeline_latency_cycles``: at least 2 (the adder-tree register and the accumulate /
  threshold stage that writes the FIFO: spec §3.4's post-processing pipeline *is* these
  registers, plus ``latency - 2`` more after the adder tree);
- ``axi.latency_cycles``: at least 1 (the port answers a grant from the next cycle on);
- ``axi.bytes_per_cycle``: at most one PE cycle's weights (``9 * ic * oc * weight_bits / 8``
  bytes), so that a beat completes at most one weight word;
- the generation-2 options of spec 7 (``core.fused_pool``, ``core.kernel_decomposition``,
  ``core.pack_1x1``, ``weight_buffer.tiling``, ``line_buffer.column_strips``): off (the RTL is
  generation 1).

Layer-level limits (bit widths of a layer, number of core layers, threshold table) are checked
by :mod:`accelsim.rtl.driver` when a network is programmed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from accelsim.config.schema import STREAMS, HwConfig
from accelsim.errors import AccelsimError

POW2_BITS = (1, 2, 4, 8)
MAX_ACC_BITS = 62
MIN_PIPELINE_LATENCY = 2
MIN_AXI_LATENCY = 1
ADDR_BITS = 32
CFG_DATA_BITS = 64


def GEN2_OPTIONS(hw: HwConfig) -> list[tuple[str, bool]]:  # noqa: N802 - a table
    """The generation-2 switches (spec 7) and whether each is on."""
    return [
        ("core.fused_pool", bool(getattr(hw.core, "fused_pool", False))),
        ("core.kernel_decomposition", bool(getattr(hw.core, "kernel_decomposition", False))),
        ("core.pack_1x1", bool(getattr(hw.core, "pack_1x1", False))),
        ("weight_buffer.tiling", bool(getattr(hw.weight_buffer, "tiling", False))),
        ("line_buffer.column_strips", bool(getattr(hw.line_buffer, "column_strips", False))),
    ]


def _pow2(n: int) -> bool:
    return n > 0 and n & (n - 1) == 0


def _log2(n: int) -> int:
    return n.bit_length() - 1


@dataclass(frozen=True)
class RtlParams:
    """Every number the generated core is built with (all compile-time)."""

    ic: int
    oc: int
    feature_bits: int  # A: activation bits per pass
    weight_bits: int  # Wc
    acc_bits: int
    saturate: bool
    dorefa: bool
    latency: int  # post-processing pipeline, cycles (>= 2)
    bit_serial: bool
    rows: int
    row_bytes: int
    bank_bytes: int
    fifo_groups: int
    beat_bytes: int  # axi.bytes_per_cycle
    grant_bytes: int
    round_robin: bool
    priority: tuple[int, ...]  # stream ids, highest first (priority arbitration)
    max_layers: int = 32
    threshold_groups: int = 512

    # ---- numbers that follow
    @property
    def in_bits_options(self) -> tuple[int, ...]:
        """Layer input widths the line buffer and PE accept: A, and with bit_serial A*2^k <= 8."""
        if not self.bit_serial:
            return (self.feature_bits,)
        out = []
        b = self.feature_bits
        while b <= 8:
            out.append(b)
            b *= 2
        return tuple(out)

    @property
    def max_passes(self) -> int:
        return max(self.in_bits_options) // self.feature_bits

    @property
    def core_group_bytes(self) -> int:
        """One ic_batch group at A bits."""
        return self.ic * self.feature_bits // 8

    @property
    def out_group_bytes(self) -> int:
        return self.oc * self.feature_bits // 8

    @property
    def max_group_bytes(self) -> int:
        return self.ic * max(self.in_bits_options) // 8

    @property
    def block_bytes(self) -> int:
        """One PE cycle's weights: 9 x ic x oc codes of weight_bits."""
        return 9 * self.ic * self.oc * self.weight_bits // 8

    @property
    def block_bits(self) -> int:
        return self.block_bytes * 8

    @property
    def bank_blocks(self) -> int:
        """Weight words per bank."""
        return max(1, self.bank_bytes // self.block_bytes)

    @property
    def thresholds_per_lane(self) -> int:
        return (1 << self.feature_bits) - 1

    @property
    def threshold_bits(self) -> int:
        """Thresholds are stored clamped to [lo - 1, hi + 1] of the accumulator."""
        return self.acc_bits + 1

    # line buffer: word = max(beat, widest group); written in lanes
    @property
    def lb_word_bytes(self) -> int:
        return max(self.beat_bytes, self.max_group_bytes)

    @property
    def lb_depth(self) -> int:
        return max(1, -(-self.row_bytes // self.lb_word_bytes))

    @property
    def lb_lane_bytes(self) -> int:
        """Write granularity of a row slot: every beat starts and ends on a lane."""
        g = self.beat_bytes
        for b in self.in_bits_options:
            igb = self.ic * b // 8
            chunk = max(1, self.grant_bytes // igb) * igb
            g = math.gcd(g, igb, chunk)
        return min(g, self.lb_word_bytes)

    @property
    def lb_straddle(self) -> bool:
        """Can a beat cross a slot word? (then each lane has its own write address)"""
        if self.beat_bytes != self.lb_word_bytes:
            return True
        for b in self.in_bits_options:
            igb = self.ic * b // 8
            chunk = max(1, self.grant_bytes // igb) * igb
            if chunk % self.lb_word_bytes:
                return True
        return False

    # weight banks: word = one block; written in lanes
    @property
    def wb_lane_bytes(self) -> int:
        return math.gcd(self.beat_bytes, self.grant_bytes, self.block_bytes)

    @property
    def wb_straddle(self) -> bool:
        return (
            self.block_bytes % self.beat_bytes != 0 or self.grant_bytes % self.beat_bytes != 0
        )

    # output FIFO: ring of groups, read in beats
    @property
    def fifo_lanes(self) -> int:
        """Groups per beat (>= 1)."""
        return max(1, self.beat_bytes // self.out_group_bytes)

    @property
    def fifo_phys_groups(self) -> int:
        n = self.fifo_lanes
        return -(-self.fifo_groups // n) * n

    @property
    def out_chunk_groups(self) -> int:
        return max(1, self.grant_bytes // self.out_group_bytes)

    @property
    def beat_log2(self) -> int:
        return _log2(self.beat_bytes)


def rtl_params(hw: HwConfig, *, max_layers: int = 32, threshold_groups: int = 512) -> RtlParams:
    """Derive the generator's numbers from ``hw``; raise one line per field it cannot build."""
    c = hw.core
    problems: list[str] = []

    def need(ok: bool, msg: str) -> None:
        if not ok:
            problems.append(msg)

    need(_pow2(c.ic_batch), f"core.ic_batch must be a power of two for the RTL, got {c.ic_batch}")
    need(_pow2(c.oc_batch), f"core.oc_batch must be a power of two for the RTL, got {c.oc_batch}")
    need(
        c.feature_bits in POW2_BITS,
        f"core.feature_bits must be 1, 2, 4 or 8 for the RTL, got {c.feature_bits}",
    )
    need(
        c.weight_bits in POW2_BITS,
        f"core.weight_bits must be 1, 2, 4 or 8 for the RTL, got {c.weight_bits}",
    )
    need(
        c.accumulator_bits <= MAX_ACC_BITS,
        f"core.accumulator_bits must be <= {MAX_ACC_BITS} for the RTL, got {c.accumulator_bits}",
    )
    need(
        c.pipeline_latency_cycles >= MIN_PIPELINE_LATENCY,
        f"core.pipeline_latency_cycles must be >= {MIN_PIPELINE_LATENCY} for the RTL (adder-tree "
        f"and accumulate/threshold registers), got {c.pipeline_latency_cycles}",
    )
    need(
        hw.axi.latency_cycles >= MIN_AXI_LATENCY,
        f"axi.latency_cycles must be >= {MIN_AXI_LATENCY} for the RTL (the port answers from the "
        f"next cycle), got {hw.axi.latency_cycles}",
    )
    bpc = hw.axi.bytes_per_cycle
    need(_pow2(bpc), f"axi.bytes_per_cycle must be a power of two for the RTL, got {bpc}")
    block = 9 * c.ic_batch * c.oc_batch * c.weight_bits // 8
    need(
        bpc <= block,
        f"axi.bytes_per_cycle must be <= one PE cycle's weights ({block} bytes) for the RTL, "
        f"got {bpc}",
    )
    for path, on in GEN2_OPTIONS(hw):
        need(not on, f"{path} (a generation-2 option, spec 7) is not built by the RTL; set it "
                     "to false")  # fmt: skip
    need(max_layers >= 1, f"max_layers must be >= 1, got {max_layers}")
    need(threshold_groups >= 1, f"threshold_groups must be >= 1, got {threshold_groups}")
    if problems:
        raise AccelsimError(problems)
    sid = {s: i for i, s in enumerate(STREAMS)}
    return RtlParams(
        ic=c.ic_batch, oc=c.oc_batch, feature_bits=c.feature_bits, weight_bits=c.weight_bits,
        acc_bits=c.accumulator_bits, saturate=c.overflow == "saturate",
        dorefa=c.weight_encoding == "dorefa", latency=c.pipeline_latency_cycles,
        bit_serial=c.bit_serial, rows=hw.line_buffer.rows, row_bytes=hw.line_buffer.row_bytes,
        bank_bytes=hw.weight_buffer.bank_bytes, fifo_groups=hw.output_fifo.groups,
        beat_bytes=bpc, grant_bytes=hw.axi.grant_bytes,
        round_robin=hw.axi.arbitration == "round_robin",
        priority=tuple(sid[s] for s in hw.axi.priority),
        max_layers=max_layers, threshold_groups=threshold_groups,
    )  # fmt: skip
