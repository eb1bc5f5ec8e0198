"""One self-contained HTML page for a run or a sweep (``accelsim report``, ``run --html``).

The page needs nothing but itself: plots are inline SVG drawn by matplotlib (text as paths, so no
font is fetched), the style sheet is inline, there is no script and no reference to any other
file or address. It opens the same from a mail attachment, a CI artifact or an air-gapped lab.

A run page (:func:`run_html`, from a :class:`~accelsim.report.metrics.SimResult` or a run JSON):

1. the headline: time, frames/s, GOPS and utilisation, and the time by measured bound
   (:mod:`accelsim.report.bound`);
2. the per-layer table, every key of the layer reports (so keys a later machine adds show too);
3. the stall breakdown: each layer's cycles split into useful, mapping, weights / input / output
   stalls, drain (host layers: host time), in cycles;
4. utilisation (:func:`~accelsim.report.plots.plot_utilization`);
5. buffer occupancy of chosen layers (:func:`~accelsim.report.plots.plot_occupancy`; needs the
   traces: a ``SimResult`` or ``--occupancy F.npz``); by default the core layer with the most
   stall cycles and its neighbours;
6. the roofline, points marked by measured bound (:func:`~accelsim.report.plots.plot_roofline`);
7. the DDR summary (totals and per core layer);
8. the host layers and their share of the time.

A sweep page (:func:`sweep_html`, from ``accelsim sweep`` output): the counts by status, the
curves of frames/s against each varied parameter (points that do not fit the part left out
unless ``all_points``), the Pareto front of BRAM36 against frames/s per network with the points
that do not fit marked, the front's points and the points that failed, with their reasons.
"""

from __future__ import annotations

import html
import io
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from matplotlib import rc_context
from matplotlib.figure import Figure

from accelsim.errors import AccelsimError
from accelsim.report import plots
from accelsim.report.bound import BOUNDS, cycle_shares
from accelsim.report.frame import flat_layer
from accelsim.report.sweep_table import read_results

_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1400px;
       padding: 0 16px; color: #212121; }
