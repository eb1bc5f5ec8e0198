"""The AXI memory port shared by the three streams, and its arbiter (spec section 3.1).

- Streams: ``weights``, ``features`` (reads), ``outputs`` (writes); each has at most one request
  outstanding (waiting or being served), as an in-order AXI master.
- A grant holds the port until it completes; grants do not preempt.
- When the port is free and requests wait, the arbiter picks one at the end of the current cycle
  (after every other event of that cycle): ``round_robin`` over the order weights, features,
  outputs, starting after the last stream granted; or fixed ``priority`` in ``axi.priority``
  order.
- Grant time: the DDR model serves the transfer from ``start + axi.latency_cycles``; the grant
  completes at ``max(ddr_end, start + latency + ceil(bytes / axi.bytes_per_cycle))``.

How the port runs (the event core). Each stream is served by one :class:`Master` at a time
(the weight loader; the current pass's reader and writer), which can say when its next request
is posted: a cycle, or "not yet" while that depends on a record another block has not written.
Every record the masters wait on follows from completed grants (the PE array schedules its
pixels from them at once), so when the port is free at cycle ``t`` every request posted by ``t``
is known, and one not known yet is posted after ``t``. Serving a grant is therefore one step:
pick among the requests posted by ``t``, ask the DDR model, record the completion at once
(records may lie ahead of the clock; they are final). The port is a chain of simpy callbacks,
one event per wake-up: from there it serves grant after grant while, at each grant's end, some
request is posted or only one stream has a request coming (nothing else can change before it,
so a lone stream's grants run back to back); when several streams have requests coming it
sleeps until the earliest. ``horizon`` (the hang guard's cycle) ends such a run early.

This is the plain form, kept for its readability, for scripted masters (tests/hw/test_arbiter.py)
and for clock ratios too fine for int64; simulations run its compiled twin,
:mod:`accelsim.hw.port_loop`, which must give the same grants (tests/hw/test_port_loop.py).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import simpy

from accelsim.config.schema import STREAMS, AxiConfig
from accelsim.engine.events import call_at
from accelsim.hw.channels import DONE, PassChannels
from accelsim.hw.ddr import DramModel, IdealModel

STREAM_ID = {name: i for i, name in enumerate(STREAMS)}


class Master(Protocol):
    """One stream's requester, as the port sees it.

    After answering ``NOT_YET`` it names the record it waits for: nothing changes until the
    PE array of ``wait_ch`` has scheduled pixel ``wait_px`` (``wait_ch`` None: ask again).
    """

    wait_ch: PassChannels | None
    wait_px: int

    def post_time(self) -> int:
        """Cycle its next request is (or will be) posted; ``NOT_YET`` while that depends on a
        record not yet written; ``DONE`` when it has no request left."""

    def take(self, posted: int) -> tuple[int, int, int, bool]:
        """Its request (posted at ``posted``) is granted now: (owner, address, bytes, write)."""

    def done(self, end: int) -> None:
        """The grant completed at cycle ``end``."""


def scan_orders(cfg: AxiConfig) -> list[list[int]]:
    """Per stream ``s`` granted last, the order in which the arbiter scans the streams (the
    first one with a posted request wins): ``round_robin`` s+1, s+2, ...; ``priority`` always
    ``axi.priority``'s order."""
    n = len(STREAMS)
    if cfg.arbitration == "round_robin":
        return [[(s + 1 + k) % n for k in range(n)] for s in range(n)]
    return [[STREAM_ID[s] for s in cfg.priority]] * n


class GrantLog:
    """Every grant served, as one flat integer list (turned into columns at the end)."""

    COLUMNS = (
        "stream", "owner", "posted", "start", "end", "address", "nbytes", "hits", "misses",
        "refresh_ddr_cycles",
    )  # fmt: skip

    def __init__(self) -> None:
        # Per grant: stream, owner, posted, start, end, address, bytes, and the DDR model's
        # cumulative (row hits, row misses, refresh DDR cycles) after it (zeros for the ideal
        # model; the counters change only while the model serves an access).
        self.flat: list[int] = []
        self._table: np.ndarray | None = None  # or, from the compiled loop, one row per grant

    def set_table(self, table: np.ndarray) -> None:
        """The grants as a (grants x columns) int64 table (the compiled port's log)."""
        self._table = table

    def __len__(self) -> int:
        if self._table is not None:
            return len(self._table)
        return len(self.flat) // len(self.COLUMNS)

    def arrays(self) -> dict[str, np.ndarray]:
        n = len(self.COLUMNS)
        if self._table is not None:
            a = self._table
        else:
            a = np.array(self.flat, dtype=np.int64).reshape(-1, n)
        cols = {c: a[:, i] for i, c in enumerate(self.COLUMNS)}
        for c in ("hits", "misses", "refresh_ddr_cycles"):  # cumulative -> per grant
            cols[c] = np.diff(cols[c], prepend=0)
        return cols


