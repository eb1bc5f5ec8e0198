"""The AXI port and its arbiter (spec 3.1) with scripted masters and the ideal DDR model."""

from __future__ import annotations

import simpy

from accelsim.config.schema import AxiConfig
from accelsim.hw.arbiter import STREAM_ID, AxiPort
from accelsim.hw.channels import DONE, NOT_YET
from accelsim.hw.ddr import IdealModel

# 1 byte per accelerator cycle at 1 GB/s and 1000 MHz; no DDR latency.
DDR = dict(bandwidth_gbps=1.0, efficiency=1.0, latency_cycles=0, clock_mhz=1000.0)


class Scripted:
    """A master posting ``nbytes`` requests at given cycles, or right after a gate opens.

    ``at[i]``: the earliest cycle of request i (also never before the previous completion);
    ``gate``: request i stays NOT_YET until ``gate()`` is true (a record not yet written).
    """

    wait_ch = None
    wait_px = 0

    def __init__(self, owner: int, at: list[int], nbytes: int = 10, gate=None) -> None:  # type: ignore[no-untyped-def]
        self.owner = owner
        self.at = at
        self.nbytes = nbytes
        self.gate = gate
        self.i = 0
        self.free_at = 0
        self.ends: list[int] = []

    def post_time(self) -> int:
        if self.i >= len(self.at):
            return DONE
        if self.gate is not None and not self.gate(self.i):
            return NOT_YET
        return max(self.at[self.i], self.free_at)

    def take(self, posted: int) -> tuple[int, int, int, bool]:
        return self.owner, 4096 * self.i, self.nbytes, False

    def done(self, end: int) -> None:
        self.i += 1
        self.free_at = end
        self.ends.append(end)


def run(masters: dict[str, Scripted], **axi: object) -> tuple[AxiPort, list[tuple[int, ...]]]:
    env = simpy.Environment()
    cfg = AxiConfig(**{"bytes_per_cycle": 1, "latency_cycles": 2, **axi})  # type: ignore[arg-type]
    port = AxiPort(env, cfg, IdealModel(**DDR))
    for stream, m in masters.items():
        port.attach(stream, m)
    port.start(0)
    env.run()
    g = port.log.arrays()
    cols = ("stream", "owner", "posted", "start", "end")
    rows = list(zip(*(g[c].tolist() for c in cols), strict=True))
    return port, rows


WTS, FEA, OUT = STREAM_ID["weights"], STREAM_ID["features"], STREAM_ID["outputs"]


def test_grant_time_and_one_request_outstanding() -> None:
    # 10 bytes: ideal DDR 10 cycles from start + latency 2; AXI the same: end = start + 12
    _, rows = run({"features": Scripted(1, [0, 0, 5])})
    assert rows == [(FEA, 1, 0, 0, 12), (FEA, 1, 12, 12, 24), (FEA, 1, 24, 24, 36)]


def test_round_robin_starts_at_weights_and_rotates() -> None:
    _, rows = run(
        {s: Scripted(i, [0, 0, 0]) for i, s in enumerate(("outputs", "features", "weights"))}
    )
    assert [r[0] for r in rows] == [WTS, FEA, OUT] * 3
    assert [r[3] for r in rows] == [12 * k for k in range(9)]  # back to back


def test_priority_order_is_fixed() -> None:
    masters = {s: Scripted(i, [0, 0]) for i, s in enumerate(("weights", "features", "outputs"))}
    _, rows = run(masters, arbitration="priority", priority=("outputs", "weights", "features"))
    assert [r[0] for r in rows] == [OUT, OUT, WTS, WTS, FEA, FEA]


def test_a_request_posted_while_busy_waits_for_the_port() -> None:
    _, rows = run({"weights": Scripted(0, [0]), "features": Scripted(1, [5])})
    assert rows == [(WTS, 0, 0, 0, 12), (FEA, 1, 5, 12, 24)]


def test_idle_port_wakes_at_the_next_request() -> None:
    port, rows = run({"weights": Scripted(0, [100]), "features": Scripted(1, [40])})
    assert rows == [(FEA, 1, 40, 40, 52), (WTS, 0, 100, 100, 112)]
    assert port.wakeups == 2  # two streams had requests coming: the port slept on simpy


def test_a_lone_stream_runs_back_to_back_without_simpy_steps() -> None:
    port, rows = run({"outputs": Scripted(2, [0, 50, 300, 301])})
    # the fourth is posted when the third completes (one request outstanding)
    assert [(r[2], r[3]) for r in rows] == [(0, 0), (50, 50), (300, 300), (312, 312)]
    assert port.wakeups == 1


def test_a_request_gated_on_another_grant_is_seen_at_its_completion() -> None:
    """The writer's request depends on the reader's first completion (a record): it is not
    known before, and at the completion's cycle it competes with the reader's next request."""
    reader = Scripted(1, [0, 0])
    writer = Scripted(2, [0], gate=lambda i: len(reader.ends) >= 1)
    _, rows = run({"features": reader, "outputs": writer})
    # at cycle 12 both are posted; round robin after features is outputs
    assert rows == [(FEA, 1, 0, 0, 12), (OUT, 2, 0, 12, 24), (FEA, 1, 12, 24, 36)]


def test_horizon_stops_a_run_of_grants_at_the_guard() -> None:
    env = simpy.Environment()
    port = AxiPort(env, AxiConfig(bytes_per_cycle=1, latency_cycles=2), IdealModel(**DDR), 30)
    port.attach("features", Scripted(1, [0] * 10))
    port.start(0)
    env.run(until=31)
    assert len(port.log) == 3  # grants ending at 12, 24 and 36 (past the horizon: stops there)
