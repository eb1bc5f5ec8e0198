"""Event-engine glue over simpy: same-time ordering, plain callbacks, occupancy traces."""

from accelsim.engine.events import LATE, call_at, trigger_at
from accelsim.engine.trace import Steps, StepTrace

__all__ = ["LATE", "StepTrace", "Steps", "call_at", "trigger_at"]
