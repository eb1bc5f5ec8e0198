"""Same-time ordering and broadcast signals on top of simpy.

Time is an integer number of accelerator cycles. simpy orders events of one time by priority and
then by creation; every ordinary event here has simpy's NORMAL priority. A decision that must see
everything that happens at a time ``t`` (the AXI arbiter, spec section 3.1) is scheduled with the
:data:`LATE` priority, so it runs after every NORMAL event of time ``t``, including those created
while time ``t`` is being processed. Hence the rule the per-cycle reference model also follows:
at cycle ``t`` every completion takes effect and every block reacts first; the arbiter picks last.
"""

from __future__ import annotations

from collections.abc import Callable

import simpy

LATE = 2  # after simpy.events.NORMAL (1) and URGENT (0)


def call_late(env: simpy.Environment, fn: Callable[[], None]) -> None:
    """Run ``fn`` at the current time, after every NORMAL event of this time."""
    ev = simpy.Event(env)
    ev._ok = True  # noqa: SLF001 - a plain already-successful event, scheduled by hand
    ev._value = None  # noqa: SLF001
    ev.callbacks.append(lambda _e: fn())
    env.schedule(ev, priority=LATE)


class Signal:
    """A broadcast 'something changed' event: waiters get a fresh event each round."""

    __slots__ = ("_env", "_event")

    def __init__(self, env: simpy.Environment) -> None:
        self._env = env
        self._event = env.event()

    def wait(self) -> simpy.Event:
        """An event that fires at the next :meth:`fire`."""
        return self._event

    def fire(self) -> None:
        """Wake every waiter (at the current time, NORMAL priority)."""
        ev = self._event
        if ev.callbacks:  # someone waits: wake them and hand out a fresh event
            self._event = self._env.event()
            ev.succeed()
