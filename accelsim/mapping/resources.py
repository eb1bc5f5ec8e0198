"""What a configuration costs and offers: BRAM36 estimate, peak compute and DDR bandwidth.

The BRAM36 estimate (``accelsim check``) counts the on-chip memories of spec section 3: the
line-buffer row slots, both weight banks, the output FIFO and the fused pool's row buffer (spec
7.1), each packed into RAMB36 blocks of the best aspect ratio. Peaks follow spec section 4.
"""

from __future__ import annotations

from dataclasses import dataclass

from accelsim.config.schema import HwConfig

# Xilinx RAMB36 aspect ratios (width bits, depth), 7-series / UltraScale (UG473, UG573).
RAMB36_ASPECTS = ((1, 32768), (2, 16384), (4, 8192), (9, 4096), (18, 2048), (36, 1024), (72, 512))


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def bram36_for(width_bits: int, depth: int) -> int:
    """RAMB36 blocks for a memory ``width_bits`` wide and ``depth`` deep (best aspect ratio)."""
    if width_bits <= 0 or depth <= 0:
        return 0
    return min(ceil_div(width_bits, w) * ceil_div(depth, d) for w, d in RAMB36_ASPECTS)


@dataclass(frozen=True)
class BramEstimate:
    line_buffer: int
    weight_banks: int
    output_fifo: int
    available: int
    pool_buffer: int = 0  # the fused pool's row buffer (spec 7.1), when core.fused_pool is on

    @property
    def total(self) -> int:
        return self.line_buffer + self.weight_banks + self.output_fifo + self.pool_buffer

    @property
    def fits(self) -> bool:
        return self.total <= self.available


def bram_estimate(hw: HwConfig) -> BramEstimate:
    """BRAM36 estimate: line-buffer row slots, both weight banks, the output FIFO and, with
    ``core.fused_pool``, the pool row buffer (spec 7.1)."""
    core = hw.core
    lb_width = core.ic_batch * core.feature_bits
    lb = hw.line_buffer.rows * bram36_for(
        lb_width, ceil_div(hw.line_buffer.row_bytes * 8, lb_width)
    )
    wb_width = core.ic_batch * core.oc_batch * 9 * core.weight_bits
    wb = 2 * bram36_for(wb_width, ceil_div(hw.weight_buffer.bank_bytes * 8, wb_width))
    out_width = core.oc_batch * core.feature_bits
    fifo = bram36_for(out_width, hw.output_fifo.groups)
    pool = 0
    if core.fused_pool:
        pool = bram36_for(out_width, ceil_div(core.pool_buffer_bytes * 8, out_width))
    return BramEstimate(lb, wb, fifo, hw.board.bram36, pool)


def peak_ops_per_s(hw: HwConfig) -> float:
    """Peak of the PE array: 2 * ic_batch * oc_batch * 9 * f_clk (spec section 4)."""
    return 2.0 * hw.core.ic_batch * hw.core.oc_batch * 9 * hw.clock_mhz * 1e6


def ddr_peak_bytes_per_s(hw: HwConfig) -> float:
    """Peak DDR bandwidth of the configured model."""
    d = hw.ddr
    if d.model == "ideal":
        assert d.bandwidth_gbps is not None
        return d.bandwidth_gbps * 1e9
    assert d.tck_ps is not None and d.width_bits is not None
    return 2.0 * (1e12 / d.tck_ps) * (d.width_bits // 8)
