"""Wires the blocks for a placed network and runs the event simulation (spec sections 3.6 and 4).

- One simpy environment per run (no global state). One AXI port with the DDR model, one weight
  loader for the whole network, and per pass of a core layer (spec 7: groups x tiles x strips;
  generation 1: one) a feature reader, a PE array and a writer, which share only the
  :class:`~accelsim.hw.channels.PassChannels` made here.
- Layer L starts when layer L-1's last write grant completes (layer 0 at cycle 0) and ends when
  its own last write completes; each pass starts when the previous one's last write completes.
  (A pass also waits for its PE's last pixel: with a fused pool the last conv pixels may emit
  nothing and finish after the last write.)
  Host layers (spec section 5) take their modelled time on the timeline; their DDR traffic goes
  through the ARM's own port and is counted, not arbitrated. A pool fused into the conv before
  it (spec 7.1) takes no time of its own.
- Where tensors sit in DDR and how each core layer is cut into grants is the mapping's business
  (:mod:`accelsim.mapping`); this module only connects the blocks and runs them.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from accelsim.engine.trace import StepTrace
from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import PassChannels, WeightSetState
from accelsim.hw.ddr import DramModel, IdealModel, make_ddr_model
from accelsim.hw.line_buffer import feature_reader, line_buffer_occupancy
from accelsim.hw.output_fifo import writer
from accelsim.hw.pe_array import pe_array
from accelsim.hw.weight_buffer import weight_loader
from accelsim.mapping import Placement, address_map
from accelsim.mapping.layout import make_passes


@dataclass
class MachineRun:
    """The raw records of one finished run, for :mod:`accelsim.report.metrics` to reduce."""

    spans: dict[int, tuple[int, int]]  # layer index -> (start, end) cycle
    passes: dict[int, list[PassChannels]]  # core layer index -> its passes' records
    weight_sets: list[WeightSetState]
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
    env = simpy.Environment()
    ddr = make_ddr_model(hw)
    port = AxiPort(env, hw.axi, ddr)
    layouts = make_passes(placement, address_map(placement, batch))
    passes: dict[int, list[PassChannels]] = {}
    sets: list[WeightSetState] = []
    for layer_passes in layouts:
        chans = []
        for lay in layer_passes:
            if not sets or sets[-1].wset.index != lay.weight_set.index:
                sets.append(WeightSetState(env, lay.weight_set))
            ch = PassChannels(env, lay, sets[-1])
            sets[-1].users.append(ch)
            chans.append(ch)
        passes[layer_passes[0].layer] = chans
    spans: dict[int, tuple[int, int]] = {}
    fifo = hw.output_fifo.groups
    latency = hw.core.pipeline_latency_cycles

    def sequencer():  # type: ignore[no-untyped-def]
        for p in placement.plans:
            start = env.now
            if p.where == "host":
                cycles = p.host_cycles * batch
                if cycles:
                    yield env.timeout(cycles)
            elif p.where == "core":
                for ch in passes[p.index]:
                    ch.start = env.now
                    env.process(feature_reader(env, ch, port))
                    env.process(pe_array(env, ch, fifo))
                    yield env.process(writer(env, ch, port, latency))
                    # A fused pool may leave the last conv pixels out of every window: they
                    # emit nothing, so the last write can complete before the PE (and the
                    # reader feeding it) is done. The pass ends when both are.
                    wait = ch.until_scheduled(ch.layout.n_px - 1)
                    if wait is not None:
                        yield wait
                    t_pe = int(ch.px_end[-1])
                    if t_pe > env.now:
                        yield env.timeout(t_pe - env.now)
                    ch.end = env.now
            spans[p.index] = (start, env.now)

    env.process(weight_loader(env, sets, port))
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
        for chans in passes.values():
            for ch in chans:
                line_buffer_occupancy(ch, lb_trace)
    return MachineRun(spans, passes, sets, port, ddr, lb_trace)
