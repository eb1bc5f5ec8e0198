"""The AXI port and its three masters as one compiled state machine (the event core's fast path).

:class:`~accelsim.hw.arbiter.AxiPort` serves grants in Python, asking each stream's master (the
weight loader, the current pass's feature reader and writer) through the
:class:`~accelsim.hw.arbiter.Master` protocol; the PE array schedules pixels as the records
appear. That plain form is the model's statement. This module runs the same state machine in
one numba function: the same arbitration, the same masters' post/take/done rules (each step
below names the method it mirrors), the same PE kernel (:func:`accelsim.hw.pe_array._advance`)
and DDR kernel, over the same record buffers (:class:`~accelsim.hw.channels.PassChannels`).
The two are required to agree to the cycle and to the grant (tests/hw/test_port_loop.py), and
the per-cycle reference model guards both.

What stays in Python, on simpy: the sequence of passes and layers (:mod:`accelsim.hw.core`).
The compiled loop returns when a pass ends, and goes on from a simpy event at that cycle (the
grant that ended the pass), after the sequencer has started the next pass (or host layers
first): simpy's clock moves from pass end to pass end. It also returns when the grant log is
full (to grow it), at the hang guard's horizon and when no request is known (the run is over
or deadlocked). Within a pass the loop needs no clock of its own: every record it waits on
follows from grants it serves (arbiter.py), so when several streams have requests coming it
moves straight to the earliest, where the plain port sleeps on simpy; the grants are the same.

Exact arithmetic: the DDR models convert between the accelerator and the DDR clock with exact
fractions ``num / den``; the loop does it in int64 as ``q * num + ceil(r * num / den)``, which
is exact while ``num * den < 2**62`` (:func:`fits`). A clock with more decimals than that runs on
the plain port (Python integers).
"""

from __future__ import annotations

import numpy as np
import simpy
from numba import njit

from accelsim.config.schema import STREAMS, AxiConfig
from accelsim.engine.events import call_at
from accelsim.hw.arbiter import GrantLog, scan_orders
from accelsim.hw.channels import (
    DONE,
    NOT_YET,
    WAIT_INPUT,
    WAIT_OUTPUT,
    WAIT_WEIGHTS,
    PassChannels,
    WeightSetState,
)
from accelsim.hw.ddr import DramModel, IdealModel, serve_counted
from accelsim.hw.pe_array import _OFFSETS, PeArray, _advance

# -- the loop's state arrays (int64) ------------------------------------------------------------
# port: current cycle, stream granted last, each stream's known post time (-1: not known),
# each stream's master present (1) or gone (0), horizon, grants logged, a pass ended (1)
P_T, P_LAST, P_POST, P_ALIVE, P_HORIZON, P_LOGGED, P_ENDED, P_LEN = 0, 1, 2, 5, 8, 9, 10, 11
# DDR: model (0 dram, 1 ideal), clock ratio num / den, the ideal model's latency, AXI latency
# and bytes per cycle; then the counters (reads, writes, bytes read, bytes written, busy DDR
# cycles, busy accelerator cycles) the model's statistics take at the end
D_KIND, D_NUM, D_DEN, D_IDEAL_LAT, D_LAT, D_BPC, D_ACC, D_LEN = 0, 1, 2, 3, 4, 5, 6, 12
# feature reader (line_buffer.FeatureReader): next chunk, chunks, free from
R_K, R_N, R_FREE_AT, R_OWNER, R_LEN = 0, 1, 2, 3, 4
# writer (output_fifo.Writer)
(W_G, W_FREE_AT, W_K, W_NEED, W_N, W_M, W_STEP, W_LATENCY, W_DONE_OFFSET, W_POOLED, W_SEG,
 W_GRANT, W_FULL, W_NGROUPS, W_OGB, W_OWNER, W_LEN) = range(17)  # fmt: skip
# the current pass's channels (channels.PassChannels)
(C_CHUNKS_DONE, C_N_REL, C_PX_SCHED, C_LAST_WRITE, C_END, C_PE_WAITS, C_PE_NEED, C_N_PX,
 C_N_GROUPS, C_SET, C_PASS, C_LEN) = range(12)  # fmt: skip
