"""The simulation result and its per-layer metrics (spec section 4).

:func:`build_result` reduces the records of a finished run to plain numbers and numpy arrays;
everything here is a pure function of those records. Definitions:

- ``cycles = end - start``; ``pe_busy_cycles`` = pixels x cycles per pixel; stalls by cause
  (weights, input, output) count the idle cycles from the layer start to the last PE cycle;
  ``drain_cycles`` = end - last PE cycle (pipeline + final writes). They add up to ``cycles``.
- MACs useful ``H_o*W_o*C_out*C_in*9`` per image; issued ``busy x ic_batch x oc_batch x 9``.
- Peak ``2*ic*oc*9*f``; achieved ``2 x useful MACs / layer time``; utilisation = achieved/peak.
- DDR figures count the grants a layer owns (its feature reads, its weights, its writes), even
  when a weight grant ran during an earlier layer. ``ddr_efficiency`` = bytes / (busy x peak).
- Roofline: intensity = ops / DDR bytes; attainable = min(peak, intensity x DDR peak).
- Occupancies are exact step functions; per layer the max and time-weighted mean over
  [start, end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from accelsim.config.schema import STREAMS
from accelsim.engine.trace import Steps, StepTrace
from accelsim.mapping import Placement, ddr_peak_bytes_per_s, peak_ops_per_s

if TYPE_CHECKING:  # pragma: no cover - the records' types; importing hw here would pull numba
    from accelsim.hw.channels import LayerChannels
    from accelsim.hw.core import MachineRun

W_STREAM, F_STREAM, O_STREAM = (STREAMS.index(s) for s in ("weights", "features", "outputs"))


class StallCycles(TypedDict):
    """Idle PE cycles by cause, charged in the order weights, input, output (spec 3.4)."""

    weights: int
    input: int
    output: int


class LayerReport(TypedDict, total=False):
    """One layer of :attr:`SimResult.layers` (the ``layers`` entries of ``run --json``).

    Every layer has the keys up to ``ddr_efficiency``; core layers also have the roofline,
    DRAM and occupancy keys (occupancy ones only when occupancy was recorded).
    """

    index: int
    name: str
    kind: str  # "core" | "host"
    op: str
    start_cycle: int
    end_cycle: int
    cycles: int
    pe_busy_cycles: int
    stall_cycles: StallCycles
    drain_cycles: int
    macs_useful: int
    macs_issued: int
    mapping_efficiency: float
    peak_gops: float
    achieved_gops: float
    utilization: float
    ddr_bytes_read: int
    ddr_bytes_read_features: int
    ddr_bytes_read_weights: int
    ddr_bytes_written: int
    port_busy_cycles: int
    achieved_bandwidth_gbps: float
    ddr_efficiency: float
    passes: int
    row_hits: int
    row_misses: int
    refresh_ddr_cycles: int
    arithmetic_intensity: float
    attainable_gops: float
    bound: str  # "compute" | "memory"
    line_buffer_max_bytes: int
    line_buffer_mean_bytes: float
    output_fifo_max_groups: int
    output_fifo_mean_groups: float
    ddr_queue_max_requests: int
    ddr_queue_mean_requests: float
    weight_bank0_max_bytes: int
    weight_bank0_mean_bytes: float
    weight_bank1_max_bytes: int
    weight_bank1_mean_bytes: float


@dataclass
class SimResult:
    """What :func:`accelsim.simulate` returns: plain numbers and numpy arrays."""

    network: str
    hw: str
    clock_mhz: float
    batch: int
    layers: list[LayerReport]
    total: dict[str, Any]
    traces: dict[str, Steps] = field(default_factory=dict, repr=False)
    grants: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def layer(self, name: str) -> LayerReport:
        for lay in self.layers:
            if lay["name"] == name:
                return lay
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        """The JSON report: ``{network, hw, clock_mhz, layers, total}``."""
        return {
            "network": self.network,
            "hw": self.hw,
            "clock_mhz": self.clock_mhz,
            "batch": self.batch,
            "layers": self.layers,
            "total": self.total,
        }


def _bank_traces(core: list[LayerChannels]) -> tuple[list[StepTrace], list[StepTrace]]:
    bytes_tr = [StepTrace(f"weight_bank{b}_bytes") for b in range(2)]
    state_tr = [StepTrace(f"weight_bank{b}_state") for b in range(2)]
    for j, ch in enumerate(core):
        b = j % 2
        total = 0
        for t, n in ch.weight_log:
            bytes_tr[b].add(t, n)
            total += n
        first_px = int(ch.px_start[0])
        last_px = int(ch.px_end[-1])
        bytes_tr[b].add(last_px, -total)
        # 0 free -> 1 loading -> 2 ready -> 3 in use -> 0 free
        state_tr[b].add(ch.weights_first_request, 1)
        state_tr[b].add(ch.weights_ready, 1)
        state_tr[b].add(first_px, 1)
        state_tr[b].add(last_px, -3)
    return bytes_tr, state_tr


def _fifo_trace(core: list[LayerChannels]) -> StepTrace:
    tr = StepTrace("output_fifo_groups")
    for ch in core:
        tr.add_many(ch.px_start, ch.layout.n_ob)
        n = ch.n_rel
        released = np.diff(np.concatenate([[0], ch.rel_cum[:n]]))
        tr.add_many(ch.rel_time[:n], -released)
    return tr


def build_result(
    placement: Placement, run: MachineRun, *, record_occupancy: bool = True
) -> SimResult:
    """Reduce a finished machine run to per-layer and total figures."""
    spans, channels, port, ddr, lb_trace = (
        run.spans,
        run.channels,
        run.port,
        run.ddr,
        run.line_buffer,
    )
    hw = placement.hw
    net = placement.network
    batch = net.batch
    f_hz = hw.clock_mhz * 1e6
    peak = peak_ops_per_s(hw)
    bw_peak = ddr_peak_bytes_per_s(hw)
    bytes_per_cycle_peak = bw_peak / f_hz
    g = port.log.arrays()
    core = [channels[i] for i in sorted(channels)]
    traces: dict[str, Steps] = {}
    if record_occupancy:
        bytes_tr, state_tr = _bank_traces(core)
        traces["line_buffer_bytes"] = lb_trace.steps()
        for b in range(2):
            traces[f"weight_bank{b}_bytes"] = bytes_tr[b].steps()
            traces[f"weight_bank{b}_state"] = state_tr[b].steps()
        traces["output_fifo_groups"] = _fifo_trace(core).steps()
        traces["ddr_waiting_requests"] = port.queue_trace.steps()
    layers = []
    for p in placement.plans:
        start, end = spans[p.index]
        lay = p.layer
        cycles = end - start
        seconds = cycles / f_hz
        row: dict[str, Any] = {
            "index": p.index,
            "name": lay.name,
            "kind": p.where,
            "op": lay.describe(),
            "start_cycle": int(start),
            "end_cycle": int(end),
            "cycles": int(cycles),
        }
        if p.where == "host":
            ddr_read = p.in_bytes * batch + p.weight_bytes
            ddr_written = p.out_bytes * batch
            ops = lay.ops * batch
            row.update(
                pe_busy_cycles=0, stall_cycles={"weights": 0, "input": 0, "output": 0},
                drain_cycles=0, macs_useful=lay.macs * batch, macs_issued=0,
                mapping_efficiency=0.0, peak_gops=hw.host.ops_per_s / 1e9,
                achieved_gops=ops / seconds / 1e9 if seconds else 0.0,
                utilization=(ops / seconds) / hw.host.ops_per_s if seconds else 0.0,
                ddr_bytes_read=ddr_read, ddr_bytes_read_features=p.in_bytes * batch,
                ddr_bytes_read_weights=p.weight_bytes, ddr_bytes_written=ddr_written,
                port_busy_cycles=0, achieved_bandwidth_gbps=(ddr_read + ddr_written) / seconds / 1e9
                if seconds else 0.0, ddr_efficiency=0.0, row_hits=0, row_misses=0,
                arithmetic_intensity=ops / (ddr_read + ddr_written) if ddr_read + ddr_written else 0.0,
                line_buffer_max_bytes=0, line_buffer_mean_bytes=0.0,
                output_fifo_max_groups=0, output_fifo_mean_groups=0.0,
            )  # fmt: skip
            layers.append(row)
            continue
        ch = channels[p.index]
        lo = ch.layout
        busy = lo.n_px * lo.cycles_per_px
        last_pe = int(ch.px_end[-1])
        macs_useful = lay.macs * batch
        macs_issued = busy * hw.core.ic_batch * hw.core.oc_batch * 9
        mine = g["owner"] == p.index
        fr = mine & (g["stream"] == F_STREAM)
        wr = mine & (g["stream"] == W_STREAM)
        ow = mine & (g["stream"] == O_STREAM)
        b_feat = int(g["nbytes"][fr].sum())
        b_w = int(g["nbytes"][wr].sum())
        b_out = int(g["nbytes"][ow].sum())
        port_busy = int((g["end"][mine] - g["start"][mine]).sum())
        moved = b_feat + b_w + b_out
        ops = 2 * macs_useful
        intensity = ops / moved if moved else 0.0
        attainable = min(peak, intensity * bw_peak)
        achieved = ops / seconds if seconds else 0.0
        row.update(
            pe_busy_cycles=int(busy),
            stall_cycles={
                "weights": int(ch.stalls[0]),
                "input": int(ch.stalls[1]),
                "output": int(ch.stalls[2]),
            },
            drain_cycles=int(end - last_pe),
            macs_useful=int(macs_useful),
            macs_issued=int(macs_issued),
            mapping_efficiency=macs_useful / macs_issued if macs_issued else 0.0,
            passes=p.passes,
            peak_gops=peak / 1e9,
            achieved_gops=achieved / 1e9,
            utilization=achieved / peak,
            ddr_bytes_read=b_feat + b_w,
            ddr_bytes_read_features=b_feat,
            ddr_bytes_read_weights=b_w,
            ddr_bytes_written=b_out,
            port_busy_cycles=port_busy,
            achieved_bandwidth_gbps=moved / seconds / 1e9 if seconds else 0.0,
            ddr_efficiency=moved / (port_busy * bytes_per_cycle_peak) if port_busy else 0.0,
            row_hits=int(g["hits"][mine].sum()),
            row_misses=int(g["misses"][mine].sum()),
            refresh_ddr_cycles=int(g["refresh_ddr_cycles"][mine].sum()),
            arithmetic_intensity=intensity,
            attainable_gops=attainable / 1e9,
            bound="compute" if peak <= intensity * bw_peak else "memory",
        )
        if record_occupancy:
            for key, tname in (
                ("line_buffer", "line_buffer_bytes"),
                ("output_fifo", "output_fifo_groups"),
                ("ddr_queue", "ddr_waiting_requests"),
            ):
                mx, mean = traces[tname].window(start, end)
                unit = {"line_buffer": "bytes", "output_fifo": "groups", "ddr_queue": "requests"}[
                    key
                ]
                row[f"{key}_max_{unit}"] = mx
                row[f"{key}_mean_{unit}"] = mean
            for b in range(2):
                mx, mean = traces[f"weight_bank{b}_bytes"].window(start, end)
                row[f"weight_bank{b}_max_bytes"] = mx
                row[f"weight_bank{b}_mean_bytes"] = mean
        layers.append(row)
    total_cycles = max((r["end_cycle"] for r in layers), default=0)
    seconds = total_cycles / f_hz
    useful = sum(r["macs_useful"] for r in layers if r["kind"] == "core")
    achieved = 2 * useful / seconds if seconds else 0.0
    dd = ddr_totals(ddr)
    total = {
        "cycles": int(total_cycles),
        "seconds": seconds,
        "fps": batch / seconds if seconds else 0.0,
        "achieved_gops": achieved / 1e9,
        "peak_gops": peak / 1e9,
        "ddr_peak_gbps": bw_peak / 1e9,
        "utilization": achieved / peak,
        "pe_busy_cycles": sum(r["pe_busy_cycles"] for r in layers),
        "stall_cycles": {
            k: sum(r["stall_cycles"][k] for r in layers) for k in ("weights", "input", "output")
        },
        "macs_useful": useful,
        "macs_issued": sum(r["macs_issued"] for r in layers),
        "ddr_bytes_read": int(g["nbytes"][g["stream"] != O_STREAM].sum()),
        "ddr_bytes_written": int(g["nbytes"][g["stream"] == O_STREAM].sum()),
        "host_ddr_bytes": sum(
            r["ddr_bytes_read"] + r["ddr_bytes_written"] for r in layers if r["kind"] == "host"
        ),
        "port_busy_cycles": int((g["end"] - g["start"]).sum()),
        "row_hits": int(g["hits"].sum()),
        "row_misses": int(g["misses"].sum()),
        "refreshes": dd.get("refreshes", 0),
        "refresh_ddr_cycles": dd.get("refresh_ddr_cycles", 0),
        "core_layers": sum(r["kind"] == "core" for r in layers),
        "host_layers": sum(r["kind"] == "host" for r in layers),
    }
    moved = total["ddr_bytes_read"] + total["ddr_bytes_written"]
    total["ddr_efficiency"] = (
        moved / (total["port_busy_cycles"] * bytes_per_cycle_peak)
        if total["port_busy_cycles"]
        else 0.0
    )
    total["achieved_bandwidth_gbps"] = moved / seconds / 1e9 if seconds else 0.0
    return SimResult(
        network=net.name, hw=hw.name, clock_mhz=hw.clock_mhz, batch=batch,
        layers=layers, total=total, traces=traces, grants=g,
    )  # fmt: skip


def ddr_totals(ddr: Any) -> dict[str, int]:
    """Whole-run counters of the DDR model (refresh cycles in accelerator cycles if known)."""
    stats = getattr(ddr, "stats", None)
    if callable(stats):
        stats = stats()
    if stats is None:
        return {}
    out = {}
    for name in ("refreshes", "refresh_ddr_cycles", "row_hits", "row_misses"):
        if hasattr(stats, name):
            out[name] = int(getattr(stats, name))
    return out
