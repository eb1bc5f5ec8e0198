"""Run a network through the RTL core and compare it with accelsim, cycle for cycle and bit for bit.

The testbench is the core's world: DDR holding real bytes (the network input and weights packed
as :mod:`accelsim.kernels.formats` describes, each core layer's output written by the core
itself), the host running the layers the core cannot (spec §5: their outputs, from the
functional run, land in DDR after ``host_cycles`` on the timeline), and the memory's timing:
each grant the core decides at cycle ``t`` completes at
``max(ddr.access(t + axi.latency_cycles, addr, bytes, write),
t + axi.latency_cycles + ceil(bytes / axi.bytes_per_cycle))``, computed by accelsim's own DDR
model object (``ideal`` or ``dram``), exactly as accelsim's AXI port does.

:func:`compare` lists every difference between an RTL run, :func:`accelsim.simulate` and
:func:`accelsim.functional.run_functional`: each layer's start and end cycle, PE busy cycles,
stall cycles by cause, every grant (stream, cycle, address, bytes, end), every output code,
overflow counts and the first overflow.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from accelsim.config.schema import STREAMS, HwConfig
from accelsim.errors import AccelsimError
from accelsim.functional import FunctionalResult, run_functional
from accelsim.hw.ddr import make_ddr_model
from accelsim.kernels.formats import pack_features, pack_weights, unpack_features
from accelsim.mapping.addresses import address_map
from accelsim.mapping.placement import Placement, place_network
from accelsim.network.model import INPUT, Network
from accelsim.rtl.driver import build_program
from accelsim.rtl.export import verilog_text
from accelsim.rtl.params import RtlParams, rtl_params
from accelsim.rtl.verilator import (
    EV_ERROR,
    EV_FINISHED,
    EV_LAYER_DONE,
    EV_REQUEST,
    EV_TIMEOUT,
    Model,
    build_model,
)


@dataclass
class RtlLayer:
    name: str
    kind: str  # "core" | "host"
    start: int
    end: int
    busy: int = 0
    stalls: dict[str, int] = field(default_factory=dict)
    last_pe_end: int = -1
    overflow_count: int = 0
    first_overflow: tuple[int, int, int, int] | None = None  # (image, y, x, channel)


@dataclass
class RtlRun:
    """What the RTL did: per-layer timing and statistics, every grant, every core output."""

    layers: list[RtlLayer]
    grants: list[tuple[str, int, int, int, int]]  # (stream, start, end, address, bytes)
    outputs: dict[str, np.ndarray]  # core layers, (N, H, W, C) uint8
    functional: FunctionalResult
    params: RtlParams

    @property
    def cycles(self) -> int:
        return self.layers[-1].end if self.layers else 0


def _feature_extent(placement: Placement, amap: Any) -> int:
    """End address of the feature region (every tensor, as the core reads or writes it)."""
    net = placement.network
    batch = net.batch
    end = amap.feature[INPUT]
    h, w, c = net.input_shape
    first = placement.plans[0]
    nin = max(first.in_bytes if first.where == "core" else 0, -(-h * w * c * net.input_bits // 8))
    end = max(end, amap.feature[INPUT] + nin * batch)
    for pl in placement.plans:
        end = max(end, amap.feature[pl.name] + max(pl.out_bytes, 1) * batch)
        if pl.where == "core":
            end = max(end, amap.feature[pl.layer.inputs[0]] + pl.in_bytes * batch)
    return end


def _check_layout(placement: Placement, amap: Any) -> None:
    """A core layer's padded input must not reach into another tensor (host outputs are stored
    unpadded by the address map)."""
    problems = []
    starts = sorted(set(amap.feature.values()))
    for pl in placement.core_plans():
        src = pl.layer.inputs[0]
        a = amap.feature[src]
        nxt = [s for s in starts if s > a]
        if nxt and a + pl.in_bytes * placement.network.batch > nxt[0]:
            problems.append(
                f"layer {pl.name}: its input {src} padded to ic_batch ({pl.in_bytes} bytes per "
                "image) overlaps the next tensor in the address map"
            )
    if problems:
        raise AccelsimError(problems)


def _pack(x: np.ndarray, bits: int, batch: int) -> bytes:
    return b"".join(bytes(pack_features(x[b], bits, batch)) for b in range(x.shape[0]))


def run_rtl(
    network: Network,
    hw: HwConfig,
    *,
    seed: int = 0,
    inputs: Any = None,
    weights: Any = None,
    max_cycles: int = 20_000_000,
    max_layers: int = 4,
    threshold_groups: int = 64,
    vcd: str | None = None,
) -> RtlRun:
    """Run ``network`` through the RTL core built for ``hw`` (see the module docstring)."""
    placement = place_network(network, hw)
    placement.check()
    p = rtl_params(hw, max_layers=max_layers, threshold_groups=threshold_groups)
    batch = network.batch
    amap = address_map(placement, batch)
    _check_layout(placement, amap)
    fr = run_functional(network, hw, inputs=inputs, weights=weights, seed=seed)
    prog = build_program(placement, p, amap, fr.params)
    model = Model(build_model(verilog_text(p), trace=vcd is not None), p.beat_bytes)
    if vcd is not None:
        model.trace(vcd)
    try:
        return _run(model, placement, hw, p, amap, fr, prog, max_cycles)
    finally:
        model.close()


def _run(model, placement, hw, p, amap, fr, prog, max_cycles):  # type: ignore[no-untyped-def]
    net = placement.network
    batch = net.batch
    fbase = amap.feature[INPUT]
    model.region(fbase, _feature_extent(placement, amap) - fbase)
    wbase = hw.memory.weight_base
    wend = max([amap.weight[pl.name] + pl.weight_bytes for pl in placement.core_plans()],
               default=wbase)  # fmt: skip
    model.region(wbase, max(1, wend - wbase))
    # network input, as the first core consumer reads it
    for pl in placement.core_plans():
        if pl.layer.inputs[0] == INPUT:
            model.write(fbase, _pack(fr.outputs[INPUT], net.input_bits, p.ic))
            break
    for pl in placement.core_plans():
        lp = fr.params[pl.name]
        model.write(amap.weight[pl.name],
                    bytes(pack_weights(lp.codes, pl.layer.weight_bits, p.ic, p.oc)))  # fmt: skip
    for addr, value in prog.writes:
        model.cfg(addr, value)
    ddr = make_ddr_model(hw)
    lat = hw.axi.latency_cycles
    bpc = hw.axi.bytes_per_cycle
    plans = list(placement.plans)
    layers: list[RtlLayer] = []
    grants: list[tuple[str, int, int, int, int]] = []
    core_names = [c.name for c in prog.layers]
    i = 0

    def host_run(t: int) -> int:
        nonlocal i
        while i < len(plans) and plans[i].where == "host":
            pl = plans[i]
            end = t + pl.host_cycles * batch
            layers.append(RtlLayer(pl.name, "host", t, end))
            consumers = [q for q in plans if q.where == "core" and q.layer.inputs[0] == pl.name]
            if consumers:
                model.write(amap.feature[pl.name],
                            _pack(fr.outputs[pl.name], pl.layer.out_bits, p.ic))  # fmt: skip
            t = end
            i += 1
        if i < len(plans):
            model.go_at(t)
        return t

    host_run(0)
    while True:
        ev = model.run(max_cycles)
        if ev == EV_REQUEST:
            stream, addr, nbytes, write, t0 = model.request()
            end = int(ddr.access(t0 + lat, addr, nbytes, write))  # type: ignore[attr-defined]
            end = max(end, t0 + lat + -(-nbytes // bpc))
            grants.append((STREAMS[stream], t0, end, addr, nbytes))
            model.grant(end)
        elif ev == EV_LAYER_DONE:
            st = model.stats()
            ci = st[0]
            pl = plans[i]
            if pl.where != "core" or core_names[ci] != pl.name:
                raise RuntimeError(f"RTL finished core layer {ci}, expected {pl.name}")
            first = None
            if st[9]:
                first = (st[10], st[11], st[12], st[13])
            layers.append(
                RtlLayer(
                    pl.name, "core", st[1], st[2], busy=st[3],
                    stalls={"weights": st[4], "input": st[5], "output": st[6]},
                    last_pe_end=st[7], overflow_count=st[8], first_overflow=first,
                )
            )  # fmt: skip
            i += 1
            host_run(st[2])
        elif ev == EV_FINISHED:
            break
        elif ev == EV_TIMEOUT:
            raise RuntimeError(
                f"RTL run of {net.name} did not finish within {max_cycles} cycles "
                f"(layers finished: {len(layers)} of {len(plans)})"
            )
        elif ev == EV_ERROR:
            raise RuntimeError(f"RTL testbench error: {model.error()}")
    if i != len(plans):
        raise RuntimeError(f"RTL finished after {i} of {len(plans)} layers")
    outputs = {}
    for pl in placement.core_plans():
        lay = pl.layer
        nb = pl.out_bytes
        data = model.read(amap.feature[pl.name], nb * batch)
        outputs[pl.name] = np.stack([
            unpack_features(np.frombuffer(data[b * nb:(b + 1) * nb], dtype=np.uint8),
                            lay.out_h, lay.out_w, lay.out_c, lay.out_bits, p.oc)
            for b in range(batch)
        ])  # fmt: skip
    return RtlRun(layers, grants, outputs, fr, p)


def compare(run: RtlRun, sim: Any) -> list[str]:
    """Every difference between an RTL run and accelsim's simulation / functional run."""
    diffs: list[str] = []
    if len(run.layers) != len(sim.layers):
        return [f"{len(run.layers)} RTL layers, {len(sim.layers)} simulated"]
    for r, s in zip(run.layers, sim.layers, strict=True):
        n = r.name
        if (r.start, r.end) != (s["start_cycle"], s["end_cycle"]):
            diffs.append(f"{n}: RTL start/end {r.start}/{r.end}, accelsim "
                         f"{s['start_cycle']}/{s['end_cycle']}")  # fmt: skip
        if r.kind != "core":
            continue
        if r.busy != s["pe_busy_cycles"]:
            diffs.append(f"{n}: RTL busy {r.busy}, accelsim {s['pe_busy_cycles']}")
        if r.stalls != dict(s["stall_cycles"]):
            diffs.append(f"{n}: RTL stalls {r.stalls}, accelsim {dict(s['stall_cycles'])}")
        fo = run.functional.layer(n)
        if r.overflow_count != fo.overflow_count:
            diffs.append(f"{n}: RTL overflows {r.overflow_count}, functional {fo.overflow_count}")
        if r.first_overflow != (tuple(fo.first_overflow) if fo.first_overflow else None):
            diffs.append(f"{n}: RTL first overflow {r.first_overflow}, functional "
                         f"{fo.first_overflow}")  # fmt: skip
        want = run.functional.outputs[n]
        got = run.outputs[n]
        if got.shape != want.shape or not np.array_equal(got, want):
            bad = int(np.sum(got != want)) if got.shape == want.shape else -1
            diffs.append(f"{n}: {bad} output codes differ from the functional run")
    g = sim.grants
    if g:
        names = list(STREAMS)
        ref = [
            (names[int(g["stream"][k])], int(g["start"][k]), int(g["end"][k]),
             int(g["address"][k]), int(g["nbytes"][k]))
            for k in range(len(g["stream"]))
        ]  # fmt: skip
        if ref != run.grants:
            k = next((k for k, (a, b) in enumerate(zip(ref, run.grants, strict=False)) if a != b),
                     min(len(ref), len(run.grants)))  # fmt: skip
            diffs.append(
                f"grant {k}: RTL {run.grants[k] if k < len(run.grants) else None}, accelsim "
                f"{ref[k] if k < len(ref) else None} ({len(run.grants)} vs {len(ref)} grants)"
            )
    return diffs
