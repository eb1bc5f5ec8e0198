"""Terminal tables that fit the terminal: ``accelsim run`` and ``accelsim check``.

A table is a list of :class:`Column` (header, how to format a cell, priority). At a given width
the table keeps every column of priority 0 and adds the others, most important first, while the
table still fits; the columns left out are named under the table. Names are never cut (the
``layer`` column does not wrap or truncate; ``result.layer(name)`` finds every name shown).
``wide=True`` shows every column whatever the width. Layout is done by rich; the text is plain
(no colour, ASCII rules), so it reads the same in a terminal, a pipe and a CI log.

Columns are generic where they can be: a scalar key of the layer reports that no column here
knows (for example how a generation-2 layer ran: kernel, sub-kernels, tiles, strips, fused pool,
the host reason) gets a column of its own, headed by its key, after the known ones.

The JSON and CSV exports carry the same data unabridged; this module only lays it out.
"""

from __future__ import annotations

import io
import shutil
import textwrap
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

#: Width used when the output is not a terminal and ``COLUMNS`` is not set.
DEFAULT_WIDTH = 100

_RULE_BOX = box.Box("    \n    \n -- \n    \n    \n    \n    \n    \n", ascii=True)


@dataclass(frozen=True)
class Column:
    """One table column: ``cell(row)`` gives its text; priority 0 is always shown."""

    header: str
    cell: Callable[[Mapping[str, Any]], str]
    priority: int = 5
    left: bool = False  # justify left (text) instead of right (numbers)
    wrap: bool = False  # may wrap onto several lines (prose); names and numbers never do


def terminal_width() -> int:
    """The terminal's width in columns (``COLUMNS`` if set; :data:`DEFAULT_WIDTH` in a pipe)."""
    return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns


def _console(width: int) -> Console:
    return Console(
        file=io.StringIO(), width=width, color_system=None, force_terminal=False,
        highlight=False, emoji=False, markup=False, legacy_windows=False, soft_wrap=False,
    )  # fmt: skip


def _table(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]]) -> Table:
    t = Table(box=_RULE_BOX, show_edge=False, pad_edge=False, padding=(0, 1, 0, 0))
    cells = [[c.cell(r) for c in columns] for r in rows]
    for j, c in enumerate(columns):
        # a name or number column is never narrower than its widest cell: rich would cut it
        full = max([len(c.header), *(len(row[j]) for row in cells)])
        t.add_column(
            c.header,
            justify="left" if c.left else "right",
            no_wrap=not c.wrap,
            min_width=None if c.wrap else full,
        )
    for row in cells:
        t.add_row(*(Text(v) for v in row))
    return t


def render_table(
    columns: Sequence[Column],
    rows: Sequence[Mapping[str, Any]],
    *,
    width: int | None = None,
    wide: bool = False,
) -> tuple[str, list[str]]:
    """The table as text no wider than ``width`` (unless its priority-0 columns alone are wider,
    or ``wide``), and the headers of the columns left out."""
    width = terminal_width() if width is None else width
    measure = _console(10**6)
    if wide:
        chosen = list(columns)
    else:
        chosen = [c for c in columns if c.priority == 0]
        for cand in sorted((c for c in columns if c.priority > 0), key=lambda c: c.priority):
            trial = [c for c in columns if c in chosen or c is cand]
            if measure.measure(_table(trial, rows)).minimum <= width:
                chosen = trial
    table = _table(chosen, rows)
    need = measure.measure(table)
    # wide: every column at its natural width; else the width, or the least the table needs
    console = _console(need.maximum if wide else max(width, need.minimum))
    console.print(table)
    text = "\n".join(line.rstrip() for line in console.file.getvalue().splitlines())
    hidden = [c.header for c in columns if c not in chosen]
    return text, hidden


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width=max(width, 40), subsequent_indent="  ") or [""]


def _hidden_note(hidden: Sequence[str], width: int) -> list[str]:
    if not hidden:
        return []
    return _wrap(f"(not shown at {width} columns: {', '.join(hidden)}; --wide shows them)", width)


# ----------------------------------------------------------------------------- cells


