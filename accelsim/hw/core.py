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
- The sequence of layers and passes is closed form once a pass's end is known, so the sequencer
  is a callback on the pass's end, not a process: it starts the next pass (its reader and writer
  become the port's feature and output masters, its PE array starts) at that cycle, or after the
  host layers in between.
- The port and its masters run compiled by default (:mod:`accelsim.hw.port_loop`, the same
  grants and records as the plain :class:`~accelsim.hw.arbiter.AxiPort` with the blocks'
  Python masters, which ``port="plain"`` selects and tests/hw/test_port_loop.py compares); the
  loop hands each pass end back to the sequencer here.
- Where tensors sit in DDR and how each core layer is cut into grants is the mapping's business
  (:mod:`accelsim.mapping`); this module only connects the blocks and runs them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import simpy

from accelsim.engine.events import trigger_at
from accelsim.engine.trace import StepTrace
from accelsim.hw.arbiter import AxiPort
from accelsim.hw.channels import PassChannels, WeightSetState
from accelsim.hw.ddr import DramModel, IdealModel, make_ddr_model
from accelsim.hw.line_buffer import FeatureReader, line_buffer_occupancy
from accelsim.hw.output_fifo import Writer
from accelsim.hw.pe_array import PeArray
from accelsim.hw.port_loop import CompiledPort, fits
from accelsim.hw.weight_buffer import WeightLoader
from accelsim.mapping import LayerPlan, Placement, address_map
from accelsim.mapping.layout import make_passes


@dataclass
class MachineRun:
    """The raw records of one finished run, for :mod:`accelsim.report.metrics` to reduce."""

    spans: dict[int, tuple[int, int]]  # layer index -> (start, end) cycle
    passes: dict[int, list[PassChannels]]  # core layer index -> its passes' records
    weight_sets: list[WeightSetState]
    port: AxiPort | CompiledPort
    ddr: DramModel | IdealModel
    line_buffer: StepTrace


class _Sequencer:
    """Layers in order (spec 3.6): starts each pass of a core layer when the previous ends."""

    def __init__(
        self, env: simpy.Environment, plans: tuple[LayerPlan, ...],
        passes: dict[int, list[PassChannels]], begin: Callable[[PassChannels], None],
        batch: int,
    ) -> None:  # fmt: skip
        self.env = env
        self.plans = plans
        self.passes = passes
        self.begin = begin  # starts a pass's reader, writer and PE array at ``ch.start``
        self.batch = batch
        self.spans: dict[int, tuple[int, int]] = {}
        self.finished = env.event()
        self.end = -1  # the network's last cycle, once known
        self._li = 0  # the layer the sequence stands at
        self._pi = 0  # its pass
        self._layer_start = 0

    def run_from(self, t: int) -> None:
        """The sequence reaches layer ``_li`` at cycle ``t``: walk host and fused layers, start
        the next core layer's first pass."""
        plans = self.plans
        while self._li < len(plans):
            p = plans[self._li]
            if p.where == "core":
                self._layer_start = t
                self._pi = 0
                self._start_pass(self.passes[p.index][0], t)
                return
            start = t
            if p.where == "host":
                t += p.host_cycles * self.batch
            self.spans[p.index] = (start, t)
            self._li += 1
        self.end = t
        trigger_at(self.env, self.finished, max(t, self.env.now))

    def _start_pass(self, ch: PassChannels, t: int) -> None:
        ch.start = t
        self.begin(ch)

    def pass_ended(self, ch: PassChannels) -> None:
        """``ch``'s pass has ended (its ``end`` is set): start the next pass or layer."""
        t = ch.end
        layer = self.plans[self._li].index
        self._pi += 1
        chans = self.passes[layer]
        if self._pi < len(chans):
            self._start_pass(chans[self._pi], t)
            return
        self.spans[layer] = (self._layer_start, t)
        self._li += 1
        self.run_from(t)


