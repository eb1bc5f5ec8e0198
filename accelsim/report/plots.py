"""Plots of runs and sweeps (matplotlib figures rendered to files; nothing is ever shown).

Every plot function takes its data and ``out``: a matplotlib ``Axes`` (or a sequence of axes
for :func:`plot_occupancy`) to draw into, or a path (``.png``, ``.svg`` or ``.pdf``), in which
case it makes a figure, saves it and closes it. It returns what it drew into (the axes) or the path.

- :func:`plot_utilization`: per core layer, a bar of the peak GOPS split into what was achieved
  and what was lost to each cause. The split is exact: with ``cycles = busy + stalls + drain``,
  utilisation = (busy / cycles) x (useful / issued MACs), so peak x (busy / cycles) x (1 -
  mapping efficiency) is lost to channel padding and peak x (stall or drain) / cycles to each
  stall cause and to the drain.
- :func:`plot_occupancy`: the occupancy step functions of a layer range (line buffer, weight
  bank bytes and states, output FIFO, DDR queue), from ``accelsim run --occupancy`` output.
- :func:`plot_roofline`: the compute and DDR roofs with each core layer at its intensity and
  achieved GOPS, marked by its measured bound (:mod:`accelsim.report.bound`).
- :func:`plot_sweep`: a result column against a varied parameter, one line per network or per
  value of a second parameter; any other varied parameter is filtered (``where``) or reduced
  (``agg``).
- :func:`plot_pareto`: two result columns of a sweep with the Pareto front of the points that
  fit the part highlighted.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import FuncFormatter

from accelsim.errors import AccelsimError
from accelsim.ioutil import atomic_write, show_path
from accelsim.report import inputs
from accelsim.report.sweep_table import SweepTable, format_value, parse_values, read_results

FORMATS = (".png", ".svg", ".pdf")

#: Segments of a utilisation bar, bottom to top: (key, label, colour).
UTIL_SEGMENTS = (
    ("achieved", "achieved", "#2e7d32"),
    ("mapping", "lost: mapping (padding, passes)", "#9e9e9e"),
    ("weights", "lost: stall weights", "#c62828"),
    ("input", "lost: stall input", "#ef6c00"),
    ("output", "lost: stall output", "#6a1b9a"),
    ("drain", "lost: drain", "#1565c0"),
    ("host", "lost: layer on the host", "#5d4037"),
)
#: Marker and colour of a roofline point by the layer's measured bound (report/bound.py).
BOUND_STYLE = {
    "compute": ("o", "#c62828"),
    "mapping": ("^", "#9e9e9e"),
    "memory": ("s", "#1565c0"),
    "weights": ("v", "#ad1457"),
    "input": ("P", "#ef6c00"),
    "output": ("X", "#6a1b9a"),
    "drain": ("D", "#00838f"),
    "host": ("h", "#5d4037"),
}
BANK_STATES = (
    ("free", "#eeeeee"),
    ("loading", "#ffb74d"),
    ("ready", "#64b5f6"),
    ("in use", "#43a047"),
)

#: Units of result columns and config fields, for axis labels.
COLUMN_LABELS = {
    "cycles": "total cycles",
    "seconds": "time per batch (s)",
    "fps": "throughput (frames/s)",
    "utilization": "PE utilisation (achieved / peak)",
    "achieved_gops": "achieved (GOPS)",
    "peak_gops": "peak (GOPS)",
    "ddr_bytes_read": "DDR read (bytes)",
    "ddr_bytes_written": "DDR written (bytes)",
    "ddr_efficiency": "DDR efficiency (bytes / (busy x peak))",
    "bram36": "BRAM36 estimate (blocks)",
    "worst_layer_utilization": "worst layer utilisation",
    "lut": "LUTs (RTL core)", "ff": "flip-flops (RTL core)", "dsp": "DSP48 (RTL core)",
    "rtl_bram36": "BRAM36 (RTL core)",
}
_SUFFIX_UNITS = (
    ("_mhz", "MHz"), ("_bytes", "bytes"), ("_gbps", "GB/s"), ("_cycles", "cycles"),
    ("_batch", "channels"), ("_bits", "bits"), ("_us", "µs"), ("_ps", "ps"),
    ("ops_per_s", "ops/s"),
)  # fmt: skip
# larger is better unless listed here
_MINIMIZE = {"cycles", "seconds", "ddr_bytes_read", "ddr_bytes_written", "bram36", "lut", "ff",
             "rtl_bram36", "dsp"}  # fmt: skip


def label_for(name: str) -> str:
    """An axis label with its unit for a result column or a dotted config path."""
    if name in COLUMN_LABELS:
        return COLUMN_LABELS[name]
    for suffix, unit in _SUFFIX_UNITS:
        if name.endswith(suffix):
            return f"{name} ({unit})"
    return name


# ----------------------------------------------------------------------------- figure plumbing


@contextmanager
def _figure(
    out: Any, figsize: tuple[float, float], nrows: int = 1, ncols: int = 1, **kw: Any
) -> Iterator[Any]:
    """Yield axes to draw into: the caller's, or a new figure's that is saved to ``out`` (one
    Axes, or a flat array of them for several panels)."""
    if isinstance(out, (str, Path)):
        path = Path(out)
        if path.suffix.lower() not in FORMATS:
            raise AccelsimError(f"{path}: plot output must end in .png, .svg or .pdf")
        # A bare Figure renders with Agg (or the SVG backend) and is never registered with
        # pyplot: no window, no global figure list, nothing left open once it goes out of scope.
        fig = Figure(figsize=figsize)
        axes = fig.subplots(nrows, ncols, squeeze=False, **kw)
        try:
            yield axes.ravel() if nrows * ncols > 1 else axes[0, 0]
            fig.tight_layout()
            with atomic_write(path, "wb") as f:
                fig.savefig(f, dpi=120, format=path.suffix.lower()[1:])
        finally:
            fig.clear()
    else:
        yield out


def _result(out: Any, drawn: Any) -> Any:
    return Path(out) if isinstance(out, (str, Path)) else drawn


def load_run(source: Any, plot: str | None = None) -> dict[str, Any]:
    """A run report: a ``SimResult``, its ``to_dict()``, or a path to ``accelsim run --json``;
    with ``plot`` (utilization, roofline) checked to hold what that plot draws."""
    if hasattr(source, "to_dict"):
        return source.to_dict()
    src = "run"
    if isinstance(source, Mapping):
        data: Any = dict(source)
    else:
        src = show_path(source)
        data = inputs.read_json(source)
        if not isinstance(data, dict) or "layers" not in data or "total" not in data:
            raise AccelsimError(f"{src}: not a run report (write one with accelsim run --json)")
    if plot is not None:
        inputs.check_run(data, src, plot)
    return data


def _core_layers(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [lay for lay in run["layers"] if lay.get("kind") == "core"]


def _timed_layers(run: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Core and host layers (a fused pool takes no time of its own), in network order."""
    return [lay for lay in run["layers"] if lay.get("kind") in ("core", "host")]


