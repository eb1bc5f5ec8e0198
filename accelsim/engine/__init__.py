"""Event-engine glue over simpy: same-time ordering, plain callbacks, occupancy traces.

The traces need only numpy until a run is reduced (:meth:`StepTrace.steps` folds the changes
in one numba pass, :mod:`accelsim.engine.fold`); the simpy glue (:mod:`accelsim.engine.events`)
loads on first use, so that reports and the command line's quick commands import neither.
"""

from __future__ import annotations

from typing import Any

from accelsim.engine.trace import Steps, StepTrace

__all__ = ["LATE", "StepTrace", "Steps", "call_at", "trigger_at"]


def __getattr__(name: str) -> Any:
    """``LATE``, ``call_at`` and ``trigger_at`` from :mod:`accelsim.engine.events` (PEP 562)."""
    if name in ("LATE", "call_at", "trigger_at"):
        from accelsim.engine import events

        return getattr(events, name)
    raise AttributeError(f"module 'accelsim.engine' has no attribute {name!r}")
