"""Same-time ordering of plain callbacks on simpy."""

from __future__ import annotations

import simpy

from accelsim.engine.events import LATE, NORMAL, call_at, trigger_at


def test_late_callbacks_run_after_every_normal_event_of_the_cycle() -> None:
    env = simpy.Environment()
    order: list[str] = []

    def first(_e: simpy.Event) -> None:
        order.append(f"late@{env.now}")

    def normal(_e: simpy.Event) -> None:
        order.append(f"normal@{env.now}")
        # created while cycle 3 is processed, still before the LATE callback of cycle 3
        call_at(env, 3, lambda _e: order.append(f"normal2@{env.now}"), priority=NORMAL)

    call_at(env, 3, first)  # LATE by default, scheduled first
    call_at(env, 3, normal, priority=NORMAL)
    call_at(env, 5, lambda _e: order.append(f"late@{env.now}"), priority=LATE)
    env.run()
    assert order == ["normal@3", "normal2@3", "late@3", "late@5"]


def test_trigger_at_ends_a_run_at_that_cycle() -> None:
    env = simpy.Environment()
    done = env.event()
    trigger_at(env, done, 42)
    env.run(until=done)
    assert env.now == 42 and done.triggered