# weight loader (weight_buffer.WeightLoader): set being loaded, its next grant, free from
L_N, L_J, L_FREE_AT, L_LEN = 0, 1, 2, 3
# per weight set: bytes, grant bytes, address, owner layer, first request, ready, its last pass
S_BYTES, S_GRANT, S_ADDR, S_LAYER, S_FIRST, S_READY, S_LAST_PASS, S_LEN = range(8)

# why the loop returned
IDLE, PASS_ENDED, HORIZON, LOG_FULL = 0, 1, 2, 3

_LIMIT = 1 << 62


def fits(ddr: DramModel | IdealModel) -> bool:
    """Whether the loop's int64 clock conversion is exact for this model (module docstring)."""
    num, den = _ratio(ddr)
    return num * den < _LIMIT


def _ratio(ddr: DramModel | IdealModel) -> tuple[int, int]:
    return ddr._num, ddr._den  # noqa: SLF001 - the model's exact clock ratio


@njit(cache=True)
def _ceil_muldiv(a, num, den):  # type: ignore[no-untyped-def]  # pragma: no cover - jitted
    """ceil(a * num / den) for a >= 0 without forming a * num (exact while num * den < 2**62)."""
    q = a // den
    r = a - q * den
    return q * num + (r * num + den - 1) // den


@njit(cache=True)
def _pe_advance(C, own, rec, S, X):  # type: ignore[no-untyped-def]  # pragma: no cover - jitted
    """PeArray.advance + PassChannels.scheduled_up_to."""
    i, status, what = _advance(own, rec, S[C[C_SET], S_READY], C[C_N_REL])
    C[C_PE_WAITS] = status
    C[C_PE_NEED] = what
    if i > C[C_PX_SCHED]:
        C[C_PX_SCHED] = i
        if i == C[C_N_PX]:
            X[C[C_PASS]] = rec[own[_OFFSETS + 4] + i - 1]
            _maybe_end(C, own, rec)


@njit(cache=True)
def _maybe_end(C, own, rec):  # type: ignore[no-untyped-def]  # pragma: no cover - jitted
    """PassChannels._maybe_end: the pass ends at max(last write, its last pixel's end)."""
    n = C[C_N_PX]
    if C[C_END] < 0 and C[C_LAST_WRITE] >= 0 and C[C_PX_SCHED] == n:
        last_px = rec[own[_OFFSETS + 4] + n - 1]
        lw = C[C_LAST_WRITE]
        C[C_END] = lw if lw > last_px else last_px


@njit(cache=True)
def pe_start(C, own, rec, S, X, t):  # type: ignore[no-untyped-def]  # pragma: no cover - jitted
    """PeArray.start: the pass begins at ``t``."""
    own[1] = t  # pe_array._T_PREV
    _pe_advance(C, own, rec, S, X)


@njit(cache=True)
def _loader_post(L, S, X):  # type: ignore[no-untyped-def]  # pragma: no cover - jitted
    """WeightLoader.post_time."""
    n = L[L_N]
    n_sets = S.shape[0]
    if L[L_J] > 0 or n < 2:
        return L[L_FREE_AT] if n < n_sets else DONE
    if n >= n_sets:
        return DONE
    t = X[S[n - 2, S_LAST_PASS]]  # the last pixel's end once every pixel is scheduled
    if t < 0:
        return NOT_YET
    f = L[L_FREE_AT]
    return t if t > f else f


@njit(cache=True)
def _reader_post(R, free_px, C, own, rec):  # type: ignore[no-untyped-def]  # pragma: no cover
    """FeatureReader.post_time."""
    k = R[R_K]
    if k >= R[R_N]:
        return DONE
    j = free_px[k]
    f = R[R_FREE_AT]
    if j < 0:
        return f
    if C[C_PX_SCHED] <= j:
        return NOT_YET
    t = rec[own[_OFFSETS + 4] + j]
    return t if t > f else f


