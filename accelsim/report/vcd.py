"""A run as a VCD waveform (``accelsim run --vcd FILE``), written with pyvcd.

``$timescale`` uses the magnitudes IEEE 1364/1800 allow (1, 10 or 100 of a unit): the largest
such unit that divides the clock period exactly, so that a viewer shows real time, one
accelerator cycle being a whole number of timesteps (200 MHz: ``1 ns``, 5 timesteps a cycle;
100 MHz: ``10 ns``, 1 timestep). A period no unit down to 1 fs divides (300 MHz) is rounded to
whole picoseconds, as the header comment says. The comment also states the clock and the
timesteps per cycle.

Signals (scope ``accelsim``), each an exact copy of the run's records:

- ``line_buffer_bytes``, ``weight_bank{0,1}_bytes``, ``output_fifo_groups``,
  ``ddr_waiting_requests``: the occupancy step functions of spec section 4;
- ``weight_bank{0,1}_state``: 0 free, 1 loading, 2 ready, 3 in use;
- ``ddr_busy``, ``ddr_stream`` (0 weights, 1 features, 2 outputs) and ``ddr_owner`` (index of
  the layer the grant belongs to): the AXI port's grants, ``z`` while the port is idle;
- ``layer`` (index) and ``layer_name``: the layer on the timeline;
- ``pe_state`` (and ``pe_state_name``), at layer granularity: 0 idle, 1 run, 2 stall_weights,
  3 stall_input, 4 drain, 5 host. A core layer is ``stall_weights`` from its start until its
  weights are in, ``stall_input`` until its first pixel starts (the first pixel never waits for
  the output FIFO), ``run`` from the first to the last PE cycle, ``drain`` until its last write
  completes. ``run`` includes the short input/output stalls between pixels, which the result
  counts (``stall_cycles``) but does not time-stamp.
"""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from accelsim.errors import AccelsimError
from accelsim.ioutil import atomic_write
from accelsim.report.metrics import SimResult

PE_STATES = ("idle", "run", "stall_weights", "stall_input", "drain", "host")
PE_IDLE, PE_RUN, PE_STALL_W, PE_STALL_IN, PE_DRAIN, PE_HOST = range(len(PE_STATES))
OCCUPANCY_SIGNALS = (
    "line_buffer_bytes", "weight_bank0_bytes", "weight_bank1_bytes", "weight_bank0_state",
    "weight_bank1_state", "output_fifo_groups", "ddr_waiting_requests",
)  # fmt: skip


def timescale_for(clock_mhz: float) -> tuple[str, int, str]:
    """(``$timescale``, timesteps per cycle, note) for one cycle of ``clock_mhz``: the largest
    standard unit (1, 10, 100 x s .. fs) dividing the period, else 1 ps (the note says the
    period is rounded)."""
    period_fs = Fraction(10**9) / Fraction(clock_mhz).limit_denominator(10**6)
    for unit, scale in (("ns", 10**6), ("ps", 10**3), ("fs", 1)):
        for mag in (100, 10, 1):
            q = period_fs / (mag * scale)
            if q.denominator == 1:
                return f"{mag} {unit}", q.numerator, ""
    ps = round(float(period_fs) / 1e3)
    return "1 ps", ps, f" (the period {float(period_fs) / 1e3:.4f} ps is rounded to {ps} ps)"


def _bits(max_value: int) -> int:
    return max(1, int(max_value).bit_length())


