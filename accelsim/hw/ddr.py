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
read, 4 KiB grants      94.7   95.5        94.7          94.6
read, 64 KiB grants     97.4   99.7        97.4          96.7
write, 4 KiB grants     91.6   93.2        94.4          91.6
write, 64 KiB grants    96.9   99.6        97.1          96.3
mixed r/w, 2 KiB each   87.4   88.9        90.0          87.3
random 32 B reads       14.9   15.0        14.9          14.9
======================  =====  ==========  ============  =============

1. Refresh: ``tRFC / tREFI`` = 86 / 4160 = 2.1 % of DDR time (the zedboard's 2 Gb dies; a 4 Gb
   die's 139 would be 3.3 %) plus the precharge-all before it and the row re-opened after it;
   1-2.5 points depending on the pattern.
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
which the 64 KiB grants reproduce (97.4 %); 4 KiB grants expose their row opening (94.7 %).
Sequential writes come out at 91.6 % in 4 KiB grants and mixed 2 KiB read/write grants at
87.4 %, near the vendor's 90 % and 87 %; in 64 KiB write grants store and forward is hidden and
writes reach 96.9 %.

The ideal model
---------------
:class:`IdealModel`: ``end = start + latency_cycles + ceil(nbytes * f_clk / (bandwidth *
efficiency))``, in exact rational arithmetic; no state besides the statistics.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
from numba import njit

from accelsim.config.dram import (
    DRAM_PRESETS,
    DRAM_TIMING_FIELDS,
    ControllerParams,
    DramTiming,
    dram_preset,
)
from accelsim.config.schema import HwConfig
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
    "make_ddr_model",
]


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


@njit(cache=True)
def _serve_counted(gs, bs, faw, tv, st, t_start, address, nbytes, is_write):  # pragma: no cover
    """:func:`_serve`, returning also the cumulative (row hits, row misses, refresh cycles)."""
    t_end = _serve(gs, bs, faw, tv, st, t_start, address, nbytes, is_write)
    return t_end, st[_S_HITS], st[_S_MISSES], st[_S_REF_CYCLES]


serve_counted = _serve_counted  # the kernel the compiled port loop calls (hw/port_loop.py)


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
        return self.access_counted(start_cycle, address, nbytes, bool(is_write))[0]

    def access_counted(
        self, start_cycle: int, address: int, nbytes: int, is_write: bool
    ) -> tuple[int, int, int, int]:
        """:meth:`access` for the AXI port, in one step: the transfer's end and the cumulative
        (row hits, row misses, refresh DDR cycles) after it, as :meth:`counters` would give.

        The port's arguments are plain ints, ``nbytes > 0``, in time order; they are not
        checked again."""
        self._last_start = start_cycle
        t0 = -(-start_cycle * self._num // self._den)
        t_end, hits, misses, refresh = _serve_counted(
            self._gs, self._bs, self._faw, self._tv, self._st, t0, address, nbytes, is_write
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
        return end, hits, misses, refresh

    def kernel_state(self) -> tuple[np.ndarray, ...]:
        """The state arrays :func:`serve_counted` works on (global, banks, tFAW window, timings,
        statistics), for a compiled caller that then hands its counters to :meth:`absorb`."""
        return self._gs, self._bs, self._faw, self._tv, self._st

    def absorb(
        self, reads: int, writes: int, bytes_read: int, bytes_written: int, busy_ddr: int,
        busy_cycles: int,
    ) -> None:  # fmt: skip
        """Add the counters of accesses a compiled caller served through :meth:`kernel_state`
        (as :meth:`access_counted` counts them)."""
        a = self._acc
        for i, v in enumerate((reads, writes, bytes_read, bytes_written, busy_ddr, busy_cycles)):
            a[i] += v
        self._stats = None


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

    def access_counted(
        self, start_cycle: int, address: int, nbytes: int, is_write: bool
    ) -> tuple[int, int, int, int]:
        """:meth:`access` with the (row hits, row misses, refresh DDR cycles) this model has
        not: the same interface as :meth:`DramModel.access_counted`."""
        return self.access(start_cycle, address, nbytes, is_write), 0, 0, 0

    def absorb(
        self, reads: int, writes: int, bytes_read: int, bytes_written: int, busy_ddr: int,
        busy_cycles: int,
    ) -> None:  # fmt: skip
        """Add the counters of accesses a compiled caller served with this model's arithmetic
        (:meth:`DramModel.absorb`'s interface; this model has no DDR clock, ``busy_ddr`` is 0)."""
        st = self._st
        st.reads += reads
        st.writes += writes
        st.bytes_read += bytes_read
        st.bytes_written += bytes_written
        st.busy_cycles += busy_cycles


def make_ddr_model(hw: HwConfig) -> DramModel | IdealModel:
    """The configured DDR model (``ddr.model``: ``dram`` or ``ideal``), in its initial state."""
    d = hw.ddr
    if d.model == "ideal":
        assert d.bandwidth_gbps is not None
        return IdealModel(d.bandwidth_gbps, d.efficiency, d.latency_cycles, hw.clock_mhz)
    fields = {f: getattr(d, f) for f in DRAM_TIMING_FIELDS}
    timing = DramTiming(name=d.preset or "custom", **fields)
    controller = ControllerParams(
        queue_bursts=d.queue_bursts, write_chunk_bytes=d.write_chunk_bytes
    )
    return DramModel(timing, hw.clock_mhz, controller)