h1 { font-size: 22px; margin-bottom: 4px; } h2 { font-size: 18px; margin-top: 32px;
     border-bottom: 1px solid #ddd; padding-bottom: 4px; }
.sub { color: #616161; margin-top: 0; }
.cards { display: flex; flex-wrap: wrap; gap: 12px; margin: 16px 0; }
.card { border: 1px solid #e0e0e0; border-radius: 6px; padding: 8px 14px; min-width: 120px; }
.card b { display: block; font-size: 20px; }
.scroll { overflow-x: auto; max-width: 100%; }
table { border-collapse: collapse; font-size: 12px; font-variant-numeric: tabular-nums; }
th, td { border-bottom: 1px solid #eee; padding: 3px 8px; text-align: right;
         white-space: nowrap; }
th { background: #f5f5f5; position: sticky; top: 0; }
td.t, th.t { text-align: left; }
tr:hover td { background: #fafafa; }
figure { margin: 12px 0; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #616161; font-size: 12px; }
.note { color: #616161; font-style: italic; }
"""


# ----------------------------------------------------------------------------- building blocks


def _esc(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _cell(v: Any) -> tuple[str, bool]:
    """(text, is_text) of a table cell."""
    if v is None:
        return "", False
    if isinstance(v, bool):
        return ("yes" if v else "no"), True
    if isinstance(v, (int, np.integer)):
        return str(int(v)), False
    if isinstance(v, (float, np.floating)):
        return f"{float(v):.4g}", False
    if isinstance(v, (list, tuple)):
        return "x".join(str(x) for x in v), True
    return str(v), True


def table_html(
    rows: Sequence[Mapping[str, Any]],
    columns: Sequence[str] | None = None,
    *,
    table_id: str,
    headers: Mapping[str, str] | None = None,
) -> str:
    """An HTML table of ``rows`` (one column per key, in order of first appearance)."""
    if columns is None:
        columns = list(dict.fromkeys(k for r in rows for k in r))
    headers = headers or {}
    text_cols = {c for c in columns if any(_cell(r.get(c))[1] for r in rows)}
    head = "".join(
        f'<th class="{"t" if c in text_cols else ""}">{_esc(headers.get(c, c))}</th>'
        for c in columns
    )
    body = []
    for r in rows:
        cells = []
        for c in columns:
            text, _ = _cell(r.get(c))
            cells.append(f'<td class="{"t" if c in text_cols else ""}">{_esc(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f'<div class="scroll"><table id="{_esc(table_id)}"><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def svg_of(draw: Callable[[Figure], Any], figsize: tuple[float, float], prefix: str) -> str:
    """A figure drawn by ``draw(fig)`` as inline SVG markup (text as paths, ids made unique
    with ``prefix`` so several plots can share one page)."""
    with rc_context({"svg.fonttype": "path", "svg.hashsalt": "accelsim"}):
        fig = Figure(figsize=figsize)
        try:
            draw(fig)
            fig.tight_layout()
            buf = io.StringIO()
            fig.savefig(buf, format="svg", metadata={"Date": None})
        finally:
            fig.clear()
    svg = buf.getvalue()
    svg = svg[svg.index("<svg") :]
    ids = set(re.findall(r'\bid="([^"]+)"', svg))
    if ids:
        pat = re.compile(r'(\bid="|#)(' + "|".join(re.escape(i) for i in ids) + r')(?=["\)])')
        svg = pat.sub(lambda m: f"{m.group(1)}{prefix}-{m.group(2)}", svg)
    return svg


def _figure(svg: str, caption: str, fig_id: str) -> str:
    return f'<figure id="{_esc(fig_id)}">{svg}<figcaption>{_esc(caption)}</figcaption></figure>'


def _cards(items: Sequence[tuple[str, str]]) -> str:
    return (
        '<div class="cards">'
        + "".join(f'<div class="card">{_esc(k)}<b>{_esc(v)}</b></div>' for k, v in items)
        + "</div>"
    )


def _page(title: str, subtitle: str, sections: Sequence[tuple[str, str, str]]) -> str:
    nav = " &middot; ".join(f'<a href="#{sid}">{_esc(name)}</a>' for sid, name, _ in sections)
    body = "".join(
        f'<section id="{sid}"><h2>{_esc(name)}</h2>{content}</section>'
        for sid, name, content in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_esc(title)}</title><style>{_CSS}</style></head><body>"
        f'<h1>{_esc(title)}</h1><p class="sub">{_esc(subtitle)}</p><nav>{nav}</nav>'
        f"{body}</body></html>\n"
    )


def _note(text: str) -> str:
    return f'<p class="note">{_esc(text)}</p>'


# ----------------------------------------------------------------------------- a run

#: Stall-breakdown segments: (share key, label, colour), matching the utilisation plot's colours.
BREAKDOWN = (
    ("useful", "useful (busy x mapping efficiency)", "#2e7d32"),
    ("mapping", "mapping (padding, passes)", "#9e9e9e"),
    ("weights", "stall: weights", "#c62828"),
    ("input", "stall: input", "#ef6c00"),
    ("output", "stall: output", "#6a1b9a"),
    ("drain", "drain", "#1565c0"),
    ("host", "host layer", "#8d6e63"),
)


def _draw_breakdown(run: Mapping[str, Any]) -> Callable[[Figure], Any]:
    layers = run["layers"]

    def draw(fig: Figure) -> None:
        ax = fig.subplots()
        y = np.arange(len(layers))
        left = np.zeros(len(layers))
        for key, label, colour in BREAKDOWN:
            if key == "host":
                w = np.array([100.0 if lay["kind"] == "host" else 0.0 for lay in layers])
            else:
                w = np.array([100.0 * cycle_shares(lay)[key] for lay in layers])
            if w.any():
                ax.barh(y, w, 0.75, left=left, color=colour, label=label)
            left += w
        ax.set_yticks(y, [lay["name"] for lay in layers], fontsize=7)
        ax.invert_yaxis()
        ax.set_xlim(0, 100)
        for i, lay in enumerate(layers):  # the layer's length beside its bar
            ax.annotate(f"{lay['cycles']:,} cyc", (100, i), xytext=(4, 0),
                        textcoords="offset points", va="center", fontsize=6.5)  # fmt: skip
        ax.set_xlabel("share of the layer's cycles (%)")
        ax.set_title("Where each layer's cycles went", fontsize=10)
        ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=4,
                  frameon=False)  # fmt: skip
        ax.grid(True, axis="x", alpha=0.3)

    return draw


def default_occupancy_layers(run: Mapping[str, Any]) -> str:
    """The core layer with the most stall cycles and its neighbours, as ``a:b``."""
    layers = run["layers"]
    core = [i for i, lay in enumerate(layers) if lay["kind"] == "core"]
    if not core:
        return "0:1"
    worst = max(core, key=lambda i: (sum(layers[i]["stall_cycles"].values()), -i))
    return f"{max(0, worst - 1)}:{min(len(layers), worst + 2)}"


def _run_dict(source: Any) -> dict[str, Any]:
    return plots.load_run(source)


def run_html(
    source: Any,
    *,
    occupancy: Any = None,
    layers: str | None = None,
    title: str | None = None,
) -> str:
    """The page for one run: ``source`` a ``SimResult``, its ``to_dict()`` or a run JSON path;
    ``occupancy`` the traces (a ``SimResult`` or an ``.npz`` path; default: ``source`` when it
    is a ``SimResult`` with traces); ``layers`` the occupancy layer range ``a:b``."""
    run = _run_dict(source)
    if occupancy is None and getattr(source, "traces", None):
        occupancy = source
    t = run["total"]
    lays = run["layers"]
    head = title or f"accelsim: {run['network']} on {run['hw']}"
    sub = (
        f"{run['network']} on {run['hw']} @ {run['clock_mhz']:g} MHz, batch {run['batch']}; "
        f"{len(lays)} layers ({t.get('core_layers', 0)} core, {t.get('host_layers', 0)} host)"
    )
    by_bound: dict[str, int] = {}
    for lay in lays:
        by_bound[lay.get("bound", "?")] = by_bound.get(lay.get("bound", "?"), 0) + lay["cycles"]
    total_cycles = sum(by_bound.values()) or 1
    cards = _cards(
        [
            ("time per batch", f"{t['seconds'] * 1e3:.3f} ms"),
            ("throughput", f"{t['fps']:.1f} frames/s"),
            ("achieved", f"{t['achieved_gops']:.1f} GOPS"),
            ("utilisation", f"{t['utilization']:.1%} of {t['peak_gops']:.0f}"),
            ("DDR moved", f"{(t['ddr_bytes_read'] + t['ddr_bytes_written']) / 1e6:.2f} MB"),
            ("cycles", f"{t['cycles']}"),
        ]
    )
    bound_rows = [
        {"bound": b, "cycles": c, "share of time": f"{c / total_cycles:.1%}",
         "layers": sum(lay.get("bound") == b for lay in lays), "meaning": BOUNDS.get(b, "")}
        for b, c in sorted(by_bound.items(), key=lambda kv: -kv[1])
    ]  # fmt: skip
    summary = (
        cards + "<p>Time by measured bound (what each layer's cycles were spent on; the roofline "
        "class is the column roofline_bound):</p>" + table_html(bound_rows, table_id="bounds")
    )
    flat = [flat_layer(lay) for lay in lays]
    first = ["index", "name", "kind", "bound", "roofline_bound", "op", "cycles"]
    cols = first + [c for c in dict.fromkeys(k for r in flat for k in r) if c not in first]
    sections = [
        ("summary", "Summary", summary),
        ("layers", "Per-layer report", table_html(flat, cols, table_id="layer-table")),
        (
            "stalls",
            "Stall breakdown",
            _figure(
                svg_of(_draw_breakdown(run), (9, max(3.2, 0.22 * len(lays) + 2.0)), "brk"),
                "Each layer's cycles: busy time split by mapping efficiency, then each stall "
                "cause and the drain (core layers, spec section 4); host time (host layers).",
                "fig-stalls",
            ),
        ),
    ]
    core = [lay for lay in lays if lay["kind"] == "core"]
    if core:
        n = len(core)
        sections.append(
            (
                "utilization",
                "Utilisation",
                _figure(
                    svg_of(
                        lambda f: plots.plot_utilization(run, f.subplots()),
                        (max(7.5, 0.45 * n + 2.5), 4.8),
                        "util",
                    ),  # fmt: skip
                    "Per core layer: achieved GOPS and the rest of the peak by loss cause.",
                    "fig-utilization",
                ),
            )
        )
    else:
        sections.append(("utilization", "Utilisation", _note("No core layers.")))
    if occupancy is not None and core:
        rng = layers or default_occupancy_layers(run)

        def draw_occ(fig: Figure) -> None:
            axes = fig.subplots(5, 1, sharex=True, gridspec_kw={"height_ratios": [3, 3, 1.2, 3, 2]})
            plots.plot_occupancy(occupancy, list(axes), layers=rng)
            fig.subplots_adjust(hspace=0.35)

        occ = _figure(
            svg_of(draw_occ, (10, 8.5), "occ"),
            f"Buffer occupancy over layers {rng} (half-open range of layer indices).",
            "fig-occupancy",
        )
    else:
        occ = _note(
            "No occupancy traces: give --occupancy F.npz (written by accelsim run --occupancy) "
            "or use accelsim run --html."
            if core
            else "No core layers."
        )
    sections.append(("occupancy", "Buffer occupancy", occ))
    if any(lay["arithmetic_intensity"] > 0 for lay in core):
        roof = _figure(
            svg_of(lambda f: plots.plot_roofline(run, f.subplots()), (7.5, 5.2), "roof"),
            "Roofline: compute and DDR roofs; each core layer at its intensity and achieved "
            "GOPS, marked by its measured bound.",
            "fig-roofline",
        )
    else:
        roof = _note("No core layers with DDR traffic.")
    sections.append(("roofline", "Roofline", roof))
    sections.append(("ddr", "DDR", _ddr_section(run)))
    sections.append(("host", "Host layers", _host_section(run)))
    return _page(head, sub, sections)


def _ddr_section(run: Mapping[str, Any]) -> str:
    t = run["total"]
    hits, misses = t.get("row_hits", 0), t.get("row_misses", 0)
    totals = [
        {"figure": "bytes read (core)", "value": t["ddr_bytes_read"]},
        {"figure": "bytes written (core)", "value": t["ddr_bytes_written"]},
        {"figure": "host layers' bytes (ARM port)", "value": t.get("host_ddr_bytes", 0)},
        {"figure": "peak bandwidth (GB/s)", "value": t.get("ddr_peak_gbps")},
        {"figure": "achieved bandwidth (GB/s)", "value": t.get("achieved_bandwidth_gbps")},
        {"figure": "efficiency (bytes / (port busy x peak))", "value": t["ddr_efficiency"]},
        {"figure": "port busy cycles", "value": t.get("port_busy_cycles")},
        {"figure": "row hits", "value": hits},
        {"figure": "row misses", "value": misses},
        {"figure": "row hit rate", "value": f"{hits / (hits + misses):.1%}" if hits + misses else ""},
        {"figure": "refreshes", "value": t.get("refreshes", 0)},
    ]  # fmt: skip
    cols = ("name", "ddr_bytes_read_features", "ddr_bytes_read_weights", "ddr_bytes_written",
            "achieved_bandwidth_gbps", "ddr_efficiency", "port_busy_cycles",
            "port_busy_in_layer_cycles", "row_hits", "row_misses", "refresh_ddr_cycles")  # fmt: skip
    core = [lay for lay in run["layers"] if lay["kind"] == "core"]
    per = table_html(
        core, [c for c in cols if any(c in lay for lay in core)], table_id="ddr-layers"
    )
    return table_html(totals, table_id="ddr-totals") + "<p>Per core layer:</p>" + per


def _host_section(run: Mapping[str, Any]) -> str:
    host = [lay for lay in run["layers"] if lay["kind"] == "host"]
    if not host:
        return _note("Every layer runs on the core.")
    total = run["total"]["cycles"] or 1
    rows = []
    for lay in host:
        row: dict[str, Any] = {
            "index": lay["index"],
            "name": lay["name"],
            "op": lay.get("op", ""),
            "cycles": lay["cycles"],
            "share of time": f"{lay['cycles'] / total:.1%}",
            "DDR bytes": lay["ddr_bytes_read"] + lay["ddr_bytes_written"],
            "achieved GOPS": lay["achieved_gops"],
        }
        for k, v in lay.items():  # why it runs on the host, when the report says
            if "reason" in k and v:
                row[k] = "; ".join(v) if isinstance(v, (list, tuple)) else v
        rows.append(row)
    share = sum(lay["cycles"] for lay in host) / total
    return (
        f"<p>{len(host)} layers run on the host model (spec section 5): {share:.1%} of the "
        "time.</p>" + table_html(rows, table_id="host-layers")
    )


# ----------------------------------------------------------------------------- a sweep


def sweep_html(source: Any, *, all_points: bool = False, title: str | None = None) -> str:
    """The page for a sweep CSV (path or :class:`~accelsim.report.sweep_table.SweepTable`)."""
    table = source if hasattr(source, "rows") else read_results(source)
    rows = table.rows
    nets = table.networks()
    hws = sorted({r["hw"] for r in rows})
    head = title or f"accelsim sweep: {', '.join(nets)} on {', '.join(hws)}"
    status: dict[str, int] = {}
    for r in rows:
        status[r["status"]] = status.get(r["status"], 0) + 1
    ok = [r for r in rows if r["status"] == "ok"]
    over = [r for r in ok if r.get("bram_fits") is False]
    sub = (
        f"{len(rows)} points over {', '.join(table.params) or 'no parameter'}; "
        + ", ".join(f"{k} {v}" for k, v in sorted(status.items()))
        + f"; {len(over)} ok points do not fit the part's BRAM36"
    )
    summary = _cards(
        [("points", str(len(rows))), *((k, str(v)) for k, v in sorted(status.items())),
         ("over the part", str(len(over)))]
    )  # fmt: skip
    sections = [("summary", "Summary", summary)]
    if ok and table.params:
        figs = []
        for i, p in enumerate(table.params):
            figs.append(
                _figure(
                    svg_of(
                        lambda f, p=p: plots.plot_sweep(
                            table, f.subplots(), x=p, y="fps", all_points=all_points
                        ),
                        (7.5, 4.8),
                        f"sw{i}",
                    ),  # fmt: skip
                    f"Frames/s against {p} (best over the other parameters); points over the "
                    + ("part marked with crosses." if all_points else "part left out."),
                    f"fig-sweep-{i}",
                )
            )
        sections.append(("curves", "Curves", "".join(figs)))
        sections.append(
            (
                "pareto",
                "Pareto front",
                _figure(
                    svg_of(
                        lambda f: plots.plot_pareto(
                            table,
                            list(f.subplots(1, len(nets), squeeze=False)[0]),
                            x="bram36",
                            y="fps",
                            all_points=True,
                        ),
                        (6.5 * len(nets), 5.2),
                        "par",
                    ),  # fmt: skip
                    "BRAM36 against frames/s per network: the front of the points that fit the "
                    "part; points that do not fit are red crosses and never join the front.",
                    "fig-pareto",
                )
                + _pareto_table(table, ok),
            )
        )
    else:
        sections.append(("curves", "Curves", _note("No ok points to plot.")))
    failed = [r for r in rows if r["status"] != "ok"]
    cols = ["network", *table.params, "status", "reason"]
    sections.append(
        (
            "failed",
            "Points that did not run",
            table_html(failed[:200], cols, table_id="failed-points")
            + (_note(f"first 200 of {len(failed)}") if len(failed) > 200 else "")
            if failed
            else _note("Every point ran."),
        )
    )
    return _page(head, sub, sections)


def _pareto_table(table: Any, ok: list[dict[str, Any]]) -> str:
    out = []
    for net in table.networks():
        fit = [r for r in ok if r["network"] == net and r.get("bram_fits") is not False]
        fit = [r for r in fit if r["bram36"] is not None and r["fps"] is not None]
        idx = plots.pareto_front([r["bram36"] for r in fit], [r["fps"] for r in fit])
        out += [fit[i] for i in idx]
    cols = ["network", *table.params, "bram36", "fps", "utilization", "worst_layer"]
    return "<p>The front's points:</p>" + table_html(out, cols, table_id="pareto-points")


# ----------------------------------------------------------------------------- files


def _write_text(path: Path, text: str) -> None:
    """Write atomically (:func:`accelsim.ioutil.write_text`: a temporary file in the same
    folder, flushed, renamed into place; removed on any failure, Ctrl-C included)."""
    from accelsim.ioutil import write_text

    write_text(path, text)


def _check_out(out: Path) -> None:
    if Path(out).suffix.lower() not in (".html", ".htm"):
        raise AccelsimError(f"{out}: the report must end in .html")


def write_html(source: Any, out: str | Path, **opts: Any) -> Path:
    """Write a run's page (``source`` as :func:`run_html` takes it) to ``out``."""
    out = Path(out)
    _check_out(out)
    _write_text(out, run_html(source, **opts))
    return out


def report_command(
    source: Path,
    out: Path,
    *,
    occupancy: Path | None = None,
    layers: str | None = None,
    all_points: bool = False,
    title: str | None = None,
) -> Path:
    """``accelsim report INPUT -o F.html``: a run JSON or a sweep CSV, told apart by content."""
    _check_out(out)
    from accelsim.ioutil import MAX_BINARY_BYTES, regular_file

    source = Path(source)
    regular_file(source)  # no pipe, device or oversized file (read whole below)
    if occupancy is not None:
        regular_file(occupancy, limit=MAX_BINARY_BYTES)
    try:
        with source.open("rb") as f:
            head = f.read(64).decode("utf-8", "replace").lstrip()[:1]
    except OSError:
        head = ""
    try:
        if source.suffix.lower() == ".json" or head == "{":
            text = run_html(source, occupancy=occupancy, layers=layers, title=title)
        else:
            if occupancy is not None or layers is not None:
                raise AccelsimError("--occupancy and --layers apply to a run report (run.json)")
            text = sweep_html(source, all_points=all_points, title=title)
    except AccelsimError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, ZeroDivisionError) as e:
        # a file of the right kind with an entry missing or malformed: one line, no traceback
        what = f"{e.args[0]!r} is missing" if isinstance(e, KeyError) and e.args else str(e)
        raise AccelsimError(
            f"{source}: not a complete accelsim run or sweep file ({what}); write it with "
            "accelsim run --json or accelsim sweep"
        ) from None
    _write_text(Path(out), text)
    return Path(out)
