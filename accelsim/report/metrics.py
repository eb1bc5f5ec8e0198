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
- Roofline: intensity = ops / DDR bytes; attainable = min(peak, intensity x DDR peak);
  ``roofline_bound`` is the roof that bounds it. ``bound`` is the measured limiter
  (:func:`accelsim.report.bound.measured_bound`).
- Occupancies are exact step functions; per layer the max and time-weighted mean over
  [start, end).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from accelsim.config.schema import STREAMS
from accelsim.engine.trace import Steps, StepTrace
from accelsim.mapping import LayerPlan, Placement, ddr_peak_bytes_per_s, peak_ops_per_s
from accelsim.report.bound import measured_bound, port_busy_between

if TYPE_CHECKING:  # pragma: no cover - the records' types; importing hw here would pull numba
    from accelsim.config.schema import HwConfig
    from accelsim.hw.channels import PassChannels, WeightSetState
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
    kind: str  # "core" | "host" | "fused" (a max-pool run inside the conv before it, spec 7.1)
    op: str
    how: str  # how it ran (core: kernel, sub-kernels, passes, tiles, strips, fused pool) or why not
    reason: str  # host and fused layers: why they are not a core layer of their own
    kernel: int  # core layers (spec 7.2): kernel size, 3x3 sub-kernels, packing, groups
    sub_kernels: int
    packed_1x1: bool
    groups: int
    tiles: int  # output-channel tiles (spec 7.3)
    strips: int  # column strips (spec 7.4)
    machine_passes: int  # groups x tiles x strips
    fused_pool: str  # the max-pool fused into this conv (spec 7.1), or ""
    start_cycle: int
    end_cycle: int
    cycles: int
    pe_busy_cycles: int
    stall_cycles: StallCycles
    drain_cycles: int
    first_pe_cycle: int  # core layers: the first PE cycle of the first pass
    last_pe_cycle: int  # and the end of the last PE cycle of the last pass
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
    roofline_bound: str  # "compute" | "memory": the static roofline class
    port_busy_in_layer_cycles: int  # cycles of [start, end) the AXI port carried any grant
    bound: str  # the measured limiter, every layer (accelsim.report.bound.measured_bound)
    line_buffer_max_bytes: int
    line_buffer_mean_bytes: float
    output_fifo_max_groups: int
    output_fifo_mean_groups: float
    ddr_queue_max_requests: int
    ddr_queue_mean_requests: float
    pool_buffer_max_bytes: int
    pool_buffer_mean_bytes: float
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

    def to_pandas(self) -> Any:
        """The per-layer reports as a ``pandas.DataFrame`` indexed by layer name (needs pandas;
        :mod:`accelsim.report.frame`)."""
        from accelsim.report.frame import layers_frame

        return layers_frame(self.layers)

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