def _steps(times: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sort by time (stable), keep the last value per time, drop repeated values."""
    order = np.argsort(times, kind="stable")
    t = np.asarray(times, dtype=np.int64)[order]
    v = np.asarray(values, dtype=np.int64)[order]
    if len(t) == 0:
        return t, v
    last = np.ones(len(t), dtype=bool)
    last[:-1] = t[1:] != t[:-1]
    t, v = t[last], v[last]
    keep = np.ones(len(t), dtype=bool)
    keep[1:] = v[1:] != v[:-1]
    return t[keep], v[keep]


IDLE = -1  # written as 'z'


def grant_signals(result: SimResult) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``ddr_busy``, ``ddr_stream``, ``ddr_owner`` step functions from the grant log (-1 idle)."""
    g = result.grants
    start = np.asarray(g.get("start", np.zeros(0)), dtype=np.int64)
    end = np.asarray(g.get("end", np.zeros(0)), dtype=np.int64)
    out = {}
    for name, vals, idle in (
        ("ddr_busy", np.ones(len(start), dtype=np.int64), 0),
        ("ddr_stream", np.asarray(g.get("stream", start), dtype=np.int64), IDLE),
        ("ddr_owner", np.asarray(g.get("owner", start), dtype=np.int64), IDLE),
    ):
        # at a time where one grant ends and the next starts, the start (later in order) wins
        t = np.concatenate([[0], end, start])
        v = np.concatenate([[idle], np.full(len(end), idle), vals])
        out[name] = _steps(t, v)
    return out


def _core_phase_times(result: SimResult) -> dict[int, tuple[int, int]]:
    """Per core layer index: (first PE cycle, end of the last PE cycle)."""
    return {
        lay["index"]: (int(lay["first_pe_cycle"]), int(lay["last_pe_cycle"]))
        for lay in result.layers
        if lay["kind"] == "core"
    }


def pe_signals(result: SimResult) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``pe_state`` and ``layer`` step functions (layer granularity; see the module doc)."""
    phases = _core_phase_times(result)
    pt: list[int] = [0]
    pv: list[int] = [PE_IDLE]
    lt: list[int] = [0]
    lv: list[int] = [IDLE]
    for lay in result.layers:
        s, e = lay["start_cycle"], lay["end_cycle"]
        lt.append(s)
        lv.append(lay["index"])
        if lay["kind"] == "host":
            pt.append(s)
            pv.append(PE_HOST)
        elif lay["kind"] == "fused":  # runs inside the conv before it: no time of its own
            pass
        else:
            first, last = phases[lay["index"]]
            sw = lay["stall_cycles"]["weights"]
            pt += [s, s + sw, first, last]
            pv += [PE_STALL_W, PE_STALL_IN, PE_RUN, PE_DRAIN]
        pt.append(e)
        pv.append(PE_IDLE)
        lt.append(e)
        lv.append(IDLE)
    return {
        "pe_state": _steps(np.array(pt), np.array(pv)),
        "layer": _steps(np.array(lt), np.array(lv)),
    }


def vcd_signals(result: SimResult) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Every integer signal of the waveform as (times, values) with -1 for 'z'."""
    if not result.traces:
        raise AccelsimError("a VCD needs the occupancy traces: simulate with record_occupancy=True")
    sig = {
        n: (np.asarray(result.traces[n].times), np.asarray(result.traces[n].values))
        for n in OCCUPANCY_SIGNALS
    }
    sig.update(grant_signals(result))
    sig.update(pe_signals(result))
    return sig


def write_vcd(result: SimResult, path: str | Path) -> Path:
    """Write the run's waveform to ``path`` (see the module doc for the signals)."""
    from vcd import VCDWriter

    path = Path(path)
    signals = vcd_signals(result)
    names = {lay["index"]: re.sub(r"\s+", "_", lay["name"]) or "-" for lay in result.layers}
    scale, steps, note = timescale_for(result.clock_mhz)
    comment = (
        f"accelsim: {result.network} on {result.hw}, batch {result.batch}. 1 accelerator cycle "
        f"of {result.clock_mhz:g} MHz = {steps} timesteps{note}. pe_state: "
        + ", ".join(f"{i} {s}" for i, s in enumerate(PE_STATES))
        + ". weight_bank_state: 0 free, 1 loading, 2 ready, 3 in use. ddr_stream: 0 weights, "
        "1 features, 2 outputs. z: idle."
    )
    # one merged, time-ordered event list: (time, order, signal, value)
    events: list[tuple[int, int, str, int]] = []
    for k, (name, (t, v)) in enumerate(signals.items()):
        events.extend(zip(t.tolist(), [k] * len(t), [name] * len(t), v.tolist(), strict=True))
    events.sort(key=lambda e: (e[0], e[1]))
    with (
        atomic_write(path, "w", encoding="ascii", newline="\n") as f,
        VCDWriter(f, timescale=scale, date="", comment=comment, version="accelsim") as w,
    ):
        vars_: dict[str, Any] = {}
        for name, (_, v) in signals.items():
            size = _bits(int(v.max()) if len(v) else 1)
            vars_[name] = w.register_var("accelsim", name, "wire", size=size, init="z")
        vars_["layer_name"] = w.register_var("accelsim", "layer_name", "string", init="-")
        vars_["pe_state_name"] = w.register_var("accelsim", "pe_state_name", "string", init="-")
        for t, _, name, value in events:
            w.change(vars_[name], t * steps, "z" if value == IDLE else value)
            if name == "layer":
                w.change(vars_["layer_name"], t * steps, names.get(value, "-"))
            elif name == "pe_state":
                w.change(vars_["pe_state_name"], t * steps, PE_STATES[value])
        end = max((lay["end_cycle"] for lay in result.layers), default=0)
        w.flush(end * steps)
    return path


__all__ = [
    "OCCUPANCY_SIGNALS",
    "PE_STATES",
    "grant_signals",
    "pe_signals",
    "timescale_for",
    "vcd_signals",
    "write_vcd",
]
