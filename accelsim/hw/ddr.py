"""DDR timing models: a bank/row DRAM model with JEDEC timings, and an ideal model (spec §3.1).

What is modelled (``shared/spec/conv-core.md`` §3.1, figures from §6)
-------------------------------------------------------------------
:class:`DramModel` serves one contiguous transfer at a time (the caller, the AXI port, serialises
grants: a new access never starts before the previous one's returned end) and returns the
accelerator cycle at which the transfer's last data beat has left the DRAM data bus. The AXI-side
minimum time (``bytes / axi_bytes_per_cycle``) and the AXI latency are the caller's business.

- Geometry: one rank, ``banks`` banks, ``rows`` x ``columns`` per bank, ``width_bits`` data bus
  (several chips side by side count as one wider device). Address mapping row:bank:column with the
  column bits lowest::

      col  = (addr // bus_bytes) % columns
      bank = (addr // (bus_bytes * columns)) % banks
      row  = (addr // (bus_bytes * columns * banks)) % rows

- A transfer is split into aligned bursts of ``burst_length * bus_bytes`` bytes (BL8 for DDR3/4,
  BL16 for LPDDR4); a partial first or last burst still costs a whole burst (data mask).
  Timing is evaluated per burst, not per cycle, in a numba kernel over small int64 state arrays.
- Open-page policy. A burst to the open row is a row hit (column command only). Otherwise the bank
  is precharged (not before ``tRAS`` after its ACT, ``tRTP`` after its last READ, ``tWR`` after
  its last write data) and activated (``tRP`` after the PRE, ``tRRD`` after the previous ACT, at
  most 4 ACTs in any ``tFAW`` window); the column command follows ``tRCD`` after the ACT.
- Column commands are issued in request order, at least ``tCCD`` apart. READ->WRITE turnaround:
  a WRITE needs ``CL + tCCD + 2 - CWL`` cycles after the last READ (JEDEC tRTW with AL = 0: read
  data, then two cycles of bus turnaround, then the write preamble; the DDR3 rule, applied to
  DDR4 and LPDDR4 alike). WRITE->READ: a READ needs ``CWL + BL/2 + tWTR`` after the last WRITE.
  Read data occupies ``BL/2`` cycles from ``CL`` after the READ, write data ``BL/2`` cycles from
  ``CWL`` after the WRITE.
- Bank look-ahead: the PRE/ACT of a burst may be issued early, while earlier bursts still move
  data (as a real controller does from its command queue), constrained only by the timings above
  and by the controller queue depth (:attr:`ControllerParams.queue_bursts`: the PRE/ACT of burst
  ``b`` cannot be issued before the column command of burst ``b - queue_bursts``). ACTs are issued
  in request order. Look-ahead never crosses accesses (the caller serialises them).
- Refresh: refresh ``k`` (k = 1, 2, ...) falls due at ``k * tREFI`` DDR cycles. When one is due
  before the next command, the controller precharges all banks (respecting tRAS/tRTP/tWR), waits
  ``tRP`` and issues REF, which blocks every bank for ``tRFC``. Refreshes that fall due while the
  DRAM is idle happen at their due times; a long idle gap is accounted for in closed form.
- Write data buffering (:attr:`ControllerParams.write_chunk_bytes`): see below.
- Not modelled: the command bus (one command per cycle; a PRE/ACT that coincides with a column
  command would slip by one cycle; streaming leaves 3 of every 4 command slots free); DDR4 bank
  groups (``tccd``/``trrd`` are the short ``tCCD_S``/``tRRD_S``, ``twtr`` is ``tWTR_L``:
  streaming controllers map bank-group bits low); power-down, ZQ calibration, ODT, ranks.

Clock domains
-------------
DDR time is an integer count of DDR clock cycles (tCK). Accelerator cycle ``a`` is DDR time
``a * 10^6 / (clock_mhz * tck_ps)``, an exact rational; an access starting at accelerator cycle
``a`` may issue its first command at the first DDR edge at or after it (rounded up), and the
returned end is the ceiling of the DDR completion time in accelerator cycles. Nothing accumulates
in floating point: all state is kept in DDR cycles.

Efficiency (bytes / (busy time x peak), spec §4) and what each mechanism contributes
------------------------------------------------------------------------------------
Zedboard preset, 200 MHz accelerator clock, 4 MiB back to back (random: 256 KiB), reproduced by
``python benchmarks/bench_ddr.py --efficiency`` and asserted in ``tests/hw/test_ddr.py``.
Columns: the full model, then the full model without one mechanism each. Vendor figures for the
Zynq-7000 DDRC (spec §6): sequential read 97 %, write 90 %, mixed read/write 87 %.

======================  =====  ==========  ============  =============
pattern                 full   no refresh  no store&fwd  no look-ahead
======================  =====  ==========  ============  =============
read, 4 KiB grants      93.6   95.5        93.6          93.4
read, 64 KiB grants     96.2   99.7        96.2          95.5
write, 4 KiB grants     90.5   93.2        93.3          90.5
write, 64 KiB grants    95.6   99.6        95.8          95.0
mixed r/w, 2 KiB each   86.2   88.9        88.8          86.2
random 32 B reads       14.7   15.0        14.7          14.7
======================  =====  ==========  ============  =============

1. Refresh: ``tRFC / tREFI`` = 139 / 4160 = 3.3 % of DDR time plus the precharge-all before it
   and the row re-opened after it; 2-4 points depending on the pattern.
2. Row opening per grant: grants are serialised, so each pays its ACT (and PRE when another row
   is open) + tRCD + CL (CWL) before its first beat, ~3 % of a 4 KiB grant; inside a grant, bank
   look-ahead hides every row change (0.7 points on 64 KiB grants).
3. Write data buffering (store and forward, :class:`ControllerParams`): a write grant's first
   ACT waits for its first 128-byte chunk of data; 2.8 points on 4 KiB write grants, 2.6 on
   mixed traffic, 0.2 on 64 KiB grants. This is the write/read gap the vendor reports.
4. Read/write turnaround: in serialised grants a READ after a WRITE waits tWTR (4 cycles); the
   READ->WRITE rule (tRTW) is always met by the serialisation. Mixed traffic also pays a row
   conflict when the read and write streams share a bank, and twice as many grant openings as
   4 KiB grants.
5. Clock-domain rounding: under one accelerator cycle per grant (start and end rounded up).

The vendor's 97 % for reads was measured with 4 AXI masters keeping the controller queue full,
which the 64 KiB grants reproduce (96.2 %; the spec's 4 Gb tRFC of 139 cycles alone costs 3.3 %);
4 KiB grants expose their row opening. Sequential writes come out at 90.5 % in 4 KiB grants and
mixed 2 KiB read/write grants at 86.2 %, near the vendor's 90 % and 87 %; in 64 KiB write grants
store and forward is hidden and writes reach 95.6 %.

The ideal model
---------------
:class:`IdealModel`: ``end = start + latency_cycles + ceil(nbytes * f_clk / (bandwidth *
efficiency))``, in exact rational arithmetic; no state besides the statistics.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from fractions import Fraction
from types import MappingProxyType

import numpy as np
from numba import njit

from accelsim.errors import AccelsimError

__all__ = [
    "DRAM_PRESETS",
    "ControllerParams",
    "DdrStats",
    "DramModel",
    "DramTiming",
    "IdealModel",
    "ddr_efficiency",
    "dram_preset",
]


# ----------------------------------------------------------------------------------------------
# Device timings and presets
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DramTiming:
    """JEDEC timings in DDR clock cycles (tCK) plus geometry.

    ``columns`` is per chip; with several chips side by side the page (row buffer) across the bus
    is ``columns * width_bits / 8`` bytes.
    """

    name: str  # e.g. "ddr3-1066-x32"
    tck_ps: int  # DDR clock period in ps (DDR3-1066: 1875)
    width_bits: int  # data bus width (16, 32, 64)
    banks: int
    columns: int  # columns per row (per chip); page bytes = columns * width_bits / 8
    rows: int
    burst_length: int  # 8 (BL8); LPDDR4: 16
    cl: int
    cwl: int
    trcd: int
    trp: int
    tras: int
    trrd: int
    tfaw: int
    tccd: int
    twtr: int
    twr: int
    trtp: int
    trfc: int
    trefi: int

    def __post_init__(self) -> None:
        problems = []
        for f in fields(self):
            if f.name == "name":
                continue
            v = getattr(self, f.name)
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                problems.append(f"ddr.{f.name} must be an integer, got {v!r} (timing {self.name})")
            elif v <= 0:
                problems.append(f"ddr.{f.name} must be > 0, got {v} (timing {self.name})")
        if not problems:
            if self.width_bits % 8:
                problems.append(
                    f"ddr.width_bits must be a multiple of 8, got {self.width_bits} "
                    f"(timing {self.name})"
                )
            if self.burst_length % 2:
                problems.append(
                    f"ddr.burst_length must be even, got {self.burst_length} (timing {self.name})"
                )
            elif self.tccd < self.burst_length // 2:
                problems.append(
                    f"ddr.tccd must be >= burst_length / 2 = {self.burst_length // 2}, "
                    f"got {self.tccd} (timing {self.name})"
                )
            if self.trefi <= self.trfc + self.trp:
                problems.append(
                    f"ddr.trefi must be > trfc + trp = {self.trfc + self.trp}, "
                    f"got {self.trefi} (timing {self.name})"
                )
        if problems:
            raise AccelsimError(problems)

    @property
    def bus_bytes(self) -> int:
        """Bytes per data beat (one edge)."""
        return self.width_bits // 8

    @property
    def burst_bytes(self) -> int:
        """Bytes moved by one burst."""
        return self.burst_length * self.bus_bytes

    @property
    def page_bytes(self) -> int:
        """Bytes in one open row across the whole bus."""
        return self.columns * self.bus_bytes

    @property
    def peak_bytes_per_second(self) -> float:
        """Two beats per tCK times the bus width."""
        return 2.0e12 / self.tck_ps * self.bus_bytes


def _ck(ns: float, tck_ps: int, min_ck: int = 0) -> int:
    """Nanoseconds to clocks: max(min_ck, ceil(ns / tCK - 0.025)).

    The 2.5 % guard band is JEDEC's rounding algorithm (JESD79-4 "Rounding Definitions and
    Algorithms": nCK = truncate(t / tCK + 0.974)), which absorbs tCK written to the picosecond
    (0.833 ns for 5/6 ns).
    """
    return max(min_ck, math.ceil(ns * 1000.0 / tck_ps - 0.025))


# --- DDR3-1066 7-7-7 (JESD79-3F speed bin DDR3-1066F; Micron MT41K128M16 / MT41K256M16 data
# sheets). Page size 2 KiB per x16 chip, so tRRD = max(4 nCK, 10 ns) and tFAW = 50 ns.
# tWR = 15 ns, tWTR = tRTP = max(4 nCK, 7.5 ns), tCCD = 4, tREFI = 7.8 us.
#
# ZedBoard: 2 x MT41K128M16 (x16) side by side = 32-bit bus, 512 MiB; DDR3-1066, tCK 1.875 ns.
# The CL/CWL/tRCD/tRP/tRAS/tRFC/tREFI figures are spec section 6 verbatim (tRFC 139 is the 4 Gb
# 260 ns figure; spec section 6 is the truth for this preset).
_DDR3_1066_X32 = DramTiming(
    name="ddr3-1066-x32",
    tck_ps=1875,
    width_bits=32,
    banks=8,
    columns=1024,  # x16 chip: 1 K columns, 2 KiB page; across two chips 4 KiB
    rows=16384,  # 2 Gb x16: 16 K rows -> 8 * 16 K * 4 KiB = 512 MiB
    burst_length=8,
    cl=7,
    cwl=6,
    trcd=7,
    trp=7,
    tras=20,
    trrd=_ck(10.0, 1875, 4),  # 6
    tfaw=_ck(50.0, 1875),  # 27
    tccd=4,
    twtr=_ck(7.5, 1875, 4),  # 4
    twr=_ck(15.0, 1875),  # 8
    trtp=_ck(7.5, 1875, 4),  # 4
    trfc=139,
    trefi=4160,
)

# PYNQ-Z1: one MT41K256M16 (4 Gb x16, 512 MiB) on a 16-bit bus, run at DDR3-1050 (the Zynq-7000
# PS PLL gives 525 MHz: spec section 6, UG585 Table 22-7). tCK = 1/525 MHz = 1904.76 ps -> 1905.
# Same DDR3-1066 bin timings in ns, rounded up at 1.905 ns: tRCD/tRP 13.125 ns -> 7,
# tRAS 37.5 ns -> 20, tRFC (4 Gb) 260 ns -> 137, tREFI 7.8 us -> 4094 (rounded down: a maximum).
_DDR3_1050_X16 = DramTiming(
    name="ddr3-1050-x16",
    tck_ps=1905,
    width_bits=16,
    banks=8,
    columns=1024,
    rows=32768,
    burst_length=8,
    cl=7,
    cwl=6,
    trcd=_ck(13.125, 1905),  # 7
    trp=_ck(13.125, 1905),  # 7
    tras=_ck(37.5, 1905),  # 20
    trrd=_ck(10.0, 1905, 4),  # 6
    tfaw=_ck(50.0, 1905),  # 27
    tccd=4,
    twtr=_ck(7.5, 1905, 4),  # 4
    twr=_ck(15.0, 1905),  # 8
    trtp=_ck(7.5, 1905, 4),  # 4
    trfc=_ck(260.0, 1905),  # 137
    trefi=7_800_000 // 1905,  # 4094
)

# Ultra96 (v1): Micron MT53B512M32D2 LPDDR4 (2 GiB, 32-bit as two x16 channels side by side,
# one die per channel: 8 banks, 1 K columns, 2 KiB page per channel). The part is an
# LPDDR4-2133 (speed-bin) device; the board's PS configuration clocks it at 533 MHz
# (1066 MT/s), which is spec section 6's 4.26 GB/s peak. JESD209-4 timings at tCK 1.875 ns:
# RL 10 / WL 6 (set A, 266 < f <= 533 MHz), tRCD = tRPpb = max(18 ns, 4 nCK) -> 10,
# tRAS = max(42 ns, 3 nCK) -> 23, tRRD = max(10 ns, 4 nCK) -> 6, tFAW 40 ns -> 22,
# BL16 so tCCD = 8, tWTR = max(10 ns, 8 nCK) -> 8, tWR = max(18 ns, 6 nCK) -> 10,
# tRTP = max(7.5 ns, 8 nCK) -> 8, tRFCab (8 Gb die) 180 ns -> 96, tREFI 3.904 us -> 2082.
_LPDDR4_2133_X32 = DramTiming(
    name="lpddr4-2133-x32",
    tck_ps=1875,
    width_bits=32,
    banks=8,
    columns=1024,
    rows=65536,  # 8 * 64 K * 4 KiB = 2 GiB
    burst_length=16,
    cl=10,
    cwl=6,
    trcd=_ck(18.0, 1875, 4),  # 10
    trp=_ck(18.0, 1875, 4),  # 10
    tras=_ck(42.0, 1875, 3),  # 23
    trrd=_ck(10.0, 1875, 4),  # 6
    tfaw=_ck(40.0, 1875),  # 22
    tccd=8,
    twtr=_ck(10.0, 1875, 8),  # 8
    twr=_ck(18.0, 1875, 6),  # 10
    trtp=_ck(7.5, 1875, 8),  # 8
    trfc=_ck(180.0, 1875),  # 96
    trefi=3_904_000 // 1875,  # 2082
)

# ZCU102: PS DDR4 SODIMM MTA4ATF51264HZ (4 GiB, 4 x 8 Gb x16 chips = 64-bit), run at DDR4-2133
# (spec section 6: 17.1 GB/s). JESD79-4 DDR4-2133P (15-15-15), tCK 0.938 ns (JEDEC tCK(avg) min
# for 2133 rounded to ps). x16: 8 banks (2 bank groups x 4), 1 K columns, 2 KiB page, 64 K rows.
# CWL 11 (first set for 2133), tRAS 33 ns -> 36, tRRD_S (2 KiB page) max(4 nCK, 5.3 ns) -> 6,
# tFAW (2 KiB page) max(28 nCK, 30 ns) -> 32, tCCD_S 4, tWTR_L max(4 nCK, 7.5 ns) -> 8,
# tWR 15 ns -> 16, tRTP max(4 nCK, 7.5 ns) -> 8, tRFC1 (8 Gb) 350 ns -> 374, tREFI 7.8 us -> 8315.
_DDR4_2133_X64 = DramTiming(
    name="ddr4-2133-x64",
    tck_ps=938,
    width_bits=64,
    banks=8,
    columns=1024,
    rows=65536,  # 8 * 64 K * 8 KiB = 4 GiB
    burst_length=8,
    cl=15,
    cwl=11,
    trcd=15,
    trp=15,
    tras=_ck(33.0, 938),  # 36
    trrd=_ck(5.3, 938, 4),  # 6
    tfaw=_ck(30.0, 938, 28),  # 32
    tccd=4,
    twtr=_ck(7.5, 938, 4),  # 8
    twr=_ck(15.0, 938),  # 16
    trtp=_ck(7.5, 938, 4),  # 8
    trfc=_ck(350.0, 938),  # 374
    trefi=7_800_000 // 938,  # 8315
)

# DDR4-2400 8 Gb x16, 64-bit bus (4 chips): CL/CWL/tRCD/tRP/tRAS/tRFC/tREFI are spec section 6
# (tCK 0.833 ns). JESD79-4 at 2400, 2 KiB page: tRRD_S max(4 nCK, 5.3 ns) -> 7,
# tFAW max(28 nCK, 30 ns) -> 36, tCCD_S 4, tWTR_L/tRTP max(4 nCK, 7.5 ns) -> 9, tWR 15 ns -> 18.
_DDR4_2400_X64 = DramTiming(
    name="ddr4-2400-x64",
    tck_ps=833,
    width_bits=64,
    banks=8,
    columns=1024,
    rows=65536,
    burst_length=8,
    cl=17,
    cwl=12,
    trcd=17,
    trp=17,
    tras=39,
    trrd=_ck(5.3, 833, 4),  # 7
    tfaw=_ck(30.0, 833, 28),  # 36
    tccd=4,
    twtr=_ck(7.5, 833, 4),  # 9
    twr=_ck(15.0, 833),  # 18
    trtp=_ck(7.5, 833, 4),  # 9
    trfc=420,
    trefi=9360,
)

#: Named DRAM presets (read-only). Boards: PYNQ-Z1, ZedBoard, Ultra96, ZCU102 (spec section 6).
DRAM_PRESETS: Mapping[str, DramTiming] = MappingProxyType(
    {
        t.name: t
        for t in (
            _DDR3_1050_X16,
            _DDR3_1066_X32,
            _LPDDR4_2133_X32,
            _DDR4_2133_X64,
            _DDR4_2400_X64,
        )
    }
)


def dram_preset(name: str) -> DramTiming:
    """The preset called ``name``; an error naming the known presets otherwise."""
    try:
        return DRAM_PRESETS[name]
    except KeyError:
        raise AccelsimError(
            f"ddr.preset must be one of {', '.join(sorted(DRAM_PRESETS))}, got {name!r}"
        ) from None


# ----------------------------------------------------------------------------------------------
# Controller parameters
# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ControllerParams:
    """Memory-controller behaviour that is not a DRAM timing (defaults: the Zynq DDRC).

    ``queue_bursts`` (default 32)
        Depth of the controller's transaction queue, in bursts: how far ahead of the column
        command stream a PRE/ACT may be issued (bank look-ahead). The Zynq DDRC family keeps
        reads in a 32-entry CAM (its ``lpr_num_entries`` field, 5 bits, splits the 32 entries
        between low- and high-priority reads; UG585 ch. 10, UG1087 SCHED).
        Contribution: hides the PRE/ACT of every row change inside an access; 4 MiB read in
        64 KiB transfers on the zedboard: 95.5 % with ``queue_bursts=1``, 96.2 % with 32.

    ``write_chunk_bytes`` (default 128) and ``write_fill_bytes_per_ddr_cycle`` (default ``None``)
        Write data buffering (store and forward). A controller cannot issue a WRITE before the
        burst's data is in its write data buffer, and the Zynq DDRC family forwards a write
        transaction to its scheduler only once the whole transaction's data has been collected
        ("The write command is not forwarded to the DDRC until the write data is collected and
        the strobes are evaluated", UG1085, DDRC write address channel). Reads are forwarded
        as soon as their address arrives. So the bursts of a write access become schedulable
        (their PRE, ACT and WRITE) chunk by chunk: chunk ``j`` (``write_chunk_bytes`` bytes from
        the access's first byte; the last may be shorter) is available at
        ``start + ceil(min((j + 1) * chunk, nbytes) / fill_rate)`` DDR cycles.
        128 bytes is one AXI3 burst of 16 x 64-bit beats, the largest transaction of the
        Zynq-7000 HP ports and the one the vendor measured with (UG585, "DDR Efficiency").
        The fill rate defaults to the DRAM peak (``2 * width_bits / 8`` bytes per DDR cycle): a
        write path that is balanced with the DRAM; an AXI side slower than that is the caller's
        ``bytes / axi_bytes_per_cycle`` bound. ``write_chunk_bytes = 0`` disables the mechanism.
        Contribution: each write access waits one chunk time (16 DDR cycles on the zedboard)
        before its first ACT, where a read's ACT goes at once. Sequential writes in 4 KiB grants
        come out at 90.5 % instead of the 93.3 % of a pure JEDEC model (reads: 93.6 %), near
        the vendor's 90 %. Being paid once per grant, it costs almost nothing in long grants
        (64 KiB: 95.6 % vs 95.8 %).
    """

    queue_bursts: int = 32
    write_chunk_bytes: int = 128
    write_fill_bytes_per_ddr_cycle: Fraction | None = None

    def __post_init__(self) -> None:
        problems = []
        if self.queue_bursts < 1:
            problems.append(f"ddr controller: queue_bursts must be >= 1, got {self.queue_bursts}")
        if self.write_chunk_bytes < 0:
            problems.append(
                f"ddr controller: write_chunk_bytes must be >= 0, got {self.write_chunk_bytes}"
            )
        if self.write_fill_bytes_per_ddr_cycle is not None and not (
            self.write_fill_bytes_per_ddr_cycle > 0
        ):
            problems.append(
                "ddr controller: write_fill_bytes_per_ddr_cycle must be > 0 or None, "
                f"got {self.write_fill_bytes_per_ddr_cycle}"
            )
        if problems:
            raise AccelsimError(problems)


# ----------------------------------------------------------------------------------------------
# Statistics
# ----------------------------------------------------------------------------------------------


@dataclass
class DdrStats:
    """Counters of one DDR model since construction or :meth:`reset`.

    ``reads``/``writes`` count accesses (grants); ``bursts`` DRAM bursts; ``row_hits`` bursts to
    an open row; ``row_misses`` bursts that needed an ACT (``row_conflicts`` of them also a PRE
    of another open row); ``refreshes`` REF commands and ``refresh_ddr_cycles`` the DDR cycles the
    DRAM was unavailable for them (precharge-all plus tRFC), counting refreshes during idle gaps
    and up to the last command issued (one due during the last data beats is counted when the
    next access comes); ``busy_ddr_cycles`` the sum over accesses of (data end - start) in DDR
    cycles, ``busy_cycles`` the same in accelerator cycles; ``data_ddr_cycles`` the cycles the
    data bus carried data (``bursts * burst_length / 2``).
    """

    reads: int = 0
    writes: int = 0
    bytes_read: int = 0
    bytes_written: int = 0
    bursts: int = 0
    row_hits: int = 0
    row_misses: int = 0
    row_conflicts: int = 0
    refreshes: int = 0
    refresh_ddr_cycles: int = 0
    busy_ddr_cycles: int = 0
    data_ddr_cycles: int = 0
    busy_cycles: int = 0


def ddr_efficiency(
    nbytes: int, cycles: int, clock_mhz: float, peak_bytes_per_second: float
) -> float:
    """Spec §4 DDR efficiency: bytes moved / (busy time x peak bandwidth).

    ``cycles`` is the busy time in accelerator cycles at ``clock_mhz``.
    """
    if cycles <= 0:
        return 0.0
    return nbytes * clock_mhz * 1e6 / (cycles * peak_bytes_per_second)


# ----------------------------------------------------------------------------------------------
# The per-burst kernel
# ----------------------------------------------------------------------------------------------

# Indices into the timing vector ``tv`` handed to the kernel.
_T_CL, _T_CWL, _T_RCD, _T_RP, _T_RAS, _T_RRD, _T_FAW, _T_CCD = 0, 1, 2, 3, 4, 5, 6, 7
_T_WTR, _T_WR, _T_RTP, _T_RFC, _T_REFI, _T_BL2, _T_BURST_BYTES = 8, 9, 10, 11, 12, 13, 14
_T_BUS_BYTES, _T_COLUMNS, _T_BANKS, _T_ROWS, _T_QUEUE = 15, 16, 17, 18, 19
_T_WCHUNK, _T_WFILL_NUM, _T_WFILL_DEN = 20, 21, 22
_T_LEN = 23

# Indices into the global state vector ``gs``.
_G_LAST_COL, _G_LAST_RD, _G_LAST_WR, _G_LAST_ACT, _G_FAW_IDX, _G_NEXT_REF = 0, 1, 2, 3, 4, 5
_G_LEN = 6

# Columns of the per-bank state ``bs``: open row (-1 closed), earliest PRE, earliest ACT,
# earliest column command.
_B_ROW, _B_PRE_OK, _B_ACT_OK, _B_COL_OK = 0, 1, 2, 3

# Indices into the statistics vector ``st``.
_S_BURSTS, _S_HITS, _S_MISSES, _S_CONFLICTS, _S_REFRESHES, _S_REF_CYCLES = 0, 1, 2, 3, 4, 5
_S_LEN = 6

_NEVER = -(1 << 40)  # "long ago": far enough back that every timing constraint is met


@njit(cache=True)
def _refresh_until(gs, bs, tv, st, t_lim):  # pragma: no cover - jitted
    """Perform every refresh that falls due at or before DDR time ``t_lim``."""
    trefi = tv[_T_REFI]
    trfc = tv[_T_RFC]
    trp = tv[_T_RP]
    nb = bs.shape[0]
    while gs[_G_NEXT_REF] <= t_lim:
        due = gs[_G_NEXT_REF]
        any_open = False
        t_ready = due  # all banks closed and past tRP / tRFC
        t_prea = due
        for k in range(nb):
            if bs[k, _B_ROW] >= 0:
                any_open = True
                if bs[k, _B_PRE_OK] > t_prea:
                    t_prea = bs[k, _B_PRE_OK]
            elif bs[k, _B_ACT_OK] > t_ready:
                t_ready = bs[k, _B_ACT_OK]
        if any_open:
            t_ref = max(t_prea + trp, t_ready)
            t_start = t_prea
        else:
            t_ref = t_ready
            t_start = t_ref
        if not any_open and t_ref == due:
            # Idle DRAM: this refresh and every later one due by t_lim happen at their due
            # times (tRFC < tREFI), so count them in closed form.
            count = (t_lim - due) // trefi + 1
            last = due + (count - 1) * trefi
            st[_S_REFRESHES] += count
            st[_S_REF_CYCLES] += count * trfc
            t_ref = last
            gs[_G_NEXT_REF] = last + trefi
        else:
            st[_S_REFRESHES] += 1
            st[_S_REF_CYCLES] += t_ref + trfc - t_start
            gs[_G_NEXT_REF] = due + trefi
        for k in range(nb):
            bs[k, _B_ROW] = -1
            bs[k, _B_ACT_OK] = t_ref + trfc


@njit(cache=True)
def _serve(gs, bs, faw, tv, st, t_start, address, nbytes, is_write):  # pragma: no cover - jitted
    """Serve one transfer starting at DDR time ``t_start``; return the DDR time of its last beat."""
    cl = tv[_T_CL]
    cwl = tv[_T_CWL]
    trcd = tv[_T_RCD]
    trp = tv[_T_RP]
    tras = tv[_T_RAS]
    trrd = tv[_T_RRD]
    tfaw = tv[_T_FAW]
    tccd = tv[_T_CCD]
    twtr = tv[_T_WTR]
    twr = tv[_T_WR]
    trtp = tv[_T_RTP]
    bl2 = tv[_T_BL2]
    burst_bytes = tv[_T_BURST_BYTES]
    bus_bytes = tv[_T_BUS_BYTES]
    columns = tv[_T_COLUMNS]
    banks = tv[_T_BANKS]
    rows = tv[_T_ROWS]
    queue = tv[_T_QUEUE]
    wchunk = tv[_T_WCHUNK]
    wfill_num = tv[_T_WFILL_NUM]
    wfill_den = tv[_T_WFILL_DEN]

    # Refreshes that fell due while the DRAM was idle.
    _refresh_until(gs, bs, tv, st, t_start)

    first = address // burst_bytes
    last = (address + nbytes - 1) // burst_bytes
    n = last - first + 1
    colq = np.empty(queue, dtype=np.int64)  # column-command times of the last `queue` bursts
    t_end = t_start
    bank_span = bus_bytes * columns
    row_span = bank_span * banks
    for b in range(n):
        baddr = (first + b) * burst_bytes
        bank = (baddr // bank_span) % banks
        row = (baddr // row_span) % rows
        # When this burst enters the controller's queue.
        t_enter = t_start
        if b >= queue and colq[b % queue] > t_enter:
            t_enter = colq[b % queue]
        if is_write and wchunk > 0:
            # Store and forward: the chunk holding this burst's last byte must be collected.
            off_end = min(baddr + burst_bytes, address + nbytes) - address
            have = min(((off_end + wchunk - 1) // wchunk) * wchunk, nbytes)
            t_data = t_start + (have * wfill_num + wfill_den - 1) // wfill_den
            if t_data > t_enter:
                t_enter = t_data
        while True:
            hit = bs[bank, _B_ROW] == row
            t_pre = _NEVER
            t_act = _NEVER
            if hit:
                t_first = max(t_enter, bs[bank, _B_COL_OK])
                t_col = t_first
            else:
                if bs[bank, _B_ROW] >= 0:
                    t_pre = max(t_enter, bs[bank, _B_PRE_OK])
                    t_first = t_pre
                    t_act = t_pre + trp
                else:
                    t_act = t_enter
                    t_first = -1  # decided below
                t_act = max(
                    t_act,
                    bs[bank, _B_ACT_OK],
                    gs[_G_LAST_ACT] + trrd,
                    faw[gs[_G_FAW_IDX]] + tfaw,
                )
                if t_pre == _NEVER:
                    t_first = t_act
                t_col = t_act + trcd
            if gs[_G_NEXT_REF] <= t_first:
                # A refresh falls due before this burst's first command: it goes first.
                _refresh_until(gs, bs, tv, st, t_first)
                continue
            break
        # Column command: in order, tCCD apart, with the bus turnaround rules.
        t_col = max(t_col, gs[_G_LAST_COL] + tccd)
        if is_write:
            t_col = max(t_col, gs[_G_LAST_RD] + cl + tccd + 2 - cwl)
        else:
            t_col = max(t_col, gs[_G_LAST_WR] + cwl + bl2 + twtr)
        # Commit.
        if hit:
            st[_S_HITS] += 1
        else:
            st[_S_MISSES] += 1
            if t_pre != _NEVER:
                st[_S_CONFLICTS] += 1
            gs[_G_LAST_ACT] = t_act
            faw[gs[_G_FAW_IDX]] = t_act
            gs[_G_FAW_IDX] = (gs[_G_FAW_IDX] + 1) % 4
            bs[bank, _B_ROW] = row
            bs[bank, _B_PRE_OK] = t_act + tras
            bs[bank, _B_COL_OK] = t_act + trcd
        gs[_G_LAST_COL] = t_col
        if is_write:
            gs[_G_LAST_WR] = t_col
            t_data_end = t_col + cwl + bl2
            bs[bank, _B_PRE_OK] = max(bs[bank, _B_PRE_OK], t_data_end + twr)
        else:
            gs[_G_LAST_RD] = t_col
            t_data_end = t_col + cl + bl2
            bs[bank, _B_PRE_OK] = max(bs[bank, _B_PRE_OK], t_col + trtp)
        colq[b % queue] = t_col
        if t_data_end > t_end:
            t_end = t_data_end
    st[_S_BURSTS] += n
    return t_end


# ----------------------------------------------------------------------------------------------
# Public models
# ----------------------------------------------------------------------------------------------


def _exact(x: float | int | Fraction) -> Fraction:
    """A float as the decimal it was written as (150.0 -> 150, 133.33 -> 13333/100)."""
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, np.integer)):
        return Fraction(int(x))
    return Fraction(repr(float(x)))


def _check_access(start_cycle: int, address: int, nbytes: int) -> None:
    if start_cycle < 0 or address < 0 or nbytes < 0:
        raise AccelsimError(
            f"ddr access needs start_cycle, address, nbytes >= 0, "
            f"got {start_cycle}, {address}, {nbytes}"
        )


class DramModel:
    """Banks, open rows and JEDEC timings evaluated per burst (spec §3.1, module docstring)."""

    def __init__(
        self,
        timing: DramTiming,
        clock_mhz: float,
        controller: ControllerParams | None = None,
    ) -> None:
        if not clock_mhz > 0:
            raise AccelsimError(f"ddr model: clock_mhz must be > 0, got {clock_mhz}")
        self.timing = timing
        self.clock_mhz = clock_mhz
        self.controller = controller if controller is not None else ControllerParams()
        self.peak_bytes_per_second: float = timing.peak_bytes_per_second
        # DDR cycles per accelerator cycle, exactly: 10^6 / (clock_mhz * tck_ps).
        ratio = Fraction(10**6) / (_exact(clock_mhz) * timing.tck_ps)
        self.ddr_per_cycle: Fraction = ratio
        self._num = ratio.numerator
        self._den = ratio.denominator
        c = self.controller
        rate = c.write_fill_bytes_per_ddr_cycle
        # DDR cycles per byte of write data entering the controller (default: the DRAM peak).
        fill = 1 / (_exact(rate) if rate is not None else Fraction(2 * timing.bus_bytes))
        self._tv = np.array(
            [
                timing.cl,
                timing.cwl,
                timing.trcd,
                timing.trp,
                timing.tras,
                timing.trrd,
                timing.tfaw,
                timing.tccd,
                timing.twtr,
                timing.twr,
                timing.trtp,
                timing.trfc,
                timing.trefi,
                timing.burst_length // 2,
                timing.burst_bytes,
                timing.bus_bytes,
                timing.columns,
                timing.banks,
                timing.rows,
                c.queue_bursts,
                c.write_chunk_bytes,
                fill.numerator,
                fill.denominator,
            ],
            dtype=np.int64,
        )
        assert self._tv.shape[0] == _T_LEN
        self.reset()

    # -- clock conversion ---------------------------------------------------------------------

    def to_ddr(self, cycle: int) -> int:
        """First DDR cycle at or after accelerator cycle ``cycle``."""
        return -(-cycle * self._num // self._den)

    def to_cycle(self, ddr_cycle: int) -> int:
        """First accelerator cycle at or after DDR cycle ``ddr_cycle``."""
        return -(-ddr_cycle * self._den // self._num)

    # -- state --------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget all state: banks closed, no history, refresh schedule restarted at 0."""
        t = self.timing
        self._gs = np.full(_G_LEN, _NEVER, dtype=np.int64)
        self._gs[_G_FAW_IDX] = 0
        self._gs[_G_NEXT_REF] = t.trefi
        self._bs = np.zeros((t.banks, 4), dtype=np.int64)
        self._bs[:, _B_ROW] = -1
        self._bs[:, _B_PRE_OK] = _NEVER
        self._bs[:, _B_ACT_OK] = 0
        self._bs[:, _B_COL_OK] = _NEVER
        self._faw = np.full(4, _NEVER, dtype=np.int64)
        self._st = np.zeros(_S_LEN, dtype=np.int64)
        self._acc = [0, 0, 0, 0, 0, 0]  # reads, writes, bytes r, bytes w, busy ddr, busy cycles
        self._last_start = 0
        self._stats: DdrStats | None = None

    def counters(self) -> tuple[int, int, int]:
        """(row hits, row misses, refresh DDR cycles) so far; cheap, for per-grant accounting."""
        st = self._st
        return int(st[_S_HITS]), int(st[_S_MISSES]), int(st[_S_REF_CYCLES])

    def stats(self) -> DdrStats:
        """A snapshot of the counters."""
        if self._stats is None:
            st = self._st
            a = self._acc
            self._stats = DdrStats(
                reads=a[0],
                writes=a[1],
                bytes_read=a[2],
                bytes_written=a[3],
                bursts=int(st[_S_BURSTS]),
                row_hits=int(st[_S_HITS]),
                row_misses=int(st[_S_MISSES]),
                row_conflicts=int(st[_S_CONFLICTS]),
                refreshes=int(st[_S_REFRESHES]),
                refresh_ddr_cycles=int(st[_S_REF_CYCLES]),
                busy_ddr_cycles=a[4],
                data_ddr_cycles=int(st[_S_BURSTS]) * (self.timing.burst_length // 2),
                busy_cycles=a[5],
            )
        return DdrStats(**self._stats.__dict__)

    # -- the access ---------------------------------------------------------------------------

    def access(self, start_cycle: int, address: int, nbytes: int, is_write: bool) -> int:
        """Serve one contiguous transfer that begins at accelerator cycle ``start_cycle``.

        Returns the accelerator cycle at which its last data beat completes. Mutates bank state.
        Accesses must come in non-decreasing ``start_cycle`` order.
        """
        _check_access(start_cycle, address, nbytes)
        start_cycle, address, nbytes = int(start_cycle), int(address), int(nbytes)
        if start_cycle < self._last_start:
            raise AccelsimError(
                f"ddr access at cycle {start_cycle} is earlier than the previous one "
                f"({self._last_start}); accesses are served in time order"
            )
        self._last_start = start_cycle
        if nbytes == 0:
            return start_cycle
        t0 = -(-start_cycle * self._num // self._den)
        t_end = int(
            _serve(
                self._gs,
                self._bs,
                self._faw,
                self._tv,
                self._st,
                t0,
                address,
                nbytes,
                bool(is_write),
            )
        )
        end = -(-t_end * self._den // self._num)
        a = self._acc
        if is_write:
            a[1] += 1
            a[3] += nbytes
        else:
            a[0] += 1
            a[2] += nbytes
        a[4] += t_end - t0
        a[5] += end - start_cycle
        self._stats = None
        return end


class IdealModel:
    """Peak bandwidth x efficiency plus a fixed latency (spec §3.1 ``ideal``).

    ``bandwidth_gbps`` is in GB/s (10^9 bytes per second).
    ``end = start + latency_cycles + ceil(nbytes * f_clk / (bandwidth * efficiency))``, computed
    exactly from the decimal values given.
    """

    def __init__(
        self, bandwidth_gbps: float, efficiency: float, latency_cycles: int, clock_mhz: float
    ) -> None:
        problems = []
        if not bandwidth_gbps > 0:
            problems.append(f"ddr ideal model: bandwidth_gbps must be > 0, got {bandwidth_gbps}")
        if not 0 < efficiency <= 1:
            problems.append(f"ddr ideal model: efficiency must be in (0, 1], got {efficiency}")
        if latency_cycles < 0:
            problems.append(f"ddr ideal model: latency_cycles must be >= 0, got {latency_cycles}")
        if not clock_mhz > 0:
            problems.append(f"ddr ideal model: clock_mhz must be > 0, got {clock_mhz}")
        if problems:
            raise AccelsimError(problems)
        self.bandwidth_gbps = bandwidth_gbps
        self.efficiency = efficiency
        self.latency_cycles = int(latency_cycles)
        self.clock_mhz = clock_mhz
        self.peak_bytes_per_second: float = bandwidth_gbps * 1e9
        # Accelerator cycles per byte: f_clk / (bandwidth * efficiency).
        per_byte = (_exact(clock_mhz) * 10**6) / (
            _exact(bandwidth_gbps) * 10**9 * _exact(efficiency)
        )
        self.cycles_per_byte: Fraction = per_byte
        self._num = per_byte.numerator
        self._den = per_byte.denominator
        self.reset()

    def reset(self) -> None:
        """Forget the statistics."""
        self._st = DdrStats()

    def stats(self) -> DdrStats:
        """A snapshot of the counters (no rows, bursts or refresh in this model)."""
        return DdrStats(**self._st.__dict__)

    def access(self, start_cycle: int, address: int, nbytes: int, is_write: bool) -> int:
        """Return ``start + latency + ceil(nbytes * f_clk / (bandwidth * efficiency))``."""
        _check_access(start_cycle, address, nbytes)
        start_cycle, nbytes = int(start_cycle), int(nbytes)
        if nbytes == 0:
            return start_cycle
        end = start_cycle + self.latency_cycles + -(-nbytes * self._num // self._den)
        st = self._st
        if is_write:
            st.writes += 1
            st.bytes_written += nbytes
        else:
            st.reads += 1
            st.bytes_read += nbytes
        st.busy_cycles += end - start_cycle
        return end