def _bank_traces(
    sets: list[WeightSetState], g: dict[str, np.ndarray]
) -> tuple[list[StepTrace], list[StepTrace]]:
    """Weight banks (spec 3.2): bytes in each bank and its state, from the weight grants
    (the loader's grants come set after set, in order) and the sets' first and last PE cycles."""
    bytes_tr = [StepTrace(f"weight_bank{b}_bytes") for b in range(2)]
    state_tr = [StepTrace(f"weight_bank{b}_state") for b in range(2)]
    if not sets:
        return bytes_tr, state_tr
    w = g["stream"] == W_STREAM
    per_set = [-(-ws.wset.nbytes // ws.wset.grant_bytes) for ws in sets]  # grants per set
    bank_of_grant = np.repeat(np.array([ws.wset.bank for ws in sets]), per_set)
    ends, nbytes = g["end"][w], g["nbytes"][w]
    bank = np.array([ws.wset.bank for ws in sets])
    total = np.array([ws.wset.nbytes for ws in sets], dtype=np.int64)
    first_req = np.array([ws.first_request for ws in sets], dtype=np.int64)
    ready = np.array([ws.ready for ws in sets], dtype=np.int64)
    first_px = np.array([ws.users[0].px_start[0] for ws in sets], dtype=np.int64)
    last_px = np.array([ws.users[-1].px_end[-1] for ws in sets], dtype=np.int64)
    for b in range(2):
        mine = bank == b
        bytes_tr[b].add_many(ends[bank_of_grant == b], nbytes[bank_of_grant == b])
        bytes_tr[b].add_many(last_px[mine], -total[mine])
        # 0 free -> 1 loading -> 2 ready -> 3 in use -> 0 free
        state_tr[b].add_many(first_req[mine], 1)
        state_tr[b].add_many(ready[mine], 1)
        state_tr[b].add_many(first_px[mine], 1)
        state_tr[b].add_many(last_px[mine], -3)
    return bytes_tr, state_tr


def _queue_trace(g: dict[str, np.ndarray]) -> StepTrace:
    """Requests waiting for the AXI port (spec 3.1): each from its post until its grant."""
    tr = StepTrace("ddr_waiting_requests")
    tr.add_many(g["posted"], 1)
    tr.add_many(g["start"], -1)
    return tr


def _fifo_trace(passes: list[PassChannels]) -> StepTrace:
    tr = StepTrace("output_fifo_groups")
    for ch in passes:
        tr.add_many(ch.px_start, ch.layout.reserve)
        n = ch.n_rel
        released = np.diff(np.concatenate([[0], ch.rel_cum[:n]]))
        tr.add_many(ch.rel_time[:n], -released)
    return tr


def _pool_trace(passes: list[PassChannels], latency: int) -> StepTrace:
    """Fused pools (spec 7.1): a pooled pixel holds its partial maxima from its first conv
    pixel's pipeline exit until it enters the FIFO."""
    tr = StepTrace("pool_buffer_bytes")
    for ch in passes:
        lay = ch.layout
        if not lay.pooled:
            continue
        done = ch.px_end + latency
        nbytes = lay.m * lay.out_group_bytes
        tr.add_many(done[lay.opener], nbytes)
        tr.add_many(done[lay.emitter], -nbytes)
    return tr


def _occupancy_windows(rows: list[dict[str, Any]], traces: dict[str, Steps]) -> None:
    """Per core layer, the max and time-weighted mean of every occupancy over [start, end)."""
    starts = np.array([r["start_cycle"] for r in rows], dtype=np.int64)
    ends = np.array([r["end_cycle"] for r in rows], dtype=np.int64)
    for key, tname, unit in (
        ("line_buffer", "line_buffer_bytes", "bytes"),
        ("output_fifo", "output_fifo_groups", "groups"),
        ("ddr_queue", "ddr_waiting_requests", "requests"),
        ("pool_buffer", "pool_buffer_bytes", "bytes"),
        ("weight_bank0", "weight_bank0_bytes", "bytes"),
        ("weight_bank1", "weight_bank1_bytes", "bytes"),
    ):
        mx, mean = traces[tname].windows(starts, ends)
        for r, a, b in zip(rows, mx, mean, strict=True):
            r[f"{key}_max_{unit}"] = a
            r[f"{key}_mean_{unit}"] = b


def _zero_row(row: dict[str, Any]) -> None:
    """The core-only figures of a layer that has none (host or fused layers)."""
    row.update(
        pe_busy_cycles=0, stall_cycles={"weights": 0, "input": 0, "output": 0},
        drain_cycles=0, macs_issued=0, mapping_efficiency=0.0, port_busy_cycles=0,
        ddr_efficiency=0.0, row_hits=0, row_misses=0, line_buffer_max_bytes=0,
        line_buffer_mean_bytes=0.0, output_fifo_max_groups=0, output_fifo_mean_groups=0.0,
    )  # fmt: skip


def _how(p: LayerPlan) -> dict[str, Any]:
    """How a layer ran (spec 7.5): core layers their mapping, the others their reason."""
    if p.where != "core":
        why = p.reasons[0].split(": ", 1)[1] if p.reasons else ""
        return {"how": why, "reason": why}
    return {
        "how": p.how(),
        "kernel": p.kernel,
        "sub_kernels": p.sub_kernels,
        "packed_1x1": p.packed,
        "groups": p.groups,
        "tiles": p.tiles,
        "strips": len(p.strips),
        "machine_passes": p.n_passes,
        "fused_pool": p.pool.name if p.pool is not None else "",
    }


def build_result(
    placement: Placement, run: MachineRun, *, record_occupancy: bool = True
) -> SimResult:
    """Reduce a finished machine run to per-layer and total figures."""
    hw = placement.hw
    net = placement.network
    batch = net.batch
    f_hz = hw.clock_mhz * 1e6
    peak = peak_ops_per_s(hw)
    bw_peak = ddr_peak_bytes_per_s(hw)
    bytes_per_cycle_peak = bw_peak / f_hz
    g = run.port.log.arrays()
    all_passes = [ch for i in sorted(run.passes) for ch in run.passes[i]]
    traces: dict[str, Steps] = {}
    if record_occupancy:
        bytes_tr, state_tr = _bank_traces(run.weight_sets, g)
        traces["line_buffer_bytes"] = run.line_buffer.steps()
        for b in range(2):
            traces[f"weight_bank{b}_bytes"] = bytes_tr[b].steps()
            traces[f"weight_bank{b}_state"] = state_tr[b].steps()
        traces["output_fifo_groups"] = _fifo_trace(all_passes).steps()
        traces["pool_buffer_bytes"] = _pool_trace(
            all_passes, hw.core.pipeline_latency_cycles
        ).steps()
        traces["ddr_waiting_requests"] = _queue_trace(g).steps()
    layers = []
    for p in placement.plans:
        start, end = run.spans[p.index]
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
            **_how(p),
        }
        if p.where in ("host", "fused"):
            host = p.where == "host"
            ddr_read = (p.in_bytes * batch + p.weight_bytes) if host else 0
            ddr_written = p.out_bytes * batch if host else 0
            ops = lay.ops * batch if host else 0
            _zero_row(row)
            row.update(
                macs_useful=lay.macs * batch if host else 0,
                peak_gops=hw.host.ops_per_s / 1e9 if host else 0.0,
                achieved_gops=ops / seconds / 1e9 if seconds else 0.0,
                utilization=(ops / seconds) / hw.host.ops_per_s if seconds else 0.0,
                ddr_bytes_read=ddr_read, ddr_bytes_read_features=ddr_read - p.weight_bytes * host,
                ddr_bytes_read_weights=p.weight_bytes * host, ddr_bytes_written=ddr_written,
                achieved_bandwidth_gbps=(ddr_read + ddr_written) / seconds / 1e9 if seconds else 0.0,
                arithmetic_intensity=ops / (ddr_read + ddr_written) if ddr_read + ddr_written else 0.0,
            )  # fmt: skip
            layers.append(row)
            continue
        chans = run.passes[p.index]
        busy = sum(ch.layout.n_px * ch.layout.cycles_per_px for ch in chans)
        stalls = sum(ch.stalls for ch in chans)
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
        stall = {"weights": int(stalls[0]), "input": int(stalls[1]), "output": int(stalls[2])}
        row.update(
            pe_busy_cycles=int(busy),
            stall_cycles=stall,
            drain_cycles=int(cycles - busy - sum(stall.values())),
            first_pe_cycle=int(chans[0].px_start[0]),
            last_pe_cycle=int(chans[-1].px_end[-1]),
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
            roofline_bound="compute" if peak <= intensity * bw_peak else "memory",
            port_busy_in_layer_cycles=port_busy_between(g["start"], g["end"], start, end),
        )
        layers.append(row)
    if record_occupancy:
        _occupancy_windows([r for r in layers if r["kind"] == "core"], traces)
    for row in layers:
        row["bound"] = measured_bound(row)
    total = _totals(layers, g, run.ddr, hw, batch, peak, bw_peak)
    return SimResult(
        network=net.name, hw=hw.name, clock_mhz=hw.clock_mhz, batch=batch,
        layers=layers, total=total, traces=traces, grants=g,
    )  # fmt: skip


def _totals(
    layers: list[dict[str, Any]], g: dict[str, np.ndarray], ddr: Any, hw: HwConfig, batch: int,
    peak: float, bw_peak: float,
) -> dict[str, Any]:  # fmt: skip
    """Whole-network figures (spec 4, 7.5): time, work and DDR traffic of every layer, host
    layers included; the port's figures (busy, efficiency, rows) are the core's own."""
    f_hz = hw.clock_mhz * 1e6
    total_cycles = max((r["end_cycle"] for r in layers), default=0)
    seconds = total_cycles / f_hz
    useful = sum(r["macs_useful"] for r in layers)
    achieved = 2 * useful / seconds if seconds else 0.0
    host = [r for r in layers if r["kind"] == "host"]
    host_read = sum(r["ddr_bytes_read"] for r in host)
    host_written = sum(r["ddr_bytes_written"] for r in host)
    core_read = int(g["nbytes"][g["stream"] != O_STREAM].sum())
    core_written = int(g["nbytes"][g["stream"] == O_STREAM].sum())
    port_busy = int((g["end"] - g["start"]).sum())
    busy = sum(r["pe_busy_cycles"] for r in layers)
    core_cycles = sum(r["cycles"] for r in layers if r["kind"] == "core")
    host_cycles = sum(r["cycles"] for r in host)
    dd = ddr_totals(ddr)
    moved = core_read + core_written + host_read + host_written
    return {
        "cycles": int(total_cycles),
        "seconds": seconds,
        "fps": batch / seconds if seconds else 0.0,
        "achieved_gops": achieved / 1e9,
        "peak_gops": peak / 1e9,
        "ddr_peak_gbps": bw_peak / 1e9,
        "utilization": achieved / peak,
        "pe_busy_cycles": busy,
        "pe_busy_share": busy / total_cycles if total_cycles else 0.0,
        "core_cycles": core_cycles,
        "host_cycles": host_cycles,
        "core_time_share": core_cycles / total_cycles if total_cycles else 0.0,
        "host_time_share": host_cycles / total_cycles if total_cycles else 0.0,
        "stall_cycles": {
            k: sum(r["stall_cycles"][k] for r in layers) for k in ("weights", "input", "output")
        },
        "macs_useful": useful,
        "core_macs_useful": sum(r["macs_useful"] for r in layers if r["kind"] == "core"),
        "macs_issued": sum(r["macs_issued"] for r in layers),
        "ddr_bytes_read": core_read + host_read,
        "ddr_bytes_written": core_written + host_written,
        "core_ddr_bytes_read": core_read,
        "core_ddr_bytes_written": core_written,
        "host_ddr_bytes": host_read + host_written,
        "port_busy_cycles": port_busy,
        "ddr_efficiency": (core_read + core_written) / (port_busy * bw_peak / f_hz)
        if port_busy
        else 0.0,
        "achieved_bandwidth_gbps": moved / seconds / 1e9 if seconds else 0.0,
        "row_hits": int(g["hits"].sum()),
        "row_misses": int(g["misses"].sum()),
        "refreshes": dd.get("refreshes", 0),
        "refresh_ddr_cycles": dd.get("refresh_ddr_cycles", 0),
        "core_layers": sum(r["kind"] == "core" for r in layers),
        "host_layers": len(host),
        "fused_layers": sum(r["kind"] == "fused" for r in layers),
    }


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
