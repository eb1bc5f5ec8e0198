"""Same-time ordering and plain callbacks on top of simpy.

Time is an integer number of accelerator cycles. simpy orders events of one time by priority and
then by creation. A decision that must see everything that happens at a time ``t`` (the AXI
arbiter, spec section 3.1) is scheduled with the :data:`LATE` priority, so it runs after every
NORMAL event of time ``t``, including those created while time ``t`` is being processed. Hence
the rule the per-cycle reference model also follows: at cycle ``t`` every completion takes effect
and every block reacts first; the arbiter picks last.

:func:`call_at` is the cheapest way to have simpy run a function at a cycle: one plain event with
one callback, no process and no generator.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy
from simpy.events import NORMAL

LATE = 2  # after simpy.events.NORMAL (1) and URGENT (0)


def call_at(
    env: simpy.Environment,
    time: int,
    callback: Callable[[simpy.Event], None],
    priority: int = LATE,
) -> None:
    """Run ``callback(event)`` at cycle ``time`` (>= ``env.now``), after the NORMAL events of
    that cycle unless ``priority`` says otherwise."""
    ev = simpy.Event(env)
    ev._ok = True  # noqa: SLF001 - a plain already-successful event, scheduled by hand
    ev._value = None  # noqa: SLF001
    ev.callbacks.append(callback)
    env.schedule(ev, priority=priority, delay=time - env.now)


def trigger_at(env: simpy.Environment, ev: simpy.Event, time: int) -> None:
    """Make ``ev`` succeed at cycle ``time`` (>= ``env.now``), as a Timeout would."""
    ev._ok = True  # noqa: SLF001 - triggering by hand with a delay, as Timeout does
    ev._value = None  # noqa: SLF001
    env.schedule(ev, priority=NORMAL, delay=time - env.now)


__all__ = ["LATE", "NORMAL", "call_at", "trigger_at"]