def _run_title(run: Mapping[str, Any], what: str) -> str:
    return f"{what}: {run['network']} on {run['hw']} @ {run['clock_mhz']:g} MHz"


# ----------------------------------------------------------------------------- utilisation


def utilization_segments(layer: Mapping[str, Any], peak: float | None = None) -> dict[str, float]:
    """A layer's share of the array's peak GOPS: achieved and lost per cause (sums to the
    peak). A host layer leaves the array idle: what it achieves on the host against the
    array's ``peak``, the rest lost to the host (spec 7.5)."""
    cycles = layer["cycles"]
    if not cycles:
        return {key: 0.0 for key, _, _ in UTIL_SEGMENTS}
    if layer.get("kind") == "host":
        assert peak is not None, "a host layer's segments need the array's peak"
        got = min(float(layer["achieved_gops"]), peak)
        return {key: 0.0 for key, _, _ in UTIL_SEGMENTS} | {"achieved": got, "host": peak - got}
    peak = float(layer["peak_gops"])
    st = layer["stall_cycles"]
    busy_frac = layer["pe_busy_cycles"] / cycles
    return {
        "achieved": float(layer["achieved_gops"]),
        "mapping": peak * busy_frac * (1.0 - layer["mapping_efficiency"]),
        "weights": peak * st["weights"] / cycles,
        "input": peak * st["input"] / cycles,
        "output": peak * st["output"] / cycles,
        "drain": peak * layer["drain_cycles"] / cycles,
        "host": 0.0,
    }


def network_segments(run: Mapping[str, Any]) -> dict[str, float]:
    """The whole network's segments: achieved is the network's (its useful ops over its time,
    host layers included); each loss cause is every layer's, weighted by its share of the
    time; what the host layers take is the rest of the peak."""
    peak = float(run["total"]["peak_gops"])
    total = sum(lay["cycles"] for lay in _timed_layers(run))
    out = {key: 0.0 for key, _, _ in UTIL_SEGMENTS}
    if not total:
        return out
    for lay in _core_layers(run):
        for key, value in utilization_segments(lay, peak).items():
            out[key] += value * lay["cycles"] / total
    out["achieved"] = float(run["total"]["achieved_gops"])
    lost = sum(v for k, v in out.items() if k not in ("achieved", "host"))
    out["host"] = max(0.0, peak - out["achieved"] - lost)
    return out


