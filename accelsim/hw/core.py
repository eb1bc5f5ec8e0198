"""Wires the blocks for a network and runs the event simulation (spec sections 3.6 and 4).

- One simpy environment per run (no global state). One AXI port with the DDR model, one weight
  loader for the whole network, and per core layer a feature reader, a PE array and a writer,
  which share only the :class:`~accelsim.engine.channels.LayerChannels` made here.
- Layer L starts when layer L-1's last write grant completes (layer 0 at cycle 0) and ends when
  its own last write completes. Host layers (spec section 5) take their modelled time on the
  timeline; their DDR traffic goes through the ARM's own port and is counted, not arbitrated.
- Tensors sit in DDR from ``memory.feature_base`` (network input first, then every layer's output
  in order, each aligned to ``memory.align_bytes``) and weights from ``memory.weight_base``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import simpy

from accelsim.config.load import load_hw
from accelsim.config.schema import HwConfig
from accelsim.engine.channels import LayerChannels
from accelsim.engine.trace import StepTrace
from accelsim.errors import AccelsimError
from accelsim.hw.arbiter import AxiPort
from accelsim.hw.layout import make_layout
from accelsim.hw.line_buffer import feature_reader, line_buffer_occupancy
from accelsim.hw.output_fifo import writer
from accelsim.hw.pe_array import pe_array
from accelsim.hw.weight_buffer import weight_loader
from accelsim.network import load_network
from accelsim.network.model import INPUT, Network
from accelsim.network.placement import Placement, ceil_div, place_network
from accelsim.report.metrics import SimResult, build_result


def make_ddr_model(hw: HwConfig) -> object:
    """The configured DDR model (``dram`` or ``ideal``), fresh state."""
    from accelsim.hw import ddr as ddr_mod

    d = hw.ddr
    if d.model == "ideal":
        assert d.bandwidth_gbps is not None
        return ddr_mod.IdealModel(d.bandwidth_gbps, d.efficiency, d.latency_cycles, hw.clock_mhz)
    from accelsim.config.load import DRAM_TIMING_FIELDS

    fields = {f: getattr(d, f) for f in DRAM_TIMING_FIELDS}
    timing = ddr_mod.DramTiming(name=d.preset or "custom", **fields)
    controller = ddr_mod.ControllerParams(
        queue_bursts=d.queue_bursts, write_chunk_bytes=d.write_chunk_bytes
    )
    return ddr_mod.DramModel(timing, hw.clock_mhz, controller)


@dataclasses.dataclass(frozen=True)
class AddressMap:
    """DDR byte addresses of every tensor of a run."""

    feature: dict[str, int]
    weight: dict[str, int]


def address_map(placement: Placement, batch: int) -> AddressMap:
    hw = placement.hw
    align = hw.memory.align_bytes
    net = placement.network

    def up(n: int) -> int:
        return ceil_div(n, align) * align

    feature = {INPUT: hw.memory.feature_base}
    # the network input, stored with the first consumer's group padding where it is a core layer
    first = placement.plans[0] if placement.plans else None
    in_bytes = first.in_bytes if first is not None and first.where == "core" else 0
    h, w, c = net.input_shape
    in_bytes = max(in_bytes, ceil_div(h * w * c * net.input_bits, 8)) * batch
    nxt = hw.memory.feature_base + up(in_bytes)
    weight: dict[str, int] = {}
    wnext = hw.memory.weight_base
    for p in placement.plans:
        feature[p.name] = nxt
        nxt += up(max(p.out_bytes, 1) * batch)
        if p.where == "core":
            weight[p.name] = wnext
            wnext += up(p.weight_bytes)
    return AddressMap(feature, weight)


def run_placement(
    placement: Placement, *, record_occupancy: bool = True, max_cycles: int | None = None
) -> SimResult:
    """Simulate a placed network. Raises :class:`AccelsimError` if any layer cannot run.

    ``max_cycles`` is a hang guard: a run still going at that cycle raises ``RuntimeError``
    (a simulator bug, never a user mistake), as does a run that deadlocks.
    """
    placement.check()
    hw = placement.hw
    net = placement.network
    batch = net.batch
    amap = address_map(placement, batch)
    env = simpy.Environment()
    ddr = make_ddr_model(hw)
    port = AxiPort(env, hw.axi, ddr)
    channels: dict[int, LayerChannels] = {}
    for p in placement.plans:
        if p.where != "core":
            continue
        layout = make_layout(
            p, hw, batch,
            in_base=amap.feature[p.layer.inputs[0]],
            out_base=amap.feature[p.name],
            weight_base=amap.weight[p.name],
        )  # fmt: skip
        channels[p.index] = LayerChannels(env, p.index, p.name, layout)
    core_channels = [channels[i] for i in sorted(channels)]
    spans: dict[int, tuple[int, int]] = {}

    def sequencer():  # type: ignore[no-untyped-def]
        for p in placement.plans:
            start = env.now
            if p.where == "host":
                cycles = p.host_cycles * batch
                if cycles:
                    yield env.timeout(cycles)
                spans[p.index] = (start, env.now)
                continue
            ch = channels[p.index]
            ch.start = start
            env.process(feature_reader(env, ch, port))
            env.process(pe_array(env, ch, hw.output_fifo.groups))
            yield env.process(
                writer(env, ch, port, hw.output_fifo.groups, hw.core.pipeline_latency_cycles)
            )
            spans[p.index] = (start, ch.end)

    env.process(weight_loader(env, core_channels, port))
    seq = env.process(sequencer())
    if max_cycles is not None:
        guard = env.timeout(max_cycles)
        env.run(until=simpy.AnyOf(env, [seq, guard]))
        if not seq.triggered:
            raise RuntimeError(
                f"simulation of {net.name} did not finish within {max_cycles} cycles "
                f"(layers finished: {len(spans)} of {len(placement.plans)})"
            )
    else:
        try:
            env.run(until=seq)
        except RuntimeError as err:  # simpy: no events left before the network ended
            raise RuntimeError(
                f"simulation of {net.name} deadlocked at cycle {env.now} "
                f"(layers finished: {len(spans)} of {len(placement.plans)}): {err}"
            ) from None
    lb_trace = StepTrace("line_buffer_bytes")
    if record_occupancy:
        for ch in core_channels:
            line_buffer_occupancy(ch, lb_trace)
    return build_result(
        placement, spans, channels, port, ddr, lb_trace, record_occupancy=record_occupancy
    )


def _split_overrides(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(run options, config overrides): ``overrides=`` plus ``core__ic_batch=``-style keys."""
    run_keys = {"batch", "strict", "record_occupancy"}
    run = {k: kwargs.pop(k) for k in run_keys & kwargs.keys()}
    cfg: dict[str, Any] = dict(kwargs.pop("overrides", None) or {})
    cfg.update({k.replace("__", "."): v for k, v in kwargs.items()})
    return run, cfg


def simulate(network: Network | str, hw: HwConfig | str, **kwargs: Any) -> SimResult:
    """Simulate a network on a machine; see :func:`accelsim.simulate`."""
    run, cfg = _split_overrides(dict(kwargs))
    net = load_network(network)
    hwc = load_hw(hw, cfg or None)
    batch = run.get("batch")
    if batch is not None:
        if not isinstance(batch, int) or batch < 1:
            raise AccelsimError(f"batch must be an integer >= 1, got {batch!r}")
        net = net.with_batch(batch)
    placement = place_network(net, hwc, strict=bool(run.get("strict", False)))
    return run_placement(placement, record_occupancy=bool(run.get("record_occupancy", True)))


__all__ = ["SimResult", "address_map", "make_ddr_model", "run_placement", "simulate", "np"]