class AxiPort:
    """The single memory port: arbitration plus the DDR model's timing."""

    def __init__(
        self, env: simpy.Environment, cfg: AxiConfig, ddr: DramModel | IdealModel,
        horizon: int | None = None,
    ) -> None:  # fmt: skip
        self.env = env
        self.cfg = cfg
        self.ddr = ddr
        n = len(STREAMS)
        self.masters: list[Master | None] = [None] * n
        self._post = [-1] * n  # each stream's next post time once known (final), else -1
        self.log = GrantLog()
        self.horizon = horizon if horizon is not None else 1 << 62
        self.wakeups = 0  # simpy events the port used
        self.cycle = 0  # where the port stopped last (the last grant's end when it ran dry)
        self._orders = scan_orders(cfg)
        self._order = self._orders[n - 1]  # round robin starts at weights

    def attach(self, stream: str, master: Master) -> None:
        """``master`` serves ``stream`` from now on."""
        sid = STREAM_ID[stream]
        self.masters[sid] = master
        self._post[sid] = -1

    def start(self, t: int) -> None:
        """Look for requests at cycle ``t`` (the run's start)."""
        call_at(self.env, t, self._wake)

    def _wake(self, _event: simpy.Event) -> None:
        """The port is free at ``now`` and a request may be posted: serve while requests wait.

        One simpy event per wake-up: the port serves grant after grant while, at each grant's
        end, some request has been posted, or only one stream has a request coming (nothing
        else can change before it: every record follows from grants); when several streams
        have requests coming it sleeps until the earliest.
        """
        self.wakeups += 1
        t = self.env.now
        masters = self.masters
        post = self._post
        orders = self._orders
        order = self._order
        lat = self.cfg.latency_cycles
        bpc = self.cfg.bytes_per_cycle
        access = self.ddr.access_counted
        extend = self.log.flat.extend
        horizon = self.horizon
        while True:
            pick = -1
            posted = -1
            nxt = -1
            known = 0  # streams with a known request posted after t
            for s in order:
                p = post[s]
                if p < 0:
                    m = masters[s]
                    if m is None:
                        continue
                    w = m.wait_ch
                    if w is not None and w.px_scheduled <= m.wait_px:
                        continue  # still waiting for that pixel
                    p = m.post_time()
                    if p < 0:
                        if p == DONE:
                            masters[s] = None
                        continue
                    post[s] = p
                if p <= t:
                    if pick < 0:
                        pick = s
                        posted = p
                else:
                    known += 1
                    if nxt < 0 or p < nxt:
                        nxt = p
            if pick < 0:
                if nxt < 0:
                    self._order = order
                    self.cycle = t
                    return  # nothing known: the run is over (or deadlocked)
                if known > 1 or nxt > horizon:
                    self._order = order
                    call_at(self.env, nxt, self._wake)  # streams compete: sleep until then
                    return
                t = nxt  # a lone stream's next request: its grants run back to back
                continue
            order = orders[pick]
            m = masters[pick]
            owner, address, nbytes, is_write = m.take(posted)  # type: ignore[union-attr]
            end = t + lat + -(-nbytes // bpc)
            ddr_end, hits, misses, refresh = access(t + lat, address, nbytes, is_write)
            if ddr_end > end:
                end = ddr_end
            extend((pick, owner, posted, t, end, address, nbytes, hits, misses, refresh))
            post[pick] = -1
            m.done(end)  # type: ignore[union-attr]
            t = end
            if t > horizon:  # the hang guard's cycle: let simpy's clock catch up
                self._order = order
                call_at(self.env, t, self._wake)
                return