def plot_utilization(run: Any, out: Axes | str | Path, *, title: str | None = None) -> Any:
    """Per layer (host layers included) and for the whole network (each layer weighted by its
    time): achieved GOPS and the rest of the array's peak stacked by loss cause."""
    run = load_run(run, "utilization")
    layers = _timed_layers(run)
    if not layers:
        raise AccelsimError("utilization plot: the run has no core or host layers")
    peak = float(run["total"]["peak_gops"])
    names = [lay["name"] for lay in layers] + ["network"]
    x = np.arange(len(names), dtype=float)
    x[-1] += 0.5  # the network bar stands apart
    with _figure(out, (max(7.5, 0.45 * len(names) + 2.5), 4.8)) as ax:
        bottom = np.zeros(len(names))
        segs = [utilization_segments(lay, peak) for lay in layers] + [network_segments(run)]
        for key, label, colour in UTIL_SEGMENTS:
            h = np.array([s[key] for s in segs])
            ax.bar(
                x,
                h,
                0.75,
                bottom=bottom,
                color=colour,
                label=label,
                edgecolor="white",
                linewidth=0.4,
            )
            bottom += h
        ax.axhline(peak, color="black", linestyle="--", linewidth=1, label=f"peak {peak:g} GOPS")
        rot = 60 if len(names) > 6 else 0
        ax.set_xticks(x, names, rotation=rot, ha="right" if rot else "center", fontsize=8)
        for tick, lay in zip(ax.get_xticklabels(), [*layers, None], strict=True):
            if lay is None:
                tick.set_fontweight("bold")
            elif lay.get("kind") == "host":
                tick.set_color("#5d4037")
        ax.set_xlim(-0.6, x[-1] + 0.6)
        ax.set_ylim(0, peak * 1.25)
        ax.set_xlabel("layer (host layers in brown; network: every layer weighted by its time)")
        ax.set_ylabel("throughput (GOPS)")
        t = title or _run_title(run, "Per-layer utilisation")
        tot = run["total"]
        util = tot["utilization"]
        sub = f"network {util:.1%} of peak"
        if "host_time_share" in tot:
            sub += f"; time on the core {tot['core_time_share']:.0%}, on the host {tot['host_time_share']:.0%}"
        ax.set_title(f"{t}\n{sub}", fontsize=10)
        ax.legend(fontsize=7, ncol=4 if len(names) > 10 else 3, loc="upper center", frameon=False)
    return _result(out, ax)


# ----------------------------------------------------------------------------- roofline


def ddr_peak_gbps(run: Mapping[str, Any]) -> float:
    """The DDR peak of a run report (``total.ddr_peak_gbps``, or inferred from its layers)."""
    peak = run["total"].get("ddr_peak_gbps")
    if peak:
        return float(peak)
    for lay in _core_layers(run):  # older reports: a memory-bound layer's roof is I x BW
        roof = lay.get("roofline_bound", lay.get("bound"))  # before roofline_bound: bound
        if roof == "memory" and lay["arithmetic_intensity"] > 0:
            return float(lay["attainable_gops"]) / float(lay["arithmetic_intensity"])
    raise AccelsimError(
        "roofline plot: the report has no total.ddr_peak_gbps and no memory-bound layer to "
        "infer it from; rewrite it with accelsim run --json"
    )


def plot_roofline(run: Any, out: Axes | str | Path, *, title: str | None = None) -> Any:
    """Compute and DDR roofs (log-log) with every layer at (intensity, achieved GOPS), host
    layers included, and the whole network (its ops over all DDR traffic, core and host)."""
    run = load_run(run, "roofline")
    layers = [lay for lay in _timed_layers(run) if lay["arithmetic_intensity"] > 0]
    if not layers:
        raise AccelsimError("roofline plot: the run has no layers with DDR traffic")
    peak = float(run["total"]["peak_gops"])
    bw = ddr_peak_gbps(run)
    ridge = peak / bw
    ai = np.array([lay["arithmetic_intensity"] for lay in layers], dtype=float)
    got = np.array([lay["achieved_gops"] for lay in layers], dtype=float)
    tot = run["total"]
    moved = tot.get("ddr_bytes_read", 0) + tot.get("ddr_bytes_written", 0)
    net_ai = 2 * tot["macs_useful"] / moved if moved and tot.get("macs_useful") else 0.0
    net_got = float(tot.get("achieved_gops", 0.0))
    lo = min(ai.min(), ridge, net_ai or ridge) / 4
    hi = max(ai.max(), ridge, net_ai) * 4
    xs = np.geomspace(lo, hi, 256)
    with _figure(out, (7.5, 5.2)) as ax:
        left, right = xs[xs <= ridge], xs[xs >= ridge]
        ax.loglog(
            np.append(left, ridge),
            np.append(left, ridge) * bw,
            color="#1565c0",
            linewidth=2,
            label=f"DDR roof {bw:.3g} GB/s",
        )
        ax.loglog(right, right * bw, color="#1565c0", linewidth=0.8, linestyle="--", alpha=0.5)
        ax.loglog(
            np.insert(right, 0, ridge),
            np.full(len(right) + 1, peak),
            color="#c62828",
            linewidth=2,
            label=f"compute roof {peak:.4g} GOPS",
        )
        ax.loglog(
            left,
            np.full(len(left), peak),
            color="#c62828",
            linewidth=0.8,
            linestyle="--",
            alpha=0.5,
        )
        ax.axvline(
            ridge, color="gray", linestyle=":", linewidth=1, label=f"ridge {ridge:.3g} ops/byte"
        )
        if net_ai > 0 and net_got > 0:
            ax.scatter(
                [net_ai], [net_got], marker="*", s=220, color="#ffd600", edgecolor="black",
                zorder=4, label="network (host layers and traffic included)",
            )  # fmt: skip
        # points by the measured limiter (bound.py), not by the roof above them
        measured = [
            lay.get("bound", "host" if lay.get("kind") == "host" else "?") for lay in layers
        ]
        for bound in dict.fromkeys([*BOUND_STYLE, *measured]):
            sel = np.array([m == bound for m in measured])
            if sel.any():
                marker, colour = BOUND_STYLE.get(bound, ("D", "#757575"))
                ax.scatter(
                    ai[sel],
                    got[sel],
                    marker=marker,
                    color=colour,
                    edgecolor="black",
                    zorder=3,
                    label=f"layer: {bound}-bound (measured)",
                )
        ax.set_xlim(lo, hi)
        ymin = max(
            min(got[got > 0].min() if (got > 0).any() else peak, lo * bw, net_got or peak) / 2,
            1e-6,
        )
        ax.set_ylim(ymin, peak * 2)
        ax.set_xlabel("arithmetic intensity (ops / DDR byte)")
        ax.set_ylabel("throughput (GOPS)")
        head = title or _run_title(run, "Roofline")
        ax.set_title(head, fontsize=10)
        ax.legend(fontsize=7, loc="lower right")
        ax.grid(True, which="major", alpha=0.3)
        named = _label_points(ax, ai, got, [lay["name"] for lay in layers])
        if named < len(layers):
            ax.text(
                0.01,
                0.99,
                f"{len(layers) - named} crowded layers unnamed",
                fontsize=7,
                transform=ax.transAxes,
                va="top",
                color="gray",
            )
    return _result(out, ax)


