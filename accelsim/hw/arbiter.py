"""The AXI memory port shared by the three streams, and its arbiter (spec section 3.1).

- Streams: ``weights``, ``features`` (reads), ``outputs`` (writes); each has at most one request
  outstanding (waiting or being served), as an in-order AXI master.
- A grant holds the port until it completes; grants do not preempt.
- When the port is free and requests wait, the arbiter picks one at the end of the current cycle
  (after every other event of that cycle, :data:`accelsim.engine.LATE`): ``round_robin`` over the
  order weights, features, outputs, starting after the last stream granted; or fixed
  ``priority`` in ``axi.priority`` order.
- Grant time: the DDR model serves the transfer from ``start + axi.latency_cycles``; the grant
  completes at ``max(ddr_end, start + latency + ceil(bytes / axi.bytes_per_cycle))``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import simpy

from accelsim.config.schema import STREAMS, AxiConfig
from accelsim.engine.events import call_late
from accelsim.engine.trace import StepTrace

STREAM_ID = {name: i for i, name in enumerate(STREAMS)}


@dataclass
class _Request:
    stream: int
    owner: int
    address: int
    nbytes: int
    is_write: bool
    posted: int
    done: simpy.Event


class GrantLog:
    """Every grant served, as growing integer columns."""

    COLUMNS = (
        "stream", "owner", "posted", "start", "end", "address", "nbytes", "hits", "misses",
        "refresh_ddr_cycles",
    )  # fmt: skip

    def __init__(self) -> None:
        self.rows: list[tuple[int, ...]] = []

    def arrays(self) -> dict[str, np.ndarray]:
        if not self.rows:
            return {c: np.zeros(0, dtype=np.int64) for c in self.COLUMNS}
        a = np.array(self.rows, dtype=np.int64)
        return {c: a[:, i] for i, c in enumerate(self.COLUMNS)}


def _no_counters() -> tuple[int, int, int]:
    return 0, 0, 0


class AxiPort:
    """The single memory port: arbitration plus the DDR model's timing."""

    def __init__(self, env: simpy.Environment, cfg: AxiConfig, ddr: object) -> None:
        self.env = env
        self.cfg = cfg
        self.ddr = ddr
        self.waiting: list[_Request | None] = [None] * len(STREAMS)
        self.busy = False
        self._arb_pending = False
        self._rr_next = 0
        self._priority = [STREAM_ID[s] for s in cfg.priority]
        self.log = GrantLog()
        self.queue_trace = StepTrace("ddr_waiting_requests")
        # (row hits, row misses, refresh DDR cycles) so far; models without rows have none
        self._counters = getattr(ddr, "counters", _no_counters)

    def request(
        self, stream: str, owner: int, address: int, nbytes: int, is_write: bool
    ) -> simpy.Event:
        """Post a request now; the returned event fires with the completion cycle."""
        sid = STREAM_ID[stream]
        assert self.waiting[sid] is None, f"stream {stream} already has a request waiting"
        ev = self.env.event()
        self.waiting[sid] = _Request(sid, owner, address, nbytes, is_write, self.env.now, ev)
        self.queue_trace.add(self.env.now, 1)
        self._schedule_arbitration()
        return ev

    def _schedule_arbitration(self) -> None:
        if not self.busy and not self._arb_pending:
            self._arb_pending = True
            call_late(self.env, self._arbitrate)

    def _pick(self) -> int | None:
        n = len(STREAMS)
        if self.cfg.arbitration == "priority":
            for sid in self._priority:
                if self.waiting[sid] is not None:
                    return sid
            return None
        for k in range(n):
            sid = (self._rr_next + k) % n
            if self.waiting[sid] is not None:
                self._rr_next = (sid + 1) % n
                return sid
        return None

    def _arbitrate(self) -> None:
        self._arb_pending = False
        if self.busy:
            return
        sid = self._pick()
        if sid is None:
            return
        req = self.waiting[sid]
        assert req is not None
        self.waiting[sid] = None
        now = self.env.now
        self.queue_trace.add(now, -1)
        h0, m0, r0 = self._counters()
        lat = self.cfg.latency_cycles
        ddr_end = self.ddr.access(now + lat, req.address, req.nbytes, req.is_write)  # type: ignore[attr-defined]
        axi_end = now + lat + -(-req.nbytes // self.cfg.bytes_per_cycle)
        end = max(int(ddr_end), axi_end)
        h1, m1, r1 = self._counters()
        self.log.rows.append(
            (sid, req.owner, req.posted, now, end, req.address, req.nbytes, h1 - h0, m1 - m0,
             r1 - r0)
        )  # fmt: skip
        self.busy = True
        # The requester's own event fires at the grant's end (one event per grant, not two);
        # the port frees itself first, then the requester resumes and may post again.
        done = req.done
        done._ok = True  # noqa: SLF001 - triggering by hand with a delay, as Timeout does
        done._value = end  # noqa: SLF001
        done.callbacks.insert(0, self._complete)
        self.env.schedule(done, delay=end - now)

    def _complete(self, _event: simpy.Event) -> None:
        self.busy = False
        # Requests posted later in this cycle schedule the arbitration themselves.
        if any(w is not None for w in self.waiting):
            self._schedule_arbitration()
