"""Event-engine glue over simpy: same-time ordering, broadcast signals, occupancy traces."""

from accelsim.engine.events import LATE, Signal, call_late
from accelsim.engine.trace import StepTrace

__all__ = ["LATE", "Signal", "StepTrace", "call_late"]