def _label_points(ax: Axes, xs: np.ndarray, ys: np.ndarray, names: Sequence[str]) -> int:
    """Name points where the label overlaps no earlier one; crowded points stay unnamed.
    Returns how many were named."""
    fig = ax.figure
    fig.canvas.draw()  # settle the layout so data -> pixel transforms are final
    to_px = ax.transData.transform
    char_w, h = 4.2 * fig.dpi / 72, 8.5 * fig.dpi / 72  # 6.5 pt text, approximate box
    pts = to_px(np.column_stack([xs, ys]))
    r = 3.0 * fig.dpi / 72  # marker radius
    placed = [(px - r, py - r, px + r, py + r) for px, py in pts]
    order = np.argsort(-ys, kind="stable")
    for i in order:
        px, py = pts[i]
        w = char_w * len(names[i])
        for dx, dy in ((5, -11), (5, 3), (-5 - w * 72 / fig.dpi, 3), (-5 - w * 72 / fig.dpi, -11)):
            x0 = px + dx * fig.dpi / 72
            y0 = py + dy * fig.dpi / 72
            box = (x0, y0, x0 + w, y0 + h)
            if all(
                box[2] < b[0] or box[0] > b[2] or box[3] < b[1] or box[1] > b[3] for b in placed
            ):
                placed.append(box)
                ax.annotate(
                    names[i],
                    (xs[i], ys[i]),
                    textcoords="offset points",
                    xytext=(dx, dy),
                    fontsize=6.5,
                )
                break
    return len(placed) - len(pts)


# ----------------------------------------------------------------------------- occupancy


def load_occupancy(source: Any) -> dict[str, Any]:
    """Traces and layer spans from ``accelsim run --occupancy`` output, or a ``SimResult``."""
    if hasattr(source, "traces") and hasattr(source, "layers"):
        if not source.traces:
            raise AccelsimError("occupancy plot: the result has no traces (record_occupancy)")
        data: dict[str, Any] = {}
        for name, st in source.traces.items():
            data[f"{name}_times"] = np.asarray(st.times)
            data[f"{name}_values"] = np.asarray(st.values)
        data["layer_names"] = np.array([lay["name"] for lay in source.layers])
        data["layer_start"] = np.array([lay["start_cycle"] for lay in source.layers])
        data["layer_end"] = np.array([lay["end_cycle"] for lay in source.layers])
        data["clock_mhz"] = np.array(source.clock_mhz)
        return data
    path = Path(source)
    data = inputs.read_npz(path)
    if "layer_start" not in data or "line_buffer_bytes_times" not in data:
        raise AccelsimError(
            f"{show_path(path)}: not an occupancy file (write one with accelsim run --occupancy)"
        )
    inputs.check_occupancy(data, show_path(path))
    return data