@njit(cache=True)
def _writer_post(W, emitter, C, own, rec):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Writer.post_time."""
    g = W[W_G]
    if g >= W[W_NGROUPS]:
        return DONE
    seg = W[W_SEG]
    k = (g // seg + 1) * seg - g
    if k > W[W_GRANT]:
        k = W[W_GRANT]
    need = k if k < W[W_FULL] else W[W_FULL]
    m = W[W_M]
    x = g + need - 1
    o = x // m
    ob = x - o * m
    e = emitter[o] if W[W_POOLED] else o
    if C[C_PX_SCHED] <= e:
        return NOT_YET
    W[W_K] = k
    W[W_NEED] = need
    s = rec[own[_OFFSETS + 3] + e]
    if W[W_POOLED]:
        t = s + W[W_DONE_OFFSET]
    else:
        t = s + (ob + 1) * W[W_STEP] + W[W_LATENCY]
    f = W[W_FREE_AT]
    return t if t > f else f


@njit(cache=True)
def _writer_take(W, emitter, out_addr, C, own, rec, posted):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Writer.take: every group present by ``posted``, up to the grant / segment limit.
    Returns (address, bytes)."""
    g = W[W_G]
    k = W[W_K]
    n = W[W_NEED]
    m = W[W_M]
    pooled = W[W_POOLED]
    if n < k:
        scheduled = C[C_PX_SCHED]
        px_start = own[_OFFSETS + 3]
        step = W[W_STEP]
        latency = W[W_LATENCY]
        while n < k:
            x = g + n
            o = x // m
            ob = x - o * m
            e = emitter[o] if pooled else o
            if e >= scheduled:
                break
            s = rec[px_start + e]
            if pooled:
                if s + W[W_DONE_OFFSET] > posted:
                    break
                n = min(k, n + m - ob)
            else:
                present = (posted - s - latency) // step
                if present <= ob:
                    break
                n = min(k, n + min(m, present) - ob)
                if present < m:
                    break
    W[W_N] = n
    o = g // m
    return out_addr[o] + (g - o * m) * W[W_OGB], n * W[W_OGB]


@njit(cache=True)
def _writer_done(W, C, own, rec, S, X, end):  # type: ignore[no-untyped-def]  # pragma: no cover
    """Writer.done + PassChannels.groups_released."""
    g = W[W_G] + W[W_N]
    W[W_G] = g
    W[W_FREE_AT] = end
    n = C[C_N_REL]
    rec[own[_OFFSETS + 1] + n] = g
    rec[own[_OFFSETS + 2] + n] = end
    C[C_N_REL] = n + 1
    if g == C[C_N_GROUPS]:
        C[C_LAST_WRITE] = end
        _maybe_end(C, own, rec)
    if C[C_PE_WAITS] == WAIT_OUTPUT and g >= C[C_PE_NEED]:
        _pe_advance(C, own, rec, S, X)


@njit(cache=True)
def _reader_done(R, C, own, rec, S, X, end):  # type: ignore[no-untyped-def]  # pragma: no cover
    """FeatureReader.done + PassChannels.chunk_completed."""
    R[R_K] += 1
    R[R_FREE_AT] = end
    k = C[C_CHUNKS_DONE]
    rec[own[_OFFSETS] + k] = end
    C[C_CHUNKS_DONE] = k + 1
    if C[C_PE_WAITS] == WAIT_INPUT and k >= C[C_PE_NEED]:
        _pe_advance(C, own, rec, S, X)


@njit(cache=True)
def _loader_done(L, S, C, own, rec, X, end):  # type: ignore[no-untyped-def]  # pragma: no cover
    """WeightLoader.done + WeightSetState.loaded (only the current pass's PE array can be
    waiting: earlier passes have ended, later ones have not started)."""
    L[L_FREE_AT] = end
    L[L_J] += 1
    n = L[L_N]
    if L[L_J] * S[n, S_GRANT] >= S[n, S_BYTES]:
        L[L_N] = n + 1
        L[L_J] = 0
        S[n, S_READY] = end
        if C[C_SET] == n and C[C_PE_WAITS] == WAIT_WEIGHTS:
            _pe_advance(C, own, rec, S, X)


