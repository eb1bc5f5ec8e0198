"""The DRAM parts and memory-controller parameters the DDR model is configured with.

Data only (no numba): the config loader fills a ``ddr:`` section's timing fields from these
presets, and :mod:`accelsim.hw.ddr` evaluates them per burst. Figures are spec section 6 where it
gives them, else the JEDEC speed bin and the board's data sheets, as each preset's comment says.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, fields
from fractions import Fraction
from types import MappingProxyType

import numpy as np

from accelsim.errors import AccelsimError

__all__ = [
    "DRAM_PRESETS",
    "DRAM_TIMING_FIELDS",
    "ControllerParams",
    "DramTiming",
    "dram_preset",
]

#: The ``ddr.*`` config fields that are DRAM timings or geometry (filled from ``ddr.preset``).
DRAM_TIMING_FIELDS = (
    "tck_ps", "width_bits", "banks", "columns", "rows", "burst_length", "cl", "cwl", "trcd",
    "trp", "tras", "trrd", "tfaw", "tccd", "twtr", "twr", "trtp", "trfc", "trefi",
)  # fmt: skip


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
# The CL/CWL/tRCD/tRP/tRAS/tRFC/tREFI figures are spec section 6 verbatim. tRFC is the 2 Gb die's
# 160 ns = 86 cycles (the board's MT41K128M16JT-125 chips; spec section 6 as corrected in round 2,
# which until then gave the 4 Gb figure of 139).
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
    trfc=_ck(160.0, 1875),  # 86
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