def parse_layer_range(text: str | None, n: int) -> range:
    """``"a:b"`` (half-open, either end optional, negatives from the end) or ``"a"``."""
    if text is None or text.strip() in ("", ":"):
        return range(n)
    try:
        if ":" in text:
            a, b = text.split(":", 1)
            sl = slice(int(a) if a.strip() else None, int(b) if b.strip() else None)
        else:
            i = int(text)
            i = i + n if i < 0 else i
            sl = slice(i, i + 1)
    except ValueError:
        raise AccelsimError(f"--layers {text}: expected A:B layer indices") from None
    r = range(n)[sl]
    if len(r) == 0:
        raise AccelsimError(f"--layers {text}: no layer in that range (the run has {n} layers)")
    return r


def _window(
    times: np.ndarray, values: np.ndarray, t0: int, t1: int
) -> tuple[np.ndarray, np.ndarray]:
    """A step function restricted to [t0, t1], with points at both ends (for where='post')."""
    i0 = max(int(np.searchsorted(times, t0, side="right")) - 1, 0)
    i1 = int(np.searchsorted(times, t1, side="right"))
    t = np.asarray(times[i0:i1], dtype=np.int64).copy()
    v = np.asarray(values[i0:i1], dtype=np.int64)
    if len(t) == 0:
        return np.array([t0, t1]), np.zeros(2, dtype=np.int64)
    t[0] = max(t[0], t0)
    return np.append(t, t1), np.append(v, v[-1])