@njit(cache=True)
def serve(  # type: ignore[no-untyped-def]  # pragma: no cover - jitted
    P, orders, D, ddr_gs, ddr_bs, ddr_faw, ddr_tv, ddr_st, log,
    L, S, X, R, free_px, chunk_addr, chunk_bytes, W, emitter, out_addr, C, own, rec,
):  # fmt: skip
    """AxiPort._wake, compiled: serve grants from ``P[P_T]`` until a pass ends, nothing is
    known, the horizon is passed or the log is full (the return value says which)."""
    t = P[P_T]
    last = P[P_LAST]
    horizon = P[P_HORIZON]
    lat = D[D_LAT]
    bpc = D[D_BPC]
    cap = log.shape[0]
    while True:
        if P[P_LOGGED] >= cap:
            P[P_T] = t
            P[P_LAST] = last
            return LOG_FULL
        pick = -1
        posted = -1
        nxt = -1
        for idx in range(3):
            s = orders[last, idx]
            p = P[P_POST + s]
            if p < 0:
                if P[P_ALIVE + s] == 0:
                    continue
                if s == 0:
                    p = _loader_post(L, S, X)
                elif s == 1:
                    p = _reader_post(R, free_px, C, own, rec)
                else:
                    p = _writer_post(W, emitter, C, own, rec)
                if p < 0:
                    if p == DONE:
                        P[P_ALIVE + s] = 0
                    continue
                P[P_POST + s] = p
            if p <= t:
                if pick < 0:
                    pick = s
                    posted = p
            elif nxt < 0 or p < nxt:
                nxt = p
        if pick < 0:
            if nxt < 0:
                P[P_T] = t
                P[P_LAST] = last
                return IDLE  # nothing known: the run is over (or deadlocked)
            if nxt > horizon:
                P[P_T] = nxt
                P[P_LAST] = last
                return HORIZON
            t = nxt  # nothing changes before the earliest request: move there
            continue
        last = pick
        if pick == 0:
            n = L[L_N]
            j = L[L_J]
            if j == 0:
                S[n, S_FIRST] = posted
            off = j * S[n, S_GRANT]
            owner = S[n, S_LAYER]
            address = S[n, S_ADDR] + off
            nbytes = min(S[n, S_GRANT], S[n, S_BYTES] - off)
            is_write = False
        elif pick == 1:
            k = R[R_K]
            owner = R[R_OWNER]
            address = chunk_addr[k]
            nbytes = chunk_bytes[k]
            is_write = False
        else:
            owner = W[W_OWNER]
            address, nbytes = _writer_take(W, emitter, out_addr, C, own, rec, posted)
            is_write = True
        start = t + lat
        end = start + (nbytes + bpc - 1) // bpc
        num = D[D_NUM]
        den = D[D_DEN]
        if D[D_KIND] == 0:
            t0 = _ceil_muldiv(start, num, den)
            t_end, hits, misses, refresh = serve_counted(
                ddr_gs, ddr_bs, ddr_faw, ddr_tv, ddr_st, t0, address, nbytes, is_write
            )
            ddr_end = _ceil_muldiv(t_end, den, num)
            D[D_ACC + 4] += t_end - t0
        else:
            ddr_end = start + D[D_IDEAL_LAT] + _ceil_muldiv(nbytes, num, den)
            hits = 0
            misses = 0
            refresh = 0
        if is_write:
            D[D_ACC + 1] += 1
            D[D_ACC + 3] += nbytes
        else:
            D[D_ACC] += 1
            D[D_ACC + 2] += nbytes
        D[D_ACC + 5] += ddr_end - start
        if ddr_end > end:
            end = ddr_end
        row = log[P[P_LOGGED]]
        row[0] = pick
        row[1] = owner
        row[2] = posted
        row[3] = t
        row[4] = end
        row[5] = address
        row[6] = nbytes
        row[7] = hits
        row[8] = misses
        row[9] = refresh
        P[P_LOGGED] += 1
        P[P_POST + pick] = -1
        if pick == 0:
            _loader_done(L, S, C, own, rec, X, end)
        elif pick == 1:
            _reader_done(R, C, own, rec, S, X, end)
        else:
            _writer_done(W, C, own, rec, S, X, end)
        t = end
        if C[C_END] >= 0 and P[P_ENDED] == 0:
            P[P_ENDED] = 1
            P[P_T] = t
            P[P_LAST] = last
            return PASS_ENDED
        if t > horizon:
            P[P_T] = t
            P[P_LAST] = last
            return HORIZON


