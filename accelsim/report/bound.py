"""The measured limiter of a layer: what its cycles were spent on (spec section 4).

The roofline class (``roofline_bound``: ``compute`` when the layer's arithmetic intensity puts it
right of the ridge, else ``memory``) is a static statement about a layer's shape. It can mislead:
vgg16-s2's conv1_1 on the ZedBoard sits left of the ridge, yet its PE array is busy 90 % of the
layer's cycles; it loses its throughput to the mapping (3 of 16 input channels, 4 bit-serial
passes), not to DDR. :func:`measured_bound` names the limiter from the layer's cycle accounting
instead; ``bound`` in the run report is its value.

Pure functions of one layer report (:class:`~accelsim.report.metrics.LayerReport`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

#: Every value :func:`measured_bound` returns, with what it means for a hardware engineer.
BOUNDS: dict[str, str] = {
    "compute": "the PE array did useful work most of the time: only more PEs or clock help",
    "mapping": "the PE array was busy but its MACs were mostly padding or extra passes",
    "memory": "the PE array waited and the AXI port was saturated: DDR bandwidth limits",
    "weights": "the PE array waited for its weights to load (port not saturated)",
    "input": "the PE array waited for input rows (port not saturated: buffering / latency)",
    "output": "the PE array waited for room in the output FIFO (port not saturated)",
    "drain": "the pipeline and the last writes after the last PE cycle dominate",
    "host": "the layer runs on the host (ARM) model",
    "fused": "a max-pool run inside the conv before it (spec 7.1): its time is that conv's",
}

#: Share of a layer's cycles in which the AXI port must carry a grant for its idle time to be
#: called ``memory`` (bandwidth) rather than named by its stall cause (latency or buffering).
SATURATED_PORT_SHARE = 0.9

_IDLE_CAUSES = ("weights", "input", "output")


def measured_bound(layer: Mapping[str, Any]) -> str:
    """The measured limiter of one layer report.

    Rule. A host layer is ``host``; a pool fused into the conv before it (spec 7.1) is
    ``fused`` (it has no cycles of its own). A core layer's cycles split exactly (spec 4:
    ``cycles = busy + stalls + drain``) into three shares:

    - useful  = ``pe_busy_cycles x mapping_efficiency``: what the array would need with no channel
      padding, bit-serial passes or masked taps;
    - mapping = ``pe_busy_cycles x (1 - mapping_efficiency)``: issued MACs that compute nothing;
    - idle    = ``stall_cycles.weights + .input + .output + drain_cycles``.

    The largest share names the limiter (ties go to the earlier of useful, mapping, idle): useful
    gives ``compute``, mapping gives ``mapping``. Idle gives ``memory`` if the AXI port carried a
    grant (of any stream or layer) in at least :data:`SATURATED_PORT_SHARE` (90 %) of the layer's
    cycles (``port_busy_in_layer_cycles``), i.e. DDR bandwidth is the limit; otherwise the
    largest idle cause, ``weights``, ``input``, ``output`` or ``drain`` (ties in that order): the
    port had time to spare, so buffering or latency is the limit.

    Example: conv1_1 of vgg16-s2 on zedboard is busy 802816 of its 893415 cycles (89.9 %) with a
    mapping efficiency of 3/16 x 1/4 = 4.7 %: useful 4.2 %, mapping 85.7 %, idle 10.1 %, so
    ``mapping`` (its roofline class is ``memory``).

    A report without ``port_busy_in_layer_cycles`` (older files) never gives ``memory``.
    """
    if layer.get("kind") in ("host", "fused"):
        return str(layer["kind"])
    cycles = int(layer["cycles"])
    busy = int(layer["pe_busy_cycles"])
    eff = float(layer["mapping_efficiency"])
    stalls = layer["stall_cycles"]
    causes = {c: int(stalls[c]) for c in _IDLE_CAUSES}
    causes["drain"] = int(layer["drain_cycles"])
    shares = {
        "compute": busy * eff,
        "mapping": busy * (1.0 - eff),
        "idle": float(sum(causes.values())),
    }
    top = max(shares, key=lambda k: shares[k])  # first of equals wins: dict order
    if top != "idle":
        return top
    port = layer.get("port_busy_in_layer_cycles")
    if port is not None and cycles > 0 and port >= SATURATED_PORT_SHARE * cycles:
        return "memory"
    return max(causes, key=lambda k: causes[k])


def cycle_shares(layer: Mapping[str, Any]) -> dict[str, float]:
    """A core layer's cycles as fractions: useful, mapping, weights, input, output, drain.

    They sum to 1 (spec 4's accounting); all zero for a layer of zero cycles or a host or fused
    layer.
    """
    keys = ("useful", "mapping", "weights", "input", "output", "drain")
    cycles = int(layer.get("cycles", 0))
    if layer.get("kind") != "core" or cycles <= 0:
        return dict.fromkeys(keys, 0.0)
    busy = int(layer["pe_busy_cycles"])
    eff = float(layer["mapping_efficiency"])
    st = layer["stall_cycles"]
    return {
        "useful": busy * eff / cycles,
        "mapping": busy * (1.0 - eff) / cycles,
        "weights": st["weights"] / cycles,
        "input": st["input"] / cycles,
        "output": st["output"] / cycles,
        "drain": layer["drain_cycles"] / cycles,
    }


def port_busy_between(starts: np.ndarray, ends: np.ndarray, t0: int, t1: int) -> int:
    """Cycles of ``[t0, t1)`` in which the port carried a grant.

    ``starts``/``ends`` are the grants' start and end cycles in grant order; grants hold the one
    port and never overlap (spec 3.1), so both are sorted and the clipped durations add up
    without double counting: the grants reaching into the window count whole, less what the
    first starts before it and the last runs past it.
    """
    if t1 <= t0 or len(starts) == 0:
        return 0
    s = np.asarray(starts, dtype=np.int64)
    e = np.asarray(ends, dtype=np.int64)
    i0 = int(np.searchsorted(e, t0, side="right"))  # the first grant ending after t0
    i1 = int(np.searchsorted(s, t1, side="left"))  # past the last grant starting before t1
    if i1 <= i0:
        return 0
    busy = int(e[i0:i1].sum() - s[i0:i1].sum())
    return busy - max(0, t0 - int(s[i0])) - max(0, int(e[i1 - 1]) - t1)