def _envelope(t: np.ndarray, v: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-bin (edges, min, max) of a windowed step function (last point a sentinel): what a
    dense step plot shows at screen resolution, drawn in a fraction of the time."""
    edges = np.linspace(float(t[0]), float(t[-1]), bins + 1)
    vv = v[:-1]
    first = np.clip(np.searchsorted(t, edges[:-1], side="right") - 1, 0, len(vv) - 1)
    mx = np.maximum.reduceat(vv, first)
    mn = np.minimum.reduceat(vv, first)
    nxt = np.append(first[1:], first[-1])  # a segment spanning a bin's right edge counts too
    return edges, np.minimum(mn, vv[nxt]), np.maximum(mx, vv[nxt])


def _draw_steps(
    ax: Axes, t: np.ndarray, v: np.ndarray, colour: str, *, fill: bool = True, **kw: Any
) -> None:
    """A step function, exactly when it has few steps, as a min/max band when it is dense."""
    bins = 1500
    if len(t) <= 3 * bins:
        ax.step(t, v, where="post", color=colour, linewidth=kw.pop("linewidth", 0.8), **kw)
        if fill:
            ax.fill_between(t, v, step="post", color=colour, alpha=0.25, linewidth=0)
        return
    edges, mn, mx = _envelope(t, v, bins)
    ax.fill_between(
        edges,
        np.append(mn, mn[-1]),
        np.append(mx, mx[-1]),
        step="post",
        color=colour,
        alpha=0.7,
        linewidth=0,
        **kw,
    )
    if fill:
        ax.fill_between(
            edges, np.append(mn, mn[-1]), step="post", color=colour, alpha=0.25, linewidth=0
        )


def _state_spans(times: np.ndarray, values: np.ndarray, t0: int, t1: int) -> dict[int, list]:
    t, v = _window(times, values, t0, t1)
    spans: dict[int, list] = {s: [] for s in range(len(BANK_STATES))}
    for a, b, s in zip(t[:-1], t[1:], v[:-1], strict=True):
        if b > a:
            spans[int(s)].append((int(a), int(b - a)))
    return spans


def plot_occupancy(
    source: Any,
    out: Sequence[Axes] | str | Path,
    *,
    layers: str | None = None,
    title: str | None = None,
) -> Any:
    """Five panels over a layer range: line buffer, weight bank bytes, bank states, output FIFO
    and waiting DDR requests; layer boundaries as dotted lines."""
    d = load_occupancy(source)
    names = [str(n) for n in d["layer_names"]]
    sel = parse_layer_range(layers, len(names))
    t0 = int(d["layer_start"][sel.start])
    t1 = int(d["layer_end"][sel[-1]])
    if t1 <= t0:
        t1 = t0 + 1
    clock = float(d["clock_mhz"])
    panels = (
        ("line_buffer_bytes", "line buffer\n(bytes)"),
        ("weight_bank", "weight banks\n(bytes)"),
        ("weight_state", "bank state"),
        ("output_fifo_groups", "output FIFO\n(groups)"),
        ("ddr_waiting_requests", "DDR queue\n(requests)"),
    )
    with _figure(
        out,
        (10, 8.5),
        nrows=len(panels),
        sharex=True,
        gridspec_kw={"height_ratios": [3, 3, 1.2, 3, 2]},
    ) as axes:
        axes = list(axes)
        if len(axes) != len(panels):
            raise AccelsimError(f"occupancy plot: needs {len(panels)} axes, got {len(axes)}")
        for ax, (key, ylabel) in zip(axes, panels, strict=True):
            if key == "weight_bank":
                for b, colour, style in ((0, "#2e7d32", "-"), (1, "#ef6c00", "--")):
                    t, v = _window(
                        d[f"weight_bank{b}_bytes_times"], d[f"weight_bank{b}_bytes_values"], t0, t1
                    )
                    _draw_steps(
                        ax,
                        t,
                        v,
                        colour,
                        fill=False,
                        linestyle=style,
                        label=f"bank {b}",
                        linewidth=1.2,
                    )
                ax.legend(fontsize=7, loc="upper right")
            elif key == "weight_state":
                for b in (0, 1):
                    spans = _state_spans(
                        d[f"weight_bank{b}_state_times"], d[f"weight_bank{b}_state_values"], t0, t1
                    )
                    for s, (_, colour) in enumerate(BANK_STATES):
                        if spans[s]:
                            ax.broken_barh(spans[s], (b - 0.4, 0.8), facecolors=colour)
                ax.set_yticks([0, 1], ["bank 0", "bank 1"], fontsize=7)
                ax.set_ylim(-0.6, 1.6)
                ax.invert_yaxis()
                handles = [Patch(facecolor=c, edgecolor="gray", label=s) for s, c in BANK_STATES]
                ax.legend(
                    handles=handles,
                    fontsize=7,
                    ncol=4,
                    loc="upper right",
                    bbox_to_anchor=(1.0, 1.45),
                    frameon=False,
                )
            else:
                t, v = _window(d[f"{key}_times"], d[f"{key}_values"], t0, t1)
                _draw_steps(ax, t, v, "#1565c0")
            ax.set_ylabel(ylabel, fontsize=8)
            ax.tick_params(labelsize=7)
            if key != "weight_state":
                ax.set_ylim(bottom=0)
            for i in sel:
                ax.axvline(int(d["layer_start"][i]), color="gray", linestyle=":", linewidth=0.8)
        ax_top = axes[0]
        if len(sel) <= 24:
            for i in sel:
                mid = (int(d["layer_start"][i]) + int(d["layer_end"][i])) / 2
                ax_top.annotate(
                    names[i],
                    (mid, 1.0),
                    xycoords=("data", "axes fraction"),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                    rotation=0 if len(sel) <= 8 else 45,
                )
        axes[-1].set_xlim(t0, t1)
        axes[-1].xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        period_ns = 1e3 / clock
        axes[-1].set_xlabel(f"cycle (1 cycle = {period_ns:g} ns at {clock:g} MHz)")
        span = (
            f"layer {sel.start} ({names[sel.start]})"
            if len(sel) == 1
            else f"layers {sel.start}..{sel[-1]} ({names[sel.start]}..{names[sel[-1]]})"
        )
        fig = axes[0].figure
        fig.suptitle(title or f"Buffer occupancy, {span}", fontsize=10)
        if isinstance(out, (str, Path)):
            fig.subplots_adjust(hspace=0.35)
    return _result(out, axes)


# ----------------------------------------------------------------------------- sweeps


def _table(source: Any) -> Any:
    if isinstance(source, SweepTable):
        return source
    return read_results(source)


def _filter(table: Any, where: Sequence[str] | Mapping[str, Any] | None) -> list[dict[str, Any]]:
    rows = [r for r in table.rows if r["status"] == "ok"]
    if not where:
        return rows
    items = where.items() if isinstance(where, Mapping) else [w.split("=", 1) for w in where]
    for item in items:
        if len(item) != 2:
            raise AccelsimError(f"--where {item[0]}: expected PARAM=VALUE")
        col, text = item
        col = col.strip()
        if col not in table.columns:
            raise AccelsimError(f"--where {col}: no such column ({', '.join(table.params)})")
        vals = parse_values(text, f"--where {col}") if isinstance(text, str) else (text,)
        want = {format_value(v) for v in vals}
        before = rows
        rows = [r for r in rows if format_value(r[col]) in want]
        if not rows:
            have = sorted({format_value(r[col]) for r in before})
            listed = ", ".join(have[:12]) + (", ..." if len(have) > 12 else "")
            raise AccelsimError(
                f"--where {col}={text}: matches no ok point (values: {listed or 'none'})"
            )
    return rows


def _src(source: Any) -> str:
    return show_path(source) if isinstance(source, (str, Path)) else "sweep"


def _check_col(table: Any, col: str, what: str) -> None:
    if col not in table.columns:
        raise AccelsimError(f"{what} {col}: no such column (columns: {', '.join(table.columns)})")


def _is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def plot_sweep(
    source: Any,
    out: Axes | str | Path,
    *,
    y: str = "fps",
    x: str | None = None,
    by: str | None = None,
    where: Sequence[str] | Mapping[str, Any] | None = None,
    agg: str = "max",
    title: str | None = None,
    all_points: bool = False,
) -> Any:
    """``y`` against the varied parameter ``x``: one line per network (several networks) or per
    value of ``by``; other varied parameters are reduced with ``agg`` (max, min or mean).

    Points whose configuration does not fit the part (``bram_fits`` false) are left out and
    counted in the title; ``all_points=True`` keeps them in the lines and marks each with a red
    cross."""
    table = _table(source)
    if not table.params:
        raise AccelsimError("sweep plot: the sweep varies no parameter")
    x = x or table.params[0]
    _check_col(table, x, "--x")
    _check_col(table, y, "--y")
    if by is None:
        if len(table.networks()) > 1:
            by = "network"
        elif len([p for p in table.params if p != x]) >= 1:
            by = next(p for p in table.params if p != x)
    if by is not None:
        _check_col(table, by, "--by")
    if agg not in ("max", "min", "mean"):
        raise AccelsimError(f"--agg must be max, min or mean, got {agg}")
    rows = _filter(table, where)
    inputs.check_numeric_column(_src(source), rows, y, "--y")
    over = [r for r in rows if r.get("bram_fits") is False and r[y] is not None]
    if not all_points:
        rows = [r for r in rows if r.get("bram_fits") is not False]
    fixed = (
        {w.split("=", 1)[0].strip() for w in where}
        if where and not isinstance(where, Mapping)
        else set(where or ())
    )
    reduced = [p for p in table.params if p not in (x, by) and p not in fixed]
    groups: dict[Any, dict[Any, list[float]]] = {}
    for r in rows:
        if r[y] is None:
            continue
        g = r[by] if by is not None else None
        groups.setdefault(g, {}).setdefault(r[x], []).append(float(r[y]))
    xs_all = sorted(
        {r[x] for r in rows}, key=lambda v: (not _is_num(v), v if _is_num(v) else str(v))
    )
    numeric_x = all(_is_num(v) for v in xs_all)
    pos = {v: (float(v) if numeric_x else float(i)) for i, v in enumerate(xs_all)}
    reduce = {"max": max, "min": min, "mean": lambda v: sum(v) / len(v)}[agg]
    with _figure(out, (7.5, 4.8)) as ax:
        for g in sorted(groups, key=lambda v: (not _is_num(v), v if _is_num(v) else str(v))):
            pts = sorted(groups[g].items(), key=lambda kv: pos[kv[0]])
            label = None if g is None else (str(g) if by == "network" else f"{by} = {g}")
            ax.plot([pos[k] for k, _ in pts], [reduce(v) for _, v in pts], marker="o", label=label)
        if all_points and over:
            ax.scatter(
                [pos[r[x]] for r in over], [float(r[y]) for r in over], marker="x", s=40,
                color="#c62828", zorder=3, label="does not fit the part (BRAM36)",
            )  # fmt: skip
        if not numeric_x:
            ax.set_xticks(list(pos.values()), [str(v) for v in xs_all], rotation=20, ha="right")
        ax.set_xlabel(label_for(x))
        ax.set_ylabel(label_for(y))
        n_bad = len(table.rows) - len([r for r in table.rows if r["status"] == "ok"])
        notes = []
        if reduced:
            notes.append(f"{agg} over {', '.join(reduced)}")
        if n_bad:
            notes.append(f"{n_bad} invalid/rejected points omitted")
        if over and not all_points:
            notes.append(f"{len(over)} over the part's BRAM36 omitted")
        head = title or f"{label_for(y).split(' (')[0]} vs {x}"
        ax.set_title(head + (f"\n({'; '.join(notes)})" if notes else ""), fontsize=10)
        if (by is not None and groups) or (all_points and over):
            ax.legend(fontsize=8)
        ax.grid(True, alpha=0.3)
    return _result(out, ax)


def pareto_front(
    xs: Sequence[float], ys: Sequence[float], *, x_min: bool = True, y_max: bool = True
) -> list[int]:
    """Indices of the non-dominated points, in order of x (better x first)."""
    sx = [(v if x_min else -v) for v in xs]
    sy = [(-v if y_max else v) for v in ys]
    order = sorted(range(len(xs)), key=lambda i: (sx[i], sy[i]))
    front: list[int] = []
    best = math.inf
    for i in order:
        if sy[i] < best:
            front.append(i)
            best = sy[i]
    return front


def _short(param: str, value: Any) -> str:
    return f"{param.rsplit('.', 1)[-1]}={value}"


def plot_pareto(
    source: Any,
    out: Axes | Sequence[Axes] | str | Path,
    *,
    x: str = "bram36",
    y: str = "fps",
    where: Sequence[str] | Mapping[str, Any] | None = None,
    title: str | None = None,
    all_points: bool = False,
) -> Any:
    """Every ok point that fits the part at (x, y), one panel per network; the Pareto front of
    those points is a staircase with its points named by their parameters (x minimised for
    resources and time, maximised otherwise; y likewise). Points that do not fit the part are
    counted in the title, or drawn as red crosses with ``all_points=True``; they never join the
    front."""
    table = _table(source)
    _check_col(table, x, "--x")
    _check_col(table, y, "--y")
    rows = [r for r in _filter(table, where) if r[x] is not None and r[y] is not None]
    inputs.check_numeric_column(_src(source), rows, x, "--x")
    inputs.check_numeric_column(_src(source), rows, y, "--y")
    nets = list(dict.fromkeys(r["network"] for r in rows)) or ["(no ok points)"]
    x_min, y_max = x in _MINIMIZE, y not in _MINIMIZE
    better = f"{'lower' if x_min else 'higher'} {x}, {'higher' if y_max else 'lower'} {y}"
    if isinstance(out, Axes):
        out = [out]
    with _figure(out, (6.5 * len(nets), 5.2), ncols=len(nets)) as axes:
        axes = list(axes) if not isinstance(axes, Axes) else [axes]
        if len(axes) != len(nets):
            raise AccelsimError(
                f"pareto plot: {len(nets)} networks need {len(nets)} axes, got {len(axes)} "
                "(or filter with where network=NAME)"
            )
        for ax, net in zip(axes, nets, strict=True):
            mine = [r for r in rows if r["network"] == net]
            fits = "rtl_fits" if "rtl_fits" in table.columns else "bram_fits"  # sweep --resources
            fit = [r for r in mine if r[fits] is not False]
            over = [r for r in mine if r[fits] is False]
            n_over, over = len(over), over if all_points else []
            if fit:
                ax.scatter(
                    [r[x] for r in fit],
                    [r[y] for r in fit],
                    color="#1565c0",
                    alpha=0.35,
                    s=18,
                    label="fits the part",
                )
            if over:
                ax.scatter(
                    [r[x] for r in over],
                    [r[y] for r in over],
                    color="#c62828",
                    marker="x",
                    alpha=0.6,
                    s=22,
                    label="exceeds the part",
                )
            if fit:
                idx = pareto_front(
                    [r[x] for r in fit], [r[y] for r in fit], x_min=x_min, y_max=y_max
                )
                fx = np.array([fit[i][x] for i in idx], dtype=float)
                fy = np.array([fit[i][y] for i in idx], dtype=float)
                ax.step(fx, fy, where="post", color="black", linewidth=1.5)
                ax.scatter(
                    fx,
                    fy,
                    color="#ffb300",
                    edgecolor="black",
                    s=50,
                    zorder=3,
                    label=f"Pareto front ({len(idx)} points)",
                )
            if x == "bram36":
                avail = sorted({r["bram36_available"] for r in mine if r["bram36_available"]})
                for a in avail:
                    ax.axvline(
                        a, color="gray", linestyle="--", linewidth=1, label=f"part: {a} BRAM36"
                    )
            ax.set_xlabel(label_for(x))
            ax.set_ylabel(label_for(y))
            head = title or f"Pareto front: {y} vs {x}"
            hidden = f"; {n_over} points over the part not shown" if n_over and not over else ""
            ax.set_title(f"{head}: {net}\n(better: {better}{hidden})", fontsize=10)
            if mine:
                ax.legend(fontsize=7, loc="best")
            ax.grid(True, alpha=0.3)
            if fit and len(idx) <= 12 and table.params:
                names = [", ".join(_short(p, fit[i][p]) for p in table.params) for i in idx]
                _label_points(ax, fx, fy, names)
    return _result(out, axes if len(axes) > 1 else axes[0])


# ----------------------------------------------------------------------------- the CLI's entry


def plot_command(kind: str, source: Path, out: Path, **opts: Any) -> Path:
    """``accelsim plot KIND INPUT --out FILE``: dispatch with the options that kind takes."""
    title = opts.get("title")
    if Path(out).suffix.lower() not in FORMATS:
        raise AccelsimError(f"{out}: plot output must end in .png, .svg or .pdf")
    if not Path(source).exists():
        raise AccelsimError(f"{source}: no such file")
    if kind == "utilization":
        return plot_utilization(source, out, title=title)
    if kind == "roofline":
        return plot_roofline(source, out, title=title)
    if kind == "occupancy":
        return plot_occupancy(source, out, layers=opts.get("layers"), title=title)
    if kind == "sweep":
        return plot_sweep(
            source,
            out,
            y=opts.get("y") or "fps",
            x=opts.get("x"),
            by=opts.get("by"),
            where=opts.get("where"),
            agg=opts.get("agg") or "max",
            title=title,
            all_points=bool(opts.get("all_points")),
        )
    if kind == "pareto":
        return plot_pareto(
            source,
            out,
            x=opts.get("x") or "bram36",
            y=opts.get("y") or "fps",
            where=opts.get("where"),
            title=title,
            all_points=bool(opts.get("all_points")),
        )
    raise AccelsimError(
        f"plot kind must be one of utilization, occupancy, roofline, sweep, pareto, got {kind}"
    )


__all__ = [
    "label_for",
    "load_occupancy",
    "load_run",
    "pareto_front",
    "parse_layer_range",
    "plot_command",
    "plot_occupancy",
    "plot_pareto",
    "plot_roofline",
    "plot_sweep",
    "plot_utilization",
    "utilization_segments",
]
