"""Step-function traces: exact values, maxima and time-weighted means."""

from __future__ import annotations

import numpy as np
import simpy

from accelsim.engine.events import Signal, call_late
from accelsim.engine.trace import StepTrace


def test_steps_from_unordered_changes() -> None:
    tr = StepTrace("x")
    tr.add(10, 5)
    tr.add_many(np.array([2, 10, 20]), np.array([3, -1, -7]))
    s = tr.steps()
    assert s.times.tolist() == [0, 2, 10, 20]
    assert s.values.tolist() == [0, 3, 7, 0]
    assert s.value_at(1) == 0 and s.value_at(2) == 3 and s.value_at(15) == 7
    mx, mean = s.window(0, 20)
    assert mx == 7
    assert mean == (3 * 8 + 7 * 10) / 20
    assert s.window(12, 14) == (7, 7.0)


def test_empty_trace_is_zero() -> None:
    s = StepTrace("e").steps()
    assert s.value_at(100) == 0 and s.window(0, 10) == (0, 0.0)


def test_call_late_runs_after_every_normal_event_of_the_cycle() -> None:
    env = simpy.Environment()
    order: list[str] = []
    sig = Signal(env)

    def waiter():  # type: ignore[no-untyped-def]
        yield sig.wait()
        order.append(f"woken@{env.now}")

    def firer():  # type: ignore[no-untyped-def]
        yield env.timeout(3)
        call_late(env, lambda: order.append(f"late@{env.now}"))
        sig.fire()  # wakes the waiter at 3, NORMAL: before the late call
        order.append(f"fired@{env.now}")

    env.process(waiter())
    env.process(firer())
    env.run()
    assert order == ["fired@3", "woken@3", "late@3"]