def run_machine(
    placement: Placement,
    *,
    record_occupancy: bool = True,
    max_cycles: int | None = None,
    port: Literal["auto", "compiled", "plain"] = "auto",
) -> MachineRun:
    """Run a placed network on the machine. Every layer must be placeable (``placement.check()``).

    ``max_cycles`` is a hang guard: a run still going at that cycle raises ``RuntimeError``
    (a simulator bug, never a user mistake), as does a run that deadlocks.
    ``port``: ``plain`` serves grants with the Python port and masters (:class:`AxiPort`),
    ``compiled`` with their compiled twin (:mod:`accelsim.hw.port_loop`; same cycles, same
    grants), ``auto`` the compiled one whenever its int64 arithmetic is exact (nearly always).
    """
    hw = placement.hw
    net = placement.network
    env = simpy.Environment()
    ddr = make_ddr_model(hw)
    if port not in ("auto", "compiled", "plain"):
        raise ValueError(f"port must be auto, compiled or plain, got {port!r}")
    exact = fits(ddr)
    if port == "compiled" and not exact:
        raise ValueError("the compiled port cannot serve this clock ratio exactly: use plain")
    compiled = port == "compiled" or (port == "auto" and exact)
    layouts = make_passes(placement, address_map(placement, net.batch))
    passes: dict[int, list[PassChannels]] = {}
    pes: dict[int, PeArray] = {}
    sets: list[WeightSetState] = []
    for layer_passes in layouts:
        chans = []
        for lay in layer_passes:
            if not sets or sets[-1].wset.index != lay.weight_set.index:
                sets.append(WeightSetState(lay.weight_set))
            ch = PassChannels(lay, sets[-1])
            sets[-1].users.append(ch)
            pe = PeArray(ch, hw.output_fifo.groups)
            ch.wake_pe = pe.advance
            pes[id(ch)] = pe
            chans.append(ch)
        passes[layer_passes[0].layer] = chans
    latency = hw.core.pipeline_latency_cycles
    the_port: AxiPort | CompiledPort
    if compiled:
        cport = CompiledPort(
            env, hw.axi, ddr, sets, sum(map(len, passes.values())), horizon=max_cycles
        )

        def begin(ch: PassChannels) -> None:
            cport.begin_pass(ch, pes[id(ch)], latency)

        the_port = cport
    else:
        plain = AxiPort(env, hw.axi, ddr, horizon=max_cycles)

        def begin(ch: PassChannels) -> None:
            plain.attach("features", FeatureReader(ch))
            plain.attach("outputs", Writer(ch, latency))
            pes[id(ch)].start()

        plain.attach("weights", WeightLoader(sets))
        the_port = plain
    seq = _Sequencer(env, placement.plans, passes, begin, net.batch)
    if compiled:
        cport.on_pass_end = seq.pass_ended
    else:
        for chans in passes.values():
            for ch in chans:
                ch.on_end = seq.pass_ended
    seq.run_from(0)
    the_port.start(0)
    spans = seq.spans
    if max_cycles is not None:
        guard = env.timeout(max_cycles)
        env.run(until=simpy.AnyOf(env, [seq.finished, guard]))
        if not (0 <= seq.end <= max_cycles):
            done = sum(end <= max_cycles for _, end in spans.values())
            raise RuntimeError(
                f"simulation of {net.name} did not finish within {max_cycles} cycles "
                f"(layers finished: {done} of {len(placement.plans)})"
            )
    else:
        try:
            env.run(until=seq.finished)
        except RuntimeError as err:  # simpy: no events left before the network ended
            # where the port ran dry (the compiled loop keeps its own clock: port_loop.py)
            at = max(env.now, the_port.cycle)
            raise RuntimeError(
                f"simulation of {net.name} deadlocked at cycle {at} "
                f"(layers finished: {len(spans)} of {len(placement.plans)}): {err}"
            ) from None
    if compiled:
        cport.finish()
    lb_trace = StepTrace("line_buffer_bytes")
    if record_occupancy:
        for chans in passes.values():
            for ch in chans:
                line_buffer_occupancy(ch, lb_trace)
    return MachineRun(spans, passes, sets, the_port, ddr, lb_trace)
