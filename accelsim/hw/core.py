"""Wires the blocks for a placed network and runs the event simulation (spec sections 3.6 and 4).

- One simpy environment per run (no global state). One AXI port with the DDR model, one weight
  loader for the whole network, and per core layer a feature reader, a PE array and a writer,
  which share only the :class:`~accelsim.hw.channels.LayerChannels` made here.
- Layer L starts when layer L-1's last write grant completes (layer 0 at cycle 0) and ends when
  its own last write completes. Host layers (spec section 5) take their modelled time on the
  timeline; their DDR traffic goes through the ARM's own port and is counted, not arbitrated.
- Where tensors sit in DDR and how each core layer is cut into grants is the mapping's business
  (:mod:`accelsim.mapping`); this module only connects the blocks and runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from accelsim.engine.trace import StepTrace
from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import LayerChannels
from accelsim.hw.ddr import DramModel, IdealModel, make_ddr_model
from accelsim.hw.line_buffer import feature_reader, line_buffer_occupancy
from accelsim.hw.output_fifo import writer
from accelsim.hw.pe_array import pe_array
from accelsim.hw.weight_buffer import weight_loader
from accelsim.mapping import Placement, address_map, make_layout


@dataclass
class MachineRun:
    """The raw records of one finished run, for :mod:`accelsim.report.metrics` to reduce."""

    spans: dict[int, tuple[int, int]]  # layer index -> (start, end) cycle
    channels: dict[int, LayerChannels]  # core layer index -> its records
    port: AxiPort
    ddr: DramModel | IdealModel
    line_buffer: StepTrace


def run_machine(
    placement: Placement, *, record_occupancy: bool = True, max_cycles: int | None = None
) -> MachineRun:
    """Run a placed network on the machine. Every layer must be placeable (``placement.check()``).

    ``max_cycles`` is a hang guard: a run still going at that cycle raises ``RuntimeError``
    (a simulator bug, never a user mistake), as does a run that deadlocks.
    """
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
    return MachineRun(spans, channels, port, ddr, lb_trace)