def _int(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda r: "" if r.get(key) is None else str(int(r[key]))


def _num(key: str, fmt: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda r: "" if r.get(key) is None else format(r[key], fmt)


def _generic_cell(key: str) -> Callable[[Mapping[str, Any]], str]:
    def cell(r: Mapping[str, Any]) -> str:
        v = r.get(key)
        if v is None:
            return ""
        if isinstance(v, bool):
            return "yes" if v else "no"
        if isinstance(v, float):
            return f"{v:.4g}"
        return str(v)

    return cell


def _extra_columns(
    rows: Iterable[Mapping[str, Any]], known: set[str], priority: int
) -> list[Column]:
    """A column for every scalar key of the rows that the known columns do not cover."""
    keys: dict[str, bool] = {}
    for r in rows:
        for k, v in r.items():
            if k not in known and isinstance(v, (str, int, float, bool)):
                keys[k] = keys.get(k, True) and isinstance(v, (int, float))
    return [Column(k, _generic_cell(k), priority, left=not numeric) for k, numeric in keys.items()]


# ----------------------------------------------------------------------------- accelsim run

#: Layer-report keys the run table shows (or deliberately leaves to JSON/CSV).
RUN_KNOWN = {
    "index", "name", "kind", "op", "start_cycle", "end_cycle", "cycles", "pe_busy_cycles",
    "stall_cycles", "drain_cycles", "macs_useful", "macs_issued", "mapping_efficiency",
    "peak_gops", "achieved_gops", "utilization", "ddr_bytes_read", "ddr_bytes_read_features",
    "ddr_bytes_read_weights", "ddr_bytes_written", "port_busy_cycles",
    "port_busy_in_layer_cycles", "achieved_bandwidth_gbps", "ddr_efficiency", "passes",
    "row_hits", "row_misses", "refresh_ddr_cycles", "arithmetic_intensity", "attainable_gops",
    "roofline_bound", "bound", "first_pe_cycle", "last_pe_cycle",
    # how a core layer ran (spec 7.5): the how column says it in words; JSON/CSV have each key
    "how", "reason", "kernel", "sub_kernels", "packed_1x1", "groups", "tiles", "strips",
    "machine_passes", "fused_pool",
}  # fmt: skip
_OCCUPANCY_SUFFIXES = ("_max_bytes", "_mean_bytes", "_max_groups", "_mean_groups",
                       "_max_requests", "_mean_requests")  # fmt: skip


def _stall(cause: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda r: str(r["stall_cycles"][cause]) if r.get("kind") == "core" else ""


def _core_only(
    fn: Callable[[Mapping[str, Any]], str],
) -> Callable[[Mapping[str, Any]], str]:
    return lambda r: fn(r) if r.get("kind") == "core" else ""


def run_columns(layers: Sequence[Mapping[str, Any]]) -> list[Column]:
    """The run table's columns for these layer reports (known ones, then any others)."""
    cols = [
        Column("#", _int("index"), 0),
        Column("layer", lambda r: str(r["name"]), 0, left=True),
        Column("kind", lambda r: str(r["kind"]), 6, left=True),
        Column("start", _int("start_cycle"), 8),
        Column("cycles", _int("cycles"), 0),
        Column("busy", _core_only(_int("pe_busy_cycles")), 2),
        Column("st.wgt", _stall("weights"), 4),
        Column("st.in", _stall("input"), 2),
        Column("st.out", _stall("output"), 2),
        Column("drain", _core_only(_int("drain_cycles")), 5),
        Column("map.eff", _core_only(_num("mapping_efficiency", ".1%")), 3),
        Column("passes", _core_only(_int("passes")), 7),
        Column("GOPS", _num("achieved_gops", ".1f"), 1),
        Column("util", _num("utilization", ".1%"), 0),
        Column(
            "DDR MB",
            lambda r: f"{(r['ddr_bytes_read'] + r['ddr_bytes_written']) / 1e6:.2f}",
            3,
        ),
        Column("DDR eff", _core_only(_num("ddr_efficiency", ".1%")), 4),
        Column("port", _core_only(lambda r: _share(r, "port_busy_in_layer_cycles")), 6),
        Column("roofline", lambda r: str(r.get("roofline_bound", "")), 5, left=True),
        Column("bound", lambda r: str(r.get("bound", "")), 0, left=True),
        Column("how", lambda r: str(r.get("how", "")), 7, left=True),
    ]
    known = RUN_KNOWN | {k for r in layers for k in r if k.endswith(_OCCUPANCY_SUFFIXES)}
    return cols + _extra_columns(layers, known, 9)


def _share(r: Mapping[str, Any], key: str) -> str:
    v, c = r.get(key), r.get("cycles")
    return "" if v is None or not c else f"{v / c:.0%}"


def format_run(
    result: Any, quiet: bool = False, *, width: int | None = None, wide: bool = False
) -> str:
    """The per-layer table and totals printed by ``accelsim run`` (a ``SimResult`` or its
    ``to_dict()``)."""
    d = result.to_dict() if hasattr(result, "to_dict") else result
    width = terminal_width() if width is None else width
    lines = [f"{d['network']} on {d['hw']} @ {d['clock_mhz']:g} MHz, batch {d['batch']}"]
    if not quiet:
        text, hidden = render_table(run_columns(d["layers"]), d["layers"], width=width, wide=wide)
        lines += [text, *_hidden_note(hidden, width)]
        bounds: dict[str, int] = {}
        for lay in d["layers"]:
            bounds[lay.get("bound", "?")] = bounds.get(lay.get("bound", "?"), 0) + lay["cycles"]
        total = sum(bounds.values()) or 1
        shares = ", ".join(
            f"{b} {c / total:.0%}" for b, c in sorted(bounds.items(), key=lambda kv: -kv[1])
        )
        lines += _wrap(f"time by measured bound: {shares}", width)
    t = d["total"]
    st = t["stall_cycles"]
    lines += _wrap(
        f"total: {t['cycles']} cycles = {t['seconds'] * 1e3:.3f} ms ({t['fps']:.1f} fps); "
        f"{t['achieved_gops']:.1f} of {t['peak_gops']:.1f} GOPS ({t['utilization']:.1%}); "
        f"stalls weights {st['weights']}, input {st['input']}, output {st['output']}",
        width,
    )
    lines += _wrap(
        f"DDR: read {t['ddr_bytes_read'] / 1e6:.2f} MB, written "
        f"{t['ddr_bytes_written'] / 1e6:.2f} MB, efficiency {t['ddr_efficiency']:.1%}, row hits "
        f"{t['row_hits']}, misses {t['row_misses']}, refreshes {t['refreshes']}; host layers "
        f"{t['host_layers']}",
        width,
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- accelsim check

CHECK_KNOWN = {
    "index", "name", "type", "op", "in_shape", "out_shape", "in_bits", "weight_bits",
    "out_bits", "where", "reasons", "weight_bytes", "ddr_bytes", "ops", "arithmetic_intensity",
    "host_cycles", "bank_bytes", "row_bytes", "line_buffer_row_bytes", "passes", "n_ib", "n_ob",
    "ideal_cycles", "roofline_gops", "roofline_bound", "how", "fits_by", "kernel",
    "sub_kernels", "groups", "tiles", "strips", "fused_pool",
}  # fmt: skip


def _shape(key: str) -> Callable[[Mapping[str, Any]], str]:
    return lambda r: "x".join(str(v) for v in r[key])


def _check_core(
    fn: Callable[[Mapping[str, Any]], str], host: str = "-"
) -> Callable[[Mapping[str, Any]], str]:
    return lambda r: fn(r) if r["where"] in ("core", "rejected") else host


def check_columns(rows: Sequence[Mapping[str, Any]]) -> list[Column]:
    """The check table's columns (known ones, then any other scalar keys of the rows)."""
    cols = [
        Column("#", _int("index"), 0),
        Column("layer", lambda r: str(r["name"]), 0, left=True),
        Column("op", lambda r: str(r["op"]), 4, left=True),
        Column("in", _shape("in_shape"), 5),
        Column("out", _shape("out_shape"), 3),
        Column("where", lambda r: str(r["where"]), 0, left=True),
        Column(
            "weights/bank",
            _check_core(lambda r: f"{r['weight_bytes']}/{r['bank_bytes']}", host=""),  # fmt: skip
            2,
        ),
        Column(
            "row/lb", _check_core(lambda r: f"{r['row_bytes']}/{r['line_buffer_row_bytes']}"), 2
        ),
        Column("passes", _check_core(_int("passes")), 7),
        Column(
            "ideal cyc",
            lambda r: (
                f"host {r['host_cycles']}"
                if r["where"] == "host"
                else str(r.get("ideal_cycles", ""))
            ),
            1,
        ),
        Column("DDR bytes", _int("ddr_bytes"), 6),
        Column("ops/B", _num("arithmetic_intensity", ".1f"), 6),
        Column("roof GOPS", _check_core(_num("roofline_gops", ".1f")), 3),
        Column("roofline", _check_core(lambda r: str(r["roofline_bound"]), host=""), 2, left=True),
        Column("how", lambda r: str(r.get("how", "")), 7, left=True),
    ]
    return cols + _extra_columns(rows, CHECK_KNOWN, 9)


def format_check(report: Mapping[str, Any], *, width: int | None = None, wide: bool = False) -> str:
    """The check report as a terminal table, then every rejected layer's reasons (with the
    setting that would make it fit), the totals and the BRAM36 estimate."""
    width = terminal_width() if width is None else width
    lines = _wrap(
        f"network {report['network']} on {report['hw']} @ {report['clock_mhz']:g} MHz, "
        f"batch {report['batch']}: peak {report['peak_gops']:.1f} GOPS, "
        f"DDR {report['ddr_peak_gbps']:.2f} GB/s",
        width,
    )
    text, hidden = render_table(
        check_columns(report["layers"]), report["layers"], width=width, wide=wide
    )
    lines += [text, *_hidden_note(hidden, width)]
    for r in report["layers"]:
        if r["where"] == "rejected":
            for reason in r["reasons"]:
                lines += _wrap(f"! {reason}", width)
        elif r["where"] == "core" and r.get("fits_by"):  # which generation-2 option made it fit
            lines += _wrap(f"+ {r['name']} fits by {', '.join(r['fits_by'])}: {r['how']}", width)
        elif r["where"] == "fused":
            lines += _wrap(f"+ {r['name']} {r['reasons'][0].split(': ', 1)[1]}", width)
    fixes = report.get("fixes") or {}
    if fixes:
        lines += _wrap(
            "to fit every rejected layer: "
            + ", ".join(
                f"set {path}=true" if value is True else f"set {path} >= {value}"
                for path, value in fixes.items()
            ),
            width,
        )
    t = report["total"]
    b = report["bram36"]
    lines += _wrap(
        f"core layers {t['core_layers']}, host layers {t['host_layers']}, rejected "
        f"{t['rejected_layers']}; ideal core cycles {t['ideal_cycles']}; DDR bytes "
        f"{t['ddr_bytes']}",
        width,
    )
    pool = f" + pool buffer {b['pool_buffer']}" if b.get("pool_buffer") else ""
    lines += _wrap(
        f"BRAM36 estimate: line buffer {b['line_buffer']} + weight banks {b['weight_banks']} + "
        f"output FIFO {b['output_fifo']}{pool} = {b['total']} of {b['available']} "
        f"({'fits' if b['fits'] else 'DOES NOT FIT'})",
        width,
    )
    return "\n".join(lines)


# ----------------------------------------------------------------------------- accelsim list fields


def format_fields(infos: Sequence[Any], *, width: int | None = None, wide: bool = False) -> str:
    """``accelsim list fields``: one row per settable field (:mod:`accelsim.config.fields`)."""
    from accelsim.config.fields import default_text

    rows = [dict(i.to_dict(), default_shown=default_text(i.default, i.unit)) for i in infos]
    cols = [
        Column("field", lambda r: r["path"], 0, left=True),
        Column("type", lambda r: r["type"], 2, left=True),
        Column("unit", lambda r: r["unit"], 1, left=True),
        Column("range", lambda r: r["range"], 1, left=True, wrap=True),
        Column("default", lambda r: r["default_shown"], 1, left=True),
        Column("meaning", lambda r: r["doc"], 0, left=True, wrap=True),
    ]
    width = terminal_width() if width is None else width
    text, hidden = render_table(cols, rows, width=width, wide=wide)
    return "\n".join([text, *_hidden_note(hidden, width)])