class CompiledPort:
    """The port, the weight loader and the current pass's reader, writer and PE array, run by
    :func:`serve`. Same interface towards the wiring as the plain port (``log``, ``wakeups``)."""

    def __init__(
        self, env: simpy.Environment, cfg: AxiConfig, ddr: DramModel | IdealModel,
        sets: list[WeightSetState], n_passes: int, horizon: int | None = None,
    ) -> None:  # fmt: skip
        self.env = env
        self.ddr = ddr
        self.sets = sets
        n = len(STREAMS)
        self.log = GrantLog()
        self.wakeups = 0  # simpy events the port used
        self.P = P = np.zeros(P_LEN, dtype=np.int64)
        P[P_LAST] = n - 1  # round robin starts at weights
        P[P_POST : P_POST + n] = -1
        P[P_ALIVE] = 1 if sets else 0  # the loader; the pass's reader and writer when it starts
        P[P_HORIZON] = horizon if horizon is not None else 1 << 62
        self.orders = np.array(scan_orders(cfg), dtype=np.int64)
        num, den = _ratio(ddr)
        assert num * den < _LIMIT, "the plain port serves this clock ratio"
        self.D = D = np.zeros(D_LEN, dtype=np.int64)
        D[D_NUM], D[D_DEN] = num, den
        D[D_LAT], D[D_BPC] = cfg.latency_cycles, cfg.bytes_per_cycle
        if isinstance(ddr, DramModel):
            self.ddr_arrays = ddr.kernel_state()
        else:
            D[D_KIND] = 1
            D[D_IDEAL_LAT] = ddr.latency_cycles
            z = np.zeros(1, dtype=np.int64)
            self.ddr_arrays = (z, z.reshape(1, 1), z, z, z)  # typed as the dram kernel's, unused
        self.L = np.zeros(L_LEN, dtype=np.int64)
        self.S = S = np.zeros((max(1, len(sets)), S_LEN), dtype=np.int64)
        for i, ws in enumerate(sets):
            w = ws.wset
            S[i] = (w.nbytes, w.grant_bytes, w.address, w.layer, -1, -1, 0)
        self.X = np.full(max(1, n_passes), -1, dtype=np.int64)
        self._pass_no: dict[int, int] = {}
        self._set_no = {id(ws): i for i, ws in enumerate(sets)}
        for i, ws in enumerate(sets):
            if ws.users:
                S[i, S_LAST_PASS] = self._number(ws.users[-1])
        self._table = np.zeros((1024, len(GrantLog.COLUMNS)), dtype=np.int64)
        self._ch: PassChannels | None = None
        self._ended: PassChannels | None = None  # a pass that ended, for the next wake-up
        self._pass: tuple = ()
        self.on_pass_end = lambda _ch: None  # set by the wiring

    def _number(self, ch: PassChannels) -> int:
        return self._pass_no.setdefault(id(ch), len(self._pass_no))

    def begin_pass(self, ch: PassChannels, pe: PeArray, pipeline_latency: int) -> None:
        """``ch``'s pass starts at ``ch.start``: its reader and writer become the feature and
        output masters, its PE array starts (FeatureReader/Writer.__init__, PeArray.start)."""
        lay = ch.layout
        t = ch.start
        R = np.array([0, lay.n_chunks, t, ch.index], dtype=np.int64)
        W = np.zeros(W_LEN, dtype=np.int64)
        W[W_FREE_AT] = t
        W[W_M], W[W_STEP], W[W_LATENCY] = lay.m, lay.step_ob, pipeline_latency
        W[W_DONE_OFFSET] = lay.cycles_per_px + pipeline_latency
        W[W_POOLED] = lay.pooled
        W[W_SEG], W[W_GRANT] = lay.seg_groups, lay.out_chunk_groups
        W[W_FULL] = max(1, lay.fifo_full)
        W[W_NGROUPS], W[W_OGB], W[W_OWNER] = lay.n_groups, lay.out_group_bytes, ch.index
        C = np.zeros(C_LEN, dtype=np.int64)
        C[C_LAST_WRITE] = C[C_END] = -1
        C[C_N_PX], C[C_N_GROUPS] = ch.n_px, ch.n_groups
        C[C_SET] = self._set_no[id(ch.weights)]
        C[C_PASS] = self._number(ch)
        emitter = np.ascontiguousarray(lay.emitter, dtype=np.int64)
        self._pass = (
            R, np.ascontiguousarray(lay.free_px, dtype=np.int64),
            np.ascontiguousarray(lay.chunk_addr, dtype=np.int64),
            np.ascontiguousarray(lay.chunk_bytes, dtype=np.int64),
            W, emitter if len(emitter) else np.zeros(1, dtype=np.int64),
            np.ascontiguousarray(lay.out_addr, dtype=np.int64), C, pe.own, ch.records,
        )  # fmt: skip
        self._ch = ch
        P = self.P
        P[P_POST + 1] = P[P_POST + 2] = -1
        P[P_ALIVE + 1] = P[P_ALIVE + 2] = 1
        P[P_ENDED] = 0
        pe_start(C, pe.own, ch.records, self.S, self.X, t)
        self._sync(ch, C)

    @staticmethod
    def _sync(ch: PassChannels, C: np.ndarray) -> None:
        """Copy the loop's channel scalars back to ``ch`` (what the reports read)."""
        ch.chunks_done = int(C[C_CHUNKS_DONE])
        ch.n_rel = int(C[C_N_REL])
        ch.px_scheduled = int(C[C_PX_SCHED])
        ch.last_write = int(C[C_LAST_WRITE])
        ch.pe_waits = int(C[C_PE_WAITS])
        ch.pe_need = int(C[C_PE_NEED])

    @property
    def cycle(self) -> int:
        """Where the loop's clock stands (the last grant's end, or where it stopped)."""
        return int(self.P[P_T])

    def start(self, t: int) -> None:
        """Look for requests at cycle ``t`` (the run's start)."""
        call_at(self.env, t, self._wake)

    def _wake(self, _event: simpy.Event) -> None:
        """Serve from simpy's ``now``: first hand a pass that ended here to the sequencer (it
        begins the next pass), then run the loop until the next pass end (one simpy event per
        pass: simpy's clock moves from pass end to pass end), the horizon or the end."""
        self.wakeups += 1
        if not self._pass:
            return  # no core layer: nothing to serve
        P = self.P
        P[P_T] = self.env.now
        ended, self._ended = self._ended, None
        if ended is not None:
            self.on_pass_end(ended)  # may begin the next pass (begin_pass)
        while True:
            why = serve(
                P, self.orders, self.D, *self.ddr_arrays, self._table,
                self.L, self.S, self.X, *self._pass,
            )  # fmt: skip
            if why != LOG_FULL:
                break
            self._table = np.concatenate([self._table, np.zeros_like(self._table)])
        if why == PASS_ENDED:
            ch = self._ch
            assert ch is not None
            C = self._pass[7]
            self._sync(ch, C)
            ch.end = int(C[C_END])
            self._ended = ch
        if why in (PASS_ENDED, HORIZON):  # past the horizon, the hang guard fires first
            call_at(self.env, int(P[P_T]), self._wake)

    def finish(self) -> None:
        """After the run: hand the records to the objects the reports read."""
        if self._ch is not None:
            self._sync(self._ch, self._pass[7])
        for i, ws in enumerate(self.sets):
            ws.first_request = int(self.S[i, S_FIRST])
            ws.ready = int(self.S[i, S_READY])
        self.log.set_table(self._table[: self.P[P_LOGGED]])
        D = self.D
        self.ddr.absorb(*(int(v) for v in D[D_ACC : D_ACC + 6]))
